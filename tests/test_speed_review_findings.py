"""Found by the review of issue 8 (speed), fixed, and kept as tests."""

import pytest
from django.db.transaction import TransactionManagementError

from sessions_app.services import room
from tests.sessions_app.room_helpers import session_now


@pytest.mark.django_db(transaction=True)
def test_the_chat_session_lock_refuses_to_run_outside_a_transaction(student):
    session = session_now(student)
    with pytest.raises(TransactionManagementError):
        room._locked_session(student, session.pk)
