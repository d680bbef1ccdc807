"""Random and hostile frames at the session room's websocket, through the full ASGI
application (docs/realtime-protocol.md): the server never raises; every frame it sends
is a text a browser can receive; a refused socket is closed with a documented code; a
well-formed chat message is stored once and acknowledged, or refused with its client_id
(never dropped silently); a malformed one stores nothing.

Connections are slow, so few examples: each one opens a socket as the student or the
counselor of a session in progress, sends a few frames, each followed by a ping whose
pong marks the end of the answers to that frame (the consumer handles frames in order).
The consumer writes from its own threads, so the database is really committed
(transaction=True) and each example undoes what the last one did by hand."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions_app.models import ChatMessage, CounselingSession
from tests.sessions_app.room_helpers import connect, session_cookie, session_now

pytestmark = [pytest.mark.django_db(transaction=True)]

# docs/realtime-protocol.md
MAX_FRAME_BYTES = 64 * 1024
MESSAGE_MAX_CHARS = 2000
CLOSE_CODES = {4401, 4403, 4429}
# Why a well-formed message may still be refused: the room, the rate, the sender.
CHAT_REFUSALS = {"message_rate_limited", "room_not_open", "room_closed", "consent_missing"}
CLIENT_TYPES = [
    "chat.send",
    "chat.sync",
    "chat.read",
    "typing",
    "room.state",
    "signal",
    "ping",
    "session.start",
    "session.end",
    "phase.set",
]

# Strings a JSON text can carry but UTF-8 cannot: escaped lone surrogates.
SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\ud83d"])
ANY_TEXT = st.one_of(st.text(max_size=30), SURROGATES, st.just("\x00"))
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        ANY_TEXT,
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
CLIENT_IDS = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),  # no hyphens: still a UUID
    st.uuids().map(lambda u: str(u).upper()),
    JSON_VALUES,
)
BODIES = st.one_of(
    st.text(min_size=1, max_size=50),
    st.sampled_from(["", "   ", "\n\t", "a" * MESSAGE_MAX_CHARS, " " + "b" * MESSAGE_MAX_CHARS]),
    st.sampled_from(["c" * (MESSAGE_MAX_CHARS + 1), "halo \x00", "halo \ud800"]),
    JSON_VALUES,
)


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def shaped_frames(draw) -> dict:
    """A frame of a known type with its fields right, wrong, missing or extra."""
    kind = draw(st.sampled_from(CLIENT_TYPES))
    frame: dict = {"type": kind}
    if kind == "chat.send":
        if draw(st.integers(0, 5)):
            frame["client_id"] = draw(CLIENT_IDS)
        if draw(st.integers(0, 5)):
            frame["body"] = draw(BODIES)
    elif kind in ("chat.sync", "chat.read"):
        field = "after" if kind == "chat.sync" else "up_to"
        frame[field] = draw(st.one_of(st.integers(-5, 50), st.just(2**31), JSON_VALUES))
    elif kind == "signal":
        frame["kind"] = draw(st.sampled_from(["join", "offer", "ice", "media", "hangup"]))
        frame["data"] = draw(
            st.one_of(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3), JSON_VALUES)
        )
    elif kind == "phase.set":
        frame["phase"] = draw(st.sampled_from(["opening", "guidance", "Opening", "closing"]))
    elif kind == "ping":
        frame["t"] = draw(st.one_of(JSON_VALUES, st.sampled_from([nested(200), 2**64])))
    frame.update(draw(st.dictionaries(st.sampled_from(["id", "user", "x"]), JSON_VALUES)))
    return frame


GOOD_CHAT = st.builds(
    lambda client_id, body: {"type": "chat.send", "client_id": client_id, "body": body},
    st.uuids().map(str),
    st.text(min_size=1, max_size=80).filter(str.strip),
)
SPOILT_CHAT = st.builds(
    lambda frame, field, value: {**frame, field: value},
    GOOD_CHAT,
    st.sampled_from(["client_id", "body"]),
    st.one_of(CLIENT_IDS, BODIES),
)


def on_the_wire(frames: st.SearchStrategy[dict]) -> st.SearchStrategy[tuple]:
    return frames.map(lambda frame: (json.dumps(frame), None))


# (text, bytes): what a client puts on the wire, each kind about as often as the others
# (one_of would lean to the simplest).
WIRE_KINDS = [
    on_the_wire(GOOD_CHAT),
    on_the_wire(GOOD_CHAT),
    on_the_wire(SPOILT_CHAT),
    on_the_wire(shaped_frames()),
    on_the_wire(shaped_frames()),
    JSON_VALUES.map(lambda value: (json.dumps(value), None)),
    st.text(max_size=40).map(lambda text: (text, None)),
    st.binary(max_size=40).map(lambda data: (None, data)),
    st.sampled_from(
        [
            (json.dumps({"type": "ping", "t": 1, "pad": "x" * MAX_FRAME_BYTES}), None),
            ("[" * 50_000 + "]" * 50_000, None),
            ('{"type": "ping", "t": NaN}', None),
            (None, b"\x00" * 70_000),
        ]
    ),
]
FRAMES = st.integers(0, len(WIRE_KINDS) - 1).flatmap(lambda n: WIRE_KINDS[n])


def well_formed_chat(text: str | None) -> tuple[str, str] | None:
    """(client id, stored body) when `text` is a chat.send the protocol accepts: a UUID
    client id and a body of 1–2000 characters after trimming that a database can hold."""
    if text is None or len(text.encode()) > MAX_FRAME_BYTES:
        return None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(frame, dict) or frame.get("type") != "chat.send":
        return None
    try:
        client_id = str(uuid.UUID(str(frame.get("client_id"))))
    except ValueError:
        return None
    body = frame.get("body")
    if not isinstance(body, str) or "\x00" in body:
        return None
    try:
        body.encode()
    except UnicodeEncodeError:
        return None
    body = body.strip()
    return (client_id, body) if 1 <= len(body) <= MESSAGE_MAX_CHARS else None


def chat_client_id(text: str | None) -> str | None:
    """The client id a chat.send names, as the server writes it back."""
    try:
        frame = json.loads(text or "")
        return str(uuid.UUID(str(frame["client_id"]))) if frame.get("type") == "chat.send" else None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(has_surrogate(key) or has_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_surrogate(item) for item in value)
    return False


def reset(session_id: int) -> None:
    """The session in progress again, its chat empty (the rate limit counts it)."""
    ChatMessage.objects.filter(session_id=session_id).delete()
    CounselingSession.objects.filter(pk=session_id).update(status="in_progress", phase="")


def stored(session_id: int) -> dict[str, tuple[str, int]]:
    return {
        str(message.client_id): (message.body, message.sender_id)
        for message in ChatMessage.objects.filter(session_id=session_id)
    }


async def next_output(communicator, timeout: float = 10) -> dict:
    """The application's next message, or its exception as soon as it raises one
    (receive_output notices an exception only when its timeout ends)."""
    if communicator.future.done():
        communicator.future.result()
    message = asyncio.ensure_future(communicator.output_queue.get())
    done, _pending = await asyncio.wait(
        {message, communicator.future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if message in done:
        return message.result()
    message.cancel()
    if communicator.future.done():
        communicator.future.result()  # raises what the application raised
    raise TimeoutError(f"no answer in {timeout} s")


async def answers_to(communicator, marker: str) -> tuple[list[dict], dict | None]:
    """Every frame up to the pong that echoes `marker`, and the close if one came."""
    frames = []
    while True:
        output = await next_output(communicator)
        if output["type"] == "websocket.close":
            return frames, output
        text = output["text"]
        text.encode()  # a browser receives only UTF-8 text frames (daphne encodes them)
        frame = json.loads(text)
        if frame == {"type": "pong", "t": marker}:
            return frames, None
        frames.append(frame)


async def exchange(user, cookie: str, session_id: int, frames: list) -> None:
    await database_sync_to_async(reset)(session_id)
    communicator, connected, code = await connect(user, session_id, cookie=cookie)
    assert connected, code
    try:
        greeting, close = await answers_to_hello(communicator)
        assert greeting[0]["type"] == "hello" and close is None
        acked: set[str] = set()
        for number, (text, data) in enumerate(frames, 1):
            before = await database_sync_to_async(stored)(session_id)
            # As the server receives it (send_to refuses an empty text, a client may not).
            message = {"text": text} if text is not None else {"bytes": data}
            await communicator.send_input({"type": "websocket.receive", **message})
            marker = f"end of answers to frame {number}"
            await communicator.send_to(text_data=json.dumps({"type": "ping", "t": marker}))
            answers, close = await answers_to(communicator, marker)
            after = await database_sync_to_async(stored)(session_id)
            check_chat(text, answers, before, after, acked, user.pk)
            if close is not None:
                assert close.get("code") in CLOSE_CODES, close
                return
    finally:
        await communicator.disconnect()
        layer = get_channel_layer()
        if hasattr(layer, "flush"):
            await layer.flush()


async def answers_to_hello(communicator):
    await communicator.send_to(text_data=json.dumps({"type": "ping", "t": "hello"}))
    return await answers_to(communicator, "hello")


def parsed(text: str | None) -> dict | None:
    """The frame as the protocol reads it, or None when it is refused whatever it says
    (binary, too large, not JSON, not an object)."""
    if text is None or len(text.encode()) > MAX_FRAME_BYTES:
        return None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return frame if isinstance(frame, dict) else None


def check_chat(text, answers, before, after, acked, sender_id) -> None:
    errors = [frame for frame in answers if frame.get("type") == "error"]
    acks = [frame for frame in answers if frame.get("type") == "chat.ack"]
    assert all(error.get("code") and error.get("message") for error in errors), errors
    chat = well_formed_chat(text)
    if chat is None:  # nothing stored, and a refusal when it was no frame or a bad message
        assert after == before, "a frame that is no good chat.send stored a message"
        assert not acks
        frame = parsed(text)
        if frame is None or frame.get("type") == "chat.send":
            assert errors, ("refused without an error frame", text, answers)
        client_id = chat_client_id(text)
        if client_id is not None:
            assert any(error.get("client_id") == client_id for error in errors), answers
        return
    client_id, body = chat
    mine = [frame for frame in acks if frame["client_id"] == client_id]
    refused = [frame for frame in errors if frame.get("client_id") == client_id]
    assert len(mine) + len(refused) == 1, ("answered once, never dropped", text, answers)
    if mine:
        assert after.get(client_id) == (body, sender_id), "acknowledged, so stored as sent"
        assert mine[0]["duplicate"] == (client_id in acked)
        assert len(after) == len(before) + (0 if client_id in acked else 1)
        acked.add(client_id)
    else:
        assert refused[0]["code"] in CHAT_REFUSALS, refused
        assert after == before


@pytest.mark.parametrize("who", ["student", "counselor"])
def test_room_frames(student, counselor, who):
    user = student if who == "student" else counselor
    session = session_now(student)
    cookie = session_cookie(user)

    @settings(max_examples=20)
    @given(st.lists(FRAMES, min_size=1, max_size=5))
    def example(frames):
        channel_layers.backends.clear()  # a layer belongs to the event loop that used it
        try:
            async_to_sync(exchange)(user, cookie, session.pk, frames)
        finally:
            channel_layers.backends.clear()

    example()


async def answers_from(sender, receiver, session_id: int, frame: dict) -> list[dict]:
    """Connect both participants, send `frame` as `sender`, and return what the
    `receiver` (maybe the sender) got up to its next pong; each text is checked as UTF-8."""
    sockets = {}
    for user in {sender, receiver}:
        cookie = await database_sync_to_async(session_cookie)(user)
        sockets[user], connected, _code = await connect(user, session_id, cookie=cookie)
        assert connected
        await answers_to_hello(sockets[user])
    try:
        await sockets[sender].send_to(text_data=json.dumps(frame))
        await sockets[sender].send_to(text_data=json.dumps({"type": "ping", "t": "sent"}))
        answers, _close = await answers_to(sockets[sender], "sent")
        if receiver is not sender:
            await sockets[receiver].send_to(text_data=json.dumps({"type": "ping", "t": "r"}))
            answers, _close = await answers_to(sockets[receiver], "r")
        return answers
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [{"type": "ping", "t": "\ud800"}, {"type": "\ud800"}],
    ids=["pong echoes it", "unknown type echoes it"],
)
def test_a_lone_surrogate_is_not_echoed(student, frame):
    session = session_now(student)
    async_to_sync(answers_from)(student, student, session.pk, frame)


def test_a_lone_surrogate_in_signal_data_is_not_relayed(student, counselor):
    session = session_now(student)
    frame = {"type": "signal", "kind": "media", "data": {"note": "\ud800"}}
    async_to_sync(answers_from)(student, counselor, session.pk, frame)
