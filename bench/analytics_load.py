"""Timing benchmark of the analytics pages for one counselor with many clients.

Creates in the database (ORM, bulk inserts) one school, one counselor and N clients,
each with a full single-case study as the platform records it: three weekly baseline
AMAS, S completed sessions that each sent their questionnaires (WAI-SR, AMAS and the
optional session evaluation) answered item by item and scored by the instrument
definitions, and three weekly follow-up AMAS. Then it requests the counselor's pages
through django.test.Client (signed in with force_login, DEBUG off) and times them, with
the number of SQL queries each one runs; the selectors and the PDF are also timed on
their own, so the table shows where the time goes.

Every page is first timed with one client, then with all N: the run fails when a page
runs a different number of queries with N, when a page does not answer 200, or when a
page misses its target at N clients (p95 of the dashboard under 150 ms, of the report
page under 300 ms, of the PDF under 1 s; `--report-only` prints the targets without
failing). See bench/README.md.
"""

import argparse
import cProfile
import datetime
import gc
import importlib
import io
import os
import pstats
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counseling_platform.settings")

import django

django.setup()

from benchlib import git_commit, percentile  # noqa: E402

# The app loaded as daphne loads it, which also imports the views and calls gc.freeze().
importlib.import_module("counseling_platform.asgi")

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import School, SchoolClass, StudentProfile, User  # noqa: E402
from analytics.caseload import ALERT_CODES, caseload, recent_scores_by_student  # noqa: E402
from analytics.exports import report_pdf_bytes  # noqa: E402
from analytics.figures import report_figures  # noqa: E402
from analytics.selectors import client_report, reference_from_school  # noqa: E402
from analytics.series import ALLIANCE, ANXIETY, series_by_student  # noqa: E402
from instruments.definitions import Instrument, all_instruments  # noqa: E402
from instruments.models import Administration, Response  # noqa: E402
from instruments.scoring import keyed_value, score_answers  # noqa: E402
from notifications.models import Notification  # noqa: E402
from sessions_app.models import BookingPolicy, CounselingSession  # noqa: E402

WEEK = datetime.timedelta(days=7)
SESSION_LENGTH = datetime.timedelta(minutes=45)
# One counselor's sessions may not overlap (an exclusion constraint on PostgreSQL): each
# client of a cohort has a weekly slot of its own, 07:00–16:00 Monday to Saturday.
SLOT_HOURS = range(7, 17)
SLOT_DAYS = 6
SLOTS_PER_WEEK = len(SLOT_HOURS) * SLOT_DAYS
BASELINE_WEEKS = FOLLOW_UP_WEEKS = 3
MEASURE_HOUR = 6  # baseline and follow-up questionnaires open at 06:00 local time
CLASS_NAMES = ["X IPA 1", "X IPA 2", "X IPS 1", "XI IPA 1", "XI IPA 2", "XI IPS 1"]
FIRST_NAMES = ["Ayu", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita", "Hendra", "Indah", "Joko"]
LAST_NAMES = ["Pratama", "Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Lubis", "Siregar"]
COMMENTS = ["Koneksi sempat putus sebentar.", "Enak ngobrol lewat chat.", "Terima kasih, Bu."]


# --- Set-up -------------------------------------------------------------------------------


@dataclass
class Bench:
    school: School
    counselor: User
    classes: list[SchoolClass]
    first_monday: datetime.datetime  # local 00:00 of the first study week
    sessions_each: int
    rng: random.Random
    clients: list[User] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def unique_digits(model, field_name: str, digits: int) -> str:
    # Its own unseeded generator: the scores drawn from --seed stay the same whichever
    # number happens to be free.
    rng = random.Random()
    while True:
        value = str(rng.randrange(9 * 10 ** (digits - 1), 10**digits))
        if not model.objects.filter(**{field_name: value}).exists():
            return value


def create_school(clients: int, sessions_each: int, rng: random.Random) -> Bench:
    school = School.objects.create(
        name="SMA Negeri Bench Analitik",
        npsn=unique_digits(School, "npsn", 8),
        time_zone=School.TimeZone.WIB,
    )
    year = school.current_academic_year()
    classes = SchoolClass.objects.bulk_create(
        SchoolClass(school=school, name=name, academic_year=year) for name in CLASS_NAMES
    )
    counselor = User.objects.create(
        username=f"bench-konselor-{school.npsn}",
        first_name="Bu Ratna",
        last_name="Wulandari",
        school=school,
        role=User.Role.COUNSELOR,
        password=make_password(None),
    )
    # Cohorts of SLOTS_PER_WEEK clients follow one another, so the last follow-up of the
    # last cohort falls in the past week.
    cohorts = -(-clients // SLOTS_PER_WEEK)
    weeks = (cohorts - 1) * sessions_each + BASELINE_WEEKS + sessions_each + FOLLOW_UP_WEEKS
    zone = school.zone()
    today = timezone.localdate(timezone=zone)
    monday = today - datetime.timedelta(days=today.weekday()) - weeks * WEEK
    first_monday = datetime.datetime.combine(monday, datetime.time(0), tzinfo=zone)
    return Bench(school, counselor, classes, first_monday, sessions_each, rng)


def keyed_answers(instrument: Instrument, total: int, rng: random.Random) -> dict[int, int]:
    """Item answers whose scored total is `total`: an even spread, then points moved from
    one item to another at random (so items differ as real answers do)."""
    items = [item.number for item in instrument.choice_items]
    base, extra = divmod(total, len(items))
    keyed = {number: base + (index < extra) for index, number in enumerate(items)}
    for _ in range(len(items)):
        give, take = rng.sample(items, 2)
        if keyed[give] > instrument.scale_min and keyed[take] < instrument.scale_max:
            keyed[give] -= 1
            keyed[take] += 1
    # keyed_value is its own inverse: the raw answer of a reverse-keyed item.
    return {number: keyed_value(instrument, number, value) for number, value in keyed.items()}


def scored_response(
    administration: Administration,
    instrument: Instrument,
    total: int | None,
    when: datetime.datetime,
    rng: random.Random,
) -> Response:
    """What instruments.services.response_submit stores for these answers."""
    if total is None:  # the unscored session evaluation
        answers = {item.number: rng.randint(3, 5) for item in instrument.choice_items}
    else:
        answers = keyed_answers(instrument, total, rng)
    score = score_answers(instrument, answers)
    if total is not None and score.total != total:
        raise AssertionError(f"{instrument.code}: answers score {score.total}, not {total}")
    stored: dict[str, int | str] = {str(number): value for number, value in answers.items()}
    texts = [item for item in instrument.items if not item.is_choice]
    if texts and rng.random() < 0.2:
        stored[str(texts[0].number)] = rng.choice(COMMENTS)
    return Response(
        administration=administration,
        submitted_at=when,
        answers=stored,
        total=score.total,
        subscale_scores=score.subscales,
        band=score.band,
        definition_version=instrument.version,
    )


def clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def study_scores(sessions: int, rng: random.Random):
    """(baseline AMAS, [(WAI-SR, AMAS) per session], follow-up AMAS): the alliance rises
    with noise (a high starter reaches the ceiling of 60; one client in ten has a
    rupture), anxiety is stable at baseline and falls with the alliance (less for one
    client in six)."""
    start, gain = rng.randint(34, 50), rng.uniform(0.2, 1.6)
    rupture = rng.randrange(3, sessions) if sessions > 3 and rng.random() < 0.1 else None
    anxiety, relief = rng.randint(22, 38), rng.uniform(6, 16)
    if rng.random() < 1 / 6:
        relief = rng.uniform(-2, 3)
    baseline = [clamp(anxiety + rng.gauss(0, 1.5), 9, 45) for _ in range(BASELINE_WEEKS)]
    pairs = []
    for k in range(sessions):
        expected = start + gain * k
        alliance = clamp(expected + rng.gauss(0, 2) - 8 * (k == rupture), 12, 60)
        progress = k / max(sessions - 1, 1)
        level = anxiety - relief * progress - 0.4 * (alliance - expected) + rng.gauss(0, 1.5)
        pairs.append((alliance, clamp(level, 9, 45)))
    follow_up = [clamp(anxiety - relief + rng.gauss(0, 1.5), 9, 45) for _ in range(FOLLOW_UP_WEEKS)]
    return baseline, pairs, follow_up


def add_clients(bench: Bench, indexes: range) -> None:
    """Clients number `indexes`, with their studies, in a few bulk inserts."""
    rng, school, counselor = bench.rng, bench.school, bench.counselor
    instruments = {instrument.code: instrument for instrument in all_instruments()}
    after_sessions = [code for code, i in instruments.items() if i.is_sent_after_sessions]
    open_days = BookingPolicy._meta.get_field("questionnaire_open_days").default
    users = User.objects.bulk_create(
        User(
            username=f"bench-siswa-{school.npsn}-{index:04d}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=f"{rng.choice(LAST_NAMES)} {index:03d}",
            school=school,
            role=User.Role.STUDENT,
            password=make_password(None),
        )
        for index in indexes
    )
    StudentProfile.objects.bulk_create(
        StudentProfile(
            user=user,
            nisn=f"{school.npsn[2:]}{index:04d}",
            school_class=bench.classes[index % len(bench.classes)],
            gender=rng.choice(StudentProfile.Gender.values),
            guardian_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            guardian_phone="081234567890",
            counselor=counselor,
        )
        for index, user in zip(indexes, users, strict=True)
    )
    # (session, {instrument code: total}) and (administration, answered?, total)
    sessions: list[tuple[CounselingSession, dict[str, int]]] = []
    measures: list[tuple[Administration, bool, int | None]] = []
    for index, user in zip(indexes, users, strict=True):
        cohort, slot = divmod(index, SLOTS_PER_WEEK)
        day, hour = divmod(slot, len(SLOT_HOURS))
        week0 = bench.first_monday + cohort * bench.sessions_each * WEEK
        baseline, pairs, follow_up = study_scores(bench.sessions_each, rng)
        for k, (alliance, anxiety) in enumerate(pairs):
            starts_at = week0 + datetime.timedelta(
                weeks=BASELINE_WEEKS + k, days=day, hours=SLOT_HOURS[hour]
            )
            session = CounselingSession(
                school=school,
                student=user,
                counselor=counselor,
                starts_at=starts_at,
                ends_at=starts_at + SESSION_LENGTH,
                status=CounselingSession.Status.COMPLETED,
                mode=rng.choice(CounselingSession.Mode.values),
                field=CounselingSession.Field.LEARNING,
                description="Saya cemas setiap kali ada ulangan matematika.",
                consent_text="Persetujuan layanan konseling daring.",
                consent_given_at=starts_at - datetime.timedelta(days=2),
                phase=CounselingSession.Phase.EVALUATION,
                created_at=starts_at - datetime.timedelta(days=2),
            )
            sessions.append((session, {ALLIANCE: alliance, ANXIETY: anxiety}))
        for phase, totals, first_week in (
            (Administration.Phase.BASELINE, baseline, 0),
            (Administration.Phase.FOLLOW_UP, follow_up, BASELINE_WEEKS + bench.sessions_each),
        ):
            for k, total in enumerate(totals):
                local = week0 + (first_week + k) * WEEK + datetime.timedelta(days=day)
                opens_at = local.replace(hour=MEASURE_HOUR)
                measures.append(
                    (
                        Administration(
                            school=school,
                            student=user,
                            counselor=counselor,
                            instrument_code=ANXIETY,
                            phase=phase,
                            opens_at=opens_at,
                            closes_at=opens_at + datetime.timedelta(days=open_days),
                            created_by=counselor,
                            created_at=opens_at - datetime.timedelta(days=7),
                            notified_at=opens_at,
                        ),
                        True,
                        total,
                    )
                )
    CounselingSession.objects.bulk_create([session for session, _totals in sessions], 1000)
    # What instruments.services.administrations_for_session creates when a session ends;
    # the optional session evaluation is answered half the time.
    for session, totals in sessions:
        for code in after_sessions:
            measures.append(
                (
                    Administration(
                        school=school,
                        student=session.student,
                        counselor=counselor,
                        instrument_code=code,
                        phase=Administration.Phase.TREATMENT,
                        session=session,
                        opens_at=session.ends_at,
                        closes_at=session.ends_at + datetime.timedelta(days=open_days),
                        created_at=session.ends_at,
                        notified_at=session.ends_at,
                    ),
                    code in totals or rng.random() < 0.5,
                    totals.get(code),
                )
            )
    # bulk_create sets the primary keys on these same objects (PostgreSQL, SQLite ≥ 3.35).
    Administration.objects.bulk_create([measure[0] for measure in measures], batch_size=1000)
    responses = [
        scored_response(
            administration,
            instruments[administration.instrument_code],
            total,
            administration.opens_at + datetime.timedelta(minutes=rng.randint(10, 600)),
            rng,
        )
        for administration, answered, total in measures
        if answered
    ]
    Response.objects.bulk_create(responses, batch_size=1000)
    bench.clients.extend(users)
    for name, count in (
        ("clients", len(users)),
        ("sessions", len(sessions)),
        ("administrations", len(measures)),
        ("responses", len(responses)),
    ):
        bench.counts[name] = bench.counts.get(name, 0) + count


def delete_bench(bench: Bench) -> None:
    """Delete the data. On PostgreSQL the counselor and the school stay: the counselor is
    the actor of the reads the audit trail recorded while timing, and deleting them would
    set those entries' actor to NULL, which the append-only trail refuses."""
    school = bench.school
    with transaction.atomic():
        Response.objects.filter(administration__school=school).delete()
        Administration.objects.filter(school=school).delete()
        CounselingSession.objects.filter(school=school).delete()
        Notification.objects.filter(user__school=school).delete()
        User.objects.filter(school=school).exclude(pk=bench.counselor.pk).delete()
    try:
        with transaction.atomic():
            bench.counselor.delete()
            school.delete()
    except DatabaseError:
        print(f"  kept (the audit trail refers to them): school {school.pk}, its counselor")


# --- Timing -------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    stage: str  # how many clients the counselor had when it was measured
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: str = ""
    statuses: set[int] = field(default_factory=set)

    def ms(self, pick: Callable[[list[float]], float]) -> str:
        return f"{pick(self.seconds) * 1000:,.1f}".replace(",", " ")

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 95) * 1000

    @property
    def query_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


def p50(values: list[float]) -> float:
    return percentile(values, 50)


def p95(values: list[float]) -> float:
    return percentile(values, 95)


def measure(name: str, stage: str, call: Callable[[], object], repeat: int) -> Timing:
    """One warm-up call, then `repeat` timed calls, each with its SQL queries counted.
    A call returning an HTTP response records its status and body size."""
    timing = Timing(name, stage)
    call()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = call()
            timing.seconds.append(time.perf_counter() - started)
        timing.queries.append(len(queries.captured_queries))
        if hasattr(result, "status_code"):
            timing.statuses.add(result.status_code)
            timing.size = f"{len(result.content):,} B".replace(",", " ")
        elif isinstance(result, bytes):
            timing.size = f"{len(result):,} B".replace(",", " ")
        elif isinstance(result, list | dict):
            timing.size = f"{len(result)} items"
    return timing


# (key for --profile, label, URL name, whether the URL takes the client's id)
PAGES = [
    ("caseload", "page: caseload", "analytics:caseload", False),
    ("multiple-baseline", "page: multiple baseline", "analytics:multiple-baseline", False),
    ("client-trends", "page: client trends", "analytics:client-trends", True),
    ("report", "page: report", "analytics:report", True),
    ("report-pdf", "file: report PDF", "analytics:report-pdf", True),
    ("report-csv", "file: report CSV", "analytics:report-csv", True),
]


# The targets, at N clients: {key: (page label, p95 limit in ms)}
TARGETS = {
    "caseload": ("page: caseload", 150.0),
    "report": ("page: report", 300.0),
    "pdf": ("file: report PDF", 1000.0),
}


def page_urls(bench: Bench) -> dict[str, tuple[str, str]]:
    """{key: (label, url)}; the client pages are those of the first client."""
    client_id = bench.clients[0].pk
    return {
        key: (label, reverse(name, args=[client_id] if per_client else []))
        for key, label, name, per_client in PAGES
    }


def parts(bench: Bench) -> list[tuple[str, Callable[[], object]]]:
    """The work behind the pages, called directly (no request, no template)."""
    counselor, student = bench.counselor, bench.clients[0]
    ids = [client.pk for client in bench.clients]
    report = client_report(counselor=counselor, student=student)
    return [
        ("caseload() selector", lambda: caseload(counselor=counselor)),
        ("  of which recent_scores_by_student()", lambda: recent_scores_by_student(ids)),
        ("series_by_student(all clients)", lambda: series_by_student(ids)),
        ("client_report() selector", lambda: client_report(counselor=counselor, student=student)),
        (
            "  of which reference_from_school()",
            lambda: reference_from_school(student.school_id, ANXIETY),
        ),
        ("report_figures()", lambda: report_figures(report)),
        ("report_pdf_bytes()", lambda: report_pdf_bytes(report)),
    ]


def time_stage(bench: Bench, browser: Client, repeat: int) -> list[Timing]:
    stage = str(len(bench.clients))
    print(f"timing with {stage} client(s) …", flush=True)
    timings = [
        measure(label, stage, lambda url=url: browser.get(url), repeat)
        for label, url in page_urls(bench).values()
    ]
    timings += [measure(name, stage, call, repeat) for name, call in parts(bench)]
    return timings


def profile_page(browser: Client, url: str, top: int) -> str:
    profiler = cProfile.Profile()
    browser.get(url)  # warm-up
    profiler.enable()
    browser.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- Report -------------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT 1")
        database = str(cursor.fetchone()[0]).split(" on ")[0]
    return [
        ("date (UTC)", timezone.now().strftime("%Y-%m-%d %H:%M")),
        ("commit", git_commit()),
        ("cores", str(os.cpu_count())),
        ("load average at the start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("database", f"{connection.vendor} {database}"),
        ("python / django", f"{sys.version.split()[0]} / {django.get_version()}"),
    ]


def print_table(timings: list[Timing]) -> None:
    header = [
        *("what", "clients", "min ms", "p50 ms", "p95 ms", "max ms"),
        *("size", "queries", "status"),
    ]
    rows = [
        [
            t.name,
            t.stage,
            t.ms(min),
            t.ms(p50),
            t.ms(p95),
            t.ms(max),
            t.size,
            t.query_text,
            ",".join(map(str, sorted(t.statuses))) or "—",
        ]
        for t in timings
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300, help="clients of the counselor")
    parser.add_argument("--sessions", type=int, default=12, help="treatment sessions each")
    parser.add_argument(
        "--repeat", type=int, default=30, help="timed requests per page (and per part)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="leave the data in the database")
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="run on SQLite (figures not comparable)"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=[key for key, *_rest in PAGES],
        help="print a cProfile of one request of this page (with all clients) after the "
        "timings; may be repeated",
    )
    parser.add_argument("--profile-top", type=int, default=30, help="functions listed")
    for key, (_label, limit) in TARGETS.items():
        parser.add_argument(
            f"--target-{key}-ms",
            type=float,
            default=limit,
            help=f"p95 target of the {key} page at N clients (default {limit:g})",
        )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="print whether the targets are met, without failing the run on a missed one",
    )
    parser.add_argument(
        "--gc-unfreeze",
        action="store_true",
        help="undo the gc.freeze() of counseling_platform/asgi.py (to measure without it)",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.sessions < 3:
        parser.error("use at least 1 client and 3 sessions")
    if connection.vendor == "sqlite" and not args.allow_sqlite:
        print("Refusing to run on SQLite: set DATABASE_URL to a PostgreSQL database of its own")
        print("(or pass --allow-sqlite for a quick try; its figures mean little).")
        return 2

    # As in production (and in Django's test runner): DEBUG off, whatever the environment.
    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    if args.gc_unfreeze:
        gc.unfreeze()
    rng = random.Random(args.seed)
    environment = machine()
    started = time.perf_counter()
    bench = create_school(args.clients, args.sessions, rng)
    browser = Client()
    try:
        timings, profiles, setup_seconds, data = run(args, bench, browser)
    finally:
        browser.logout()
        if args.keep:
            print(f"  data kept: school {bench.school.pk} (NPSN {bench.school.npsn})")
        else:
            delete_bench(bench)
    print()
    for name, value in [
        *environment,
        ("clients × sessions", f"{args.clients} × {args.sessions}"),
        ("created", ", ".join(f"{count} {name}" for name, count in bench.counts.items())),
        ("data", data),
        ("set-up of the last N−1 clients", f"{setup_seconds:.1f} s"),
        ("whole run", f"{time.perf_counter() - started:.1f} s"),
        ("load average at the end", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]:
        print(f"  {name:<32} {value}")
    print()
    print_table(timings)
    for page, text in profiles:
        print(f"\n--- cProfile of one request: {page} ---\n{text}")
    failures, notes = verdict(args, timings)
    missed = print_targets(args, timings)
    if not args.report_only:
        failures += missed
    for note in notes:
        print("  note:", note)
    print("\n  RESULT:", f"FAIL ({'; '.join(failures)})" if failures else "PASS")
    return 1 if failures else 0


def refresh_statistics() -> None:
    """VACUUM ANALYZE on PostgreSQL, what autovacuum does a while after tables change:
    without it the planner plans for empty tables (or re-plans in mid-run when autovacuum
    wakes up), and where autovacuum is off the rows earlier runs deleted stay in the
    tables, to be scanned again by every query."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def run(args: argparse.Namespace, bench: Bench, browser: Client):
    """Everything timed with 1 client, then with all: (timings, profiles, set-up seconds,
    a description of the data)."""
    add_clients(bench, range(1))
    refresh_statistics()
    print(f"school {bench.school.npsn}: 1 client set up", flush=True)
    browser.force_login(bench.counselor)
    timings = time_stage(bench, browser, args.repeat)
    print(f"adding {args.clients - 1} clients …", flush=True)
    started = time.perf_counter()
    for first in range(1, args.clients, 100):
        add_clients(bench, range(first, min(first + 100, args.clients)))
    setup_seconds = time.perf_counter() - started
    refresh_statistics()
    print(f"  done in {setup_seconds:.1f} s", flush=True)
    timings += time_stage(bench, browser, args.repeat)
    urls = page_urls(bench)
    profiles = [
        (page, profile_page(browser, urls[page][1], args.profile_top)) for page in args.profile
    ]
    return timings, profiles, setup_seconds, describe_data(bench)


def describe_data(bench: Bench) -> str:
    """What the dashboard shows about the generated clients, so a reader can judge them."""
    rows = caseload(counselor=bench.counselor)
    alerts = Counter(code for row in rows for code in row.alert_codes)
    series = series_by_student([client.pk for client in bench.clients], (ALLIANCE,))
    at_ceiling = [
        sum(point.total == found[ALLIANCE].total_max for point in found[ALLIANCE].points)
        for found in series.values()
    ]
    return (
        f"{sum(1 for n in at_ceiling if n)} clients rate the alliance at the ceiling at least "
        f"once ({sum(at_ceiling)} sessions); alerts: "
        + ", ".join(f"{code} {alerts[code]}" for code in ALERT_CODES)
    )


def print_targets(args: argparse.Namespace, timings: list[Timing]) -> list[str]:
    """Print each target with the p95 reached at N clients; return the missed ones."""
    by_key = {(t.name, t.stage): t for t in timings}
    missed = []
    print(f"\n  targets at {args.clients} clients (p95 of {args.repeat} requests):")
    for key, (label, _default) in TARGETS.items():
        limit = getattr(args, f"target_{key}_ms")
        timing = by_key[(label, str(args.clients))]
        reached = timing.p95_ms
        met = reached < limit
        print(
            f"    {label:<18} target p95 < {limit:g} ms: p50 {timing.ms(p50)}, "
            f"p95 {timing.ms(p95)}, max {timing.ms(max)} ms: {'met' if met else 'NOT met'}"
        )
        if not met:
            missed.append(f"{label}: p95 {reached:.0f} ms, target < {limit:g} ms")
    return missed


def verdict(args: argparse.Namespace, timings: list[Timing]) -> tuple[list[str], list[str]]:
    """(failures, notes): a page not 200 or a page whose query count grows with the
    clients fails; a query count that varies between repeats is a note."""
    failures, notes = [], []
    for timing in timings:
        if timing.statuses and timing.statuses != {200}:
            failures.append(f"{timing.name} ({timing.stage}) answered {sorted(timing.statuses)}")
        if len(set(timing.queries)) > 1 and timing.name.startswith(("page", "file")):
            notes.append(f"{timing.name} ({timing.stage}) ran {timing.query_text} queries")
    by_key = {(t.name, t.stage): t for t in timings}
    many = str(args.clients)
    for _key, name, *_rest in PAGES:
        one_client, all_clients = by_key[(name, "1")], by_key[(name, many)]
        if set(one_client.queries) != set(all_clients.queries):
            failures.append(
                f"{name}: {one_client.query_text} queries for 1 client, "
                f"{all_clients.query_text} for {many}"
            )
    return failures, notes


if __name__ == "__main__":
    sys.exit(main())
