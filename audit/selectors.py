"""Reading the audit trail, each reader only what is theirs to see.

A counselor sees the reads of their current clients' records (by anyone: themselves,
a previous counselor, the student, an operator at the command line). A school admin sees
changes to the accounts, profiles (consent, counselor assignment) and classes of their
own school — never reads of content, never changes to sessions, never whose chat the
retention rule removed (that would tell who had counseling).
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from accounts.models import SchoolClass, StudentProfile, User
from audit.services import PURGE_AUDIT_WHAT


def _entries() -> QuerySet[LogEntry]:
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def client_record_reads(*, counselor: User, student_id: int | None = None) -> QuerySet[LogEntry]:
    clients = StudentProfile.objects.filter(counselor=counselor).values("user_id")
    if student_id is not None:
        clients = clients.filter(user_id=student_id)
    return _entries().filter(
        action=LogEntry.Action.ACCESS,
        content_type=ContentType.objects.get_for_model(User),
        object_id__in=clients,
    )


def school_account_changes(*, admin: User) -> QuerySet[LogEntry]:
    types = ContentType.objects.get_for_models(User, StudentProfile, SchoolClass)
    school_id = admin.school_id
    return (
        _entries()
        .filter(
            Q(
                content_type=types[User],
                object_id__in=User.objects.filter(school_id=school_id).values("pk"),
            )
            | Q(
                content_type=types[StudentProfile],
                object_id__in=StudentProfile.objects.filter(user__school_id=school_id).values("pk"),
            )
            | Q(
                content_type=types[SchoolClass],
                object_id__in=SchoolClass.objects.filter(school_id=school_id).values("pk"),
            ),
            action__in=[LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE],
        )
        # A transcript purge would tell who had counseling.
        .exclude(additional_data__what=PURGE_AUDIT_WHAT)
    )
