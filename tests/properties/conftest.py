"""Property-based tests: random and hostile input at every form, import and websocket
frame (issue 7, "Bad input"). Never a server error, never a partial save.

The Hypothesis profile of this suite: no example database (nothing written into the
repository), no deadline (a request that touches PostgreSQL varies in time), a modest
number of examples so the whole suite runs in well under a minute on 2 cores, and in CI
(RUANGBK_REQUIRE_SERVICES=1) derandomized, so a run can be repeated exactly. Set
RUANGBK_HYPOTHESIS_PROFILE=ruangbk-thorough for a long hunt on a developer's machine; a failure
prints the seed blob that replays it (@reproduce_failure).

How examples share the database: the people and their objects are made once per test by
ordinary pytest fixtures, and each test runs its examples from an inner @given function
(so Hypothesis's function-scoped-fixture health check does not apply: no fixture is
reused behind Hypothesis's back). Each example runs inside `checks.rolled_back()`, a
savepoint inside pytest-django's test transaction that is rolled back at the end, and
the client's cookies are reset to those of its sign-in: every example starts from the
same rows and the same web session. The websocket tests cannot do that (the consumer
writes from other threads, so they run with transaction=True) and undo their changes
by hand.
"""

import datetime
import os
import tempfile
import types
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests.conftest import REQUIRE_SERVICES
from tests.factories import (
    AdministrationFactory,
    AvailabilityFactory,
    CounselingSessionFactory,
    ResponseFactory,
    SchoolClassFactory,
)

# Hypothesis also caches what it learns about the code (.hypothesis/constants): outside the
# repository too, unless HYPOTHESIS_STORAGE_DIRECTORY says where.
set_hypothesis_home_dir(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    or Path(tempfile.gettempdir()) / "ruangbk-hypothesis"
)
hypothesis_settings.register_profile(
    "ruangbk",
    deadline=None,
    database=None,
    derandomize=REQUIRE_SERVICES,
    max_examples=15,
    print_blob=True,
    # A 100 000-character field is one of the inputs on purpose.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "ruangbk-thorough", hypothesis_settings.get_profile("ruangbk"), max_examples=500
)
hypothesis_settings.load_profile(os.environ.get("RUANGBK_HYPOTHESIS_PROFILE", "ruangbk"))


@pytest.fixture(autouse=True)
def no_rate_limits_left_over():
    """Sign-in and reset rate limits count in the cache: start every test with none."""
    cache.clear()


@pytest.fixture
def world(
    school,
    other_school,
    school_class,
    school_admin,
    counselor,
    other_counselor,
    student,
    other_student,
    foreign_admin,
    foreign_student,
    foreign_counselor,
):
    """The people of tests/conftest.py and, around them, one object of each kind a form
    can name: sessions in every state, questionnaires, a notification, and the same kinds
    owned by someone else (another student, another counselor, another school)."""
    from notifications.models import Notification
    from sessions_app.policy import booking_policy_for

    booking_policy_for(school)  # made on first use: made here, not by a refused form
    booking_policy_for(other_school)
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)

    def session(who, status, starts_at, **fields):
        return CounselingSessionFactory(
            student=who,
            status=status,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=45),
            **fields,
        )

    for weekday in range(7):
        AvailabilityFactory(counselor=counselor, weekday=weekday)
    sessions = types.SimpleNamespace(
        requested=session(student, "requested", hour + datetime.timedelta(days=3)),
        confirmed=session(student, "confirmed", hour + datetime.timedelta(days=4)),
        in_progress=session(student, "in_progress", now - datetime.timedelta(minutes=5)),
        completed=session(student, "completed", hour - datetime.timedelta(days=2)),
        other=session(other_student, "confirmed", hour + datetime.timedelta(days=4)),
    )
    foreign_student.student_profile.counselor = foreign_counselor
    foreign_student.student_profile.save()
    sessions.foreign = session(foreign_student, "confirmed", hour + datetime.timedelta(days=4))
    open_amas = AdministrationFactory(student=student, instrument_code="amas")
    open_evaluation = AdministrationFactory(
        student=student, instrument_code="service-evaluation", session=sessions.completed
    )
    answered = ResponseFactory(administration__student=student)
    other_response = ResponseFactory(administration__student=other_student)
    return types.SimpleNamespace(
        school=school,
        other_school=other_school,
        school_class=school_class,
        other_class=SchoolClassFactory(school=school, name="X Akuntansi 1"),
        foreign_class=SchoolClassFactory(school=other_school, name="XI Pemasaran 1"),
        admin=school_admin,
        counselor=counselor,
        other_counselor=other_counselor,
        student=student,
        other_student=other_student,
        foreign_admin=foreign_admin,
        foreign_student=foreign_student,
        foreign_counselor=foreign_counselor,
        sessions=sessions,
        open_amas=open_amas,
        open_evaluation=open_evaluation,
        answered=answered,
        other_response=other_response,
        other_administration=other_response.administration,
        notification=Notification.objects.create(
            user=student, kind=Notification.Kind.SESSION_CONFIRMED, session=sessions.confirmed
        ),
        foreign_notification=Notification.objects.create(
            user=other_student, kind=Notification.Kind.SESSION_CONFIRMED, session=sessions.other
        ),
    )


def object_ids(world) -> list[int]:
    """Ids of everyone's objects, to be posted where an id of one's own belongs."""
    people = [
        world.admin,
        world.counselor,
        world.other_counselor,
        world.student,
        world.other_student,
        world.foreign_admin,
        world.foreign_student,
        world.foreign_counselor,
    ]
    things = [world.school_class, world.other_class, world.foreign_class]
    things += list(vars(world.sessions).values())
    return sorted({obj.pk for obj in people + things} | {0, -1, 2**31, 2**63})
