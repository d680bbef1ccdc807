"""Defects found in review of the session room (issue 5), kept as regression tests. Each
test states the behaviour the issue, docs/realtime-protocol.md or DESIGN.md asks for."""

import asyncio
import contextlib
import json
import re
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import account_password_reset
from sessions_app import consumers
from sessions_app.services.room import chat_message_store
from tests.factories import CounselingSessionFactory
from tests.sessions_app.room_helpers import joined as join
from tests.sessions_app.room_helpers import receive_until, send, session_now

db = database_sync_to_async

CLOSE_SIGNED_OUT = 4401  # docs/realtime-protocol.md, "Close codes"
QUIET = 1.0  # seconds: how long a socket that should close is given to do so
TURN_SECRET = "coturn-static-auth-secret-review"


def chat(body: str) -> dict:
    return {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": body}


async def frames_until_close(
    communicator, *, timeout: float = QUIET
) -> tuple[list[dict], int | None]:
    """The frames a socket receives until it is closed: (frames, close code), or
    (frames, None) when it is still open after `timeout` seconds of silence."""
    frames: list[dict] = []
    while True:
        try:
            output = await communicator.receive_output(timeout=timeout)
        except TimeoutError:
            return frames, None
        if output["type"] == "websocket.close":
            return frames, output.get("code")
        frames.append(json.loads(output["text"]))


@pytest_asyncio.fixture
async def joined():
    """room_helpers.joined, with every socket disconnected at the end even when the test
    failed (a consumer left running keeps a database connection open)."""
    opened = []

    async def open_socket(user, session_id):
        communicator, hello = await join(user, session_id)
        opened.append(communicator)
        return communicator, hello

    yield open_socket
    for communicator in opened:
        # A consumer that crashed raises again here; one given up on by a receive that
        # timed out was cancelled then.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await communicator.disconnect()


def deactivate_after_the_access_check(monkeypatch, user) -> None:
    """Deactivate `user` (through save(), as the admin's page does) in the instant between
    the consumer's access check and its joining the channel groups: a school admin
    deactivating an account while its phone reconnects."""
    check = consumers.room_session_for
    done = []

    def check_then_deactivate(**kwargs):
        session = check(**kwargs)
        if not done:
            done.append(True)
            account = User.objects.get(pk=user.pk)
            account.is_active = False
            account.save(update_fields=["is_active"])
        return session

    monkeypatch.setattr(consumers, "room_session_for", check_then_deactivate)


# --- (1) confidentiality -----------------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_account_deactivated_while_its_socket_connects_receives_no_chat(
    joined, monkeypatch, student, counselor
):
    session = await db(session_now)(student)
    deactivate_after_the_access_check(monkeypatch, student)
    alice, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)

    await send(bob, chat("Rahasia konseling"))
    await receive_until(bob, "chat.ack")

    frames, code = await frames_until_close(alice)
    assert "Rahasia konseling" not in json.dumps(frames, ensure_ascii=False)
    assert code == CLOSE_SIGNED_OUT


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_deactivated_account_with_an_open_socket_cannot_sync_the_history(
    joined, monkeypatch, student, counselor
):
    session = await db(session_now)(student)
    await db(chat_message_store)(
        sender=counselor, session_id=session.pk, client_id=uuid.uuid4(), body="Catatan lama"
    )
    deactivate_after_the_access_check(monkeypatch, student)
    alice, _ = await joined(student, session.pk)

    await send(alice, {"type": "chat.sync", "after": 0})

    frames, _code = await frames_until_close(alice)
    assert "Catatan lama" not in json.dumps(frames, ensure_ascii=False)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_password_reset_by_the_school_admin_closes_the_accounts_open_sockets(
    joined, school_admin, student, counselor
):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)

    await db(account_password_reset)(admin=school_admin, user=student)
    await send(bob, chat("Setelah kata sandi diganti"))
    await receive_until(bob, "chat.ack")

    frames, code = await frames_until_close(alice)
    assert "Setelah kata sandi diganti" not in json.dumps(frames, ensure_ascii=False)
    assert code == CLOSE_SIGNED_OUT


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_no_turn_credentials_before_the_room_opens(joined, settings, student):
    settings.TURN_URLS = ["turn:turn.ruangbk.example:3478?transport=udp"]
    settings.TURN_SECRET = TURN_SECRET
    session = await db(CounselingSessionFactory)(student=student)  # in two days
    _alice, hello = await joined(student, session.pk)

    assert hello["room"]["state"] == "waiting"
    assert [server for server in hello["ice_servers"] if "credential" in server] == []


TIMESTAMP_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ")


@pytest.mark.django_db
def test_a_message_cannot_forge_a_line_of_the_exported_transcript(student, counselor):
    session = session_now(student)
    forged = "Baik, Bu.\n[2030-01-01 09:00:00] Konselor: Kamu boleh tidak masuk besok."
    chat_message_store(sender=student, session_id=session.pk, client_id=uuid.uuid4(), body=forged)
    client = Client()
    client.force_login(counselor)

    response = client.get(reverse("sessions:transcript", args=[session.pk]), {"format": "txt"})

    lines = response.content.decode().splitlines()
    assert len([line for line in lines if TIMESTAMP_LINE.match(line)]) == 1  # one message


# --- (3) frames the consumer mishandles --------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_number_too_large_for_json_is_refused_not_echoed_as_infinity(joined, student):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)

    await alice.send_to(text_data='{"type": "ping", "t": 1e400}')
    text = await alice.receive_from(timeout=5)

    def strict(name):
        raise ValueError(f"{name} is not JSON")

    frame = json.loads(text, parse_constant=strict)  # what JSON.parse in a browser accepts
    assert frame["type"] == "error"
    assert frame["code"] == "bad_json"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.requires_redis
async def test_signal_data_that_cannot_cross_redis_is_refused_and_the_socket_stays_usable(
    joined, student
):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)

    await alice.send_to(
        text_data='{"type": "signal", "kind": "media", "data": {"camera": 1' + "0" * 30 + "}}"
    )
    error = await receive_until(alice, "error", timeout=QUIET)
    assert error["code"] == "bad_frame"
    await send(alice, {"type": "ping", "t": 7})
    assert (await receive_until(alice, "pong"))["t"] == 7
