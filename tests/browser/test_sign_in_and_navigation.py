"""Through the real pages in Chromium: sign-in, each role's home, navigation on a phone,
and a school admin's import handed to a student who signs in for the first time."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser

HOMES = {
    "student": "/accounts/student/",
    "counselor": "/accounts/counselor/",
    "school_admin": "/accounts/school/",
}


@pytest.mark.parametrize("person", list(HOMES))
def test_each_role_logs_in_through_the_form_and_lands_on_its_home(
    request, live_url, new_context, person
):
    user = request.getfixturevalue(person)
    page = new_context().new_page()
    log_in(page, live_url, user.username, TEST_PASSWORD)
    expect(page).to_have_url(f"{live_url}{HOMES[person]}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "id")


def nav_links(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#main-nav a.nav-link", "links => links.map(link => link.getAttribute('href'))"
    )


def assert_fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("person", ["student", "counselor", "school_admin"])
def test_every_navigation_link_works_on_a_phone(request, live_url, phone, person):
    user = request.getfixturevalue(person)
    log_in(phone, live_url, user.username, TEST_PASSWORD)
    links = nav_links(phone)
    assert len(links) >= 2
    for href in links:
        toggler = phone.locator(".navbar-toggler")
        expect(toggler).to_be_visible()  # the menu is collapsed on a phone
        toggler.click()
        # Click only once the menu has finished opening: during Bootstrap's collapse
        # animation the link moves and a click can miss it.
        expect(phone.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
        link = phone.locator(f"#main-nav a.nav-link[href='{href}']")
        expect(link).to_be_visible()
        link.click()
        expect(phone).to_have_url(re.compile(re.escape(href) + "$"))
        expect(phone.locator("h1")).to_be_visible()
        assert_fits_the_phone(phone)


def test_admin_imports_a_class_and_a_new_student_signs_in_for_the_first_time(
    live_url, new_context, phone, school_admin, school_class, tmp_path
):
    csv_file = tmp_path / "siswa.csv"
    csv_file.write_text(
        "NISN,Nama,Kelas,Jenis Kelamin,Nama Wali,Telepon Wali\n"
        f"0055500001,Rizky Ramadhan,{school_class.name},L,Bapak Hasan,081311112222\n"
        f"0055500002,Salsa Putri,{school_class.name},P,Ibu Nur,081311113333\n"
    )
    admin = new_context().new_page()
    log_in(admin, live_url, school_admin.username, TEST_PASSWORD)
    admin.goto(f"{live_url}/accounts/school/import/")
    admin.set_input_files("input[type=file]", str(csv_file))
    admin.click("main form button[type=submit]")
    expect(admin.locator("#import-summary")).to_contain_text("2")
    admin.get_by_role("button", name="Impor semua baris").click()
    table = admin.locator("table.credential-table")
    expect(table).to_contain_text("Rizky Ramadhan")
    row = table.locator("tr", has_text="0055500001")
    password = row.locator("td").nth(3).inner_text().strip()

    log_in(phone, live_url, "0055500001", password)
    expect(phone).to_have_url(f"{live_url}/accounts/password/change/")
    phone.fill("input[name=old_password]", password)
    phone.fill("input[name=new_password1]", "rizky-rahasia-2026")
    phone.fill("input[name=new_password2]", "rizky-rahasia-2026")
    phone.click("main form button[type=submit]")
    phone.goto(f"{live_url}/")
    expect(phone).to_have_url(f"{live_url}/accounts/student/")
    expect(phone.locator("h1")).to_contain_text("Rizky Ramadhan")
