"""The session room's pages as its two participants use them: the room in each of its
states, the counselor's note and outcome forms, the transcript and its text export;
the pages run a constant number of queries and speak Indonesian by default."""

import datetime
import re
import uuid

import pytest
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import time as time_filter
from django.urls import reverse
from django.utils import timezone, translation

from sessions_app.models import ChatMessage, SessionNote, SessionOutcome
from sessions_app.services.room import session_note_save
from tests.factories import CounselingSessionFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db

NOTE_TEXT = "Catatan rahasia: siswa takut pada wali kelas."
HTML_BODY = '<img src=x onerror="alert(1)"> & <b>tebal</b>'


def room_url(session) -> str:
    return reverse("sessions:room", args=[session.pk])


def note_url(session) -> str:
    return reverse("sessions:room-note", args=[session.pk])


def outcome_url(session) -> str:
    return reverse("sessions:room-outcome", args=[session.pk])


def transcript_url(session) -> str:
    return reverse("sessions:transcript", args=[session.pk])


def add_messages(session, bodies, *, first_seq=1):
    """Messages alternating student, counselor, …, a minute apart, numbered from first_seq."""
    start = session.starts_at
    return [
        ChatMessage.objects.create(
            session=session,
            seq=first_seq + n,
            sender=session.student if (first_seq + n) % 2 else session.counselor,
            client_id=uuid.uuid4(),
            body=body,
            created_at=start + datetime.timedelta(minutes=n),
        )
        for n, body in enumerate(bodies)
    ]


def element(html: str, element_id: str, end_tag: str) -> str:
    """The markup of the element with `element_id`, from its opening tag up to the first
    `end_tag` after it."""
    start = html.rindex("<", 0, html.index(f'id="{element_id}"'))
    return html[start : html.index(end_tag, start)]


def positions(text: str, parts: list[str]) -> list[int]:
    return [text.index(part) for part in parts]


@pytest.fixture
def session(student):
    return session_now(student)


@pytest.fixture
def completed(student):
    return session_now(student, status="completed")


# --- The room page -------------------------------------------------------------------------


@pytest.mark.parametrize("person, peer", [("student", "counselor"), ("counselor", "student")])
def test_both_participants_open_the_room_with_the_other_ones_name(
    client, request, session, person, peer
):
    client.force_login(request.getfixturevalue(person))

    response = client.get(room_url(session))

    assert response.status_code == 200
    html = response.content.decode()
    assert request.getfixturevalue(peer).display_name in html
    assert f'data-ws-path="/ws/sessions/{session.pk}/room/"' in html
    assert f'data-role="{person}"' in html
    assert 'data-state="open"' in html


@pytest.mark.parametrize("person", ["student", "counselor"])
def test_the_room_shows_the_chat_history_in_order_with_html_escaped(
    client, request, session, person
):
    bodies = ["Selamat siang, Bu.", HTML_BODY, "Terima kasih."]
    add_messages(session, bodies)
    client.force_login(request.getfixturevalue(person))

    html = client.get(room_url(session)).content.decode()

    log = element(html, "chat-log", "</ol>")
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;b&gt;tebal&lt;/b&gt;"
    assert positions(log, [bodies[0], escaped, bodies[2]]) == sorted(
        positions(log, [bodies[0], escaped, bodies[2]])
    )
    assert re.findall(r'data-id="(\d+)"', log) == ["1", "2", "3"]
    assert "<img src=x" not in html and "<b>tebal</b>" not in html
    assert 'data-last-id="3"' in html


def test_each_side_sees_its_own_messages_as_mine(client, student, counselor, session):
    add_messages(session, ["dari siswa", "dari konselor"])
    client.force_login(student)

    log = element(client.get(room_url(session)).content.decode(), "chat-log", "</ol>")

    mine, theirs = re.findall(r'class="chat-message (mine|theirs)"', log)
    assert (mine, theirs) == ("mine", "theirs")


def test_a_room_with_no_messages_says_so(client, student, session):
    client.force_login(student)

    html = client.get(room_url(session)).content.decode()

    assert 'id="chat-empty"' in html
    assert 'data-last-id="0"' in html


def test_a_session_in_two_days_shows_when_the_room_opens(client, student, school):
    session = CounselingSessionFactory(student=student, status="confirmed")
    client.force_login(student)

    html = client.get(room_url(session)).content.decode()

    local_start = timezone.localtime(session.starts_at, school.zone())
    with translation.override(settings.LANGUAGE_CODE):
        expected = translation.gettext(
            "The room opens 15 minutes before the session starts (%(day)s, %(start)s)."
        ) % {
            "day": date_filter(local_start, "l, j F Y"),
            "start": time_filter(local_start, "H:i"),
        }
    assert 'data-state="waiting"' in html
    assert expected in element(html, "room-reason", "</span>")
    assert "disabled" in element(html, "chat-send", "</button>")


def test_a_room_without_consent_links_to_the_session_page(client, student, counselor):
    session = session_now(student, status="confirmed", consent_given_at=None)

    for person in (student, counselor):
        client.force_login(person)
        html = client.get(room_url(session)).content.decode()

        assert 'data-state="consent_missing"' in html
        reason = element(html, "room-reason", "</span>")
        detail = reverse("sessions:session-detail", args=[session.pk])
        assert f'href="{detail}"' in reason


def test_the_counselor_sees_the_controls_and_the_note_form(client, counselor, session):
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)
    client.force_login(counselor)

    html = client.get(room_url(session)).content.decode()

    assert 'id="counselor-controls"' in html
    assert 'id="room-end"' in html and 'id="room-phase"' in html
    note_form = element(html, "note-form", "</form>")
    assert f'action="{note_url(session)}"' in note_form
    assert NOTE_TEXT in note_form
    assert 'id="outcome-form"' not in html  # not before the session ended


def test_the_counselor_sees_the_outcome_form_once_the_session_is_completed(
    client, counselor, completed
):
    client.force_login(counselor)

    html = client.get(room_url(completed)).content.decode()

    outcome_form = element(html, "outcome-form", "</form>")
    assert f'action="{outcome_url(completed)}"' in outcome_form
    for kind in SessionOutcome.Kind.values:
        assert f'value="{kind}"' in outcome_form
    assert 'id="counselor-controls"' not in html  # the room is closed
    assert 'id="note-form"' in html


@pytest.mark.parametrize("fixture", ["session", "completed"])
def test_the_student_never_sees_the_note_or_the_outcome_form(
    client, request, student, counselor, fixture
):
    session = request.getfixturevalue(fixture)
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)
    client.force_login(student)

    html = client.get(room_url(session)).content.decode()

    assert NOTE_TEXT not in html
    assert 'id="note-form"' not in html and 'id="note-section"' not in html
    assert 'id="outcome-form"' not in html
    assert 'id="counselor-controls"' not in html


def test_the_student_is_pointed_to_the_questionnaires_after_the_session(client, student, session):
    client.force_login(student)

    during = client.get(room_url(session)).content.decode()
    session.status = "completed"
    session.save()
    after = client.get(room_url(session)).content.decode()

    assert 'id="to-questionnaires"' not in during
    assert f'href="{reverse("home")}"' in element(after, "to-questionnaires", "</a>")


# --- The note --------------------------------------------------------------------------------


def test_a_plain_note_post_stores_it_and_goes_back_to_the_room(client, counselor, session):
    client.force_login(counselor)

    response = client.post(note_url(session), {"body": NOTE_TEXT})

    assert response.status_code == 302
    assert response.url == room_url(session)
    assert SessionNote.objects.get(session=session).body == NOTE_TEXT


def test_the_autosave_gets_json_with_the_local_time_it_was_saved(
    client, counselor, session, school
):
    client.force_login(counselor)

    response = client.post(
        note_url(session), {"body": NOTE_TEXT}, headers={"accept": "application/json"}
    )

    assert response.status_code == 200
    note = SessionNote.objects.get(session=session)
    local = timezone.localtime(note.updated_at, school.zone())
    assert response.json() == {"ok": True, "saved_at": f"{local:%H:%M}"}
    assert note.body == NOTE_TEXT


def test_a_note_of_20000_characters_is_saved(client, counselor, session):
    client.force_login(counselor)
    body = ("Catatan. " * 2300)[:19999] + "z"

    response = client.post(note_url(session), {"body": body})

    assert response.status_code == 302
    assert SessionNote.objects.get().body == body


def test_a_note_too_long_is_refused_and_the_typed_text_is_kept(client, counselor, session):
    session_note_save(counselor=counselor, session=session, body="versi lama")
    client.force_login(counselor)
    body = ("Catatan panjang. " * 1200)[:20000] + "z"

    response = client.post(note_url(session), {"body": body})

    assert response.status_code == 400
    assert "body" in response.context["note_form"].errors
    assert body in element(response.content.decode(), "note-form", "</form>")
    assert SessionNote.objects.get().body == "versi lama"


def test_a_note_too_long_by_autosave_gets_a_json_refusal(client, counselor, session):
    client.force_login(counselor)

    response = client.post(
        note_url(session), {"body": "x" * 20001}, headers={"accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert "body" in response.json()["errors"]
    assert not SessionNote.objects.exists()


# --- The outcome -----------------------------------------------------------------------------


def test_a_referral_without_to_whom_is_refused_and_the_reason_is_kept(client, counselor, completed):
    client.force_login(counselor)
    reason = "Perlu asesmen lanjutan oleh psikolog."

    response = client.post(
        outcome_url(completed),
        {"kind": "referral", "referred_to": "", "referral_reason": reason},
    )

    assert response.status_code == 400
    assert list(response.context["outcome_form"].errors) == ["referred_to"]
    assert reason in element(response.content.decode(), "outcome-form", "</form>")
    assert not SessionOutcome.objects.exists()


def test_a_complete_referral_is_recorded(client, counselor, completed):
    client.force_login(counselor)

    response = client.post(
        outcome_url(completed),
        {"kind": "referral", "referred_to": "Psikolog Puskesmas", "referral_reason": "Asesmen."},
    )

    assert response.status_code == 302
    assert response.url == room_url(completed)
    outcome = SessionOutcome.objects.get(session=completed)
    assert (outcome.kind, outcome.referred_to, outcome.referral_reason) == (
        "referral",
        "Psikolog Puskesmas",
        "Asesmen.",
    )


def test_continue_online_offers_to_schedule_the_next_session(client, counselor, student, completed):
    client.force_login(counselor)

    response = client.post(outcome_url(completed), {"kind": "online"})

    assert response.status_code == 302
    assert SessionOutcome.objects.get(session=completed).kind == "online"
    html = client.get(room_url(completed)).content.decode()
    next_session = reverse("sessions:session-create") + f"?student={student.pk}"
    assert f'href="{next_session}"' in element(html, "book-next", ">")


def test_other_outcomes_offer_no_next_online_session(client, counselor, completed):
    client.force_login(counselor)

    client.post(outcome_url(completed), {"kind": "resolved"})

    html = client.get(room_url(completed)).content.decode()
    assert 'id="outcome-recorded"' in html
    assert 'id="book-next"' not in html


def test_an_outcome_before_the_session_ended_is_refused(client, counselor, session):
    client.force_login(counselor)

    response = client.post(outcome_url(session), {"kind": "resolved"})

    assert response.status_code == 400
    assert response.context["outcome_form"].non_field_errors()
    assert not SessionOutcome.objects.exists()


# --- The transcript ----------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["student", "counselor"])
def test_both_participants_read_the_transcript_in_order(client, request, completed, person):
    bodies = ["Pesan satu", HTML_BODY, "Pesan tiga", "Pesan empat"]
    add_messages(completed, bodies)
    client.force_login(request.getfixturevalue(person))

    response = client.get(transcript_url(completed))

    assert response.status_code == 200
    log = element(response.content.decode(), "transcript", "</ol>")
    assert re.findall(r'data-id="(\d+)"', log) == ["1", "2", "3", "4"]
    assert "<img src=x" not in log and "&lt;img src=x" in log
    shown = [bodies[0], bodies[2], bodies[3]]
    assert positions(log, shown) == sorted(positions(log, shown))


def test_the_counselor_exports_the_transcript_as_a_text_file(client, counselor, completed):
    bodies = ["Pesan satu", HTML_BODY, "Pesan tiga"]
    add_messages(completed, bodies)
    client.force_login(counselor)

    response = client.get(transcript_url(completed), {"format": "txt"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".txt" in response["Content-Disposition"]
    text = response.content.decode()
    assert positions(text, bodies) == sorted(positions(text, bodies))  # a text file: raw
    assert completed.student.display_name in text


def test_the_student_cannot_export_the_transcript(client, student, completed):
    add_messages(completed, ["Pesan satu"])
    client.force_login(student)

    response = client.get(transcript_url(completed), {"format": "txt"})

    assert response.status_code == 404
    assert "Pesan satu" not in response.content.decode()


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["student", "counselor"])
@pytest.mark.parametrize("fixture", ["session", "completed"])
def test_the_room_runs_constant_queries(
    client, request, counselor, person, fixture, assert_constant_queries
):
    room = request.getfixturevalue(fixture)
    session_note_save(counselor=counselor, session=room, body=NOTE_TEXT)
    add_messages(room, ["pertama", "kedua"])
    client.force_login(request.getfixturevalue(person))
    client.get(room_url(room))  # first visit: whatever is created once per school

    def grow():
        messages = add_messages(room, [f"pesan {n}" for n in range(12)], first_seq=3)
        ChatMessage.objects.filter(pk__in=[m.pk for m in messages[:5]]).update(
            read_at=timezone.now()
        )

    assert_constant_queries(lambda: client.get(room_url(room)), grow)


@pytest.mark.parametrize(
    "person, query", [("student", {}), ("counselor", {}), ("counselor", {"format": "txt"})]
)
def test_the_transcript_runs_constant_queries(
    client, request, completed, person, query, assert_constant_queries
):
    add_messages(completed, ["pertama"])
    client.force_login(request.getfixturevalue(person))
    client.get(transcript_url(completed), query)

    def grow():
        add_messages(completed, [f"pesan {n}" for n in range(12)], first_seq=2)

    assert_constant_queries(lambda: client.get(transcript_url(completed), query), grow)


# --- Language ------------------------------------------------------------------------------------


def test_the_room_speaks_indonesian_by_default(client, counselor, student):
    waiting_to_start = session_now(student, status="confirmed")
    client.force_login(counselor)

    response = client.get(room_url(waiting_to_start))

    html = response.content.decode()
    assert '<html lang="id">' in html
    # From locale/id/LC_MESSAGES/django.po: "Start the session", "End the session".
    assert "Mulai sesi" in element(html, "room-start", "</button>")
    assert "Akhiri sesi" in element(html, "room-end", "</button>")
    assert "Start the session" not in html


def test_the_room_follows_the_language_the_user_picked(client, counselor, student):
    waiting_to_start = session_now(student, status="confirmed")
    client.force_login(counselor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get(room_url(waiting_to_start)).content.decode()

    assert '<html lang="en">' in html
    assert "Start the session" in element(html, "room-start", "</button>")
    assert "Mulai sesi" not in html
