"""The case-conference PDF of a client's report (fpdf2, A4 portrait).

The text is set in DejaVu Sans, vendored in analytics/fonts/ with its licence, so the
PDF has every character the report uses ("²", "×", "≥", "–", Indonesian) on a machine
without system fonts, and the tables' text stays extractable.
"""

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from analytics.report import ClientReport, Table, report_tables

if TYPE_CHECKING:
    from analytics.charts import Chart

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "DejaVu"
MARGIN = 15  # mm
HEADER_FILL = (230, 230, 230)

# fontTools reports every font subset it makes at INFO, dozens of lines per PDF.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

NUMBER = re.compile(r"^[<>≥≤−–+-]?\s*[-−]?(\d+(\.\d*)?|\.\d+)\s*%?$|^—$|^\d+ / \d+$")


def register_fonts(pdf: FPDF) -> None:
    """Make DejaVu Sans (regular and bold) available on `pdf`; safe to call twice."""
    if FONT_FAMILY.lower() not in pdf.fonts:
        pdf.add_font(FONT_FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
        pdf.add_font(FONT_FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")


class ReportDocument(FPDF):
    """A4 portrait with the confidentiality line and "Page X of Y" in every footer."""

    def __init__(self, *, confidential: str, page_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.confidential, self.page_text = confidential, page_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)
        register_fonts(self)
        self.alias_nb_pages("{nb}")

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(100, 100, 100)
        self.cell(self.epw / 2, 5, self.confidential, align="L")
        self.cell(self.epw / 2, 5, self.page_text % {"page": self.page_no()}, align="R")


def report_pdf(report: ClientReport, *, charts: list["Chart"]) -> bytes:
    """The report as PDF bytes, in the active language: header, tables, reading, charts;
    dates and "generated at" in the report's (the school's) zone."""
    title = _("Regression report")
    pdf = ReportDocument(
        confidential=_("Confidential — counseling record"),
        page_text=_("Page %(page)s of %(pages)s") % {"page": "%(page)s", "pages": "{nb}"},
    )
    pdf.set_title(f"{title} — {report.client_name}")
    pdf.set_subject(report.school_name)
    pdf.set_creator("RuangBK")
    pdf.set_lang(get_language() or "id")
    pdf.set_creation_date(report.generated_at)
    pdf.add_page()
    _header(pdf, report, title)
    if report.regression_problem:
        _paragraph(pdf, report.regression_problem)
    for table in report_tables(report):
        _table(pdf, table)
    for problem in (report.overlap_problem, report.change_problem):
        if problem:
            _paragraph(pdf, problem)
    if report.interpretation:
        _heading(pdf, _("Interpretation"))
        for sentence in report.interpretation:
            _paragraph(pdf, sentence)
    if report.warnings:
        _heading(pdf, _("Warnings"))
        for warning in report.warnings:
            _paragraph(pdf, f"•  {warning}")
    for chart in charts:
        height = chart.height * pdf.epw / chart.width
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_y(pdf.get_y() + chart.draw(pdf, pdf.l_margin, pdf.get_y(), pdf.epw))
    return bytes(pdf.output())


def _header(pdf: FPDF, report: ClientReport, title: str) -> None:
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.cell(0, 6, report.school_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    period = " – ".join(
        formats.date_format(day, "DATE_FORMAT")
        for day in (report.period_start, report.period_end)
        if day is not None
    )
    generated = formats.date_format(
        timezone.localtime(report.generated_at, report.zone), "DATETIME_FORMAT"
    )
    facts = [
        (_("Counselor"), report.counselor_name),
        (_("Client"), report.client_name),
        (_("Class"), report.client_class),
        (_("Period"), period or "—"),
        (_("Generated at"), generated),
    ]
    label_width = max(pdf.get_string_width(label) for label, _value in facts) + 8
    for label, value in facts:
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(label_width, 5, label)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.multi_cell(0, 5, value or "—", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_draw_color(150, 150, 150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(3)


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() + 20 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "B", 11)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str, size: float = 9.5) -> None:
    pdf.set_font(FONT_FAMILY, "", size)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _table(pdf: FPDF, table: Table) -> None:
    """Title, a shaded header row, numbers right-aligned, the note in small type."""
    if pdf.get_y() + 30 > pdf.page_break_trigger:
        pdf.add_page()  # keep the title with the first rows
    _heading(pdf, table.title)
    size = 8.5
    pdf.set_font(FONT_FAMILY, "", size)
    columns = range(len(table.headers))
    numeric = [
        bool(table.rows) and all(not row[i] or NUMBER.match(row[i].strip()) for row in table.rows)
        for i in columns
    ]
    natural = []
    for i in columns:
        pdf.set_font(FONT_FAMILY, "B", size)
        widest = pdf.get_string_width(table.headers[i])
        pdf.set_font(FONT_FAMILY, "", size)
        widest = max(
            [widest] + [pdf.get_string_width(row[i]) for row in table.rows if i < len(row)]
        )
        natural.append(min(widest, pdf.epw * 0.45) + 4)
    width = min(sum(natural), pdf.epw)
    headings = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
    with pdf.table(
        width=width,
        col_widths=tuple(natural),
        align="LEFT",
        headings_style=headings,
        line_height=size * 0.55,
        padding=(0.8, 1.5),
        cell_fill_mode=TableCellFillMode.NONE,
    ) as grid:
        heading_row = grid.row()
        for i, text in enumerate(table.headers):
            heading_row.cell(text, align="RIGHT" if numeric[i] else "LEFT")
        for values in table.rows:
            row = grid.row()
            for i in columns:
                text = values[i] if i < len(values) else ""
                row.cell(text, align="RIGHT" if numeric[i] else "LEFT")
    if table.note:
        pdf.ln(1)
        _paragraph(pdf, table.note, size=7.5)
    pdf.ln(2)
