"""What a misbehaving or hostile client can send to the session room's websocket, and
what the server does: refuse the frame with an error code (docs/realtime-protocol.md,
"Errors and limits"), keep the socket usable, never store anything, and close a flood.
"""

import json
import types
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async

from sessions_app.consumers import RoomConsumer
from sessions_app.models import ChatMessage, CounselingSession
from tests.sessions_app.room_helpers import (
    joined,
    receive,
    receive_close,
    receive_until,
    send,
    session_now,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

db = database_sync_to_async

# docs/realtime-protocol.md
MAX_FRAME_BYTES = 64 * 1024
FRAME_BURST = 60
REFUSED_IN_A_ROW_TO_CLOSE = 200
CLOSE_FLOOD = 4429


async def still_usable(communicator, t: int = 42) -> None:
    """The socket answers a ping: nothing broke."""
    await send(communicator, {"type": "ping", "t": t})
    assert await receive_until(communicator, "pong") == {"type": "pong", "t": t}


async def refusal(communicator, *, text: str | None = None, frame: dict | None = None, **kw):
    """Send a frame and return the next error frame."""
    if frame is not None:
        text = json.dumps(frame)
    await communicator.send_to(text_data=text)
    return await receive_until(communicator, "error", **kw)


def stored_count() -> int:
    return ChatMessage.objects.count()


@pytest_asyncio.fixture
async def alice(student):
    """The student in their session's open room."""
    session = await db(session_now)(student)
    communicator, _ = await joined(student, session.pk)
    communicator.session = session
    yield communicator
    await communicator.disconnect()


# --- malformed frames ---------------------------------------------------------------
# Each case is sent on the same socket, which must answer the next one: a refused frame
# changes nothing.


async def test_text_that_is_not_json_is_refused_and_the_socket_stays_usable(alice):
    for text in ['{"type": "ping",', "ping", " ", "{'type': 'ping'}"]:
        error = await refusal(alice, text=text)
        assert error["code"] == "bad_json", text
        assert error["message"].strip()
        await still_usable(alice)


async def test_json_that_is_not_an_object_is_refused_as_bad_json(alice):
    for text in ['[{"type": "ping"}]', "[]", "null", '"ping"', "7"]:
        assert (await refusal(alice, text=text))["code"] == "bad_json", text
        await still_usable(alice)


async def test_unknown_frame_type_is_refused(alice):
    for frame, ref in [
        ({"type": "chat.delete", "id": 1}, "chat.delete"),
        ({"body": "x"}, "None"),
        ({"type": 5}, "5"),
    ]:
        error = await refusal(alice, frame=frame)
        assert (error["code"], error["ref"]) == ("unknown_type", ref), frame
        await still_usable(alice)


async def test_deeply_nested_json_is_refused_and_the_socket_stays_usable(student):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    text = "[" * 30_000 + "]" * 30_000  # 60 000 bytes, under the frame limit
    assert len(text.encode()) < MAX_FRAME_BYTES
    error = await refusal(alice, text=text, timeout=1)
    assert error["code"] == "bad_json"
    await still_usable(alice)
    await alice.disconnect()


# --- chat.send, chat.sync, chat.read, phase.set, signal with wrong fields -----------
async def test_chat_send_without_a_uuid_client_id_is_refused_and_not_stored(alice):
    for frame in [
        {"type": "chat.send", "body": "halo"},
        {"type": "chat.send", "client_id": "pesan-1", "body": "halo"},
        {"type": "chat.send", "client_id": 12345, "body": "halo"},
        {"type": "chat.send", "client_id": None, "body": "halo"},
    ]:
        error = await refusal(alice, frame=frame)
        assert (error["code"], error["ref"]) == ("bad_frame", "chat.send"), frame
        assert error["message"].strip()
        await still_usable(alice)
    assert await db(stored_count)() == 0


async def test_chat_send_without_a_string_body_is_refused_with_its_client_id(alice):
    for body in [123, ["halo"], {"text": "halo"}, None, "missing"]:
        frame = {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": body}
        if body == "missing":
            del frame["body"]
        error = await refusal(alice, frame=frame)
        assert (error["code"], error["ref"]) == ("bad_frame", "chat.send"), body
        assert error["client_id"] == frame["client_id"]
        await still_usable(alice)
    assert await db(stored_count)() == 0


@pytest.mark.parametrize("body", ["halo \ud800 bu", "halo \x00 bu"], ids=["surrogate", "nul"])
async def test_chat_send_with_characters_a_database_cannot_hold_is_refused(student, body):
    session = await db(session_now)(student)
    alice, _ = await joined(student, session.pk)
    frame = {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": body}
    error = await refusal(alice, frame=frame, timeout=1)
    assert error["code"] == "bad_frame"
    assert error["client_id"] == frame["client_id"]
    assert await db(stored_count)() == 0
    await still_usable(alice)
    await alice.disconnect()


async def test_chat_sync_and_chat_read_with_a_wrong_id_are_refused(alice):
    for kind, field in [("chat.sync", "after"), ("chat.read", "up_to")]:
        for value in [-1, "x", "3", True, False, 1.5, None, 2**31, [1]]:
            error = await refusal(alice, frame={"type": kind, field: value})
            assert (error["code"], error["ref"]) == ("bad_frame", kind), (kind, value)
            await still_usable(alice)
        error = await refusal(alice, frame={"type": kind})
        assert (error["code"], error["ref"]) == ("bad_frame", kind), kind


async def test_phase_set_with_an_unknown_phase_is_refused(student, counselor):
    session = await db(session_now)(student)
    bob, _ = await joined(counselor, session.pk)
    for frame in [
        {"type": "phase.set", "phase": "closing"},
        {"type": "phase.set", "phase": "Opening"},
        {"type": "phase.set", "phase": ["opening"]},
        {"type": "phase.set"},
    ]:
        error = await refusal(bob, frame=frame)
        assert (error["code"], error["ref"]) == ("bad_frame", "phase.set"), frame
        await still_usable(bob)
    phase = await db(lambda: CounselingSession.objects.get(pk=session.pk).phase)()
    assert phase == ""
    await bob.disconnect()


async def test_signal_with_a_wrong_field_is_refused(alice):
    for frame in [
        {"type": "signal", "kind": "hangup", "data": {}},
        {"type": "signal", "data": {}},
        {"type": "signal", "kind": "offer", "data": "v=0"},
        {"type": "signal", "kind": "ice", "data": [1]},
    ]:
        error = await refusal(alice, frame=frame)
        assert (error["code"], error["ref"]) == ("bad_frame", "signal"), frame
        await still_usable(alice)


# --- size and kind of frame ---------------------------------------------------------
def ping_of_size(size: int) -> str:
    """A ping frame of exactly `size` bytes (UTF-8), padded by an ignored field."""
    empty = json.dumps({"type": "ping", "t": 1, "pad": ""})
    text = json.dumps({"type": "ping", "t": 1, "pad": "x" * (size - len(empty))})
    assert len(text.encode()) == size
    return text


async def test_frame_of_exactly_64_kib_is_accepted(alice):
    await alice.send_to(text_data=ping_of_size(MAX_FRAME_BYTES))
    assert await receive_until(alice, "pong") == {"type": "pong", "t": 1}


async def test_frame_larger_than_64_kib_is_refused_and_the_socket_stays_usable(alice):
    error = await refusal(alice, text=ping_of_size(MAX_FRAME_BYTES + 1))
    assert error["code"] == "frame_too_large"
    assert error["message"].strip()
    await still_usable(alice)


async def test_frame_size_counts_bytes_not_characters(alice):
    body = "ä" * 40_000  # 40 000 characters, 80 000 bytes in UTF-8
    text = json.dumps(
        {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": body}, ensure_ascii=False
    )
    assert len(text) < MAX_FRAME_BYTES < len(text.encode())
    assert (await refusal(alice, text=text))["code"] == "frame_too_large"
    assert await db(stored_count)() == 0
    await still_usable(alice)


async def test_binary_frame_is_refused_and_the_socket_stays_usable(alice):
    await alice.send_to(bytes_data=json.dumps({"type": "ping", "t": 1}).encode())
    error = await receive_until(alice, "error")
    assert error["code"] == "binary_not_supported"
    await still_usable(alice)


# --- floods -------------------------------------------------------------------------
async def _both_in_room(student, counselor):
    session = await db(session_now)(student)
    flooder, _ = await joined(student, session.pk)
    bob, _ = await joined(counselor, session.pk)
    assert (await receive_until(bob, "presence"))["online"] is True
    return session, flooder, bob


async def _other_side_still_works(student, bob, session) -> None:
    await still_usable(bob, t=7)
    fresh, _ = await joined(student, session.pk)
    client_id = str(uuid.uuid4())
    await send(fresh, {"type": "chat.send", "client_id": client_id, "body": "Maaf, tadi macet."})
    received = await receive_until(bob, "chat.message")
    assert received["client_id"] == client_id and received["from"] == "student"
    await fresh.disconnect()


async def test_flood_is_refused_without_harming_the_other_participant(student, counselor):
    session, flooder, bob = await _both_in_room(student, counselor)
    for t in range(300):
        await send(flooder, {"type": "ping", "t": t})
    pongs = []
    while (frame := await receive(flooder))["type"] != "error":
        if frame["type"] == "pong":
            pongs.append(frame["t"])
    assert frame["code"] == "too_many_frames"
    assert frame["message"].strip()
    # at least the burst was answered, in order, and not everything
    assert len(pongs) >= FRAME_BURST
    assert pongs == list(range(len(pongs)))
    await _other_side_still_works(student, bob, session)
    await flooder.disconnect()  # raises if the consumer had crashed
    await bob.disconnect()


async def test_flood_of_refused_frames_in_a_row_closes_the_socket(student, counselor, monkeypatch):
    # The consumer's clock stands still, so the bucket never refills: the burst is
    # answered, then every frame is refused until the socket is closed.
    monkeypatch.setattr(
        "sessions_app.consumers.time", types.SimpleNamespace(monotonic=lambda: 1000.0)
    )
    session, flooder, bob = await _both_in_room(student, counselor)
    for t in range(FRAME_BURST + REFUSED_IN_A_ROW_TO_CLOSE + 40):
        await send(flooder, {"type": "ping", "t": t})
    frames = []
    while (output := await flooder.receive_output(timeout=5))["type"] != "websocket.close":
        frame = json.loads(output["text"])
        if frame["type"] != "presence":
            frames.append(frame)
    assert output["code"] == CLOSE_FLOOD
    assert frames[:-1] == [{"type": "pong", "t": t} for t in range(FRAME_BURST)]
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "too_many_frames"
    await _other_side_still_works(student, bob, session)
    await flooder.disconnect()
    await bob.disconnect()


async def test_flooding_socket_is_closed_once_the_refusals_reach_the_limit(
    student, counselor, monkeypatch
):
    """One refused frame fewer than the limit leaves the socket open."""
    monkeypatch.setattr(
        "sessions_app.consumers.time", types.SimpleNamespace(monotonic=lambda: 1000.0)
    )
    _, flooder, bob = await _both_in_room(student, counselor)
    for t in range(FRAME_BURST + REFUSED_IN_A_ROW_TO_CLOSE - 1):
        await send(flooder, {"type": "ping", "t": t})
    assert (await receive_until(flooder, "error"))["code"] == "too_many_frames"
    assert await flooder.receive_nothing(timeout=0.3)
    await send(flooder, {"type": "ping", "t": -1})
    assert (await receive_close(flooder))["code"] == CLOSE_FLOOD
    await flooder.disconnect()
    await bob.disconnect()


async def test_a_sustained_flood_slower_than_a_burst_is_closed_too(student, counselor, monkeypatch):
    """100 frames a second (the consumer's clock moves 10 ms per frame): the bucket lets
    one in five through after the burst, and the refusals within the window close the
    socket even though frames keep getting through."""
    clock = [1000.0]
    monkeypatch.setattr(
        "sessions_app.consumers.time", types.SimpleNamespace(monotonic=lambda: clock[0])
    )
    handle = RoomConsumer.receive

    async def receive_at_100_per_second(self, text_data=None, bytes_data=None):
        clock[0] += 0.01
        return await handle(self, text_data, bytes_data)

    monkeypatch.setattr(RoomConsumer, "receive", receive_at_100_per_second)
    _, flooder, bob = await _both_in_room(student, counselor)
    for t in range(FRAME_BURST + 2 * REFUSED_IN_A_ROW_TO_CLOSE):
        await send(flooder, {"type": "ping", "t": t})
    pongs = []
    while (output := await flooder.receive_output(timeout=5))["type"] != "websocket.close":
        frame = json.loads(output["text"])
        if frame["type"] == "pong":
            pongs.append(frame["t"])
    assert output["code"] == CLOSE_FLOOD
    assert len(pongs) > FRAME_BURST  # frames after the burst passed, and it still closed
    await flooder.disconnect()
    await bob.disconnect()


async def test_json_constants_that_are_not_json_are_refused(alice):
    await alice.send_to(text_data='{"type": "ping", "t": Infinity}')
    assert (await receive_until(alice, "error"))["code"] == "bad_json"
    await still_usable(alice)
