"""The session room's websocket (docs/realtime-protocol.md): chat, presence, typing,
the counselor's controls and WebRTC signaling, for the session's two participants only.

Authorization happens at connect and again in every write (the services re-check the
participant, the account and the room under a lock). Messages are stored before they
are acknowledged or broadcast.
"""

import asyncio
import functools
import json
import random
import time

from auditlog.context import set_actor
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async as channels_database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone, translation

from accounts.sign_ins import sign_in_is_current, sign_in_keep_alive
from audit.services import ReadKind, record_reads
from counseling_platform.addresses import client_address
from counseling_platform.errors import DomainError
from sessions_app import services
from sessions_app.ice import ice_servers_for, turn_configured
from sessions_app.protocol import (
    COUNSELOR_TYPES,
    PROTOCOL_VERSION,
    ProtocolError,
    message_frame,
    parse_frame,
    role_of,
    room_frame,
)
from sessions_app.realtime import login_group, room_group, user_group
from sessions_app.selectors import (
    chat_messages_after,
    room_access_valid,
    room_session_for,
    room_session_state,
)
from sessions_app.services import room as room_services
from sessions_app.services.room import MESSAGE_MAX_CHARS, RATE_WINDOW


def database_sync_to_async(function):
    """The sockets' database work runs in the thread pool (ASGI_THREADS threads), not one
    call at a time in asgiref's single thread-sensitive thread that every socket of the
    process would queue for (bench/README.md). Each call is a self-contained service or
    selector call with its own transaction, and gives its connection back to the pool
    as it returns, inside the call itself (with Channels' clean-up alone, the test suite
    found one pooled connection left checked out per test)."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return channels_database_sync_to_async(call, thread_sensitive=False)


# What a send raises when the client closed between an event and the send: daphne
# (autobahn) raises Disconnected, other ASGI servers an OSError as the spec asks.
CLIENT_GONE = (Disconnected, OSError)
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429
ACCESS_RECHECK_SECONDS = 30
# How often an open room marks its web sign-in as active (below every idle timeout).
SIGN_IN_KEEP_ALIVE_SECONDS = 240
HISTORY_PAGE = 200


class FrameBucket:
    """Token bucket: `rate` frames a second on average, bursts up to `burst`."""

    def __init__(self, rate: float = 20, burst: float = 60) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RoomConsumer(AsyncWebsocketConsumer):
    MAX_REFUSED_FRAMES = 200
    closing = True  # until connect() has granted access
    access_checked = 0.0
    REFUSAL_WINDOW = 10.0  # seconds

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.room = ""
        self.closing = True  # until access is granted
        self.access_checked = time.monotonic()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        self.user = user
        self.session_key = getattr(self.scope.get("session"), "session_key", None) or ""
        self.address = client_address(self.scope)
        # Join the person's own groups before checking access: a sign-out or deactivation
        # from this moment on reaches this socket.
        await self._join(user_group(user.pk))
        if self.session_key:
            await self._join(login_group(self.session_key))
        session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.session = await database_sync_to_async(room_session_for)(
            user=user, session_id=session_id
        )
        if self.session is not None and self.session_key:
            # The web sign-in must still be current (not ended, idle or too old).
            is_current = await database_sync_to_async(sign_in_is_current)(
                session_key=self.session_key, user=user
            )
            if not is_current:
                await self._leave_groups()
                await self.close(code=CLOSE_SIGNED_OUT)
                return
        if self.session is None:
            await self._leave_groups()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # The first re-check comes at a random point of the period, so that sockets that
        # all connected at once (a class starting) do not all re-check at once.
        self.closing = False
        self.access_checked = time.monotonic() - random.uniform(0, ACCESS_RECHECK_SECONDS)
        self.role = role_of(self.session, user.pk)
        self.peers: set[str] = set()
        self.bucket, self.last_typing = FrameBucket(), 0.0
        self.refused, self.refused_since = 0, time.monotonic()
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
        self.language = cookie if cookie in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        self.room = room_group(session_id)
        await self._join(self.room)
        await self.accept()
        if self.session_key:
            self.keep_alive = asyncio.create_task(self._keep_sign_in_alive())
        with translation.override(self.language):
            await self.send_frame(await database_sync_to_async(self._hello)())
        await self._to_room("presence.join", channel=self.channel_name)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def _leave_groups(self) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def dispatch(self, message: dict) -> None:
        """Every frame and event passes here: re-check access when the last check is old
        (an event that closes sockets may be lost; the channel layer is at most once)."""
        is_lifecycle = message["type"] in ("websocket.connect", "websocket.disconnect")
        is_stale = time.monotonic() - self.access_checked > ACCESS_RECHECK_SECONDS
        if not is_lifecycle and not self.closing and is_stale and not await self._still_allowed():
            return
        # Channels' own dispatch first sends close_old_connections() through asgiref's
        # single thread-sensitive thread for every frame and event, a queue that every
        # socket of the process waits in. This consumer never holds a connection in the
        # event loop: each database call gives its own back (database_sync_to_async).
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _still_allowed(self) -> bool:
        self.access_checked = time.monotonic()
        allowed = await database_sync_to_async(room_access_valid)(
            user_id=self.user.pk, session_id=self.session.pk, session_key=self.session_key
        )
        if not allowed:
            self.closing = True
            await self.close(code=CLOSE_SIGNED_OUT)
        return allowed

    def _hello(self) -> dict:
        room = room_frame(self.session, timezone.now())
        return {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "role": self.role,
            "room": room,
            "peer_online": False,  # `presence` follows as soon as the other side answers
            "ice_servers": self._ice_servers(room["state"]),
            "turn_configured": turn_configured(),
            "limits": {
                "message_chars": MESSAGE_MAX_CHARS,
                "messages_per_window": settings.CHAT_MESSAGES_PER_30S,
                "window_seconds": int(RATE_WINDOW.total_seconds()),
            },
        }

    def _ice_servers(self, state: str) -> list[dict]:
        """TURN credentials only while a call can take place (they expire when it closes)."""
        if state != "open":
            return []
        return ice_servers_for(session=self.session, user=self.user)

    async def _keep_sign_in_alive(self) -> None:
        """Being in the room is activity: keep the web sign-in from going idle, and close
        when it has reached its absolute lifetime or was ended elsewhere."""
        while not self.closing:
            await asyncio.sleep(SIGN_IN_KEEP_ALIVE_SECONDS)
            alive = await database_sync_to_async(self._keep_alive_once)()
            if not alive and not self.closing:
                self.closing = True
                await self.close(code=CLOSE_SIGNED_OUT)

    def _keep_alive_once(self) -> bool:
        """Only an open room is activity; a finished session's page left open is not."""
        room_open = room_session_state(session_id=self.session.pk, now=timezone.now()) == "open"
        return sign_in_keep_alive(session_key=self.session_key, user=self.user, active=room_open)

    def _audited(self, function, /, **kwargs):
        """Run a service as this person, so the audit trail records who and from where
        (django-auditlog's middleware does not run for websockets)."""
        with set_actor(self.user, remote_addr=self.address):
            return function(**kwargs)

    async def disconnect(self, code: int) -> None:
        keep_alive = getattr(self, "keep_alive", None)
        if keep_alive is not None:
            keep_alive.cancel()
        if self.room and self.room in self.joined:
            await self._to_room("presence.leave", channel=self.channel_name)
        await self._leave_groups()

    # --- frames from the client -------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.closing:
            return  # frames queued before the close are not handled
        if not self.bucket.take():
            await self._refuse_flood()
            return
        with translation.override(self.language):
            try:
                if text_data is None:
                    raise ProtocolError(
                        "binary_not_supported",
                        translation.gettext("The request was not understood."),
                    )
                frame = parse_frame(text_data)
                if frame["type"] in COUNSELOR_TYPES and self.role != "counselor":
                    raise services.BookingError(
                        "not_allowed", translation.gettext("Only the counselor can do this.")
                    )
                handler = getattr(self, "on_" + frame["type"].replace(".", "_"))
                await handler(frame)
            except ProtocolError as error:
                await self.send_frame(error.frame())
            except DomainError as error:
                refusal = ProtocolError(
                    error.code, str(error.message), frame["type"], frame.get("client_id", "")
                )
                await self.send_frame(refusal.frame())

    async def _refuse_flood(self) -> None:
        """Refuse a frame over the rate; too many refusals within a window close the socket."""
        now = time.monotonic()
        if now - self.refused_since > self.REFUSAL_WINDOW:
            self.refused, self.refused_since = 0, now
        self.refused += 1
        if self.refused >= self.MAX_REFUSED_FRAMES:
            self.closing = True
            await self.close(code=CLOSE_FLOOD)
        elif self.refused == 1:
            with translation.override(self.language):
                message = translation.gettext("Too many requests at once. Slow down a little.")
            await self.send_frame(
                {"type": "error", "code": "too_many_frames", "message": message, "ref": ""}
            )

    async def on_chat_send(self, frame: dict) -> None:
        message, created = await database_sync_to_async(room_services.chat_message_store)(
            sender=self.user,
            session_id=self.session.pk,
            client_id=frame["client_id"],
            body=frame["body"],
        )
        await self.send_frame(
            {
                "type": "chat.ack",
                "client_id": frame["client_id"],
                "id": message.seq,
                "sent_at": message.created_at.isoformat(),
                "duplicate": not created,
            }
        )
        if created:
            await self._to_room(
                "chat.relay",
                seq=message.seq,
                client_id=str(message.client_id),
                sender_id=message.sender_id,
                body=message.body,
                sent_at=message.created_at.isoformat(),
            )

    async def on_chat_sync(self, frame: dict) -> None:
        if not await self._still_allowed():  # the whole history: always re-check
            return
        messages = await database_sync_to_async(chat_messages_after)(
            session=self.session, after=frame["after"], limit=HISTORY_PAGE
        )
        if messages:
            await database_sync_to_async(record_reads)(
                None,
                students=[self.session.student],
                what=ReadKind.ROOM_CHAT,
                session_id=self.session.pk,
                actor=self.user,
                remote_addr=self.address,
            )
        frames = [
            message_frame(message, session=self.session, viewer_id=self.user.pk)
            for message in messages
        ]
        await self.send_frame(
            {"type": "chat.history", "messages": frames, "complete": len(frames) < HISTORY_PAGE}
        )

    async def on_chat_read(self, frame: dict) -> None:
        changed = await database_sync_to_async(room_services.chat_mark_read)(
            reader=self.user, session_id=self.session.pk, up_to=frame["up_to"]
        )
        if changed:
            await self._to_room("chat.read_relay", up_to=frame["up_to"])

    async def on_typing(self, frame: dict) -> None:
        now = time.monotonic()
        if now - self.last_typing >= 1 and self.session.room_state() == "open":
            self.last_typing = now
            await self._to_room("typing.relay")

    async def on_room_state(self, frame: dict) -> None:
        await self.room_changed({})

    async def on_signal(self, frame: dict) -> None:
        refusal = room_services.room_refusal(self.session, timezone.now())
        if refusal is not None:
            raise refusal
        await self._to_room("signal.relay", kind=frame["kind"], data=frame["data"])

    async def on_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong", "t": frame.get("t")})

    async def on_session_start(self, frame: dict) -> None:
        await database_sync_to_async(self._audited)(
            services.session_start, counselor=self.user, session=self.session
        )

    async def on_session_end(self, frame: dict) -> None:
        await database_sync_to_async(self._audited)(
            services.session_complete, counselor=self.user, session=self.session
        )

    async def on_phase_set(self, frame: dict) -> None:
        await database_sync_to_async(self._audited)(
            room_services.session_phase_set,
            counselor=self.user,
            session=self.session,
            phase=frame["phase"],
        )

    # --- events from the channel layer ------------------------------------------------
    async def presence_join(self, event: dict) -> None:
        if event["user_id"] == self.user.pk:
            return
        await self.channel_layer.send(
            event["channel"],
            {"type": "presence.here", "user_id": self.user.pk, "channel": self.channel_name},
        )
        await self.presence_here(event)

    async def presence_here(self, event: dict) -> None:
        if event["user_id"] == self.user.pk:
            return
        was_alone = not self.peers
        self.peers.add(event["channel"])
        if was_alone:
            await self.send_frame({"type": "presence", "role": self._other_role(), "online": True})

    async def presence_leave(self, event: dict) -> None:
        if event["user_id"] == self.user.pk or event["channel"] not in self.peers:
            return
        self.peers.discard(event["channel"])
        if not self.peers:
            await self.send_frame({"type": "presence", "role": self._other_role(), "online": False})

    async def chat_relay(self, event: dict) -> None:
        await self.send_frame(
            {
                "type": "chat.message",
                "id": event["seq"],
                "client_id": event["client_id"],
                "from": role_of(self.session, event["sender_id"]),
                "mine": event["sender_id"] == self.user.pk,
                "body": event["body"],
                "sent_at": event["sent_at"],
                "read": False,
            }
        )

    async def chat_read_relay(self, event: dict) -> None:
        if event["user_id"] != self.user.pk:
            await self.send_frame({"type": "chat.read", "up_to": event["up_to"]})

    async def typing_relay(self, event: dict) -> None:
        if event["user_id"] != self.user.pk:
            await self.send_frame({"type": "typing", "role": self._other_role()})

    async def signal_relay(self, event: dict) -> None:
        if event["user_id"] != self.user.pk:
            await self.send_frame({"type": "signal", "kind": event["kind"], "data": event["data"]})

    async def room_changed(self, event: dict) -> None:
        session = await database_sync_to_async(room_session_for)(
            user=self.user, session_id=self.session.pk
        )
        if session is None:  # no longer allowed (deactivated meanwhile)
            self.closing = True
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        self.session = session
        with translation.override(self.language):
            frame = room_frame(session, timezone.now())
        frame["ice_servers"] = self._ice_servers(frame["state"])
        await self.send_frame(frame)

    async def account_closed(self, event: dict) -> None:
        self.closing = True
        await self.close(code=CLOSE_SIGNED_OUT)

    # --- helpers ------------------------------------------------------------------------
    def _other_role(self) -> str:
        return "student" if self.role == "counselor" else "counselor"

    async def _to_room(self, event_type: str, /, **fields) -> None:
        await self.channel_layer.group_send(
            self.room, {"type": event_type, "user_id": self.user.pk, **fields}
        )

    async def send_frame(self, frame: dict) -> None:
        try:
            await self.send(text_data=json.dumps(frame, ensure_ascii=False))
        except CLIENT_GONE:
            # The client left while this frame was on its way. The server's disconnect
            # follows and runs disconnect(), which tells the room; raising here would kill
            # the consumer first and the other side would never see this one leave. A chat
            # message lost this way is stored, and the client fetches it when it returns.
            self.closing = True
