"""Rules found by review: each test breaks if its rule does."""

import datetime
import io
import threading
import zipfile

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse
from django.utils import timezone

from accounts import forms as account_forms
from accounts import importing
from accounts.credentials import credentials_waiting
from accounts.models import PendingCredential, StudentProfile, User
from accounts.services import Credential
from tests.accounts.test_import import GOOD_ROWS, HEADER, xlsx_bytes
from tests.factories import SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes(school_class):
    return [school_class, SchoolClassFactory(school=school_class.school, name="X Akuntansi 1")]


def upload(client, admin, content: str) -> None:
    file = io.BytesIO(content.encode())
    file.name = "siswa.csv"
    year = admin.school.current_academic_year()
    client.post(reverse("accounts:import-upload"), {"file": file, "academic_year": year})


# --- operators stand outside every school ------------------------------------------------


def test_an_operator_cannot_belong_to_a_school(school):
    with pytest.raises(IntegrityError):
        User.objects.create_superuser("op", "op@example.org", "pw-operator-1", school=school)


def test_a_school_account_must_have_a_role(school):
    with pytest.raises(IntegrityError):
        User.objects.create(username="tanpa-peran", school=school, role="")


def test_school_admin_cannot_touch_an_operator(client, school_admin):
    operator = User.objects.create_superuser("op", "op@example.org", "pw-operator-1")
    client.force_login(school_admin)
    response = client.post(reverse("accounts:account-password-reset", args=[operator.pk]))
    assert response.status_code == 404
    operator.refresh_from_db()
    assert operator.check_password("pw-operator-1")


# --- the import under double clicks and concurrency ---------------------------------------


def test_double_clicked_import_keeps_every_new_password(client, school_admin, classes):
    client.force_login(school_admin)
    upload(client, school_admin, HEADER + GOOD_ROWS)
    pending = client.session[importing_session_key()]
    client.post(reverse("accounts:import-preview"))
    # The second click was read with the session as it was before the first finished.
    session = client.session
    session[importing_session_key()] = pending
    session.save()
    response = client.post(reverse("accounts:import-preview"))
    assert response.url == reverse("accounts:credentials")
    credentials = client.get(response.url).context["credentials"]
    assert len(credentials) == 3
    for credential in credentials:
        assert User.objects.get(username=credential.username).check_password(credential.password)


def importing_session_key() -> str:
    from accounts.views.student_import import SESSION_KEY

    return SESSION_KEY


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_imports_create_each_student_once(school_admin, classes):
    rows = importing.parse_rows((HEADER + GOOD_ROWS).encode())
    year = school_admin.school.current_academic_year()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run_import() -> None:
        try:
            start.wait()
            outcomes.append(
                importing.students_import(admin=school_admin, academic_year=year, rows=rows)
            )
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_import) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    created = sorted(plan.counts["create"] for plan, _credentials in outcomes)
    assert created == [0, 3]
    assert StudentProfile.objects.count() == 3


# --- files that are not what they claim -----------------------------------------------------


def test_a_damaged_xlsx_is_refused_not_a_crash():
    good = xlsx_bytes([["NISN", "Nama"], ["0012345601", "Ayu"]])
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # cut the sheet's XML in half
            target.writestr(item, data)
    with pytest.raises(importing.ImportFileError) as raised:
        importing.parse_rows(damaged.getvalue())
    assert raised.value.code == "not_spreadsheet"


def test_reading_stops_at_the_row_limit(monkeypatch):
    monkeypatch.setattr(importing, "MAX_IMPORT_ROWS", 3)
    content = HEADER + "".join(f"00123456{n:02d},Nama,K,L,,\n" for n in range(10))
    with pytest.raises(importing.ImportFileError) as raised:
        importing.parse_rows(content.encode())
    assert raised.value.code == "too_many_rows"


def test_an_oversized_upload_is_refused_before_reading(client, school_admin, monkeypatch):
    monkeypatch.setattr(account_forms, "MAX_IMPORT_BYTES", 10)
    client.force_login(school_admin)
    file = io.BytesIO((HEADER + GOOD_ROWS).encode())
    file.name = "siswa.csv"
    response = client.post(reverse("accounts:import-upload"), {"file": file, "academic_year": 2026})
    assert "file" in response.context["form"].errors


# --- odd query strings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["class=%C2%B2", "class=-1", "q=a%00b", "role=operator", "without=x", "page=zz"]
)
def test_account_list_ignores_odd_filters(client, school_admin, student, query):
    client.force_login(school_admin)
    response = client.get(f"{reverse('accounts:account-list')}?{query}")
    assert response.status_code == 200


# --- forms keep what was entered -------------------------------------------------------------


def test_recorded_consent_date_is_shown_back_in_the_date_field(client, school_admin, student):
    client.force_login(school_admin)
    client.post(
        reverse("accounts:account-consent", args=[student.pk]),
        {"has_guardian_consent": "on", "guardian_consent_date": "2026-07-20"},
    )
    page = client.get(reverse("accounts:account-edit", args=[student.pk]))
    assert 'value="2026-07-20"' in page.content.decode()


def test_deactivating_a_counselor_frees_their_students_for_reassignment(
    client, school_admin, counselor, student
):
    client.force_login(school_admin)
    response = client.post(
        reverse("accounts:account-set-active", args=[counselor.pk]), {"is_active": "0"}, follow=True
    )
    assert StudentProfile.objects.get(user=student).counselor is None
    assert any("1" in str(message) for message in response.context["messages"])
    home = client.get(reverse("accounts:admin-home"))
    assert home.context["without_counselor"] == 1


# --- passwords ---------------------------------------------------------------------------------


def test_credentials_csv_does_not_run_names_as_formulas(client, school_admin):
    PendingCredential.objects.create(
        issued_by=school_admin, username="0012345601", name="=HYPERLINK(1)", password="x"
    )
    client.force_login(school_admin)
    body = client.get(reverse("accounts:credentials-csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body


def test_waiting_passwords_expire(school_admin):
    old = PendingCredential.objects.create(
        issued_by=school_admin, username="lama", name="Lama", password="x"
    )
    PendingCredential.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - PendingCredential.CREDENTIAL_TTL - datetime.timedelta(1)
    )
    PendingCredential.objects.create(
        issued_by=school_admin, username="baru", name="Baru", password="y"
    )
    assert credentials_waiting(admin=school_admin) == [Credential("baru", "Baru", "", "y")]
    assert not PendingCredential.objects.filter(pk=old.pk).exists()


def test_passwords_are_shown_only_to_the_admin_who_issued_them(client, school, student):
    from tests.factories import SchoolAdminFactory

    issuer, colleague = SchoolAdminFactory(school=school), SchoolAdminFactory(school=school)
    client.force_login(issuer)
    client.post(reverse("accounts:account-password-reset", args=[student.pk]))
    client.force_login(colleague)
    assert client.get(reverse("accounts:credentials")).context["credentials"] == []


def test_initial_password_is_rehashed_with_the_default_hasher_at_first_sign_in(
    client, school_admin, student
):
    client.force_login(school_admin)
    client.post(reverse("accounts:account-password-reset", args=[student.pk]))
    [credential] = client.get(reverse("accounts:credentials")).context["credentials"]
    student.refresh_from_db()
    assert student.password.startswith("pbkdf2_sha256_initial$")
    client.logout()
    signed_in = client.post(
        reverse("accounts:login"),
        {"username": student.username, "password": credential.password},
    )
    assert signed_in.status_code == 302
    student.refresh_from_db()
    assert not student.password.startswith("pbkdf2_sha256_initial$")


def test_password_reset_by_email_ends_the_forced_change(client, student, settings):
    import re

    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    student.must_change_password = True
    student.save()
    client.post(reverse("accounts:password-reset"), {"email": student.email})
    link = re.search(r"https?://[^/]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "pilihan-sendiri-7", "new_password2": "pilihan-sendiri-7"},
    )
    student.refresh_from_db()
    assert not student.must_change_password


def test_imported_student_from_another_school_is_not_touched_by_reimport(
    school_admin, classes, other_school
):
    foreign = StudentFactory(school=other_school, profile__nisn="0012345602")
    rows = importing.parse_rows((HEADER + GOOD_ROWS).encode())
    year = school_admin.school.current_academic_year()
    with pytest.raises(importing.ImportRejected):
        importing.students_import(admin=school_admin, academic_year=year, rows=rows)
    foreign.refresh_from_db()
    assert foreign.school == other_school
