"""Every school-admin page on a 360×640 phone: reachable, readable, no sideways scrolling."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_sign_in_and_navigation import assert_fits_the_phone
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def open_page(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    expect(page.locator("h1")).to_be_visible()
    assert_fits_the_phone(page)


def test_every_admin_page_fits_a_phone(live_url, phone, school_admin, student, school_class):
    log_in(phone, live_url, school_admin.username, TEST_PASSWORD)
    for path in (
        "/accounts/school/",
        "/accounts/school/accounts/",
        "/accounts/school/accounts/?without=consent",
        "/accounts/school/accounts/new/",
        f"/accounts/school/accounts/{student.pk}/",
        "/accounts/school/assign/",
        "/accounts/school/classes/",
        f"/accounts/school/classes/{school_class.pk}/",
        "/accounts/school/import/",
        "/accounts/school/credentials/",
        "/accounts/password/change/",
    ):
        open_page(phone, f"{live_url}{path}")


def test_new_counselor_through_the_form_hides_student_fields(live_url, phone, school_admin):
    log_in(phone, live_url, school_admin.username, TEST_PASSWORD)
    phone.goto(f"{live_url}/accounts/school/accounts/new/?role=student")
    student_fields = phone.locator("#student-fields")
    expect(student_fields).to_be_visible()
    phone.select_option("#id_role", "counselor")
    expect(student_fields).to_be_hidden()
    phone.fill("#id_full_name", "Ibu Ratna Sari, S.Pd.")
    phone.fill("#id_username", "ratna")
    phone.click("main form button[type=submit]")
    expect(phone.locator("table.credential-table")).to_contain_text("ratna")
    assert_fits_the_phone(phone)
