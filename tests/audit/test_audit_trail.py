"""The audit trail: every read of confidential content and every change to accounts,
consent, counselor assignment and session outcome is recorded (who, when, from where,
what); each reader sees only theirs; nobody can edit or delete an entry."""

import csv
import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import StudentProfile, User
from audit.registration import HIDDEN
from audit.services import ReadKind
from sessions_app.models import SessionNote
from sessions_app.services.room import session_outcome_record
from tests.analytics.study import english, study
from tests.factories import CounselingSessionFactory, StudentFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db
ADDRESS = "10.1.2.3"


def reads(student, what=None):
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_id=student.pk)
    if what is not None:
        entries = entries.filter(additional_data__what=str(what))
    return list(entries)


def opened(client, user, url):
    client.force_login(user)
    response = client.get(url, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200, url
    return response


@pytest.fixture
def measured(student):
    """Five weekly sessions of `student` with both questionnaires answered."""
    study(student, baseline=[30, 31, 32], sessions=[(40, 28), (42, 26), (44, 24), (46, 22)])
    return student


@pytest.mark.parametrize(
    ("url_name", "what"),
    [
        ("instruments:client-detail", ReadKind.ANSWERS),
        ("analytics:client-trends", ReadKind.TRENDS),
        ("analytics:report", ReadKind.REPORT),
        ("analytics:report-pdf", ReadKind.REPORT_PDF),
        ("analytics:report-csv", ReadKind.REPORT_CSV),
    ],
)
def test_each_read_of_a_clients_scores_is_recorded(client, counselor, measured, url_name, what):
    opened(client, counselor, reverse(url_name, args=[measured.pk]))
    [entry] = reads(measured, what)
    assert entry.actor == counselor
    assert entry.remote_addr == ADDRESS
    assert entry.content_type.model_class() is User
    assert entry.object_repr == measured.display_name
    assert entry.timestamp > timezone.now() - datetime.timedelta(minutes=1)


def test_the_caseload_records_a_read_for_each_client_whose_scores_it_shows(
    client, counselor, measured, school_class
):
    unmeasured = StudentFactory(school=counselor.school, profile__counselor=counselor)
    opened(client, counselor, reverse("analytics:caseload"))
    assert len(reads(measured, ReadKind.CASELOAD)) == 1
    assert reads(unmeasured) == []  # nothing of theirs was shown


def test_the_multiple_baseline_view_records_the_clients_it_plots(client, counselor, measured):
    opened(client, counselor, reverse("analytics:multiple-baseline") + f"?client={measured.pk}")
    assert len(reads(measured, ReadKind.MULTIPLE_BASELINE)) == 1


@pytest.mark.parametrize("who", ["student", "counselor"])
def test_opening_the_room_and_the_transcript_is_recorded(client, student, counselor, who):
    session = session_now(student, status="completed")
    person = {"student": student, "counselor": counselor}[who]
    opened(client, person, reverse("sessions:room", args=[session.pk]))
    opened(client, person, reverse("sessions:transcript", args=[session.pk]))
    [room] = reads(student, ReadKind.ROOM_CHAT)
    [transcript] = reads(student, ReadKind.TRANSCRIPT)
    assert room.actor == transcript.actor == person
    assert room.additional_data["session"] == transcript.additional_data["session"] == session.pk
    assert room.remote_addr == transcript.remote_addr == ADDRESS


def test_the_counselor_opening_a_note_is_recorded_as_a_read_of_the_note(client, student, counselor):
    session = session_now(student, status="completed")
    opened(client, counselor, reverse("sessions:room", args=[session.pk]))
    assert reads(student, ReadKind.NOTE) == []  # no note yet: nothing of it was shown
    SessionNote.objects.create(session=session, body="Catatan konselor")
    opened(client, counselor, reverse("sessions:room", args=[session.pk]))
    opened(client, student, reverse("sessions:room", args=[session.pk]))
    [note_read] = reads(student, ReadKind.NOTE)
    assert (note_read.actor, note_read.additional_data["session"]) == (counselor, session.pk)


def test_the_transcript_download_is_recorded(client, student, counselor):
    session = session_now(student, status="completed")
    opened(client, counselor, reverse("sessions:transcript", args=[session.pk]) + "?format=txt")
    [entry] = reads(student, ReadKind.TRANSCRIPT_EXPORT)
    assert entry.actor == counselor and entry.additional_data["session"] == session.pk


def test_a_refused_read_records_nothing(client, other_counselor, measured):
    client.force_login(other_counselor)
    response = client.get(reverse("analytics:report", args=[measured.pk]))
    assert response.status_code == 404
    assert reads(measured) == []


def test_the_students_own_anxiety_trend_is_recorded(client, counselor, measured):
    StudentProfile.objects.filter(user=measured).update(can_see_anxiety_trend=True)
    opened(client, measured, reverse("analytics:my-anxiety"))
    [entry] = reads(measured, ReadKind.OWN_ANXIETY)
    assert entry.actor == measured


def test_the_report_command_records_an_operator_read(measured):
    call_command("regression_report", measured.username, format="json", stdout=io.StringIO())
    [entry] = reads(measured, ReadKind.COMMAND_REPORT)
    assert entry.actor is None
    assert entry.additional_data["via"] == "command line"
    assert entry.additional_data["os_user"]


# --- changes ----------------------------------------------------------------------------
def changes(obj):
    return LogEntry.objects.get_for_object(obj).exclude(action=LogEntry.Action.ACCESS)


def test_account_consent_and_counselor_changes_are_recorded(
    school_admin, student, other_counselor, school_class
):
    request = RequestFactory().get("/")
    request.user = school_admin
    account_services.account_update(
        admin=school_admin, user=student, full_name="Nama Baru", email="baru@example.org"
    )
    [renamed] = changes(student).filter(action=LogEntry.Action.UPDATE)
    assert renamed.changes["first_name"][1] == "Nama Baru"
    assert "password" not in renamed.changes

    profile = student.student_profile
    for has_consent in (True, False):  # given, then withdrawn
        account_services.guardian_consent_record(
            admin=school_admin,
            profile=profile,
            has_consent=has_consent,
            consent_date=datetime.date(2026, 7, 15) if has_consent else None,
        )
    account_services.counselor_assign_class(
        admin=school_admin, school_class=school_class, counselor=other_counselor
    )
    fields = [set(entry.changes) for entry in changes(profile)]
    assert {"has_guardian_consent", "guardian_consent_date"} <= set().union(*fields)
    assert any("counselor" in changed for changed in fields)


def test_deactivation_and_a_new_password_are_recorded_without_the_password(school_admin, student):
    account_services.account_password_reset(admin=school_admin, user=student)
    account_services.account_set_active(admin=school_admin, user=student, is_active=False)
    recorded = [entry.changes for entry in changes(student)]
    assert any(change.get("is_active") == [True, False] for change in recorded)
    assert any("must_change_password" in change for change in recorded)
    assert any(change.get("password") == [HIDDEN, HIDDEN] for change in recorded)
    assert all(change.get("password", [HIDDEN, HIDDEN]) == [HIDDEN, HIDDEN] for change in recorded)


def test_a_session_outcome_and_status_are_recorded(counselor, student):
    session = session_now(student, status="completed")
    session_outcome_record(
        counselor=counselor, session=session, kind="online", referred_to="", referral_reason=""
    )
    [outcome] = LogEntry.objects.filter(content_type__model="sessionoutcome")
    assert outcome.action == LogEntry.Action.CREATE
    assert outcome.changes["kind"][1] == "online"


def test_changes_made_through_a_page_carry_who_and_where(client, school_admin, student):
    client.force_login(school_admin)
    response = client.post(
        reverse("accounts:account-set-active", args=[student.pk]),
        {"is_active": "0"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    entry = changes(student).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == school_admin
    assert entry.remote_addr == ADDRESS


# --- who sees what ----------------------------------------------------------------------
def test_a_counselor_sees_who_opened_their_clients_records_and_nothing_else(
    client, counselor, other_counselor, student, other_student, measured
):
    opened(client, counselor, reverse("analytics:report", args=[student.pk]))
    study(other_student, sessions=[(40, 30), (41, 29), (42, 28)])
    opened(client, other_counselor, reverse("analytics:report", args=[other_student.pk]))
    english(client)
    page = opened(client, counselor, reverse("audit:client-record-reads"))
    entries = list(page.context["page"])
    assert [entry.object_id for entry in entries] == [student.pk]
    assert "Regression report" in page.content.decode()
    assert other_student.display_name not in page.content.decode()


def test_a_counselor_can_filter_the_reads_by_client(client, counselor, student, measured):
    second = StudentFactory(school=counselor.school, profile__counselor=counselor)
    opened(client, counselor, reverse("analytics:report", args=[student.pk]))
    page = opened(client, counselor, reverse("audit:client-record-reads") + f"?client={second.pk}")
    assert list(page.context["page"]) == []


def test_the_admin_sees_account_changes_of_their_school_but_no_reads(
    client, school_admin, foreign_admin, student, foreign_student, counselor, measured
):
    account_services.account_update(
        admin=school_admin, user=student, full_name="Nama Baru", email=""
    )
    account_services.account_update(
        admin=foreign_admin, user=foreign_student, full_name="Orang Lain", email=""
    )
    opened(client, counselor, reverse("analytics:report", args=[student.pk]))
    page = opened(client, school_admin, reverse("audit:account-changes"))
    entries = list(page.context["page"])
    assert entries and all(entry.action != LogEntry.Action.ACCESS for entry in entries)
    assert "Nama Baru" in page.content.decode()
    assert "Orang Lain" not in page.content.decode()


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [("audit:client-record-reads", "counselor"), ("audit:account-changes", "school_admin")],
)
def test_each_audit_page_is_only_for_its_role(
    client, student, counselor, school_admin, url_name, allowed
):
    for role, person in [
        ("student", student),
        ("counselor", counselor),
        ("school_admin", school_admin),
    ]:
        client.force_login(person)
        status = client.get(reverse(url_name)).status_code
        assert status == (200 if role == allowed else 403), role


def test_the_audit_pages_use_a_constant_number_of_queries(
    client, counselor, school_admin, student, assert_constant_queries
):
    client.force_login(counselor)
    days = iter(range(1, 100))

    def grow():
        extra = StudentFactory(school=counselor.school, profile__counselor=counselor)
        starts_at = timezone.now() - datetime.timedelta(days=next(days))
        session = CounselingSessionFactory(student=extra, status="completed", starts_at=starts_at)
        client.get(reverse("sessions:transcript", args=[session.pk]))

    grow()  # an empty page skips the query for the entries
    assert_constant_queries(lambda: client.get(reverse("audit:client-record-reads")), grow)


def test_the_account_changes_page_uses_a_constant_number_of_queries(
    client, school_admin, assert_constant_queries
):
    client.force_login(school_admin)
    count = iter(range(100))

    def grow():
        n = next(count)
        account_services.account_create(
            admin=school_admin,
            role=User.Role.COUNSELOR,
            username=f"guru{n}",
            full_name=f"Guru {n}",
        )

    grow()
    assert_constant_queries(lambda: client.get(reverse("audit:account-changes")), grow)


# --- nobody edits or deletes ------------------------------------------------------------
def test_the_operator_admin_cannot_add_change_or_delete_entries(rf):
    admin = admin_site._registry[LogEntry]
    request = rf.get("/operator/auditlog/logentry/")
    request.user = User(is_staff=True, is_superuser=True)
    request.resolver_match = None
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


@pytest.mark.requires_postgres
def test_the_database_refuses_to_change_or_delete_an_entry(counselor, student):
    account_services_entry = LogEntry.objects.log_create(
        student, force_log=True, action=LogEntry.Action.ACCESS
    )
    for attempt in (
        lambda: LogEntry.objects.filter(pk=account_services_entry.pk).update(object_repr="x"),
        lambda: LogEntry.objects.filter(pk=account_services_entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert LogEntry.objects.filter(pk=account_services_entry.pk, object_repr=str(student)).exists()


# --- the operator's export --------------------------------------------------------------
def test_the_export_writes_every_entry_with_who_what_and_where(
    client, counselor, measured, tmp_path
):
    opened(client, counselor, reverse("analytics:report", args=[measured.pk]))
    output = tmp_path / "trail.csv"
    call_command("export_audit_trail", output=str(output), stderr=io.StringIO())
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    [read] = [row for row in rows if row["action"] == "read"]
    assert read["actor_username"] == counselor.username
    assert read["remote_addr"] == ADDRESS
    assert read["object_id"] == str(measured.pk)
    assert read["read"] == "report"
    assert len(rows) == LogEntry.objects.count()


def test_the_export_filters_by_day_in_utc(counselor, measured, tmp_path):
    output = tmp_path / "trail.jsonl"
    tomorrow = (timezone.now().astimezone(datetime.UTC) + datetime.timedelta(days=1)).date()
    call_command(
        "export_audit_trail",
        "--since",
        tomorrow.isoformat(),
        "--format",
        "jsonl",
        "--output",
        str(output),
        stderr=io.StringIO(),
    )
    assert output.read_text() == ""


def test_notes_are_never_in_the_trail(counselor, student):
    session = session_now(student, status="completed")
    SessionNote.objects.create(session=session, body="Rahasia sekali")
    note = SessionNote.objects.get(session=session)
    note.body = "Rahasia yang diubah"
    note.save()
    for entry in LogEntry.objects.all():
        stored = f"{entry.changes} {entry.changes_text} {entry.object_repr} {entry.additional_data}"
        assert "Rahasia" not in stored


def test_a_change_of_counselor_reads_as_names(client, school_admin, student, other_counselor):
    account_services.student_profile_save(
        admin=school_admin, profile=student.student_profile, data={"counselor": other_counselor}
    )
    page = opened(client, school_admin, reverse("audit:account-changes"))
    assert f"→ {other_counselor.display_name}" in page.content.decode()


def test_the_export_cannot_smuggle_a_formula_into_a_spreadsheet(school_admin, student, tmp_path):
    account_services.account_update(
        admin=school_admin, user=student, full_name="=HYPERLINK(1)", email=""
    )
    output = tmp_path / "trail.csv"
    call_command("export_audit_trail", output=str(output), stderr=io.StringIO())
    cells = [cell for row in csv.reader(output.open(encoding="utf-8")) for cell in row]
    assert any(cell.startswith("'=HYPERLINK(1)") or "=HYPERLINK(1)" in cell for cell in cells)
    assert not any(cell.startswith("=") for cell in cells)
