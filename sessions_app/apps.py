from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsAppConfig(AppConfig):
    """Availability, booking, the session room, notes and outcomes (issues 3 and 5)."""

    name = "sessions_app"
    verbose_name = _("Counseling sessions")

    def ready(self) -> None:
        from sessions_app import signals  # noqa: F401  (connects the receivers)
