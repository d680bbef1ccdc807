"""Sign-in, first-login password change, password reset by e-mail, language and time zone."""

import datetime
import re

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SchoolTimezoneMiddleware
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("person", "home"),
    [
        ("student", "accounts:student-home"),
        ("counselor", "accounts:counselor-home"),
        ("school_admin", "accounts:admin-home"),
    ],
)
def test_each_role_lands_on_its_home_after_login(client, request, person, home):
    user = request.getfixturevalue(person)
    response = client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": TEST_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200


def test_wrong_password_keeps_username_and_says_why_in_indonesian(client, student):
    response = client.post(
        reverse("accounts:login"), {"username": student.username, "password": "salah"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{student.username}"' in html
    assert "sandi yang benar" in html  # Django's own Indonesian message


def test_first_login_must_change_password_before_anything_else(client, student):
    student.must_change_password = True
    student.save()
    client.force_login(student)
    response = client.get(reverse("accounts:student-home"))
    assert response.url == reverse("accounts:password-change")
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "rahasia-baru-2026",
            "new_password2": "rahasia-baru-2026",
        },
    )
    assert response.url == reverse("accounts:password-change-done")
    student.refresh_from_db()
    assert not student.must_change_password
    assert student.check_password("rahasia-baru-2026")
    assert client.get(reverse("accounts:student-home")).status_code == 200  # still signed in


def test_first_login_can_still_log_out(client, student):
    student.must_change_password = True
    student.save()
    client.force_login(student)
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")


def test_logout_requires_post(client, student):
    client.force_login(student)
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_password_reset_by_email(client, student, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post(reverse("accounts:password-reset"), {"email": student.email})
    [message] = mail.outbox
    assert message.to == [student.email]
    link = re.search(r"https?://[^/]+(/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "baru-sekali-99", "new_password2": "baru-sekali-99"},
    )
    assert response.url == reverse("accounts:password-reset-complete")
    student.refresh_from_db()
    assert student.check_password("baru-sekali-99")


def test_password_reset_does_not_reveal_unknown_addresses(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.org"})
    assert response.url == reverse("accounts:password-reset-done")
    assert mail.outbox == []


def test_interface_is_indonesian_even_when_the_browser_asks_for_english(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "id"
    assert "Masuk" in response.content.decode()


def test_english_is_available_from_the_language_switcher(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("accounts:login"))
    assert response["Content-Language"] == "en"
    assert "Sign in to RuangBK" in response.content.decode()


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Asia/Jakarta", "07:30"), ("Asia/Makassar", "08:30"), ("Asia/Jayapura", "09:30")],
)
def test_times_are_shown_in_the_schools_zone(student, zone, shown):
    student.school.time_zone = zone
    student.school.save()
    request = RequestFactory().get("/")
    request.user = student
    moment = datetime.datetime(2026, 11, 23, 0, 30, tzinfo=datetime.UTC)

    def render(_request):
        from django.http import HttpResponse

        return HttpResponse(Template("{{ moment|time:'H:i' }}").render(Context({"moment": moment})))

    response = SchoolTimezoneMiddleware(render)(request)
    assert response.content.decode() == shown
    timezone.deactivate()
