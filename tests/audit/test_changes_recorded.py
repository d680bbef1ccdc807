"""Changes the trail records beyond the basics: every new password (never its value, and
not Django's re-hash at sign-in), privileges, a session's time, phase and the student's
consent to it, a referral; reads of what a student wrote when booking; a backup. And an
account that acted can't be deleted from the operator admin (that would rewrite the trail).
"""

import datetime
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from accounts import services as account_services
from accounts.importing import parse_rows, students_import
from accounts.models import School, User
from audit.presentation import change_rows
from audit.registration import HIDDEN
from audit.services import ReadKind
from privacy.backups import backup_database
from sessions_app.services.lifecycle import session_consent_give
from sessions_app.services.room import session_outcome_record
from tests.factories import TEST_PASSWORD, CounselingSessionFactory, OperatorFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db
ADDRESS = "10.1.2.3"


def changes(obj):
    return LogEntry.objects.get_for_object(obj).exclude(action=LogEntry.Action.ACCESS)


def password_entries(user):
    return [entry for entry in changes(user) if "password" in entry.changes]


def test_every_new_password_is_recorded_and_none_of_its_value(school_admin, student):
    hash_before = User.objects.get(pk=student.pk).password
    account_services.account_password_reset(admin=school_admin, user=student)
    # The second reset leaves must_change_password as it was: only the password changes.
    account_services.account_password_reset(admin=school_admin, user=student)
    entries = password_entries(student)
    assert len(entries) == 2
    assert all(entry.changes["password"] == [HIDDEN, HIDDEN] for entry in entries)
    hash_after = User.objects.get(pk=student.pk).password
    for entry in LogEntry.objects.all():
        stored = f"{entry.changes} {entry.changes_text} {entry.additional_data}"
        assert hash_before not in stored and hash_after not in stored


def test_a_students_own_new_password_is_recorded_with_who_and_where(client, student):
    client.force_login(student)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "naik sepeda ke sekolah",
            "new_password2": "naik sepeda ke sekolah",
        },
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    [entry] = password_entries(student)
    assert (entry.actor, entry.remote_addr) == (student, ADDRESS)


def test_a_rehash_at_sign_in_is_not_a_new_password(client, school_admin, student):
    credential = account_services.account_password_reset(admin=school_admin, user=student)
    before = len(password_entries(student))
    # The initial password's hasher is not the default one: Django re-hashes it at sign-in.
    with mock.patch("sessions_app.signals.sockets_close_for_user") as close_sockets:
        response = client.post(
            reverse("accounts:login"),
            {"username": student.username, "password": credential.password},
        )
    assert response.status_code == 302
    assert User.objects.get(pk=student.pk).password.startswith("md5$")  # it was re-hashed
    assert len(password_entries(student)) == before
    close_sockets.assert_not_called()


def test_a_change_of_privileges_is_recorded():
    operator = OperatorFactory(is_superuser=False)
    operator.is_superuser = True
    operator.save()
    operator.groups.add(Group.objects.create(name="helpdesk"))
    recorded = [entry.changes for entry in changes(operator)]
    assert any(change.get("is_superuser") == [False, True] for change in recorded)
    [groups] = [change["groups"] for change in recorded if "groups" in change]
    assert (groups["operation"], groups["objects"]) == ("add", ["helpdesk"])
    entry = next(entry for entry in changes(operator) if "groups" in entry.changes)
    with translation.override("en"):
        assert change_rows(entry) == [("groups", "added: helpdesk")]


def test_the_students_consent_to_a_session_and_a_new_time_are_recorded(student):
    session = CounselingSessionFactory(student=student, status="confirmed", consent_given_at=None)
    session_consent_give(student=student, session=session)
    session.starts_at += datetime.timedelta(days=1)
    session.ends_at += datetime.timedelta(days=1)
    session.save()
    fields = set().union(*(set(entry.changes) for entry in changes(session)))
    assert {"consent_given_at", "starts_at"} <= fields


def test_a_referral_is_recorded_without_its_reason(counselor, student):
    session = session_now(student, status="completed")
    session_outcome_record(
        counselor=counselor,
        session=session,
        kind="referral",
        referred_to="Psikolog Puskesmas",
        referral_reason="Alasan yang sangat rahasia",
    )
    session_outcome_record(
        counselor=counselor,
        session=session,
        kind="referral",
        referred_to="Psikolog Puskesmas",
        referral_reason="Alasan lain, tetap rahasia",
    )
    entries = LogEntry.objects.filter(content_type__model="sessionoutcome").order_by("pk")
    assert [entry.action for entry in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries[1].changes == {"referral_reason": [HIDDEN, HIDDEN]}
    assert entries[0].changes["referred_to"][1] == "Psikolog Puskesmas"
    assert not any("rahasia" in str(entry.changes) for entry in entries)


def test_the_session_page_records_a_read_of_what_the_student_wrote(client, counselor, student):
    session = CounselingSessionFactory(student=student, description="Saya sulit tidur")
    silent = CounselingSessionFactory(
        student=student, description="", starts_at=session.starts_at + datetime.timedelta(days=1)
    )
    client.force_login(counselor)
    for shown in (session, silent):
        url = reverse("sessions:session-detail", args=[shown.pk])
        assert client.get(url, REMOTE_ADDR=ADDRESS).status_code == 200
    [entry] = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.object_id == student.pk
    assert entry.additional_data == {"what": str(ReadKind.BOOKING), "session": session.pk}
    assert (entry.actor, entry.remote_addr) == (counselor, ADDRESS)


def test_the_session_page_shown_again_after_a_refused_form_records_the_read(
    client, counselor, student
):
    session = CounselingSessionFactory(
        student=student, status="confirmed", description="Saya sulit tidur"
    )
    client.force_login(counselor)
    url = reverse("sessions:session-action", args=[session.pk, "reschedule"])
    response = client.post(url, {"date": "", "start": ""}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 400
    assert "Saya sulit tidur" in response.content.decode()
    [entry] = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.additional_data == {"what": str(ReadKind.BOOKING), "session": session.pk}


def test_an_initial_password_saved_alone_is_a_new_password(student):
    account_services.initial_password_set(student)
    student.save(update_fields=["password"])  # not Django's re-hash: it is recorded
    assert len(password_entries(student)) == 1


def test_a_backup_is_recorded_for_every_school(school, other_school, tmp_path, settings):
    settings.DEBUG = True  # an unencrypted backup, fine for this test
    backup_database(output=tmp_path / "school.backup", key=None)
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert sorted(entry.object_id for entry in entries) == sorted([school.pk, other_school.pk])
    assert {entry.content_type.model_class() for entry in entries} == {School}
    assert {entry.additional_data["what"] for entry in entries} == {str(ReadKind.BACKUP)}
    assert {entry.additional_data["file"] for entry in entries} == {"school.backup"}


def test_the_operator_admin_cannot_delete_an_account_or_a_school(client, school, student):
    client.force_login(OperatorFactory())
    for url in (
        reverse("admin:accounts_user_delete", args=[student.pk]),
        reverse("admin:accounts_school_delete", args=[school.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    changelist = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [student.pk], "post": "yes"},
    )
    assert changelist.status_code in (200, 302)
    assert User.objects.filter(pk=student.pk).exists()
    assert School.objects.filter(pk=school.pk).exists()
    assert not LogEntry.objects.filter(action=LogEntry.Action.DELETE).exists()


def test_an_import_records_each_account_and_profile_it_creates(school_admin, school_class):
    rows = (
        "NISN,Nama,Kelas,Jenis Kelamin,Nama Wali,Telepon Wali\n"
        f"0012345601,Ayu Lestari,{school_class.name},P,Sri Wahyuni,081234567801\n"
    )
    year = school_admin.school.current_academic_year()
    students_import(admin=school_admin, academic_year=year, rows=parse_rows(rows.encode()))
    ayu = User.objects.get(username="0012345601")
    [created] = changes(ayu)
    assert created.action == LogEntry.Action.CREATE
    assert created.changes["first_name"] == [None, "Ayu Lestari"]
    [profile] = changes(ayu.student_profile)
    assert profile.changes["nisn"] == [HIDDEN, HIDDEN]  # an identifier: only that it was set


def test_a_session_confirmed_on_its_page_is_recorded_with_who_and_where(client, counselor, student):
    session = CounselingSessionFactory(student=student, status="requested")
    client.force_login(counselor)
    url = reverse("sessions:session-action", args=[session.pk, "confirm"])
    assert client.post(url, REMOTE_ADDR=ADDRESS).status_code == 302
    [entry] = changes(session).filter(action=LogEntry.Action.UPDATE)
    assert entry.changes["status"] == ["requested", "confirmed"]
    assert (entry.actor, entry.remote_addr) == (counselor, ADDRESS)
