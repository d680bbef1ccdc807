"""The school admin's account pages, used as an admin would at the start of the year."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import SchoolClass, StudentProfile, User
from tests.factories import CounselorFactory, SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, school_admin):
    client.force_login(school_admin)
    return client


def student_form(school_class, **overrides):
    data = {
        "role": User.Role.STUDENT,
        "full_name": "Dewi Anggraini",
        "username": "0098765432",
        "email": "",
        "profile-nisn": "0098765432",
        "profile-school_class": school_class.pk,
        "profile-gender": "P",
        "profile-guardian_name": "Ibu Ratna",
        "profile-guardian_phone": "081298765432",
        "profile-counselor": "",
    }
    data.update(overrides)
    return data


def test_create_student_shows_password_once_and_forces_change(admin_client, school_class):
    response = admin_client.post(reverse("accounts:account-create"), student_form(school_class))
    assert response.url == reverse("accounts:credentials")
    page = admin_client.get(response.url)
    [credential] = page.context["credentials"]
    assert credential.username == "0098765432"
    user = User.objects.get(username="0098765432")
    assert user.check_password(credential.password)
    assert user.must_change_password
    assert user.school == school_class.school
    assert user.student_profile.guardian_name == "Ibu Ratna"
    # CSV carries the same list; after "saved", the passwords are gone from the screen.
    rows = list(
        csv.reader(
            io.StringIO(
                admin_client.get(reverse("accounts:credentials-csv")).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[1][0] == "0098765432"
    assert rows[1][3] == credential.password
    admin_client.post(reverse("accounts:credentials-dismiss"))
    assert admin_client.get(reverse("accounts:credentials")).context["credentials"] == []


def test_create_form_keeps_input_and_explains_errors(admin_client, school_class, student):
    data = student_form(school_class, username=student.username, **{"profile-nisn": "12"})
    response = admin_client.post(reverse("accounts:account-create"), data)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert "nisn" in response.context["profile_form"].errors
    html = response.content.decode()
    assert 'value="Dewi Anggraini"' in html
    assert 'value="Ibu Ratna"' in html


def test_create_counselor_needs_no_student_details(admin_client):
    response = admin_client.post(
        reverse("accounts:account-create"),
        {"role": User.Role.COUNSELOR, "full_name": "Pak Konselor", "username": "pakbk"},
    )
    assert response.url == reverse("accounts:credentials")
    counselor = User.objects.get(username="pakbk")
    assert counselor.is_counselor
    assert not hasattr(counselor, "student_profile") or counselor.student_profile is None


def test_deactivated_account_cannot_sign_in(admin_client, client, student):
    response = admin_client.post(
        reverse("accounts:account-set-active", args=[student.pk]), {"is_active": "0"}
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert not student.is_active
    from django.test import Client

    login = Client().post(
        reverse("accounts:login"),
        {"username": student.username, "password": "correct-horse-battery"},
    )
    assert login.status_code == 200  # the form again, with an error
    assert not login.wsgi_request.user.is_authenticated


def test_admin_cannot_deactivate_themselves(admin_client, school_admin):
    admin_client.post(
        reverse("accounts:account-set-active", args=[school_admin.pk]), {"is_active": "0"}
    )
    school_admin.refresh_from_db()
    assert school_admin.is_active


def test_password_reset_by_admin_issues_new_initial_password(admin_client, student):
    admin_client.post(reverse("accounts:account-password-reset", args=[student.pk]))
    [credential] = admin_client.get(reverse("accounts:credentials")).context["credentials"]
    student.refresh_from_db()
    assert not student.check_password("correct-horse-battery")
    assert student.check_password(credential.password)
    assert student.must_change_password


def test_edit_student_assigns_counselor_one_by_one(admin_client, student, other_counselor):
    profile = student.student_profile
    response = admin_client.post(
        reverse("accounts:account-edit", args=[student.pk]),
        {
            "full_name": "Nama Baru",
            "email": "baru@example.org",
            "profile-nisn": profile.nisn,
            "profile-school_class": profile.school_class_id,
            "profile-gender": "L",
            "profile-guardian_name": "",
            "profile-guardian_phone": "",
            "profile-counselor": other_counselor.pk,
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.counselor == other_counselor
    assert profile.user.first_name == "Nama Baru"
    assert profile.gender == "L"


def test_bulk_assign_by_class(admin_client, school, school_class, counselor):
    other_class = SchoolClassFactory(school=school)
    in_class = [StudentFactory(school=school, profile__school_class=school_class) for _ in range(3)]
    elsewhere = StudentFactory(school=school, profile__school_class=other_class)
    response = admin_client.post(
        reverse("accounts:assign-class"),
        {"school_class": school_class.pk, "counselor": counselor.pk},
    )
    assert response.status_code == 302
    for user in in_class:
        assert StudentProfile.objects.get(user=user).counselor == counselor
    assert StudentProfile.objects.get(user=elsewhere).counselor is None


def test_record_guardian_consent_keeps_date_and_recorder(admin_client, school_admin, student):
    url = reverse("accounts:account-consent", args=[student.pk])
    response = admin_client.post(url, {"has_guardian_consent": "on"})
    assert response.status_code == 200  # the date is required
    assert "guardian_consent_date" in response.context["consent_form"].errors
    admin_client.post(url, {"has_guardian_consent": "on", "guardian_consent_date": "2026-07-20"})
    profile = StudentProfile.objects.get(user=student)
    assert profile.has_guardian_consent
    assert str(profile.guardian_consent_date) == "2026-07-20"
    assert profile.guardian_consent_recorded_by == school_admin


def test_class_names_are_unique_per_school_year(admin_client, school_class):
    response = admin_client.post(
        reverse("accounts:class-list"),
        {"name": school_class.name.upper(), "academic_year": school_class.academic_year},
    )
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    admin_client.post(
        reverse("accounts:class-list"),
        {"name": school_class.name, "academic_year": school_class.academic_year + 1},
    )
    assert SchoolClass.objects.filter(name=school_class.name).count() == 2


def test_account_list_filters(admin_client, school, school_class, counselor, student):
    unassigned = StudentFactory(school=school, profile__school_class=school_class)
    url = reverse("accounts:account-list")

    def listed(**params):
        return {u.username for u in admin_client.get(url, params).context["page"].object_list}

    assert listed(without="counselor") == {unassigned.username}
    assert listed(role="counselor") == {counselor.username}
    assert listed(q=student.student_profile.nisn) == {student.username}
    assert student.username in listed(**{"class": str(school_class.pk)})


def test_account_list_runs_constant_queries(
    admin_client, school, school_class, counselor, assert_constant_queries
):
    def grow():
        for _ in range(25):
            StudentFactory(
                school=school, profile__school_class=school_class, profile__counselor=counselor
            )
        CounselorFactory(school=school)

    StudentFactory(school=school, profile__school_class=school_class, profile__counselor=counselor)
    assert_constant_queries(lambda: admin_client.get(reverse("accounts:account-list")), grow)


def test_admin_home_runs_constant_queries(
    admin_client, school, school_class, assert_constant_queries
):
    def grow():
        for _ in range(3):
            extra_class = SchoolClassFactory(school=school)
            for _ in range(5):
                StudentFactory(school=school, profile__school_class=extra_class)

    StudentFactory(school=school, profile__school_class=school_class)
    assert_constant_queries(lambda: admin_client.get(reverse("accounts:admin-home")), grow)


def test_counselor_home_runs_constant_queries(
    client, school, school_class, counselor, assert_constant_queries
):
    def grow():
        for _ in range(20):
            StudentFactory(
                school=school, profile__school_class=school_class, profile__counselor=counselor
            )

    client.force_login(counselor)
    StudentFactory(school=school, profile__school_class=school_class, profile__counselor=counselor)
    assert_constant_queries(lambda: client.get(reverse("accounts:counselor-home")), grow)


def test_deactivation_ends_the_users_open_web_session(admin_client, student):
    from django.test import Client

    student_client = Client()
    student_client.force_login(student)
    assert student_client.get(reverse("accounts:student-home")).status_code == 200
    admin_client.post(reverse("accounts:account-set-active", args=[student.pk]), {"is_active": "0"})
    response = student_client.get(reverse("accounts:student-home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
