"""Defects of the session room's page found in review (issue 5), in Chromium, kept as
regression tests. Each test states the behaviour asked for."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import expect

from sessions_app.models import SessionNote
from tests.browser.test_room_chat import enter_room, room  # noqa: F401 (room: a fixture)
from tests.factories import CounselingSessionFactory

pytestmark = pytest.mark.browser

QUICK_MS = 3_000  # the note's autosave waits 1.5 s after typing stops


def test_a_note_typed_just_before_ending_the_session_is_kept(room):  # noqa: F811
    _session, _phone, desk = room
    note = "Cemas menjelang ujian; minggu depan latihan relaksasi."

    desk.fill("#note-form textarea", note)
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("#room-end")

    expect(desk.locator("#room-ended")).to_be_visible()
    expect(desk.locator("#note-form textarea")).to_have_value(note, timeout=QUICK_MS)


def test_a_slow_earlier_autosave_does_not_overwrite_a_later_note(room):  # noqa: F811
    """Saves go out one at a time: text typed while a slow save is on its way is sent
    after it, so the newest text is what the server keeps."""
    session, _phone, desk = room
    note_url = f"**/sessions/{session.pk}/room/note/"
    held = []

    def hold_the_first_save(route):
        if held:
            route.continue_()
        else:
            held.append(route)  # a weak phone connection: this request is still on its way

    desk.route(note_url, hold_the_first_save)
    textarea = desk.locator("#note-form textarea")
    with desk.expect_request(note_url):
        textarea.fill("Pertama")
    textarea.fill("Pertama, lalu yang kedua dan terakhir")
    with desk.expect_response(
        lambda r: "/room/note/" in r.url and r.request.post_data and "kedua" in r.request.post_data
    ):
        held[0].continue_()  # the slow first save lands, then the newest text follows

    assert SessionNote.objects.get(session=session).body == (
        "Pertama, lalu yang kedua dan terakhir"
    )


def test_a_student_who_came_early_is_told_to_wait_for_the_counselor_once_it_opens(
    live_url, phone, student
):
    opens_in = datetime.timedelta(seconds=4)
    starts_at = timezone.now() + datetime.timedelta(minutes=15) + opens_in
    session = CounselingSessionFactory(
        student=student, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=45)
    )
    enter_room(phone, live_url, student, session)
    expect(phone.locator("#chat-input")).to_be_disabled()  # still waiting

    expect(phone.locator("#chat-input")).to_be_enabled(timeout=15_000)  # it opened
    with translation.override(settings.LANGUAGE_CODE):
        waiting = translation.gettext("Waiting for your counselor…")
    expect(phone.get_by_text(waiting)).to_be_visible(timeout=QUICK_MS)
