"""Writing the audit trail of confidential reads.

Changes to accounts, consent, counselor assignment and session outcomes are recorded by
django-auditlog itself (audit/registration.py). Reads are recorded here, one entry per
student whose records were shown: the entry's object is the student, `additional_data`
says what was read ("what", a `ReadKind`) and of which session when there is one.
"""

import getpass
from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import School, User


class ReadKind(models.TextChoices):
    # Entries before the note got its own entry: the counselor's room then showed it too.
    ROOM = "room", _("Session room (chat, and the note for the counselor)")
    ROOM_CHAT = "room_chat", _("Session room (chat)")
    TRANSCRIPT = "transcript", _("Chat transcript")
    TRANSCRIPT_EXPORT = "transcript_export", _("Chat transcript download")
    BOOKING = "booking", _("Booking request (what to talk about) and reasons")
    NOTE = "note", _("Counselor's note")
    ANSWERS = "answers", _("Questionnaire answers and scores")
    TRENDS = "trends", _("Alliance and anxiety trends")
    REPORT = "report", _("Regression report")
    REPORT_PDF = "report_pdf", _("Regression report PDF")
    REPORT_CSV = "report_csv", _("Regression report data (CSV)")
    CASELOAD = "caseload", _("Caseload overview")
    MULTIPLE_BASELINE = "multiple_baseline", _("Multiple-baseline view")
    OWN_ANXIETY = "own_anxiety", _("Own anxiety trend")
    DATA_EXPORT = "data_export", _("Personal data download")
    COMMAND_REPORT = "command_report", _("Regression report from the command line")
    BACKUP = "backup", _("Whole-database backup")


# additional_data["what"] of the deletion entry for each student whose chat transcripts
# the retention rule removed (operators only: see selectors).
PURGE_AUDIT_WHAT = "chat transcripts removed (retention)"


def record_reads(
    request: HttpRequest | None,
    *,
    students: Iterable[User],
    what: ReadKind,
    session_id: int | None = None,
    extra: dict | None = None,
    actor: User | None = None,
    remote_addr: str | None = None,
) -> None:
    """Record that the requester read `what` of each of `students`. Without a request:
    `actor` from `remote_addr` (a websocket), or else the operator at the command line."""
    data: dict = {"what": str(what)}
    if session_id is not None:
        data["session"] = session_id
    if extra:
        data |= extra
    if request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        remote_addr = request.META.get("REMOTE_ADDR") or None
    elif actor is not None:
        data["channel"] = "websocket"
    else:
        data["via"] = "command line"
        data["os_user"] = getpass.getuser()
    _record_entries(
        User,
        students,
        action=LogEntry.Action.ACCESS,
        data=data,
        actor=actor,
        remote_addr=remote_addr,
    )


def record_read(
    request: HttpRequest | None, *, student: User, what: ReadKind, session_id: int | None = None
) -> None:
    record_reads(request, students=[student], what=what, session_id=session_id)


def record_backup(*, file_name: str, using: str = "default") -> None:
    """Record that an operator is backing up the whole database at the command line: one
    entry per school, whose every record the file holds. Written before the dump, so the
    backup (and a restore of it) holds its own entry."""
    data = {"what": str(ReadKind.BACKUP), "file": file_name, "via": "command line"}
    data["os_user"] = getpass.getuser()
    schools = School.objects.using(using).order_by("pk")
    _record_entries(School, schools, action=LogEntry.Action.ACCESS, data=data, using=using)


def record_transcripts_purged(*, student: User, messages: int) -> None:
    """Record that the retention rule removed `student`'s chat transcripts (`messages`
    messages): a deletion with the student as its object, run by cron, so no actor."""
    data = {"what": PURGE_AUDIT_WHAT, "messages": messages, "via": "command line"}
    _record_entries(User, [student], action=LogEntry.Action.DELETE, data=data)


def _record_entries(
    model: type[User] | type[School],
    objects: Iterable[User | School],
    *,
    action: int,
    data: dict,
    actor: User | None = None,
    remote_addr: str | None = None,
    using: str = "default",
) -> None:
    """One entry of `action` per object of `model`, in one insert."""
    content_type = ContentType.objects.db_manager(using).get_for_model(model)
    cid = get_cid()
    LogEntry.objects.using(using).bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(obj.pk),
                object_id=obj.pk,
                object_repr=obj.display_name if model is User else obj.name,
                action=action,
                actor=actor,
                remote_addr=remote_addr,
                additional_data=data,
                cid=cid,
            )
            for obj in objects
        ]
    )
