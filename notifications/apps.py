from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """In-app notifications (the bell) and the e-mails sent with them."""

    name = "notifications"
    verbose_name = _("Notifications")
