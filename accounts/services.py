"""Account workflows run by a school admin. Each is one transaction with every rule checked."""

import datetime
import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.hashers import InitialPasswordHasher
from accounts.models import SchoolClass, StudentProfile, User
from accounts.sign_ins import sign_ins_end_all
from counseling_platform.errors import DomainError

# No 0/O, 1/l/I: initial passwords are read off paper and typed on phones.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountError(DomainError):
    """A rule of account management was broken."""


@dataclass(frozen=True)
class Credential:
    """A freshly issued password, shown to the admin once."""

    username: str
    name: str
    class_name: str
    password: str


def initial_password_generate() -> str:
    """Ten characters in two groups (about 49 bits), e.g. 'k7mqx-2pdre'."""
    chars = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def initial_password_set(user: User) -> str:
    """Give `user` a fresh initial password (not saved), returning it in plain text."""
    password = initial_password_generate()
    user.password = make_password(password, hasher=InitialPasswordHasher.algorithm)
    user._password = password  # as set_password does: the save is a new password
    user.must_change_password = True
    return password


def credential_for(user: User, password: str) -> Credential:
    profile = getattr(user, "student_profile", None) if user.is_student else None
    class_name = profile.school_class.name if profile and profile.school_class else ""
    return Credential(user.username, user.display_name, class_name, password)


def _check_may_manage(admin: User, *users: User) -> None:
    """The admin may change these accounts: of their own school, and not erased."""
    from privacy.selectors import is_erased

    for user in users:
        if user.school_id != admin.school_id:
            raise AccountError("other_school", _("That account belongs to another school."))
        # An account erased on a deletion request stays erased: no new password, no
        # reactivation, no new personal data.
        if user.is_student and is_erased(user):
            raise AccountError("erased", _("This account was erased on request."))


def _check_counselor(admin: User, counselor: User | None) -> None:
    if counselor is None:
        return
    _check_may_manage(admin, counselor)
    if not counselor.is_counselor or not counselor.is_active:
        raise AccountError("not_a_counselor", _("Choose an active counselor."))


@transaction.atomic
def account_create(
    *,
    admin: User,
    role: str,
    username: str,
    full_name: str,
    email: str = "",
    profile: dict | None = None,
) -> Credential:
    """Create an account in the admin's school with a random initial password.

    `profile` holds the student fields (nisn, school_class, gender, guardian_name,
    guardian_phone, counselor) and is required for students.
    """
    if role not in User.Role.values:
        raise AccountError("bad_role", _("Unknown role."))
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("username_taken", _("That username is already taken."))
    user = User(
        username=username, first_name=full_name, email=email, role=role, school=admin.school
    )
    password = initial_password_set(user)
    user.full_clean()
    user.save()
    if role == User.Role.STUDENT:
        if profile is None:
            raise AccountError("profile_missing", _("A student needs a student profile."))
        student_profile_save(admin=admin, profile=StudentProfile(user=user), data=profile)
    return credential_for(user, password)


@transaction.atomic
def student_profile_save(*, admin: User, profile: StudentProfile, data: dict) -> StudentProfile:
    """Set a student's profile fields, checking class and counselor are of the admin's school."""
    _check_may_manage(admin, profile.user)
    school_class: SchoolClass | None = data.get("school_class")
    if school_class is not None and school_class.school_id != admin.school_id:
        raise AccountError("other_school", _("That class belongs to another school."))
    _check_counselor(admin, data.get("counselor"))
    previous_counselor = profile.counselor_id
    for field in ("nisn", "school_class", "gender", "guardian_name", "guardian_phone", "counselor"):
        if field in data:
            setattr(profile, field, data[field])
    if profile.counselor_id != previous_counselor:
        profile.can_see_anxiety_trend = False  # the new counselor decides that again
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def account_update(
    *, admin: User, user: User, full_name: str, email: str, profile: dict | None = None
) -> User:
    """Change an account's name and e-mail and, for a student, the profile fields."""
    _check_may_manage(admin, user)
    user.first_name = full_name
    user.last_name = ""
    user.email = email
    user.full_clean()
    user.save(update_fields=["first_name", "last_name", "email"])
    if profile is not None:
        student_profile_save(admin=admin, profile=user.student_profile, data=profile)
    return user


@transaction.atomic
def account_set_active(*, admin: User, user: User, is_active: bool) -> int:
    """Activate or deactivate an account. A deactivated counselor's students are left
    without a counselor, so that they show up to be reassigned; returns how many."""
    _check_may_manage(admin, user)
    if user.pk == admin.pk and not is_active:
        raise AccountError("self_deactivate", _("You cannot deactivate your own account."))
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    if is_active:
        return 0
    sign_ins_end_all(user)  # every web session and socket of theirs ends now
    if not user.is_counselor:
        return 0
    # One save per client, so the audit trail records each change of counselor.
    clients = list(StudentProfile.objects.filter(counselor=user))
    for profile in clients:
        profile.counselor = None
        profile.can_see_anxiety_trend = False
        profile.save(update_fields=["counselor", "can_see_anxiety_trend"])
    return len(clients)


@transaction.atomic
def account_password_reset(*, admin: User, user: User) -> Credential:
    """Issue a new initial password; the user must change it at the next login."""
    _check_may_manage(admin, user)
    password = initial_password_set(user)
    user.save(update_fields=["password", "must_change_password"])
    sign_ins_end_all(user)  # whoever knew the old password is signed out everywhere
    axes_reset(username=user.username.lower())  # and a locked-out owner can sign in
    return credential_for(user, password)


@transaction.atomic
def counselor_assign_class(*, admin: User, school_class: SchoolClass, counselor: User) -> int:
    """Assign every student of a class to one counselor. Returns the count."""
    if school_class.school_id != admin.school_id:
        raise AccountError("other_school", _("That class belongs to another school."))
    _check_counselor(admin, counselor)
    students = list(StudentProfile.objects.filter(school_class=school_class))
    for profile in students:
        if profile.counselor_id == counselor.pk:
            continue
        # A client who moves to another counselor stops seeing their trend until the
        # new counselor shares it again. One save each: the audit trail records it.
        profile.counselor = counselor
        profile.can_see_anxiety_trend = False
        profile.save(update_fields=["counselor", "can_see_anxiety_trend"])
    return len(students)


@transaction.atomic
def guardian_consent_record(
    *,
    admin: User,
    profile: StudentProfile,
    has_consent: bool,
    consent_date: datetime.date | None,
) -> StudentProfile:
    """Record (or withdraw) a guardian's consent, with the date and who recorded it.

    Without consent no session is booked or started and no questionnaire is sent or
    answered; a withdrawal also cancels the student's sessions still to come."""
    _check_may_manage(admin, profile.user)
    if has_consent and consent_date is None:
        raise AccountError("consent_date", _("Enter the date the guardian gave consent."))
    profile.has_guardian_consent = has_consent
    profile.guardian_consent_date = consent_date if has_consent else None
    profile.guardian_consent_recorded_by = admin
    profile.save(
        update_fields=[
            "has_guardian_consent",
            "guardian_consent_date",
            "guardian_consent_recorded_by",
        ]
    )
    if not has_consent:
        from privacy.services import consent_withdrawal_apply  # privacy builds on accounts

        consent_withdrawal_apply(admin=admin, student=profile.user)
    return profile


@transaction.atomic
def school_class_save(*, admin: User, school_class: SchoolClass) -> SchoolClass:
    if school_class.school_id is None:
        school_class.school = admin.school
    if school_class.school_id != admin.school_id:
        raise AccountError("other_school", _("That class belongs to another school."))
    school_class.full_clean()
    school_class.save()
    return school_class


def lock_people(*users: User) -> None:
    """Queue concurrent workflows on the same people (PostgreSQL row locks; SQLite's
    IMMEDIATE transactions already run one writer at a time)."""
    ids = sorted({user.pk for user in users})
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
