"""Fixtures shared by the whole suite: the people around every view, and service checks.

A test that needs PostgreSQL or Redis is marked `requires_postgres` / `requires_redis`.
Without the service it is skipped, saying why, unless RUANGBK_REQUIRE_SERVICES=1 (CI),
where it fails instead. Browser tests (marker `browser`) run last.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.backends.signals import connection_created

from tests.factories import (
    CounselorFactory,
    SchoolAdminFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
)

# Playwright's sync API runs an event loop in the test thread; Django's ORM must
# still be usable from the test body.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("RUANGBK_REQUIRE_SERVICES") == "1"

# Password hashing is deliberately slow; tests create hundreds of users. Set for the
# whole session so a live server forked from this process checks the same hashes.
settings.PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "accounts.hashers.InitialPasswordHasher",
]


def _allow_audit_truncate(sender, connection, **kwargs) -> None:
    """The audit table refuses TRUNCATE (audit/migrations/0001_append_only.py), which
    Django uses to empty a PostgreSQL test database between transactional tests."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET ruangbk.allow_audit_truncate = 'on'")


connection_created.connect(_allow_audit_truncate)


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (RUANGBK_REQUIRE_SERVICES=1: a missing service is a failure)")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first: browser tests go to the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    is_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if item.get_closest_marker("requires_postgres") and not is_postgres:
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://…")
    if item.get_closest_marker("requires_redis") and not settings.REDIS_URL:
        service_missing("needs Redis: set REDIS_URL=redis://…")


@pytest.fixture(autouse=True)
def empty_cache():
    """The rate limits count in the cache: every test starts with no attempts counted."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fresh_channel_layers():
    """A channel layer is bound to the event loop that used it: start and end each test
    with none, flushing what a Redis layer stored."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    for layer in list(channel_layers.backends.values()):
        if hasattr(layer, "flush"):
            # Playwright's sync API runs an event loop in the test's thread, where
            # async_to_sync cannot run: flush from a thread of its own then.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(async_to_sync(layer.flush)).result()
    channel_layers.backends.clear()


@pytest.fixture
def assert_constant_queries(django_assert_num_queries):
    """Assert that `request()` makes as many queries after `grow()` added data as before.

    List pages must not loop over queries: measure, add many rows, measure again.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def check(request, grow, *, ignore: str = "") -> None:
        """`ignore`: queries containing this text are not counted (the audit trail's
        bulk insert, which SQLite splits into batches of ~80 rows)."""
        with CaptureQueriesContext(connection) as baseline:
            request()
        # Counted now: the query log it reads is emptied by the next request (grow may
        # make one).
        expected = [query["sql"] for query in baseline.captured_queries]
        grow()
        if not ignore:
            with django_assert_num_queries(len(expected)):
                request()
            return
        with CaptureQueriesContext(connection) as after:
            request()
        counted = [query["sql"] for query in after.captured_queries if ignore not in query["sql"]]
        assert len(counted) == len([sql for sql in expected if ignore not in sql]), counted

    return check


@pytest.fixture
def school():
    return SchoolFactory(name="SMK Negeri 1 Contoh")


@pytest.fixture
def other_school():
    return SchoolFactory(name="SMA Negeri 9 Lain", time_zone="Asia/Makassar")


@pytest.fixture
def school_class(school):
    return SchoolClassFactory(school=school, name="XI Pemasaran 1")


@pytest.fixture
def school_admin(school):
    return SchoolAdminFactory(school=school, username="admin")


@pytest.fixture
def counselor(school):
    return CounselorFactory(school=school, username="konselor")


@pytest.fixture
def other_counselor(school):
    return CounselorFactory(school=school, username="konselor_lain")


@pytest.fixture
def student(school, school_class, counselor):
    user = StudentFactory(school=school, username="siswa", profile__school_class=school_class)
    user.student_profile.counselor = counselor
    user.student_profile.save()
    return user


@pytest.fixture
def other_student(school, school_class, other_counselor):
    user = StudentFactory(school=school, username="siswa_lain", profile__school_class=school_class)
    user.student_profile.counselor = other_counselor
    user.student_profile.save()
    return user


@pytest.fixture
def foreign_admin(other_school):
    return SchoolAdminFactory(school=other_school, username="admin_lain")


@pytest.fixture
def foreign_student(other_school):
    return StudentFactory(school=other_school, username="siswa_sekolah_lain")


@pytest.fixture
def foreign_counselor(other_school):
    return CounselorFactory(school=other_school, username="konselor_sekolah_lain")
