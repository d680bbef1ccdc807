"""The session room's chat through the real page in Chromium: a student on a phone and
their counselor on a laptop, each in their own browser context, signed in through the
login form, talking over the room's websocket (docs/realtime-protocol.md)."""

import datetime
import re
import uuid

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from sessions_app.models import (
    MESSAGE_MAX_CHARS,
    ChatMessage,
    CounselingSession,
    SessionOutcome,
)
from sessions_app.services.room import RATE_WINDOW
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, CounselingSessionFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
DELIVERY_MS = 5_000  # "within a few seconds"
MARKUP = "<img src=x onerror=alert(1)>"

# Records every value each bubble's status took (keyed by the bubble's text), so a
# transition that lasts only a moment (sending → sent) is still seen.
RECORD_STATUSES = """() => {
  window.statusHistory = {};
  const log = document.getElementById("chat-log");
  new MutationObserver((records) => {
    for (const record of records) {
      const body = record.target.closest(".chat-message").querySelector(".chat-body").textContent;
      const history = (window.statusHistory[body] ||= []);
      if (record.oldValue !== null) history.push(record.oldValue);
    }
  }).observe(log, { subtree: true, attributes: true, attributeOldValue: true,
                    attributeFilter: ["data-status"] });
}"""
STATUS_HISTORY = """(body) => {
  const seen = [...(window.statusHistory[body] || [])];
  const bubble = [...document.querySelectorAll("#chat-log .chat-message")]
    .find((li) => li.querySelector(".chat-body").textContent === body);
  seen.push(bubble.querySelector(".chat-status").dataset.status);
  return seen.filter((status, i) => status !== seen[i - 1]);
}"""
# Keeps the page's websockets reachable from the test, to drop a connection.
TRACK_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.openSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.openSockets.push(this); }
  };
})()"""


def room_url(live_url: str, session) -> str:
    return f"{live_url}/sessions/{session.pk}/room/"


def enter_room(page: Page, live_url: str, user, session) -> Page:
    """Sign in as `user`, open the room and wait until its socket is connected."""
    log_in(page, live_url, user.username, TEST_PASSWORD)
    page.goto(room_url(live_url, session))
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "online")
    return page


def laptop(new_context) -> Page:
    return new_context(viewport=LAPTOP).new_page()


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-send")


def bubble(page: Page, text: str):
    """The chat bubble(s) whose text is exactly `text`."""
    exact = re.compile(f"^{re.escape(text)}$")
    return page.locator("#chat-log .chat-message").filter(
        has=page.locator(".chat-body", has_text=exact)
    )


def chat_bodies(page: Page) -> list[str]:
    return page.locator("#chat-log .chat-body").all_text_contents()


@pytest.fixture
def room(live_url, phone, new_context, student, counselor):
    """An in-progress session with the student (phone) and the counselor (laptop) both
    in its room and seeing each other."""
    session = session_now(student)
    enter_room(phone, live_url, student, session)
    desk = enter_room(laptop(new_context), live_url, counselor, session)
    for page in (phone, desk):
        expect(page.locator("#peer-presence")).to_have_attribute("data-online", "1")
    return session, phone, desk


def test_student_and_counselor_chat_in_real_time(room):
    _session, phone, desk = room
    phone.evaluate(RECORD_STATUSES)

    send(phone, "Bu, saya mau cerita soal ulangan.")
    expect(bubble(desk, "Bu, saya mau cerita soal ulangan.")).to_be_visible(timeout=DELIVERY_MS)
    expect(bubble(desk, "Bu, saya mau cerita soal ulangan.")).to_have_class(re.compile("theirs"))
    mine = bubble(phone, "Bu, saya mau cerita soal ulangan.")
    expect(mine).to_have_class(re.compile("mine"))
    expect(mine.locator(".chat-status")).to_have_attribute("data-status", "read")
    history = phone.evaluate(STATUS_HISTORY, "Bu, saya mau cerita soal ulangan.")
    assert history == ["sending", "sent", "read"]

    send(desk, "Silakan, Ibu dengarkan.")
    expect(bubble(phone, "Silakan, Ibu dengarkan.")).to_be_visible(timeout=DELIVERY_MS)
    expect(bubble(phone, "Silakan, Ibu dengarkan.")).to_have_class(re.compile("theirs"))

    dialogs = []
    for page in (phone, desk):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    send(phone, MARKUP)
    for page in (desk, phone):
        expect(bubble(page, MARKUP)).to_be_visible(timeout=DELIVERY_MS)
        assert bubble(page, MARKUP).locator(".chat-body").text_content() == MARKUP
        assert page.locator("#chat-log img").count() == 0
    assert chat_bodies(phone) == chat_bodies(desk)
    assert dialogs == []


def test_a_reloaded_page_shows_the_whole_conversation_in_order_and_chat_goes_on(room):
    _session, phone, desk = room
    conversation = [
        (phone, "Selamat pagi, Bu."),
        (desk, "Pagi. Ada yang ingin kamu ceritakan?"),
        (phone, "Saya cemas tiap ulangan matematika."),
        (desk, "Sejak kapan kamu merasa begitu?"),
        (phone, MARKUP),
    ]
    for page, text in conversation:
        send(page, text)
        other = desk if page is phone else phone
        expect(bubble(other, text)).to_be_visible(timeout=DELIVERY_MS)

    phone.reload()
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "online")
    expected = [text for _page, text in conversation]
    assert chat_bodies(phone) == expected
    mine = phone.locator("#chat-log .chat-message.mine .chat-body").all_text_contents()
    assert mine == [text for page, text in conversation if page is phone]
    assert phone.locator("#chat-log img").count() == 0  # the server-rendered log escapes too

    send(phone, "Sejak kelas sepuluh, Bu.")
    expect(bubble(desk, "Sejak kelas sepuluh, Bu.")).to_be_visible(timeout=DELIVERY_MS)
    send(desk, "Terima kasih sudah cerita.")
    expect(bubble(phone, "Terima kasih sudah cerita.")).to_be_visible(timeout=DELIVERY_MS)
    expected += ["Sejak kelas sepuluh, Bu.", "Terima kasih sudah cerita."]
    assert chat_bodies(phone) == expected
    assert chat_bodies(desk) == expected


def test_a_message_written_offline_is_delivered_once_when_back_online(
    live_url, new_context, student, counselor
):
    session = session_now(student)
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(TRACK_SOCKETS)
    phone = enter_room(context.new_page(), live_url, student, session)
    desk = enter_room(laptop(new_context), live_url, counselor, session)
    expect(phone.locator("#peer-presence")).to_have_attribute("data-online", "1")

    context.set_offline(True)
    # An open websocket outlives set_offline (frames stop, but only the heartbeat, 20 to
    # 60 s later, would notice): drop it from the page as a network failure would, then
    # wait until a reconnect attempt has failed, so the page is really offline.
    phone.evaluate("window.openSockets.forEach((socket) => socket.close())")
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "offline")
    # A function, not a bare expression: Playwright evaluates an expression with eval,
    # which the page's Content-Security-Policy forbids.
    phone.wait_for_function(
        "() => window.openSockets.length > 1"
        " && window.openSockets.at(-1).readyState === WebSocket.CLOSED"
    )
    expect(desk.locator("#peer-presence")).to_have_attribute("data-online", "0")

    send(phone, "Maaf, sinyal di rumah lemah.")
    waiting = bubble(phone, "Maaf, sinyal di rumah lemah.")
    expect(waiting.locator(".chat-status")).to_have_attribute("data-status", "queued")
    expect(phone.locator("#chat-input")).to_have_value("")
    assert not ChatMessage.objects.filter(session=session).exists()

    context.set_offline(False)
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "online")
    expect(bubble(desk, "Maaf, sinyal di rumah lemah.")).to_be_visible(timeout=DELIVERY_MS)
    expect(waiting.locator(".chat-status")).to_have_attribute("data-status", "read")
    for page in (phone, desk):
        expect(bubble(page, "Maaf, sinyal di rumah lemah.")).to_have_count(1)
    assert ChatMessage.objects.filter(session=session).count() == 1


def test_typing_past_the_limit_is_prevented_and_a_refused_message_can_be_sent_again(room, student):
    session, phone, desk = room
    composer = phone.locator("#chat-input")
    assert composer.get_attribute("maxlength") == str(MESSAGE_MAX_CHARS)
    composer.fill("a" * MESSAGE_MAX_CHARS)
    composer.press_sequentially("bcd")
    assert composer.input_value() == "a" * MESSAGE_MAX_CHARS
    composer.fill("")

    # The student has used up the rate limit: the server refuses the next message.
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        ChatMessage(
            session=session,
            seq=seq,
            sender=student,
            client_id=uuid.uuid4(),
            body=f"pesan {seq}",
            created_at=now,
        )
        for seq in range(1, settings.CHAT_MESSAGES_PER_30S + 1)
    )
    with translation.override(settings.LANGUAGE_CODE):
        reason = translation.gettext(
            "You are sending messages too quickly. Wait a few seconds and send it again."
        )
        not_sent = translation.gettext("Not sent")
    send(phone, "Bu, boleh minta waktu tambahan?")
    refused = bubble(phone, "Bu, boleh minta waktu tambahan?")
    expect(refused.locator(".chat-status")).to_have_attribute("data-status", "failed")
    expect(refused.locator(".chat-status")).to_contain_text(not_sent)
    expect(refused.locator(".chat-status")).to_contain_text(reason)
    expect(refused.locator(".chat-retry")).to_be_visible()
    expect(refused.locator(".chat-body")).to_have_text("Bu, boleh minta waktu tambahan?")

    # Once the window has passed, "send again" delivers it, once.
    ChatMessage.objects.filter(sender=student).update(created_at=now - 2 * RATE_WINDOW)
    refused.locator(".chat-retry").click()
    expect(bubble(desk, "Bu, boleh minta waktu tambahan?")).to_be_visible(timeout=DELIVERY_MS)
    expect(refused.locator(".chat-status")).to_have_attribute("data-status", "read")
    expect(refused.locator(".chat-retry")).to_have_count(0)
    expect(bubble(phone, "Bu, boleh minta waktu tambahan?")).to_have_count(1)
    assert ChatMessage.objects.filter(body="Bu, boleh minta waktu tambahan?").count() == 1


def test_ending_the_session_closes_the_room_for_both(room):
    session, phone, desk = room
    send(phone, "Terima kasih, Bu.")
    expect(bubble(desk, "Terima kasih, Bu.")).to_be_visible(timeout=DELIVERY_MS)

    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("#room-end")
    for page in (desk, phone):
        expect(page.locator("#room-ended")).to_be_visible()
        expect(page.locator("#chat-form")).to_have_count(0)
        expect(bubble(page, "Terima kasih, Bu.")).to_be_visible()  # still readable
    session.refresh_from_db()
    assert session.status == CounselingSession.Status.COMPLETED

    expect(phone.locator("#to-questionnaires")).to_be_visible()
    expect(phone.locator("#outcome-form")).to_have_count(0)
    expect(desk.locator("#outcome-form")).to_be_visible()
    with translation.override(settings.LANGUAGE_CODE):
        continue_online = str(SessionOutcome.Kind.ONLINE.label)
    desk.locator("#outcome-form").get_by_label(continue_online).check()
    with desk.expect_navigation():
        desk.locator("#outcome-form button[type=submit]").click()
    expect(desk.locator("#book-next")).to_be_visible()
    assert f"student={session.student_id}" in desk.locator("#book-next").get_attribute("href")
    assert SessionOutcome.objects.get(session=session).kind == SessionOutcome.Kind.ONLINE


@pytest.fixture
def session_in_two_days(student):
    session = CounselingSessionFactory(student=student)  # confirmed
    assert session.starts_at - timezone.now() > datetime.timedelta(days=1)
    return session


def test_before_the_room_opens_the_student_waits_with_the_composer_disabled(
    live_url, phone, student, school, session_in_two_days
):
    session = session_in_two_days
    enter_room(phone, live_url, student, session)

    expect(phone.locator("#room-waiting")).to_be_visible()
    expect(phone.locator("#chat-input")).to_be_disabled()
    expect(phone.locator("#chat-send")).to_be_disabled()
    local = session.starts_at.astimezone(school.zone())
    expect(phone.locator("main")).to_contain_text(local.strftime("%H:%M"))


def test_the_waiting_notice_keeps_the_start_time_once_connected(
    live_url, phone, student, school, session_in_two_days
):
    session = session_in_two_days
    enter_room(phone, live_url, student, session)
    local = session.starts_at.astimezone(school.zone())
    # Once connected the room's state has been applied: the notice is final.
    assert local.strftime("%H:%M") in phone.locator("#room-waiting").inner_text()


def test_the_room_fits_a_phone_screen(room):
    _session, phone, desk = room
    long_word = "https://contoh.sch.id/" + "sangat-panjang" * 20
    send(desk, long_word)
    expect(bubble(phone, long_word)).to_be_visible(timeout=DELIVERY_MS)
    send(phone, "Baik, Bu. " * 30)
    expect(bubble(desk, ("Baik, Bu. " * 30).strip())).to_be_visible(timeout=DELIVERY_MS)
    assert phone.viewport_size == PHONE
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
