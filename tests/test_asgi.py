"""The ASGI application: HTTP through Django, websockets behind the origin check."""

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator

from counseling_platform.asgi import application


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_http_is_served_by_django_through_asgi():
    communicator = HttpCommunicator(
        application, "GET", "/healthz", headers=[(b"host", b"localhost")]
    )
    response = await communicator.get_response()
    assert response["status"] == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_from_the_sites_own_origin_passes_the_origin_check():
    communicator = WebsocketCommunicator(
        application,
        "/ws/no-such-route/",
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
    )
    # Past the origin check and the session auth, the router finds no such route.
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application,
        "/ws/anything/",
        headers=[(b"host", b"localhost"), (b"origin", b"https://evil.example")],
    )
    connected, _code = await communicator.connect()  # refused before routing
    assert not connected
    await communicator.disconnect()
