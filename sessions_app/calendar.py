"""One counseling session as an iCalendar file (RFC 5545), for the student's or the
counselor's own calendar app.

The file names no topic: the title is a plain "counseling session" and the description
holds only the mode, the counselor and a link back, never what the student wrote.
"""

import datetime
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sessions_app.models import CounselingSession, SessionEvent

PRODID = "-//RuangBK//Counseling sessions//ID"
MAX_LINE_OCTETS = 75
ALARM_TRIGGER = "-PT1H"

_STATUS = {
    CounselingSession.Status.REQUESTED: "TENTATIVE",
    CounselingSession.Status.DECLINED: "CANCELLED",
    CounselingSession.Status.CANCELLED: "CANCELLED",
}


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newline (RFC 5545 §3.3.11)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        value = value.replace(raw, escaped)
    return value


def fold_line(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never inside a UTF-8
    character; each continuation starts with a space (RFC 5545 §3.1)."""
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_LINE_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


def _timezone_lines(zone: zoneinfo.ZoneInfo, moment: datetime.datetime) -> list[str]:
    """A VTIMEZONE with one STANDARD rule: Indonesia's zones keep no daylight saving."""
    local = moment.astimezone(zone)
    offset = _offset(local.utcoffset() or datetime.timedelta(0))
    return [
        "BEGIN:VTIMEZONE",
        f"TZID:{zone.key}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        f"TZNAME:{escape_text(local.tzname() or zone.key)}",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]


def session_ics(session: CounselingSession, *, now: datetime.datetime | None = None) -> str:
    """The session as a VCALENDAR with one VEVENT and a reminder an hour before."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(session.school.time_zone)
    url = settings.SITE_URL + reverse("sessions:session-detail", args=[session.pk])
    host = urlsplit(settings.SITE_URL).hostname or "ruangbk"
    # Each accepted new time moves the event; a higher SEQUENCE tells calendars to update.
    sequence = session.events.filter(kind=SessionEvent.Kind.RESCHEDULE_ACCEPTED).count()
    summary = _("Counseling session")
    description = "\n".join(
        [
            _("Mode: %(mode)s") % {"mode": session.get_mode_display()},
            _("Counselor: %(name)s") % {"name": session.counselor.display_name},
            _("Open in RuangBK: %(url)s") % {"url": url},
        ]
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *_timezone_lines(zone, session.starts_at),
        "BEGIN:VEVENT",
        f"UID:session-{session.pk}@{host}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART;TZID={zone.key}:{_local(session.starts_at, zone)}",
        f"DTEND;TZID={zone.key}:{_local(session.ends_at, zone)}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        f"STATUS:{_STATUS.get(session.status, 'CONFIRMED')}",
        f"SEQUENCE:{sequence}",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"TRIGGER:{ALARM_TRIGGER}",
        f"DESCRIPTION:{escape_text(summary)}",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold_line(line) + "\r\n" for line in lines)
