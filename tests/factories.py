"""factory-boy factories for the people and places around every test."""

import datetime

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import School, SchoolClass, StudentProfile, User

TEST_PASSWORD = "correct-horse-battery"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"SMA Negeri {n + 1} Contoh")
    npsn = factory.Sequence(lambda n: f"{20100000 + n:08d}")
    time_zone = School.TimeZone.WIB


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"XI IPA {n + 1}")
    academic_year = factory.LazyAttribute(lambda o: o.school.current_academic_year())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:03d}")
    first_name = factory.Faker("name", locale="id_ID")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    school = factory.SubFactory(SchoolFactory)
    role = User.Role.STUDENT
    # Hashed up front, so the account is created with its password in one save (a later
    # save with another hash would be a password change, which the audit trail records).
    password = factory.LazyFunction(lambda: make_password(TEST_PASSWORD))


class CounselorFactory(UserFactory):
    role = User.Role.COUNSELOR
    username = factory.Sequence(lambda n: f"konselor{n:03d}")


class SchoolAdminFactory(UserFactory):
    role = User.Role.SCHOOL_ADMIN
    username = factory.Sequence(lambda n: f"admin{n:03d}")


class OperatorFactory(UserFactory):
    """Staff of the platform: no school, no role, reaches /operator/."""

    role = ""
    school = None
    is_staff = True
    is_superuser = True
    username = factory.Sequence(lambda n: f"operator{n:03d}")


class StudentFactory(UserFactory):
    role = User.Role.STUDENT
    username = factory.Sequence(lambda n: f"siswa{n:03d}")
    profile = factory.RelatedFactory(
        "tests.factories.StudentProfileFactory", factory_related_name="user"
    )


class StudentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudentProfile

    user = factory.SubFactory(StudentFactory, profile=None)
    nisn = factory.Sequence(lambda n: f"{10_000_000 + n:010d}")
    school_class = factory.SubFactory(
        SchoolClassFactory, school=factory.SelfAttribute("..user.school")
    )
    gender = StudentProfile.Gender.FEMALE
    guardian_name = factory.Faker("name", locale="id_ID")
    guardian_phone = "081234567890"
    # Counseling needs it; a test of its absence says so (has_guardian_consent=False).
    has_guardian_consent = True
    guardian_consent_date = factory.LazyAttribute(
        lambda o: (
            timezone.localdate() - datetime.timedelta(days=30) if o.has_guardian_consent else None
        )
    )


class AvailabilityFactory(factory.django.DjangoModelFactory):
    """A weekly window, in the school's local wall-clock time."""

    class Meta:
        model = "sessions_app.Availability"

    counselor = factory.SubFactory(CounselorFactory)
    weekday = 0
    start_time = datetime.time(13, 0)
    end_time = datetime.time(15, 0)
    session_minutes = 45
    buffer_minutes = 15


class CounselingSessionFactory(factory.django.DjangoModelFactory):
    """A session between a student and their counselor (times in UTC)."""

    class Meta:
        model = "sessions_app.CounselingSession"

    student = factory.SubFactory(StudentFactory)
    counselor = factory.LazyAttribute(lambda o: o.student.student_profile.counselor)
    school = factory.LazyAttribute(lambda o: o.student.school)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + datetime.timedelta(days=2)).replace(
            minute=0, second=0, microsecond=0
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=45))
    status = "confirmed"
    mode = "chat"
    field = "learning"
    description = "Saya sulit fokus belajar matematika."
    consent_text = "Persetujuan layanan konseling daring."
    consent_given_at = factory.LazyFunction(timezone.now)


class AdministrationFactory(factory.django.DjangoModelFactory):
    """An open questionnaire for a student from their counselor (times in UTC)."""

    class Meta:
        model = "instruments.Administration"

    student = factory.SubFactory(StudentFactory)
    counselor = factory.LazyAttribute(lambda o: o.student.student_profile.counselor)
    school = factory.LazyAttribute(lambda o: o.student.school)
    instrument_code = "amas"
    phase = "treatment"
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + datetime.timedelta(days=3))
    notified_at = factory.LazyAttribute(lambda o: o.opens_at)


class ResponseFactory(factory.django.DjangoModelFactory):
    """A stored response. Pass `answers` as {"1": 3, ...}; scores are not computed here:
    use instruments.services.response_submit where the scores matter."""

    class Meta:
        model = "instruments.Response"

    administration = factory.SubFactory(AdministrationFactory)
    answers = factory.LazyFunction(lambda: {str(n): 3 for n in range(1, 10)})
    total = 27
    band = "fairly_high"
    subscale_scores = factory.LazyFunction(lambda: {"learning": 15, "evaluation": 12})
    definition_version = "1.0"
