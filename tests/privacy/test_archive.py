"""The personal data download: what is in the ZIP archive, and what is not."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.urls import reverse

from privacy.models import DataRequest
from tests.privacy.records import (
    COUNSELOR_TEXT,
    NOTE,
    OTHER_TEXT,
    STUDENT_TEXT,
    counseling_record,
    other_students_chat,
)

pytestmark = pytest.mark.django_db

AMAS = json.loads(
    (Path(settings.BASE_DIR) / "instruments" / "definitions" / "amas.json").read_text()
)
FILES = {
    "README.txt",
    "profile.csv",
    "sessions.csv",
    "chat_messages.csv",
    "questionnaire_answers.csv",
    "questionnaire_scores.csv",
    "notifications.csv",
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
    assert "not included" in readme
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
