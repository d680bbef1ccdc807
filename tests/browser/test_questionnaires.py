"""Through the real pages in Chromium: the counselor ends a session, the student answers
both questionnaires on a 360×640 phone, and the counselor sees the scores."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from instruments.models import Response
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, AdministrationFactory, CounselingSessionFactory

pytestmark = pytest.mark.browser

# Answers chosen by hand; expected scores from the published keys.
# WAI-SR: Task = items 1, 2, 10, 12; Bond = 3, 5, 7, 9; Goal = 4, 6, 8, 11.
WAI_SR = {1: 4, 2: 4, 3: 5, 4: 3, 5: 5, 6: 3, 7: 5, 8: 3, 9: 5, 10: 4, 11: 3, 12: 4}
WAI_SR_TASK, WAI_SR_BOND, WAI_SR_GOAL = 16, 20, 12  # total 48: "high" (44–60)
# AMAS: Learning = items 1, 3, 6, 7, 9; Evaluation = 2, 4, 5, 8.
AMAS = {1: 2, 2: 5, 3: 1, 4: 5, 5: 4, 6: 2, 7: 2, 8: 5, 9: 1}
AMAS_LEARNING, AMAS_EVALUATION = 8, 19  # total 27: "fairly high" (23–27)


def answer_on_phone(phone: Page, answers: dict[int, int]) -> None:
    """Tap each answer's label (the big button), as a thumb would."""
    for number, value in answers.items():
        item = phone.locator(f"#item-{number}")
        item.locator(f"label:has(span:text-is('{value}'))").click()
        expect(item.locator(f"input[value='{value}']")).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Kirim jawaban").click()


def test_a_student_answers_both_questionnaires_on_a_phone_and_the_counselor_sees_the_scores(
    live_url, phone, new_context, student, counselor
):
    now = timezone.now()
    session = CounselingSessionFactory(
        student=student,
        status="in_progress",
        starts_at=now - datetime.timedelta(minutes=40),
        ends_at=now + datetime.timedelta(minutes=5),
    )
    desk = new_context().new_page()
    log_in(desk, live_url, counselor.username, TEST_PASSWORD)
    desk.goto(f"{live_url}/sessions/{session.pk}/")
    desk.get_by_role("button", name="Akhiri sesi").click()
    expect(desk.locator("#session-status")).to_contain_text("Selesai")

    log_in(phone, live_url, student.username, TEST_PASSWORD)
    cards = phone.locator(".questionnaire-card")
    expect(cards).to_have_count(3)  # WAI-SR, AMAS and the optional session evaluation
    cards.filter(has_text="Aliansi kerja").get_by_role("link", name="Isi").click()

    # A first try with one answer missing: the page keeps what was chosen.
    partial = dict(WAI_SR)
    del partial[7]
    answer_on_phone(phone, partial)
    expect(phone.locator("#answer-errors")).to_be_visible()
    expect(phone.locator("#answer-errors a[href='#item-7']")).to_be_visible()
    expect(phone.locator("#item-1 input[value='4']")).to_be_checked()
    expect(phone.locator("[data-answered-count]")).to_have_text("11")
    answer_on_phone(phone, {7: WAI_SR[7]})

    # Sent: the next required questionnaire opens by itself.
    expect(phone.locator(".alert-success")).to_be_visible()
    expect(phone.locator("h1")).to_have_text("Kecemasan matematika")
    expect(phone.locator("#item-1 legend")).to_contain_text("Pertanyaan 1 dari 9")
    answer_on_phone(phone, AMAS)
    expect(phone.locator(".alert-success")).to_be_visible()
    expect(phone.locator(".questionnaire-card")).to_have_count(1)  # only the optional one

    assert Response.objects.count() == 2
    desk.goto(f"{live_url}/accounts/counselor/")
    desk.get_by_role("link", name=student.display_name, exact=True).click()
    wai_row = desk.locator("table[data-instrument='wai-sr'] tbody tr")
    expect(wai_row).to_contain_text("Perlakuan")
    cells = wai_row.locator("td")
    expect(cells.nth(3)).to_have_text("48")
    expect(cells.nth(4)).to_have_text(str(WAI_SR_TASK))
    expect(cells.nth(5)).to_have_text(str(WAI_SR_BOND))
    expect(cells.nth(6)).to_have_text(str(WAI_SR_GOAL))
    expect(cells.nth(7)).to_have_text("Tinggi")
    amas_cells = desk.locator("table[data-instrument='amas'] tbody tr td")
    expect(amas_cells.nth(3)).to_have_text("27")
    expect(amas_cells.nth(4)).to_have_text(str(AMAS_LEARNING))
    expect(amas_cells.nth(5)).to_have_text(str(AMAS_EVALUATION))
    expect(amas_cells.nth(6)).to_have_text("Agak tinggi")


def test_a_questionnaire_can_be_answered_with_the_keyboard_alone(live_url, new_context, student):
    """Each question is a group named by its legend; arrows choose, Tab moves on."""
    administration = AdministrationFactory(student=student, instrument_code="amas")
    page = new_context().new_page()
    log_in(page, live_url, student.username, TEST_PASSWORD)
    page.goto(f"{live_url}/questionnaires/{administration.pk}/")

    first_group = page.get_by_role("group", name=re.compile(r"Pertanyaan 1 dari 9"))
    expect(first_group.get_by_role("radio", name=re.compile(r"Kecemasan rendah"))).to_be_attached()
    page.locator("#item-1 input[type=radio]").first.focus()
    for number, value in AMAS.items():
        for _ in range(value - 1):
            page.keyboard.press("ArrowDown")
        if value == 1:
            page.keyboard.press("Space")
        expect(page.locator(f"#item-{number} input[value='{value}']")).to_be_checked()
        page.keyboard.press("Tab")  # to the next question (or, after the last, to send)
    expect(page.locator("[data-answered-count]")).to_have_text("9")
    expect(page.get_by_role("button", name="Kirim jawaban")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".alert-success")).to_be_visible()
    assert Response.objects.get(administration=administration).total == 27
