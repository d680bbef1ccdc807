from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    """Questionnaire definitions, administrations, responses and scoring."""

    name = "instruments"
    verbose_name = _("Instruments")

    def ready(self) -> None:
        # Read and check every definition now: a broken file stops start-up, naming
        # the file and the problem, instead of failing on a student's phone later.
        from instruments.definitions import registry_load

        registry_load()
