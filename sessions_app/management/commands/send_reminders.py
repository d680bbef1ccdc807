"""Send due session reminders and expire unanswered requests. Idempotent: run it from
cron, e.g. every 10 minutes."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from sessions_app.reminders import reminders_send
from sessions_app.services import requests_expire


class Command(BaseCommand):
    help = (
        "Remind students and counselors of confirmed sessions a day and an hour before, "
        "and decline requests that were not answered before their time."
    )

    def handle(self, *args, **options) -> None:
        with translation.override(settings.LANGUAGE_CODE):  # reasons are stored as text
            expired = requests_expire()
        count = reminders_send()
        self.stdout.write(f"{count} reminder(s) sent, {expired} unanswered request(s) expired.")
