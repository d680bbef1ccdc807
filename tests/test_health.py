"""GET /healthz reports the database and the channel layer, each by a real round trip."""

from unittest import mock

import pytest
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}]},
    }
}


def test_healthy_when_database_and_channel_layer_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.requires_redis
def test_healthy_on_the_configured_redis(client, settings):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis.")
    response = client.get("/healthz")
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


def test_503_when_redis_is_unreachable(client, settings):
    settings.CHANNEL_LAYERS = UNREACHABLE_REDIS
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "error"}


def test_503_when_the_database_fails(client):
    with mock.patch(
        "counseling_platform.health._database_round_trip",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "error", "channel_layer": "ok"}
