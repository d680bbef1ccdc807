"""The lifetime of web sessions: idle timeout, absolute lifetime, and the list of a
user's sign-ins that they can end from any other device."""

import datetime
import time
import unicodedata

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SignIn, User

SIGNED_IN_AT = "ruangbk_signed_in_at"
LAST_SEEN_AT = "ruangbk_last_seen_at"
# The last-seen time is written at most this often (one session write a minute).
SEEN_RESOLUTION = 60


def limits_for(user: User) -> tuple[float, float]:
    """(idle seconds, lifetime seconds) for this user's sign-ins."""
    group = "student" if user.is_student else "staff"
    return (
        settings.SIGN_IN_IDLE_MINUTES[group] * 60.0,
        settings.SIGN_IN_LIFETIME_HOURS[group] * 3600.0,
    )


def expiry_reason(session: SessionBase, user: User, now: float) -> str | None:
    """ "idle" or "lifetime" when this sign-in has run out, else None."""
    idle, lifetime = limits_for(user)
    started = session.get(SIGNED_IN_AT)
    last_seen = session.get(LAST_SEEN_AT)
    if started is not None and now - started > lifetime:
        return "lifetime"
    if last_seen is not None and now - last_seen > idle:
        return "idle"
    return None


def mark_seen(request: HttpRequest, now: float) -> None:
    session = request.session
    session.setdefault(SIGNED_IN_AT, now)
    last_seen = session.get(LAST_SEEN_AT)
    if last_seen is None or now - last_seen >= SEEN_RESOLUTION:
        session[LAST_SEEN_AT] = now
        if session.session_key:
            _sign_in_seen(session.session_key, now)


def _sign_in_seen(session_key: str, now: float) -> None:
    SignIn.objects.filter(session_key=session_key).update(
        last_seen_at=datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    )


def sign_in_keep_alive(
    *, session_key: str, user: User, active: bool = True, now: float | None = None
) -> bool:
    """An open session room counts as activity: its socket calls this every few minutes
    (`active` while the room is open), so a long call leaves the counselor signed in to
    write the note afterwards. False when the sign-in has ended, gone idle or reached
    its absolute lifetime: the socket then closes."""
    now = time.time() if now is None else now
    store = _current_store(session_key, user, now)
    if store is None:
        return False
    if not active:
        return True
    store[LAST_SEEN_AT] = now
    try:
        store.save()
    except UpdateError:  # ended between the load and the save
        return False
    _sign_in_seen(session_key, now)
    return True


def sign_in_rekey(*, old_key: str | None, new_key: str | None) -> None:
    """The session got a new key (a password change cycles it): the sign-in follows."""
    if old_key and new_key and old_key != new_key:
        SignIn.objects.filter(session_key=old_key).update(session_key=new_key)


def sign_in_is_current(*, session_key: str, user: User) -> bool:
    """Whether this web sign-in may still be used (not ended, idle or past its lifetime)."""
    return _current_store(session_key, user, time.time()) is not None


def _current_store(session_key: str, user: User, now: float) -> SessionBase | None:
    store = _session_store(session_key)
    if not store.load() or store.session_key != session_key:
        return None  # ended, or expired: never start a new session from here
    return store if expiry_reason(store, user, now) is None else None


def sign_in_record(request: HttpRequest, user: User) -> None:
    """At sign-in (the session key is new: django.contrib.auth.login cycles it)."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    if request.session.session_key is None:
        request.session.save()
    # Forget this user's sign-ins whose sessions expired unused (they hold addresses).
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    SignIn.objects.filter(user=user).exclude(session_key__in=live).delete()
    SignIn.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": request.META.get("REMOTE_ADDR") or None,
            "user_agent": request.headers.get("User-Agent", "")[:300],
            "created_at": timezone.now(),
            "last_seen_at": timezone.now(),
        },
    )


def _session_store(session_key: str) -> SessionBase:
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def active_sign_ins(user: User) -> list[SignIn]:
    """The user's sign-ins that can still be used; rows of sessions that expired or were
    cut off by a password change are removed on the way."""
    current_hash = user.get_session_auth_hash()
    alive, dead = [], []
    for sign_in in SignIn.objects.filter(user=user):
        store = _session_store(sign_in.session_key)
        data = store.load()
        if data.get(HASH_SESSION_KEY) == current_hash:
            alive.append(sign_in)
        else:
            dead.append(sign_in.pk)
    if dead:
        SignIn.objects.filter(pk__in=dead).delete()
    return alive


def sign_in_end(*, user: User, sign_in_id: int) -> bool:
    """End one of `user`'s sign-ins (its web session and its sockets). False if there is
    no such sign-in of this user."""
    sign_in = SignIn.objects.filter(user=user, pk=sign_in_id).first()
    if sign_in is None:
        return False
    _end(sign_in)
    return True


def sign_ins_end_all(user: User, *, keep_session_key: str | None = None) -> int:
    """End every sign-in of `user` (all but `keep_session_key`); returns how many."""
    sign_ins = SignIn.objects.filter(user=user)
    if keep_session_key:
        sign_ins = sign_ins.exclude(session_key=keep_session_key)
    ended = 0
    for sign_in in sign_ins:
        _end(sign_in)
        ended += 1
    return ended


def _end(sign_in: SignIn) -> None:
    from sessions_app.realtime import sockets_close_for_login

    key = sign_in.session_key
    _session_store(key).delete()
    sign_in.delete()
    transaction.on_commit(lambda: sockets_close_for_login(key))


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username a sign-in attempt names, as the lockout counts it: usernames are
    case-insensitive here, so "Siswa01" and "siswa01" share one counter."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        value = request.POST.get("username", "") if request.method == "POST" else ""
    # NFKC as Django normalises usernames: a full-width spelling is the same account.
    return unicodedata.normalize("NFKC", str(value)).strip().lower()[:150]
