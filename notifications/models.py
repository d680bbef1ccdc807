"""A notification: what happened, for whom, and whether they have seen it.

The text is not stored: it is written when shown, in the reader's language and their
school's time zone, from the kind and the session it is about.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        SESSION_REQUESTED = "session_requested", _("New session request")
        SESSION_CREATED = "session_created", _("Session scheduled by your counselor")
        SESSION_CONFIRMED = "session_confirmed", _("Session confirmed")
        SESSION_DECLINED = "session_declined", _("Session request declined")
        SESSION_CANCELLED = "session_cancelled", _("Session cancelled")
        RESCHEDULE_PROPOSED = "reschedule_proposed", _("New time proposed")
        RESCHEDULE_ACCEPTED = "reschedule_accepted", _("New time accepted")
        RESCHEDULE_REJECTED = "reschedule_rejected", _("New time rejected")
        REMINDER = "reminder", _("Session reminder")
        QUESTIONNAIRES_READY = "questionnaires_ready", _("Questionnaires to fill in")
        QUESTIONNAIRE_OPENED = "questionnaire_opened", _("Questionnaire to fill in")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    session = models.ForeignKey(
        "sessions_app.CounselingSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # The times as they were when this happened: a later change must not rewrite it.
    starts_at = models.DateTimeField(null=True, blank=True)
    proposed_starts_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def message(self, zone=None) -> str:
        """One sentence for the bell and the e-mail, in the active language."""
        session = self.session
        if self.kind == self.Kind.QUESTIONNAIRE_OPENED:
            return gettext("Your counselor asks you to fill in a questionnaire.")
        if session is None:
            return self.get_kind_display()
        starts_at = self.starts_at or session.starts_at
        when = formats.date_format(timezone.localtime(starts_at, zone), "l, j F Y H:i")
        proposed = ""
        if self.proposed_starts_at:
            proposed = formats.date_format(
                timezone.localtime(self.proposed_starts_at, zone), "l, j F Y H:i"
            )
        student = session.student.display_name
        counselor = session.counselor.display_name
        texts = {
            self.Kind.SESSION_REQUESTED: gettext("%(student)s asked for a session on %(when)s."),
            self.Kind.SESSION_CREATED: gettext(
                "%(counselor)s scheduled a session with you on %(when)s."
            ),
            self.Kind.SESSION_CONFIRMED: gettext(
                "%(counselor)s confirmed your session on %(when)s."
            ),
            self.Kind.SESSION_DECLINED: gettext(
                "%(counselor)s could not take your request for %(when)s."
            ),
            self.Kind.SESSION_CANCELLED: gettext("The session on %(when)s was cancelled."),
            self.Kind.RESCHEDULE_PROPOSED: gettext(
                "%(counselor)s proposes to move your session of %(when)s to %(proposed)s."
            ),
            self.Kind.RESCHEDULE_ACCEPTED: gettext("%(student)s accepted the new time: %(when)s."),
            self.Kind.RESCHEDULE_REJECTED: gettext(
                "%(student)s cannot come at the time you proposed; the session stays on %(when)s."
            ),
            self.Kind.REMINDER: gettext("Reminder: counseling session on %(when)s."),
            self.Kind.QUESTIONNAIRES_READY: gettext(
                "Please fill in the questionnaires about your session of %(when)s."
            ),
        }
        text = texts.get(self.kind, self.get_kind_display())
        return text % {
            "student": student,
            "counselor": counselor,
            "when": when,
            "proposed": proposed,
        }

    def target_url(self) -> str:
        if self.kind in (self.Kind.QUESTIONNAIRES_READY, self.Kind.QUESTIONNAIRE_OPENED):
            return reverse("accounts:student-home") + "#questionnaires-heading"
        if self.session_id is None:
            return reverse("notifications:notification-list")
        return reverse("sessions:session-detail", args=[self.session_id])
