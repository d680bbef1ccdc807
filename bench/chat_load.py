"""Chat load benchmark: the reference relay and RuangBK side by side, same client, same rooms.

For each scenario the script starts the servers itself, runs the same load client against
the bare websocket relay (bench/relay.py) and then against RuangBK (daphne processes on
PostgreSQL and Redis, production settings), and prints both with their ratio. Absolute
figures drift on a shared machine; the ratio within one run does not.

RuangBK's clients are real users: every student and counselor signs in through the real
sign-in page (GET for the CSRF token, POST of username and password) and opens the real
room socket with the session cookie it got. Every message is stored in PostgreSQL before
it is acknowledged and relayed (the app's rule). After each RuangBK run the database is
checked: each room's messages numbered 1..k without gaps and equal to the acknowledgements.

Modes: "closed" — each client keeps one message in flight and sends the next as soon as
the previous one reached the peer (the most the system carries); "open" — each client
sends one message every --interval seconds whatever happens (the school's pace; latency
under a fixed offered load).

See bench/README.md for the environment and `make bench`. Exits 1 when a RuangBK run has
an error, a lost, unacknowledged or duplicated message, a gap in the database, or misses
a target given with --max-p99-ms / --min-ratio.
"""

import argparse
import asyncio
import contextlib
import datetime
import http.client
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counseling_platform.settings")
os.environ["PGAPPNAME"] = "ruangbk-bench-client"  # benchlib.OWN_CONNECTIONS

# What the benchmark's servers run with on top of the caller's environment (production
# settings otherwise). The sign-in limit per address is lifted because every simulated
# user signs in from 127.0.0.1; the chat limit per user (20 messages in 30 s) is lifted
# so that the closed loop measures the system, not the rule.
SERVER_ENVIRONMENT = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_LOG_LEVEL": "WARNING",
    "DATABASE_CONN_MAX_AGE": "60",
    "RUANGBK_SIGN_IN_RATE_PER_ADDRESS": "1000000/m",
    "RUANGBK_CHAT_MESSAGES_PER_30S": "1000000",
}
for name, value in SERVER_ENVIRONMENT.items():
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from benchlib import PeakSampler, git_commit, percentile, server_connections  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import School, SchoolClass, StudentProfile, User  # noqa: E402
from sessions_app.models import ChatMessage, CounselingSession  # noqa: E402

PASSWORD = "bench-password-2026"
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

# The scenarios of `make bench` (bench/README.md): name, rooms, app processes, mode,
# seconds of chat, seconds between one client's messages (open loop). 1 000 rooms at the
# school's pace (400 messages/s) are beyond this 2-core machine; at one message per
# person per 10 s (200 messages/s) they are not.
SCENARIOS = {
    "closed-500": {"rooms": 500, "processes": 1, "mode": "closed", "seconds": 20, "interval": 0},
    "open-500": {"rooms": 500, "processes": 1, "mode": "open", "seconds": 40, "interval": 5},
    "closed-500-2p": {"rooms": 500, "processes": 2, "mode": "closed", "seconds": 20, "interval": 0},
    "open-500-2p": {"rooms": 500, "processes": 2, "mode": "open", "seconds": 40, "interval": 5},
    "open-1000-2p": {"rooms": 1000, "processes": 2, "mode": "open", "seconds": 40, "interval": 5},
    "open-1000-10s-2p": {
        "rooms": 1000,
        "processes": 2,
        "mode": "open",
        "seconds": 40,
        "interval": 10,
    },
}


@dataclass
class Sent:
    room: int
    role: str
    sent_at: float
    acked_at: float | None = None
    seq: int | None = None
    deliveries: list[float] = field(default_factory=list)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Run:
    """Everything one run measured (one event loop: no locks needed)."""

    sent: dict[str, Sent] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    duplicates: int = 0
    duplicate_acks: int = 0
    echoes: int = 0
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
    """One participant's socket: reads every frame; sends on a schedule or in a loop."""

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
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        try:
            self.socket = await websockets.connect(
                self.url,
                origin=self.origin,
                additional_headers=headers,
                open_timeout=timeout,
                compression=None,
                max_queue=None,
                ping_interval=None,
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
                        run.echoes += 1  # RuangBK echoes to the sender's other tabs
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
                        sent.delivered.set()
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

    def usable(self) -> bool:
        return self.socket is not None and self.reader is not None and not self.reader.done()

    async def send(self, rng: random.Random, number: int) -> Sent | None:
        client_id = str(uuid.uuid4())
        body = f"{rng.choice(LINES)} (#{number + 1})"
        sent = Sent(self.room, self.role, time.perf_counter())
        self.run.sent[client_id] = sent
        self.run.expect(2)  # its ack, and its delivery to the peer
        try:
            await self.socket.send(
                json.dumps({"type": "chat.send", "client_id": client_id, "body": body})
            )
        except ConnectionClosed:
            self.run.error("send on a closed socket")
            return None
        return sent

    async def talk_open(self, start: float, until: float, interval: float, rng) -> None:
        """One message every `interval` seconds (±10 %), from a random offset."""
        if not self.usable():
            return
        loop = asyncio.get_running_loop()
        due, number = start + rng.uniform(0, interval), 0
        while due < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.run.send_lag.append(max(0.0, loop.time() - due))
            if await self.send(rng, number) is None:
                return
            number += 1
            due += interval * rng.uniform(0.9, 1.1)

    async def talk_closed(self, start: float, until: float, rng, patience: float) -> None:
        """The next message as soon as the previous one reached the peer."""
        if not self.usable():
            return
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, start - loop.time()) + rng.uniform(0, 0.05))
        number = 0
        while loop.time() < until:
            sent = await self.send(rng, number)
            if sent is None:
                return
            number += 1
            try:
                await asyncio.wait_for(sent.delivered.wait(), patience)
            except TimeoutError:
                self.run.error("closed loop: no delivery within the patience")
                return

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await self.reader


# --- the database side ---------------------------------------------------------------------
@dataclass
class Room:
    session_id: int
    student: str  # username
    counselor: str


def create_rooms(count: int, tag: str) -> list[Room]:
    """`count` chat sessions in progress, each with its own student and counselor, all
    with the password PASSWORD."""
    now = timezone.now()
    password = make_password(PASSWORD)  # one hash for all: the server still checks it
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
                password=password,
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
                ends_at=now + datetime.timedelta(hours=2),
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
        Room(session.pk, student.username, counselor.username)
        for session, student, counselor in zip(sessions, students, counselors, strict=True)
    ]


def check_database(rooms: list[Room], run: Run) -> dict[str, int]:
    """Each room's messages of this run are numbered without gaps after those of earlier
    runs, and match what the clients were acknowledged."""
    session_ids = [room.session_id for room in rooms]
    acked: dict[int, dict[str, int]] = {session_id: {} for session_id in session_ids}
    for client_id, sent in run.sent.items():
        if sent.seq is not None:
            acked[session_ids[sent.room]][client_id] = sent.seq
    stored: dict[int, list[tuple[int, str]]] = {session_id: [] for session_id in session_ids}
    rows = ChatMessage.objects.filter(session_id__in=session_ids).values_list(
        "session_id", "seq", "client_id"
    )
    for session_id, seq, client_id in rows:
        stored[session_id].append((seq, str(client_id)))
    result = {"stored": 0, "rooms with gaps": 0, "rooms not matching": 0}
    for session_id in session_ids:
        messages = sorted(stored[session_id])
        if [seq for seq, _ in messages] != list(range(1, len(messages) + 1)):
            result["rooms with gaps"] += 1
        ours = {client_id: seq for seq, client_id in messages if client_id in acked[session_id]}
        result["stored"] += len(ours)
        if ours != acked[session_id]:
            result["rooms not matching"] += 1
    return result


# --- signing in through the real page ------------------------------------------------------
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def cookie_values(response: http.client.HTTPResponse) -> dict[str, str]:
    values = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        values[name.strip()] = rest.split(";", 1)[0]
    return values


def sign_in(address: str, username: str) -> str:
    """The session cookie of `username` after the sign-in page's GET and POST."""
    host, port = address.rsplit(":", 1)
    http_connection = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        http_connection.request("GET", "/accounts/login/")
        page = http_connection.getresponse()
        body = page.read().decode()
        csrf_cookie = cookie_values(page).get(settings.CSRF_COOKIE_NAME, "")
        token = CSRF_FIELD.search(body)
        if page.status != 200 or not csrf_cookie or token is None:
            raise RuntimeError(f"sign-in page: {page.status}")
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        )
        http_connection.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf_cookie}",
                "Referer": f"http://{address}/accounts/login/",
            },
        )
        answer = http_connection.getresponse()
        answer.read()
        session = cookie_values(answer).get(settings.SESSION_COOKIE_NAME)
        if answer.status != 302 or not session:
            raise RuntimeError(f"sign-in refused: {answer.status}")
        return session
    finally:
        http_connection.close()


def sign_in_everyone(address: str, usernames: list[str], workers: int) -> dict[str, str]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        cookies = dict(
            zip(usernames, pool.map(lambda name: sign_in(address, name), usernames), strict=True)
        )
    print(
        f"  {len(cookies)} users signed in through the sign-in page in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return cookies


# --- the servers ---------------------------------------------------------------------------
class Servers:
    """The relay, or N daphne processes sharing one listening socket (the kernel spreads
    the connections over them), started and stopped by the benchmark."""

    def __init__(self, kind: str, port: int, processes: int = 1, log_dir: Path = Path("/tmp")):
        self.kind, self.port, self.processes = kind, port, []
        self.listener: socket.socket | None = None
        environment = dict(os.environ, PGAPPNAME="ruangbk-bench-server")
        if kind == "relay":
            commands = [[sys.executable, str(ROOT / "bench/relay.py"), "--port", str(port)]]
            passed = ()
        else:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", port))
            self.listener.listen(4096)
            self.listener.set_inheritable(True)
            descriptor = self.listener.fileno()
            daphne = str(Path(sys.executable).with_name("daphne"))
            commands = [
                [
                    daphne,
                    "--fd",
                    str(descriptor),
                    "--websocket-max-message-size",
                    "131072",
                    "--websocket-max-frame-size",
                    "131072",
                    "counseling_platform.asgi:application",
                ]
            ] * processes
            passed = (descriptor,)
        for number, command in enumerate(commands):
            log = open(log_dir / f"bench-{kind}-{port}-{number}.log", "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=environment, stdout=log, stderr=log, pass_fds=passed
                )
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{self.kind} server exited with {process.returncode}")
            try:
                if self.kind == "relay":
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                http_connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                http_connection.request("GET", "/healthz")
                if http_connection.getresponse().status == 200:
                    time.sleep(1)  # the other processes finish starting meanwhile
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.kind} server not ready after {timeout:.0f} s")

    def memory_mb(self) -> float:
        """Resident memory of the server processes together (MiB)."""
        total = 0
        for process in self.processes:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.listener is not None:
            self.listener.close()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def pids_named(*names: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
    return found


def database_backends() -> list[int]:
    """The PostgreSQL backends of the benchmark's database (the servers' and ours)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            return [pid for (pid,) in cursor.fetchall()]
    finally:
        connection.close()


def cpu_snapshot(servers: "Servers") -> dict[str, float]:
    """CPU seconds used so far by each part: the servers, PostgreSQL (the backends of the
    benchmark's database), Redis (the whole server: other users of this Redis count too)
    and this load generator. Runs in a thread (it queries the database)."""
    return {
        "server": cpu_seconds(process.pid for process in servers.processes),
        "postgres": cpu_seconds(database_backends()),
        "redis": cpu_seconds(pids_named("redis-server")),
        "client": cpu_seconds([os.getpid()]),
    }


# --- one run -------------------------------------------------------------------------------
@dataclass
class Outcome:
    target: str
    scenario: str
    rooms: int
    processes: int
    mode: str
    interval: float
    run: Run
    connect_seconds: float
    chat_seconds: float
    memory_mb: float
    idle_memory_mb: float
    connections: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the chat
    database: dict[str, int] = field(default_factory=dict)

    def cpu_per_message(self) -> str:
        """CPU milliseconds per delivered message, by part (where the time goes)."""
        delivered = sum(1 for sent in self.run.sent.values() if sent.deliveries)
        if not delivered:
            return "-"
        return ", ".join(
            f"{part} {seconds * 1000 / delivered:.2f}" for part, seconds in self.cpu.items()
        )

    def figures(self) -> dict:
        sent = list(self.run.sent.values())
        acked = [s for s in sent if s.acked_at is not None]
        delivered = [s for s in sent if s.deliveries]
        latency = [(s.deliveries[0] - s.sent_at) * 1000 for s in delivered]
        return {
            "sent": len(sent),
            "acked": len(acked),
            "delivered": len(delivered),
            "errors": sum(self.run.errors.values()),
            "lost": sum(1 for s in acked if not s.deliveries),
            "unacked": len(sent) - len(acked),
            "duplicated": self.run.duplicates + self.run.duplicate_acks,
            "throughput": len(delivered) / max(self.chat_seconds, 1e-9),
            "p50": percentile(latency, 50),
            "p95": percentile(latency, 95),
            "p99": percentile(latency, 99),
            "max": max(latency, default=float("nan")),
            "ack_p99": percentile([(s.acked_at - s.sent_at) * 1000 for s in acked], 99),
            "lag_p99": percentile(self.run.send_lag, 99) * 1000 if self.run.send_lag else 0,
        }


async def drive(args, address: str, rooms: list[Room], cookies, spec, servers) -> tuple:
    run = Run()
    clients: list[Client] = []
    for index, room in enumerate(rooms):
        for role, username in (("student", room.student), ("counselor", room.counselor)):
            clients.append(
                Client(
                    run,
                    index,
                    role,
                    f"ws://{address}/ws/sessions/{room.session_id}/room/",
                    f"http://{address}",
                    cookies.get(username, "") if cookies else "",
                )
            )
    started = time.perf_counter()
    for first in range(0, len(clients), 2 * args.batch):
        batch = clients[first : first + 2 * args.batch]
        await asyncio.gather(*(client.open(args.timeout) for client in batch))
    try:
        await asyncio.wait_for(
            asyncio.gather(*(c.peer_online.wait() for c in clients if c.reader)), args.timeout
        )
    except TimeoutError:
        run.error("peer not seen online")
    connected = time.perf_counter()

    loop = asyncio.get_running_loop()
    rng = random.Random(args.seed)
    start = loop.time() + 1.0
    until = start + spec["seconds"]
    chat_started = time.perf_counter() + 1.0
    cpu_before = await asyncio.to_thread(cpu_snapshot, servers)
    if spec["mode"] == "open":
        talks = [c.talk_open(start, until, spec["interval"], rng) for c in clients]
    else:
        talks = [c.talk_closed(start, until, rng, args.patience) for c in clients]
    await asyncio.gather(*talks)
    run.senders_done = True
    if run.outstanding <= 0:
        run.settled.set()
    with contextlib.suppress(TimeoutError):  # what is missing is counted
        await asyncio.wait_for(run.settled.wait(), args.drain)
    cpu_after = await asyncio.to_thread(cpu_snapshot, servers)
    cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_before}
    deliveries = [d for sent in run.sent.values() for d in sent.deliveries]
    chat_ended = max(deliveries, default=chat_started)
    for first in range(0, len(clients), 4 * args.batch):
        await asyncio.gather(*(c.close() for c in clients[first : first + 4 * args.batch]))
    return run, connected - started, chat_ended - chat_started, cpu


def run_target(args, target: str, name: str, spec: dict, rooms: list[Room], cookies) -> Outcome:
    processes = spec["processes"] if target == "ruangbk" else 1
    kind = "relay" if target == "relay" else "app"
    port = args.relay_port if target == "relay" else args.app_port
    label = f"{name}: {target}" + (f" ({processes} processes)" if target == "ruangbk" else "")
    print(f"  {label}: starting …", flush=True)
    servers = Servers(kind, port, processes)
    try:
        idle = servers.memory_mb()
        # Peak server memory and (for RuangBK) peak PostgreSQL connections.
        probes = {"memory": servers.memory_mb}
        if target == "ruangbk":
            probes["connections"] = server_connections
        sampler = PeakSampler(0.5, probes)
        sampler.start()
        run, connect_seconds, chat_seconds, cpu = asyncio.run(
            drive(args, f"127.0.0.1:{port}", rooms, cookies, spec, servers)
        )
        sampler.halt.set()
        sampler.join()
    finally:
        servers.stop()
    outcome = Outcome(
        target,
        name,
        len(rooms),
        processes,
        spec["mode"],
        spec["interval"],
        run,
        connect_seconds,
        chat_seconds,
        sampler.peaks["memory"],
        idle,
        sampler.peaks.get("connections", 0),
        cpu=cpu,
    )
    if target == "ruangbk":
        outcome.database = check_database(rooms, run)
    figures = outcome.figures()
    print(
        f"  {label}: {figures['delivered']} delivered, {figures['throughput']:.0f} msg/s, "
        f"p99 {figures['p99']:.0f} ms (ack p99 {figures['ack_p99']:.0f}), "
        f"errors {figures['errors']}, lost {figures['lost']}"
        + f"; CPU ms/message {outcome.cpu_per_message()}"
        + (f"  errors: {dict(run.errors.most_common(5))}" if run.errors else ""),
        flush=True,
    )
    return outcome


# --- the report ----------------------------------------------------------------------------
def report(args, outcomes: list[Outcome]) -> list[str]:
    """Print the table; return why the run failed (empty when it passed)."""
    columns = (
        "scenario | target | rooms | proc. | sent | delivered | err. | lost | unacked | dup. "
        "| msg/s | p50 | p95 | p99 | max | RSS MiB | PG conns | ratio msg/s | ratio p99"
    )
    print("\n| " + columns + " |")
    print("|" + "---|" * (columns.count("|") + 1))
    failures = []
    relay = {o.scenario: o.figures() for o in outcomes if o.target == "relay"}
    for outcome in outcomes:
        f = outcome.figures()
        reference = relay.get(outcome.scenario)
        ratio = p99_ratio = ""
        if outcome.target == "ruangbk" and reference:
            ratio = f"{f['throughput'] / max(reference['throughput'], 1e-9):.2f}"
            p99_ratio = f"{f['p99'] / max(reference['p99'], 1e-9):.1f}×"
        pace = "closed" if outcome.mode == "closed" else f"1/{outcome.interval:g} s"
        cells = [
            f"{outcome.scenario} ({pace})",
            outcome.target,
            outcome.rooms,
            outcome.processes,
            f["sent"],
            f["delivered"],
            f["errors"],
            f["lost"],
            f["unacked"],
            f["duplicated"],
            f"{f['throughput']:.0f}",
            f"{f['p50']:.1f}",
            f"{f['p95']:.1f}",
            f"{f['p99']:.1f}",
            f"{f['max']:.0f}",
            f"{outcome.idle_memory_mb:.0f} → {outcome.memory_mb:.0f}",
            outcome.connections if outcome.target == "ruangbk" else "",
            ratio,
            p99_ratio,
        ]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
        if outcome.target != "ruangbk":
            continue
        where = f"{outcome.scenario}"
        for reason, failed in (
            ("errors", f["errors"]),
            ("lost messages", f["lost"]),
            ("messages never acknowledged", f["unacked"]),
            ("duplicated messages", f["duplicated"]),
            ("gaps in a room's numbering", outcome.database.get("rooms with gaps")),
            ("database ≠ acknowledgements", outcome.database.get("rooms not matching")),
        ):
            if failed:
                failures.append(f"{where}: {reason}")
        if outcome.mode == "open" and args.max_p99_ms and not f["p99"] <= args.max_p99_ms:
            failures.append(f"{where}: p99 {f['p99']:.0f} ms > {args.max_p99_ms:g} ms")
        if outcome.mode == "closed" and args.min_ratio and ratio and float(ratio) < args.min_ratio:
            failures.append(f"{where}: throughput ratio {ratio} < {args.min_ratio:g}")
    print("\nCPU milliseconds per delivered message, during the chat (where the time goes):")
    for outcome in outcomes:
        print(f"  {outcome.scenario} / {outcome.target}: {outcome.cpu_per_message()}")
    for outcome in outcomes:
        if outcome.run.errors:
            print(f"\n  {outcome.scenario} / {outcome.target} errors by kind:")
            for kind, count in outcome.run.errors.most_common(10):
                print(f"    {count:6d}  {kind}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        default=list(SCENARIOS),
        help=f"which scenarios to run, of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--targets", default="relay,ruangbk", help="comma-separated: relay, ruangbk"
    )
    parser.add_argument("--seconds", type=float, help="override each scenario's chat time")
    parser.add_argument(
        "--interval", type=float, help="override the open loop's seconds between messages"
    )
    parser.add_argument("--relay-port", type=int, default=8100)
    parser.add_argument("--app-port", type=int, default=8101)
    parser.add_argument("--batch", type=int, default=50, help="rooms opened at once")
    parser.add_argument("--timeout", type=float, default=60, help="handshake/hello timeout (s)")
    parser.add_argument("--drain", type=float, default=30, help="seconds to wait for stragglers")
    parser.add_argument(
        "--patience", type=float, default=30, help="closed loop: seconds to wait for a delivery"
    )
    parser.add_argument("--sign-in-workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-p99-ms", type=float, default=250, help="open loop: fail above this p99 (0: off)"
    )
    parser.add_argument(
        "--min-ratio",
        type=float,
        default=0,
        help="closed loop: fail below this share of the relay's throughput (0: off)",
    )
    args = parser.parse_args()
    for name in args.scenarios:  # ad hoc: closed-N, open-N, with -2p for two processes
        ad_hoc = re.fullmatch(r"(closed|open)-(\d+)(-2p)?", name)
        if name not in SCENARIOS and ad_hoc:
            mode, rooms, two = ad_hoc.groups()
            SCENARIOS[name] = {
                "rooms": int(rooms),
                "processes": 2 if two else 1,
                "mode": mode,
                "seconds": 20 if mode == "closed" else 40,
                "interval": 0 if mode == "closed" else 5,
            }
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if connection.vendor != "postgresql" and "ruangbk" in targets:
        parser.error("RuangBK is measured on PostgreSQL: set DATABASE_URL (bench/README.md)")
    if "ruangbk" in targets and not settings.REDIS_URL:
        parser.error("RuangBK is measured with the Redis channel layer: set REDIS_URL")

    largest = max(SCENARIOS[name]["rooms"] for name in args.scenarios)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 4 * largest + 1024  # both ends of every socket live on this machine
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))

    tag = uuid.uuid4().hex[:8]
    print(f"commit {git_commit()}; creating {largest} rooms (run {tag}) …", flush=True)
    rooms = create_rooms(largest, tag)
    connection.close()
    cookies = None
    if "ruangbk" in targets:
        print(f"signing in {2 * largest} users …", flush=True)
        servers = Servers("app", args.app_port, 2)
        try:
            usernames = [name for room in rooms for name in (room.student, room.counselor)]
            cookies = sign_in_everyone(
                f"127.0.0.1:{args.app_port}", usernames, args.sign_in_workers
            )
        finally:
            servers.stop()

    outcomes = []
    for name in args.scenarios:
        spec = dict(SCENARIOS[name])
        if args.seconds:
            spec["seconds"] = args.seconds
        if args.interval and spec["mode"] == "open":
            spec["interval"] = args.interval
        print(f"{name}: {spec}", flush=True)
        for target in targets:
            outcomes.append(run_target(args, target, name, spec, rooms[: spec["rooms"]], cookies))
    failures = report(args, outcomes)
    print("\nRESULT:", f"FAIL ({'; '.join(failures)})" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
