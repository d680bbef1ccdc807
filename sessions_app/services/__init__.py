"""Booking workflows (writes). `rules` holds what they share, `booking` creates sessions,
`lifecycle` moves them through their states."""

from sessions_app.services.booking import session_create_for_client, session_request
from sessions_app.services.lifecycle import (
    requests_expire,
    session_cancel,
    session_complete,
    session_confirm,
    session_consent_give,
    session_decline,
    session_mark_no_show,
    session_reschedule_answer,
    session_reschedule_propose,
    session_start,
)
from sessions_app.services.rules import BookingError

__all__ = [
    "BookingError",
    "requests_expire",
    "session_cancel",
    "session_complete",
    "session_confirm",
    "session_consent_give",
    "session_create_for_client",
    "session_decline",
    "session_mark_no_show",
    "session_request",
    "session_reschedule_answer",
    "session_reschedule_propose",
    "session_start",
]
