import uuid

import pytest

from tests.sessions_app.room_helpers import connect, receive_until, send, session_now


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_two_participants_exchange_a_message(student, counselor):
    from channels.db import database_sync_to_async

    session = await database_sync_to_async(session_now)(student)
    alice, ok, _ = await connect(student, session.pk)
    assert ok
    hello = await receive_until(alice, "hello")
    assert hello["role"] == "student" and hello["room"]["state"] == "open"
    bob, ok, _ = await connect(counselor, session.pk)
    assert ok
    await receive_until(bob, "hello")
    presence = await receive_until(alice, "presence")
    assert presence["online"] is True
    client_id = str(uuid.uuid4())
    await send(alice, {"type": "chat.send", "client_id": client_id, "body": "Halo <b>Bu</b>"})
    ack = await receive_until(alice, "chat.ack")
    assert ack["id"] == 1 and ack["duplicate"] is False
    message = await receive_until(bob, "chat.message")
    assert message["body"] == "Halo <b>Bu</b>" and message["from"] == "student"
    await send(alice, {"type": "chat.send", "client_id": client_id, "body": "Halo <b>Bu</b>"})
    again = await receive_until(alice, "chat.ack")
    assert again["duplicate"] is True and again["id"] == 1
    await alice.disconnect()
    await bob.disconnect()
