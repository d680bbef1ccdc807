"""Reminders before confirmed sessions: one a day before, one an hour before.

Run by cron through `manage.py send_reminders`. A Reminder row, unique per session, lead
and start time, is written before anyone is notified, so a second run (or two crons at
once) never sends one twice, and a session moved to a new time is reminded again.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from sessions_app.models import CounselingSession, Reminder

Lead = Reminder.Lead

DAY_AHEAD = datetime.timedelta(hours=24)
HOUR_AHEAD = datetime.timedelta(hours=1)


def _due(
    *, lead: str, after: datetime.datetime, until: datetime.datetime
) -> QuerySet[CounselingSession]:
    """Confirmed sessions starting in (after, until] not yet reminded for `lead` at their
    current start time."""
    already = Reminder.objects.filter(
        session=OuterRef("pk"), lead=lead, starts_at=OuterRef("starts_at")
    )
    return (
        CounselingSession.objects.filter(
            status=CounselingSession.Status.CONFIRMED, starts_at__gt=after, starts_at__lte=until
        )
        .exclude(Exists(already))
        .select_related("student", "counselor", "school")
    )


def _remind(*, session: CounselingSession, lead: str, now: datetime.datetime) -> bool:
    """Record the reminder and notify both people, in one transaction; False if another
    run recorded it first."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                Reminder.objects.create(
                    session=session, lead=lead, starts_at=session.starts_at, sent_at=now
                )
        except IntegrityError:
            return False
        for user in (session.student, session.counselor):
            notify(user=user, kind=Notification.Kind.REMINDER, session=session)
    return True


def reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Send the reminders that are due; returns how many were sent (one per session and
    lead, each to the student and the counselor).

    A session within the hour gets only the hour reminder, never a late day reminder.
    """
    now = now or timezone.now()
    batches = (
        (Lead.HOUR, _due(lead=Lead.HOUR, after=now, until=now + HOUR_AHEAD)),
        (Lead.DAY, _due(lead=Lead.DAY, after=now + HOUR_AHEAD, until=now + DAY_AHEAD)),
    )
    return sum(
        _remind(session=session, lead=lead, now=now)
        for lead, sessions in batches
        for session in sessions
    )
