"""Send due session reminders. Idempotent: run it from cron, e.g. every 10 minutes."""

from django.core.management.base import BaseCommand

from sessions_app.reminders import reminders_send


class Command(BaseCommand):
    help = "Remind students and counselors of confirmed sessions a day and an hour before."

    def handle(self, *args, **options) -> None:
        count = reminders_send()
        self.stdout.write(f"{count} reminder(s) sent.")
