"""Create the demo school (idempotent). Refuses to run when DEBUG is off."""

import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import School, SchoolClass, StudentProfile, User
from instruments.demo import demo_measurements
from sessions_app.models import Availability, CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.services import session_confirm, session_request
from sessions_app.slots import counselor_slots

DEMO_PASSWORD = "ruangbk-demo"
DEMO_NPSN = "20999001"
DEMO_CLASSES = ("X Akuntansi 1", "XI Pemasaran 1", "XII Multimedia 1")
DEMO_STUDENTS = 30
FIRST_NAMES = (
    "Ayu", "Budi", "Citra", "Dimas", "Eka", "Fajar", "Gita", "Hendra", "Intan", "Joko",
    "Kartika", "Lukman", "Maya", "Nanda", "Oktavia", "Putra", "Qori", "Rina", "Satria", "Tiara",
    "Umar", "Vina", "Wahyu", "Yuni", "Zaki", "Anisa", "Bayu", "Dewi", "Galih", "Siti",
)  # fmt: skip
FAMILY_NAMES = ("Pratama", "Lestari", "Saputra", "Wulandari", "Hidayat", "Rahmawati")


class Command(BaseCommand):
    help = "Create or refresh the demo school with its admin, counselors and 30 students."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DJANGO_DEBUG=1 (it sets known passwords).")
        with transaction.atomic():
            self.seed()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo school ready. Logins (password "
                f"{DEMO_PASSWORD}): admin, konselor1, konselor2, siswa01 … siswa30"
            )
        )

    def seed(self) -> None:
        school, _ = School.objects.update_or_create(
            npsn=DEMO_NPSN,
            defaults={
                "name": "SMK Negeri Demo RuangBK",
                "address": "Jl. Pendidikan No. 1, Jakarta",
                "time_zone": School.TimeZone.WIB,
            },
        )
        year = school.current_academic_year()
        classes = [
            SchoolClass.objects.get_or_create(school=school, academic_year=year, name=name)[0]
            for name in DEMO_CLASSES
        ]
        self.account(school, "admin", "Admin Sekolah", User.Role.SCHOOL_ADMIN)
        counselors = [
            self.account(school, "konselor1", "Ibu Sri Handayani, S.Pd.", User.Role.COUNSELOR),
            self.account(school, "konselor2", "Bapak Agus Setiawan, M.Pd.", User.Role.COUNSELOR),
        ]
        for number in range(1, DEMO_STUDENTS + 1):
            name = f"{FIRST_NAMES[number - 1]} {FAMILY_NAMES[number % len(FAMILY_NAMES)]}"
            student = self.account(school, f"siswa{number:02d}", name, User.Role.STUDENT)
            has_consent = number % 5 != 0  # a few without consent, to show the flag
            StudentProfile.objects.update_or_create(
                user=student,
                defaults={
                    "nisn": f"99{number:08d}",
                    "school_class": classes[(number - 1) // 10],
                    "gender": StudentProfile.Gender.FEMALE
                    if number % 2
                    else StudentProfile.Gender.MALE,
                    "guardian_name": f"Orang tua {name.split()[0]}",
                    "guardian_phone": f"0812000000{number:02d}",
                    "counselor": counselors[0] if number <= 15 else counselors[1],
                    "has_guardian_consent": has_consent,
                    "guardian_consent_date": school_year_start(year) if has_consent else None,
                },
            )
        for counselor in counselors:
            self.availability(counselor)
        self.sessions(school)
        self.room_to_try(school)
        demo_measurements(school)

    def account(self, school: School, username: str, name: str, role: str) -> User:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": name,
                "role": role,
                "school": school,
                "is_active": True,
                "must_change_password": False,
            },
            # A new account is created with its password: no "password changed" entry.
            create_defaults={
                "first_name": name,
                "role": role,
                "school": school,
                "password": make_password(DEMO_PASSWORD),
            },
        )
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def availability(self, counselor: User) -> None:
        """Weekday afternoons 13:00–15:00 and Saturday morning, in the school's zone."""
        if Availability.objects.filter(counselor=counselor).exists():
            return
        windows = [(day, datetime.time(13), datetime.time(15)) for day in range(5)]
        windows.append((5, datetime.time(8), datetime.time(11)))
        Availability.objects.bulk_create(
            Availability(counselor=counselor, weekday=day, start_time=start, end_time=end)
            for day, start, end in windows
        )

    def sessions(self, school: School) -> None:
        """A request waiting for konselor1 and a confirmed session, on the next free slots."""
        if CounselingSession.objects.filter(school=school).exists():
            return
        first, second = (User.objects.get(username=name) for name in ("siswa01", "siswa02"))
        counselor = first.student_profile.counselor
        slots = counselor_slots(counselor=counselor, policy=booking_policy_for(school))
        if len(slots) < 4:
            return
        intake = {"consent_given": True, "mode": "chat"}
        session_request(
            student=first, starts_at=slots[1].starts_at, field="learning",
            description="Saya cemas setiap ada ulangan matematika.", **intake,
        )  # fmt: skip
        confirmed = session_request(
            student=second, starts_at=slots[3].starts_at, field="career", **intake
        )
        session_confirm(counselor=counselor, session=confirmed)

    def room_to_try(self, school: School) -> None:
        """A chat session of siswa03 with konselor1 whose room is open now, so the demo can
        show the session room at once (skipped while one is still open or the time is
        taken)."""
        student = User.objects.get(username="siswa03")
        counselor = student.student_profile.counselor
        now = timezone.now()
        starts_at = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
        ends_at = starts_at + datetime.timedelta(minutes=45)
        taken = CounselingSession.objects.filter(
            Q(counselor=counselor) | Q(student=student),
            status__in=CounselingSession.HOLDING_STATUSES,
            starts_at__lt=ends_at + CounselingSession.ROOM_GRACE,
            ends_at__gt=starts_at - CounselingSession.ROOM_GRACE,
        )
        if taken.exists():
            return
        CounselingSession.objects.create(
            school=school,
            student=student,
            counselor=counselor,
            starts_at=starts_at,
            ends_at=ends_at,
            status=CounselingSession.Status.CONFIRMED,
            mode=CounselingSession.Mode.VIDEO,
            field=CounselingSession.Field.PERSONAL,
            description="Saya ingin bercerita tentang teman sekelas.",
            consent_text=booking_policy_for(school).consent_text,
            consent_given_at=now,
        )


def school_year_start(year: int) -> datetime.date:
    return datetime.date(year, 7, 15)
