"""The Content Security Policy holds in Chromium: every role's main pages, the room with
a video call on both sides, the analytics charts and the operators' admin load without a
single `securitypolicyviolation` event, console error or uncaught script error."""

import datetime
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from accounts.models import User
from tests.analytics.study import measure, study
from tests.browser.conftest import PHONE, log_in
from tests.browser.test_room_video import CONNECT_MS, LAPTOP, REMOTE_VIDEO_PLAYS, precheck
from tests.factories import TEST_PASSWORD, CounselingSessionFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.browser

# Every violation reaches the test through an exposed function, so none is lost when the
# page navigates away before the test looks.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations = (window.violations || 0) + 1;
  window.reportViolation([
    event.effectiveDirective, event.blockedURI, event.sourceFile,
    String(event.lineNumber), (event.sample || "").slice(0, 80),
  ].join(" | "));
});
"""
# Console errors that are no fault: the 404 page itself, and the favicon that Django's
# admin pages do not declare.
EXPECTED_MISSING = ("/no-such-page/", "/favicon.ico")


class Problems(list):
    """What went wrong on the watched pages: violations, console errors, script errors."""

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.expose_function("reportViolation", lambda text: self.append(f"violation: {text}"))
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("page", self._watch_page)
        return context

    def _watch_page(self, page: Page) -> None:
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.append(f"script error on {page.url}: {error}"))

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type not in {"error", "warning"}:
            return
        url = message.location.get("url", "")
        if "status of 404" in message.text and url.endswith(EXPECTED_MISSING):
            return
        self.append(f"console {message.type} on {page.url}: {message.text} ({url})")


@pytest.fixture
def problems() -> Iterator[Problems]:
    found = Problems()
    yield found
    print("\n".join(found))  # shown when a test fails before its final assert


def person(new_context, problems: Problems, live_url: str, user, **options) -> Page:
    context = problems.watch(new_context(**options))
    page = context.new_page()
    log_in(page, live_url, user.username, TEST_PASSWORD)
    return page


def visit(page: Page, live_url: str, *paths: str) -> None:
    for path in paths:
        response = page.goto(f"{live_url}{path}")
        assert response is not None and response.status < 400, (path, response.status)
        page.wait_for_load_state("load")


def test_the_pages_of_every_role_keep_the_policy(
    live_url, new_context, problems, student, counselor, school_admin
):
    sessions = study(student, baseline=[33, 34, 32], sessions=[(38, 31), (44, 28), (49, 24)])
    student.student_profile.can_see_anxiety_trend = True
    student.student_profile.save()
    now = timezone.now()
    questionnaire = measure(student, "baseline", now - datetime.timedelta(hours=1), None)
    upcoming = CounselingSessionFactory(
        student=student, starts_at=now + datetime.timedelta(days=2), status="confirmed"
    )

    anonymous = problems.watch(new_context()).new_page()
    visit(anonymous, live_url, "/accounts/login/", "/accounts/password/reset/")
    response = anonymous.goto(f"{live_url}/no-such-page/")
    assert response.status == 404
    expect(anonymous.locator("#not-found")).to_be_visible()

    phone = person(
        new_context, problems, live_url, student, viewport=PHONE, is_mobile=True, has_touch=True
    )
    visit(
        phone,
        live_url,
        "/",
        "/sessions/book/",
        "/sessions/mine/",
        f"/sessions/{upcoming.pk}/",
        "/notifications/",
        "/accounts/password/change/",
        "/analytics/me/anxiety/",
    )
    expect(phone.locator("#my-anxiety-chart svg")).to_be_visible()
    visit(phone, live_url, f"/questionnaires/{questionnaire.pk}/")
    phone.locator(".questionnaire-item label").first.click()  # moves the progress bar
    phone.get_by_role("button", name="Menu").click()  # Bootstrap's collapse

    desk = person(new_context, problems, live_url, counselor, viewport=LAPTOP)
    visit(
        desk,
        live_url,
        "/",
        "/sessions/schedule/",
        "/sessions/availability/",
        "/sessions/new/",
        f"/sessions/{sessions[0].pk}/",
        f"/sessions/{sessions[0].pk}/transcript/",
        "/analytics/caseload/",
        "/analytics/multiple-baseline/",
        f"/analytics/clients/{student.pk}/report/",
        f"/questionnaires/clients/{student.pk}/",
        "/questionnaires/reliability/",
        f"/analytics/clients/{student.pk}/",
    )
    expect(desk.locator("#anxiety-chart svg")).to_be_visible()

    admin = person(new_context, problems, live_url, school_admin, viewport=LAPTOP)
    visit(
        admin,
        live_url,
        "/",
        "/accounts/school/accounts/",
        f"/accounts/school/accounts/{student.pk}/",
        "/accounts/school/classes/",
        "/accounts/school/assign/",
        "/accounts/school/import/",
        "/sessions/school/settings/",
        "/sessions/school/statistics/",
        "/accounts/school/accounts/new/",
    )
    admin.locator("#id_role").select_option("counselor")  # account-form.js hides a fieldset
    expect(admin.locator("#student-fields")).to_be_hidden()

    assert problems == [], "\n".join(problems)


def test_the_operators_admin_keeps_the_policy(live_url, new_context, problems, student):
    operator = User.objects.create_superuser("operator", "op@example.org", TEST_PASSWORD)
    page = problems.watch(new_context(viewport=LAPTOP)).new_page()
    page.goto(f"{live_url}/operator/login/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    visit(
        page,
        live_url,
        "/operator/",
        "/operator/accounts/user/",
        f"/operator/accounts/user/{student.pk}/change/",
        "/operator/accounts/user/add/",
    )
    assert problems == [], "\n".join(problems)


ALLOWS_CAMERA_AND_MICROPHONE = """() => ["camera", "microphone"].every(
  (feature) => document.featurePolicy.allowsFeature(feature))"""


def test_a_video_call_keeps_the_policy(live_url, new_context, problems, student):
    session = session_now(student, mode="video")
    desk = person(new_context, problems, live_url, session.counselor, viewport=LAPTOP)
    phone = person(
        new_context, problems, live_url, student, viewport=PHONE, is_mobile=True, has_touch=True
    )
    # Permissions-Policy: no page but the room may ask for the camera or microphone.
    assert phone.evaluate(ALLOWS_CAMERA_AND_MICROPHONE) is False
    for page in (desk, phone):
        page.goto(f"{live_url}/sessions/{session.pk}/room/")
        assert page.evaluate(ALLOWS_CAMERA_AND_MICROPHONE) is True
        # The room's websocket (connect-src 'self') is open.
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "online")

    precheck(phone)
    phone.click("#video-join")
    precheck(desk)
    desk.click("#video-join")
    for page in (desk, phone):
        expect(page.locator("#video-state")).to_have_attribute(
            "data-state", "connected", timeout=CONNECT_MS
        )
        page.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=CONNECT_MS)
    phone.fill("#chat-input", "Halo")
    phone.click("#chat-send")
    expect(desk.locator("#chat-log")).to_contain_text("Halo")
    phone.click("#video-hangup")
    expect(desk.locator("#video-state")).to_have_attribute("data-state", "idle")

    assert problems == [], "\n".join(problems)


def test_the_watch_sees_what_the_policy_blocks(live_url, new_context, problems):
    """The tests above cannot pass by not listening: inline code is reported."""
    page = problems.watch(new_context()).new_page()
    visit(page, live_url, "/accounts/login/")
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
          const script = document.createElement("script");
          script.textContent = "window.ran = true;";
          document.body.append(script);
        }"""
    )
    page.wait_for_function("() => window.violations === 2")
    assert page.evaluate("window.ran") is None
    kinds = {problem.split(" | ")[0] for problem in problems if problem.startswith("violation")}
    assert kinds == {"violation: style-src-attr", "violation: script-src-elem"}
