"""Recompute the scores of responses stored with an older instrument definition version.

Idempotent; run it after changing a definition file (`make run` and the container do at
every start). A response whose answers no longer fit its definition keeps its old scores
and is named on stderr; with --strict the command then fails (for CI or a deploy check),
otherwise the server still starts.
"""

from django.core.management.base import BaseCommand, CommandError

from instruments.services import responses_rescore


class Command(BaseCommand):
    help = "Rescore responses whose definition version differs from the loaded definition."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Fail when a response no longer fits its definition.",
        )

    def handle(self, *args, strict: bool = False, **options) -> None:
        count, problems = responses_rescore()
        self.stdout.write(f"{count} response(s) rescored.")
        if not problems:
            return
        report = (
            "These responses no longer fit their definition and kept their old scores:\n"
            + "\n".join(problems)
        )
        if strict:
            raise CommandError(report)
        self.stderr.write(self.style.WARNING(report))
