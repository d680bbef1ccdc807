"""Requests to exercise a data-protection right (UU PDP): a download of a student's data
or the erasure of it, with the written request behind it and who processed it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import School


class DataRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", _("Data download")
        ERASURE = "erasure", _("Erasure")

    class Requester(models.TextChoices):
        STUDENT = "student", _("The student")
        GUARDIAN = "guardian", _("The parent or guardian")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="data_requests", verbose_name=_("school")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="data_requests",
        verbose_name=_("student"),
    )
    # Who did it in RuangBK: the student downloading their own data, or the school admin.
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("processed by"),
    )
    # The written request the admin acted on; empty for a student's own download.
    requester = models.CharField(
        _("requested in writing by"), max_length=10, choices=Requester.choices, blank=True
    )
    request_date = models.DateField(_("date of the written request"), null=True, blank=True)
    reference = models.CharField(_("reference or note"), max_length=200, blank=True)
    # What an erasure removed (counts only), for the school's records.
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("data protection request")
        verbose_name_plural = _("data protection requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The admin acts only on a written request, and says whose and of when.
            models.CheckConstraint(
                condition=Q(processed_by=models.F("student"))
                | (Q(request_date__isnull=False) & ~Q(requester="")),
                name="data_request_written_request",
            ),
            models.CheckConstraint(
                condition=~Q(kind="erasure") | Q(request_date__isnull=False),
                name="erasure_has_request_date",
            ),
            # A student's data is erased once.
            models.UniqueConstraint(
                fields=["student"], condition=Q(kind="erasure"), name="one_erasure_per_student"
            ),
        ]
        indexes = [models.Index(fields=["school", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.student_id} ({self.created_at:%Y-%m-%d})"
