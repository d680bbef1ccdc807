"""Every route × every person, against the table (table.py).

One test per cell (route, person): an xfail(strict) cell is a known breach of a rule.
The HTTP cells share one world (built once, each cell rolled back); the websocket cells
go through the full ASGI application (origin check, session cookie, router, consumer).
A route without a row, or a row without a route, fails test_every_route_has_a_row /
test_every_row_names_a_route.
"""

import re
from functools import cache
from urllib.parse import parse_qs, urlsplit

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from counseling_platform.asgi import application
from tests.permission_matrix.routes import Route, all_routes
from tests.permission_matrix.table import (
    ADMIN_SAMPLE,
    E405,
    NEVER_SHOWN,
    TABLE,
    WS_OK,
    Outcome,
    route_name,
    wildcard_covers,
)
from tests.permission_matrix.world import (
    PEOPLE,
    World,
    changed_models,
    post_data,
    query_string,
    url_kwargs,
    world_state,
)

ORIGIN = b"http://localhost"  # "localhost" is in the default ALLOWED_HOSTS
METHODS = {"GET", "POST"}


@cache
def routes_by_key() -> dict[str, Route]:
    return {route.key: route for route in all_routes()}


def http_cells():
    """One pytest param per (route, person); a cell marked bug(...) is an xfail(strict)."""
    for key, row in TABLE.items():
        if row.methods == "WS":
            continue
        for person, outcome in zip(PEOPLE, row.cells, strict=False):  # shape: a test below
            marks = [pytest.mark.xfail(strict=True, reason=outcome.bug)] if outcome.bug else []
            yield pytest.param(key, person, outcome, id=f"{key}|{person}", marks=marks)


# --- The table covers every route, and only real routes ---------------------------------


def test_every_route_has_a_row():
    keys = {route_name(key) for key in TABLE}
    missing = [
        f"{route.key}  ({route.pattern})"
        for route in routes_by_key().values()
        if route.key not in keys and not any(wildcard_covers(key, route.key) for key in TABLE)
    ]
    assert not missing, "routes without a row in tests/permission_matrix/table.py:\n" + "\n".join(
        missing
    )


def test_every_row_names_a_route():
    routes = routes_by_key()
    stale = [
        key
        for key in TABLE
        if route_name(key) not in routes and not any(wildcard_covers(key, r) for r in routes)
    ]
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_person_has_a_never_shown_list():
    assert set(NEVER_SHOWN) == set(PEOPLE)


def test_every_row_has_one_outcome_per_person_and_known_methods():
    for key, row in TABLE.items():
        assert len(row.cells) == len(PEOPLE), f"{key}: {len(row.cells)} cells for {PEOPLE}"
        methods = set(row.methods.split())
        assert methods <= METHODS or row.methods == "WS", f"{key}: methods {row.methods!r}"
        assert (row.methods == "WS") == key.startswith("ws:"), key


def test_the_admin_sample_is_real_admin_routes():
    routes = routes_by_key()
    for name in ADMIN_SAMPLE:
        assert name in routes and wildcard_covers("admin:*", name), name


# --- HTTP -----------------------------------------------------------------------------


def client_for(world: World, person: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if person in world.cookies:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.cookies[person]
    return client


def paths(world: World, key: str) -> list[tuple[str, dict]]:
    """The URLs a row is tried on: one, or the sample of a wildcard row."""
    names = ADMIN_SAMPLE if key == "admin:*" else (route_name(key),)
    found = []
    for name in names:
        kwargs = url_kwargs(world, key, routes_by_key()[name].kwargs)
        path = reverse(name, kwargs=kwargs)
        query = query_string(world, key, TABLE[key].query)
        found.append((f"{path}?{query}" if query else path, kwargs))
    return found


def is_login_redirect(response, login_url: str, requested: str) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    return location.path == login_url and parse_qs(location.query).get("next") == [requested]


def problem_with(
    response, method: str, path: str, kwargs: dict, expected: Outcome, secret: str = ""
) -> str:
    """What is wrong with `response` for `expected` ("" when nothing). `secret` is the
    student's name, for SHOWN and HIDDEN."""
    status = response.status_code
    location = response.get("Location", "")
    login = reverse(settings.LOGIN_URL)
    if expected.kind == "ok" and method == "POST":
        redirect_ok = status in (302, 303) and not is_login_redirect(response, login, path)
        good = status in (200, 400, 409) or redirect_ok
    elif expected.kind in ("ok", "nochange") and method == "GET":
        good = status == 200
    elif expected.kind == "nochange":
        good = status in (200, 400)
    elif expected.kind in ("shown", "hidden"):
        shown = secret in response.content.decode()
        good = status == 200 and shown == (expected.kind == "shown")
        if status == 200 and not good:
            return f"expected {expected}: the student's name is {'' if shown else 'not '}there"
    elif expected.kind == "status":
        good = status == expected.status
    elif expected.kind == "login":
        good = is_login_redirect(response, login, path)
    elif expected.kind == "oplogin":
        good = is_login_redirect(response, reverse("admin:login"), path)
    elif expected.kind == "redirect":
        target = urlsplit(location).path
        if expected.target.startswith("/"):
            good = status == 302 and target.endswith(expected.target)
        else:
            wanted = reverse(expected.target, kwargs={name: kwargs[name] for name in expected.copy})
            good = status == 302 and target == wanted
    else:
        raise AssertionError(f"unknown outcome {expected!r}")
    return "" if good else f"expected {expected}, got {status} {location}".rstrip()


TEXT_TYPES = ("text/", "application/json")


def leaks(response, world: World, person: str) -> list[str]:
    """The secrets of table.NEVER_SHOWN[person] that `response` holds."""
    if response.streaming or not response.get("Content-Type", "").startswith(TEXT_TYPES):
        return []
    body = response.content.decode(errors="replace")
    return [label for label in NEVER_SHOWN[person] if world.secrets[label] in body]


@pytest.mark.django_db
class TestHttp:
    @pytest.mark.parametrize(("key", "person", "expected"), list(http_cells()))
    def test_cell(self, shared_world, key, person, expected):
        world, row = shared_world, TABLE[key]
        client = client_for(world, person)
        failures = []
        for path, kwargs in paths(world, key):
            tries = [(method, expected) for method in row.methods.split()]
            if row.methods == "POST":  # a POST-only route refuses GET
                tries.insert(0, ("GET", E405))
            for method, outcome in tries:
                if method == "POST":
                    response = client.post(path, post_data(world, key))
                else:
                    response = client.get(path)
                problem = problem_with(
                    response, method, path, kwargs, outcome, world.secrets["name"]
                )
                if problem and outcome is E405 and expected.refuses and not expected.refusal:
                    # …or with the POST's refusal (login_required before require_POST)
                    problem = problem_with(response, method, path, kwargs, expected) and problem
                if leaked := leaks(response, world, person):
                    problem = f"{problem}; shows {leaked}".lstrip("; ")
                # Each cell starts from the world as built: the last one was rolled back.
                refused_post = method == "POST" and outcome.refuses
                if refused_post and (changed := changed_models(world.baseline, world_state())):
                    problem = f"{problem}; refused, yet changed {changed}".lstrip("; ")
                if problem:
                    failures.append(f"{person} {method} {path}: {problem}")
        assert not failures, "\n".join(failures)


# --- Websockets -----------------------------------------------------------------------


async def try_websocket(world: World, person: str, path: str) -> tuple[bool, int]:
    headers = [(b"host", b"localhost"), (b"origin", ORIGIN)]
    if person in world.cookies:
        cookie = f"{settings.SESSION_COOKIE_NAME}={world.cookies[person]}"
        headers.append((b"cookie", cookie.encode()))
    # channels_redis stalls a refused consumer's first receive on a fresh layer: use the
    # layer once first (see tests/sessions_app/room_helpers.refused).
    await get_channel_layer().group_discard("warm-up", "warm-up.channel")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    if connected:  # let the consumer finish greeting before leaving
        await communicator.receive_from(timeout=5)
    await communicator.disconnect()
    return connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [key for key, row in TABLE.items() if row.methods == "WS"])
async def test_websocket_route(committed_world, key):
    """One test per socket route, every person in turn: a committed world (the consumer
    reads it from other threads) is built and flushed once per route, not per person.
    A cell marked bug(...) must still fail (strict), and then the test is an xfail."""
    route = routes_by_key()[key]
    kwargs = url_kwargs(committed_world, key, route.kwargs)
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.pattern)
    failures, known_bugs, fixed_bugs = [], [], []
    for person, expected in zip(PEOPLE, TABLE[key].cells, strict=True):
        connected, code = await try_websocket(committed_world, person, path)
        refused_as_expected = (connected, code) == (False, expected.status)
        good = connected if expected.status == WS_OK.status else refused_as_expected
        problem = "" if good else f"{person} {path}: expected {expected}, got {connected=} {code=}"
        if expected.bug:
            (known_bugs if problem else fixed_bugs).append(f"{person}: {expected.bug}")
        elif problem:
            failures.append(problem)
    assert not failures, "\n".join(failures)
    assert not fixed_bugs, f"[XPASS(strict)] cells marked bug(...) now pass: {fixed_bugs}"
    if known_bugs:
        pytest.xfail("; ".join(known_bugs))
