"""The session room's services (sessions_app/services/room.py): chat messages numbered per
session, idempotent resends, the open-room rule, the length and rate limits, read
receipts, the phase reached, the confidential note (encrypted at rest) and the outcome.
Also the room's state at the edges of its time window."""

import base64
import datetime
import uuid

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sessions_app.models import (
    ChatMessage,
    CounselingSession,
    SessionEvent,
    SessionNote,
    SessionOutcome,
)
from sessions_app.services import BookingError
from sessions_app.services.room import (
    chat_mark_read,
    chat_message_store,
    session_note_save,
    session_outcome_record,
    session_phase_set,
)
from tests.factories import CounselingSessionFactory, StudentFactory
from tests.sessions_app.room_helpers import session_now
from tests.threads import run_at_once

UTC = datetime.UTC
Status = CounselingSession.Status
OUTSIDERS = [
    "other_student",
    "other_counselor",
    "school_admin",
    "foreign_student",
    "foreign_counselor",
    "foreign_admin",
]


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


def store(sender, session, body="Halo", *, client_id=None, now=None):
    return chat_message_store(
        sender=sender,
        session_id=session.pk,
        client_id=client_id or uuid.uuid4(),
        body=body,
        now=now,
    )


def refusal_code(call) -> str:
    with pytest.raises(BookingError) as caught:
        call()
    return caught.value.code


@pytest.fixture
def session(student):
    """In progress: started 5 minutes ago, the room is open."""
    return session_now(student)


@pytest.fixture
def completed(student):
    return session_now(student, status="completed")


# --- chat_message_store: numbering and resends --------------------------------------------


@pytest.mark.django_db
def test_messages_are_numbered_one_two_three_across_both_participants(session, student, counselor):
    first, _ = store(student, session, "Selamat siang, Bu.")
    second, _ = store(counselor, session, "Siang. Apa kabar?")
    third, _ = store(student, session, "Kurang baik, Bu.")

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    stored = ChatMessage.objects.filter(session=session).order_by("seq")
    assert [(m.seq, m.sender_id, m.body) for m in stored] == [
        (1, student.pk, "Selamat siang, Bu."),
        (2, counselor.pk, "Siang. Apa kabar?"),
        (3, student.pk, "Kurang baik, Bu."),
    ]


@pytest.mark.django_db
def test_each_session_numbers_its_own_messages_from_one(
    session, student, counselor, other_student, other_counselor
):
    other_session = session_now(other_student)

    store(student, session)
    store(student, session)
    elsewhere, _ = store(other_student, other_session)
    third, _ = store(counselor, session)
    elsewhere_second, _ = store(other_counselor, other_session)

    assert (elsewhere.seq, elsewhere_second.seq) == (1, 2)
    assert third.seq == 3


@pytest.mark.django_db
def test_a_resend_with_the_same_client_id_returns_the_stored_message(session, student):
    client_id = uuid.uuid4()
    message, created = store(student, session, "Pesan pertama", client_id=client_id)

    again, created_again = store(student, session, "Pesan pertama", client_id=client_id)

    assert created is True and created_again is False
    assert again.pk == message.pk and again.seq == 1
    assert ChatMessage.objects.filter(session=session).count() == 1


@pytest.mark.django_db
def test_the_same_client_id_from_the_other_participant_is_a_new_message(
    session, student, counselor
):
    client_id = uuid.uuid4()
    store(student, session, client_id=client_id)

    message, created = store(counselor, session, client_id=client_id)

    assert created is True and message.seq == 2


@pytest.mark.django_db
def test_a_resend_after_the_room_closed_is_still_acknowledged(session, student):
    client_id = uuid.uuid4()
    message, _ = store(student, session, client_id=client_id)
    after_grace = session.room_closes_at + seconds(1)

    again, created = store(student, session, client_id=client_id, now=after_grace)

    assert (again.pk, created) == (message.pk, False)


# --- chat_message_store: the open room -----------------------------------------------------


@pytest.mark.django_db
def test_sending_before_the_room_opens_is_refused(student):
    session = CounselingSessionFactory(student=student, status="confirmed")  # in two days

    assert refusal_code(lambda: store(student, session)) == "room_not_open"
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_sending_without_the_students_consent_is_refused(student, counselor):
    session = session_now(student, status="confirmed", consent_given_at=None)

    for sender in (student, counselor):
        assert refusal_code(lambda sender=sender: store(sender, session)) == "consent_missing"
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_sending_in_a_completed_session_is_refused(completed, student, counselor):
    for sender in (student, counselor):
        assert refusal_code(lambda sender=sender: store(sender, completed)) == "room_closed"
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_sending_after_the_grace_period_is_refused(session, student):
    closes_at = session.ends_at + datetime.timedelta(minutes=30)

    assert refusal_code(lambda: store(student, session, now=closes_at)) == "room_closed"
    message, _ = store(student, session, now=closes_at - seconds(1))
    assert message.seq == 1


@pytest.mark.django_db
@pytest.mark.parametrize("person", OUTSIDERS)
def test_someone_else_cannot_send_into_the_room(request, session, person):
    outsider = request.getfixturevalue(person)

    assert refusal_code(lambda: store(outsider, session)) == "not_allowed"
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_participant_cannot_send(session, student):
    student.is_active = False
    student.save()

    assert refusal_code(lambda: store(student, session)) == "not_allowed"


@pytest.mark.django_db
def test_sending_into_a_session_that_does_not_exist_is_not_allowed(session, student):
    missing = CounselingSession(pk=session.pk + 1000)

    assert refusal_code(lambda: store(student, missing)) == "not_allowed"


# --- chat_message_store: the body ----------------------------------------------------------


@pytest.mark.django_db
def test_the_body_is_stored_without_surrounding_whitespace(session, student):
    message, _ = store(student, session, "  \n Saya ingin bercerita.\t \n")

    message.refresh_from_db()
    assert message.body == "Saya ingin bercerita."


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["", "   ", "\n\t \n"])
def test_an_empty_or_blank_message_is_refused(session, student, body):
    assert refusal_code(lambda: store(student, session, body)) == "empty_message"
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_a_message_of_exactly_2000_characters_is_stored(session, student):
    body = "a" * 2000

    message, _ = store(student, session, f"  {body}  ")

    message.refresh_from_db()
    assert message.body == body


@pytest.mark.django_db
def test_a_message_of_2001_characters_is_refused(session, student):
    assert refusal_code(lambda: store(student, session, "a" * 2001)) == "message_too_long"
    assert not ChatMessage.objects.exists()


# --- chat_message_store: the rate limit ----------------------------------------------------


@pytest.mark.django_db
def test_the_twenty_first_message_in_thirty_seconds_is_refused(session, student):
    now = timezone.now()
    for n in range(20):
        store(student, session, f"pesan {n + 1}", now=now + seconds(n))

    code = refusal_code(lambda: store(student, session, "pesan 21", now=now + seconds(20)))

    assert code == "message_rate_limited"
    assert ChatMessage.objects.filter(session=session).count() == 20


@pytest.mark.django_db
def test_the_rate_window_slides_so_sending_resumes_once_old_messages_age_out(session, student):
    now = timezone.now()
    for n in range(20):
        store(student, session, f"pesan {n + 1}", now=now)

    message, created = store(student, session, "pesan 21", now=now + seconds(31))

    assert created and message.seq == 21


@pytest.mark.django_db
def test_messages_older_than_thirty_seconds_do_not_count(session, student):
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        ChatMessage(
            session=session,
            seq=n,
            sender=student,
            client_id=uuid.uuid4(),
            body=f"lama {n}",
            created_at=now - seconds(31),
        )
        for n in range(1, 31)
    )
    for n in range(20):
        store(student, session, f"baru {n}", now=now)

    assert refusal_code(lambda: store(student, session, now=now)) == "message_rate_limited"
    assert ChatMessage.objects.filter(session=session).count() == 50


@pytest.mark.django_db
def test_messages_within_thirty_seconds_count_even_when_stored_directly(session, student):
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        ChatMessage(
            session=session,
            seq=n,
            sender=student,
            client_id=uuid.uuid4(),
            body=f"baru saja {n}",
            created_at=now - seconds(29),
        )
        for n in range(1, 21)
    )

    assert refusal_code(lambda: store(student, session, now=now)) == "message_rate_limited"


@pytest.mark.django_db
def test_the_rate_limit_counts_a_users_messages_over_all_their_sessions(
    session, student, counselor, school
):
    # An earlier session of the same counselor, still in its grace period.
    second_student = StudentFactory(school=school)
    second_student.student_profile.counselor = counselor
    second_student.student_profile.save()
    earlier_start = session.starts_at - datetime.timedelta(minutes=50)
    other_session = CounselingSessionFactory(
        student=second_student,
        starts_at=earlier_start,
        ends_at=earlier_start + datetime.timedelta(minutes=45),
        status="in_progress",
    )
    now = timezone.now()
    for n in range(10):
        store(counselor, session, f"a{n}", now=now)
        store(counselor, other_session, f"b{n}", now=now)

    assert refusal_code(lambda: store(counselor, session, now=now)) == "message_rate_limited"
    # The other participant's own budget is untouched.
    message, _ = store(student, session, now=now)
    assert message.seq == 11


@pytest.mark.django_db
def test_a_resend_is_acknowledged_even_when_the_rate_limit_is_reached(session, student):
    now = timezone.now()
    client_id = uuid.uuid4()
    store(student, session, client_id=client_id, now=now)
    for n in range(19):
        store(student, session, f"pesan {n}", now=now)

    again, created = store(student, session, client_id=client_id, now=now)

    assert (again.seq, created) == (1, False)


# --- chat_mark_read ------------------------------------------------------------------------


@pytest.mark.django_db
def test_marking_read_marks_only_the_other_sides_messages(session, student, counselor):
    store(student, session, "1")
    store(counselor, session, "2")
    store(student, session, "3")

    changed = chat_mark_read(reader=counselor, session_id=session.pk, up_to=3)

    assert changed == 2
    read = dict(ChatMessage.objects.values_list("seq", "read_at"))
    assert read[1] is not None and read[3] is not None
    assert read[2] is None


@pytest.mark.django_db
def test_marking_read_stops_at_up_to_and_does_not_mark_twice(session, student, counselor):
    for n in range(3):
        store(student, session, str(n))

    assert chat_mark_read(reader=counselor, session_id=session.pk, up_to=2) == 2
    assert chat_mark_read(reader=counselor, session_id=session.pk, up_to=2) == 0
    assert list(ChatMessage.objects.filter(read_at__isnull=True).values_list("seq", flat=True)) == [
        3
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("person", OUTSIDERS)
def test_someone_else_cannot_mark_messages_read(request, session, student, person):
    store(student, session)
    outsider = request.getfixturevalue(person)

    code = refusal_code(lambda: chat_mark_read(reader=outsider, session_id=session.pk, up_to=1))

    assert code == "not_allowed"
    assert ChatMessage.objects.get().read_at is None


# --- session_phase_set ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_the_counselor_records_the_phase_reached_with_an_event(student, counselor, status):
    session = session_now(student, status=status)

    session_phase_set(counselor=counselor, session=session, phase="exploration")

    session.refresh_from_db()
    assert session.phase == CounselingSession.Phase.EXPLORATION
    event = session.events.get(kind=SessionEvent.Kind.PHASE)
    assert event.actor == counselor
    assert event.detail == str(CounselingSession.Phase.EXPLORATION.label)


@pytest.mark.django_db
def test_setting_the_same_phase_again_records_one_event(session, counselor):
    session_phase_set(counselor=counselor, session=session, phase="opening")
    session_phase_set(counselor=counselor, session=session, phase="opening")
    session_phase_set(counselor=counselor, session=session, phase="guidance")

    details = list(session.events.filter(kind="phase").values_list("detail", flat=True))
    assert details == [
        str(CounselingSession.Phase.OPENING.label),
        str(CounselingSession.Phase.GUIDANCE.label),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["requested", "confirmed", "cancelled", "no_show"])
def test_the_phase_cannot_be_set_before_the_session_started(student, counselor, status):
    session = session_now(student, status=status)

    code = refusal_code(
        lambda: session_phase_set(counselor=counselor, session=session, phase="opening")
    )

    assert code == "not_started"
    session.refresh_from_db()
    assert session.phase == ""
    assert not session.events.filter(kind="phase").exists()


@pytest.mark.django_db
def test_an_unknown_phase_is_refused(session, counselor):
    code = refusal_code(
        lambda: session_phase_set(counselor=counselor, session=session, phase="celebration")
    )

    assert code == "bad_phase"


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["student", *OUTSIDERS])
def test_only_the_sessions_counselor_sets_the_phase(request, session, person):
    actor = request.getfixturevalue(person)

    code = refusal_code(
        lambda: session_phase_set(counselor=actor, session=session, phase="opening")
    )

    assert code == "not_allowed"
    session.refresh_from_db()
    assert session.phase == ""


# --- session_note_save ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_counselor_saves_and_rewrites_one_note(session, counselor):
    session_note_save(counselor=counselor, session=session, body="Siswa cemas menjelang ujian.")
    session_note_save(counselor=counselor, session=session, body="Cemas; rencana: relaksasi.")

    note = SessionNote.objects.get()
    assert note.session_id == session.pk
    assert note.body == "Cemas; rencana: relaksasi."


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["student", *OUTSIDERS])
def test_only_the_sessions_counselor_saves_a_note(request, session, person):
    actor = request.getfixturevalue(person)

    code = refusal_code(
        lambda: session_note_save(counselor=actor, session=session, body="bukan catatanmu")
    )

    assert code == "not_allowed"
    assert not SessionNote.objects.exists()


# --- The note at rest -----------------------------------------------------------------------

NOTE_TEXT = "Rahasia: siswa mengalami perundungan di kelas XI."


def notes_key(*, secret_key: str, salt: str) -> bytes:
    """A Fernet key derived as the settings describe: PBKDF2-HMAC-SHA256, 100,000
    iterations, the notes salt, from the secret key."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=100_000)
    return base64.urlsafe_b64encode(kdf.derive(secret_key.encode()))


def raw_note_column() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM sessions_app_sessionnote")
        (body,) = cursor.fetchone()
    return body


@pytest.mark.django_db
def test_the_note_is_stored_as_a_fernet_token_not_as_text(session, counselor):
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)

    stored = raw_note_column()

    assert NOTE_TEXT not in stored
    assert "perundungan" not in stored
    assert stored.startswith("gAAAAA")
    assert SessionNote.objects.get().body == NOTE_TEXT


@pytest.mark.django_db
def test_the_notes_key_is_the_one_derived_from_the_secret_key_and_the_salt(session, counselor):
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)
    token = raw_note_column().encode()

    key = notes_key(secret_key=settings.SECRET_KEY, salt=settings.SALT_KEY[0])

    assert Fernet(key).decrypt(token).decode() == NOTE_TEXT


@pytest.mark.django_db
@pytest.mark.parametrize(
    "secret_key, salt",
    [
        (None, "another-schools-notes-key"),
        ("another-secret-key-of-at-least-fifty-characters-0123456789", None),
    ],
    ids=["wrong salt", "wrong secret key"],
)
def test_without_the_right_keys_the_note_cannot_be_decrypted(session, counselor, secret_key, salt):
    session_note_save(counselor=counselor, session=session, body=NOTE_TEXT)
    token = raw_note_column().encode()

    key = notes_key(secret_key=secret_key or settings.SECRET_KEY, salt=salt or settings.SALT_KEY[0])

    with pytest.raises(InvalidToken):
        Fernet(key).decrypt(token)


# --- session_outcome_record ----------------------------------------------------------------


def record(counselor, session, kind, referred_to="", referral_reason=""):
    return session_outcome_record(
        counselor=counselor,
        session=session,
        kind=kind,
        referred_to=referred_to,
        referral_reason=referral_reason,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["confirmed", "in_progress", "cancelled", "no_show"])
def test_the_outcome_waits_for_the_session_to_be_completed(student, counselor, status):
    session = session_now(student, status=status)

    assert refusal_code(lambda: record(counselor, session, "resolved")) == "not_completed"
    assert not SessionOutcome.objects.exists()


@pytest.mark.django_db
def test_the_counselor_records_an_outcome_with_an_event(completed, counselor):
    outcome = record(counselor, completed, "face_to_face")

    assert SessionOutcome.objects.get().pk == outcome.pk
    assert outcome.kind == SessionOutcome.Kind.FACE_TO_FACE
    event = completed.events.get(kind=SessionEvent.Kind.OUTCOME)
    assert event.actor == counselor


@pytest.mark.django_db
@pytest.mark.parametrize(
    "referred_to, referral_reason",
    [("", "Perlu asesmen psikolog."), ("Psikolog Puskesmas", ""), ("  ", "  \n")],
)
def test_a_referral_needs_to_whom_and_why(completed, counselor, referred_to, referral_reason):
    code = refusal_code(
        lambda: record(counselor, completed, "referral", referred_to, referral_reason)
    )

    assert code == "referral_incomplete"
    assert not SessionOutcome.objects.exists()
    assert not completed.events.filter(kind="outcome").exists()


@pytest.mark.django_db
def test_a_complete_referral_is_stored_trimmed(completed, counselor):
    record(counselor, completed, "referral", "  Psikolog Puskesmas ", " Perlu asesmen.\n")

    outcome = SessionOutcome.objects.get()
    assert (outcome.kind, outcome.referred_to, outcome.referral_reason) == (
        "referral",
        "Psikolog Puskesmas",
        "Perlu asesmen.",
    )


@pytest.mark.django_db
def test_an_outcome_other_than_referral_keeps_no_referral_fields(completed, counselor):
    record(counselor, completed, "resolved", "Psikolog Puskesmas", "Perlu asesmen.")

    outcome = SessionOutcome.objects.get()
    assert (outcome.kind, outcome.referred_to, outcome.referral_reason) == ("resolved", "", "")


@pytest.mark.django_db
def test_correcting_the_outcome_updates_the_one_row_and_records_each_change(completed, counselor):
    first = record(counselor, completed, "referral", "Psikolog Puskesmas", "Perlu asesmen.")
    second = record(counselor, completed, "online")

    assert first.pk == second.pk
    outcome = SessionOutcome.objects.get()
    assert (outcome.kind, outcome.referred_to, outcome.referral_reason) == ("online", "", "")
    assert completed.events.filter(kind="outcome").count() == 2


@pytest.mark.django_db
def test_an_unknown_outcome_is_refused(completed, counselor):
    assert refusal_code(lambda: record(counselor, completed, "graduated")) == "bad_outcome"


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["student", *OUTSIDERS])
def test_only_the_sessions_counselor_records_the_outcome(request, completed, person):
    actor = request.getfixturevalue(person)

    assert refusal_code(lambda: record(actor, completed, "resolved")) == "not_allowed"
    assert not SessionOutcome.objects.exists()


# --- Concurrency (PostgreSQL, real threads) ------------------------------------------------


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_messages_stored_at_once_get_distinct_consecutive_numbers(session, student, counselor):
    results = run_at_once(
        [
            lambda: store(student, session, "dari siswa"),
            lambda: store(counselor, session, "dari konselor"),
        ]
    )

    assert sorted(message.seq for message, _created in results) == [1, 2]
    assert sorted(ChatMessage.objects.values_list("seq", flat=True)) == [1, 2]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_many_messages_stored_at_once_are_numbered_without_gaps(session, student, counselor):
    calls = [
        (lambda sender=sender, n=n: store(sender, session, f"pesan {n}"))
        for n in range(8)
        for sender in (student, counselor)
    ]

    results = run_at_once(calls)

    assert all(created for _message, created in results)
    assert sorted(message.seq for message, _ in results) == list(range(1, 17))
    assert sorted(ChatMessage.objects.values_list("seq", flat=True)) == list(range(1, 17))


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_message_resent_at_once_is_stored_once(session, student):
    client_id = uuid.uuid4()

    results = run_at_once([lambda: store(student, session, "sekali", client_id=client_id)] * 2)

    assert sorted(created for _message, created in results) == [False, True]
    assert {message.pk for message, _ in results} == {ChatMessage.objects.get().pk}


# --- CounselingSession.room_state at its edges ----------------------------------------------

STARTS_AT = datetime.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB
ENDS_AT = STARTS_AT + datetime.timedelta(minutes=45)
OPENS_AT = STARTS_AT - datetime.timedelta(minutes=15)
CLOSES_AT = ENDS_AT + datetime.timedelta(minutes=30)


def unsaved_session(status="confirmed", consent=True) -> CounselingSession:
    return CounselingSession(
        starts_at=STARTS_AT,
        ends_at=ENDS_AT,
        status=status,
        consent_given_at=STARTS_AT - datetime.timedelta(days=3) if consent else None,
    )


@pytest.mark.parametrize(
    "now, state",
    [
        (OPENS_AT - seconds(1), "waiting"),
        (OPENS_AT, "open"),
        (STARTS_AT, "open"),
        (CLOSES_AT - seconds(1), "open"),
        (CLOSES_AT, "closed"),
    ],
    ids=["1s before opening", "at opening", "at start", "1s before closing", "at closing"],
)
@pytest.mark.parametrize("status", ["confirmed", "in_progress"])
def test_the_room_opens_15_minutes_before_and_closes_30_minutes_after(status, now, state):
    assert unsaved_session(status).room_state(now) == state


def test_the_room_waits_for_consent_only_inside_its_window():
    session = unsaved_session(consent=False)

    assert session.room_state(OPENS_AT - seconds(1)) == "waiting"
    assert session.room_state(OPENS_AT) == "consent_missing"
    assert session.room_state(CLOSES_AT) == "closed"


def test_a_requested_session_waits_even_in_its_window():
    assert unsaved_session("requested").room_state(STARTS_AT) == "waiting"


@pytest.mark.parametrize("status", ["cancelled", "declined", "no_show", "completed"])
def test_a_session_that_is_over_or_called_off_has_a_closed_room(status):
    session = unsaved_session(status)

    assert session.room_state(OPENS_AT - datetime.timedelta(days=1)) == "closed"
    assert session.room_state(STARTS_AT) == "closed"


@pytest.mark.django_db
def test_the_room_opening_and_closing_times(student):
    session = CounselingSessionFactory(student=student, starts_at=STARTS_AT, ends_at=ENDS_AT)

    assert session.room_opens_at == datetime.datetime(2026, 12, 7, 5, 45, tzinfo=UTC)
    assert session.room_closes_at == datetime.datetime(2026, 12, 7, 7, 15, tzinfo=UTC)
