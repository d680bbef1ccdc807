"""Defects a review of issue 7 (trust) found, each kept as the test that broke."""

import contextlib
import io

import pytest
from asgiref.sync import async_to_sync
from auditlog.models import LogEntry
from axes.models import AccessLog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from accounts.sign_ins import sign_in_keep_alive
from instruments.importing import history_import, parse_history
from instruments.models import Response
from privacy.backup_files import BackupReader, BackupWriter, generate_backup_key, parse_backup_key
from privacy.services import student_erase
from tests.accounts.sign_in_helpers import age, signed_in
from tests.factories import TEST_PASSWORD
from tests.privacy.records import STUDENT_TEXT, counseling_record
from tests.sessions_app.room_helpers import connect, receive_until, session_now

pytestmark = pytest.mark.django_db

HEADER = "Tanggal,Fase,Instrumen,Skor total"


# --- 3. Sessions -----------------------------------------------------------------------


def test_keep_alive_does_not_revive_an_idle_expired_sign_in(counselor):
    client = signed_in(counselor)
    age(client, idle_minutes=120)  # staff idle limit is 30
    assert not sign_in_keep_alive(session_key=client.session.session_key, user=counselor)


@pytest.mark.django_db(transaction=True)
def test_an_idle_expired_sign_in_cannot_open_the_room_socket(student):
    counselor = student.student_profile.counselor
    session = session_now(student)
    from tests.privacy.records import chat

    chat(session, (student, STUDENT_TEXT))
    client = signed_in(counselor)
    age(client, idle_minutes=120)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario():
        communicator, connected, _code = await connect(None, session.pk, cookie=cookie)
        if not connected:
            return None
        await receive_until(communicator, "hello")
        await communicator.send_json_to({"type": "chat.sync", "after": 0})
        history = await receive_until(communicator, "chat.history")
        await communicator.disconnect()
        return history

    history = async_to_sync(scenario)()
    assert history is None, history


# --- 3. Sign-in protection ------------------------------------------------------------


def test_the_operator_login_is_rate_limited_like_the_site_login(settings, student):
    settings.SIGN_IN_RATE_PER_ADDRESS = "3/m"
    client = Client()
    answers = [
        client.post(
            "/operator/login/",
            {"username": f"operator{n}", "password": "wrong"},
            REMOTE_ADDR="10.2.0.1",
        ).status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]


def test_a_classmate_cannot_lock_someone_out_with_wrong_passwords(student):
    attacker = Client()
    for n in range(40):
        attacker.post(
            reverse("accounts:login"),
            {"username": student.username, "password": "wrong"},
            REMOTE_ADDR=f"10.3.{n // 200}.{n % 200 + 1}",
        )
    owner = Client()
    response = owner.post(
        reverse("accounts:login"),
        {"username": student.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="192.168.7.7",
    )
    assert response.status_code == 302


def test_sign_in_records_go_when_the_sign_in_ends(student):
    client = signed_in(student)
    client.post(reverse("accounts:logout"))
    assert not AccessLog.objects.filter(username=student.username).exists()


# --- 2. Audit trail gaps --------------------------------------------------------------


def _reads(student) -> int:
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS,
        content_type=ContentType.objects.get_for_model(User),
        object_id=student.pk,
    ).count()


def test_the_room_shown_again_after_a_bad_outcome_is_audited(client, student):
    counselor = student.student_profile.counselor
    record = counseling_record(student)
    client.force_login(counselor)
    before = _reads(student)
    response = client.post(
        reverse("sessions:room-outcome", args=[record.past.pk]), {"kind": "bogus"}
    )
    assert response.status_code == 400
    assert "Saya cemas setiap ulangan" in response.content.decode()
    assert _reads(student) > before


def test_the_client_page_shown_again_after_a_bad_schedule_is_audited(client, student):
    counselor = student.student_profile.counselor
    counseling_record(student)
    client.force_login(counselor)
    before = _reads(student)
    response = client.post(
        reverse("instruments:administration-schedule", args=[student.pk]), {"instrument": "x"}
    )
    assert response.status_code == 400
    assert _reads(student) > before


@pytest.mark.django_db(transaction=True)
def test_reading_the_history_over_the_socket_is_audited(student):
    from tests.privacy.records import chat

    session = session_now(student)
    chat(session, (student, STUDENT_TEXT))
    counselor = student.student_profile.counselor

    async def scenario():
        communicator, connected, _code = await connect(counselor, session.pk)
        assert connected
        await receive_until(communicator, "hello")
        await communicator.send_json_to({"type": "chat.sync", "after": 0})
        history = await receive_until(communicator, "chat.history")
        await communicator.disconnect()
        return history

    history = async_to_sync(scenario)()
    assert history["messages"]
    assert _reads(student) > 0


# --- 4. Data-protection rights ---------------------------------------------------------


def test_erasure_leaves_no_nisn_or_guardian_phone_on_the_admins_change_list(
    client, school_admin, student
):
    profile = student.student_profile
    nisn, phone, email = profile.nisn, profile.guardian_phone, student.email
    import datetime

    student_erase(
        admin=school_admin,
        student=student,
        requester="guardian",
        request_date=datetime.date(2026, 1, 5),
        reference="Surat 1",
    )
    client.force_login(school_admin)
    page = client.get(reverse("audit:account-changes")).content.decode()
    leaked = [value for value in (nisn, phone, email) if value in page]
    assert leaked == []


def test_no_history_import_after_consent_is_withdrawn(school_admin, student):
    counselor = student.student_profile.counselor
    account_services.guardian_consent_record(
        admin=school_admin,
        profile=student.student_profile,
        has_consent=False,
        consent_date=None,
    )
    rows = parse_history(f"{HEADER}\n2026-01-05,baseline,amas,30\n".encode())
    with contextlib.suppress(Exception):
        history_import(counselor=counselor, student=student, rows=rows)
    assert not Response.objects.filter(administration__student=student).exists()


# --- 5. Backups -------------------------------------------------------------------------


def test_a_reader_with_a_key_refuses_an_unencrypted_file():
    stream = io.BytesIO()
    writer = BackupWriter(stream, None)
    writer.write_manifest({"forged": True})
    writer.write(b"DROP TABLE everything;")
    writer.close()
    stream.seek(0)
    key = parse_backup_key(generate_backup_key())
    with pytest.raises(Exception):  # noqa: B017
        list(BackupReader(stream, key).chunks())


# --- 7. README: the trail is append-only "whatever the code does" ------------------------


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_trail_survives_auditlogflush_truncate(student):
    from audit.services import ReadKind, record_read

    record_read(None, student=student, what=ReadKind.ANSWERS)
    with connection.cursor() as cursor:  # as production: the test suite's allowance off
        cursor.execute("SET ruangbk.allow_audit_truncate = 'off'")
    try:
        with contextlib.suppress(Exception), transaction.atomic():
            call_command("auditlogflush", "--truncate", "--yes", stdout=io.StringIO())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET ruangbk.allow_audit_truncate = 'on'")
    assert LogEntry.objects.exists()


# --- 6. Bad input ------------------------------------------------------------------------


@pytest.mark.requires_postgres
def test_a_garbage_client_address_does_not_break_sign_in(student):
    client = Client(REMOTE_ADDR="not-an-address", raise_request_exception=False)
    response = client.post(
        reverse("accounts:login"), {"username": student.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_ending_a_session_in_the_room_records_who_did_it(student):
    from sessions_app.models import CounselingSession

    session = session_now(student)
    counselor = student.student_profile.counselor

    async def scenario():
        communicator, connected, _code = await connect(counselor, session.pk)
        assert connected
        await receive_until(communicator, "hello")
        await communicator.send_json_to({"type": "session.end"})
        await receive_until(communicator, "room.state")
        await communicator.disconnect()

    async_to_sync(scenario)()
    session.refresh_from_db()
    assert session.status == "completed"
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CounselingSession),
        object_id=session.pk,
        action=LogEntry.Action.UPDATE,
    ).latest("timestamp")
    assert entry.actor_id == counselor.pk


def test_a_sign_in_stays_on_my_devices_after_a_password_change(student):
    laptop = signed_in(student, "10.0.0.7")
    new_password = "naik sepeda ke sekolah pagi"
    response = laptop.post(
        reverse("accounts:password-change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302
    phone = Client(REMOTE_ADDR="10.0.0.8")
    assert (
        phone.post(
            reverse("accounts:login"), {"username": student.username, "password": new_password}
        ).status_code
        == 302
    )
    listed = {row.ip_address for row in phone.get(reverse("accounts:devices")).context["sign_ins"]}
    assert "10.0.0.7" in listed


def test_opening_the_void_page_of_a_response_is_audited(client, student):
    from tests.factories import AdministrationFactory, ResponseFactory

    response = ResponseFactory(administration=AdministrationFactory(student=student))
    client.force_login(student.student_profile.counselor)
    page = client.get(reverse("instruments:response-void", args=[response.pk]))
    assert page.status_code == 200 and "27" in page.content.decode()
    assert _reads(student) > 0


def test_the_audit_export_is_spreadsheet_safe(student, tmp_path):
    from audit.services import ReadKind, record_read

    student.first_name = '=HYPERLINK("http://evil.example","x")'
    student.save()
    record_read(None, student=student, what=ReadKind.ANSWERS)
    out = tmp_path / "trail.csv"
    call_command("export_audit_trail", "--output", str(out), stderr=io.StringIO())
    import csv

    cells = [cell for row in csv.reader(out.open(encoding="utf-8")) for cell in row]
    assert not any(cell.startswith("=") for cell in cells)
