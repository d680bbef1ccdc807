"""Through the real pages in Chromium: a student books on a phone, the counselor confirms,
both are notified, and the student's calendar file holds the right local time."""

import datetime
import re

import icalendar
import pytest
from playwright.sync_api import expect

from sessions_app.models import CounselingSession
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, AvailabilityFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def open_every_day(counselor):
    for day in range(7):
        AvailabilityFactory(
            counselor=counselor,
            weekday=day,
            start_time=datetime.time(8),
            end_time=datetime.time(16),
        )


def test_a_student_books_on_a_phone_and_the_counselor_confirms(
    live_url, phone, new_context, student, counselor, school, open_every_day
):
    log_in(phone, live_url, student.username, TEST_PASSWORD)
    phone.locator("main").get_by_role("link", name="Pesan sesi").click()
    expect(phone.locator("h1")).to_have_text("Pesan sesi")
    first_slot = phone.locator("label.slot-button").first
    slot_text = first_slot.inner_text().split("–")[0].strip()
    day_text = phone.locator(".slot-day h3").first.inner_text()
    first_slot.click()
    phone.locator("input[name=mode][value=video]").check()
    phone.locator("input[name=field][value=learning]").check()
    phone.fill("textarea[name=description]", "Saya cemas setiap ulangan matematika.")
    phone.locator("input[name=consent]").check()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Kirim permintaan").click()
    expect(phone.locator("#session-status")).to_contain_text("Diminta")
    expect(phone.locator("#session-time")).to_contain_text(day_text)
    expect(phone.locator("#session-time")).to_contain_text(slot_text)

    desk = new_context().new_page()
    log_in(desk, live_url, counselor.username, TEST_PASSWORD)
    expect(desk.locator("#unread-count")).to_contain_text("1")
    desk.goto(f"{live_url}/sessions/schedule/")
    request_card = desk.locator(".request-card", has_text=student.display_name)
    expect(request_card).to_contain_text(slot_text)
    request_card.get_by_role("button", name="Konfirmasi").click()
    expect(desk.locator(".alert-success")).to_be_visible()
    expect(desk.locator("#session-status")).to_contain_text("Dikonfirmasi")

    phone.reload()
    expect(phone.locator("#session-status")).to_contain_text("Dikonfirmasi")
    expect(phone.locator("#unread-count")).to_contain_text("1")
    with phone.expect_download() as download_info:
        phone.locator("a[href$='calendar.ics']").click()
    calendar = icalendar.Calendar.from_ical(download_info.value.path().read_bytes())
    event = next(iter(calendar.walk("VEVENT")))
    session = CounselingSession.objects.get()
    starts = event.decoded("DTSTART")
    assert starts.astimezone(datetime.UTC) == session.starts_at
    local = session.starts_at.astimezone(school.zone())
    assert starts.strftime("%H:%M") == local.strftime("%H:%M") == slot_text
    assert "cemas" not in str(event.get("SUMMARY"))

    phone.locator("#notification-bell").click()
    expect(phone.locator("#notification-list")).to_contain_text(
        re.compile(r"mengonfirmasi|confirmed", re.IGNORECASE)
    )
