"""The session room's websocket through the full ASGI application (origin check, session
authentication, routing): who may enter, the chat and its guarantees, presence, typing,
signaling, the counselor's controls, and sockets closed on sign-out or deactivation.

The protocol is docs/realtime-protocol.md; the numbers asserted here come from it.
"""

import datetime
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import ChatMessage, CounselingSession
from tests.factories import TEST_PASSWORD, CounselingSessionFactory
from tests.sessions_app.room_helpers import (
    connect,
    frames_until,
    joined,
    receive_close,
    receive_until,
    refused,
    send,
    session_cookie,
    session_now,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

db = database_sync_to_async
NOTHING = 0.3  # seconds to wait when asserting that no frame arrives

# docs/realtime-protocol.md, "Errors and limits" and "Close codes"
MESSAGE_CHARS = 2000
MESSAGES_PER_WINDOW = 20
WINDOW_SECONDS = 30
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403


def new_id() -> str:
    return str(uuid.uuid4())


def chat(body: str, client_id: str | None = None) -> dict:
    return {"type": "chat.send", "client_id": client_id or new_id(), "body": body}


async def in_room(student, counselor, session):
    """Both participants connected, each having seen the other arrive."""
    alice, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)
    assert (await receive_until(alice, "presence"))["online"] is True
    assert (await receive_until(bob, "presence"))["online"] is True
    return alice, bob


def stored_count(session_id: int) -> int:
    return ChatMessage.objects.filter(session_id=session_id).count()


def session_field(session_id: int, field: str):
    return getattr(CounselingSession.objects.get(pk=session_id), field)


# --- who may enter --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "role"),
    [("student", "student"), ("counselor", "counselor")],
    ids=["student", "counselor"],
)
async def test_participant_is_accepted_and_greeted_with_hello(request, student, who, role):
    session = await db(session_now)(student)
    user = request.getfixturevalue(who)
    communicator, connected, _ = await connect(user, session.pk)
    assert connected
    hello = await receive_until(communicator, "hello")
    assert hello["protocol"] == 1
    assert hello["role"] == role
    assert hello["room"]["type"] == "room.state"
    assert hello["room"]["state"] == "open"
    assert hello["room"]["status"] == "in_progress"
    assert isinstance(hello["ice_servers"], list)
    assert isinstance(hello["turn_configured"], bool)
    assert hello["limits"] == {
        "message_chars": MESSAGE_CHARS,
        "messages_per_window": MESSAGES_PER_WINDOW,
        "window_seconds": WINDOW_SECONDS,
    }
    await communicator.disconnect()


async def test_non_participants_are_refused_at_the_handshake(request, student):
    session = await db(session_now)(student)
    for outsider in [
        "other_student",  # same school, another counselor's client
        "other_counselor",  # same school
        "school_admin",
        "foreign_student",
        "foreign_counselor",
        "foreign_admin",
    ]:
        user = request.getfixturevalue(outsider)
        assert await refused(user, session.pk) == CLOSE_FORBIDDEN, outsider


async def test_anonymous_client_is_refused_as_signed_out(student):
    session = await db(session_now)(student)
    assert await refused(None, session.pk) == CLOSE_SIGNED_OUT


async def test_inactive_participant_is_refused(student):
    session = await db(session_now)(student)
    cookie = await db(session_cookie)(student)
    student.is_active = False
    await db(student.save)()
    assert await refused(None, session.pk, cookie=cookie) == CLOSE_SIGNED_OUT


async def test_foreign_origin_is_refused_though_the_same_user_is_accepted(student):
    session = await db(session_now)(student)
    await refused(student, session.pk, origin=b"https://evil.example")
    good, connected, _ = await connect(student, session.pk)
    assert connected is True
    await good.disconnect()


async def test_session_that_does_not_exist_is_refused(student):
    session = await db(session_now)(student)
    assert await refused(student, session.pk + 1000) == CLOSE_FORBIDDEN


# --- the chat -------------------------------------------------------------------------
async def test_participants_exchange_messages_both_ways(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)

    first = chat("Selamat siang, Bu.")
    await send(alice, first)
    ack = await receive_until(alice, "chat.ack")
    assert ack["client_id"] == first["client_id"] and ack["duplicate"] is False
    received = await receive_until(bob, "chat.message")
    assert received["id"] == ack["id"]
    assert received["client_id"] == first["client_id"]
    assert received["from"] == "student" and received["mine"] is False
    assert received["body"] == first["body"]

    reply = chat("Siang. Ceritakan saja.")
    await send(bob, reply)
    reply_ack = await receive_until(bob, "chat.ack")
    assert reply_ack["id"] == ack["id"] + 1
    received = await receive_until(alice, "chat.message")
    while received["client_id"] != reply["client_id"]:  # alice's own message comes first
        received = await receive_until(alice, "chat.message")
    assert received["id"] == reply_ack["id"]
    assert received["from"] == "counselor" and received["mine"] is False
    assert received["body"] == reply["body"]
    assert await db(stored_count)(session.pk) == 2
    await alice.disconnect()
    await bob.disconnect()


async def test_html_in_a_message_is_delivered_unchanged_and_escaped_on_the_room_page(
    student, counselor
):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    body = '<script>alert("x")</script> <b>tebal</b> & "kutip"'
    await send(alice, chat(body))
    assert (await receive_until(bob, "chat.message"))["body"] == body

    def room_page_as(user) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(f"/sessions/{session.pk}/room/")
        assert response.status_code == 200
        return response.content.decode()

    page = await db(room_page_as)(counselor)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;tebal&lt;/b&gt; &amp; &quot;kutip&quot;" in page
    assert "<script>alert(" not in page and "<b>tebal</b>" not in page
    await alice.disconnect()
    await bob.disconnect()


def _waiting(student):
    return CounselingSessionFactory(student=student)  # confirmed, starts in 2 days


def _completed(student):
    return session_now(student, status="completed")


def _cancelled(student):
    return CounselingSessionFactory(student=student, status="cancelled")


def _past_grace(student):
    # in progress, but 30 minutes after the planned end have gone by
    starts_at = timezone.now() - datetime.timedelta(hours=2)
    return CounselingSessionFactory(
        student=student,
        status="in_progress",
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
    )


def _without_consent(student):
    starts_at = timezone.now() + datetime.timedelta(minutes=5)  # inside the opening window
    return CounselingSessionFactory(
        student=student,
        status="confirmed",
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        consent_given_at=None,
    )


@pytest.mark.parametrize(
    ("make_session", "state", "code"),
    [
        (_waiting, "waiting", "room_not_open"),
        (_completed, "closed", "room_closed"),
        (_cancelled, "closed", "room_closed"),
        (_past_grace, "closed", "room_closed"),
        (_without_consent, "consent_missing", "consent_missing"),
    ],
    ids=["waiting", "completed", "cancelled", "past-grace", "no-consent"],
)
async def test_message_outside_the_open_room_is_refused_and_not_stored(
    student, counselor, make_session, state, code
):
    session = await db(make_session)(student)
    alice, hello = await joined(student, session.pk)
    assert hello["room"]["state"] == state
    frame = chat("Halo?")
    await send(alice, frame)
    error = await receive_until(alice, "error")
    assert error["code"] == code
    assert error["client_id"] == frame["client_id"]
    assert error["ref"] == "chat.send"
    assert error["message"].strip()
    assert await db(stored_count)(session.pk) == 0
    await alice.disconnect()


async def test_resend_with_the_same_client_id_is_stored_once(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    frame = chat("Pesan yang dikirim ulang")
    await send(alice, frame)
    first = await receive_until(alice, "chat.ack")
    await send(alice, frame)
    second = await receive_until(alice, "chat.ack")
    assert first["duplicate"] is False
    assert second["duplicate"] is True and second["id"] == first["id"]
    assert await db(stored_count)(session.pk) == 1

    marker = chat("Pesan berikutnya")
    await send(alice, marker)
    frames = []
    while not frames or frames[-1]["client_id"] != marker["client_id"]:
        frames.append(await receive_until(bob, "chat.message"))
    assert [f["client_id"] for f in frames] == [frame["client_id"], marker["client_id"]]
    await alice.disconnect()
    await bob.disconnect()


async def test_reconnecting_student_syncs_exactly_the_missed_messages_in_order(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    await send(alice, chat("Sebelum terputus"))
    last_seen = (await receive_until(alice, "chat.ack"))["id"]
    await alice.disconnect()

    missed = ["Satu", "Dua", "Tiga"]
    acks = []
    for body in missed:
        await send(bob, chat(body))
        acks.append((await receive_until(bob, "chat.ack"))["id"])

    alice, _ = await joined(student, session.pk)
    await send(alice, {"type": "chat.sync", "after": last_seen})
    history = await receive_until(alice, "chat.history")
    assert history["complete"] is True
    assert [m["body"] for m in history["messages"]] == missed
    assert [m["id"] for m in history["messages"]] == [last_seen + 1, last_seen + 2, last_seen + 3]
    assert [m["id"] for m in history["messages"]] == acks
    assert all(m["from"] == "counselor" and m["mine"] is False for m in history["messages"])
    await alice.disconnect()
    await bob.disconnect()


def _store_messages(session, count: int) -> None:
    senders = [session.student_id, session.counselor_id]
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    ChatMessage.objects.bulk_create(
        ChatMessage(
            session=session,
            seq=seq,
            sender_id=senders[seq % 2],
            client_id=uuid.uuid4(),
            body=f"pesan {seq}",
            created_at=long_ago,
        )
        for seq in range(1, count + 1)
    )


async def test_long_history_comes_in_pages_until_complete(student):
    session = await db(session_now)(student)
    total = 250  # more than one page of 200
    await db(_store_messages)(session, total)
    alice, _ = await joined(student, session.pk)

    await send(alice, {"type": "chat.sync", "after": 0})
    first = await receive_until(alice, "chat.history")
    assert first["complete"] is False
    first_ids = [m["id"] for m in first["messages"]]
    assert first_ids == list(range(1, len(first_ids) + 1))

    await send(alice, {"type": "chat.sync", "after": first_ids[-1]})
    rest = await receive_until(alice, "chat.history")
    assert rest["complete"] is True
    assert [m["id"] for m in rest["messages"]] == list(range(first_ids[-1] + 1, total + 1))
    assert rest["messages"][-1]["body"] == f"pesan {total}"
    await alice.disconnect()


# --- limits ---------------------------------------------------------------------------
async def test_message_of_the_maximum_length_is_accepted_and_one_more_is_refused(
    student, counselor
):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    longest = chat("x" * MESSAGE_CHARS)
    await send(alice, longest)
    ack = await receive_until(alice, "chat.ack")
    assert ack["client_id"] == longest["client_id"]

    too_long = chat("x" * (MESSAGE_CHARS + 1))
    await send(alice, too_long)
    error = await receive_until(alice, "error")
    assert error["code"] == "message_too_long"
    assert error["client_id"] == too_long["client_id"]
    assert error["message"].strip()
    bodies = await db(lambda: list(ChatMessage.objects.values_list("body", flat=True)))()
    assert bodies == ["x" * MESSAGE_CHARS]
    await alice.disconnect()


async def test_whitespace_only_message_is_refused_as_empty(student):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    blank = chat(" \n\t  ")
    await send(alice, blank)
    error = await receive_until(alice, "error")
    assert error["code"] == "empty_message"
    assert error["client_id"] == blank["client_id"]
    assert await db(stored_count)(session.pk) == 0
    await alice.disconnect()


async def test_message_over_the_rate_limit_is_refused_counting_all_sessions(student, counselor):
    session = await db(session_now)(student)
    last_week = await db(CounselingSessionFactory)(
        student=student,
        status="completed",
        starts_at=session.starts_at - datetime.timedelta(days=7),
        ends_at=session.ends_at - datetime.timedelta(days=7),
    )
    now = timezone.now()

    def send_in_last_weeks_session(count: int) -> None:
        ChatMessage.objects.bulk_create(
            ChatMessage(
                session=last_week,
                seq=seq,
                sender=student,
                client_id=uuid.uuid4(),
                body="baru saja",
                created_at=now,
            )
            for seq in range(1, count + 1)
        )

    await db(send_in_last_weeks_session)(MESSAGES_PER_WINDOW - 1)
    alice, bob = await in_room(student, counselor, session)

    last_allowed = chat("Pesan ke-20")
    await send(alice, last_allowed)
    assert (await receive_until(alice, "chat.ack"))["client_id"] == last_allowed["client_id"]
    over = chat("Pesan ke-21")
    await send(alice, over)
    error = await receive_until(alice, "error")
    assert error["code"] == "message_rate_limited"
    assert error["client_id"] == over["client_id"]
    assert error["message"].strip()
    assert await db(stored_count)(session.pk) == 1

    # the limit is the student's: the counselor still writes
    await send(bob, chat("Pelan-pelan saja."))
    assert (await receive_until(bob, "chat.ack"))["duplicate"] is False
    await alice.disconnect()
    await bob.disconnect()


# --- read receipts, typing, presence --------------------------------------------------
async def test_read_receipt_reaches_the_other_side_and_marks_only_their_messages(
    student, counselor
):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    ids = {}
    for who, communicator, body in [
        ("student", alice, "satu"),
        ("student", alice, "dua"),
        ("counselor", bob, "tiga"),
        ("student", alice, "empat"),
    ]:
        await send(communicator, chat(body))
        ids[body] = ((await receive_until(communicator, "chat.ack"))["id"], who)

    up_to = ids["tiga"][0]
    await send(bob, {"type": "chat.read", "up_to": up_to})
    assert (await receive_until(alice, "chat.read"))["up_to"] == up_to

    def read_flags() -> dict[str, bool]:
        return {m.body: m.read_at is not None for m in ChatMessage.objects.all()}

    assert await db(read_flags)() == {"satu": True, "dua": True, "tiga": False, "empat": False}
    # the reader is not told about its own receipt
    marker = chat("penanda")
    await send(bob, marker)
    frames = await frames_until(bob, "chat.ack")
    assert "chat.read" not in [f["type"] for f in frames]
    await alice.disconnect()
    await bob.disconnect()


async def test_typing_is_relayed_to_the_other_side_only(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    await send(alice, {"type": "typing"})
    assert (await receive_until(bob, "typing"))["role"] == "student"
    # alice's own message follows her typing through the room: she sees it, not the typing
    marker = chat("penanda")
    await send(alice, marker)
    frames = await frames_until(alice, "chat.message")
    assert "typing" not in [f["type"] for f in frames]
    await alice.disconnect()
    await bob.disconnect()


async def test_presence_reports_the_counselor_joining_and_leaving(student, counselor):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)
    presence = await receive_until(alice, "presence")
    assert presence == {"type": "presence", "role": "counselor", "online": True}
    await bob.disconnect()
    presence = await receive_until(alice, "presence")
    assert presence == {"type": "presence", "role": "counselor", "online": False}
    await alice.disconnect()


async def test_closing_one_of_two_counselor_tabs_does_not_report_offline(student, counselor):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    tab_one, _ = await joined(counselor, session.pk)
    assert (await receive_until(alice, "presence"))["online"] is True
    tab_two, _ = await joined(counselor, session.pk)
    await tab_one.disconnect()
    # the leave was sent before the disconnect returned; a later frame from tab two
    # arrives after it, so whatever the leave caused is in front of it
    await send(tab_two, {"type": "typing"})
    frames = await frames_until(alice, "typing")
    assert {"type": "presence", "role": "counselor", "online": False} not in frames
    await tab_two.disconnect()
    presence = await receive_until(alice, "presence")
    assert presence["online"] is False
    await alice.disconnect()


# --- signaling ------------------------------------------------------------------------
async def test_signal_reaches_the_other_side_unchanged_and_is_not_echoed(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    offer = {"sdp": "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\n", "type": "offer", "n": [1, 2]}
    await send(bob, {"type": "signal", "kind": "offer", "data": offer})
    # the sender's own chat message follows its signal through the room
    await send(bob, chat("penanda"))
    frames = await frames_until(bob, "chat.message", timeout=1)
    assert "signal" not in [f["type"] for f in frames]
    received = await receive_until(alice, "signal")
    assert received == {"type": "signal", "kind": "offer", "data": offer}
    await alice.disconnect()
    await bob.disconnect()


async def test_signal_in_a_waiting_room_is_refused_and_not_relayed(student, counselor):
    session = await db(CounselingSessionFactory)(student=student)  # starts in 2 days
    alice, bob = await in_room(student, counselor, session)
    await send(bob, {"type": "signal", "kind": "join", "data": {"audio_only": False}})
    error = await receive_until(bob, "error")
    assert error["code"] == "room_not_open" and error["ref"] == "signal"
    assert error["message"].strip()
    assert await alice.receive_nothing(timeout=NOTHING)
    await alice.disconnect()
    await bob.disconnect()


# --- the counselor's controls ---------------------------------------------------------
@pytest.mark.parametrize(
    "frame", [{"type": "session.end"}, {"type": "phase.set", "phase": "guidance"}]
)
async def test_student_cannot_use_the_counselors_controls(student, counselor, frame):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    await send(alice, frame)
    error = await receive_until(alice, "error")
    assert error["code"] == "not_allowed"
    assert error["ref"] == frame["type"]
    assert await db(session_field)(session.pk, "status") == "in_progress"
    assert await db(session_field)(session.pk, "phase") == ""
    assert await bob.receive_nothing(timeout=NOTHING)
    await alice.disconnect()
    await bob.disconnect()


async def test_counselor_ending_the_session_closes_the_room_for_both(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    await send(bob, {"type": "session.end"})
    for communicator in (alice, bob):
        state = await receive_until(communicator, "room.state")
        assert state["state"] == "closed" and state["status"] == "completed"
        assert state["reason"].strip()
    assert await db(session_field)(session.pk, "status") == "completed"
    await send(alice, chat("masih di sini?"))
    assert (await receive_until(alice, "error"))["code"] == "room_closed"
    await alice.disconnect()
    await bob.disconnect()


async def test_counselor_sets_the_phase_of_a_session_in_progress(student, counselor):
    session = await db(session_now)(student)
    alice, bob = await in_room(student, counselor, session)
    await send(bob, {"type": "phase.set", "phase": "exploration"})
    for communicator in (alice, bob):
        state = await receive_until(communicator, "room.state")
        assert state["phase"] == "exploration" and state["state"] == "open"
    assert await db(session_field)(session.pk, "phase") == "exploration"
    await alice.disconnect()
    await bob.disconnect()


async def test_counselor_starts_a_confirmed_session_within_the_window(student, counselor):
    starts_at = timezone.now() + datetime.timedelta(minutes=10)
    session = await db(CounselingSessionFactory)(
        student=student, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=45)
    )
    alice, bob = await in_room(student, counselor, session)
    await send(bob, {"type": "session.start"})
    for communicator in (alice, bob):
        state = await receive_until(communicator, "room.state")
        assert state["status"] == "in_progress" and state["state"] == "open"
    assert await db(session_field)(session.pk, "status") == "in_progress"
    await alice.disconnect()
    await bob.disconnect()


# --- signing out and deactivation close the sockets -----------------------------------
def _signed_in(user) -> Client:
    client = Client()
    # A real sign-in through the page (django-axes needs the request).
    signed_in = client.post(
        reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302
    return client


def _cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def test_signing_out_closes_that_sign_ins_socket_only(student):
    session = await db(session_now)(student)
    phone, laptop = await db(_signed_in)(student), await db(_signed_in)(student)
    assert _cookie(phone) != _cookie(laptop)
    on_phone, _ = await joined(None, session.pk, cookie=_cookie(phone))
    on_laptop, _ = await joined(None, session.pk, cookie=_cookie(laptop))

    await db(phone.logout)()
    assert await on_phone.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_SIGNED_OUT,
    }
    await send(on_laptop, {"type": "ping", "t": 7})
    assert await receive_until(on_laptop, "pong") == {"type": "pong", "t": 7}
    assert await on_laptop.receive_nothing(timeout=NOTHING)
    await on_phone.disconnect()
    await on_laptop.disconnect()


async def test_deactivating_a_user_closes_all_their_sockets(student, counselor):
    session = await db(session_now)(student)
    tab_one, _ = await joined(student, session.pk)
    tab_two, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)

    student.is_active = False
    await db(student.save)()
    for tab in (tab_one, tab_two):
        assert (await receive_close(tab))["code"] == CLOSE_SIGNED_OUT
    # the counselor stays, and sees the student leave
    assert (await receive_until(bob, "presence"))["online"] is True
    await tab_one.disconnect()
    await tab_two.disconnect()
    presence = await receive_until(bob, "presence")
    assert presence["online"] is False
    await send(bob, {"type": "ping", "t": 1})
    assert (await receive_until(bob, "pong"))["t"] == 1
    await bob.disconnect()


async def test_an_event_for_a_client_that_just_left_does_not_kill_its_consumer():
    """Found in CI: the counselor's "here" answer reached the student's consumer after the
    student's browser had closed but before daphne reported the disconnect. daphne raised
    on the send, the consumer died without running disconnect(), and the counselor never
    saw the student leave. Now the send is given up and disconnect() still runs."""
    from types import SimpleNamespace

    from autobahn.exception import Disconnected

    from sessions_app.consumers import RoomConsumer

    consumer = RoomConsumer()
    consumer.user, consumer.role, consumer.peers = SimpleNamespace(pk=1), "student", set()
    consumer.closing = False

    async def closed_protocol(message):
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = closed_protocol
    await consumer.presence_here({"user_id": 2, "channel": "counselor-channel"})
    assert consumer.closing is True
    assert consumer.peers == {"counselor-channel"}
