"""Live daphne processes serving the whole ASGI app against the test database, for the
browser tests and the cross-process room tests. They are forked from the test process,
so they see the settings and the (file or PostgreSQL) test database."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from daphne.testing import DaphneProcess
from django.conf import settings
from django.db import connections

SERVER_START_SECONDS = 30


def _server_application(django_db_blocker, static: bool):
    """Runs in the forked server process: database open, a fresh channel layer, a fresh
    thread for database calls, and static files when asked."""
    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_db_blocker.unblock()  # pytest-django's guard was inherited through fork
    # A fork copies the executor that runs database calls but not its thread: after an
    # async test in the parent, every database_sync_to_async call would hang.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends.clear()  # the parent's layers belong to its event loops
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    # No TURN server runs where the tests do (calls connect on the loopback); a
    # developer's own TURN settings must not change what the pages show.
    settings.TURN_URLS, settings.TURN_SECRET = [], ""
    # Browser tests sign the same fixture usernames in many times an hour; the limits
    # themselves are tested in tests/accounts/test_sign_in_protection.py.
    settings.SIGN_IN_RATE_PER_ADDRESS = "100000/h"
    from django.contrib.contenttypes.models import ContentType

    from counseling_platform.asgi import application as site

    async def application(scope, receive, send):
        # Each transactional test's flush recreates the content types with new ids: a
        # cached one would make the audit trail's inserts fail with a foreign-key error.
        ContentType.objects.clear_cache()
        await site(scope, receive, send)

    return ASGIStaticFilesHandler(application) if static else application


def servers_start(django_db_blocker, count: int = 1, *, static: bool = False) -> list:
    """Start `count` daphne processes and wait until they listen."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and ":memory:" in str(database["NAME"]):
        raise RuntimeError("a live server needs a file or PostgreSQL test database")
    with django_db_blocker.unblock():
        # The children must not share the parent's sockets: close the connections and
        # the pool that keeps them (the pool's threads do not survive a fork either).
        connections.close_all()
        for connection in connections.all(initialized_only=True):
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
    processes = []
    for _ in range(count):
        process = DaphneProcess(
            "127.0.0.1", partial(_server_application, django_db_blocker, static)
        )
        process.daemon = True
        process.start()
        processes.append(process)
    for process in processes:
        if not process.ready.wait(SERVER_START_SECONDS):
            servers_stop(processes, django_db_blocker)
            detail = "" if process.errors.empty() else process.errors.get(False)[1]
            raise RuntimeError(f"daphne did not start:\n{detail}")
    return processes


def servers_stop(processes: list, django_db_blocker) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
    with django_db_blocker.unblock():
        _end_leftover_sessions()


def _end_leftover_sessions() -> None:
    """PostgreSQL may still hold the dead servers' sessions for a moment, which would
    make dropping the test database fail."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()
