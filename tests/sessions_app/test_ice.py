"""ICE servers for the room's video call (sessions_app/ice.py): STUN as configured, and
TURN credentials in coturn's shared-secret REST scheme (`use-auth-secret`):

    username   = "<expiry unix time>:<session id>-<user id>"
    credential = base64(HMAC-SHA1(key=shared secret, message=username))

valid until the session's room closes, and different for every user and session. The
`hello` frame of the room's websocket carries them, never the secret itself."""

import base64
import calendar
import datetime
import hashlib
import hmac
import json

import pytest
from channels.db import database_sync_to_async

from sessions_app.ice import ice_servers_for, turn_configured
from tests.factories import CounselingSessionFactory
from tests.sessions_app.room_helpers import connect, joined, session_now

UTC = datetime.UTC
TURN_SECRET = "coturn-static-auth-secret-7d1f0a"
STUN_URLS = ["stun:stun.ruangbk.example:3478"]
TURN_URLS = [
    "turn:turn.ruangbk.example:3478?transport=udp",
    "turns:turn.ruangbk.example:5349?transport=tcp",
]
STARTS_AT = datetime.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
# 2026-12-07 06:45 UTC + 30 minutes of grace = 07:15 UTC.
CLOSES_AT_UNIX = calendar.timegm((2026, 12, 7, 7, 15, 0))


def coturn_credential(secret: str, username: str) -> str:
    """coturn's REST API password: base64 of the HMAC-SHA1 of the username."""
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


def turn_entry(servers: list[dict]) -> dict:
    (entry,) = [server for server in servers if "username" in server]
    return entry


@pytest.fixture
def turn(settings):
    settings.STUN_URLS = STUN_URLS
    settings.TURN_URLS = TURN_URLS
    settings.TURN_SECRET = TURN_SECRET
    return settings


@pytest.fixture
def no_turn(settings):
    settings.STUN_URLS = STUN_URLS
    settings.TURN_URLS = []
    settings.TURN_SECRET = ""
    return settings


@pytest.fixture
def session(student):
    return CounselingSessionFactory(
        student=student,
        starts_at=STARTS_AT,
        ends_at=STARTS_AT + datetime.timedelta(minutes=45),
    )


@pytest.mark.django_db
def test_stun_and_turn_with_credentials_valid_until_the_room_closes(turn, session, student):
    servers = ice_servers_for(session=session, user=student)

    username = f"{CLOSES_AT_UNIX}:{session.pk}-{student.pk}"
    assert servers == [
        {"urls": STUN_URLS},
        {
            "urls": TURN_URLS,
            "username": username,
            "credential": coturn_credential(TURN_SECRET, username),
        },
    ]
    assert turn_configured() is True


@pytest.mark.django_db
def test_the_expiry_follows_the_sessions_own_end(turn, student):
    session = session_now(student)

    entry = turn_entry(ice_servers_for(session=session, user=student))

    expiry, who = entry["username"].split(":")
    closes_at = session.ends_at + datetime.timedelta(minutes=30)
    assert int(expiry) == calendar.timegm(closes_at.utctimetuple())
    assert who == f"{session.pk}-{student.pk}"
    assert entry["credential"] == coturn_credential(TURN_SECRET, entry["username"])


@pytest.mark.django_db
def test_each_participant_gets_their_own_credentials(turn, session, student, counselor):
    for_student = turn_entry(ice_servers_for(session=session, user=student))
    for_counselor = turn_entry(ice_servers_for(session=session, user=counselor))

    assert for_student["username"] != for_counselor["username"]
    assert for_student["credential"] != for_counselor["credential"]
    assert for_counselor["username"] == f"{CLOSES_AT_UNIX}:{session.pk}-{counselor.pk}"


@pytest.mark.django_db
def test_each_session_gets_its_own_credentials(turn, session, student):
    later = CounselingSessionFactory(
        student=student,
        starts_at=STARTS_AT + datetime.timedelta(days=7),
        ends_at=STARTS_AT + datetime.timedelta(days=7, minutes=45),
    )

    first = turn_entry(ice_servers_for(session=session, user=student))
    second = turn_entry(ice_servers_for(session=later, user=student))

    assert first["username"] != second["username"]
    assert first["credential"] != second["credential"]
    assert second["username"].endswith(f":{later.pk}-{student.pk}")


@pytest.mark.django_db
def test_without_turn_only_stun_is_offered(no_turn, session, student):
    assert ice_servers_for(session=session, user=student) == [{"urls": STUN_URLS}]
    assert turn_configured() is False


@pytest.mark.django_db
def test_turn_urls_without_a_secret_offer_no_turn(settings, session, student):
    settings.STUN_URLS = []
    settings.TURN_URLS = TURN_URLS
    settings.TURN_SECRET = ""

    assert ice_servers_for(session=session, user=student) == []
    assert turn_configured() is False


@pytest.mark.django_db
def test_nothing_configured_offers_no_ice_servers(settings, session, student):
    settings.STUN_URLS = []
    settings.TURN_URLS = []
    settings.TURN_SECRET = ""

    assert ice_servers_for(session=session, user=student) == []


# --- The hello frame --------------------------------------------------------------------------


async def hello_raw(user, session_id: int) -> tuple[str, dict]:
    """The text of the `hello` frame `user` receives, and the frame."""
    communicator, connected, _code = await connect(user, session_id)
    assert connected
    raw = await communicator.receive_from(timeout=5)
    frame = json.loads(raw)
    assert frame["type"] == "hello"  # the first frame after connecting
    await communicator.disconnect()
    return raw, frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("person", ["student", "counselor"])
async def test_hello_carries_this_users_ice_servers_and_never_the_secret(
    turn, request, student, person
):
    user = request.getfixturevalue(person)
    session = await database_sync_to_async(session_now)(student)

    raw, hello = await hello_raw(user, session.pk)

    closes_at = session.ends_at + datetime.timedelta(minutes=30)
    username = f"{calendar.timegm(closes_at.utctimetuple())}:{session.pk}-{user.pk}"
    assert hello["ice_servers"] == [
        {"urls": STUN_URLS},
        {
            "urls": TURN_URLS,
            "username": username,
            "credential": coturn_credential(TURN_SECRET, username),
        },
    ]
    assert hello["turn_configured"] is True
    assert TURN_SECRET not in raw


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_hello_without_turn_says_so(no_turn, student):
    session = await database_sync_to_async(session_now)(student)

    _raw, hello = await hello_raw(student, session.pk)

    assert hello["ice_servers"] == [{"urls": STUN_URLS}]
    assert hello["turn_configured"] is False


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_closed_room_hands_out_no_turn_credentials(settings, student):
    settings.TURN_URLS = ["turn:turn.sekolah.sch.id:3478"]
    settings.TURN_SECRET = "rahasia-bersama"
    session = await database_sync_to_async(session_now)(student, status="completed")
    communicator, hello = await joined(student, session.pk)
    assert hello["room"]["state"] == "closed"
    assert hello["ice_servers"] == []
    await communicator.disconnect()
