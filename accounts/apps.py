from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Registers the deploy checks and connects the receivers.
        from accounts import checks, receivers  # noqa: F401
