"""Hostile input at the data-protection forms (a student's own download, the school
admin's download and erasure on a written request) and at "my devices": never a server
error; a refused form writes nothing; an accepted one stores only rows that pass
validation."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignIn, StudentProfile
from tests.properties.checks import fuzz_form, signed_in
from tests.properties.conftest import object_ids

pytestmark = pytest.mark.django_db


def written_request(world) -> dict:
    yesterday = timezone.localdate(timezone=world.school.zone()) - datetime.timedelta(days=1)
    return {
        "requester": "guardian",
        "request_date": yesterday.isoformat(),
        "reference": "Surat 12/BK/2026",
    }


def test_my_data_download(world):
    fuzz_form(signed_in(world.student), reverse("privacy:my-data"), {})


def test_export_on_a_written_request(world):
    fuzz_form(
        signed_in(world.admin),
        [
            reverse("privacy:student-export", args=[world.student.pk]),
            reverse("privacy:student-export", args=[world.foreign_student.pk]),
            reverse("privacy:student-export", args=[world.counselor.pk]),
        ],
        written_request(world),
        ids=object_ids(world),
    )


def test_erasure_on_a_written_request(world):
    foreign = StudentProfile.objects.get(user=world.foreign_student)

    def check(data, response, written):
        assert StudentProfile.objects.get(pk=foreign.pk).nisn == foreign.nisn

    fuzz_form(
        signed_in(world.admin),
        [
            # (`student` has a session in progress: refused until it has ended.)
            reverse("privacy:student-erase", args=[world.other_student.pk]),
            reverse("privacy:student-erase", args=[world.student.pk]),
            reverse("privacy:student-erase", args=[world.foreign_student.pk]),
            reverse("privacy:student-erase", args=[world.admin.pk]),
        ],
        written_request(world) | {"confirmed": "on"},
        ids=object_ids(world),
        check=check,
    )


def test_signing_out_devices(world):
    client = signed_in(world.student)
    elsewhere = Client()
    elsewhere.force_login(world.student)
    someone_else = Client()
    someone_else.force_login(world.other_student)
    own_other = SignIn.objects.filter(user=world.student).exclude(
        session_key=client.session.session_key
    )
    current = SignIn.objects.get(session_key=client.session.session_key)
    foreign = SignIn.objects.get(user=world.other_student)

    def check(data, response, written):
        assert SignIn.objects.filter(pk=foreign.pk).exists()

    fuzz_form(
        client,
        [
            reverse("accounts:device-sign-out", args=[own_other.first().pk]),
            reverse("accounts:device-sign-out", args=[foreign.pk]),
            reverse("accounts:device-sign-out", args=[current.pk]),
            reverse("accounts:devices-sign-out-others"),
        ],
        {},
        check=check,
    )
