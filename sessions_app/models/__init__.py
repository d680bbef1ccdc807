"""sessions_app's models: booking (policy, availability, sessions) and the room (chat,
notes, outcomes)."""

from sessions_app.models.booking import (
    Availability,
    AvailabilityException,
    BookingPolicy,
    CounselingSession,
    EmergencyContact,
    Reminder,
    SessionEvent,
    SessionLength,
    Weekday,
    dial_href,
)
from sessions_app.models.room import MESSAGE_MAX_CHARS, ChatMessage, SessionNote, SessionOutcome

__all__ = [
    "MESSAGE_MAX_CHARS",
    "Availability",
    "AvailabilityException",
    "BookingPolicy",
    "ChatMessage",
    "CounselingSession",
    "EmergencyContact",
    "Reminder",
    "SessionEvent",
    "SessionLength",
    "SessionNote",
    "SessionOutcome",
    "Weekday",
    "dial_href",
]
