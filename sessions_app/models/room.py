"""What happens in the session room: the chat, the counselor's confidential note and the
session's outcome."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField

from sessions_app.models.booking import CounselingSession

MESSAGE_MAX_CHARS = 2000


class ChatMessage(models.Model):
    """One chat message. `seq` numbers a session's messages 1, 2, 3 … in commit order."""

    session = models.ForeignKey(
        CounselingSession, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField()  # made by the sender's browser: a resend is recognised
    body = models.TextField(max_length=MESSAGE_MAX_CHARS)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="chat_seq_unique"),
            models.UniqueConstraint(
                fields=["session", "sender", "client_id"], name="chat_client_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=1) & ~Q(body=""), name="chat_message_not_empty"
            ),
        ]
        indexes = [models.Index(fields=["sender", "created_at"])]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq}"


class SessionNote(models.Model):
    """The counselor's confidential note on one session, encrypted at rest.

    The key is derived from DJANGO_SECRET_KEY and NOTES_ENCRYPTION_KEYS (see README);
    without them the column holds only Fernet tokens.
    """

    session = models.OneToOneField(CounselingSession, on_delete=models.CASCADE, related_name="note")
    body = EncryptedTextField(_("confidential note"), blank=True, null=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("session note")
        verbose_name_plural = _("session notes")

    def __str__(self) -> str:
        return f"note {self.session_id}"


class SessionOutcome(models.Model):
    """How the case goes on after a session (the post-counseling stage)."""

    class Kind(models.TextChoices):
        RESOLVED = "resolved", _("Resolved: the student is back to effective daily living")
        FACE_TO_FACE = "face_to_face", _("Continue face to face")
        ONLINE = "online", _("Continue online")
        REFERRAL = "referral", _("Referral to another counselor or expert")

    session = models.OneToOneField(
        CounselingSession, on_delete=models.CASCADE, related_name="outcome"
    )
    kind = models.CharField(_("outcome"), max_length=20, choices=Kind.choices)
    referred_to = models.CharField(_("referred to"), max_length=200, blank=True)
    referral_reason = models.TextField(_("reason for the referral"), max_length=1000, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("session outcome")
        verbose_name_plural = _("session outcomes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="referral") | (~Q(referred_to="") & ~Q(referral_reason="")),
                name="outcome_referral_complete",
                violation_error_message=_("For a referral, say to whom and why."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.kind}"
