"""Web sessions: a fresh id at sign-in, an idle timeout and an absolute lifetime
(shorter for staff), the list of one's own sign-ins, and every way a sign-in ends —
sign-out, ending it from another device, deactivation — ending its sockets too."""

import time

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import SignIn
from accounts.sign_ins import LAST_SEEN_AT, sign_in_keep_alive
from counseling_platform.asgi import application
from sessions_app.consumers import CLOSE_SIGNED_OUT
from tests.accounts.sign_in_helpers import age, signed_in
from tests.factories import TEST_PASSWORD
from tests.sessions_app.room_helpers import ORIGIN, session_now

pytestmark = pytest.mark.django_db


def home(client):
    return client.get(reverse("home"))


def test_signing_in_gives_a_new_session_id(student):
    client = Client()
    client.get(reverse("accounts:login"))
    client.session["before"] = True  # an anonymous session exists
    session = client.session
    session.save()
    before = session.session_key
    client.post(
        reverse("accounts:login"), {"username": student.username, "password": TEST_PASSWORD}
    )
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_a_sign_in_is_remembered_with_its_address_and_device(student):
    signed_in(student, "10.9.8.7", "Android Chrome")
    [sign_in] = SignIn.objects.filter(user=student)
    assert (sign_in.ip_address, sign_in.user_agent) == ("10.9.8.7", "Android Chrome")


@pytest.mark.parametrize(
    ("person", "idle_limit"),
    [("student", 60), ("counselor", 30), ("school_admin", 30)],
)
def test_an_idle_sign_in_ends(request, person, idle_limit):
    user = request.getfixturevalue(person)
    client = signed_in(user)
    age(client, idle_minutes=idle_limit - 1)
    assert home(client).status_code == 302 and "expired" not in home(client)["Location"]
    age(client, idle_minutes=idle_limit + 1)
    response = home(client)
    assert response["Location"].startswith(reverse("accounts:login") + "?expired=idle")
    assert not SignIn.objects.filter(user=user).exists()
    assert "_auth_user_id" not in client.session


def test_the_login_page_says_why_the_user_was_signed_out(client):
    response = client.get(reverse("accounts:login") + "?expired=idle")
    assert 'id="signed-out-expired"' in response.content.decode()


@pytest.mark.parametrize(("person", "lifetime"), [("student", 12), ("counselor", 9)])
def test_a_sign_in_ends_at_its_absolute_lifetime_even_when_active(request, person, lifetime):
    client = signed_in(request.getfixturevalue(person))
    age(client, signed_in_hours=lifetime - 0.1)
    assert "expired" not in home(client)["Location"]
    age(client, signed_in_hours=lifetime + 0.1)
    assert "expired=lifetime" in home(client)["Location"]


def test_an_expired_sign_in_answers_a_script_with_401(student):
    client = signed_in(student)
    age(client, idle_minutes=120)
    response = client.get(reverse("home"), HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == "signed_out"


def test_an_open_room_keeps_the_sign_in_alive_until_its_lifetime(student):
    client = signed_in(student)
    key = client.session.session_key
    age(client, idle_minutes=50)
    assert sign_in_keep_alive(session_key=key, user=student)
    assert time.time() - client.session[LAST_SEEN_AT] < 5
    age(client, signed_in_hours=13)
    assert not sign_in_keep_alive(session_key=key, user=student)


def test_the_devices_page_lists_my_sign_ins_only(student, other_student):
    phone = signed_in(student, agent="Phone")
    signed_in(student, agent="Laptop")
    signed_in(other_student, agent="Someone else")
    page = phone.get(reverse("accounts:devices"))
    assert {row.user_agent for row in page.context["sign_ins"]} == {"Laptop", "Phone"}
    assert "Someone else" not in page.content.decode()


def test_ending_another_sign_in_signs_that_device_out(student):
    phone = signed_in(student, agent="Phone")
    laptop = signed_in(student, agent="Laptop")
    laptop_sign_in = SignIn.objects.get(user=student, user_agent="Laptop")
    response = phone.post(reverse("accounts:device-sign-out", args=[laptop_sign_in.pk]))
    assert response.status_code == 302
    assert home(laptop)["Location"].startswith(reverse("accounts:login"))
    assert home(phone)["Location"] == reverse("accounts:student-home")


def test_nobody_can_end_someone_elses_sign_in(student, other_student):
    victim = signed_in(other_student)
    their_sign_in = SignIn.objects.get(user=other_student)
    attacker = signed_in(student)
    attacker.post(reverse("accounts:device-sign-out", args=[their_sign_in.pk]))
    assert SignIn.objects.filter(pk=their_sign_in.pk).exists()
    assert home(victim)["Location"] == reverse("accounts:student-home")


def test_sign_out_all_other_devices_keeps_this_one(student):
    phone = signed_in(student)
    others = [signed_in(student) for _ in range(2)]
    phone.post(reverse("accounts:devices-sign-out-others"))
    assert home(phone)["Location"] == reverse("accounts:student-home")
    for other in others:
        assert home(other)["Location"].startswith(reverse("accounts:login"))


def test_a_new_password_of_ones_own_signs_every_other_device_out(student):
    phone = signed_in(student, agent="Phone")
    laptop = signed_in(student, agent="Laptop")
    new_password = "naik sepeda ke sekolah"
    response = phone.post(
        reverse("accounts:password-change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302
    assert home(phone)["Location"] == reverse("accounts:student-home")
    assert home(laptop)["Location"].startswith(reverse("accounts:login"))
    # Gone from "My devices" at once, not only when someone next opens that page.
    assert list(SignIn.objects.filter(user=student).values_list("user_agent", flat=True)) == [
        "Phone"
    ]
    assert Session.objects.count() == 1


def test_signing_out_forgets_the_sign_in(student):
    client = signed_in(student)
    client.post(reverse("accounts:logout"))
    assert not SignIn.objects.filter(user=student).exists()


def test_deactivation_ends_every_web_session(student, school_admin):
    phones = [signed_in(student) for _ in range(2)]
    account_services.account_set_active(admin=school_admin, user=student, is_active=False)
    assert not SignIn.objects.filter(user=student).exists()
    for phone in phones:
        assert home(phone)["Location"].startswith(reverse("accounts:login"))


async def _room_socket(cookie: str, session_id: int):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session_id}/room/",
        headers=[
            (b"origin", ORIGIN),
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.django_db(transaction=True)
def test_ending_a_sign_in_from_another_device_closes_its_live_room_socket(student):
    from asgiref.sync import async_to_sync

    session = session_now(student)
    laptop = signed_in(student, agent="Laptop")
    phone = signed_in(student, agent="Phone")
    cookie = laptop.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario():
        from channels.db import database_sync_to_async

        communicator = await _room_socket(cookie, session.pk)
        await communicator.receive_json_from(timeout=5)  # hello
        laptop_sign_in = await database_sync_to_async(SignIn.objects.get)(user_agent="Laptop")
        await database_sync_to_async(phone.post)(
            reverse("accounts:device-sign-out", args=[laptop_sign_in.pk])
        )
        while True:
            message = await communicator.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return message["code"]

    assert async_to_sync(scenario)() == CLOSE_SIGNED_OUT
