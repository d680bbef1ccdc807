"""Recompute the scores of responses stored with an older instrument definition version.
Idempotent; run it after changing a definition file (`make run` and the container do)."""

from django.core.management.base import BaseCommand, CommandError

from instruments.services import responses_rescore


class Command(BaseCommand):
    help = "Rescore responses whose definition version differs from the loaded definition."

    def handle(self, *args, **options) -> None:
        count, problems = responses_rescore()
        self.stdout.write(f"{count} response(s) rescored.")
        if problems:
            raise CommandError(
                "These responses no longer fit their definition and kept their old scores:\n"
                + "\n".join(problems)
            )
