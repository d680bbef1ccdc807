"""Helpers for the session room's websocket tests: a session happening now, and
WebsocketCommunicators that sign in as a real user through the session cookie."""

import datetime
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from counseling_platform.asgi import application
from tests.factories import CounselingSessionFactory

ORIGIN = b"http://localhost"


def session_now(student, *, status="in_progress", **fields):
    """A session of `student` with their counselor that started 5 minutes ago."""
    starts_at = timezone.now() - datetime.timedelta(minutes=5)
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        status=status,
        **fields,
    )


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(user, session_id: int, *, origin: bytes = ORIGIN, cookie: str | None = None):
    """A communicator for `user` (None: anonymous); returns (communicator, connected, code)."""
    headers = [(b"host", b"localhost"), (b"origin", origin)]
    if user is not None or cookie:
        cookie = cookie or await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{session_id}/room/", headers=headers
    )
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def receive(communicator, *, timeout: float = 5) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(communicator, frame_type: str, *, timeout: float = 5) -> dict:
    """The next frame of `frame_type`, skipping others (presence, typing…)."""
    while True:
        frame = await receive(communicator, timeout=timeout)
        if frame["type"] == frame_type:
            return frame


async def send(communicator, frame: dict) -> None:
    await communicator.send_to(text_data=json.dumps(frame))


async def frames_until(communicator, frame_type: str, *, timeout: float = 5) -> list[dict]:
    """Every frame up to and including the next one of `frame_type`."""
    frames = []
    while True:
        frames.append(await receive(communicator, timeout=timeout))
        if frames[-1]["type"] == frame_type:
            return frames


async def receive_close(communicator, *, timeout: float = 5) -> dict:
    """The socket's close message, skipping the frames sent before it."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output


async def joined(user, session_id: int, *, cookie: str | None = None):
    """An accepted communicator for `user`, with its `hello` frame read."""
    communicator, connected, code = await connect(user, session_id, cookie=cookie)
    assert connected, f"refused with {code}"
    hello = await receive_until(communicator, "hello")
    return communicator, hello


async def refused(user, session_id: int, **kwargs) -> int:
    """Try to connect; assert the handshake is refused, close, and return the close code.

    The channel layer is used once first: channels_redis cancels a consumer's first
    receive only after a stall while its first Redis connection is being made, which a
    consumer refused on a fresh layer always hits (1 s in disconnect(), not an app fault).
    """
    from channels.layers import get_channel_layer

    await get_channel_layer().group_discard("warm-up", "warm-up.channel")
    communicator, connected, code = await connect(user, session_id, **kwargs)
    assert connected is False
    await communicator.disconnect()
    return code
