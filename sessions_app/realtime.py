"""Channel-layer groups of the session room, and the events the rest of the app sends
into them. Events are sent only after the database commit (a reader who reacts to them
sees the new state)."""

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def room_group(session_id: int) -> str:
    return f"room.{session_id}"


def user_group(user_id: int) -> str:
    """Every socket of one user (closed when the account is deactivated)."""
    return f"user.{user_id}"


def login_group(session_key: str) -> str:
    """Every socket of one sign-in (closed when that sign-in logs out)."""
    return "login." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def _send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a view or a service in a worker thread
        async_to_sync(layer.group_send)(group, event)
        return
    # Sync code on a thread that runs an event loop (async tests, Playwright's sync API):
    # async_to_sync cannot run here, so send from a thread of its own and wait for it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(layer.group_send), group, event).result()


def room_changed_on_commit(session_id: int) -> None:
    """Tell the room's sockets that the session changed (started, ended, cancelled…)."""
    transaction.on_commit(lambda: _send(room_group(session_id), {"type": "room.changed"}))


def sockets_close_for_user(user_id: int) -> None:
    transaction.on_commit(
        lambda: _send(user_group(user_id), {"type": "account.closed", "reason": "deactivated"})
    )


def sockets_close_for_login(session_key: str) -> None:
    _send(login_group(session_key), {"type": "account.closed", "reason": "signed_out"})
