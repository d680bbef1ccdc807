"""The session's iCalendar file, read back with the `icalendar` package."""

import datetime
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from django.utils.translation import gettext

from sessions_app.calendar import escape_text, fold_line, session_ics
from sessions_app.models import CounselingSession, SessionEvent
from tests.factories import CounselingSessionFactory

pytestmark = pytest.mark.django_db

SITE = "https://ruangbk.example.sch.id"
STARTS = datetime.datetime(2026, 12, 8, 6, 0, tzinfo=datetime.UTC)
ENDS = datetime.datetime(2026, 12, 8, 6, 45, tzinfo=datetime.UTC)
NOW = datetime.datetime(2026, 12, 1, 2, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def parsed(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_wib_school_event_starts_at_local_wall_time(student):
    session = CounselingSessionFactory(student=student, starts_at=STARTS, ends_at=ENDS)
    _calendar, event = parsed(session_ics(session, now=NOW))
    jakarta = zoneinfo.ZoneInfo("Asia/Jakarta")
    # 06:00 UTC is 13:00 in WIB (UTC+7), worked out by hand.
    assert event["DTSTART"].params["TZID"] == "Asia/Jakarta"
    assert event.decoded("DTSTART").astimezone(jakarta).replace(tzinfo=None) == (
        datetime.datetime(2026, 12, 8, 13, 0)
    )
    assert event.decoded("DTEND").astimezone(jakarta).replace(tzinfo=None) == (
        datetime.datetime(2026, 12, 8, 13, 45)
    )
    assert event.decoded("DTSTART") == STARTS


def test_wita_school_event_starts_at_local_wall_time(foreign_student, foreign_counselor):
    session = CounselingSessionFactory(
        student=foreign_student, counselor=foreign_counselor, starts_at=STARTS, ends_at=ENDS
    )
    text = session_ics(session, now=NOW)
    _calendar, event = parsed(text)
    makassar = zoneinfo.ZoneInfo("Asia/Makassar")
    # 06:00 UTC is 14:00 in WITA (UTC+8).
    assert "DTSTART;TZID=Asia/Makassar:20261208T140000\r\n" in text
    assert event.decoded("DTSTART").astimezone(makassar).replace(tzinfo=None) == (
        datetime.datetime(2026, 12, 8, 14, 0)
    )
    assert event.decoded("DTSTART") == STARTS


@pytest.mark.parametrize(
    ("zone", "offset", "name", "local_hour"),
    [
        ("Asia/Jakarta", datetime.timedelta(hours=7), "WIB", 13),
        ("Asia/Makassar", datetime.timedelta(hours=8), "WITA", 14),
        ("Asia/Jayapura", datetime.timedelta(hours=9), "WIT", 15),
    ],
)
def test_vtimezone_describes_the_schools_zone_without_daylight_saving(
    student, zone, offset, name, local_hour
):
    student.school.time_zone = zone
    student.school.save()
    session = CounselingSessionFactory(student=student, starts_at=STARTS, ends_at=ENDS)
    text = session_ics(session, now=NOW)
    calendar, _event = parsed(text)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == zone
    (standard,) = vtimezone.walk("STANDARD")
    assert not vtimezone.walk("DAYLIGHT")
    assert standard["TZOFFSETFROM"].td == offset
    assert standard["TZOFFSETTO"].td == offset
    assert standard["TZNAME"] == name
    assert standard.decoded("DTSTART") == datetime.datetime(1970, 1, 1)
    # The event's local time, read through the file's own VTIMEZONE.
    own_zone = vtimezone.to_tz()
    (line,) = [line for line in text.split("\r\n") if line.startswith("DTSTART;")]
    local = datetime.datetime.strptime(line.rsplit(":", 1)[1], "%Y%m%dT%H%M%S")
    assert local.hour == local_hour
    assert local.replace(tzinfo=own_zone).astimezone(datetime.UTC) == STARTS


def test_calendar_header_and_event_properties(student):
    session = CounselingSessionFactory(student=student, starts_at=STARTS, ends_at=ENDS)
    text = session_ics(session, now=NOW)
    calendar, event = parsed(text)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert event["UID"] == f"session-{session.pk}@ruangbk.example.sch.id"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == NOW
    assert "DTSTAMP:20261201T023000Z\r\n" in text
    link = SITE + reverse("sessions:session-detail", args=[session.pk])
    assert link in str(event["DESCRIPTION"])
    assert str(session.get_mode_display()) in str(event["DESCRIPTION"])
    assert session.counselor.display_name in str(event["DESCRIPTION"])
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -datetime.timedelta(hours=1)
    assert alarm["DESCRIPTION"]


def test_every_line_ends_with_crlf(student):
    text = session_ics(CounselingSessionFactory(student=student), now=NOW)
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("\n") == text.count("\r\n")
    assert "\r" not in text.replace("\r\n", "")


def test_uid_is_stable_and_sequence_counts_accepted_new_times(student):
    session = CounselingSessionFactory(student=student, starts_at=STARTS, ends_at=ENDS)
    _calendar, first = parsed(session_ics(session, now=NOW))
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.RESCHEDULE_PROPOSED)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.RESCHEDULE_ACCEPTED)
    _calendar, second = parsed(session_ics(session, now=NOW + datetime.timedelta(hours=1)))
    assert second["UID"] == first["UID"]
    assert second["SEQUENCE"] == 1


def test_summary_and_file_carry_no_intake_text(student):
    session = CounselingSessionFactory(
        student=student,
        field=CounselingSession.Field.PERSONAL,
        description="Aku dibully teman sekelas dan takut masuk sekolah",
    )
    text = session_ics(session, now=NOW)
    _calendar, event = parsed(text)
    assert str(event["SUMMARY"]) == gettext("Counseling session")
    assert "dibully" not in text
    assert "pribadi" not in text.lower()
    assert "personal" not in text.lower()


def test_long_description_is_folded_at_75_octets_and_unfolds(student, counselor):
    # Multi-byte characters make octets and characters differ.
    counselor.first_name = (
        "Ibu Dra. Ñoñí Śrī Wahyuningsih Kusumawardhani Ayu Purnamasari, M.Pd. 🌱" * 2
    )
    counselor.save()
    session = CounselingSessionFactory(student=student)
    text = session_ics(session, now=NOW)
    raw_lines = text.encode().split(b"\r\n")
    assert any(line.startswith(b" ") for line in raw_lines)
    for line in raw_lines:
        assert len(line) <= 75
        line.decode()  # never cut inside a UTF-8 character
    _calendar, event = parsed(text)
    assert counselor.first_name in str(event["DESCRIPTION"])


def test_special_characters_round_trip(student, counselor):
    counselor.first_name = 'Budi, S.Pd.; "BK" \\ kelas\nXI'
    counselor.save()
    session = CounselingSessionFactory(student=student)
    text = session_ics(session, now=NOW)
    assert 'Budi\\, S.Pd.\\; "BK" \\\\ kelas\\nXI' in text.replace("\r\n ", "")
    _calendar, event = parsed(text)
    assert counselor.first_name in str(event["DESCRIPTION"])


def test_escape_text_follows_rfc_5545():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


@pytest.mark.parametrize("length", [74, 75, 76, 150, 151, 300])
def test_fold_line_splits_at_75_octets_and_unfolds_back(length):
    line = "DESCRIPTION:" + "x" * (length - len("DESCRIPTION:"))
    folded = fold_line(line)
    pieces = folded.split("\r\n")
    assert pieces[0] == line[:75]
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    assert len(pieces) == (1 if length <= 75 else 1 + -(-(length - 75) // 74))
