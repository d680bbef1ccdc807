"""Hostile input at the booking, session, availability, room and booking-settings forms:
never a server error; a refused form writes nothing; an accepted one stores only rows
that pass validation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from sessions_app.forms import EmergencyContactFormSet
from sessions_app.models import (
    Availability,
    AvailabilityException,
    CounselingSession,
    EmergencyContact,
)
from sessions_app.policy import booking_policy_for
from sessions_app.slots import counselor_slots
from tests.properties.checks import fuzz_form, post, rolled_back, signed_in
from tests.properties.conftest import object_ids

pytestmark = pytest.mark.django_db


def local_day(days_ahead: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days_ahead)).isoformat()


def test_booking_form(world):
    policy = booking_policy_for(world.school)
    policy.max_open_requests = 3  # the student holds two already (requested, confirmed)
    policy.save()
    slot = counselor_slots(counselor=world.counselor, policy=policy, student=world.student)[0]

    def check(data, response, written):
        if written:  # one request, for the student and their own counselor
            (row,) = CounselingSession.objects.filter(status="requested").exclude(
                pk=world.sessions.requested.pk
            )
            assert (row.student_id, row.counselor_id) == (world.student.pk, world.counselor.pk)

    fuzz_form(
        signed_in(world.student),
        reverse("sessions:book"),
        {
            "slot": slot.key,
            "mode": "video",
            "field": "learning",
            "description": "Saya cemas menjelang ujian matematika.",
            "consent": "on",
        },
        ids=object_ids(world),
        check=check,
    )


def action_urls(sessions, actions) -> list[str]:
    return [
        reverse("sessions:session-action", args=[session.pk, action])
        for action in actions
        for session in sessions
    ]


def test_session_actions_of_the_student(world):
    s = world.sessions
    fuzz_form(
        signed_in(world.student),
        action_urls(
            [s.requested, s.confirmed, s.other, s.foreign],
            ["cancel", "accept-time", "reject-time", "consent", "confirm", "no-such-action"],
        ),
        {"reason": "Saya sakit hari itu."},
        ids=object_ids(world),
    )


def test_session_actions_of_the_counselor(world):
    s = world.sessions

    def check(data, response, written):
        other_people = CounselingSession.objects.exclude(counselor=world.counselor)
        assert set(other_people.values_list("status", flat=True)) == {"confirmed"}

    fuzz_form(
        signed_in(world.counselor),
        action_urls(
            [s.requested, s.confirmed, s.in_progress, s.other, s.foreign],
            ["decline", "cancel", "reschedule", "confirm", "start", "complete", "no-show"],
        ),
        {"reason": "Saya ada rapat guru.", "date": local_day(9), "time": "10:00"},
        ids=object_ids(world),
        check=check,
    )


def test_weekly_window_form(world):
    fuzz_form(
        signed_in(world.counselor),
        reverse("sessions:availability"),
        {
            "form": "window",
            "weekday": "0",
            "start_time": "16:00",
            "end_time": "17:30",
            "session_minutes": "45",
            "buffer_minutes": "15",
        },
    )


EXCEPTION = {
    "form": "exception",
    "kind": "blocked",
    "first_day": local_day(20),
    "last_day": "",
    "start_time": "",
    "end_time": "",
    "session_minutes": "45",
    "note": "Ujian semester",
}


def test_availability_exception_form(world):
    fuzz_form(
        signed_in(world.counselor),
        reverse("sessions:availability"),
        EXCEPTION,
    )


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_availability_exception_at_the_calendar_limit(world, day):
    response = signed_in(world.counselor).post(
        reverse("sessions:availability"), EXCEPTION | {"first_day": day}
    )
    assert response.status_code == 400


def test_availability_delete(world):
    own_window = Availability.objects.filter(counselor=world.counselor).first()
    other_window = Availability.objects.create(
        counselor=world.other_counselor,
        weekday=1,
        start_time=datetime.time(8),
        end_time=datetime.time(9),
    )
    now = timezone.now()
    other_block = AvailabilityException.objects.create(
        counselor=world.other_counselor,
        kind="blocked",
        starts_at=now,
        ends_at=now + datetime.timedelta(days=1),
    )

    def check(data, response, written):
        assert Availability.objects.filter(pk=other_window.pk).exists()
        assert AvailabilityException.objects.filter(pk=other_block.pk).exists()

    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("sessions:availability-delete", args=["window", own_window.pk]),
            reverse("sessions:availability-delete", args=["window", other_window.pk]),
            reverse("sessions:availability-delete", args=["exception", other_block.pk]),
            reverse("sessions:availability-delete", args=["session", own_window.pk]),
        ],
        {},
        check=check,
    )


def test_counselor_schedules_a_session_form(world):
    client = signed_in(world.counselor)
    student = signed_in(world.student)

    def check(data, response, written):
        if not written:
            return
        # What the form accepted is shown on both sides' pages, in any time zone.
        session = CounselingSession.objects.latest("pk")
        assert (session.student_id, session.counselor_id) == (world.student.pk, client_pk)
        for who, name in [(client, "sessions:schedule"), (student, "sessions:my-sessions")]:
            assert who.get(reverse(name)).status_code == 200
        for who in (client, student):
            for name in ("sessions:session-detail", "sessions:session-calendar"):
                assert who.get(reverse(name, args=[session.pk])).status_code in (200, 404)

    client_pk = world.counselor.pk
    fuzz_form(
        client,
        reverse("sessions:session-create"),
        {
            "student": str(world.student.pk),
            "date": local_day(10),
            "time": "10:00",
            "minutes": "45",
            "mode": "chat",
            "field": "personal",
            "description": "Lanjutan sesi minggu lalu.",
        },
        ids=object_ids(world),
        check=check,
    )


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_room_note_form(world, accept):
    s = world.sessions
    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("sessions:room-note", args=[s.in_progress.pk]),
            reverse("sessions:room-note", args=[s.other.pk]),
            reverse("sessions:room-note", args=[s.foreign.pk]),
        ],
        {"body": "Siswa tampak lebih tenang."},
        headers={"accept": accept},
    )


def test_room_outcome_form(world):
    s = world.sessions
    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("sessions:room-outcome", args=[s.completed.pk]),
            reverse("sessions:room-outcome", args=[s.in_progress.pk]),
            reverse("sessions:room-outcome", args=[s.other.pk]),
        ],
        {
            "kind": "referral",
            "referred_to": "Psikolog Puskesmas",
            "referral_reason": "Kecemasan berat.",
        },
    )


def contact_forms(world) -> tuple[dict, dict]:
    """The booking settings' contacts as the page posts them: (the fields, the formset's
    management fields)."""
    contacts = list(EmergencyContact.objects.filter(school=world.school).order_by("position"))
    fields = {}
    for n, contact in enumerate(contacts):
        fields |= {
            f"contacts-{n}-id": str(contact.pk),
            f"contacts-{n}-name": contact.name,
            f"contacts-{n}-phone": contact.phone,
            f"contacts-{n}-description": contact.description,
            f"contacts-{n}-position": str(contact.position),
        }
    n = len(contacts)
    fields |= {
        f"contacts-{n}-name": "Guru piket",
        f"contacts-{n}-phone": "0812-3456-7890",
        f"contacts-{n}-position": "9",
    }
    management = {
        "contacts-TOTAL_FORMS": str(n + 1),
        "contacts-INITIAL_FORMS": str(n),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    return fields, management


POLICY = {
    "horizon_days": "28",
    "min_notice_hours": "2",
    "max_open_requests": "2",
    "late_cancel_hours": "24",
    "questionnaire_open_days": "3",
    "consent_text": "Persetujuan layanan konseling daring.",
}


def test_booking_settings_form(world):
    contacts, management = contact_forms(world)
    foreign = EmergencyContact.objects.filter(school=world.other_school).first()

    def check(data, response, written):
        assert EmergencyContact.objects.filter(pk=foreign.pk, school=world.other_school).exists()

    fuzz_form(
        signed_in(world.admin),
        reverse("sessions:booking-settings"),
        POLICY | contacts,
        ids=[value for key, value in contacts.items() if key.endswith("-id")] + [foreign.pk],
        check=check,
        # The formset's own counts are spoilt below (and bounded: see the test after).
        fixed=management,
    )


def test_booking_settings_formset_counts(world):
    contacts, management = contact_forms(world)
    client = signed_in(world.admin)
    count = st.one_of(
        st.integers(-3, 12).map(str),
        st.sampled_from(["", "abc", "1e3", "0x10", "٣", " 2 ", "2.0", "\x00", "-0"]),
    )

    @given(st.fixed_dictionaries(dict.fromkeys(management, count)))
    def example(counts):
        with rolled_back():
            post(client, reverse("sessions:booking-settings"), POLICY | contacts | counts)

    example()


def test_booking_settings_formset_is_bounded(world):
    _contacts, management = contact_forms(world)
    data = POLICY | management | {"contacts-TOTAL_FORMS": str(2**63)}
    formset = EmergencyContactFormSet(data, instance=world.school, prefix="contacts")
    assert formset.total_form_count() <= 50
