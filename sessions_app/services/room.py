"""Writes of the session room: chat messages (stored before anyone is told), read
receipts, the phase reached, the counselor's note and the session's outcome."""

import datetime
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from sessions_app.models import (
    MESSAGE_MAX_CHARS,
    ChatMessage,
    CounselingSession,
    SessionEvent,
    SessionNote,
    SessionOutcome,
)
from sessions_app.realtime import room_changed_on_commit
from sessions_app.services.rules import BookingError, locked_for, not_allowed, record_event

# The room's writes check the status themselves, with their own messages.
ANY_STATUS = tuple(CounselingSession.Status)

# At most settings.CHAT_MESSAGES_PER_30S messages per user in this window, over all
# their sessions.
RATE_WINDOW = datetime.timedelta(seconds=30)

ROOM_REFUSALS = {
    "waiting": ("room_not_open", gettext_noop("The room is not open yet.")),
    "consent_missing": (
        "consent_missing",
        gettext_noop(
            "The room opens once the student has agreed to the online counseling consent."
        ),
    ),
    "closed": ("room_closed", gettext_noop("This session's room is closed.")),
}


def room_refusal(session: CounselingSession, now: datetime.datetime) -> BookingError | None:
    """Why nothing may be sent in the room now, or None when it is open."""
    state = session.room_state(now)
    if state == "open":
        return None
    code, message = ROOM_REFUSALS[state]
    return BookingError(code, _(message))


# What the room's writes read of the session they lock: who takes part, and when and
# whether its room is open (CounselingSession.room_state).
LOCKED_COLUMNS = (
    "id",
    "student_id",
    "counselor_id",
    "status",
    "starts_at",
    "ends_at",
    "consent_given_at",
)


def _locked_session(user: User, session_id: int) -> CounselingSession:
    """The session, locked, if `user` is one of its participants (active or not).

    A raw query (Django still converts the values): it runs for every chat message, and
    compiling it through the ORM cost the server process a sixth of a message's CPU."""
    if not connection.in_atomic_block:  # as select_for_update() refuses: no lock would hold
        raise TransactionManagementError("_locked_session runs inside a transaction only.")
    table = connection.ops.quote_name(CounselingSession._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = list(
        CounselingSession.objects.raw(
            f"SELECT {', '.join(LOCKED_COLUMNS)} FROM {table} WHERE id = %s{lock}", [session_id]
        )
    )
    session = found[0] if found else None
    if session is None or user.pk not in (session.student_id, session.counselor_id):
        raise not_allowed()
    return session


def _participant_session(user: User, session_id: int) -> CounselingSession:
    """The session, locked, if `user` is an active participant of it."""
    session = _locked_session(user, session_id)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise not_allowed()
    return session


@transaction.atomic
def chat_message_store(
    *,
    sender: User,
    session_id: int,
    client_id: uuid.UUID,
    body: str,
    now: datetime.datetime | None = None,
) -> tuple[ChatMessage, bool]:
    """Store a message; returns (message, created). A resend of a stored client id
    returns the stored message, so a retry after a lost acknowledgement never doubles it.

    The session row lock numbers messages gap-free in commit order.
    """
    now = now or timezone.now()
    session = _locked_session(sender, session_id)
    # One round trip for what else the write needs, read after the lock is held (a
    # message is one transaction of four statements: bench/README.md).
    facts = _chat_facts(session, sender, client_id, now)
    if not facts["active"]:
        raise not_allowed()
    if facts["stored"] is not None:
        return ChatMessage.objects.get(pk=facts["stored"]), False
    refusal = room_refusal(session, now)
    if refusal is not None:
        raise refusal
    body = (body or "").strip()
    if not body:
        raise BookingError("empty_message", _("The message is empty."))
    if len(body) > MESSAGE_MAX_CHARS:
        raise BookingError(
            "message_too_long",
            _("The message is too long: at most %(limit)s characters (it has %(count)s).")
            % {"limit": MESSAGE_MAX_CHARS, "count": len(body)},
        )
    if facts["recent"] >= settings.CHAT_MESSAGES_PER_30S:
        raise BookingError(
            "message_rate_limited",
            _("You are sending messages too quickly. Wait a few seconds and send it again."),
        )
    message = ChatMessage.objects.create(
        session=session,
        seq=facts["last"] + 1,
        sender=sender,
        client_id=client_id,
        body=body,
        created_at=now,
    )
    return message, True


def _chat_facts(session, sender: User, client_id: uuid.UUID, now: datetime.datetime) -> dict:
    """Whether the sender's account is active, the stored message with this client id
    (its pk, or None), the sender's messages in the rate window and the session's last
    number, in one query.

    Written in SQL that PostgreSQL and SQLite both take: this runs for every chat message,
    and building the same query through the ORM cost the server process more CPU than
    everything else in the message's path (bench/README.md)."""
    field = ChatMessage._meta.get_field
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT is_active FROM {users} WHERE id = %s),"
            f" (SELECT id FROM {table} WHERE session_id = %s AND sender_id = %s"
            f" AND client_id = %s), (SELECT COUNT(*) FROM {table} WHERE sender_id = %s"
            f" AND created_at > %s), (SELECT MAX(seq) FROM {table} WHERE session_id = %s)",
            [
                sender.pk,
                session.pk,
                sender.pk,
                field("client_id").get_db_prep_value(client_id, connection),
                sender.pk,
                field("created_at").get_db_prep_value(now - RATE_WINDOW, connection),
                session.pk,
            ],
        )
        active, stored, recent, last = cursor.fetchone()
    return {"active": bool(active), "stored": stored, "recent": recent, "last": last or 0}


@transaction.atomic
def chat_mark_read(*, reader: User, session_id: int, up_to: int) -> int:
    """Mark the other side's messages up to `up_to` as read; returns how many changed."""
    session = _participant_session(reader, session_id)
    return (
        ChatMessage.objects.filter(session=session, seq__lte=up_to, read_at__isnull=True)
        .exclude(sender=reader)
        .update(read_at=timezone.now())
    )


@transaction.atomic
def session_phase_set(
    *, counselor: User, session: CounselingSession, phase: str
) -> CounselingSession:
    """Record the phase of the counseling process the session reached."""
    session = locked_for(session, counselor, by="counselor", statuses=ANY_STATUS)
    if phase not in CounselingSession.Phase.values:
        raise BookingError("bad_phase", _("Choose one of the five phases."))
    if session.status not in (
        CounselingSession.Status.IN_PROGRESS,
        CounselingSession.Status.COMPLETED,
    ):
        raise BookingError(
            "not_started", _("The phase can be marked once the session has started.")
        )
    if session.phase != phase:
        session.phase = phase
        session.save(update_fields=["phase"])
        record_event(
            session, counselor, SessionEvent.Kind.PHASE, str(CounselingSession.Phase(phase).label)
        )
        room_changed_on_commit(session.pk)
    return session


@transaction.atomic
def session_note_save(*, counselor: User, session: CounselingSession, body: str) -> SessionNote:
    """Save the counselor's confidential note (encrypted at rest)."""
    session = locked_for(session, counselor, by="counselor", statuses=ANY_STATUS)
    note, _created = SessionNote.objects.get_or_create(session=session)
    note.body = body or ""
    note.updated_at = timezone.now()
    note.save()
    return note


@transaction.atomic
def session_outcome_record(
    *,
    counselor: User,
    session: CounselingSession,
    kind: str,
    referred_to: str = "",
    referral_reason: str = "",
) -> SessionOutcome:
    """Record (or correct) how the case goes on after a completed session."""
    session = locked_for(session, counselor, by="counselor", statuses=ANY_STATUS)
    if session.status != CounselingSession.Status.COMPLETED:
        raise BookingError(
            "not_completed", _("The outcome can be recorded once the session has ended.")
        )
    if kind not in SessionOutcome.Kind.values:
        raise BookingError("bad_outcome", _("Choose one of the outcomes."))
    referred_to, referral_reason = referred_to.strip(), referral_reason.strip()
    if kind == SessionOutcome.Kind.REFERRAL and not (referred_to and referral_reason):
        raise BookingError("referral_incomplete", _("For a referral, say to whom and why."))
    if kind != SessionOutcome.Kind.REFERRAL:
        referred_to = referral_reason = ""
    outcome, _created = SessionOutcome.objects.update_or_create(
        session=session,
        defaults={
            "kind": kind,
            "referred_to": referred_to,
            "referral_reason": referral_reason,
            "recorded_at": timezone.now(),
        },
    )
    record_event(session, counselor, SessionEvent.Kind.OUTCOME, outcome.get_kind_display())
    return outcome
