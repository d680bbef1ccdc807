"""The report's downloads: the underlying data as CSV and the case-conference PDF."""

import csv
import io

from django.utils import timezone

from analytics.figures import report_figures
from analytics.pdf import report_pdf
from analytics.report import ClientReport, InstrumentSeries
from analytics.series import occasion_key, session_numbers


def data_rows(report: ClientReport) -> tuple[list[str], list[list]]:
    """One row per occasion (a session, or a baseline/follow-up week): date, phase,
    session number, then each instrument's total and subscales. The columns `alliance`
    and `anxiety` are what `regression_report --csv` reads back."""
    zone = report.zone
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


def report_csv(report: ClientReport) -> bytes:
    columns, rows = data_rows(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read it as UTF-8


def report_pdf_bytes(report: ClientReport) -> bytes:
    return report_pdf(report, charts=report_figures(report))
