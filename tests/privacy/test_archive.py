"""The personal data download: what is in the ZIP archive, and what is not."""

import csv
import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignIn
from accounts.services import guardian_consent_record
from privacy.models import DataRequest
from privacy.services import data_export_record
from sessions_app.services import session_cancel, session_decline
from sessions_app.services.room import session_outcome_record
from tests.factories import AdministrationFactory, CounselingSessionFactory, StudentFactory
from tests.privacy.records import (
    COUNSELOR_TEXT,
    NOTE,
    OTHER_TEXT,
    STUDENT_TEXT,
    at_utc,
    chat,
    counseling_record,
    other_students_chat,
    past_day,
)

pytestmark = pytest.mark.django_db

AMAS = json.loads(
    (Path(settings.BASE_DIR) / "instruments" / "definitions" / "amas.json").read_text()
)
FILES = {
    "README.txt",
    "profile.csv",
    "sessions.csv",
    "session_history.csv",
    "consents.csv",
    "chat_messages.csv",
    "questionnaires.csv",
    "questionnaire_answers.csv",
    "questionnaire_scores.csv",
    "notifications.csv",
    "sign_ins.csv",
    "failed_sign_ins.csv",
    "data_requests.csv",
    "data.json",
}


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="ruangbk-data-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    content = files[name]
    assert content.startswith("\ufeff".encode()), f"{name} has no byte-order mark for Excel"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def record(student):
    return counseling_record(student)


@pytest.fixture
def download(client, student, record, other_student):
    other_students_chat(other_student)
    english(client).force_login(student)
    return unzip(client.post(reverse("privacy:my-data")))


def test_the_archive_holds_each_file_and_a_readme_explaining_it(download):
    assert set(download) == FILES
    readme = download["README.txt"].decode()
    for name in FILES - {"README.txt"}:
        assert name in readme
    assert "confidential notes" in readme
    assert "the reason your counselor gave for a referral are not included" in readme
    assert "Asia/Jakarta" in readme


def test_the_profile_has_the_students_details_and_consent(download, student):
    profile = {row["Field"]: row["Value"] for row in rows(download, "profile.csv")}
    student_profile = student.student_profile
    assert profile["name"] == student.get_full_name()
    assert profile["username"] == student.username
    assert profile["nisn"] == student_profile.nisn
    assert (
        profile["class"]
        == "XI Pemasaran 1 " + f"({student_profile.school_class.academic_year_label})"
    )
    assert profile["gender"] == "Female"
    assert profile["guardian_name"] == student_profile.guardian_name
    assert profile["guardian_phone"] == "081234567890"
    assert profile["guardian_consent"] == "yes"
    assert profile["guardian_consent_date"] == student_profile.guardian_consent_date.isoformat()
    assert profile["counselor"] == student_profile.counselor.display_name


def test_sessions_are_listed_in_the_schools_time_zone_with_their_outcome(download, record):
    sessions = {int(row["Session number"]): row for row in rows(download, "sessions.csv")}
    assert set(sessions) == {record.past.pk, record.upcoming.pk}
    past = sessions[record.past.pk]
    # 06:00 UTC is 13:00 in Jakarta.
    assert past["Starts"] == f"{record.past_day.isoformat()} 13:00"
    assert past["Ends"] == f"{record.past_day.isoformat()} 13:45"
    assert (past["Mode"], past["Status"]) == ("Chat", "Completed")
    assert past["Outcome"].startswith("Resolved")
    assert past["Counselor"] == record.past.counselor.display_name
    assert past["What you wrote when booking"] == "Saya sulit tidur sebelum ujian."
    assert sessions[record.upcoming.pk]["Status"] == "Confirmed"


def test_the_chat_of_the_students_own_sessions_is_there_and_safe_for_spreadsheets(
    download, record, student
):
    messages = rows(download, "chat_messages.csv")
    assert [(row["Sender"], row["Message"]) for row in messages] == [
        (student.display_name, "'" + STUDENT_TEXT),  # not run as a formula
        (record.past.counselor.display_name, COUNSELOR_TEXT),
    ]
    assert messages[0]["Time"] == f"{record.past_day.isoformat()} 13:01"
    data = json.loads(download["data.json"])
    assert data["chat_messages"][0]["text"] == STUDENT_TEXT  # the JSON keeps it as written


def test_no_note_and_no_other_students_chat_anywhere_in_the_archive(download):
    for name, content in download.items():
        text = content.decode("utf-8-sig")
        assert NOTE not in text, name
        assert "CONFIDENTIAL-NOTE" not in text, name
        assert OTHER_TEXT not in text, name


def test_questionnaire_answers_name_the_question_and_the_chosen_answer(download):
    answers = rows(download, "questionnaire_answers.csv")
    assert len(answers) == len(AMAS["items"]) == 9
    first = answers[0]
    assert first["Question"] == AMAS["items"][0]["text"]["en"]
    assert first["Answer"] == "3"
    assert first["Answer in words"] == AMAS["scale"]["labels"]["3"]["en"]
    scores = rows(download, "questionnaire_scores.csv")
    assert len(scores) == 1
    assert scores[0]["Total score"] == str(9 * 3)  # nine items answered 3, none reversed
    assert scores[0]["Category"] == "Fairly high"  # 23–27 in the definition


def test_notifications_and_the_json_copy(download, record, student):
    notifications = rows(download, "notifications.csv")
    assert [row["Kind"] for row in notifications] == ["Session confirmed"]
    assert record.upcoming.counselor.display_name in notifications[0]["Message"]
    data = json.loads(download["data.json"])
    assert data["profile"]["username"] == student.username
    assert data["time_zone"] == "Asia/Jakarta"
    assert len(data["sessions"]) == 2
    assert len(data["notifications"]) == 1
    assert data["sessions"][0]["starts_at"] == f"{record.past_day.isoformat()}T13:00:00+07:00"


def test_every_download_is_in_the_audit_trail_and_the_request_list(client, student, record):
    english(client).force_login(student)
    client.post(reverse("privacy:my-data"))
    client.post(reverse("privacy:my-data"))
    entries = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, object_id=student.pk, additional_data__what="data_export"
    )
    assert entries.count() == 2
    assert {entry.actor_id for entry in entries} == {student.pk}
    requests = DataRequest.objects.filter(student=student, kind="export")
    assert requests.count() == 2
    assert {r.processed_by_id for r in requests} == {student.pk}
    assert {entry.additional_data["data_request"] for entry in entries} == {r.pk for r in requests}


def test_the_page_explains_and_a_get_downloads_nothing(client, student):
    english(client).force_login(student)
    page = client.get(reverse("privacy:my-data"))
    assert page.status_code == 200
    assert 'id="my-data-download"' in page.content.decode()
    assert not DataRequest.objects.exists()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_student_home_links_to_the_download(client, student):
    english(client).force_login(student)
    page = client.get(reverse("accounts:student-home")).content.decode()
    assert f'href="{reverse("privacy:my-data")}"' in page


def test_the_admin_downloads_on_a_written_request_with_its_date_and_reference(
    client, school_admin, student, record
):
    english(client).force_login(school_admin)
    url = reverse("privacy:student-export", args=[student.pk])
    assert client.get(url).status_code == 200
    files = unzip(
        client.post(
            url,
            {"requester": "guardian", "request_date": "2026-01-05", "reference": "Surat 12/BK"},
        )
    )
    assert set(files) == FILES
    readme = files["README.txt"].decode()
    assert "2026-01-05" in readme
    assert "Surat 12/BK" in readme
    assert school_admin.display_name in readme
    request = DataRequest.objects.get(student=student)
    assert (request.kind, request.processed_by, request.requester, str(request.request_date)) == (
        "export",
        school_admin,
        "guardian",
        "2026-01-05",
    )
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_id=student.pk)
    assert entry.actor == school_admin
    assert entry.additional_data["what"] == "data_export"
    assert NOTE not in b"".join(files.values()).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"requester": "guardian", "request_date": "2026-01-05", "reference": ""}, "reference"),
        ({"requester": "guardian", "request_date": "2999-01-01", "reference": "x"}, "request_date"),
        ({"requester": "", "request_date": "2026-01-05", "reference": "x"}, "requester"),
    ],
)
def test_the_admin_must_name_the_written_request(client, school_admin, student, data, field):
    english(client).force_login(school_admin)
    response = client.post(reverse("privacy:student-export", args=[student.pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not DataRequest.objects.exists()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_admins_account_page_offers_download_and_erasure_for_students_only(
    client, school_admin, student, counselor
):
    english(client).force_login(school_admin)
    page = client.get(reverse("accounts:account-edit", args=[student.pk])).content.decode()
    assert reverse("privacy:student-export", args=[student.pk]) in page
    assert reverse("privacy:student-erase", args=[student.pk]) in page
    page = client.get(reverse("accounts:account-edit", args=[counselor.pk])).content.decode()
    assert 'id="personal-data-actions"' not in page


# The rest of what RuangBK holds about a student: the history of their sessions, the
# consent texts they agreed to, a referral, questionnaires left unanswered, sign-ins and
# failed attempts, earlier data requests. Another student has the same kinds of records,
# each marked so that a leak shows.

DAY = datetime.timedelta(days=1)
REFERRAL_REASON = "REFERRAL-REASON: dugaan kekerasan di rumah"
CONSENT_TEXT = "Saya setuju konseling daring; rahasia kecuali ada bahaya serius."
OTHER_ADDRESS = "10.66.66.66"
OTHER_MARKS = (
    OTHER_TEXT,
    OTHER_ADDRESS,
    "OTHER-BROWSER",
    "OTHER-REASON",
    "OTHER-CONSENT",
    "OTHER-REQUEST",
)
JAN_5 = datetime.date(2026, 1, 5)


def in_minutes(moment: datetime.datetime) -> str:
    """A moment as the archive writes it, in Jakarta (UTC+7, no daylight saving)."""
    return (moment.astimezone(datetime.UTC) + datetime.timedelta(hours=7)).strftime(
        "%Y-%m-%d %H:%M"
    )


def axes_records(username: str, *, address: str, browser: str, day: datetime.date) -> None:
    """django-axes' rows under a username: a lockout counter, and a failure log and an
    access log row as an earlier configuration would have kept (times set afterwards:
    django-axes stamps them on creation)."""
    fields = {"username": username, "ip_address": address, "user_agent": browser}
    fields |= {"http_accept": "*/*", "path_info": "/accounts/login/"}
    attempt = AccessAttempt.objects.create(
        get_data="", post_data="", failures_since_start=3, **fields
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=at_utc(day, 23, 15))
    failure = AccessFailureLog.objects.create(**fields)
    AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=at_utc(day, 23, 10))
    log = AccessLog.objects.create(**fields)
    AccessLog.objects.filter(pk=log.pk).update(
        attempt_time=at_utc(day, 1, 0), logout_time=at_utc(day, 2, 0)
    )


@pytest.fixture
def history(student, counselor, school_admin, record):
    before = timezone.now()
    guardian_consent_record(
        admin=school_admin,
        profile=student.student_profile,
        has_consent=True,
        consent_date=datetime.date(2025, 7, 14),
    )
    after = timezone.now()
    day = past_day(5)
    referred = CounselingSessionFactory(
        student=student,
        starts_at=at_utc(day, 6),
        ends_at=at_utc(day, 6, 45),
        status="completed",
        consent_text=CONSENT_TEXT,
        consent_given_at=at_utc(day, 5, 30),
    )
    session_outcome_record(
        counselor=counselor,
        session=referred,
        kind="referral",
        referred_to="Psikolog Puskesmas Kecamatan",
        referral_reason=REFERRAL_REASON,
    )
    soon = timezone.now().replace(minute=0, second=0, microsecond=0) + 3 * DAY
    cancelled = session_cancel(
        user=student,
        session=CounselingSessionFactory(student=student, starts_at=soon),
        reason="Ada ujian susulan.",
    )
    declined = session_decline(
        counselor=counselor,
        session=CounselingSessionFactory(student=student, starts_at=soon + DAY, status="requested"),
        reason="Saya sedang dinas luar.",
    )
    now = timezone.now()
    AdministrationFactory(student=student, opens_at=now + 5 * DAY)
    AdministrationFactory(student=student)
    AdministrationFactory(
        student=student, opens_at=at_utc(past_day(20), 0), closes_at=at_utc(past_day(17), 0)
    )
    AdministrationFactory(student=student, skipped_at=now - datetime.timedelta(minutes=30))
    AdministrationFactory(student=student, opens_at=now + DAY, cancelled_at=now)
    data_export_record(
        processed_by=school_admin,
        student=student,
        requester="guardian",
        request_date=JAN_5,
        reference="Surat 7/BK",
    )
    return {
        "consent_recorded": (before, after),
        "referred": referred,
        "cancelled": cancelled,
        "declined": declined,
    }


@pytest.fixture
def others(other_student, school_admin):
    other_students_chat(other_student)
    session_cancel(
        user=other_student,
        session=CounselingSessionFactory(
            student=other_student,
            starts_at=timezone.now().replace(minute=0, second=0, microsecond=0) + 6 * DAY,
            consent_text="OTHER-CONSENT",
        ),
        reason="OTHER-REASON",
    )
    AdministrationFactory(student=other_student)
    data_export_record(
        processed_by=school_admin,
        student=other_student,
        requester="student",
        request_date=JAN_5,
        reference="OTHER-REQUEST",
    )
    SignIn.objects.create(
        user=other_student,
        session_key="b" * 40,
        ip_address=OTHER_ADDRESS,
        user_agent="OTHER-BROWSER",
    )
    axes_records(other_student.username, address=OTHER_ADDRESS, browser="OTHER-BROWSER", day=JAN_5)


def sign_in_from_a_phone(student) -> None:
    SignIn.objects.create(
        user=student,
        session_key="a" * 40,
        ip_address="10.1.2.3",
        user_agent="Firefox/128",
        created_at=at_utc(JAN_5, 1, 30),
        last_seen_at=at_utc(JAN_5, 2, 0),
    )


@pytest.fixture
def full_download(client, student, history, others):
    english(client).force_login(student)  # a sign-in from the test client's address
    sign_in_from_a_phone(student)  # after: a new sign-in forgets ones not in use
    axes_records(student.username, address="10.9.8.7", browser="Opera", day=JAN_5)
    return unzip(client.post(reverse("privacy:my-data")))


def test_the_readme_describes_each_new_file_with_its_count(full_download):
    assert set(full_download) == FILES
    readme = full_download["README.txt"].decode()
    for line in [
        "session_history.csv (3)",
        "consents.csv (5)",
        "questionnaires.csv (6)",
        "sign_ins.csv (3)",
        "failed_sign_ins.csv (2)",
        "data_requests.csv (2)",
    ]:
        assert line in readme


def test_the_profile_says_who_recorded_the_guardians_consent_and_when(
    full_download, history, school_admin
):
    profile = {row["Field"]: row["Value"] for row in rows(full_download, "profile.csv")}
    assert profile["guardian_consent_date"] == "2025-07-14"
    assert profile["guardian_consent_recorded_by"] == school_admin.display_name
    before, after = history["consent_recorded"]
    assert in_minutes(before) <= profile["guardian_consent_recorded_at"] <= in_minutes(after)
    data = json.loads(full_download["data.json"])
    assert data["profile"]["guardian_consent_recorded_by"] == school_admin.display_name


def test_a_consent_never_recorded_has_no_time_it_was_recorded(client, school):
    never = StudentFactory(school=school, profile__has_guardian_consent=False)
    english(client).force_login(never)
    files = unzip(client.post(reverse("privacy:my-data")))
    profile = {row["Field"]: row["Value"] for row in rows(files, "profile.csv")}
    assert profile["guardian_consent_recorded_at"] == ""


def test_a_referral_says_where_to_but_never_why(full_download, history):
    sessions = {int(row["Session number"]): row for row in rows(full_download, "sessions.csv")}
    referred = sessions[history["referred"].pk]
    assert referred["Outcome"] == "Referral to another counselor or expert"
    assert referred["Referred to"] == "Psikolog Puskesmas Kecamatan"
    assert {row["Referred to"] for pk, row in sessions.items() if pk != history["referred"].pk} == {
        ""
    }
    for name, content in full_download.items():
        text = content.decode("utf-8-sig")
        assert REFERRAL_REASON not in text, name
        assert "dugaan kekerasan" not in text, name
        assert NOTE not in text, name


def test_the_session_history_lists_each_event_with_who_and_the_reason(
    full_download, history, student, counselor
):
    events = {
        (int(row["Session number"]), row["What happened"]): row
        for row in rows(full_download, "session_history.csv")
    }
    assert set(events) == {
        (history["referred"].pk, "Outcome recorded"),
        (history["cancelled"].pk, "Cancelled"),
        (history["declined"].pk, "Declined"),
    }
    cancelled = events[history["cancelled"].pk, "Cancelled"]
    assert (cancelled["By"], cancelled["Role"], cancelled["Details"]) == (
        student.display_name,
        "Student",
        "Ada ujian susulan.",
    )
    declined = events[history["declined"].pk, "Declined"]
    assert (declined["By"], declined["Role"], declined["Details"]) == (
        counselor.display_name,
        "Counselor",
        "Saya sedang dinas luar.",
    )
    outcome = events[history["referred"].pk, "Outcome recorded"]
    assert outcome["Details"] == "Referral to another counselor or expert"


def test_the_consent_text_agreed_to_is_there_with_when(full_download, history, record):
    consents = {int(row["Session number"]): row for row in rows(full_download, "consents.csv")}
    # Every session of the student was agreed to (the factory's sessions at creation).
    assert set(consents) == {
        record.past.pk,
        record.upcoming.pk,
        history["referred"].pk,
        history["cancelled"].pk,
        history["declined"].pk,
    }
    referred = consents[history["referred"].pk]
    # 05:30 UTC is 12:30 in Jakarta.
    assert referred["Agreed"] == f"{past_day(5).isoformat()} 12:30"
    assert referred["The consent text you agreed to"] == CONSENT_TEXT
    assert consents[record.past.pk]["The consent text you agreed to"] == (
        "Persetujuan layanan konseling daring."
    )


def test_every_questionnaire_sent_is_listed_answered_or_not(full_download, counselor):
    questionnaires = rows(full_download, "questionnaires.csv")
    assert sorted(row["Status"] for row in questionnaires) == sorted(
        ["Completed", "Scheduled", "Open", "Expired", "Skipped", "Cancelled"]
    )
    assert {row["Sent by"] for row in questionnaires} == {counselor.display_name}
    assert {row["Questionnaire"] for row in questionnaires} == {AMAS["short_name"]["en"]}
    expired = next(row for row in questionnaires if row["Status"] == "Expired")
    # 00:00 UTC is 07:00 in Jakarta.
    assert expired["Opens"] == f"{past_day(20).isoformat()} 07:00"
    assert expired["Closes"] == f"{past_day(17).isoformat()} 07:00"
    assert expired["Response number"] == ""
    completed = next(row for row in questionnaires if row["Status"] == "Completed")
    scores = rows(full_download, "questionnaire_scores.csv")
    assert completed["Response number"] == scores[0]["Response number"]
    assert next(row for row in questionnaires if row["Status"] == "Skipped")["Skipped by you"]
    cancelled = next(row for row in questionnaires if row["Status"] == "Cancelled")
    assert cancelled["Cancelled by the counselor"]


def test_sign_ins_and_failed_attempts_under_the_username_are_there(full_download):
    sign_ins = rows(full_download, "sign_ins.csv")
    columns = ("Signed in", "Last active", "Signed out", "Network address", "Browser")
    as_tuples = {tuple(row[column] for column in columns) for row in sign_ins}
    # 01:30 and 02:00 UTC are 08:30 and 09:00 in Jakarta.
    assert ("2026-01-05 08:30", "2026-01-05 09:00", "", "10.1.2.3", "Firefox/128") in as_tuples
    assert ("2026-01-05 08:00", "", "2026-01-05 09:00", "10.9.8.7", "Opera") in as_tuples
    assert len(sign_ins) == 3  # and the test client's own sign-in (it has no address)
    failed = rows(full_download, "failed_sign_ins.csv")
    # 23:10 and 23:15 UTC on 5 January are 06:10 and 06:15 on the 6th in Jakarta.
    assert [row["Time (of the latest attempt)"] for row in failed] == [
        "2026-01-06 06:10",
        "2026-01-06 06:15",
    ]
    # Whoever typed the username may be someone else: not where they came from.
    assert all(set(row) == {"Time (of the latest attempt)", "Failed attempts"} for row in failed)
    assert [row["Failed attempts"] for row in failed] == ["1", "3"]


def test_earlier_data_requests_are_listed_with_this_download(full_download, school_admin, student):
    requests = rows(full_download, "data_requests.csv")
    assert [(row["Request"], row["Processed by"]) for row in requests] == [
        ("Data download", school_admin.display_name),
        ("Data download", student.display_name),
    ]
    earlier, this = requests
    assert earlier["Requested in writing by"] == "The parent or guardian"
    assert (earlier["Date of the written request"], earlier["Reference or note"]) == (
        "2026-01-05",
        "Surat 7/BK",
    )
    assert (this["Requested in writing by"], this["Reference or note"]) == ("", "")
    assert this["Completed"]


def test_no_record_of_another_student_appears_anywhere(full_download):
    for name, content in full_download.items():
        text = content.decode("utf-8-sig")
        for mark in OTHER_MARKS:
            assert mark not in text, (name, mark)
    data = json.loads(full_download["data.json"])
    assert len(data["questionnaires"]) == 6
    assert len(data["data_requests"]) == 2


def test_the_download_makes_as_many_queries_however_much_the_student_has(
    client, student, counselor, record, assert_constant_queries
):
    english(client).force_login(student)

    def download():
        assert client.post(reverse("privacy:my-data")).status_code == 200

    def grow():
        for days_ago in (3, 4):
            day = past_day(days_ago)
            session = CounselingSessionFactory(
                student=student, starts_at=at_utc(day, 6), ends_at=at_utc(day, 6, 45),
                status="completed",
            )  # fmt: skip
            chat(session, (student, "halo"), (counselor, "halo juga"))
            session_outcome_record(
                counselor=counselor,
                session=session,
                kind="referral",
                referred_to="Puskesmas",
                referral_reason="Perlu asesmen.",
            )
            AdministrationFactory(student=student, session=session)
            AdministrationFactory(student=student, opens_at=timezone.now() + days_ago * DAY)
            SignIn.objects.create(user=student, session_key=f"{days_ago}" * 40)
            axes_records(student.username, address=f"10.0.0.{days_ago}", browser="B", day=day)

    download()  # once first, so that nothing cached on the first use is counted
    assert_constant_queries(download, grow)
