"""The report's downloads: the underlying data as CSV and the case-conference PDF."""

import csv
import datetime
import io

from django.utils import formats, timezone

from analytics.figures import report_figures
from analytics.pdf import report_pdf
from analytics.report import ClientReport, InstrumentSeries, report_tables
from analytics.series import occasion_key, session_numbers


def date_text_in(zone: datetime.tzinfo):
    """The one date format the page, the PDF and the CSV share."""

    def date_text(when: datetime.datetime) -> str:
        return formats.date_format(timezone.localtime(when, zone), "j M Y")

    return date_text


def data_rows(report: ClientReport, zone: datetime.tzinfo) -> tuple[list[str], list[list]]:
    """One row per occasion (a session, or a baseline/follow-up week): date, phase,
    session number, then each instrument's total and subscales. The columns `alliance`
    and `anxiety` are what `regression_report --csv` reads back."""
    columns = ["date", "phase", "session"]
    occasions: dict = {}
    numbers = session_numbers(report.alliance, report.anxiety, zone)

    def add(series: InstrumentSeries | None, role: str) -> None:
        if series is None:
            return
        names = [role] + [f"{role}_{code}" for code, _name in series.subscales]
        columns.extend([*names, f"{role}_band"])
        for point in series.points:
            key = occasion_key(point, zone)
            row = occasions.setdefault(
                key, {"date": point.date, "phase": point.phase, "session": numbers.get(key, "")}
            )
            row[role] = point.total
            for code, _name in series.subscales:
                row[f"{role}_{code}"] = point.subscales.get(code, "")
            row[f"{role}_band"] = point.band_code

    add(report.alliance, "alliance")
    add(report.anxiety, "anxiety")
    rows = []
    for row in sorted(occasions.values(), key=lambda row: row["date"]):
        row["date"] = timezone.localtime(row["date"], zone).date().isoformat()
        rows.append([row.get(column, "") for column in columns])
    return columns, rows


def report_csv(report: ClientReport, zone: datetime.tzinfo) -> bytes:
    columns, rows = data_rows(report, zone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read it as UTF-8


def report_pdf_bytes(report: ClientReport, zone: datetime.tzinfo) -> bytes:
    return report_pdf(
        report,
        charts=report_figures(report, zone),
        tables=report_tables(report, date_text_in(zone)),
        zone=zone,
    )
