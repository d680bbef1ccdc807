"""The archive's files about counseling: sessions (where a referral went, never why),
their history, the consent texts agreed to, and the chat of the student's own sessions."""

import datetime

from django.utils.translation import gettext as _

from accounts.models import User
from privacy.archive.table import Table, local_time
from privacy.selectors import PersonalData
from sessions_app.models import CounselingSession, SessionOutcome


def _outcome(session: CounselingSession) -> SessionOutcome | None:
    try:
        return session.outcome
    except SessionOutcome.DoesNotExist:
        return None


def _actor(user: User | None) -> tuple[str, str]:
    """(name, role) of whoever did something; nobody means RuangBK itself."""
    if user is None:
        return "RuangBK", ""
    return user.display_name, user.get_role_display()


def sessions_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("starts_at", _("Starts")),
        ("ends_at", _("Ends")),
        ("mode", _("Mode")),
        ("field", _("Counseling field")),
        ("status", _("Status")),
        ("counselor", _("Counselor")),
        ("description", _("What you wrote when booking")),
        ("reason", _("Reason given for a decline or cancellation")),
        ("phase", _("Phase reached")),
        ("outcome", _("Outcome")),
        # Where to, never why: the reason is the counselor's professional record.
        ("referred_to", _("Referred to")),
        ("consent_given_at", _("Online counseling consent agreed")),
    ]
    rows = []
    for session in data.sessions:
        outcome = _outcome(session)
        rows.append(
            {
                "session": session.pk,
                "starts_at": local_time(session.starts_at, zone),
                "ends_at": local_time(session.ends_at, zone),
                "mode": session.get_mode_display(),
                "field": session.get_field_display(),
                "status": session.get_status_display(),
                "counselor": session.counselor.display_name,
                "description": session.description,
                "reason": session.status_reason,
                "phase": session.get_phase_display() if session.phase else "",
                "outcome": outcome.get_kind_display() if outcome else "",
                "referred_to": outcome.referred_to if outcome else "",
                "consent_given_at": local_time(session.consent_given_at, zone),
            }
        )
    return Table("sessions", columns, rows)


def session_history_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("time", _("Time")),
        ("event", _("What happened")),
        ("by", _("By")),
        ("by_role", _("Role")),
        ("detail", _("Details")),
    ]
    rows = []
    for event in data.session_events:
        by, by_role = _actor(event.actor)
        rows.append(
            {
                "session": event.session_id,
                "time": local_time(event.created_at, zone),
                "event": event.get_kind_display(),
                "by": by,
                "by_role": by_role,
                "detail": event.detail,
            }
        )
    return Table("session_history", columns, rows)


def consents_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("agreed_at", _("Agreed")),
        ("text", _("The consent text you agreed to")),
    ]
    rows = [
        {
            "session": session.pk,
            "agreed_at": local_time(session.consent_given_at, zone),
            "text": session.consent_text,
        }
        for session in data.sessions
        if session.consent_given_at is not None
    ]
    return Table("consents", columns, rows)


def chat_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("sent_at", _("Time")),
        ("sender", _("Sender")),
        ("sender_role", _("Sender's role")),
        ("text", _("Message")),
    ]
    rows = [
        {
            "session": message.session_id,
            "sent_at": local_time(message.created_at, zone),
            "sender": message.sender.display_name,
            "sender_role": message.sender.get_role_display(),
            "text": message.body,
        }
        for message in data.chat_messages
    ]
    return Table("chat_messages", columns, rows)
