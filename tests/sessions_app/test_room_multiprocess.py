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


ROOMS = 12
MESSAGES_EACH = 15  # per person: under the default limit of 20 in 30 s


def rooms_of_pairs(school, count: int) -> list:
    """`count` sessions in progress, each with its own student and counselor."""
    from tests.factories import CounselorFactory, StudentFactory

    sessions = []
    for number in range(count):
        counselor = CounselorFactory(school=school, username=f"konselor{number:02d}")
        student = StudentFactory(school=school, username=f"siswa{number:02d}")
        student.student_profile.counselor = counselor
        student.student_profile.save()
        sessions.append(session_now(student, counselor=counselor))
    return sessions


async def test_many_rooms_at_once_lose_and_double_nothing(two_servers, school):
    """Correctness under load (bench/chat_load.py measures the speed): 12 rooms on two
    servers, both people of each room sending at once without waiting, every message
    acknowledged once, delivered once to the other side, and stored numbered 1..n."""
    from sessions_app.models import ChatMessage

    sessions = await database_sync_to_async(rooms_of_pairs)(school, ROOMS)
    sockets = []
    for number, session in enumerate(sessions):
        student_socket = await open_room(two_servers[number % 2], session.student, session.pk)
        counselor_socket = await open_room(
            two_servers[(number + 1) % 2], session.counselor, session.pk
        )
        sockets.append((session, student_socket, counselor_socket))
    try:
        for _, student_socket, counselor_socket in sockets:
            await next_frame(student_socket, "presence", role="counselor", online=True)
            await next_frame(counselor_socket, "presence", role="student", online=True)
        sent = {}
        for session, *pair in sockets:
            for socket in pair:
                for number in range(MESSAGES_EACH):
                    client_id = str(uuid.uuid4())
                    sent[client_id] = session.pk
                    await send(
                        socket,
                        {"type": "chat.send", "client_id": client_id, "body": f"pesan {number}"},
                    )

        async def collect(socket) -> tuple[list, list]:
            acks, delivered = [], []
            while len(acks) < MESSAGES_EACH or len(delivered) < MESSAGES_EACH:
                frame = json.loads(await asyncio.wait_for(socket.recv(), FRAME_SECONDS))
                assert frame["type"] != "error", frame
                if frame["type"] == "chat.ack":
                    acks.append(frame)
                elif frame["type"] == "chat.message" and not frame["mine"]:
                    delivered.append(frame)
            return acks, delivered

        results = await asyncio.gather(
            *(collect(socket) for _, *pair in sockets for socket in pair)
        )
        acked = [ack for acks, _ in results for ack in acks]
        arrived = [frame for _, delivered in results for frame in delivered]
        assert sorted(ack["client_id"] for ack in acked) == sorted(sent)
        assert not any(ack["duplicate"] for ack in acked)
        assert sorted(frame["client_id"] for frame in arrived) == sorted(sent)

        stored = await database_sync_to_async(
            lambda: list(
                ChatMessage.objects.filter(session__in=[s for s, *_ in sockets]).values_list(
                    "session_id", "seq", "client_id"
                )
            )
        )()
        assert sorted(str(client_id) for *_, client_id in stored) == sorted(sent)
        for session, *_ in sockets:
            numbers = sorted(seq for session_id, seq, _ in stored if session_id == session.pk)
            assert numbers == list(range(1, 2 * MESSAGES_EACH + 1))
    finally:
        for _, *pair in sockets:
            for socket in pair:
                await socket.close()
