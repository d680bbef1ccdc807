"""Load benchmark of the session room: N concurrent rooms, two real websocket clients each.

Creates a school, N counselors, N students (each the client of one counselor) and N
sessions in progress in the database (ORM), signs every user in with a session cookie
made the way django.test.Client.force_login makes it, opens the student's socket on one
server and the counselor's on the next (so every message crosses the Redis channel
layer), lets each pair chat for a while at a human pace, and then checks what arrived
against what was sent and against the database.

Run it against daphne processes started separately, with the same environment as they
have (the same DATABASE_URL and DJANGO_SECRET_KEY: session cookies are signed with it).
See bench/README.md for the exact commands. Exits 1 on any error, loss or duplicate.
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import random
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counseling_platform.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import School, SchoolClass, StudentProfile, User  # noqa: E402
from sessions_app.models import ChatMessage, CounselingSession  # noqa: E402

LINES = [
    "Selamat siang, Bu. Saya mau cerita soal nilai matematika saya yang turun.",
    "Baik, Nak. Ceritakan pelan-pelan saja, Ibu dengarkan.",
    "Saya sudah belajar tiap malam tapi tetap susah fokus, apalagi kalau rumah ramai.",
    "Biasanya kamu belajar jam berapa, dan di mana?",
    "Habis isya, di ruang tamu. Adik saya sering nonton TV di situ.",
    "Kalau dicoba belajar di kamar atau di perpustakaan sekolah sepulang les, bagaimana?",
    "Mungkin bisa, Bu. Tapi saya juga takut ketinggalan teman-teman.",
    "Wajar kalau merasa begitu. Apa yang paling kamu khawatirkan?",
    "Ujian semester bulan depan. Orang tua saya berharap saya masuk IPA.",
    "Kita susun rencana belajar mingguan bersama, ya. Mulai dari bab yang paling sulit.",
    "Oke.",
    "Terima kasih, Bu. Saya merasa sedikit lebih tenang sekarang.",
]


@dataclass
class Sent:
    room: int
    role: str
    sent_at: float
    acked_at: float | None = None
    seq: int | None = None
    deliveries: list[float] = field(default_factory=list)


@dataclass
class Run:
    """Everything measured, shared by all clients (one event loop, no locks needed)."""

    sent: dict[str, Sent] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    duplicates: int = 0
    duplicate_acks: int = 0
    connect_times: list[float] = field(default_factory=list)
    send_lag: list[float] = field(default_factory=list)
    outstanding: int = 0  # acks + deliveries still expected
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    senders_done: bool = False

    def expect(self, count: int) -> None:
        self.outstanding += count

    def arrived(self) -> None:
        self.outstanding -= 1
        if self.senders_done and self.outstanding <= 0:
            self.settled.set()

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


class Client:
    """One participant's socket: reads every frame, sends messages on a schedule."""

    def __init__(self, run: Run, room: int, role: str, url: str, origin: str, cookie: str):
        self.run, self.room, self.role = run, room, role
        self.url, self.origin, self.cookie = url, origin, cookie
        self.socket = None
        self.hello = asyncio.Event()
        self.peer_online = asyncio.Event()
        self.closing = False
        self.seen_ids: set[int] = set()
        self.reader: asyncio.Task | None = None

    async def open(self, timeout: float) -> None:
        started = time.perf_counter()
        try:
            self.socket = await websockets.connect(
                self.url,
                origin=self.origin,
                additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.cookie}"},
                open_timeout=timeout,
                compression=None,
                max_queue=None,
            )
        except Exception as error:
            self.run.error(f"connect failed: {type(error).__name__}: {error}"[:120])
            return
        self.reader = asyncio.create_task(self.read())
        try:
            await asyncio.wait_for(self.hello.wait(), timeout)
        except TimeoutError:
            self.run.error("no hello")
            return
        self.run.connect_times.append(time.perf_counter() - started)

    async def read(self) -> None:
        run = self.run
        try:
            async for text in self.socket:
                now = time.perf_counter()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "chat.message":
                    if frame["mine"]:
                        continue
                    sent = run.sent.get(frame["client_id"])
                    if sent is None or sent.room != self.room or sent.role == self.role:
                        run.error("chat.message not sent by the peer")
                        continue
                    if frame["id"] in self.seen_ids:
                        run.duplicates += 1
                    else:
                        self.seen_ids.add(frame["id"])
                        run.arrived()
                    sent.deliveries.append(now)
                elif kind == "chat.ack":
                    sent = run.sent.get(frame["client_id"])
                    if sent is None:
                        run.error("ack for an unknown message")
                    elif frame["duplicate"] or sent.acked_at is not None:
                        run.duplicate_acks += 1
                    else:
                        sent.acked_at, sent.seq = now, frame["id"]
                        run.arrived()
                elif kind == "error":
                    run.error(f"error frame: {frame.get('code')}")
                elif kind == "hello":
                    if frame["room"]["state"] != "open":
                        run.error(f"room {frame['room']['state']}")
                    self.hello.set()
                elif kind == "presence":
                    if frame["online"]:
                        self.peer_online.set()
                    elif not self.closing:
                        run.error("peer went offline")
        except ConnectionClosed as closed:
            if not self.closing:
                run.error(f"closed unexpectedly: {closed.rcvd.code if closed.rcvd else 1006}")
        except Exception as error:  # a malformed frame: report it, don't hide it
            run.error(f"reader crashed: {type(error).__name__}")

    async def talk(self, start: float, count: int, interval: float, rng: random.Random) -> None:
        if self.socket is None or self.reader is None or self.reader.done():
            return
        loop = asyncio.get_running_loop()
        offset = rng.uniform(0, interval)
        for number in range(count):
            due = start + offset + number * interval + rng.uniform(-0.1, 0.1) * interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.run.send_lag.append(max(0.0, loop.time() - due))
            client_id = str(uuid.uuid4())
            body = f"{rng.choice(LINES)} (#{number + 1})"
            self.run.sent[client_id] = Sent(self.room, self.role, time.perf_counter())
            self.run.expect(2)  # its ack, and its delivery to the peer
            try:
                await self.socket.send(
                    json.dumps({"type": "chat.send", "client_id": client_id, "body": body})
                )
            except ConnectionClosed:
                self.run.error("send on a closed socket")
                return

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await self.reader


# --- the database side ---------------------------------------------------------------------
def create_rooms(count: int, tag: str) -> list[tuple[int, str, str]]:
    """`count` sessions in progress, each with its own student and counselor; returns
    (session id, student's cookie, counselor's cookie) per room."""
    now = timezone.now()
    with transaction.atomic():
        npsn = f"{random.randrange(10**8):08d}"
        while School.objects.filter(npsn=npsn).exists():
            npsn = f"{random.randrange(10**8):08d}"
        school = School.objects.create(name=f"Bench {tag}", npsn=npsn)
        school_class = SchoolClass.objects.create(
            school=school, name="XI Bench", academic_year=school.current_academic_year()
        )

        def person(role: str, number: int) -> User:
            return User(
                username=f"bench-{tag}-{role}{number:04d}",
                first_name=f"{role.title()} {number}",
                school=school,
                role=role,
                password=make_password(None),  # nobody logs in with a password
            )

        counselors = User.objects.bulk_create(person("counselor", n) for n in range(count))
        students = User.objects.bulk_create(person("student", n) for n in range(count))
        first_nisn = random.randrange(10**9)
        StudentProfile.objects.bulk_create(
            StudentProfile(
                user=student,
                nisn=f"{(first_nisn + n) % 10**10:010d}",
                school_class=school_class,
                gender=StudentProfile.Gender.FEMALE,
                counselor=counselor,
            )
            for n, (student, counselor) in enumerate(zip(students, counselors, strict=True))
        )
        sessions = CounselingSession.objects.bulk_create(
            CounselingSession(
                school=school,
                student=student,
                counselor=counselor,
                starts_at=now - datetime.timedelta(minutes=5),
                ends_at=now + datetime.timedelta(minutes=55),
                status=CounselingSession.Status.IN_PROGRESS,
                mode=CounselingSession.Mode.CHAT,
                field=CounselingSession.Field.LEARNING,
                description="Load benchmark",
                consent_text="Persetujuan layanan konseling daring.",
                consent_given_at=now - datetime.timedelta(days=1),
            )
            for student, counselor in zip(students, counselors, strict=True)
        )
        return [
            (session.pk, session_cookie(student), session_cookie(counselor))
            for session, student, counselor in zip(sessions, students, counselors, strict=True)
        ]


def session_cookie(user: User) -> str:
    """A signed-in session for `user`, stored as django.test.Client.force_login does."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def check_database(rooms: list[tuple[int, str, str]], run: Run) -> dict[str, int]:
    """Each room's stored messages are numbered 1..k without gaps, and match what the
    clients were acknowledged."""
    session_ids = [session_id for session_id, _, _ in rooms]
    stored: dict[int, list[tuple[int, str]]] = {session_id: [] for session_id in session_ids}
    rows = ChatMessage.objects.filter(session_id__in=session_ids).values_list(
        "session_id", "seq", "client_id"
    )
    for session_id, seq, client_id in rows:
        stored[session_id].append((seq, str(client_id)))
    acked: dict[int, dict[str, int]] = {session_id: {} for session_id in session_ids}
    for client_id, sent in run.sent.items():
        if sent.seq is not None:
            acked[session_ids[sent.room]][client_id] = sent.seq
    result = {"stored": 0, "rooms with gaps": 0, "rooms not matching": 0}
    for session_id in session_ids:
        messages = sorted(stored[session_id])
        result["stored"] += len(messages)
        if [seq for seq, _ in messages] != list(range(1, len(messages) + 1)):
            result["rooms with gaps"] += 1
        if {client_id: seq for seq, client_id in messages} != acked[session_id]:
            result["rooms not matching"] += 1
    return result


class ConnectionSampler(threading.Thread):
    """Samples how many PostgreSQL connections the database has (the peak is reported)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.stop = 0, threading.Event()

    def run(self) -> None:
        if connection.vendor != "postgresql":
            return
        try:
            while not self.stop.wait(0.5):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    )
                    self.peak = max(self.peak, cursor.fetchone()[0] - 1)  # not this one
        finally:
            connection.close()


# --- the run -------------------------------------------------------------------------------
async def bench(args, rooms: list[tuple[int, str, str]]) -> tuple[Run, dict[str, float]]:
    run = Run()
    servers = args.servers
    clients: list[tuple[Client, Client]] = []
    for index, (session_id, student_cookie, counselor_cookie) in enumerate(rooms):
        pair = []
        for offset, (role, cookie) in enumerate(
            (("student", student_cookie), ("counselor", counselor_cookie))
        ):
            server = servers[(index + offset) % len(servers)]
            pair.append(
                Client(
                    run,
                    index,
                    role,
                    f"ws://{server}/ws/sessions/{session_id}/room/",
                    f"http://{server}",
                    cookie,
                )
            )
        clients.append((pair[0], pair[1]))

    # Gentle ramp-up: a batch of rooms at a time, each batch fully open before the next.
    started = time.perf_counter()
    for first in range(0, len(clients), args.batch):
        batch = [client for pair in clients[first : first + args.batch] for client in pair]
        await asyncio.gather(*(client.open(args.timeout) for client in batch))
        await asyncio.sleep(args.batch_pause)
    everyone = [client for pair in clients for client in pair]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(c.peer_online.wait() for c in everyone if c.reader)), args.timeout
        )
    except TimeoutError:
        run.error("peer not seen online")
    connected = time.perf_counter()

    # The conversation: every client sends on its own schedule.
    loop = asyncio.get_running_loop()
    rng = random.Random(args.seed)
    start = loop.time() + 0.5
    chat_started = time.perf_counter() + 0.5
    await asyncio.gather(
        *(client.talk(start, args.messages, args.interval, rng) for client in everyone)
    )
    run.senders_done = True
    if run.outstanding <= 0:
        run.settled.set()
    with contextlib.suppress(TimeoutError):  # what is missing is counted below
        await asyncio.wait_for(run.settled.wait(), args.drain)
    deliveries = [d for sent in run.sent.values() for d in sent.deliveries]
    chat_ended = max(deliveries, default=chat_started)

    for first in range(0, len(everyone), 2 * args.batch):
        await asyncio.gather(*(c.close() for c in everyone[first : first + 2 * args.batch]))
    timings = {
        "connect": connected - started,
        "chat": chat_ended - chat_started,
    }
    return run, timings


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(args, run: Run, timings: dict[str, float], database: dict[str, int], peak: int):
    sent = list(run.sent.values())
    acked = [s for s in sent if s.acked_at is not None]
    delivered = [s for s in sent if s.deliveries]
    lost = [s for s in acked if not s.deliveries]
    unacked = [s for s in sent if s.acked_at is None]
    latency = [(s.deliveries[0] - s.sent_at) * 1000 for s in delivered]
    ack_latency = [(s.acked_at - s.sent_at) * 1000 for s in acked]
    errors = sum(run.errors.values())
    rows = [
        ("rooms", args.rooms),
        ("clients", 2 * args.rooms),
        ("servers", ", ".join(args.servers)),
        ("pace", f"{args.messages} messages each way, one per {args.interval:g} s per client"),
        ("connect time (all rooms)", f"{timings['connect']:.1f} s"),
        ("handshake → hello p50 / max", ms_pair(run.connect_times, 1000)),
        ("messages sent", len(sent)),
        ("acknowledged", len(acked)),
        ("delivered", len(delivered)),
        ("errors", errors),
        ("lost (acked, never delivered)", len(lost)),
        ("not acknowledged", len(unacked)),
        ("duplicated (delivered twice)", run.duplicates),
        ("duplicate acks", run.duplicate_acks),
        ("chat phase", f"{timings['chat']:.1f} s"),
        ("throughput", f"{len(delivered) / max(timings['chat'], 1e-9):.1f} messages/s delivered"),
        ("delivery latency p50", f"{percentile(latency, 0.5):.1f} ms"),
        ("delivery latency p99", f"{percentile(latency, 0.99):.1f} ms"),
        ("delivery latency max", f"{max(latency, default=float('nan')):.1f} ms"),
        (
            "ack latency p50 / p99",
            f"{percentile(ack_latency, 0.5):.1f} / {percentile(ack_latency, 0.99):.1f} ms",
        ),
        ("load generator lag p99 / max", ms_pair(run.send_lag, 1000, share=0.99)),
        ("messages in the database", database["stored"]),
        ("rooms with a gap in 1..k", database["rooms with gaps"]),
        ("rooms whose messages ≠ acks", database["rooms not matching"]),
        ("peak PostgreSQL connections", peak),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if run.errors:
        print("\n  errors by kind:")
        for kind, count in run.errors.most_common():
            print(f"    {count:6d}  {kind}")
    failures = [
        reason
        for reason, failed in (
            ("errors", errors),
            ("lost messages", lost),
            ("messages never acknowledged", unacked),
            ("duplicated messages", run.duplicates or run.duplicate_acks),
            ("gaps in a room's numbering", database["rooms with gaps"]),
            (
                "the database does not match the acknowledgements",
                database["rooms not matching"] or database["stored"] != len(acked),
            ),
            (
                f"delivery latency p99 above {args.max_p99_ms:g} ms",
                args.max_p99_ms and not percentile(latency, 0.99) <= args.max_p99_ms,
            ),
        )
        if failed
    ]
    print("\n  RESULT:", f"FAIL ({'; '.join(failures)})" if failures else "OK")
    return 1 if failures else 0


def ms_pair(values: list[float], scale: float, share: float = 0.5) -> str:
    if not values:
        return "-"
    return f"{percentile(values, share) * scale:.1f} / {max(values) * scale:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=100, help="concurrent rooms (2 clients each)")
    parser.add_argument("--messages", type=int, default=20, help="messages each client sends")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between one client's messages (the app allows 20 per 30 s per user: "
        "keep it at 1.5 or more when --messages is above 20)",
    )
    parser.add_argument(
        "--servers",
        default="127.0.0.1:8001,127.0.0.1:8002",
        help="comma-separated host:port of the daphne processes; a room's two clients go "
        "to two different ones",
    )
    parser.add_argument("--batch", type=int, default=25, help="rooms opened at once")
    parser.add_argument("--batch-pause", type=float, default=0.2, help="seconds between batches")
    parser.add_argument("--timeout", type=float, default=30, help="handshake/hello timeout (s)")
    parser.add_argument("--drain", type=float, default=30, help="seconds to wait for stragglers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-p99-ms",
        type=float,
        default=2000,
        help="fail when the delivery latency's p99 is above this (0: don't check)",
    )
    args = parser.parse_args()
    args.servers = [server.strip() for server in args.servers.split(",") if server.strip()]

    # Two sockets a room, plus the database and some slack.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * args.rooms + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    tag = uuid.uuid4().hex[:8]
    print(f"creating {args.rooms} rooms (run {tag}) …", flush=True)
    rooms = create_rooms(args.rooms, tag)
    connection.close()
    sampler = ConnectionSampler()
    sampler.start()
    print(f"connecting {2 * args.rooms} clients to {', '.join(args.servers)} …", flush=True)
    run, timings = asyncio.run(bench(args, rooms))
    sampler.stop.set()
    sampler.join()
    database = check_database(rooms, run)
    return report(args, run, timings, database, sampler.peak)


if __name__ == "__main__":
    sys.exit(main())
