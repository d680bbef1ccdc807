from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Statistics, trends, reports and exports (issue 6)."""

    name = "analytics"
    verbose_name = _("Analytics")
