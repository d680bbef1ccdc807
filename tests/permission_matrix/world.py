"""The world the matrix runs in: one school with a student's case in full, the people
around it, another school's admin and an operator; how each URL keyword argument is
filled from it; the valid form data each state-changing route is sent.

The POST data is valid on purpose: were a permission check missing, the change would go
through, and the matrix sees it in the database, not only in the status code.
"""

import datetime
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import School, SchoolClass, SignIn, User
from instruments.models import Administration, Response
from notifications.models import Notification
from sessions_app.models import Availability, ChatMessage, CounselingSession, SessionNote
from tests.factories import (
    TEST_PASSWORD,
    AdministrationFactory,
    AvailabilityFactory,
    CounselingSessionFactory,
    CounselorFactory,
    ResponseFactory,
    SchoolAdminFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
)

# The people of every row, in the table's column order.
PEOPLE = (
    "anonymous",
    "student",  # the student whose case the objects belong to
    "other_student",  # same school and class, another counselor's client
    "counselor",  # the student's counselor
    "other_counselor",  # same school
    "school_admin",  # the student's school
    "foreign_admin",  # another school's admin
    "operator",  # a Django superuser at /operator/, outside every school
)


@dataclass
class World:
    school: School
    other_school: School
    school_class: SchoolClass
    people: dict[str, User | None]
    session: CounselingSession  # in progress now: room, transcript, note reachable
    confirmed_session: CounselingSession  # confirmed, in two days: calendar, cancel
    completed_session: CounselingSession  # held yesterday: its outcome can be recorded
    administration: Administration  # the student's open AMAS
    optional_administration: Administration  # the student's open optional evaluation
    response: Response  # the student's answered AMAS
    notification: Notification  # the student's
    window: Availability  # the counselor's weekly window
    other_device: SignIn  # another sign-in of the student (their phone, say)
    reset_uidb64: str  # a valid password-reset link of the student
    reset_token: str
    secrets: dict[str, str] = field(default_factory=dict)  # what table.NEVER_SHOWN names
    cookies: dict[str, str] = field(default_factory=dict)  # person -> session cookie
    baseline: dict[str, list[tuple]] = field(default_factory=dict)  # world_state() as built

    def __getattr__(self, name: str):
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def _client_of(counselor: User, school_class: SchoolClass, username: str) -> User:
    student = StudentFactory(
        school=school_class.school, username=username, profile__school_class=school_class
    )
    student.student_profile.counselor = counselor
    student.student_profile.save()
    return student


def _sign_in(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> World:
    school = SchoolFactory(name="SMK Negeri 1 Contoh")
    other_school = SchoolFactory(name="SMA Negeri 9 Lain", time_zone="Asia/Makassar")
    school_class = SchoolClassFactory(school=school, name="XI Pemasaran 1")
    SchoolClassFactory(school=other_school, name="X IPA 1")
    counselor = CounselorFactory(school=school, username="konselor")
    other_counselor = CounselorFactory(school=school, username="konselor_lain")
    student = _client_of(counselor, school_class, "siswa")
    # A name found nowhere else, so that a page showing the student can be told apart.
    student.first_name, student.last_name = "Kirana", "Matriksiana"
    student.save(update_fields=["first_name", "last_name"])
    other_student = _client_of(other_counselor, school_class, "siswa_lain")
    people: dict[str, User | None] = {
        "anonymous": None,
        "student": student,
        "other_student": other_student,
        "counselor": counselor,
        "other_counselor": other_counselor,
        "school_admin": SchoolAdminFactory(school=school, username="admin"),
        "foreign_admin": SchoolAdminFactory(school=other_school, username="admin_lain"),
        "operator": User.objects.create_superuser(
            "operator", "operator@example.org", TEST_PASSWORD
        ),
    }
    # The counselor lets the student see their own anxiety trend.
    student.student_profile.can_see_anxiety_trend = True
    student.student_profile.save()

    # Texts found nowhere else, so that a page showing them can be told apart.
    secrets = {
        "name": student.get_full_name(),
        "chat": "Pesan rahasia di ruang sesi nomor tujuh",
        "note": "Catatan rahasia konselor tentang kasus ini",
        "intake": "Deskripsi rahasia masalah di rumah",
    }
    now = timezone.now()
    session = CounselingSessionFactory(
        student=student,
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(minutes=40),
        status=CounselingSession.Status.IN_PROGRESS,
        description=secrets["intake"],
    )
    ChatMessage.objects.create(
        session=session, seq=1, sender=student, client_id=uuid.uuid4(), body=secrets["chat"]
    )
    SessionNote.objects.create(session=session, body=secrets["note"])
    confirmed_session = CounselingSessionFactory(student=student, description=secrets["intake"])
    yesterday = now - datetime.timedelta(days=1)
    completed_session = CounselingSessionFactory(
        student=student,
        starts_at=yesterday,
        ends_at=yesterday + datetime.timedelta(minutes=45),
        status=CounselingSession.Status.COMPLETED,
        description=secrets["intake"],
    )
    answered = AdministrationFactory(student=student, opens_at=now - datetime.timedelta(days=1))
    world = World(
        school=school,
        other_school=other_school,
        school_class=school_class,
        people=people,
        session=session,
        confirmed_session=confirmed_session,
        completed_session=completed_session,
        administration=AdministrationFactory(student=student),
        optional_administration=AdministrationFactory(
            student=student, instrument_code="service-evaluation"
        ),
        response=ResponseFactory(administration=answered),
        notification=Notification.objects.create(
            user=student,
            kind=Notification.Kind.SESSION_CONFIRMED,
            session=confirmed_session,
            starts_at=confirmed_session.starts_at,
        ),
        window=AvailabilityFactory(counselor=counselor),
        other_device=SignIn(),
        secrets=secrets,
        reset_uidb64="",
        reset_token="",
    )
    other_device_key = _sign_in(student)
    world.other_device = SignIn.objects.get(session_key=other_device_key)
    world.cookies = {person: _sign_in(user) for person, user in people.items() if user}
    # After signing in: the token covers the last login.
    world.reset_uidb64 = urlsafe_base64_encode(force_bytes(student.pk))
    world.reset_token = default_token_generator.make_token(student)
    world.baseline = world_state()
    return world


# --- Filling URLs -----------------------------------------------------------------------

# Each URL keyword argument, by name, from the world. A route with a keyword not listed
# here fails the matrix until it is added.
KWARGS: dict[str, Callable[[World], object]] = {
    "session_id": lambda w: w.session.pk,
    "student_id": lambda w: w.student.pk,
    "user_id": lambda w: w.student.pk,
    "administration_id": lambda w: w.administration.pk,
    "response_id": lambda w: w.response.pk,
    "notification_id": lambda w: w.notification.pk,
    "class_id": lambda w: w.school_class.pk,
    "kind": lambda w: "window",
    "item_id": lambda w: w.window.pk,
    "action": lambda w: "cancel",
    "sign_in_id": lambda w: w.other_device.pk,
    "uidb64": lambda w: w.reset_uidb64,
    "token": lambda w: w.reset_token,
    # The operator admin's URLs (a handful, see table.ADMIN_SAMPLE)
    "object_id": lambda w: w.student.pk,
    "app_label": lambda w: "accounts",
}

# Where a row needs another object than the default (by table key).
KWARG_OVERRIDES: dict[str, dict[str, Callable[[World], object]]] = {
    "sessions:session-calendar": {"session_id": lambda w: w.confirmed_session.pk},
    "sessions:session-action": {"session_id": lambda w: w.confirmed_session.pk},
    "sessions:session-action [complete]": {"action": lambda w: "complete"},
    "sessions:session-action [consent]": {
        "session_id": lambda w: w.confirmed_session.pk,
        "action": lambda w: "consent",
    },
    "sessions:room-outcome": {"session_id": lambda w: w.completed_session.pk},
    "instruments:skip": {"administration_id": lambda w: w.optional_administration.pk},
    # The student's session in progress holds up erasure: erase the other student's data.
    "privacy:student-erase": {"user_id": lambda w: w.other_student.pk},
}


def query_string(world: World, key: str, template: str) -> str:
    """A row's query string, "{student_id}" and the like filled as URL arguments are."""
    names = tuple(re.findall(r"{(\w+)}", template))
    return urlencode(dict(parse_qsl(template.format(**url_kwargs(world, key, names)))))


def url_kwargs(world: World, key: str, names: tuple[str, ...]) -> dict[str, object]:
    sources = {**KWARGS, **KWARG_OVERRIDES.get(key, {})}
    missing = [name for name in names if name not in sources]
    assert not missing, f"{key}: no way to fill {missing} from the world: add it to world.KWARGS"
    return {name: sources[name](world) for name in names}


# --- What each state-changing route is sent --------------------------------------------


def _in_ten_days(world: World) -> str:
    """A day with no questionnaire of the student yet."""
    today = timezone.localdate(timezone=world.school.zone())
    return (today + datetime.timedelta(days=10)).isoformat()


def _profile_data(world: World) -> dict[str, object]:
    profile = world.student.student_profile
    return {
        "full_name": "Nama Yang Diubah",
        "email": "",
        "profile-nisn": profile.nisn,
        "profile-school_class": profile.school_class_id,
        "profile-gender": profile.gender,
        "profile-guardian_name": "Wali Yang Diubah",
        "profile-guardian_phone": profile.guardian_phone,
        "profile-counselor": world.other_counselor.pk,
    }


POST_DATA: dict[str, Callable[[World], dict[str, object]]] = {
    "accounts:account-create": lambda w: {
        "role": "counselor",
        "username": "konselor_baru",
        "full_name": "Konselor Baru",
    },
    "accounts:account-edit": _profile_data,
    "accounts:account-consent": lambda w: {
        "has_guardian_consent": "on",
        "guardian_consent_date": timezone.localdate().isoformat(),
    },
    "accounts:account-set-active": lambda w: {"is_active": "0"},
    "accounts:assign-class": lambda w: {
        "school_class": w.school_class.pk,
        "counselor": w.other_counselor.pk,
    },
    "accounts:class-list": lambda w: {
        "name": "XII Baru",
        "academic_year": w.school.current_academic_year(),
    },
    "accounts:class-edit": lambda w: {
        "name": "XI Diubah",
        "academic_year": w.school.current_academic_year(),
    },
    "sessions:session-create": lambda w: {
        "student": w.student.pk,
        "date": (timezone.localdate() + datetime.timedelta(days=4)).isoformat(),
        "time": "10:00",
        "minutes": 45,
        "mode": "chat",
        "field": "learning",
        "description": "",
    },
    "sessions:session-action": lambda w: {"reason": "Berhalangan hadir."},
    "sessions:room-note": lambda w: {"body": "Catatan yang diubah."},
    "sessions:room-outcome": lambda w: {"kind": "resolved"},
    "instruments:answer": lambda w: {f"item_{number}": "3" for number in range(1, 10)},
    "instruments:administration-schedule": lambda w: {
        "instrument": "amas",
        "phase": "follow_up",
        "first_date": _in_ten_days(w),
        "count": 1,
        "interval_days": 7,
        "open_days": 3,
    },
    "instruments:response-void": lambda w: {"reason": "Diisi oleh orang lain."},
    "analytics:trend-share": lambda w: {"visible": "0"},
    "set_language": lambda w: {"language": "en", "next": "/"},
    "accounts:password-reset": lambda w: {"email": w.student.email},
    "privacy:student-export": lambda w: {
        "requester": "guardian",
        "request_date": timezone.localdate().isoformat(),
        "reference": "Surat 12/2025",
    },
    "privacy:student-erase": lambda w: {
        "requester": "guardian",
        "request_date": timezone.localdate().isoformat(),
        "reference": "Surat 13/2025",
        "confirmed": "on",
    },
}


def post_data(world: World, key: str) -> dict[str, object]:
    make = POST_DATA.get(key) or POST_DATA.get(key.split(" [")[0])
    return make(world) if make else {}


# --- Did anything change? ---------------------------------------------------------------

# Everything a person could change through a page; not the bookkeeping every signed-in
# request touches (a sign-in's last-seen time, django_session), nor the audit trail.
WATCHED_APPS = ("accounts", "sessions_app", "instruments", "notifications", "analytics", "privacy")
UNWATCHED_FIELDS = {"accounts.SignIn": {"last_seen_at"}}


def world_state() -> dict[str, list[tuple]]:
    state = {}
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models():
            if not model._meta.managed:
                continue
            skip = UNWATCHED_FIELDS.get(model._meta.label, set())
            fields = [f.attname for f in model._meta.concrete_fields if f.name not in skip]
            rows = model._default_manager.order_by("pk").values_list(*fields)
            state[model._meta.label] = list(rows)
    return state


def changed_models(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))
