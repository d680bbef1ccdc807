"""What every hostile request must leave behind: no server error, and when the answer
says the input was refused, not one row written."""

import zlib
from contextlib import contextmanager
from http.cookies import SimpleCookie

from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from tests.properties.hostile import edge_forms, hostile_form, raw_form_body

# The tables a form can write. Not compared: the web sessions and sign-ins (every request
# touches them), the audit trail (reads are logged on refusals too) and django-axes
# (a failed sign-in is recorded by design).
WATCHED_APPS = ("accounts", "sessions_app", "instruments", "notifications", "analytics", "privacy")
NOT_WATCHED = {"accounts.signin"}
VOLATILE_FIELDS = {"accounts.user": {"last_login"}}


def watched_models() -> list:
    labels = {config.label for config in apps.get_app_configs()}
    return [
        model
        for label in WATCHED_APPS
        if label in labels
        for model in apps.get_app_config(label).get_models()
        if model._meta.label_lower not in NOT_WATCHED
    ]


def compared_fields(model) -> list:
    volatile = VOLATILE_FIELDS.get(model._meta.label_lower, set())
    return [field for field in model._meta.concrete_fields if field.attname not in volatile]


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every watched table, by model."""
    rows = {}
    for model in watched_models():
        fields = [field.attname for field in compared_fields(model)]
        rows[model._meta.label] = [
            freeze(row) for row in model.objects.order_by("pk").values_list(*fields)
        ]
    return rows


def freeze(value):
    """A JSON field's dicts and lists as tuples, so rows can be compared as sets."""
    if isinstance(value, dict):
        return tuple(sorted((key, freeze(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def changes(before: dict, after: dict) -> dict[str, tuple[list, list]]:
    """(rows gone or changed, rows new or changed) of each table that differs."""
    diff = {}
    for label in before:
        old, new = set(before[label]), set(after[label])
        if old != new:
            diff[label] = (sorted(old - new, key=repr), sorted(new - old, key=repr))
    return diff


@contextmanager
def rolled_back():
    """Run one example in a savepoint that is rolled back, so the next starts alike."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def signed_in(user, *, language: str = "en") -> Client:
    """A client signed in as `user` (None: anonymous). Exceptions in views are raised
    (the default), so a 500 fails the example with its traceback."""
    client = Client()
    if user is not None:
        client.force_login(user)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    remember_cookies(client)
    return client


def remember_cookies(client: Client) -> None:
    """Start every later example with the cookies the client holds now."""
    client.fresh_cookies = SimpleCookie(client.cookies.output(header="", sep="\n"))


def reset_cookies(client: Client) -> None:
    """The cookies the client had when it signed in (no leftover messages)."""
    client.cookies = SimpleCookie(client.fresh_cookies.output(header="", sep="\n"))


def was_refused(response) -> bool:
    """Whether the answer says the input was not accepted: an error status, the form
    shown again, a JSON `ok: false`, or a redirect that carries an error message."""
    if response.status_code >= 400:
        return True
    if response.get("Content-Type", "").startswith("application/json"):
        return not response.json().get("ok", True)
    if response.status_code == 200:
        # A POST answered with a page: the form again, with its errors (a file is a
        # download the form asked for).
        return response.get("Content-Type", "").startswith("text/html")
    return any(message.level >= messages.ERROR for message in get_messages(response.wsgi_request))


def assert_stored_rows_valid(written: dict) -> None:
    """Every row an accepted form wrote passes its model's own validation, in the fields
    it wrote: nothing half-checked reached the database."""
    for label, (gone, new) in written.items():
        model = apps.get_model(label)
        fields = compared_fields(model)
        pk_index = fields.index(model._meta.pk)
        old_rows = {row[pk_index]: row for row in gone}
        for row in new:
            old = old_rows.get(row[pk_index])
            unchanged = (
                [
                    field.name
                    for field, before, after in zip(fields, old, row, strict=True)
                    if before == after
                ]
                if old
                else []
            )
            stored = model.objects.get(pk=row[pk_index])
            # A column the code leaves NULL on purpose (a row made by the system has no
            # `created_by`) is not a form's input.
            unset = [f.name for f in fields if f.null and getattr(stored, f.attname) is None]
            stored.full_clean(exclude=unchanged + unset)


def post(client: Client, url: str, data=None, *, before: dict | None = None, **kwargs):
    """POST and check the rules; returns (response, changes written). `before` is the
    snapshot to compare with, when the caller knows it (every example starts alike)."""
    reset_cookies(client)
    before = snapshot() if before is None else before
    response = client.post(url, data if data is not None else {}, **kwargs)
    assert response.status_code < 500, response.status_code
    written = changes(before, snapshot())
    if was_refused(response):
        assert not written, f"refused with {response.status_code} but wrote {written}"
    else:
        assert_stored_rows_valid(written)
    return response, written


def fuzz_form(
    client: Client,
    urls,
    valid: dict,
    *,
    ids=(),
    check=None,
    examples: int | None = None,
    fixed: dict | None = None,
    **request,
) -> None:
    """Post `valid` spoilt by `hostile_form` to one of `urls` (a URL or a list of them),
    as a form or as an urlencoded body with bytes that are not UTF-8, once per example,
    after the valid form itself and each field at the extremes of its kind (to the
    first URL). `check(data, response, written)` adds what this form must guarantee;
    `examples` overrides the profile's number; `fixed` fields are sent unspoilt with
    every form; `request` holds extra arguments of the request (headers)."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    fixed = fixed or {}
    before = snapshot()  # the same for every example: each one is rolled back
    with rolled_back():  # the unspoilt form is accepted: the examples start from valid
        response, _written = post(client, urls[0], {**valid, **fixed}, **request)
        assert not was_refused(response), f"the valid form was refused: {response.status_code}"
    for form in edge_forms(valid):
        with rolled_back():
            form |= fixed
            response, written = post(client, urls[0], form, before=before, **request)
            if check is not None:
                check(form, response, written)

    @settings(max_examples=examples or settings.default.max_examples)
    @given(data=st.data())
    def example(data):
        url = data.draw(st.sampled_from(urls), label="url")
        form = data.draw(hostile_form(valid, ids=ids), label="form") | fixed
        with rolled_back():
            if data.draw(st.integers(0, 4), label="encoding") == 0:
                body = data.draw(raw_form_body(form), label="raw body")
                response, written = post(
                    client,
                    url,
                    body,
                    before=before,
                    content_type="application/x-www-form-urlencoded",
                    **request,
                )
            else:
                response, written = post(client, url, form, before=before, **request)
            if check is not None:
                check(form, response, written)

    if settings.default.derandomize:
        # Derandomized, Hypothesis seeds a test by its code, the same for every form:
        # seed by the form instead, so each one gets examples of its own (still repeatable).
        example = seed(zlib.crc32(repr((urls, sorted(valid))).encode()))(example)
    example()
