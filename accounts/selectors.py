"""Reads for account pages, always filtered by the asking user's school."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import SchoolClass, StudentProfile, User


def school_accounts(
    *,
    admin: User,
    query: str = "",
    role: str = "",
    class_id: int | None = None,
    without_counselor: bool = False,
    without_consent: bool = False,
) -> QuerySet[User]:
    users = User.objects.filter(school=admin.school).select_related(
        "student_profile__school_class", "student_profile__counselor"
    )
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
            | Q(student_profile__nisn__icontains=query)
        )
    if role:
        users = users.filter(role=role)
    if class_id:
        users = users.filter(student_profile__school_class_id=class_id)
    if without_counselor:
        users = users.filter(role=User.Role.STUDENT, student_profile__counselor__isnull=True)
    if without_consent:
        users = users.filter(role=User.Role.STUDENT, student_profile__has_guardian_consent=False)
    return users.order_by("role", "first_name", "username")


def school_account_get(*, admin: User, user_id: int) -> User:
    """One account of the admin's school; another school's account is a 404."""
    return get_object_or_404(
        User.objects.select_related("student_profile__school_class", "student_profile__counselor"),
        pk=user_id,
        school=admin.school,
    )


def school_counselors(*, school_id: int) -> QuerySet[User]:
    return User.objects.filter(
        school_id=school_id, role=User.Role.COUNSELOR, is_active=True
    ).order_by("first_name", "username")


def school_classes(*, school_id: int) -> QuerySet[SchoolClass]:
    return (
        SchoolClass.objects.filter(school_id=school_id)
        .annotate(student_count=Count("students", filter=Q(students__user__is_active=True)))
        .order_by("-academic_year", "name")
    )


def school_class_get(*, admin: User, class_id: int) -> SchoolClass:
    return get_object_or_404(SchoolClass, pk=class_id, school=admin.school)


def admin_home_counts(*, admin: User) -> dict:
    """Counts for the admin's home page: no names of students, no content."""
    users = User.objects.filter(school=admin.school, is_active=True)
    by_role = dict(
        users.values_list("role").annotate(total=Count("pk")).values_list("role", "total")
    )
    students = StudentProfile.objects.filter(user__school=admin.school, user__is_active=True)
    return {
        "roles": [(label, by_role.get(value, 0)) for value, label in User.Role.choices],
        "classes": school_classes(school_id=admin.school_id).filter(
            academic_year=admin.school.current_academic_year()
        ),
        "without_counselor": students.filter(counselor__isnull=True).count(),
        "without_consent": students.filter(has_guardian_consent=False).count(),
    }


def counselor_clients(*, counselor: User) -> QuerySet[StudentProfile]:
    return (
        StudentProfile.objects.filter(counselor=counselor, user__is_active=True)
        .select_related("user", "school_class")
        .order_by("school_class__name", "user__first_name")
    )


def has_guardian_consent(student_id: int) -> bool:
    """Whether a guardian's consent is recorded now for this student (UU PDP: counseling
    and questionnaires process a minor's data only with it). Read fresh: callers lock
    the student first, so a withdrawal that commits meanwhile is seen."""
    return StudentProfile.objects.filter(user_id=student_id, has_guardian_consent=True).exists()
