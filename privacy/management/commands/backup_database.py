"""Write an encrypted backup of the database (`make backup`; docs/backups.md). For cron."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from privacy.backup_files import BackupError, configured_backup_key, generate_backup_key
from privacy.backups import backup_database, default_backup_path


class Command(BaseCommand):
    help = (
        "Back up the database named by DATABASE_URL into an encrypted file (key from "
        "RUANGBK_BACKUP_KEY or RUANGBK_BACKUP_KEY_FILE), with a manifest of row counts "
        "and notes-key fingerprints."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            help="File to write, or a directory for it (default: backups/ruangbk-<UTC>.backup).",
        )
        parser.add_argument("--key-file", help="Read the backup key from this file.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--generate-key", action="store_true", help="Print a new random backup key and stop."
        )

    def handle(self, *args, output, key_file, database, generate_key, **options) -> None:
        if generate_key:
            self.stdout.write(generate_backup_key())
            return
        path = Path(output) if output else default_backup_path()
        if path.is_dir():
            path /= default_backup_path().name
        try:
            key = configured_backup_key(key_file)
            if key is None and settings.DEBUG:
                self.stderr.write(
                    self.style.WARNING(
                        "No RUANGBK_BACKUP_KEY: writing an UNENCRYPTED backup (allowed only with "
                        "DJANGO_DEBUG=1). It holds chat messages and answers in plain text."
                    )
                )
            result = backup_database(output=path, key=key, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from error
        counts, notes = result.manifest["row_counts"], result.manifest["notes"]
        if notes["unreadable"]:
            self.stderr.write(
                self.style.WARNING(
                    f"{notes['unreadable']} encrypted notes already did not decrypt with the "
                    "current keys: they are in the backup, but unreadable."
                )
            )
        if not options["verbosity"]:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.path} ({result.path.stat().st_size:,} bytes, "
                f"{'encrypted' if result.is_encrypted else 'NOT encrypted'})"
            )
        )
        self.stdout.write(
            f"  {len(counts)} tables, {sum(counts.values()):,} rows; {notes['total']} encrypted "
            f"notes; notes key fingerprints: {', '.join(notes['key_fingerprints'])}"
        )
