"""The booking pages as people use them: a student books, a counselor answers and edits
their week, a school admin sets the rules; lists run a constant number of queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from sessions_app.models import Availability, AvailabilityException, CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.slots import counselor_slots
from tests.factories import AvailabilityFactory, CounselingSessionFactory, StudentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def weekly_windows(counselor):
    """Every day 08:00–16:00 local: there are always free slots in the coming days."""
    return [
        AvailabilityFactory(
            counselor=counselor,
            weekday=day,
            start_time=datetime.time(8),
            end_time=datetime.time(16),
        )
        for day in range(7)
    ]


def first_free_slot(student):
    counselor = student.student_profile.counselor
    return counselor_slots(counselor=counselor, policy=booking_policy_for(student.school))[0]


def booking_data(slot, **overrides):
    data = {
        "slot": slot.key,
        "mode": "video",
        "field": "learning",
        "description": "Saya gugup saat ulangan matematika.",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_a_student_books_a_free_slot_and_the_counselor_is_notified(
    client, student, counselor, weekly_windows
):
    slot = first_free_slot(student)
    client.force_login(student)
    page = client.get(reverse("sessions:book"))
    assert slot.key in page.content.decode()
    response = client.post(reverse("sessions:book"), booking_data(slot))
    session = CounselingSession.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sessions:session-detail", args=[session.pk])
    assert (session.status, session.mode, session.starts_at) == (
        "requested",
        "video",
        slot.starts_at,
    )
    assert Notification.objects.filter(user=counselor, kind="session_requested").count() == 1


def test_a_slot_taken_meanwhile_shows_the_message_fresh_slots_and_keeps_the_intake(
    client, student, other_student, counselor, weekly_windows
):
    other_student.student_profile.counselor = counselor
    other_student.student_profile.save()
    slot = first_free_slot(student)
    CounselingSessionFactory(
        student=other_student, starts_at=slot.starts_at, ends_at=slot.ends_at, status="requested"
    )
    client.force_login(student)
    response = client.post(reverse("sessions:book"), booking_data(slot))
    body = response.content.decode()
    assert response.status_code == 200
    assert "That time was just taken" in body or "baru saja diambil" in body
    assert "Saya gugup saat ulangan matematika." in body
    assert f'value="{slot.key}"' not in body  # the taken time is no longer offered
    assert CounselingSession.objects.count() == 1


def test_booking_without_consent_is_refused_and_keeps_what_was_typed(
    client, student, weekly_windows
):
    slot = first_free_slot(student)
    client.force_login(student)
    data = booking_data(slot)
    del data["consent"]
    response = client.post(reverse("sessions:book"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "consent" in response.context["form"].errors
    assert "Saya gugup saat ulangan matematika." in body
    assert f'value="{slot.key}" autocomplete="off" checked' in body
    assert not CounselingSession.objects.exists()


def test_a_forged_slot_value_is_refused_with_a_message(client, student, weekly_windows):
    client.force_login(student)
    data = booking_data(first_free_slot(student))
    data["slot"] = "x"
    response = client.post(reverse("sessions:book"), data)
    assert "slot" in response.context["form"].errors
    assert not CounselingSession.objects.exists()


def test_a_student_without_a_counselor_is_told_to_ask_the_admin(client, school):
    lonely = StudentFactory(school=school)
    client.force_login(lonely)
    response = client.get(reverse("sessions:book"))
    assert response.status_code == 200
    assert response.context["counselor"] is None


def test_need_help_now_is_on_every_student_page_with_the_national_hotlines(client, student):
    client.force_login(student)
    for url_name in ["accounts:student-home", "sessions:book", "sessions:my-sessions"]:
        body = client.get(reverse(url_name)).content.decode()
        assert 'id="help-now"' in body
        assert "129" in body


def test_counselors_do_not_get_the_student_help_box(client, counselor):
    client.force_login(counselor)
    assert 'id="help-now"' not in client.get(reverse("sessions:schedule")).content.decode()


def test_the_counselor_confirms_and_the_student_is_notified(client, student, counselor):
    session = CounselingSessionFactory(student=student, status="requested")
    client.force_login(counselor)
    url = reverse("sessions:session-action", args=[session.pk, "confirm"])
    assert client.post(url).status_code == 302
    session.refresh_from_db()
    assert session.status == "confirmed"
    assert Notification.objects.filter(user=student, kind="session_confirmed").exists()
    client.force_login(student)
    home = client.get(reverse("accounts:student-home")).content.decode()
    assert 'id="unread-count">1' in home


def test_declining_without_a_reason_shows_the_form_again(client, student, counselor):
    session = CounselingSessionFactory(student=student, status="requested")
    client.force_login(counselor)
    url = reverse("sessions:session-action", args=[session.pk, "decline"])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.context["reason_form"].errors
    session.refresh_from_db()
    assert session.status == "requested"


def test_a_refused_transition_is_explained_not_crashed(client, student, counselor):
    session = CounselingSessionFactory(student=student, status="cancelled")
    client.force_login(counselor)
    url = reverse("sessions:session-action", args=[session.pk, "complete"])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages and session.status == "cancelled"


def test_the_counselor_sees_the_missing_guardian_consent_flag(client, student, counselor):
    profile = student.student_profile
    profile.has_guardian_consent = False
    profile.save()
    session = CounselingSessionFactory(student=student, status="requested")
    client.force_login(counselor)
    body = client.get(reverse("sessions:session-detail", args=[session.pk])).content.decode()
    assert 'id="guardian-flag"' in body


def test_the_calendar_file_of_a_confirmed_session(client, student):
    session = CounselingSessionFactory(student=student, status="confirmed")
    client.force_login(student)
    response = client.get(reverse("sessions:session-calendar", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert session.description not in response.content.decode()


def test_a_requested_session_has_no_calendar_file_yet(client, student):
    session = CounselingSessionFactory(student=student, status="requested")
    client.force_login(student)
    assert client.get(reverse("sessions:session-calendar", args=[session.pk])).status_code == 404


def test_a_wita_counselor_enters_a_window_in_local_time(client, counselor, school):
    school.time_zone = "Asia/Makassar"
    school.save()
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:availability"),
        {
            "form": "window",
            "weekday": 0,
            "start_time": "13:00",
            "end_time": "15:00",
            "session_minutes": 45,
            "buffer_minutes": 15,
        },
    )
    assert response.status_code == 302
    window = Availability.objects.get(counselor=counselor)
    assert (window.start_time, window.end_time) == (datetime.time(13), datetime.time(15))
    page = client.get(reverse("sessions:availability")).content.decode()
    assert "13:00–15:00" in page


def test_a_window_that_ends_before_it_starts_is_refused_and_kept(client, counselor):
    client.force_login(counselor)
    data = {
        "form": "window",
        "weekday": 2,
        "start_time": "15:00",
        "end_time": "13:00",
        "session_minutes": 45,
        "buffer_minutes": 15,
    }
    response = client.post(reverse("sessions:availability"), data)
    assert response.status_code == 400
    assert response.context["window_form"].non_field_errors()
    assert 'value="15:00"' in response.content.decode()
    assert not Availability.objects.exists()


def test_overlapping_weekly_windows_are_refused(client, counselor):
    AvailabilityFactory(counselor=counselor, weekday=1)
    client.force_login(counselor)
    data = {
        "form": "window",
        "weekday": 1,
        "start_time": "14:00",
        "end_time": "16:00",
        "session_minutes": 45,
        "buffer_minutes": 15,
    }
    response = client.post(reverse("sessions:availability"), data)
    assert response.status_code == 400
    assert Availability.objects.count() == 1


def test_blocking_an_exam_week_stores_whole_local_days_in_utc(client, counselor, school):
    school.time_zone = "Asia/Makassar"  # UTC+8
    school.save()
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:availability"),
        {
            "form": "exception",
            "kind": "blocked",
            "first_day": "2030-03-04",
            "last_day": "2030-03-08",
            "session_minutes": 45,
            "note": "Ujian",
        },
    )
    assert response.status_code == 302
    block = AvailabilityException.objects.get()
    assert block.starts_at == datetime.datetime(2030, 3, 3, 16, 0, tzinfo=UTC)
    assert block.ends_at == datetime.datetime(2030, 3, 8, 16, 0, tzinfo=UTC)


def test_blocking_afternoons_makes_one_exception_per_day(client, counselor):
    client.force_login(counselor)
    client.post(
        reverse("sessions:availability"),
        {
            "form": "exception",
            "kind": "blocked",
            "first_day": "2030-03-04",
            "last_day": "2030-03-06",
            "start_time": "12:00",
            "end_time": "16:00",
            "session_minutes": 45,
        },
    )
    blocks = list(AvailabilityException.objects.order_by("starts_at"))
    assert [b.starts_at for b in blocks] == [
        datetime.datetime(2030, 3, day, 5, 0, tzinfo=UTC) for day in (4, 5, 6)
    ]
    assert all(b.ends_at - b.starts_at == datetime.timedelta(hours=4) for b in blocks)


def test_an_extra_window_needs_times(client, counselor):
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:availability"),
        {"form": "exception", "kind": "extra", "first_day": "2030-03-04", "session_minutes": 45},
    )
    assert response.status_code == 400
    assert not AvailabilityException.objects.exists()


def test_a_counselor_schedules_a_session_for_a_client_in_local_time(client, counselor, student):
    client.force_login(counselor)
    day = timezone.localdate() + datetime.timedelta(days=3)
    response = client.post(
        reverse("sessions:session-create"),
        {
            "student": student.pk,
            "date": day.isoformat(),
            "time": "10:00",
            "minutes": 60,
            "mode": "video",
            "field": "career",
        },
    )
    assert response.status_code == 302
    session = CounselingSession.objects.get()
    assert session.status == "confirmed"
    assert session.starts_at == datetime.datetime.combine(
        day, datetime.time(3, 0), tzinfo=UTC
    )  # 10:00 WIB
    assert session.consent_given_at is None
    client.force_login(student)
    detail = client.get(reverse("sessions:session-detail", args=[session.pk]))
    assert "consent" in detail.context["actions"]
    client.post(reverse("sessions:session-action", args=[session.pk, "consent"]))
    session.refresh_from_db()
    assert session.consent_given_at is not None


def test_the_school_admin_edits_the_booking_rules_and_contacts(client, school_admin, school):
    client.force_login(school_admin)
    page = client.get(reverse("sessions:booking-settings"))
    contacts = page.context["contacts"]
    data = {
        "horizon_days": 14,
        "min_notice_hours": 4,
        "max_open_requests": 1,
        "late_cancel_hours": 12,
        "questionnaire_open_days": 5,
        "consent_text": "Teks persetujuan sekolah kami.",
        "contacts-TOTAL_FORMS": len(contacts.forms),
        "contacts-INITIAL_FORMS": contacts.initial_form_count(),
        "contacts-MIN_NUM_FORMS": 0,
        "contacts-MAX_NUM_FORMS": 1000,
    }
    for index, form in enumerate(contacts.forms):
        for name in ("id", "name", "phone", "description", "position"):
            value = form.initial.get(name, form.fields[name].initial)
            data[f"contacts-{index}-{name}"] = "" if value is None else value
        data[f"contacts-{index}-school"] = school.pk
    extra = contacts.initial_form_count()
    data.update({f"contacts-{extra}-name": "Guru BK piket", f"contacts-{extra}-phone": "0812"})
    response = client.post(reverse("sessions:booking-settings"), data)
    assert response.status_code == 302, response.context["contacts"].errors
    policy = booking_policy_for(school)
    assert (policy.horizon_days, policy.max_open_requests) == (14, 1)
    assert policy.questionnaire_open_days == 5
    assert school.emergency_contacts.filter(name="Guru BK piket").exists()


def test_bad_booking_rules_are_refused_and_kept(client, school_admin, school):
    client.force_login(school_admin)
    page = client.get(reverse("sessions:booking-settings"))
    data = {
        "horizon_days": 0,
        "min_notice_hours": 4,
        "max_open_requests": 1,
        "late_cancel_hours": 12,
        "consent_text": "Teks baru",
        "contacts-TOTAL_FORMS": 0,
        "contacts-INITIAL_FORMS": 0,
        "contacts-MIN_NUM_FORMS": 0,
        "contacts-MAX_NUM_FORMS": 1000,
    }
    response = client.post(reverse("sessions:booking-settings"), data)
    assert response.status_code == 400
    assert "horizon_days" in response.context["form"].errors
    assert "Teks baru" in response.content.decode()
    assert page.status_code == 200


def test_the_schedule_runs_constant_queries(client, counselor, school, assert_constant_queries):
    client.force_login(counselor)
    today = timezone.localdate(timezone=school.zone())
    url = reverse("sessions:schedule") + f"?date={today.isoformat()}"
    monday = today - datetime.timedelta(days=today.weekday())

    def grow():
        for n in range(6):
            student = StudentFactory(school=school)
            student.student_profile.counselor = counselor
            student.student_profile.save()
            start = datetime.datetime.combine(
                monday + datetime.timedelta(days=n), datetime.time(9), tzinfo=school.zone()
            )
            CounselingSessionFactory(student=student, starts_at=start, status="confirmed")
            CounselingSessionFactory(
                student=student,
                starts_at=timezone.now() + datetime.timedelta(days=3, hours=n),
                status="requested",
            )

    assert_constant_queries(lambda: client.get(url), grow)


def test_my_sessions_runs_constant_queries(client, student, assert_constant_queries):
    client.force_login(student)

    def grow():
        for n in range(8):
            CounselingSessionFactory(
                student=student,
                starts_at=timezone.now() + datetime.timedelta(days=n - 4, hours=n),
                status="confirmed" if n % 2 else "cancelled",
            )

    assert_constant_queries(lambda: client.get(reverse("sessions:my-sessions")), grow)


def test_the_notification_list_runs_constant_queries(client, student, assert_constant_queries):
    client.force_login(student)

    def grow():
        for _n in range(5):
            session = CounselingSessionFactory(
                student=student, starts_at=timezone.now() + datetime.timedelta(days=_n + 1)
            )
            Notification.objects.create(user=student, kind="session_confirmed", session=session)

    url = reverse("notifications:notification-list")
    assert_constant_queries(lambda: client.get(url), grow)


def test_opening_a_notification_marks_it_read_and_goes_to_the_session(client, student):
    session = CounselingSessionFactory(student=student)
    note = Notification.objects.create(user=student, kind="session_confirmed", session=session)
    client.force_login(student)
    response = client.post(reverse("notifications:notification-open", args=[note.pk]))
    assert response.url == reverse("sessions:session-detail", args=[session.pk])
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_refused_reschedule_keeps_the_typed_time_and_says_why(client, student, counselor):
    session = CounselingSessionFactory(student=student, status="confirmed")
    other = CounselingSessionFactory(
        student=student,
        starts_at=session.starts_at + datetime.timedelta(days=1),
        status="confirmed",
    )
    local = timezone.localtime(other.starts_at, student.school.zone())
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:session-action", args=[session.pk, "reschedule"]),
        {"date": local.date().isoformat(), "time": local.strftime("%H:%M")},
    )
    assert response.status_code == 400
    assert response.context["reschedule_form"].non_field_errors()
    assert local.date().isoformat() in response.content.decode()
    session.refresh_from_db()
    assert session.proposed_starts_at is None


def test_a_student_can_book_only_for_themselves_with_their_own_counselor(
    client, student, counselor, other_student, foreign_counselor, weekly_windows
):
    slot = first_free_slot(student)
    client.force_login(student)
    data = booking_data(slot, student=other_student.pk, counselor=foreign_counselor.pk)
    client.post(reverse("sessions:book"), data)
    session = CounselingSession.objects.get()
    assert (session.student, session.counselor) == (student, counselor)


def test_a_counselor_from_another_school_is_never_booked(
    client, student, foreign_counselor, weekly_windows
):
    profile = student.student_profile
    profile.counselor = foreign_counselor  # inconsistent data must not leak across schools
    profile.save()
    AvailabilityFactory(counselor=foreign_counselor)
    client.force_login(student)
    response = client.get(reverse("sessions:book"))
    assert response.context["counselor"] is None or not response.context.get("days")
    assert not CounselingSession.objects.exists()
