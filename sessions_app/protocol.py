"""The room's websocket frames (docs/realtime-protocol.md): parsing and checking what a
client sends, and the JSON shapes the server sends. Pure: no database, no I/O."""

import json
import math
import re
import uuid
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from sessions_app.models import ChatMessage, CounselingSession

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
SIGNAL_KINDS = {"join", "leave", "offer", "answer", "ice", "media"}
COUNSELOR_TYPES = {"session.start", "session.end", "phase.set"}
CLIENT_TYPES = {
    "chat.send",
    "chat.sync",
    "chat.read",
    "typing",
    "room.state",
    "signal",
    "ping",
    *COUNSELOR_TYPES,
}


@dataclass
class ProtocolError(Exception):
    code: str
    message: str
    ref: str = ""
    client_id: str = ""

    def frame(self) -> dict:
        frame = {"type": "error", "code": self.code, "message": self.message, "ref": self.ref}
        if self.client_id:
            frame["client_id"] = self.client_id
        return frame


def _bad(ref: str, client_id: str = "") -> ProtocolError:
    return ProtocolError("bad_frame", _("The request was not understood."), ref, client_id)


def parse_frame(text: str) -> dict:
    """A checked client frame, or ProtocolError saying what is wrong with it."""
    if len(text.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", _("That was too large to send."))
    try:
        frame = json.loads(text, parse_constant=_no_constants, parse_float=_finite_float)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ProtocolError("bad_json", _("The request was not understood.")) from None
    # Only a \\uD800–\\uDFFF escape can put a surrogate in (the frame itself is UTF-8).
    maybe_surrogate = SURROGATE_ESCAPE.search(text) is not None
    if not isinstance(frame, dict):
        raise ProtocolError("bad_json", _("The request was not understood."))
    if maybe_surrogate and frame.get("type") != "chat.send" and _has_lone_surrogate(frame):
        # A lone surrogate (a "\\ud800" escape) is no text: it cannot be sent back as
        # UTF-8 nor packed for the channel layer. (chat.send refuses it with its
        # client_id, below, so the message is not silently dropped.)
        raise ProtocolError("bad_json", _("The request was not understood."))
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", _("The request was not understood."), str(kind)[:40])
    CHECKS.get(kind, lambda f: None)(frame)
    return frame


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity cannot be echoed to a browser


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError(f"{text} is out of range")
    return value


def _plain(value: object, depth: int = 0) -> bool:
    """JSON a browser and the channel layer (msgpack) both carry: integers a browser
    holds exactly, a modest nesting depth."""
    if depth > 16:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(item, depth + 1) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**53) <= value <= 2**53
    return True


def _check_send(frame: dict) -> None:
    client_id = frame.get("client_id")
    try:
        frame["client_id"] = str(uuid.UUID(str(client_id)))
    except ValueError:
        raise _bad("chat.send") from None
    body = frame.get("body")
    if not isinstance(body, str) or not _storable(body):
        raise _bad("chat.send", frame["client_id"])


def _storable(text: str) -> bool:
    """Text any database can hold: no NUL, no lone surrogate halves."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_count(field: str):
    def check(frame: dict) -> None:
        value = frame.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise _bad(frame["type"])

    return check


def _check_signal(frame: dict) -> None:
    if frame.get("kind") not in SIGNAL_KINDS:
        raise _bad("signal")
    data = frame.setdefault("data", {})
    if not isinstance(data, dict) or not _plain(data):
        raise _bad("signal")


def _check_phase(frame: dict) -> None:
    if frame.get("phase") not in CounselingSession.Phase.values:
        raise _bad("phase.set")


CHECKS = {
    "chat.send": _check_send,
    "chat.sync": _check_count("after"),
    "chat.read": _check_count("up_to"),
    "signal": _check_signal,
    "phase.set": _check_phase,
}


def role_of(session: CounselingSession, user_id: int) -> str:
    return "counselor" if user_id == session.counselor_id else "student"


def message_frame(message: ChatMessage, *, session: CounselingSession, viewer_id: int) -> dict:
    return {
        "type": "chat.message",
        "id": message.seq,
        "client_id": str(message.client_id),
        "from": role_of(session, message.sender_id),
        "mine": message.sender_id == viewer_id,
        "body": message.body,
        "sent_at": message.created_at.isoformat(),
        "read": message.read_at is not None,
    }


def room_reason(session: CounselingSession, state: str) -> str:
    """Why the room is not open, in a sentence for the person in it ("" when open)."""
    Status = CounselingSession.Status
    if state == "waiting" and session.status == Status.CONFIRMED:
        start = timezone.localtime(session.starts_at, session.school.zone())
        return _("The room opens 15 minutes before the session starts (%(day)s, %(start)s).") % {
            "day": date_format(start, "l, j F Y"),
            "start": time_format(start, "H:i"),
        }
    if state == "waiting":
        return _("The session has not been confirmed yet.")
    if state == "consent_missing":
        return _("The room opens once the student has agreed to the online counseling consent.")
    if state == "closed" and session.status in (Status.COMPLETED, Status.IN_PROGRESS):
        return _("This session has ended.")
    if state == "closed":
        return _("This room is closed.")
    return ""


def room_frame(session: CounselingSession, now) -> dict:
    state = session.room_state(now)
    return {
        "type": "room.state",
        "state": state,
        "status": session.status,
        "phase": session.phase,
        "opens_at": session.room_opens_at.isoformat(),
        "closes_at": session.room_closes_at.isoformat(),
        "reason": room_reason(session, state),
    }
