"""Hostile input at the sign-in, password and school-admin forms: never a server error;
a refused form writes nothing; an accepted one stores only rows that pass validation."""

import datetime

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import PendingCredential, StudentProfile, User
from tests.factories import TEST_PASSWORD
from tests.properties.checks import (
    fuzz_form,
    post,
    remember_cookies,
    rolled_back,
    signed_in,
)
from tests.properties.conftest import object_ids

pytestmark = pytest.mark.django_db


# --- signing in and passwords -----------------------------------------------------------


def test_sign_in_form(world):
    fuzz_form(
        signed_in(None),
        reverse("accounts:login"),
        {"username": world.student.username, "password": TEST_PASSWORD},
    )


def test_password_change_form(world):
    fuzz_form(
        signed_in(world.student),
        reverse("accounts:password-change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "kopi-susu-pagi-2026",
            "new_password2": "kopi-susu-pagi-2026",
        },
    )


def test_password_reset_request_form(world):
    fuzz_form(signed_in(None), reverse("accounts:password-reset"), {"email": world.student.email})


def test_password_reset_confirm_form(world):
    """The link from the e-mail, then the new password; also links that are not ours."""
    client = signed_in(None)
    student = world.student
    uid = urlsafe_base64_encode(force_bytes(student.pk))
    link = reverse(
        "accounts:password-reset-confirm",
        kwargs={"uidb64": uid, "token": default_token_generator.make_token(student)},
    )
    set_password = reverse(
        "accounts:password-reset-confirm", kwargs={"uidb64": uid, "token": "set-password"}
    )
    valid = {"new_password1": "kopi-susu-pagi-2026", "new_password2": "kopi-susu-pagi-2026"}

    with rolled_back():
        assert client.get(link).status_code == 302  # the token moves into the session
        remember_cookies(client)
        fuzz_form(client, set_password, valid)
    client = signed_in(None)

    path_part = st.text(
        st.characters(blacklist_characters="/?#%", blacklist_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=60,
    )

    @given(uidb64=st.one_of(st.just(uid), path_part), token=path_part)
    def foreign_links(uidb64, token):
        url = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uidb64, "token": token})
        with rolled_back():
            assert client.get(url).status_code < 500
            post(client, url, valid)

    foreign_links()


def test_sign_out(world):
    fuzz_form(signed_in(world.student), reverse("accounts:logout"), {})


def test_language_switch(world):
    fuzz_form(
        signed_in(world.student),
        reverse("set_language"),
        {"language": "en", "next": reverse("accounts:student-home")},
    )


# --- the school admin's account pages ------------------------------------------------------


def student_profile_fields(world, nisn: str) -> dict:
    return {
        "profile-nisn": nisn,
        "profile-school_class": str(world.school_class.pk),
        "profile-gender": "P",
        "profile-guardian_name": "Sri Wahyuni",
        "profile-guardian_phone": "081234567890",
        "profile-counselor": str(world.counselor.pk),
    }


def test_account_create_form(world):
    def check(data, response, written):
        if written:  # one account, with its profile when a student, and its password shown
            users = written.get("accounts.User", ((), ()))[1]
            assert len(users) == 1
            assert PendingCredential.objects.count() == 1

    fuzz_form(
        signed_in(world.admin),
        reverse("accounts:account-create"),
        {
            "role": "student",
            "full_name": "Dewi Lestari",
            "username": "0099887766",
            "email": "dewi@example.org",
            **student_profile_fields(world, "0099887766"),
        },
        ids=object_ids(world),
        check=check,
    )


def test_account_edit_form(world):
    foreign = User.objects.filter(pk=world.foreign_student.pk)
    foreign_before = list(foreign.values())

    def check(data, response, written):
        assert list(foreign.values()) == foreign_before  # another school's: never changed

    fuzz_form(
        signed_in(world.admin),
        [
            reverse("accounts:account-edit", args=[world.student.pk]),
            reverse("accounts:account-edit", args=[world.foreign_student.pk]),
            reverse("accounts:account-edit", args=[world.counselor.pk]),
        ],
        {
            "full_name": "Ayu Lestari",
            "email": "ayu@example.org",
            **student_profile_fields(world, world.student.student_profile.nisn),
        },
        ids=object_ids(world),
        check=check,
    )


def test_guardian_consent_form(world):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    def check(data, response, written):
        for profile in StudentProfile.objects.all():  # the database's own rule, kept
            assert not profile.has_guardian_consent or profile.guardian_consent_date

    fuzz_form(
        signed_in(world.admin),
        [
            reverse("accounts:account-consent", args=[world.student.pk]),
            reverse("accounts:account-consent", args=[world.foreign_student.pk]),
            reverse("accounts:account-consent", args=[world.counselor.pk]),
        ],
        {"has_guardian_consent": "on", "guardian_consent_date": yesterday.isoformat()},
        check=check,
    )


def test_account_activation_and_password_reset(world):
    admin = signed_in(world.admin)
    people = [world.student, world.counselor, world.admin, world.foreign_student]
    urls = [
        reverse(name, args=[person.pk])
        for person in people
        for name in ("accounts:account-set-active", "accounts:account-password-reset")
    ]

    def check(data, response, written):
        assert User.objects.get(pk=world.admin.pk).is_active  # never by their own hand
        foreign = User.objects.get(pk=world.foreign_student.pk)
        assert (foreign.password, foreign.is_active) == (world.foreign_student.password, True)

    fuzz_form(admin, urls, {"is_active": "0"}, ids=object_ids(world), check=check)


def test_class_assignment_form(world):
    fuzz_form(
        signed_in(world.admin),
        reverse("accounts:assign-class"),
        {"school_class": str(world.school_class.pk), "counselor": str(world.other_counselor.pk)},
        ids=object_ids(world),
    )


def test_class_forms(world):
    year = str(world.school.current_academic_year())
    fuzz_form(
        signed_in(world.admin),
        [
            reverse("accounts:class-list"),
            reverse("accounts:class-edit", args=[world.other_class.pk]),
            reverse("accounts:class-edit", args=[world.foreign_class.pk]),
        ],
        {"name": "XII RPL 2", "academic_year": year},
    )


def test_credentials_dismiss(world):
    fuzz_form(signed_in(world.admin), reverse("accounts:credentials-dismiss"), {})
