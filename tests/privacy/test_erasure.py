"""Erasure on a written request: what is gone, what is kept, that it is audited, that
the student is signed out for good, that it happens once, and that a failure partway
changes nothing."""

import datetime
from unittest import mock

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import PendingCredential, SignIn, StudentProfile, User
from audit.registration import HIDDEN
from instruments.models import Administration, Response
from notifications.models import Notification
from privacy.models import DataRequest
from privacy.services import PrivacyError, data_export_record, student_erase
from sessions_app.models import (
    ChatMessage,
    CounselingSession,
    SessionEvent,
    SessionNote,
    SessionOutcome,
)
from sessions_app.services import session_cancel, session_decline
from tests.factories import TEST_PASSWORD, AdministrationFactory, CounselingSessionFactory
from tests.privacy.records import NOTE, OTHER_TEXT, counseling_record, other_students_chat
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db

REQUEST = {"requester": "guardian", "request_date": "2026-01-05", "reference": "Surat 31/BK"}


@pytest.fixture(autouse=True)
def no_rate_limits_from_earlier_tests():
    """Sign-in attempts are counted in the cache (rate limits): start each test afresh."""
    cache.clear()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def sign_in(username: str) -> Client:
    client = english(Client())
    client.post(reverse("accounts:login"), {"username": username, "password": TEST_PASSWORD})
    return client


@pytest.fixture
def erased(client, school_admin, student, other_student):
    """The student, signed in on a phone, with a record; the admin erases the data."""
    record = counseling_record(student)
    other_session = other_students_chat(other_student)
    AdministrationFactory(student=other_student)
    PendingCredential.objects.create(
        issued_by=school_admin, username=student.username, name="x", password="abcde-fghij"
    )
    phone = sign_in(student.username)
    assert phone.get(reverse("accounts:student-home")).status_code == 200
    english(client).force_login(school_admin)
    url = reverse("privacy:student-erase", args=[student.pk])
    response = client.post(url, {**REQUEST, "confirmed": "1"})
    assert response.status_code == 302
    return {
        "record": record,
        "old_username": student.username,
        "nisn": student.student_profile.nisn,
        "phone": phone,
        "other_session": other_session,
        "response": response,
    }


def test_the_confirmation_step_names_the_student_and_the_request_and_erases_nothing(
    client, school_admin, student
):
    english(client).force_login(school_admin)
    url = reverse("privacy:student-erase", args=[student.pk])
    assert client.get(url).status_code == 200
    page = client.post(url, REQUEST)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="erasure-confirm"' in html
    assert student.display_name in html
    assert student.student_profile.nisn in html
    assert "Surat 31/BK" in html
    assert "The parent or guardian" in html
    assert 'name="confirmed" value="1"' in html
    student.refresh_from_db()
    assert student.is_active and student.username == "siswa"
    assert not DataRequest.objects.exists()


@pytest.mark.parametrize("url_name", ["privacy:student-erase", "privacy:student-export"])
def test_the_reference_field_warns_against_writing_a_name(client, school_admin, student, url_name):
    english(client).force_login(school_admin)
    page = client.get(reverse(url_name, args=[student.pk])).content.decode()
    assert "Do not write the student's or the guardian's name" in page
    assert "kept even after an erasure" in page


def test_the_erasure_page_says_what_the_counselor_wrote_is_kept(client, school_admin, student):
    english(client).force_login(school_admin)
    page = client.get(reverse("privacy:student-erase", args=[student.pk])).content.decode()
    assert "What the counselor wrote in the session records" in page
    assert "where a referral went and why" in page


def test_the_account_is_anonymised(erased, student):
    user = User.objects.get(pk=student.pk)
    assert user.username == f"terhapus-{student.pk}"
    assert (user.first_name, user.last_name, user.email) == ("", "", "")
    assert not user.has_usable_password()
    assert not user.is_active
    assert user.role == User.Role.STUDENT and user.school_id == student.school_id
    profile = StudentProfile.objects.get(user=user)
    assert profile.nisn is None
    assert (profile.guardian_name, profile.guardian_phone) == ("", "")
    assert profile.school_class is None
    assert profile.counselor is None
    assert not profile.has_guardian_consent and profile.guardian_consent_date is None
    assert not User.objects.filter(username=erased["old_username"]).exists()
    assert not StudentProfile.objects.filter(nisn=erased["nisn"]).exists()


def test_personal_content_is_removed_and_other_students_content_stays(
    erased, student, other_student
):
    assert not ChatMessage.objects.filter(session__student=student).exists()
    assert not Administration.objects.filter(student=student).exists()
    assert not Response.objects.filter(administration__student=student).exists()
    assert not Notification.objects.filter(user=student).exists()
    assert not PendingCredential.objects.filter(username=erased["old_username"]).exists()
    assert not CounselingSession.objects.filter(student=student).exclude(description="").exists()
    # Nothing of anyone else's.
    assert ChatMessage.objects.get(session=erased["other_session"]).body == OTHER_TEXT
    assert Administration.objects.filter(student=other_student).count() == 1


def test_the_session_records_and_the_counselors_notes_are_kept(erased, student, counselor):
    record = erased["record"]
    past = CounselingSession.objects.get(pk=record.past.pk)
    assert (past.status, past.mode, past.starts_at, past.counselor) == (
        "completed",
        "chat",
        record.past.starts_at,
        counselor,
    )
    assert SessionOutcome.objects.get(session=past).kind == "resolved"
    assert SessionNote.objects.get(session=past).body == NOTE  # still decrypts
    assert CounselingSession.objects.filter(student=student).count() == 2


def test_sessions_still_to_come_are_cancelled_and_the_counselor_is_told(erased, student, counselor):
    upcoming = CounselingSession.objects.get(pk=erased["record"].upcoming.pk)
    assert upcoming.status == "cancelled"
    assert not upcoming.is_late_cancellation
    assert Notification.objects.filter(
        user=counselor, kind="session_cancelled", session=upcoming
    ).exists()


def test_the_erasure_is_audited_and_recorded_as_a_data_request(erased, student, school_admin):
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User),
        object_id=student.pk,
        action=LogEntry.Action.UPDATE,
    )
    # One entry for the account's fields, one saying the password changed (no value).
    [change] = [entry for entry in entries if "username" in entry.changes_dict]
    assert [entry.changes_dict for entry in entries if "password" in entry.changes_dict] == [
        {"password": [HIDDEN, HIDDEN]}
    ]
    assert change.actor == school_admin
    assert change.changes_dict["username"] == [erased["old_username"], f"terhapus-{student.pk}"]
    assert change.changes_dict["is_active"] == [True, False]
    profile_change = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(StudentProfile),
        object_id=student.student_profile.pk,
        action=LogEntry.Action.UPDATE,
    ).latest("timestamp")
    assert profile_change.actor == school_admin
    assert "nisn" in profile_change.changes_dict
    request = DataRequest.objects.get(student=student)
    assert (request.kind, request.processed_by, request.requester) == (
        "erasure",
        school_admin,
        "guardian",
    )
    assert (str(request.request_date), request.reference) == ("2026-01-05", "Surat 31/BK")
    assert request.completed_at is not None
    assert request.summary["chat_messages"] == 2
    assert request.summary["questionnaire_responses"] == 1


def test_the_student_is_signed_out_and_can_never_sign_in_again(erased, student):
    assert not SignIn.objects.filter(user_id=student.pk).exists()
    response = erased["phone"].get(reverse("accounts:student-home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    for username in (erased["old_username"], f"terhapus-{student.pk}"):
        client = sign_in(username)
        assert client.get(reverse("accounts:student-home")).status_code == 302
    assert not SignIn.objects.filter(user_id=student.pk).exists()


def test_erasure_happens_once(erased, client, school_admin, student):
    page = client.get(reverse("privacy:student-erase", args=[student.pk]))
    assert 'id="already-erased"' in page.content.decode()
    response = client.post(
        reverse("privacy:student-erase", args=[student.pk]), {**REQUEST, "confirmed": "1"}
    )
    assert response.status_code == 400
    with pytest.raises(PrivacyError) as refused:
        student_erase(
            admin=school_admin,
            student=User.objects.get(pk=student.pk),
            requester="student",
            request_date=datetime.date(2026, 1, 6),
            reference="again",
        )
    assert refused.value.code == "already_erased"
    with pytest.raises(PrivacyError) as refused:
        data_export_record(
            processed_by=school_admin,
            student=User.objects.get(pk=student.pk),
            requester="guardian",
            request_date=datetime.date(2026, 1, 6),
            reference="after",
        )
    assert refused.value.code == "already_erased"
    assert DataRequest.objects.filter(student=student).count() == 1


def test_erasure_waits_for_a_session_in_progress(school_admin, student):
    session_now(student)
    with pytest.raises(PrivacyError) as refused:
        student_erase(
            admin=school_admin,
            student=student,
            requester="student",
            request_date=timezone.localdate(),
            reference="letter",
        )
    assert refused.value.code == "session_in_progress"
    student.refresh_from_db()
    assert student.is_active and not DataRequest.objects.exists()


def test_the_success_message_says_what_was_removed(erased, client):
    page = client.get(erased["response"].url)
    assert "data has been erased: 2 chat messages" in page.content.decode()


@pytest.mark.parametrize(
    "change",
    [
        lambda admin, user: account_services.account_set_active(
            admin=admin, user=user, is_active=True
        ),
        lambda admin, user: account_services.account_password_reset(admin=admin, user=user),
        lambda admin, user: account_services.account_update(
            admin=admin, user=user, full_name="Kembali", email=""
        ),
    ],
)
def test_an_erased_account_cannot_be_brought_back(school_admin, student, change):
    student_erase(
        admin=school_admin,
        student=student,
        requester="guardian",
        request_date=datetime.date(2026, 11, 1),
        reference="Surat wali 12/2026",
    )
    student.refresh_from_db()
    with pytest.raises(account_services.AccountError) as refused:
        change(school_admin, student)
    assert refused.value.code == "erased"
    student.refresh_from_db()
    assert not student.is_active and student.first_name != "Kembali"


def erase(admin, student):
    return student_erase(
        admin=admin,
        student=student,
        requester="guardian",
        request_date=datetime.date(2026, 1, 5),
        reference="Surat 31/BK",
    )


def axes_rows(username: str) -> None:
    """A failure log and an access log row: RuangBK's settings write neither, but rows
    from an earlier configuration would be there."""
    fields = {"ip_address": "10.0.0.7", "user_agent": "Firefox", "http_accept": "*/*"}
    AccessFailureLog.objects.create(username=username, path_info="/masuk/", **fields)
    AccessLog.objects.create(username=username, path_info="/masuk/", **fields)


def axes_usernames() -> set[str]:
    return {
        username
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
        for username in model.objects.values_list("username", flat=True)
    }


def test_failed_sign_ins_and_sign_in_records_of_the_student_are_removed(
    school_admin, student, other_student
):
    sign_in(student.username)
    sign_in(other_student.username)
    for username in (student.username, other_student.username):  # after: success resets
        english(Client()).post(
            reverse("accounts:login"), {"username": username, "password": "salah-sandi"}
        )
        axes_rows(username)
    AccessAttempt.objects.create(
        username=student.username.upper(),  # the same account, typed in capitals
        ip_address="10.0.0.8",
        user_agent="Chrome",
        http_accept="*/*",
        path_info="/masuk/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    assert axes_usernames() == {"siswa", "SISWA", "siswa_lain"}
    assert SignIn.objects.filter(user=student).count() == 1

    summary = erase(school_admin, student)

    assert axes_usernames() == {"siswa_lain"}
    assert AccessAttempt.objects.get().failures_since_start == 1
    assert AccessFailureLog.objects.count() == AccessLog.objects.count() == 1
    assert not SignIn.objects.filter(user=student).exists()
    assert SignIn.objects.filter(user=other_student).count() == 1
    # One real failed attempt and one typed in capitals, one failure log, one access log.
    assert summary.counts["sign_in_records"] == 4
    assert summary.counts["sign_ins_ended"] == 1


@pytest.fixture
def reasons(student, counselor):
    """A session the student cancelled and one the counselor declined, with reasons."""
    soon = timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    cancelled = session_cancel(
        user=student,
        session=CounselingSessionFactory(student=student, starts_at=soon),
        reason="Saya sakit, ada masalah di rumah.",
    )
    declined = session_decline(
        counselor=counselor,
        session=CounselingSessionFactory(
            student=student, starts_at=soon + datetime.timedelta(days=1), status="requested"
        ),
        reason="Jadwal saya bentrok dengan rapat.",
    )
    return {"cancelled": cancelled, "declined": declined}


def test_the_students_own_reasons_and_event_details_are_cleared(school_admin, student, reasons):
    erase(school_admin, student)
    cancelled = CounselingSession.objects.get(pk=reasons["cancelled"].pk)
    assert cancelled.status == "cancelled" and cancelled.status_reason == ""
    event = SessionEvent.objects.get(session=cancelled, kind="cancelled")
    assert event.actor_id == student.pk and event.detail == ""
    assert not SessionEvent.objects.filter(session__student=student, actor=student).exclude(
        detail=""
    )
    # What the counselor wrote is the counseling record, and stays.
    declined = CounselingSession.objects.get(pk=reasons["declined"].pk)
    assert declined.status_reason == "Jadwal saya bentrok dengan rapat."
    assert (
        SessionEvent.objects.get(session=declined, kind="declined").detail
        == "Jadwal saya bentrok dengan rapat."
    )


def snapshot(student) -> dict:
    user = User.objects.get(pk=student.pk)
    profile = StudentProfile.objects.get(user=user)
    sessions = CounselingSession.objects.filter(student=student).order_by("pk")
    return {
        "account": (user.username, user.first_name, user.email, user.is_active, user.password),
        "profile": (
            profile.nisn,
            profile.school_class_id,
            profile.guardian_name,
            profile.guardian_phone,
            profile.has_guardian_consent,
            profile.counselor_id,
        ),
        "sessions": list(sessions.values_list("status", "description", "status_reason")),
        "events": list(
            SessionEvent.objects.filter(session__student=student)
            .order_by("pk")
            .values_list("kind", "detail")
        ),
        "chat": ChatMessage.objects.filter(session__student=student).count(),
        "questionnaires": Administration.objects.filter(student=student).count(),
        "responses": Response.objects.filter(administration__student=student).count(),
        "notifications": Notification.objects.count(),
        "credentials": PendingCredential.objects.count(),
        "axes": sorted(axes_usernames()),
        "sign_ins": SignIn.objects.filter(user=student).count(),
        "requests": DataRequest.objects.count(),
        "audit": LogEntry.objects.count(),
    }


@pytest.mark.parametrize(
    "failing_step",
    [
        "privacy.services.sign_ins_end_all",  # after the content is deleted
        "privacy.services.DataRequest.objects.create",  # the very last step
    ],
)
def test_an_erasure_that_fails_partway_changes_nothing(
    school_admin, student, reasons, failing_step, mailoutbox, django_capture_on_commit_callbacks
):
    counseling_record(student)
    PendingCredential.objects.create(
        issued_by=school_admin, username=student.username, name="x", password="abcde-fghij"
    )
    sign_in(student.username)
    english(Client()).post(
        reverse("accounts:login"), {"username": student.username, "password": "salah-sandi"}
    )
    before = snapshot(student)
    assert before["chat"] and before["responses"] and before["axes"] and before["sign_ins"]
    sent = len(mailoutbox)

    # Run what the erasure queued for after its commit: the rollback must have dropped it.
    with (
        django_capture_on_commit_callbacks(execute=True) as queued,
        mock.patch(failing_step, side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        erase(school_admin, student)
    assert queued == []

    assert snapshot(student) == before
    assert len(mailoutbox) == sent  # nobody was told of a cancellation that did not happen
