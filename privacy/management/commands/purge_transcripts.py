"""Remove the chat transcripts of counseling cases closed longer than the retention
period ago. Idempotent, for cron (e.g. daily):

    15 3 * * * cd /srv/ruangbk && .venv/bin/python manage.py purge_transcripts
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.services import PrivacyError, transcripts_purge


class Command(BaseCommand):
    help = (
        "Delete the chat messages of every session of a student whose counseling case was "
        "closed more than RUANGBK_CHAT_RETENTION_MONTHS (default 24) months ago. A "
        "student's counseling is one case; it is closed once none of their sessions that "
        "held a time (requested, confirmed, in progress, completed, no-show) ends within "
        "the period, i.e. at the end of their last session, whatever its outcome "
        "(resolved, referral, or continued face to face outside RuangBK); a case closed "
        "exactly that many months ago is kept. Session records and the counselor's notes "
        "are kept. Each student's removal is written to the audit trail. Running it again "
        "removes and records nothing more."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be removed, and remove nothing.",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="Override the retention period (months) for this run.",
        )

    def handle(self, *args, **options) -> None:
        months = options["months"]
        if months is None:
            months = settings.CHAT_RETENTION_MONTHS
        dry_run = options["dry_run"]
        try:
            purged = transcripts_purge(months=months, dry_run=dry_run)
        except PrivacyError as error:
            raise CommandError(error.message) from error
        verb = "would remove" if dry_run else "removed"
        for item in purged:
            ended = item.ended_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"session {item.session_id} (student {item.student_id}, ended {ended} UTC): "
                f"{verb} {item.messages} message(s)"
            )
        total = sum(item.messages for item in purged)
        students = len({item.student_id for item in purged})
        self.stdout.write(
            f"Retention {months} months: {verb} {total} message(s) of {len(purged)} "
            f"session(s) of {students} student(s)."
            + (" Dry run: nothing was deleted." if dry_run else "")
        )
