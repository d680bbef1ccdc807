"""Print a client's regression report, or the same report on a researcher's CSV file.

    python manage.py regression_report siswa03 --format text
    python manage.py regression_report --csv study.csv --format json

The numbers are the ones the report page, its PDF and its CSV show.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import User
from analytics.analysis import Heading, build_report
from analytics.report import ClientReport, report_tables
from analytics.research import PairsFileError, pairs_from_table
from analytics.selectors import client_report
from analytics.series import ALLIANCE
from audit.services import ReadKind, record_read
from instruments.definitions import get_instrument


class Command(BaseCommand):
    help = "Print the SPSS-style regression report of a client, or of a CSV file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", nargs="?", help="the student's username")
        parser.add_argument(
            "--csv",
            dest="csv_file",
            help="a file with columns alliance and anxiety, one row per session "
            "(the database is not read)",
        )
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument("--language", choices=["id", "en"], default="id")

    def handle(self, *args, username=None, csv_file=None, **options) -> None:
        if bool(username) == bool(csv_file):
            raise CommandError("Give either a student's username or --csv FILE.")
        with translation.override(options["language"]):
            report = self.from_file(csv_file) if csv_file else self.from_student(username)
            if options["format"] == "json":
                text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
            else:
                text = report_text(report)
        self.stdout.write(text)

    def from_student(self, username: str):
        student = (
            User.objects.filter(username=username, role=User.Role.STUDENT)
            .select_related("school", "student_profile__counselor", "student_profile__school_class")
            .first()
        )
        if student is None:
            raise CommandError(f"No student has the username {username!r}.")
        counselor = student.student_profile.counselor
        if counselor is None:
            raise CommandError(f"{username} has no counselor, so there is no report.")
        record_read(None, student=student, what=ReadKind.COMMAND_REPORT)
        return client_report(counselor=counselor, student=student)

    def from_file(self, path: str):
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        try:
            pairs, notes = pairs_from_table(content)
        except PairsFileError as error:
            raise CommandError(f"{path}:\n" + "\n".join(error.errors)) from error
        alliance = get_instrument(ALLIANCE)
        report = build_report(
            heading=Heading(client_name=Path(path).name),
            pairs=pairs,
            alliance_max=alliance.total_max if alliance else None,
        )
        report.warnings[:0] = notes  # rows left out come first: nothing is dropped silently
        return report


def report_text(report: ClientReport) -> str:
    """The report as plain text: each table in aligned columns, then the reading."""
    lines = [report.client_name]
    if report.regression_problem:
        lines += ["", report.regression_problem]
    for table in report_tables(report):
        widths = [
            max(len(row[index]) for row in [table.headers, *table.rows])
            for index in range(len(table.headers))
        ]
        lines += ["", table.title]
        for row in [table.headers, *table.rows]:
            cells = [
                cell.ljust(width) if index == 0 else cell.rjust(width)
                for index, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
        if table.note:
            lines.append(table.note)
    for heading, sentences in (("", report.warnings), ("", report.interpretation)):
        if sentences:
            lines.append(heading)
            lines += [f"- {sentence}" for sentence in sentences]
    for problem in (report.overlap_problem, report.change_problem):
        if problem:
            lines += ["", problem]
    return "\n".join(lines)
