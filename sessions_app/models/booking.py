"""Booking: each school's booking policy and emergency contacts, counselors' availability,
counseling sessions with their lifecycle events, and reminders sent."""

import datetime
import re

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import School


class BookingPolicy(models.Model):
    """How far ahead and how soon students may book, and the informed-consent text."""

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, related_name="booking_policy", verbose_name=_("school")
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Students see free times this many days ahead."),
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"),
        default=2,
        validators=[MaxValueValidator(168)],
        help_text=_("A time closer than this cannot be booked."),
    )
    max_open_requests = models.PositiveSmallIntegerField(
        _("open requests per student"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Requested or confirmed sessions still to come that one student may hold."),
    )
    late_cancel_hours = models.PositiveSmallIntegerField(
        _("late cancellation (hours)"),
        default=24,
        validators=[MaxValueValidator(168)],
        help_text=_("A cancellation closer to the start than this is marked as late."),
    )
    questionnaire_open_days = models.PositiveSmallIntegerField(
        _("questionnaires open (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "After a completed session, the student can answer its questionnaires for this "
            "many days."
        ),
    )
    consent_text = models.TextField(
        _("informed consent text"),
        help_text=_("Shown to the student at every booking; they must agree to it."),
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policies")

    def __str__(self) -> str:
        return str(self.school)


def dial_href(phone: str) -> str:
    """A tel: link for the first number in free text ("129 / WhatsApp 0811…" → tel:129)."""
    number = re.match(r"\s*\+?[\d\s-]*\d", phone or "")
    if number is None:
        return ""
    digits = re.sub(r"[\s-]", "", number.group())
    return f"tel:{digits}"


class EmergencyContact(models.Model):
    """A number a student can call when they need help now (shown on every student page)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="emergency_contacts")
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone or link"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.name}: {self.phone}"

    @property
    def dial_href(self) -> str:
        return dial_href(self.phone)


class SessionLength(models.IntegerChoices):
    MIN_30 = 30, _("30 minutes")
    MIN_45 = 45, _("45 minutes")
    MIN_60 = 60, _("60 minutes")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Availability(models.Model):
    """A weekly recurring window in which a counselor takes sessions.

    A recurrence is wall-clock time, like an iCalendar RRULE with a TZID: "Monday
    13:00–15:00" is kept as weekday and local times and always means that time in the
    school's zone. Every instant derived from it (a slot, a session) is stored in UTC.
    """

    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availabilities"
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    session_minutes = models.PositiveSmallIntegerField(
        _("session length"), choices=SessionLength.choices, default=SessionLength.MIN_45
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("break between sessions (minutes)"), default=15, validators=[MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availability")
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="availability_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class AvailabilityException(models.Model):
    """A blocked stretch (exam week, leave) or a one-off extra window."""

    class Kind(models.TextChoices):
        BLOCKED = "blocked", _("Not available")
        EXTRA = "extra", _("Extra window")

    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    session_minutes = models.PositiveSmallIntegerField(
        _("session length"), choices=SessionLength.choices, default=SessionLength.MIN_45
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("break between sessions (minutes)"), default=15, validators=[MaxValueValidator(60)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("availability exception")
        verbose_name_plural = _("availability exceptions")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="exception_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class CounselingSession(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Did not take place (no-show)")

    class Mode(models.TextChoices):
        CHAT = "chat", _("Chat")
        VIDEO = "video", _("Video")

    class Phase(models.TextChoices):
        OPENING = "opening", _("Opening (pengantaran)")
        EXPLORATION = "exploration", _("Exploration (penjajagan)")
        INTERPRETATION = "interpretation", _("Interpretation (penafsiran)")
        GUIDANCE = "guidance", _("Guidance (pembinaan)")
        EVALUATION = "evaluation", _("Evaluation (penilaian)")

    class Field(models.TextChoices):
        PERSONAL = "personal", _("Personal (pribadi)")
        SOCIAL = "social", _("Social (sosial)")
        LEARNING = "learning", _("Learning (belajar)")
        CAREER = "career", _("Career (karier)")

    # Statuses that hold a time: no two of them may overlap for one counselor or student.
    HOLDING_STATUSES = (
        Status.REQUESTED,
        Status.CONFIRMED,
        Status.IN_PROGRESS,
        Status.COMPLETED,
        Status.NO_SHOW,
    )
    OPEN_STATUSES = (Status.REQUESTED, Status.CONFIRMED)
    # How early before its time the counselor may start a session (and the room opens).
    START_EARLY = datetime.timedelta(minutes=15)
    # How long after the planned end the room stays open if the counselor has not ended it.
    ROOM_GRACE = datetime.timedelta(minutes=30)

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="sessions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sessions_as_student",
        verbose_name=_("student"),
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sessions_as_counselor",
        verbose_name=_("counselor"),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    field = models.CharField(_("counseling field"), max_length=20, choices=Field.choices)
    description = models.TextField(
        _("what to talk about"),
        blank=True,
        max_length=1000,
        validators=[MaxLengthValidator(1000)],  # TextField's max_length binds forms only
    )
    consent_text = models.TextField(_("consent agreed to"), blank=True)
    consent_given_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True, max_length=500)
    is_late_cancellation = models.BooleanField(_("late cancellation"), default=False)
    proposed_starts_at = models.DateTimeField(_("proposed new start"), null=True, blank=True)
    proposed_ends_at = models.DateTimeField(_("proposed new end"), null=True, blank=True)
    phase = models.CharField(_("phase reached"), max_length=20, choices=Phase.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("counseling session")
        verbose_name_plural = _("counseling sessions")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(proposed_starts_at__isnull=True, proposed_ends_at__isnull=True)
                | Q(
                    proposed_starts_at__isnull=False,
                    proposed_ends_at__isnull=False,
                    proposed_ends_at__gt=F("proposed_starts_at"),
                ),
                name="session_proposal_complete",
            ),
            # On PostgreSQL, migration 0002 adds exclusion constraints: no two
            # time-holding sessions of one counselor, or of one student, overlap.
        ]
        indexes = [models.Index(fields=["counselor", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.student} · {self.counselor} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def has_proposal(self) -> bool:
        return self.proposed_starts_at is not None

    @property
    def room_opens_at(self) -> datetime.datetime:
        return self.starts_at - self.START_EARLY

    @property
    def room_closes_at(self) -> datetime.datetime:
        return self.ends_at + self.ROOM_GRACE

    def room_state(self, now: datetime.datetime | None = None) -> str:
        """ "waiting", "consent_missing", "open" or "closed" (docs/realtime-protocol.md)."""
        now = now or timezone.now()
        if self.status not in (self.Status.CONFIRMED, self.Status.IN_PROGRESS):
            return "closed" if self.status != self.Status.REQUESTED else "waiting"
        if now >= self.room_closes_at:
            return "closed"
        if now < self.room_opens_at:
            return "waiting"
        if self.consent_given_at is None:
            return "consent_missing"
        return "open"

    @property
    def is_room_open(self) -> bool:
        return self.room_state() == "open"

    def actions_for(self, user, now: datetime.datetime | None = None) -> set[str]:
        """What `user` may do to this session now; the services enforce the same rules."""
        now = now or timezone.now()
        status, actions = self.status, set()
        if user.pk == self.counselor_id:
            if status == self.Status.REQUESTED:
                actions |= {"decline"} | ({"confirm"} if self.starts_at > now else set())
            if status == self.Status.CONFIRMED:
                can_start = self.starts_at - self.START_EARLY <= now < self.ends_at
                if can_start and self.consent_given_at is not None:
                    actions.add("start")
                if now >= self.starts_at:
                    actions.add("no-show")
                elif not self.has_proposal:
                    actions.add("reschedule")
            if status == self.Status.IN_PROGRESS:
                actions.add("complete")
        elif user.pk == self.student_id:
            if status == self.Status.CONFIRMED and self.has_proposal:
                actions |= {"accept-time", "reject-time"}
            if self.consent_given_at is None and self.is_open:
                actions.add("consent")
        is_participant = user.pk in (self.counselor_id, self.student_id)
        if is_participant and self.is_open and now < self.starts_at:
            actions.add("cancel")
        return actions


class SessionEvent(models.Model):
    """One change in a session's life: who did what, when (kept for good)."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CREATED = "created", _("Created by the counselor")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        STARTED = "started", _("Started")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Marked as no-show")
        RESCHEDULE_PROPOSED = "reschedule_proposed", _("New time proposed")
        RESCHEDULE_ACCEPTED = "reschedule_accepted", _("New time accepted")
        RESCHEDULE_REJECTED = "reschedule_rejected", _("New time rejected")
        PHASE = "phase", _("Phase reached")
        OUTCOME = "outcome", _("Outcome recorded")

    session = models.ForeignKey(CounselingSession, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class Reminder(models.Model):
    """A reminder sent for a session; unique per lead time, so none is sent twice."""

    class Lead(models.TextChoices):
        DAY = "day", _("1 day before")
        HOUR = "hour", _("1 hour before")

    session = models.ForeignKey(
        CounselingSession, on_delete=models.CASCADE, related_name="reminders"
    )
    lead = models.CharField(max_length=10, choices=Lead.choices)
    starts_at = models.DateTimeField()  # the start time the reminder announced
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "lead", "starts_at"], name="one_reminder_per_lead_and_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.lead}"
