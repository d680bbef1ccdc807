"""Hostile input at the questionnaire, scheduling and voiding forms, the trend sharing
switch and the bell: never a server error; a refused form writes nothing; an accepted one
stores only rows that pass validation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from instruments.models import Response
from tests.properties.checks import fuzz_form, signed_in
from tests.properties.conftest import object_ids

pytestmark = pytest.mark.django_db


def test_questionnaire_answer_form(world):
    def check(data, response, written):
        # One live response per questionnaire, whatever was sent.
        for administration in (world.open_amas, world.open_evaluation):
            live = Response.objects.filter(administration=administration, voided_at__isnull=True)
            assert live.count() <= 1

    fuzz_form(
        signed_in(world.student),
        [
            reverse("instruments:answer", args=[world.open_amas.pk]),
            reverse("instruments:answer", args=[world.open_evaluation.pk]),
            reverse("instruments:answer", args=[world.answered.administration.pk]),
            reverse("instruments:answer", args=[world.other_administration.pk]),
        ],
        {
            **{f"item_{number}": str(1 + number % 5) for number in range(1, 10)},
            **{f"item_{number}": "" for number in range(10, 13)},
        },
        ids=object_ids(world),
        check=check,
    )


def test_questionnaire_skip(world):
    fuzz_form(
        signed_in(world.student),
        [
            reverse("instruments:skip", args=[world.open_evaluation.pk]),
            reverse("instruments:skip", args=[world.open_amas.pk]),
            reverse("instruments:skip", args=[world.other_administration.pk]),
        ],
        {},
    )


def schedule(days_ahead: int = 7) -> dict:
    return {
        "instrument": "amas",
        "phase": "baseline",
        "first_date": (timezone.localdate() + datetime.timedelta(days=days_ahead)).isoformat(),
        "count": "3",
        "interval_days": "7",
        "open_days": "3",
    }


def test_schedule_form(world):
    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("instruments:administration-schedule", args=[world.student.pk]),
            reverse("instruments:administration-schedule", args=[world.other_student.pk]),
            reverse("instruments:administration-schedule", args=[world.foreign_student.pk]),
        ],
        schedule(),
    )


def test_schedule_at_the_end_of_the_calendar(world):
    response = signed_in(world.counselor).post(
        reverse("instruments:administration-schedule", args=[world.student.pk]),
        schedule() | {"first_date": "9999-12-31", "count": "1"},
    )
    assert response.status_code == 400


def test_void_and_cancel(world):
    def check(data, response, written):
        assert not Response.objects.get(pk=world.other_response.pk).voided_at

    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("instruments:response-void", args=[world.answered.pk]),
            reverse("instruments:response-void", args=[world.other_response.pk]),
            reverse("instruments:administration-cancel", args=[world.open_amas.pk]),
            reverse("instruments:administration-cancel", args=[world.other_administration.pk]),
        ],
        {"reason": "Dijawab oleh orang lain."},
        check=check,
    )


def test_trend_sharing_switch(world):
    fuzz_form(
        signed_in(world.counselor),
        [
            reverse("analytics:trend-share", args=[world.student.pk]),
            reverse("analytics:trend-share", args=[world.other_student.pk]),
            reverse("analytics:trend-share", args=[world.foreign_student.pk]),
        ],
        {"visible": "1"},
    )


def test_notification_bell(world):
    def check(data, response, written):
        assert (
            world.foreign_notification.__class__.objects.get(
                pk=world.foreign_notification.pk
            ).read_at
            is None
        )

    fuzz_form(
        signed_in(world.student),
        [
            reverse("notifications:notification-open", args=[world.notification.pk]),
            reverse("notifications:notification-open", args=[world.foreign_notification.pk]),
            reverse("notifications:notification-read-all"),
        ],
        {},
        ids=object_ids(world),
        check=check,
    )
