"""Tell students about scheduled questionnaires that have opened. Idempotent: run it
from cron, e.g. every 10 minutes, beside send_reminders."""

from django.core.management.base import BaseCommand

from instruments.services import administrations_announce


class Command(BaseCommand):
    help = "Notify students of baseline and follow-up questionnaires that opened."

    def handle(self, *args, **options) -> None:
        count = administrations_announce()
        self.stdout.write(f"{count} questionnaire(s) announced.")
