"""The matrix's fixtures: the world built once for all HTTP cells (each cell's changes
rolled back), and a committed world per websocket cell."""

import pytest
from django.db import transaction

from tests.permission_matrix.world import build_world


@pytest.fixture(scope="class")
def shared_world(django_db_setup, django_db_blocker):
    """One world for a whole test class, in a transaction rolled back at its end. Each
    test runs in a savepoint inside it (pytest-django's TestCase), so what an allowed POST
    changes is gone before the next cell."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def committed_world(transactional_db):
    """A world the websocket consumer's own database threads can see."""
    return build_world()


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """Rate limits are not permissions: many people post here from one address."""
    settings.RATELIMIT_ENABLE = False
