"""The case-conference PDF: a real PDF whose text (tables, numbers, the reading) can be
extracted, in Indonesian and English, with the fonts it needs inside it.

Expected numbers come from numpy's least-squares fit of the same data, formatted as
SPSS prints them; not from our own output.
"""

import datetime as dt
import io
import zoneinfo

import numpy as np
import pypdf
import pytest
from django.utils import translation

from analytics import pdf as report_pdf_module
from analytics.charts import ChartPoint, ChartSeries, PhaseSpan, scatter_chart, trend_chart
from analytics.pdf import report_pdf
from analytics.report import ClientReport, SessionPair
from analytics.stats import simple_regression

ALLIANCE = [40, 44, 47, 50, 52, 55, 56, 58, 60, 60]
ANXIETY = [33, 31, 30, 29, 27, 26, 24, 22, 22, 20]
MAKASSAR = zoneinfo.ZoneInfo("Asia/Makassar")
FIRST_SESSION = dt.datetime(2025, 12, 22, 1, 0, tzinfo=dt.UTC)


def sessions() -> list[SessionPair]:
    return [
        SessionPair(i + 1, FIRST_SESSION + dt.timedelta(days=7 * i), x, y)
        for i, (x, y) in enumerate(zip(ALLIANCE, ANXIETY, strict=True))
    ]


def client_report(*, with_regression: bool = True) -> ClientReport:
    return ClientReport(
        school_name="SMA Negeri 1 Makassar",
        counselor_name="Sari Wulandari",
        client_name="Ani Lestari",
        client_class="XI IPA 2",
        period_start=dt.date(2025, 12, 1),
        period_end=dt.date(2026, 3, 9),
        generated_at=dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC),
        pairs=sessions(),
        regression=simple_regression(ALLIANCE, ANXIETY) if with_regression else None,
        regression_problem="" if with_regression else "Alliance was 60 in every session.",
        warnings=["Only 10 sessions: read R² × 100 % as a description (n ≥ 10 – barely)."],
        interpretation=["The relationship between alliance and anxiety is very strong."],
        zone=MAKASSAR,
    )


def figures() -> list:
    pairs = sessions()
    fit = np.polyfit(ALLIANCE, ANXIETY, 1)
    scatter = scatter_chart(
        title="Anxiety against alliance",
        x_label="Alliance (WAI-SR)",
        y_label="Anxiety (AMAS)",
        points=[(p.alliance, p.anxiety, f"Session {p.number}") for p in pairs],
        x_min=12,
        x_max=60,
        y_min=9,
        y_max=45,
        intercept=float(fit[1]),
        slope=float(fit[0]),
    )
    trend = trend_chart(
        title="Math anxiety over time",
        series=[
            ChartSeries("Total", [ChartPoint(p.date, p.anxiety, str(p.number)) for p in pairs])
        ],
        y_min=9,
        y_max=45,
        phases=[PhaseSpan("Treatment (B)", pairs[0].date, pairs[-1].date)],
        bands=[],
        zone=MAKASSAR,
    )
    return [scatter, trend]


def spss(value: float) -> str:
    """A value as SPSS prints it: three decimals, no leading zero between −1 and 1."""
    text = f"{value:.3f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def expected_numbers() -> list[str]:
    """Model Summary, ANOVA and Coefficients numbers, from numpy."""
    x, y = np.array(ALLIANCE, float), np.array(ANXIETY, float)
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    ss_total = float(((y - y.mean()) ** 2).sum())
    ss_residual = float(((y - fitted) ** 2).sum())
    r = abs(np.corrcoef(x, y)[0, 1])
    n = len(x)
    return [
        spss(r),
        spss(r**2),
        spss(1 - (1 - r**2) * (n - 1) / (n - 2)),
        spss(np.sqrt(ss_residual / (n - 2))),
        spss(ss_total - ss_residual),
        spss(ss_residual),
        spss(ss_total),
        spss(intercept),
        spss(slope),
    ]


def pdf_text(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_opens_and_its_tables_text_and_numbers_can_be_extracted():
    with translation.override("en"):
        data = report_pdf(client_report(), charts=figures())
    assert data.startswith(b"%PDF-")
    _reader, text = pdf_text(data)
    for heading in (
        "Regression report",
        "Model Summary",
        "R Square",
        "Adjusted R Square",
        "Std. Error of the Estimate",
        "ANOVA",
        "Sum of Squares",
        "Mean Square",
        "Coefficients",
        "(Constant)",
        "Beta",
    ):
        assert heading in text
    for value in expected_numbers():
        assert value in text
    assert "< .001" in text  # Sig. of this slope is far below .001
    for value in ("SMA Negeri 1 Makassar", "Sari Wulandari", "Ani Lestari", "XI IPA 2"):
        assert value in text
    # Charts: titles, values, the equation of the fitted line.
    assert "Anxiety against alliance" in text and "Math anxiety over time" in text
    assert "60; 20" in text
    # The data table shows session dates in the school's zone: 22 Dec 2025, 09:00 WITA.
    assert "22 Dec 2025" in text


def test_unicode_reading_and_warnings_survive_extraction():
    with translation.override("en"):
        _reader, text = pdf_text(report_pdf(client_report(), charts=[]))
    assert "The relationship between alliance and anxiety is very strong." in text
    assert "R² × 100 %" in text and "n ≥ 10 – barely" in text


def test_footer_numbers_pages_and_says_the_record_is_confidential():
    with translation.override("en"):
        reader, _text = pdf_text(report_pdf(client_report(), charts=figures()))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "Confidential — counseling record" in text


@pytest.mark.parametrize("language", ["id", "en"])
def test_both_languages_render(language):
    with translation.override(language):
        data = report_pdf(client_report(), charts=figures())
        title = translation.gettext("Regression report")
        counselor = translation.gettext("Counselor")
    reader, text = pdf_text(data)
    assert title in text and counselor in text
    assert all(value in text for value in expected_numbers())
    assert reader.metadata.title == f"{title} — Ani Lestari"


def test_metadata_has_a_title_and_no_author():
    with translation.override("en"):
        reader, _text = pdf_text(report_pdf(client_report(), charts=[]))
    assert reader.metadata.title == "Regression report — Ani Lestari"
    assert reader.metadata.author is None
    assert "@" not in str(dict(reader.metadata))


def test_the_fonts_travel_inside_the_pdf():
    """Nothing is read from the system: DejaVu comes from analytics/fonts, embedded."""
    assert (report_pdf_module.FONT_DIR / "LICENSE-DejaVu.txt").is_file()
    with translation.override("en"):
        reader, _text = pdf_text(report_pdf(client_report(), charts=figures()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for reference in fonts.values():
        font = reference.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        assert "DejaVuSans" in str(font["/BaseFont"])
        embedded.append("/FontFile2" in descendant["/FontDescriptor"].get_object())
    assert embedded and all(embedded)


def test_a_missing_regression_prints_the_reason_instead_of_the_tables():
    with translation.override("en"):
        _reader, text = pdf_text(report_pdf(client_report(with_regression=False), charts=[]))
    assert "Alliance was 60 in every session." in text
    assert "Model Summary" not in text and "Coefficients" not in text
    assert "Data: treatment sessions" in text  # the data are still shown
