"""The bell's page: the signed-in user's own notifications."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from notifications.models import Notification
from notifications.services import notifications_mark_read

PAGE_SIZE = 50


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = (
        Notification.objects.filter(user=request.user)
        .select_related("session__student", "session__counselor")
        .order_by("-created_at", "-pk")[:PAGE_SIZE]
    )
    return render(request, "notifications/list.html", {"notifications": notifications})


@require_POST
@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    notification = get_object_or_404(Notification, pk=notification_id, user=request.user)
    notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    return redirect(notification.target_url())


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return redirect("notifications:notification-list")
