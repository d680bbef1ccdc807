"""Booking under contention: S students per slot try to book the same few slots at once
over HTTP; exactly one per slot may win, every other one must be told "just taken".

Creates in the database (ORM) a school, a counselor whose only availability is one extra
window of N back-to-back 30-minute slots a few days ahead, and N × S students, all the
counselor's clients with a guardian's consent recorded. Each student is signed in with a
session cookie made the way django.test.Client.force_login makes it (no password logins).
Then, over real HTTP against a running server: every student opens the booking page (for
the CSRF cookie and token, and to check that it lists exactly the N slots), the students
line up on a barrier, and all of them post the booking form at once, student i asking for
slot i mod N. Reported: successes (a redirect to the new session), "just taken" answers
(the booking page again with the message of sessions_app.services.rules.slot_taken), any
other outcome, the wall time from the release to the last response, per-request
p50/p95/max, and the peak number of PostgreSQL connections of the database; then the
database is checked: one session per slot, N in all, each the one its winner was sent to.

Run it against a daphne process started separately with the same environment (the same
DATABASE_URL and DJANGO_SECRET_KEY: session cookies are signed with it). See
bench/README.md. Exits 1 unless exactly N students succeed and all the others are told
"just taken", and the database agrees.
"""

import argparse
import datetime
import html
import http.client
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counseling_platform.settings")
os.environ["PGAPPNAME"] = "ruangbk-bench-client"  # benchlib.OWN_CONNECTIONS

import django

django.setup()

from auditlog.models import LogEntry  # noqa: E402
from benchlib import PeakSampler, git_commit, percentile, server_connections  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    load_backend,
)
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from accounts.models import School, SchoolClass, StudentProfile, User  # noqa: E402
from notifications.models import Notification  # noqa: E402
from sessions_app.models import AvailabilityException, CounselingSession  # noqa: E402
from sessions_app.policy import booking_policy_for  # noqa: E402
from sessions_app.services.rules import slot_taken  # noqa: E402
from sessions_app.slots import Slot  # noqa: E402

SLOT_MINUTES = 30
FIRST_SLOT_HOUR_UTC = 1  # 08:00 in the school's zone (WIB)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SLOT_FIELD = re.compile(r'name="slot" id="slot-[^"]*" value="([^"]+)"')
BOOKING_ERROR = re.compile(r'id="booking-error">(.*?)</div>\s*</div>', re.S)
SESSION_PAGE = re.compile(r"/sessions/(\d+)/$")


# --- The database side ---------------------------------------------------------------------
@dataclass
class Seed:
    tag: str
    school: School
    counselor: User
    students: list[User]
    slots: list[Slot]
    cookies: list[str]  # each student's session key


def unique_digits(model, field_name: str, digits: int) -> str:
    while True:
        value = str(random.randrange(10 ** (digits - 1), 10**digits))
        if not model.objects.filter(**{field_name: value}).exists():
            return value


def seed(*, slots: int, per_slot: int, days_ahead: int, tag: str) -> Seed:
    """A school, a counselor with exactly `slots` bookable slots, and slots × per_slot
    students who are the counselor's clients with a guardian's consent recorded."""
    with transaction.atomic():
        school = School.objects.create(
            name=f"Bench booking {tag}", npsn=unique_digits(School, "npsn", 8)
        )
        policy = booking_policy_for(school)
        school_class = SchoolClass.objects.create(
            school=school, name="XII Bench", academic_year=school.current_academic_year()
        )
        counselor = User.objects.create(
            username=f"bench-{tag}-counselor",
            first_name="Bu Konselor",
            school=school,
            role=User.Role.COUNSELOR,
            password=make_password(None),
        )
        # One extra window of back-to-back slots (no break), a few days ahead: inside the
        # policy's notice and horizon, and no weekly window, so these are the only slots.
        day = (timezone.now() + datetime.timedelta(days=days_ahead)).date()
        starts_at = datetime.datetime.combine(
            day, datetime.time(FIRST_SLOT_HOUR_UTC), tzinfo=datetime.UTC
        )
        length = datetime.timedelta(minutes=SLOT_MINUTES)
        if not (
            timezone.now() + datetime.timedelta(hours=policy.min_notice_hours)
            < starts_at
            < timezone.now() + datetime.timedelta(days=policy.horizon_days) - slots * length
        ):
            raise SystemExit(f"--days-ahead {days_ahead} is outside the school's booking policy")
        AvailabilityException.objects.create(
            counselor=counselor,
            kind=AvailabilityException.Kind.EXTRA,
            starts_at=starts_at,
            ends_at=starts_at + slots * length,
            session_minutes=SLOT_MINUTES,
            buffer_minutes=0,
            note=f"bench {tag}",
        )
        students = User.objects.bulk_create(
            User(
                username=f"bench-{tag}-student{number:04d}",
                first_name=f"Siswa {number}",
                school=school,
                role=User.Role.STUDENT,
                password=make_password(None),  # nobody signs in with a password
            )
            for number in range(slots * per_slot)
        )
        consent_date = timezone.localdate() - datetime.timedelta(days=30)
        first_nisn = int(unique_digits(StudentProfile, "nisn", 10)) - len(students)
        nisns = [f"{first_nisn + n:010d}" for n in range(len(students))]
        if StudentProfile.objects.filter(nisn__in=nisns).exists():
            raise SystemExit("NISN clash with earlier data: run again")
        StudentProfile.objects.bulk_create(
            StudentProfile(
                user=student,
                nisn=nisn,
                school_class=school_class,
                gender=StudentProfile.Gender.FEMALE,
                counselor=counselor,
                has_guardian_consent=True,
                guardian_consent_date=consent_date,
            )
            for student, nisn in zip(students, nisns, strict=True)
        )
        slot_list = [
            Slot(starts_at + n * length, starts_at + (n + 1) * length) for n in range(slots)
        ]
    return Seed(tag, school, counselor, students, slot_list, [session_key(s) for s in students])


def session_key(user: User) -> str:
    """A signed-in session for `user`, stored as django.test.Client.force_login does
    (with the first backend that can load a user: django-axes' comes first and cannot)."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def check_database(data: Seed, attempts: list["Attempt"]) -> list[str]:
    """What is wrong in the database after the run (nothing: an empty list)."""
    problems = []
    sessions = list(
        CounselingSession.objects.filter(counselor=data.counselor)
        .exclude(status=CounselingSession.Status.CANCELLED)
        .values("pk", "starts_at", "ends_at", "student_id", "status")
    )
    per_slot = Counter(row["starts_at"] for row in sessions)
    starts = {slot.starts_at: slot for slot in data.slots}
    for slot in data.slots:
        if per_slot[slot.starts_at] != 1:
            problems.append(f"{per_slot[slot.starts_at]} sessions at {slot.key}")
    strays = [row for row in sessions if row["starts_at"] not in starts]
    if strays:
        problems.append(f"{len(strays)} sessions outside the slots")
    if len(sessions) != len(data.slots):
        problems.append(f"{len(sessions)} sessions, not {len(data.slots)}")
    won = {a.session_id: a for a in attempts if a.outcome == "booked"}
    for row in sessions:
        attempt = won.get(row["pk"])
        if attempt is None:
            problems.append(f"session {row['pk']} was not announced to any student")
        elif (
            row["student_id"] != data.students[attempt.student].pk
            or row["starts_at"] != data.slots[attempt.slot].starts_at
            or row["ends_at"] != data.slots[attempt.slot].ends_at
            or row["status"] != CounselingSession.Status.REQUESTED
        ):
            problems.append(f"session {row['pk']} is not what student {attempt.student} asked")
    notified = Notification.objects.filter(
        user=data.counselor, kind=Notification.Kind.SESSION_REQUESTED
    ).count()
    if notified != len(sessions):
        problems.append(f"the counselor got {notified} notifications for {len(sessions)} sessions")
    return problems


def cleanup(data: Seed) -> str:
    """Delete the run's data. The audit trail is append-only (audit/migrations/0001): a
    student it names as the actor of a booking cannot be deleted (that would set the
    entry's actor to NULL), so those students, their class and the school stay,
    deactivated. Returns what was kept."""
    with transaction.atomic():
        Session.objects.filter(session_key__in=data.cookies).delete()
        CounselingSession.objects.filter(school=data.school).delete()  # events, notifications
        Notification.objects.filter(user__school=data.school).delete()
        users = User.objects.filter(school=data.school)
        named = set(
            LogEntry.objects.filter(actor__in=users).values_list("actor_id", flat=True).distinct()
        )
        users.exclude(pk__in=named).delete()  # profiles, availability
        if not named:
            data.school.delete()  # its class, policy and emergency contacts
            return "nothing"
        User.objects.filter(pk__in=named).update(is_active=False)
    return (
        f"school {data.school.npsn} with {len(named)} deactivated students named in the "
        "append-only audit trail"
    )


# --- The HTTP side -------------------------------------------------------------------------
@dataclass
class Attempt:
    student: int
    slot: int
    cookies: dict[str, str]
    token: str = ""
    page_slots: list[str] = field(default_factory=list)
    prepare_error: str = ""
    started: float = 0.0
    ended: float = 0.0
    status: int = 0
    outcome: str = ""  # "booked", "just taken", or what else happened
    session_id: int | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def remember_cookies(response: http.client.HTTPResponse, cookies: dict[str, str]) -> None:
    for header in response.msg.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            cookies[name] = morsel.value


class Student(threading.Thread):
    """One student's browser: opens the booking page, waits for the others, posts."""

    def __init__(self, attempt: Attempt, args, prepare: threading.Semaphore, barrier, answers):
        super().__init__(daemon=True)
        self.attempt, self.args = attempt, args
        self.prepare, self.barrier, self.answers = prepare, barrier, answers
        self.server = urlsplit(args.server)
        self.path = reverse("sessions:book")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            self.server.hostname, self.server.port or 80, timeout=self.args.timeout
        )

    def run(self) -> None:
        attempt = self.attempt
        page = None
        with self.prepare:
            try:
                page = self.connect()
                page.request("GET", self.path, headers={"Cookie": cookie_header(attempt.cookies)})
                response = page.getresponse()
                body = response.read().decode("utf-8", "replace")
                remember_cookies(response, attempt.cookies)
                if response.status != 200:
                    attempt.prepare_error = f"booking page: HTTP {response.status}"
                elif not (token := CSRF_FIELD.search(body)):
                    attempt.prepare_error = "booking page: no CSRF token"
                else:
                    attempt.token = token.group(1)
                    attempt.page_slots = SLOT_FIELD.findall(body)
            except (OSError, http.client.HTTPException) as error:
                attempt.prepare_error = f"booking page: {type(error).__name__}: {error}"
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        if attempt.prepare_error or not attempt.token:
            return
        form = urlencode(
            {
                "csrfmiddlewaretoken": attempt.token,
                "slot": self.args.slot_keys[attempt.slot],
                "mode": CounselingSession.Mode.CHAT,
                "field": CounselingSession.Field.LEARNING,
                "description": "",
                "consent": "on",
            }
        )
        headers = {
            "Cookie": cookie_header(attempt.cookies),
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"{self.server.scheme}://{self.server.netloc}",
        }
        attempt.started = time.perf_counter()
        try:
            # The page's keep-alive connection when daphne kept it open, else a new one.
            page = page or self.connect()
            page.request("POST", self.path, body=form, headers=headers)
            response = page.getresponse()
            body = response.read().decode("utf-8", "replace")
            attempt.ended = time.perf_counter()
            attempt.status = response.status
            attempt.outcome, attempt.session_id = self.classify(response, body)
        except (OSError, http.client.HTTPException) as error:
            attempt.ended = time.perf_counter()
            attempt.outcome = f"{type(error).__name__}: {error}"[:120]
        finally:
            page.close()

    def classify(self, response: http.client.HTTPResponse, body: str) -> tuple[str, int | None]:
        if response.status == 302:
            location = response.getheader("Location", "")
            booked = SESSION_PAGE.search(urlsplit(location).path)
            if booked:
                return "booked", int(booked.group(1))
            return f"HTTP 302 to {location}", None
        if response.status == 200:
            if any(answer in body for answer in self.answers):
                return "just taken", None
            shown = BOOKING_ERROR.search(body)
            if shown:
                text = html.unescape(re.sub(r"<[^>]+>", " ", shown.group(1)))
                return "HTTP 200, refused: " + " ".join(text.split())[:100], None
        return f"HTTP {response.status}", None


def just_taken_answers() -> list[str]:
    """The slot_taken message as the booking page shows it, in every language the site
    speaks (HTML-escaped as the template does)."""
    answers = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            answers.append(html.escape(str(slot_taken().message)))
    return answers


def storm(args, data: Seed) -> tuple[list[Attempt], float, int]:
    """Every student opens the page, then all post at once. Returns the attempts, the wall
    time from the release to the last response, and the peak PostgreSQL connections."""
    attempts = [
        Attempt(student=n, slot=n % len(data.slots), cookies={settings.SESSION_COOKIE_NAME: key})
        for n, key in enumerate(data.cookies)
    ]
    args.slot_keys = [slot.key for slot in data.slots]
    answers = just_taken_answers()
    prepare = threading.Semaphore(args.prepare_concurrency)
    barrier = threading.Barrier(len(attempts), timeout=args.timeout + len(attempts))
    students = [Student(attempt, args, prepare, barrier, answers) for attempt in attempts]
    sampler = PeakSampler(args.sample_interval, {"connections": server_connections})
    sampler.start()
    for student in students:
        student.start()
    for student in students:
        student.join(2 * args.timeout + len(attempts))
    sampler.halt.set()
    sampler.join()
    posted = [a for a in attempts if a.started]
    wall = max((a.ended for a in posted), default=0.0) - min((a.started for a in posted), default=0)
    return attempts, wall, sampler.peaks["connections"]


# --- Report --------------------------------------------------------------------------------
def report(args, data: Seed, attempts, wall: float, peak: int, problems, started_load) -> int:
    page_problems = Counter(a.prepare_error for a in attempts if a.prepare_error)
    wrong_pages = sum(1 for a in attempts if not a.prepare_error and a.page_slots != args.slot_keys)
    outcomes = Counter(a.outcome for a in attempts if a.started)
    booked, taken = outcomes.pop("booked", 0), outcomes.pop("just taken", 0)
    others = sum(outcomes.values()) + sum(page_problems.values())
    ms = [a.seconds * 1000 for a in attempts if a.ended]
    expected_taken = len(attempts) - len(data.slots)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        limit = cursor.fetchone()[0]
    rows = [
        ("date (UTC)", timezone.now().strftime("%Y-%m-%d %H:%M")),
        ("commit", git_commit()),
        ("server", args.server),
        ("cores", os.cpu_count()),
        ("load average at the start", started_load),
        ("load average at the end", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("run", data.tag),
        ("slots × students per slot", f"{len(data.slots)} × {args.per_slot}"),
        ("booking pages listing exactly the slots", len(attempts) - wrong_pages),
        ("booked (redirect to the session)", booked),
        ('"just taken"', taken),
        ("other outcomes", others),
        ("wall time, release → last response", f"{wall * 1000:.0f} ms"),
        ("wall time ÷ posts", f"{wall * 1000 / max(len(ms), 1):.1f} ms"),
        (
            "per request p50 / p95 / max",
            " / ".join(f"{percentile(ms, p):.0f}" for p in (50, 95, 100)) + " ms",
        ),
        ("peak PostgreSQL connections (this database)", f"{peak} (the server allows {limit})"),
        (
            "sessions in the database",
            CounselingSession.objects.filter(counselor=data.counselor)
            .exclude(status=CounselingSession.Status.CANCELLED)
            .count(),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if outcomes or page_problems:
        print("\n  other outcomes:")
        for kind, count in (page_problems + outcomes).most_common():
            print(f"    {count:4d}  {kind}")
    for problem in problems:
        print(f"  database: {problem}")
    failures = [
        reason
        for reason, failed in (
            (f"{booked} booked, not {len(data.slots)}", booked != len(data.slots)),
            (f'{taken} "just taken", not {expected_taken}', taken != expected_taken),
            (f"{others} other outcomes", others),
            (f"{wrong_pages} booking pages did not list exactly the slots", wrong_pages),
            ("the database does not match", problems),
        )
        if failed
    ]
    print("\n  RESULT:", f"FAIL ({'; '.join(failures)})" if failures else "PASS")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8001", help="the daphne server")
    parser.add_argument("--slots", type=int, default=10, help="bookable slots")
    parser.add_argument("--per-slot", type=int, default=10, help="students trying each slot")
    parser.add_argument(
        "--days-ahead", type=int, default=3, help="the day of the slots, from today (UTC)"
    )
    parser.add_argument(
        "--prepare-concurrency",
        type=int,
        default=10,
        help="booking pages opened at once before the storm (not timed)",
    )
    parser.add_argument("--timeout", type=float, default=60, help="per request (s)")
    parser.add_argument(
        "--sample-interval", type=float, default=0.05, help="PostgreSQL connections sampling (s)"
    )
    parser.add_argument("--tag", default="", help="names the run's data (default: random)")
    parser.add_argument("--keep", action="store_true", help="leave the data in the database")
    args = parser.parse_args()
    if args.slots < 1 or args.per_slot < 1:
        parser.error("use at least 1 slot and 1 student per slot")
    if connection.vendor != "postgresql":
        print("Refusing to run on SQLite (it serialises writers): set DATABASE_URL to PostgreSQL")
        return 2
    if urlsplit(args.server).scheme != "http":
        parser.error("--server must be http://host:port")

    started_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tag = args.tag or uuid.uuid4().hex[:8]
    if User.objects.filter(username__startswith=f"bench-{tag}-").exists():
        parser.error(f"run {tag} already has data in this database: choose another --tag")
    students = args.slots * args.per_slot
    print(f"creating {args.slots} slots and {students} students (run {tag}) …", flush=True)
    data = seed(slots=args.slots, per_slot=args.per_slot, days_ahead=args.days_ahead, tag=tag)
    connection.close()
    try:
        print(f"{students} students open the booking page, then post at once …", flush=True)
        attempts, wall, peak = storm(args, data)
        problems = check_database(data, attempts)
        status = report(args, data, attempts, wall, peak, problems, started_load)
    finally:
        if args.keep:
            print(f"  data kept: school {data.school.npsn}, run {tag}")
        else:
            print(f"  data left after the clean-up: {cleanup(data)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
