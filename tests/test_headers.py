"""Security headers on real pages, and the error pages in the site's look and language.

This module is also a URLconf (the `failing_site` fixture makes it ROOT_URLCONF) that
adds two test-only views that fail, so the 400 and 500 pages are produced the way
production produces them.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils import translation

from accounts.models import User
from counseling_platform.headers import DENIED_FEATURES
from counseling_platform.urls import urlpatterns as site_urlpatterns
from tests.analytics.study import study
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SECRET_DETAIL = "db password is hunter2"

# What a Content Security Policy without 'unsafe-inline' refuses: a <script> with a body
# (JSON data blocks excepted: browsers never run them), a <style> block, a style=""
# attribute, an on*= handler and a javascript: URL.
INLINE_CODE = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>"
    r"|<style\b"
    r"|<[a-z][^<>]*\s(?:style|on[a-z]+)\s*="
    r"|javascript:",
    re.IGNORECASE,
)


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation(SECRET_DETAIL)


urlpatterns = [
    path("test-only/fails/", fails),
    path("test-only/suspicious/", suspicious),
    *site_urlpatterns,
]


def inline_code(html: str) -> list[str]:
    return [match.group(0)[:80] for match in INLINE_CODE.finditer(html)]


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {name: values for name, *values in directives}


def permissions(response) -> dict[str, str]:
    return dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pages(student, counselor, school_admin) -> dict[str, tuple[Client, str]]:
    """Real pages of each role: who opens them, and where."""
    study(student, baseline=[33, 34, 32], sessions=[(38, 31), (44, 28), (49, 24)])
    student.student_profile.can_see_anxiety_trend = True
    student.student_profile.save()
    room = session_now(student)
    return {
        "home": (signed_in(student), "/"),  # a redirect to the role's home
        "login": (Client(), "/accounts/login/"),
        "student home": (signed_in(student), "/accounts/student/"),
        "student anxiety chart": (signed_in(student), "/analytics/me/anxiety/"),
        "counselor home": (signed_in(counselor), "/accounts/counselor/"),
        "counselor caseload": (signed_in(counselor), "/analytics/caseload/"),
        "client charts": (signed_in(counselor), f"/analytics/clients/{student.pk}/"),
        "regression report": (signed_in(counselor), f"/analytics/clients/{student.pk}/report/"),
        "admin home": (signed_in(school_admin), "/accounts/school/"),
        "account form": (signed_in(school_admin), "/accounts/school/accounts/new/"),
        "student's room": (signed_in(student), f"/sessions/{room.pk}/room/"),
        "counselor's room": (signed_in(counselor), f"/sessions/{room.pk}/room/"),
    }


def assert_security_headers(response, name: str = "") -> None:
    csp = policy(response)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"], name
    assert "'unsafe-eval'" not in response["Content-Security-Policy"], name
    assert csp["default-src"] == ["'self'"], name
    assert csp["script-src"] == ["'self'"], name
    assert csp["style-src"] == ["'self'"], name
    assert csp["object-src"] == ["'none'"], name
    assert csp["frame-ancestors"] == ["'none'"], name
    assert csp["connect-src"] == ["'self'"], name  # the room's websocket: same host
    assert response["X-Frame-Options"] == "DENY", name
    assert response["Referrer-Policy"] == "same-origin", name
    assert response["X-Content-Type-Options"] == "nosniff", name


def test_every_page_sends_a_policy_without_inline_code_and_has_none(pages):
    for name, (client, url) in pages.items():
        response = client.get(url)
        assert response.status_code == (302 if name == "home" else 200), name
        assert_security_headers(response, name)
        # What the templates and the Python that writes HTML (charts, crispy forms) made.
        assert inline_code(response.content.decode()) == [], name


def test_only_the_room_may_use_the_camera_and_microphone(pages):
    for name, (client, url) in pages.items():
        allowed = permissions(client.get(url))
        assert set(DENIED_FEATURES) <= set(allowed), name
        in_room = name.endswith("room")
        for feature in ("camera", "microphone"):
            assert allowed[feature] == ("(self)" if in_room else "()"), name
        assert all(allowed[feature] == "()" for feature in ("geolocation", "payment", "usb"))


def test_the_rooms_rerendered_form_still_allows_the_camera(student, counselor):
    room = session_now(student)
    response = signed_in(counselor).post(f"/sessions/{room.pk}/room/outcome/", {"kind": ""})
    assert response.status_code == 400
    assert 'id="video' in response.content.decode()  # the room page, with its video panel
    assert permissions(response)["camera"] == "(self)"


def test_the_operators_admin_has_no_inline_code_either(student, counselor):
    """Django's admin at /operator/ lives under the same policy: every registered model's
    list, add and change pages (generated, so a newly registered model is covered)."""
    operator = User.objects.create_superuser("operator", "op@example.org", "pw-operator-1")
    client = signed_in(operator)
    urls = ["/operator/"]
    for model in admin.site._registry:
        base = f"/operator/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, f"{base}add/"]
        first = model._default_manager.first()
        if first is not None:
            urls.append(f"{base}{first.pk}/change/")
    for url in urls:
        response = client.get(url)
        assert response.status_code in {200, 403}, url  # 403: read-only models, no add
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url
        assert inline_code(response.content.decode()) == [], url


def assert_site_look(response, *, language: str, element_id: str) -> str:
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert "/static/ruangbk/site.css" in body
    assert "/static/bootstrap/css/bootstrap.min.css" in body
    assert f'id="{element_id}"' in body
    assert inline_code(body) == []
    assert "Traceback" not in body
    assert SECRET_DETAIL not in body
    assert_security_headers(response)
    assert permissions(response)["camera"] == "()"
    with translation.override(language):
        assert translation.gettext("Back to home") in body
    return body


@pytest.fixture
def failing_site(settings):
    """The test-only failing views, served as in production: DEBUG off, no re-raise."""
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_server_error_page_is_the_sites_in_indonesian_by_default(failing_site, caplog):
    response = failing_site.get("/test-only/fails/")
    assert response.status_code == 500
    assert_site_look(response, language="id", element_id="server-error")
    with translation.override("id"):
        assert translation.gettext("Back to home") != "Back to home"  # it was translated
    assert SECRET_DETAIL in caplog.text  # logged for the operator, never shown


def test_server_error_page_follows_the_language_cookie(failing_site):
    response = english(failing_site).get("/test-only/fails/")
    assert response.status_code == 500
    body = assert_site_look(response, language="en", element_id="server-error")
    assert "Something went wrong" in body


def test_bad_request_page(failing_site, student):
    failing_site.force_login(student)
    response = english(failing_site).get("/test-only/suspicious/")
    assert response.status_code == 400
    body = assert_site_look(response, language="en", element_id="bad-request")
    assert "Bad request" in body


@pytest.mark.parametrize(("language", "cookie"), [("id", None), ("en", "en")])
def test_not_found_page(settings, student, language, cookie):
    settings.DEBUG = False
    client = signed_in(student)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get("/sessions/999999/room/")
    assert response.status_code == 404
    assert_site_look(response, language=language, element_id="not-found")
    assert 'id="notification-bell"' in response.content.decode()  # the site's own nav


def test_forbidden_page(settings, student):
    settings.DEBUG = False
    response = english(signed_in(student)).get("/sessions/schedule/")  # a counselor's page
    assert response.status_code == 403
    body = assert_site_look(response, language="en", element_id="not-allowed")
    assert "Not allowed" in body


def test_csrf_failure_page(settings):
    settings.DEBUG = False
    client = english(Client(enforce_csrf_checks=True))
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    body = assert_site_look(response, language="en", element_id="csrf-failed")
    assert "CSRF" not in body  # Django's own page talks about tokens and Referer headers


def test_no_template_has_inline_scripts_styles_or_handlers():
    """A Content Security Policy without 'unsafe-inline' would block them: scripts and
    styles belong in static/, and a style that JavaScript sets goes through element.style."""
    found = {
        str(template.relative_to(TEMPLATES)): inline_code(template.read_text())
        for template in TEMPLATES.rglob("*.html")
    }
    assert {name: matches for name, matches in found.items() if matches} == {}


# In our scripts: code from strings (would need 'unsafe-eval'), and HTML or attributes
# that could carry inline styles or handlers; element.style, textContent and
# addEventListener are what the scripts use instead.
SCRIPT_HAZARDS = re.compile(
    r"\beval\(|new Function\b|set(?:Timeout|Interval)\(\s*[\"'`]"
    r"|setAttribute\(\s*[\"'`](?:style|on[a-z]+)[\"'`]"
    r"|\.(?:innerHTML|outerHTML)\s*\+?=(?!=)|insertAdjacentHTML|document\.write",
)


def test_no_script_builds_code_from_strings_or_inline_styles():
    static = Path(settings.BASE_DIR) / "static"
    found = {
        str(script.relative_to(static)): SCRIPT_HAZARDS.findall(script.read_text())
        for script in static.rglob("*.js")
    }
    assert {name: matches for name, matches in found.items() if matches} == {}


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script type="module">import "./x.js";</script>',
        '<div class="a" style="width: 3%">',
        "<style>.a { color: red }</style>",
        '<button type="button"\n        onclick="go()">',
        '<a href="javascript:void(0)">',
    ],
)
def test_the_scan_finds_inline_code(html):
    assert inline_code(html)


@pytest.mark.parametrize(
    "html",
    [
        '<script src="/static/x.js"></script>',
        '<script type="module" src="{% static \'x.js\' %}"></script>',
        '<script id="room-strings" type="application/json">{"a": 1}</script>',
        '<span data-online="1" class="stylish">',
        "<p>Turn the camera on = off</p>",
    ],
)
def test_the_scan_leaves_external_code_and_data_alone(html):
    assert inline_code(html) == []
