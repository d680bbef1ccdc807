"""The session room's video call through the real page in Chromium with its fake camera
and microphone: the pre-call check, both sides joining over the room socket's signaling
(docs/realtime-protocol.md), audio only, hanging up, and the TURN warning."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, CounselingSessionFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
CONNECT_MS = 20_000  # ICE over loopback is quick; the margin is for a loaded CI machine
REMOTE_VIDEO_PLAYS = "() => document.getElementById('remote-video').videoWidth > 0"
SWITCH_TO_VIDEO = re.compile("Beralih ke video|Switch to video")  # before or after translation
# Keeps the page's websockets reachable from the test, to drop a connection.
TRACK_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.openSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.openSockets.push(this); }
  };
})()"""
# The browser refuses the camera (as after "Block"), but allows the microphone.
BLOCK_CAMERA = """(() => {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (constraints.video) throw new DOMException("Permission denied", "NotAllowedError");
    return getUserMedia(constraints);
  };
})()"""


def enter_room(page: Page, live_url: str, user, session) -> Page:
    log_in(page, live_url, user.username, TEST_PASSWORD)
    page.goto(f"{live_url}/sessions/{session.pk}/room/")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "online")
    return page


def precheck(page: Page) -> None:
    """Open the pre-call check and wait until the camera and microphone are ready."""
    page.click("#video-start")
    expect(page.locator("#local-video")).to_be_visible()
    expect(page.locator("#video-join-audio")).to_be_enabled()


def both_in_the_room(live_url, new_context, student, **fields):
    session = session_now(student, **fields)
    desk = enter_room(new_context(viewport=LAPTOP).new_page(), live_url, session.counselor, session)
    phone = enter_room(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page(),
        live_url,
        student,
        session,
    )
    return desk, phone


def test_both_sides_join_with_video_and_see_each_other(live_url, new_context, student):
    desk, phone = both_in_the_room(live_url, new_context, student, mode="video")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute("data-state", "idle")
        expect(page.locator("#video-intro-video")).to_be_visible()

    precheck(phone)
    # The pre-call check measures the round trip to the server and hears the microphone.
    expect(phone.locator("#video-net")).to_have_attribute("data-quality", "good")
    phone.wait_for_function("() => Number(document.getElementById('video-mic-level').value) > 0")
    phone.click("#video-join")
    expect(phone.locator("#video-state")).to_have_attribute("data-state", "new")
    expect(desk.locator("#video-peer-waiting")).to_be_visible()

    precheck(desk)
    desk.click("#video-join")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute(
            "data-state", "connected", timeout=CONNECT_MS
        )
        page.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=CONNECT_MS)
        expect(page.locator("#video-camera")).to_have_attribute("aria-pressed", "true")
        # The video sender is capped for metered data once connected.
        expect(page.locator("#video-state")).to_have_attribute("data-max-bitrate", "300000")
    box = phone.locator("#video-hangup").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # A toggle is shown on the other side; the chat keeps working during the call.
    phone.click("#video-microphone")
    expect(phone.locator("#video-microphone")).to_have_attribute("aria-pressed", "false")
    expect(desk.locator("#remote-mic-off")).to_be_visible()
    phone.fill("#chat-input", "Bisa dengar saya?")
    phone.click("#chat-send")
    expect(desk.locator("#chat-log")).to_contain_text("Bisa dengar saya?")

    phone.click("#video-hangup")
    expect(phone.locator("#video-state")).to_have_attribute("data-state", "idle")
    expect(desk.locator("#video-state")).to_have_attribute("data-state", "idle")
    expect(desk.locator("#video-error")).to_be_visible()
    expect(desk.locator("#video-error")).to_have_attribute("data-message", "info-peer-left")
    # Both cameras are released.
    for page in (desk, phone):
        assert page.evaluate("document.getElementById('local-video').srcObject") is None


def test_audio_only_sends_no_video_either_way(live_url, new_context, student):
    desk, phone = both_in_the_room(live_url, new_context, student, mode="chat")
    expect(phone.locator("#video-intro-chat")).to_be_visible()
    expect(phone.locator("#video-start")).to_have_text(SWITCH_TO_VIDEO)
    precheck(desk)
    desk.click("#video-join")
    precheck(phone)
    phone.click("#video-join-audio")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute(
            "data-state", "connected", timeout=CONNECT_MS
        )
        page.wait_for_function(
            "() => { const s = document.getElementById('remote-video').srcObject;"
            " return s && s.getAudioTracks().length === 1 && s.getVideoTracks().length === 0; }"
        )
        expect(page.locator("#remote-overlay")).to_be_visible()
        expect(page.locator("#video-camera")).to_be_disabled()
    expect(desk.locator("#local-video")).to_be_hidden()  # the counselor's camera was stopped


def join_both(desk: Page, phone: Page) -> None:
    for page in (desk, phone):
        precheck(page)
        page.click("#video-join")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute(
            "data-state", "connected", timeout=CONNECT_MS
        )
        page.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=CONNECT_MS)


def test_the_call_survives_a_dropped_room_socket(live_url, new_context, student):
    desk, phone = both_in_the_room(live_url, new_context, student, mode="video")
    phone.add_init_script(TRACK_SOCKETS)
    phone.reload()
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "online")
    join_both(desk, phone)

    phone.evaluate("() => window.openSockets.forEach((socket) => socket.close())")
    # The counselor hears that the student's socket is gone and waits a moment…
    expect(desk.locator("#video-error")).to_have_attribute("data-message", "info-peer-away")
    # …the student's socket comes back, and the media, peer to peer, never stopped.
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "online")
    expect(desk.locator("#video-error")).to_be_hidden()
    desk.wait_for_timeout(9_000)  # longer than the counselor's grace period
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute("data-state", "connected")


def test_a_blocked_camera_is_explained_and_audio_only_offered(live_url, new_context, student):
    desk, phone = both_in_the_room(live_url, new_context, student, mode="video")
    phone.add_init_script(BLOCK_CAMERA)
    phone.reload()
    expect(phone.locator("#connection-state")).to_have_attribute("data-state", "online")
    phone.click("#video-start")
    expect(phone.locator("#video-error")).to_have_attribute("data-message", "err-camera-denied")
    expect(phone.locator("#video-error")).to_be_visible()
    expect(phone.locator("#video-join")).to_be_disabled()
    phone.click("#video-join-audio")
    precheck(desk)
    desk.click("#video-join")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute(
            "data-state", "connected", timeout=CONNECT_MS
        )


def test_the_turn_warning_shows_for_the_counselor_only(live_url, new_context, student):
    # The test servers run without TURN (tests/servers.py).
    desk, phone = both_in_the_room(live_url, new_context, student)
    expect(desk.locator("#turn-warning")).to_be_visible()
    expect(desk.locator("#turn-warning")).to_contain_text("TURN")
    expect(phone.locator("#turn-warning")).to_be_hidden()


def test_a_call_cannot_start_before_the_room_opens(live_url, new_context, student):
    starts_at = timezone.now() + datetime.timedelta(hours=3)
    session = CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        status="confirmed",
        mode="video",
    )
    phone = enter_room(new_context(viewport=PHONE).new_page(), live_url, student, session)
    expect(phone.locator("#video-start")).to_be_disabled()
    expect(phone.locator("#video-start-reason")).not_to_be_empty()
