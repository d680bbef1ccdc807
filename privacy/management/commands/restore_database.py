"""Restore a backup made by backup_database (`make restore`; docs/backups.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from privacy.backup_files import BackupError, configured_backup_key
from privacy.backup_manifest import check_notes_keys, pending_migrations
from privacy.backups import read_manifest, restore_database


class Command(BaseCommand):
    help = (
        "Restore a backup into the database named by DATABASE_URL, which must be empty "
        "unless --force; then check every table's row count and that every encrypted note "
        "decrypts with the current keys."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The backup file.")
        parser.add_argument(
            "--force", action="store_true", help="Replace everything in a non-empty database."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only read the whole file and check it and the keys; restore nothing.",
        )
        parser.add_argument("--key-file", help="Read the backup key from this file.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, force, check, key_file, database, **options) -> None:
        try:
            key = configured_backup_key(key_file)
            if check:
                manifest = read_manifest(source=file, key=key)
                self.describe(file, manifest)
                check_notes_keys(manifest)
                self.stdout.write(self.style.SUCCESS("The file is intact; the notes keys fit."))
                return
            result = restore_database(source=file, key=key, force=force, using=database)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        verified, notes = result["verified"], result["verified"]["notes"]
        self.describe(file, result)
        already = result["notes"]["unreadable"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified: {verified['tables']} tables and {verified['rows']:,} rows "
                f"as in the backup; {notes['total'] - notes['unreadable']} of {notes['total']} "
                "encrypted notes decrypt with the current keys"
                + (f" ({already} were unreadable already when backed up)." if already else ".")
            )
        )
        if pending := pending_migrations(using=database):
            self.stdout.write(
                self.style.WARNING(
                    f"The restored database lacks {pending} migration(s) of this code: run "
                    "`python manage.py migrate` before starting the application."
                )
            )

    def describe(self, file: str, manifest: dict) -> None:
        counts = manifest["row_counts"]
        self.stdout.write(
            f"{file}: {manifest['engine']} database {manifest['database']!r} backed up at "
            f"{manifest['created_at']} ({manifest['dump']}); {len(counts)} tables, "
            f"{sum(counts.values()):,} rows, {manifest['notes']['total']} encrypted notes."
        )
