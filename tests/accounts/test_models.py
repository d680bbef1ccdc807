"""Rules the database itself enforces."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from accounts.models import School, SchoolClass, StudentProfile, User

pytestmark = pytest.mark.django_db


def test_every_account_but_an_operator_belongs_to_a_school():
    with pytest.raises(IntegrityError):
        User.objects.create(username="tanpa-sekolah", role=User.Role.STUDENT)


def test_operator_superuser_needs_no_school():
    operator = User.objects.create_superuser("operator", "op@example.org", "pw-operator-1")
    assert operator.school is None


def test_consent_without_a_date_is_refused(student):
    profile = student.student_profile
    profile.has_guardian_consent = True
    profile.guardian_consent_date = None
    with pytest.raises(IntegrityError):
        profile.save()


def test_class_name_unique_within_a_school_year(school_class):
    with pytest.raises(IntegrityError):
        SchoolClass.objects.create(
            school=school_class.school,
            name=school_class.name,
            academic_year=school_class.academic_year,
        )


def test_nisn_is_unique_across_schools(student, other_school):
    other = User.objects.create(username="lain", role=User.Role.STUDENT, school=other_school)
    with pytest.raises(IntegrityError):
        StudentProfile.objects.create(user=other, nisn=student.student_profile.nisn, gender="L")


def test_school_year_starts_in_july(school):
    import datetime

    assert school.current_academic_year(datetime.date(2026, 6, 30)) == 2025
    assert school.current_academic_year(datetime.date(2026, 7, 1)) == 2026


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert School.objects.count() == 1
    assert User.objects.filter(role=User.Role.STUDENT).count() == 30
    assert set(User.objects.exclude(role=User.Role.STUDENT).values_list("username", flat=True)) == {
        "admin",
        "konselor1",
        "konselor2",
    }
    for username in ("admin", "konselor1", "siswa01", "siswa30"):
        assert User.objects.get(username=username).check_password("ruangbk-demo")
    assert StudentProfile.objects.filter(counselor__isnull=True).count() == 0


def test_is_client_of_is_true_only_for_the_students_current_counselor(
    db, student, counselor, other_counselor, other_student
):
    assert student.is_client_of(counselor)
    assert not student.is_client_of(other_counselor)
    assert not other_student.is_client_of(counselor)
    assert not counselor.is_client_of(counselor)  # not a student
    student.student_profile.counselor = None
    student.student_profile.save()
    assert not student.is_client_of(counselor)
