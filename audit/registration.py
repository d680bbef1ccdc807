"""Which changes the audit trail records (django-auditlog registry).

Accounts, the student profile (consent, counselor assignment, guardian contact),
classes and the outcome of a session. Reads of confidential content are recorded by
`audit.services.record_reads`, called where the content is shown.
"""

from auditlog.registry import auditlog


def register_models() -> None:
    from accounts.models import SchoolClass, StudentProfile, User
    from sessions_app.models import CounselingSession, SessionOutcome

    auditlog.register(
        User,
        include_fields=[
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "school",
            "is_active",
            "must_change_password",
        ],
    )
    auditlog.register(StudentProfile)
    auditlog.register(SchoolClass)
    auditlog.register(CounselingSession, include_fields=["status", "counselor", "student"])
    auditlog.register(SessionOutcome)
