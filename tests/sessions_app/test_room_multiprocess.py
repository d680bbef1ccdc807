"""The session room across two daphne processes that share the Redis channel layer.

Production runs several server processes; the student and the counselor may land on
different ones. Two real daphne processes serve the app against the test database; the
student talks to server A and the counselor to server B through plain websocket clients
that sign in with real session cookies, so everything between them crosses Redis.
"""

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings

from tests.servers import servers_start, servers_stop
from tests.sessions_app.room_helpers import session_cookie, session_now

pytestmark = [
    pytest.mark.requires_redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]

FRAME_SECONDS = 10
# channels-redis polls a process's channel with a 5-second BZPOPMIN; a quiet room must
# outlive a few of those polls.
QUIET_SECONDS = 7


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker) -> Iterator[tuple[int, int]]:
    """The ports of two daphne processes serving the app against the test database."""
    if not settings.REDIS_URL:
        raise RuntimeError("two processes share a room only through the Redis channel layer")
    processes = servers_start(django_db_blocker, 2)
    yield processes[0].port.value, processes[1].port.value
    servers_stop(processes, django_db_blocker)


async def open_room(port: int, user, session_id: int):
    """A websocket to the room on the server at `port`, signed in as `user`."""
    cookie = await database_sync_to_async(session_cookie)(user)
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/sessions/{session_id}/room/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        open_timeout=FRAME_SECONDS,
    )


async def next_frame(socket, frame_type: str, **expected) -> dict:
    """The next frame of `frame_type` whose fields include `expected`, skipping others."""

    async def wait() -> dict:
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == frame_type and expected.items() <= frame.items():
                return frame

    return await asyncio.wait_for(wait(), FRAME_SECONDS)


async def send(socket, frame: dict) -> None:
    await socket.send(json.dumps(frame))


async def joined_pair(ports: tuple[int, int], student, counselor):
    """The student on server A and the counselor on server B in an open room, each seeing
    the other online."""
    session = await database_sync_to_async(session_now)(student)
    alice = await open_room(ports[0], student, session.pk)
    bob = await open_room(ports[1], counselor, session.pk)
    assert (await next_frame(alice, "hello"))["role"] == "student"
    assert (await next_frame(bob, "hello"))["role"] == "counselor"
    await next_frame(alice, "presence", role="counselor", online=True)
    await next_frame(bob, "presence", role="student", online=True)
    return alice, bob


async def test_participants_on_two_servers_chat_both_ways(two_servers, student, counselor):
    alice, bob = await joined_pair(two_servers, student, counselor)
    try:
        question = {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": "Bu, boleh?"}
        await send(alice, question)
        ack = await next_frame(alice, "chat.ack", client_id=question["client_id"])
        assert ack["duplicate"] is False
        received = await next_frame(bob, "chat.message", client_id=question["client_id"])
        assert received["body"] == "Bu, boleh?"
        assert (received["from"], received["mine"], received["id"]) == ("student", False, ack["id"])

        answer = {"type": "chat.send", "client_id": str(uuid.uuid4()), "body": "Tentu, Nak."}
        await send(bob, answer)
        ack = await next_frame(bob, "chat.ack", client_id=answer["client_id"])
        received = await next_frame(alice, "chat.message", client_id=answer["client_id"])
        assert received["body"] == "Tentu, Nak."
        assert (received["from"], received["mine"], received["id"]) == (
            "counselor",
            False,
            ack["id"],
        )
    finally:
        await alice.close()
        await bob.close()


async def test_signaling_frames_are_relayed_between_servers(two_servers, student, counselor):
    alice, bob = await joined_pair(two_servers, student, counselor)
    try:
        await send(alice, {"type": "signal", "kind": "join", "data": {"audio_only": False}})
        join = await next_frame(bob, "signal", kind="join")
        assert join["data"] == {"audio_only": False}
        offer = {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "type": "offer"}
        await send(bob, {"type": "signal", "kind": "offer", "data": offer})
        assert (await next_frame(alice, "signal", kind="offer"))["data"] == offer
        reply = {"sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n", "type": "answer"}
        await send(alice, {"type": "signal", "kind": "answer", "data": reply})
        assert (await next_frame(bob, "signal", kind="answer"))["data"] == reply
        candidate = {"candidate": {"candidate": "candidate:1 1 udp 1 10.0.0.2 9 typ host"}}
        await send(bob, {"type": "signal", "kind": "ice", "data": candidate})
        assert (await next_frame(alice, "signal", kind="ice"))["data"] == candidate
        await send(alice, {"type": "signal", "kind": "ice", "data": candidate})
        assert (await next_frame(bob, "signal", kind="ice"))["data"] == candidate
    finally:
        await alice.close()
        await bob.close()


async def test_counselor_ending_the_session_closes_the_room_on_both_servers(
    two_servers, student, counselor
):
    alice, bob = await joined_pair(two_servers, student, counselor)
    try:
        await send(bob, {"type": "session.end"})
        assert (await next_frame(bob, "room.state", state="closed"))["status"] == "completed"
        assert (await next_frame(alice, "room.state", state="closed"))["status"] == "completed"
    finally:
        await alice.close()
        await bob.close()


async def test_student_leaving_server_a_is_seen_offline_on_server_b(
    two_servers, student, counselor
):
    port_a, port_b = two_servers
    session = await database_sync_to_async(session_now)(student)
    bob = await open_room(port_b, counselor, session.pk)
    try:
        hello = await next_frame(bob, "hello")
        assert hello["peer_online"] is False
        alice = await open_room(port_a, student, session.pk)
        await next_frame(bob, "presence", role="student", online=True)
        await alice.close()
        await next_frame(bob, "presence", role="student", online=False)
    finally:
        await bob.close()


async def test_a_quiet_room_stays_connected(two_servers, student):
    port_a, _ = two_servers
    session = await database_sync_to_async(session_now)(student)
    alice = await open_room(port_a, student, session.pk)
    try:
        await next_frame(alice, "hello")
        # Nobody says anything for a while: no frame, and above all no close.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(alice.recv(), QUIET_SECONDS)
        await send(alice, {"type": "ping", "t": 7})
        assert (await next_frame(alice, "pong"))["t"] == 7
    finally:
        await alice.close()
