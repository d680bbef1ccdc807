"""Through the real pages in Chromium: a counselor opens a client with a seeded
single-case study, sees both charts with their phases, opens the regression report and
downloads the PDF; the student, once the trend is shared, sees it on a phone."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.analytics.study import study
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser

SESSIONS = [(38, 31), (44, 28), (49, 24), (55, 21), (58, 18)]


def test_the_counselor_reads_the_charts_and_downloads_the_report_pdf(
    live_url, new_context, student, counselor
):
    study(student, baseline=[33, 34, 32], sessions=SESSIONS, follow_up=[17, 15])
    desk = new_context(accept_downloads=True).new_page()
    log_in(desk, live_url, counselor.username, TEST_PASSWORD)

    desk.get_by_role("link", name="Daftar klien dan peringatan").click()
    desk.get_by_role("link", name=student.display_name).click()
    for chart in ("#alliance-chart", "#anxiety-chart"):
        svg = desk.locator(f"{chart} svg")
        expect(svg).to_be_visible()
        assert svg.bounding_box()["width"] > 300
    anxiety = desk.locator("#anxiety-chart svg")
    # Three phases, two dashed lines between them, every value printed by its point.
    expect(anxiety.locator(".phase-label")).to_have_text(
        ["Baseline (A)", "Perlakuan (B)", "Tindak lanjut (A')"]
    )
    expect(anxiety.locator(".phase-line")).to_have_count(2)
    expect(anxiety.locator(".point")).to_have_count(10)
    for value in ("33", "31", "18", "15"):
        expect(anxiety.locator(".value", has_text=value).first).to_be_visible()

    desk.get_by_role("link", name="Laporan regresi").first.click()
    expect(desk.locator("#table-model-summary")).to_contain_text("Ringkasan Model")
    expect(desk.locator("#table-coefficients")).to_contain_text("< .001")
    expect(desk.locator("#interpretation")).to_contain_text("Aliansi menjelaskan")
    with desk.expect_download() as download_info:
        desk.locator("#download-pdf").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for expected in ("Ringkasan Model", "ANOVA", "Koefisien", student.display_name, "< .001"):
        assert expected in text


def test_a_shared_anxiety_trend_reads_on_the_students_phone(
    live_url, new_context, student, counselor
):
    study(student, baseline=[33, 34], sessions=SESSIONS[:3])
    desk = new_context().new_page()
    log_in(desk, live_url, counselor.username, TEST_PASSWORD)
    desk.goto(f"{live_url}/analytics/clients/{student.pk}/")
    desk.get_by_role("button", name="Bagikan tren kecemasan").click()
    expect(desk.locator(".alert-success")).to_be_visible()

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, live_url, student.username, TEST_PASSWORD)
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("link", name="Perkembangan saya").click()
    chart = phone.locator("#my-anxiety-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator(".phase-label").first).to_have_text("Sebelum konseling")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Printed values are big enough to read on the phone (at least 9 CSS pixels high).
    heights = chart.locator(".value").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().height)"
    )
    assert min(heights) >= 9
    expect(phone.locator("body")).not_to_contain_text("WAI")
