"""Administrations (one instrument sent to one student at one occasion) and responses.

The instrument itself lives in a definition file (see definitions.py); the database keeps
its code and, on each response, the definition version the scores were computed with.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import School
from instruments.definitions import Instrument, get_instrument


class Administration(models.Model):
    class Phase(models.TextChoices):
        BASELINE = "baseline", _("Baseline")
        TREATMENT = "treatment", _("Treatment")
        FOLLOW_UP = "follow_up", _("Follow-up")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        COMPLETED = "completed", _("Completed")
        EXPIRED = "expired", _("Expired")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    # PROTECT, as sessions do: deleting a person must not silently delete measurements.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="administrations")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="administrations"
    )
    # Who sent it (the student's counselor then). Access follows the student's current
    # counselor, who sees the whole history.
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_administrations"
    )
    instrument_code = models.CharField(_("instrument"), max_length=40)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    session = models.ForeignKey(
        "sessions_app.CounselingSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="administrations",
    )
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    is_imported = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    skipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opens_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "instrument_code"],
                condition=Q(session__isnull=False),
                name="one_administration_per_session_and_instrument",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="administration_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=["baseline", "treatment", "follow_up"]),
                name="administration_phase_known",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "opens_at"]),
            models.Index(fields=["counselor", "student"]),
            models.Index(fields=["opens_at", "notified_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.phase} for {self.student_id}"

    @property
    def instrument(self) -> Instrument | None:
        return get_instrument(self.instrument_code)

    @property
    def live_response(self) -> "Response | None":
        """The response that counts (not voided); uses prefetched responses if present."""
        return next((r for r in self.responses.all() if r.voided_at is None), None)

    @property
    def voided_responses(self) -> list["Response"]:
        return [response for response in self.responses.all() if response.voided_at is not None]

    def status_at(self, now: datetime.datetime) -> str:
        if self.live_response is not None:
            return self.Status.COMPLETED
        if self.cancelled_at is not None:
            return self.Status.CANCELLED
        if now < self.opens_at:
            return self.Status.SCHEDULED
        if now >= self.closes_at:
            return self.Status.EXPIRED
        if self.skipped_at is not None:  # skipped, but the student may still answer
            return self.Status.SKIPPED
        return self.Status.OPEN

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())


class Response(models.Model):
    """One student's answers to one administration, with the scores they give.

    The student cannot change it; the counselor may void it with a reason, and a voided
    response stays here as history (the student may answer again while it is open).
    """

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="responses"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    # Item number (as text) → scale point, or text for free-text items.
    answers = models.JSONField(default=dict, blank=True)  # {} for an imported total
    total = models.IntegerField(null=True, blank=True)
    subscale_scores = models.JSONField(default=dict, blank=True)
    band = models.CharField(max_length=40, blank=True)
    definition_version = models.CharField(max_length=20)
    is_imported = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["administration"],
                condition=Q(voided_at__isnull=True),
                name="one_live_response_per_administration",
            ),
        ]

    def __str__(self) -> str:
        return f"response to {self.administration_id}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def choice_answers(self) -> dict[int, int]:
        return {
            int(number): value for number, value in self.answers.items() if isinstance(value, int)
        }
