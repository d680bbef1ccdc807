"""ICE servers for a session's video call: STUN as configured, TURN with credentials
that only this user and session can use, and only until the room closes (coturn's
shared-secret REST scheme, `use-auth-secret`)."""

import base64
import hashlib
import hmac

from django.conf import settings

from accounts.models import User
from sessions_app.models import CounselingSession


def turn_credentials(*, secret: str, session_id: int, user_id: int, expires: int) -> dict:
    username = f"{expires}:{session_id}-{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers_for(*, session: CounselingSession, user: User) -> list[dict]:
    servers: list[dict] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        expires = int(session.room_closes_at.timestamp())
        credentials = turn_credentials(
            secret=settings.TURN_SECRET, session_id=session.pk, user_id=user.pk, expires=expires
        )
        servers.append({"urls": list(settings.TURN_URLS), **credentials})
    return servers


def turn_configured() -> bool:
    return bool(settings.TURN_URLS and settings.TURN_SECRET)
