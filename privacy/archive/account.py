"""The archive's files about the account: the profile, notifications, sign-ins, failed
sign-in attempts under the username, and data requests."""

import datetime

from django.utils.translation import gettext as _

from privacy.archive.table import Table, Value, local_time
from privacy.selectors import PersonalData


def profile_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    student = data.student
    profile = student.student_profile
    recorded_by = profile.guardian_consent_recorded_by
    values: list[tuple[str, str, Value]] = [
        ("school", _("School"), student.school.name),
        ("name", _("Name"), student.get_full_name()),
        ("username", _("Username"), student.username),
        ("email", _("E-mail"), student.email),
        ("nisn", _("NISN"), profile.nisn),
        ("class", _("Class"), str(profile.school_class) if profile.school_class else ""),
        ("gender", _("Gender"), profile.get_gender_display()),
        ("guardian_name", _("Guardian name"), profile.guardian_name),
        ("guardian_phone", _("Guardian phone"), profile.guardian_phone),
        ("guardian_consent", _("Guardian consent given"), profile.has_guardian_consent),
        ("guardian_consent_date", _("Guardian consent date"), profile.guardian_consent_date),
        (
            "guardian_consent_recorded_by",
            _("Guardian consent recorded by"),
            recorded_by.display_name if recorded_by else "",
        ),
        (
            "guardian_consent_recorded_at",
            _("Guardian consent last recorded or changed"),
            local_time(data.guardian_consent_recorded_at, zone),
        ),
        (
            "counselor",
            _("Counselor"),
            profile.counselor.display_name if profile.counselor else "",
        ),
        (
            "sees_own_anxiety_trend",
            _("Counselor shares your anxiety trend with you"),
            profile.can_see_anxiety_trend,
        ),
        ("account_created", _("Account created"), local_time(student.date_joined, zone)),
        ("last_sign_in", _("Last sign-in"), local_time(student.last_login, zone)),
        ("account_active", _("Account active"), student.is_active),
    ]
    return Table(
        "profile",
        [("field", _("Field")), ("label", _("Label")), ("value", _("Value"))],
        [{"field": key, "label": label, "value": value} for key, label, value in values],
    )


def notifications_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("created_at", _("Time")),
        ("kind", _("Kind")),
        ("message", _("Message")),
        ("read_at", _("Read")),
    ]
    rows = [
        {
            "created_at": local_time(notification.created_at, zone),
            "kind": notification.get_kind_display(),
            "message": notification.message(zone),
            "read_at": local_time(notification.read_at, zone),
        }
        for notification in data.notifications
    ]
    return Table("notifications", columns, rows)


def sign_ins_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    """Where the account is signed in now (and, from django-axes' access log if an
    earlier configuration kept one, past sign-ins with their sign-out)."""
    columns = [
        ("signed_in_at", _("Signed in")),
        ("last_active_at", _("Last active")),
        ("signed_out_at", _("Signed out")),
        ("address", _("Network address")),
        ("browser", _("Browser")),
    ]
    rows: list[dict[str, Value]] = [
        {
            "signed_in_at": local_time(log.attempt_time, zone),
            "signed_out_at": local_time(log.logout_time, zone),
            "address": log.ip_address,
            "browser": log.user_agent,
        }
        for log in data.access_logs
    ]
    rows += [
        {
            "signed_in_at": local_time(sign_in.created_at, zone),
            "last_active_at": local_time(sign_in.last_seen_at, zone),
            "address": sign_in.ip_address,
            "browser": sign_in.user_agent,
        }
        for sign_in in data.sign_ins
    ]
    return Table("sign_ins", columns, rows)


def failed_sign_ins_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("attempted_at", _("Time (of the latest attempt)")),
        ("failures", _("Failed attempts")),
    ]
    # Not the address or browser: whoever typed the username may be someone else.
    rows = [
        {
            "attempted_at": local_time(attempt.attempt_time, zone),
            "failures": getattr(attempt, "failures_since_start", 1),  # a log row is one
        }
        for attempt in data.failed_sign_ins
    ]
    return Table("failed_sign_ins", columns, rows)


def data_requests_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("created_at", _("Time")),
        ("kind", _("Request")),
        ("processed_by", _("Processed by")),
        ("requester", _("Requested in writing by")),
        ("request_date", _("Date of the written request")),
        ("reference", _("Reference or note")),
        ("completed_at", _("Completed")),
    ]
    rows = [
        {
            "created_at": local_time(request.created_at, zone),
            "kind": request.get_kind_display(),
            "processed_by": request.processed_by.display_name,
            "requester": request.get_requester_display(),
            "request_date": request.request_date,
            "reference": request.reference,
            "completed_at": local_time(request.completed_at, zone),
        }
        for request in data.data_requests
    ]
    return Table("data_requests", columns, rows)
