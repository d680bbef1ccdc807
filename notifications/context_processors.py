"""The bell in the navigation bar: the signed-in user's unread count (one query)."""

from django.http import HttpRequest

from notifications.models import Notification


def bell(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.school_id is None:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()
    }
