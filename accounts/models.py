"""Schools, classes, users with roles, and the student profile."""

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class School(models.Model):
    class TimeZone(models.TextChoices):
        WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta)")
        WITA = "Asia/Makassar", _("WITA (Asia/Makassar)")
        WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura)")

    name = models.CharField(_("name"), max_length=200)
    npsn = models.CharField(
        _("NPSN"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^\d{8}$", _("NPSN is 8 digits."))],
    )
    address = models.TextField(_("address"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=32, choices=TimeZone.choices, default=TimeZone.WIB
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current_academic_year(self, today: datetime.date | None = None) -> int:
        """The first calendar year of the running school year (Indonesia: July–June)."""
        today = today or timezone.localdate(timezone=self.zone())
        return today.year if today.month >= 7 else today.year - 1

    def zone(self) -> datetime.tzinfo:
        import zoneinfo

        return zoneinfo.ZoneInfo(self.time_zone)


class SchoolClass(models.Model):
    """A class (rombel) in one school year, e.g. "XI Pemasaran 1" in 2026/2027."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="classes", verbose_name=_("school")
    )
    name = models.CharField(_("name"), max_length=100)
    academic_year = models.PositiveSmallIntegerField(
        _("school year"), help_text=_("The year the school year starts, e.g. 2026 for 2026/2027.")
    )

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["-academic_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_year", "name"], name="unique_class_per_school_year"
            ),
            models.CheckConstraint(
                condition=Q(academic_year__gte=2000, academic_year__lte=2100),
                name="class_academic_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.academic_year_label})"

    @property
    def academic_year_label(self) -> str:
        return f"{self.academic_year}/{self.academic_year + 1}"


class User(AbstractUser):
    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        COUNSELOR = "counselor", _("Counselor")
        SCHOOL_ADMIN = "school_admin", _("School admin")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        verbose_name=_("school"),
    )
    must_change_password = models.BooleanField(_("must change password"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Every account belongs to exactly one school and has a role there.
            # Operators (staff, who reach /operator/) stand outside every school, so no
            # school admin can ever see, reset or deactivate them.
            models.CheckConstraint(
                condition=Q(is_staff=True, school__isnull=True, role="")
                | Q(
                    is_staff=False,
                    is_superuser=False,
                    school__isnull=False,
                    role__in=["student", "counselor", "school_admin"],
                ),
                name="user_is_operator_or_school_member",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_student(self) -> bool:
        return self.role == self.Role.STUDENT

    @property
    def is_counselor(self) -> bool:
        return self.role == self.Role.COUNSELOR

    @property
    def is_school_admin(self) -> bool:
        return self.role == self.Role.SCHOOL_ADMIN

    @property
    def is_saving_new_password(self) -> bool:
        """Whether the save in progress gives the account a new password: set before each
        save by accounts.receivers.note_password_change, read by post_save receivers."""
        return getattr(self, "_saving_new_password", False)

    def is_client_of(self, counselor: "User") -> bool:
        """Whether this is a student whose counselor is `counselor` now."""
        profile = getattr(self, "student_profile", None) if self.is_student else None
        return (
            profile is not None and counselor.is_counselor and profile.counselor_id == counselor.pk
        )


nisn_validator = RegexValidator(r"^\d{10}$", _("NISN is 10 digits."))


class StudentProfile(models.Model):
    class Gender(models.TextChoices):
        MALE = "L", _("Male")
        FEMALE = "P", _("Female")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="student_profile",
        verbose_name=_("student"),
    )
    # Empty (NULL) only once the student's data was erased on request (privacy app):
    # NULL, not "", because the column is unique.
    nisn = models.CharField(  # noqa: DJ001
        _("NISN"), max_length=10, unique=True, null=True, validators=[nisn_validator]
    )
    school_class = models.ForeignKey(
        SchoolClass,
        on_delete=models.PROTECT,
        related_name="students",
        null=True,
        blank=True,
        verbose_name=_("class"),
    )
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    guardian_name = models.CharField(_("guardian name"), max_length=150, blank=True)
    guardian_phone = models.CharField(_("guardian phone"), max_length=20, blank=True)
    has_guardian_consent = models.BooleanField(_("guardian consent given"), default=False)
    guardian_consent_date = models.DateField(_("guardian consent date"), null=True, blank=True)
    guardian_consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent recorded by"),
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clients",
        limit_choices_to={"role": User.Role.COUNSELOR},
        verbose_name=_("counselor"),
    )
    # The counselor may let the student see their own anxiety trend (never the alliance).
    can_see_anxiety_trend = models.BooleanField(_("sees own anxiety trend"), default=False)

    class Meta:
        verbose_name = _("student profile")
        verbose_name_plural = _("student profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(has_guardian_consent=False) | Q(guardian_consent_date__isnull=False),
                name="guardian_consent_has_date",
            ),
        ]

    def __str__(self) -> str:
        # No NISN: this text describes the profile in the (append-only) audit trail.
        return str(self.user)


class PendingCredential(models.Model):
    """An initial password waiting to be handed out by the admin who issued it.

    Kept in plain text only until the admin confirms it is saved, and never longer than
    CREDENTIAL_TTL; every such password must be changed at first sign-in.
    """

    CREDENTIAL_TTL = datetime.timedelta(minutes=30)

    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    username = models.CharField(max_length=150)
    name = models.CharField(max_length=150)
    class_name = models.CharField(max_length=100, blank=True)
    password = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["class_name", "name", "pk"]

    def __str__(self) -> str:
        return self.username


class SignIn(models.Model):
    """One web session of a user: where and when it began, when it was last used.

    Made at sign-in and removed at sign-out, when it is ended from another device, or
    when the account is deactivated; the user sees their sign-ins on "My devices".
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.ip_address}"
