"""Notify a person: a row for the bell now, an e-mail once the transaction commits."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from notifications.models import Notification

logger = logging.getLogger(__name__)


def notify(*, user: User, kind: str, session=None) -> Notification:
    """Record a notification for `user`; e-mail it after commit if they have an address."""
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        session=session,
        starts_at=session.starts_at if session else None,
        proposed_starts_at=session.proposed_starts_at if session else None,
    )
    if user.email:
        transaction.on_commit(lambda: notification_email_send(notification=notification))
    return notification


def notification_email_send(*, notification: Notification) -> None:
    """Send one notification by e-mail, in Indonesian and the school's time zone.

    The e-mail says what changed and when, never what the student wrote.
    A failing mail server is logged; the notification stays in the bell.
    """
    user = notification.user
    zone = user.school.zone() if user.school_id else None
    with translation.override(settings.LANGUAGE_CODE), timezone.override(zone):
        subject = f"RuangBK: {notification.get_kind_display()}"
        body = "\n\n".join(
            [
                notification.message(zone),
                _("Open RuangBK to see the details: %(url)s")
                % {"url": settings.SITE_URL + notification.target_url()},
                _("This message was sent automatically. Do not reply to it."),
            ]
        )
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        logger.exception("e-mail for notification %s could not be sent", notification.pk)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or the given ones)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
