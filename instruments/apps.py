from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    """Questionnaire definitions, administrations, responses and scoring (issue 4)."""

    name = "instruments"
    verbose_name = _("Instruments")
