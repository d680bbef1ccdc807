"""What the benchmark scripts share: the percentile they report, the commit measured,
and how the database tells the benchmark's own connections from the server's."""

import math
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

# The scripts label their own PostgreSQL connections (libpq's PGAPPNAME, set before
# Django connects), so that counting the server's connections leaves theirs out.
OWN_CONNECTIONS = "ruangbk-bench-client"
SERVER_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    f"AND application_name <> '{OWN_CONNECTIONS}'"
)


def percentile(values: list[float], percent: float) -> float:
    """Nearest rank: the smallest value that at least `percent` % of the values do not
    exceed (of 30 timings, p95 is the 29th fastest, p50 the 15th); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)), 1) - 1]


def git_commit() -> str:
    """The commit the scripts run on, marked when tracked files differ from it."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + (
            " + working tree" if git("status", "--porcelain", "--untracked-files=no") else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def server_connections() -> int:
    """The connections to the benchmark's database that are not the script's own (the
    server's); 0 on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(SERVER_CONNECTIONS_SQL)
        return cursor.fetchone()[0]


class PeakSampler(threading.Thread):
    """Calls each probe every `interval` seconds in a thread of its own and keeps the
    highest value of each (`peaks`), until `halt` is set."""

    def __init__(self, interval: float, probes: dict[str, Callable[[], float]]) -> None:
        super().__init__(daemon=True)
        self.interval, self.probes = interval, probes
        self.peaks = dict.fromkeys(probes, 0)
        self.halt = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.halt.wait(self.interval):
                for name, probe in self.probes.items():
                    self.peaks[name] = max(self.peaks[name], probe())
        finally:
            connection.close()
