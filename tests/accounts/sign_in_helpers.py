"""Signing in through the real page (django-axes needs the request) and ageing a sign-in."""

import time

from django.test import Client
from django.urls import reverse

from accounts.sign_ins import LAST_SEEN_AT, SIGNED_IN_AT
from tests.factories import TEST_PASSWORD


def signed_in(user, address="10.0.0.5", agent="Phone") -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return client


def age(client, *, idle_minutes=0.0, signed_in_hours=0.0) -> None:
    """Pretend the sign-in was last used / began that long ago."""
    session = client.session
    now = time.time()
    session[LAST_SEEN_AT] = now - idle_minutes * 60
    session[SIGNED_IN_AT] = now - signed_in_hours * 3600
    session.save()
