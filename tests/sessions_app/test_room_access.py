"""Who may use the session room's pages: its student and its counselor, and for the note,
the outcome and the text export the counselor alone. Everyone else around them — another
student or counselor of the school, the school admin, people of another school — is
refused without seeing anything, and an anonymous visitor is sent to sign in.

Two refusals exist: the role decorator (accounts/permissions.py `role_required`) answers
403 to a signed-in user of a role the page is not for; a user of the right role who is not
a participant gets 404 from the selector, so nobody learns that the session exists."""

import uuid

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from sessions_app.models import ChatMessage, SessionNote, SessionOutcome
from sessions_app.services.room import session_note_save, session_outcome_record
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db

CHAT_TEXT = "Saya dirundung teman sekelas."
NOTE_TEXT = "Catatan rahasia konselor: indikasi perundungan."
REFERRED_TO = "Psikolog Puskesmas Kecamatan"
REFERRAL_REASON = "Perlu asesmen trauma."
SECRETS = [CHAT_TEXT, NOTE_TEXT, REFERRED_TO, REFERRAL_REASON]

NOTE_POST = {"body": "Catatan yang ditimpa orang lain"}
OUTCOME_POST = {"kind": "referral", "referred_to": "Orang lain", "referral_reason": "Alasan"}

PEOPLE = [
    "student",
    "counselor",
    "other_student",
    "other_counselor",
    "school_admin",
    "foreign_student",
    "foreign_counselor",
    "foreign_admin",
]

# What each person gets from each page of one session (anonymous: see below).
# 200/302 = served; 403 = refused by the role decorator; 404 = refused by the selector.
EXPECTED = {
    "room": {
        "student": 200,
        "counselor": 200,
        "other_student": 404,
        "other_counselor": 404,
        "school_admin": 403,
        "foreign_student": 404,
        "foreign_counselor": 404,
        "foreign_admin": 403,
    },
    "note": {
        "student": 403,
        "counselor": 302,
        "other_student": 403,
        "other_counselor": 404,
        "school_admin": 403,
        "foreign_student": 403,
        "foreign_counselor": 404,
        "foreign_admin": 403,
    },
    "transcript_txt": {
        "student": 404,
        "counselor": 200,
        "other_student": 404,
        "other_counselor": 404,
        "school_admin": 403,
        "foreign_student": 404,
        "foreign_counselor": 404,
        "foreign_admin": 403,
    },
}
EXPECTED["outcome"] = EXPECTED["note"]
EXPECTED["transcript"] = EXPECTED["room"]


@pytest.fixture
def session(student, counselor):
    """A completed session with a message, a note and a referral."""
    session = session_now(student, status="completed")
    ChatMessage.objects.create(
        session=session, seq=1, sender=student, client_id=uuid.uuid4(), body=CHAT_TEXT
    )
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)
    session_outcome_record(
        counselor=counselor,
        session=session,
        kind="referral",
        referred_to=REFERRED_TO,
        referral_reason=REFERRAL_REASON,
    )
    return session


def call(client, page: str, session):
    if page == "room":
        return client.get(reverse("sessions:room", args=[session.pk]))
    if page == "note":
        return client.post(reverse("sessions:room-note", args=[session.pk]), NOTE_POST)
    if page == "outcome":
        return client.post(reverse("sessions:room-outcome", args=[session.pk]), OUTCOME_POST)
    transcript = reverse("sessions:transcript", args=[session.pk])
    if page == "transcript":
        return client.get(transcript)
    return client.get(transcript, {"format": "txt"})


def note_and_outcome():
    outcome = SessionOutcome.objects.get()
    return SessionNote.objects.get().body, outcome.kind, outcome.referred_to


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("page", list(EXPECTED))
def test_each_person_gets_exactly_what_the_page_allows_them(client, request, session, person, page):
    user = request.getfixturevalue(person)
    client.force_login(user)

    response = call(client, page, session)

    assert response.status_code == EXPECTED[page][person]
    if response.status_code == 302:
        assert response.url == reverse("sessions:room", args=[session.pk])
    if response.status_code in (403, 404):
        content = response.content.decode()
        for secret in SECRETS:
            assert secret not in content
        assert note_and_outcome() == (NOTE_TEXT, "referral", REFERRED_TO)


@pytest.mark.parametrize("page", ["room", "transcript"])
def test_the_student_reads_the_chat_but_never_the_note_or_the_outcome(
    client, student, session, page
):
    client.force_login(student)

    content = call(client, page, session).content.decode()

    assert CHAT_TEXT in content
    for secret in (NOTE_TEXT, REFERRED_TO, REFERRAL_REASON):
        assert secret not in content


def test_the_counselor_reads_the_chat_the_note_and_the_outcome(client, counselor, session):
    client.force_login(counselor)

    content = call(client, "room", session).content.decode()

    for secret in SECRETS:
        assert secret in content
    assert CHAT_TEXT in call(client, "transcript_txt", session).content.decode()


@pytest.mark.parametrize("page", list(EXPECTED))
def test_an_anonymous_visitor_is_sent_to_sign_in(client, session, page):
    response = call(client, page, session)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login") + "?next=")
    assert note_and_outcome() == (NOTE_TEXT, "referral", REFERRED_TO)


def test_the_note_and_outcome_only_take_posts(client, counselor, session):
    client.force_login(counselor)

    for name in ("sessions:room-note", "sessions:room-outcome"):
        response = client.get(reverse(name, args=[session.pk]))
        assert response.status_code == 405
        assert NOTE_TEXT not in response.content.decode()


# --- The school admin, anywhere -------------------------------------------------------------


def get_routes(patterns=None, prefix=""):
    """Every path() route of the site, as a string with its converters."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(pattern.pattern, RoutePattern):
            continue
        route = prefix + pattern.pattern._route
        if isinstance(pattern, URLResolver):
            yield from get_routes(pattern.url_patterns, route)
        else:
            yield route


SKIPPED_PREFIXES = ("accounts/logout/", "accounts/password/reset/", "i18n/", "operator/")


def test_a_school_admin_reads_no_chat_note_or_outcome_on_any_page(
    client, school_admin, session, student, counselor
):
    client.force_login(school_admin)
    served = []
    for route in get_routes():
        if route.startswith(SKIPPED_PREFIXES):
            continue
        ids = [session.pk, student.pk, counselor.pk] if "<int:" in route else [None]
        for object_id in ids:
            url = "/" + route.replace("<slug:action>", "transcript").replace(
                "<slug:kind>", "weekly"
            )
            if object_id is not None:
                url = url.split("<int:")[0] + str(object_id) + url.split(">", 1)[1]
            response = client.get(url)
            content = response.content.decode(errors="replace")
            for secret in SECRETS:
                assert secret not in content, url
            if response.status_code == 200:
                served.append(url)
    # The walk did reach the admin's own pages (so it checked something).
    assert reverse("sessions:statistics") in served
    assert reverse("accounts:admin-home") in served


def test_a_school_admin_has_no_access_to_the_django_admin(client, school_admin, session):
    client.force_login(school_admin)

    response = client.get(reverse("admin:index"))

    assert school_admin.is_staff is False
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    for model in ("chatmessage", "sessionnote", "sessionoutcome"):
        response = client.get(f"/operator/sessions_app/{model}/")
        assert response.status_code in (302, 404)
        assert NOTE_TEXT not in response.content.decode()


def test_the_django_admin_does_not_list_chat_notes_or_outcomes():
    for model in (ChatMessage, SessionNote, SessionOutcome):
        assert not admin.site.is_registered(model), model
