"""Who may open which page: each role is refused the other roles' pages, and a school
admin never reaches another school's accounts."""

import pytest
from django.urls import reverse

from accounts.models import StudentProfile, User

pytestmark = pytest.mark.django_db

STUDENT_PAGES = ["accounts:student-home"]
COUNSELOR_PAGES = ["accounts:counselor-home"]
ADMIN_PAGES = [
    "accounts:admin-home",
    "accounts:account-list",
    "accounts:account-create",
    "accounts:assign-class",
    "accounts:class-list",
    "accounts:import-upload",
    "accounts:import-preview",
    "accounts:credentials",
    "accounts:credentials-csv",
]
PAGES_BY_ROLE = {
    User.Role.STUDENT: STUDENT_PAGES,
    User.Role.COUNSELOR: COUNSELOR_PAGES,
    User.Role.SCHOOL_ADMIN: ADMIN_PAGES,
}


@pytest.fixture
def people(student, counselor, school_admin):
    return {
        User.Role.STUDENT: student,
        User.Role.COUNSELOR: counselor,
        User.Role.SCHOOL_ADMIN: school_admin,
    }


@pytest.mark.parametrize("url_name", STUDENT_PAGES + COUNSELOR_PAGES + ADMIN_PAGES)
def test_anonymous_visitor_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", list(PAGES_BY_ROLE))
def test_each_role_opens_its_own_pages_and_is_refused_the_others(client, people, role):
    client.force_login(people[role])
    for page_role, url_names in PAGES_BY_ROLE.items():
        for url_name in url_names:
            response = client.get(reverse(url_name))
            if page_role == role:
                assert response.status_code in (200, 302), url_name
                if response.status_code == 302:  # e.g. preview without a file
                    assert not response.url.startswith(reverse("accounts:login"))
            else:
                assert response.status_code == 403, (role, url_name)


@pytest.mark.parametrize(
    ("url_name", "method"),
    [
        ("accounts:account-edit", "get"),
        ("accounts:account-edit", "post"),
        ("accounts:account-consent", "post"),
        ("accounts:account-set-active", "post"),
        ("accounts:account-password-reset", "post"),
    ],
)
def test_admin_cannot_reach_another_schools_account(
    client, school_admin, foreign_student, url_name, method
):
    client.force_login(school_admin)
    url = reverse(url_name, args=[foreign_student.pk])
    response = getattr(client, method)(url, {"is_active": "0", "full_name": "Diubah"})
    assert response.status_code == 404
    foreign_student.refresh_from_db()
    assert foreign_student.is_active
    assert foreign_student.first_name != "Diubah"
    assert foreign_student.check_password("correct-horse-battery")


@pytest.mark.parametrize(
    "url_name",
    ["accounts:account-edit", "accounts:account-set-active", "accounts:account-password-reset"],
)
def test_counselor_and_student_cannot_manage_accounts(client, student, counselor, url_name):
    for user in (student, counselor):
        client.force_login(user)
        response = client.post(reverse(url_name, args=[student.pk]), {"is_active": "0"})
        assert response.status_code == 403
    student.refresh_from_db()
    assert student.is_active


def test_admin_list_and_search_show_only_own_school(client, school_admin, student, foreign_student):
    client.force_login(school_admin)
    response = client.get(reverse("accounts:account-list"))
    usernames = {user.username for user in response.context["page"].object_list}
    assert student.username in usernames
    assert foreign_student.username not in usernames
    response = client.get(reverse("accounts:account-list"), {"q": foreign_student.username})
    assert list(response.context["page"].object_list) == []


def test_admin_cannot_assign_another_schools_counselor(
    client, school_admin, student, foreign_counselor
):
    client.force_login(school_admin)
    profile = student.student_profile
    response = client.post(
        reverse("accounts:account-edit", args=[student.pk]),
        {
            "full_name": "Siswa",
            "email": "",
            "profile-nisn": profile.nisn,
            "profile-school_class": profile.school_class_id,
            "profile-gender": profile.gender,
            "profile-counselor": foreign_counselor.pk,
        },
    )
    assert response.status_code == 200
    assert "counselor" in response.context["profile_form"].errors
    profile.refresh_from_db()
    assert profile.counselor != foreign_counselor


def test_admin_cannot_bulk_assign_another_schools_class(
    client, school_admin, counselor, other_school
):
    from tests.factories import SchoolClassFactory, StudentFactory

    foreign_class = SchoolClassFactory(school=other_school)
    foreign = StudentFactory(school=other_school, profile__school_class=foreign_class)
    client.force_login(school_admin)
    response = client.post(
        reverse("accounts:assign-class"),
        {"school_class": foreign_class.pk, "counselor": counselor.pk},
    )
    assert response.status_code == 200
    assert "school_class" in response.context["form"].errors
    assert StudentProfile.objects.get(user=foreign).counselor is None


def test_admin_cannot_edit_another_schools_class(client, school_admin, other_school):
    from tests.factories import SchoolClassFactory

    foreign_class = SchoolClassFactory(school=other_school, name="X A")
    client.force_login(school_admin)
    response = client.post(
        reverse("accounts:class-edit", args=[foreign_class.pk]),
        {"name": "Diubah", "academic_year": foreign_class.academic_year},
    )
    assert response.status_code == 404
    foreign_class.refresh_from_db()
    assert foreign_class.name == "X A"


def test_admin_home_counts_only_own_school(client, school_admin, student, foreign_student):
    for user in (student, foreign_student):  # neither has consent recorded
        StudentProfile.objects.filter(user=user).update(
            has_guardian_consent=False, guardian_consent_date=None
        )
    client.force_login(school_admin)
    response = client.get(reverse("accounts:admin-home"))
    roles = dict(response.context["roles"])
    assert roles[User.Role.STUDENT.label] == 1
    assert response.context["without_consent"] == 1


def test_counselor_home_lists_only_own_clients(client, counselor, student, other_student):
    client.force_login(counselor)
    response = client.get(reverse("accounts:counselor-home"))
    assert [profile.user for profile in response.context["clients"]] == [student]
    assert other_student.display_name not in response.content.decode()


def test_superuser_without_school_goes_to_operator_admin(client):
    operator = User.objects.create_superuser("operator", "op@example.org", "pw-operator-1")
    client.force_login(operator)
    response = client.get(reverse("home"))
    assert response.url == reverse("admin:index")
    assert client.get(reverse("accounts:admin-home")).status_code == 403
