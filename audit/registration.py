"""Which changes the audit trail records (django-auditlog registry).

Accounts (with their privileges and, by audit.receivers, every new password), the
student profile (consent, counselor assignment, guardian contact), classes, a session's
status, time, phase and the student's consent to it, and its outcome. Reads of
confidential content are recorded by `audit.services.record_reads`, called where the
content is shown.

The trail is kept even when a student's data is erased on request, so it records that
identifiers (NISN, e-mail, guardian's name and phone) changed, never their values, and
no clinical text (the referral's reason), and of a password only that it changed.
"""

from auditlog.registry import auditlog

HIDDEN = "(hidden)"


def mask_value(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: nothing of the value is kept."""
    return HIDDEN


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
            "is_staff",
            "is_superuser",
            "must_change_password",
        ],
        mask_fields=["email"],
        m2m_fields={"groups", "user_permissions"},
    )
    auditlog.register(
        StudentProfile,
        exclude_fields=["can_see_anxiety_trend"],  # the counselor's choice, not an account's
        mask_fields=["nisn", "guardian_name", "guardian_phone"],
    )
    auditlog.register(SchoolClass)
    auditlog.register(
        CounselingSession,
        include_fields=["status", "counselor", "student", "starts_at", "phase", "consent_given_at"],
    )
    auditlog.register(
        SessionOutcome,
        include_fields=["session", "kind", "referred_to", "referral_reason"],
        mask_fields=["referral_reason"],
    )
