"""Sign-in protection: the lockout per username and address, rate limits on sign-in
and password reset, and a password policy that fits students. None of it may reveal
whether an account exists."""

import datetime
import re
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import SignIn, User
from accounts.password_validation import INDONESIAN_PASSWORDS, password_list_read
from counseling_platform import settings as project_settings
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
HOME = "10.0.0.5"
ELSEWHERE = "10.0.0.6"


def sign_in(client, username, password, address=HOME):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def page_text(response) -> str:
    """The page without its per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())


def fail(client, username, times, address=HOME):
    """Sign in with a wrong password `times` times; the last answer."""
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", address)
    return response


def test_five_wrong_passwords_lock_that_username_from_that_address(client, student):
    assert fail(client, student.username, 4).status_code == 200  # the form, with its error
    assert fail(client, student.username, 1).status_code == 429  # the fifth locks
    # Now even the right password is refused, with a clear message in Indonesian.
    locked = sign_in(client, student.username, TEST_PASSWORD)
    assert locked.status_code == 429
    assert 'id="locked-out"' in locked.content.decode()
    assert "Silakan tunggu 15 menit" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_operator_admin_login_alike(client):
    User.objects.create_superuser("operator", "op@example.org", "pw-operator-1")

    def operator_sign_in(password, address=HOME):
        return client.post(
            reverse("admin:login"),
            {"username": "operator", "password": password},
            REMOTE_ADDR=address,
        )

    for _ in range(4):
        assert operator_sign_in("wrong-password").status_code == 200  # the form again
    assert operator_sign_in("wrong-password").status_code == 429  # the fifth locks
    locked = operator_sign_in("pw-operator-1")
    assert locked.status_code == 429
    assert 'id="locked-out"' in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # As on the site, only that username from that address is paused.
    assert operator_sign_in("pw-operator-1", ELSEWHERE).status_code == 302


def test_the_lock_is_per_username_and_address_pair(client, student, other_student):
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT)
    # The same student from another device, and a classmate behind the same school
    # router, can still sign in.
    assert sign_in(client, student.username, TEST_PASSWORD, ELSEWHERE).status_code == 302
    client.logout()
    assert sign_in(client, other_student.username, TEST_PASSWORD).status_code == 302


def test_the_username_counts_whatever_its_case(client, student):
    fail(client, student.username.upper(), django_settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, student.username, TEST_PASSWORD).status_code == 429


def test_the_lock_looks_the_same_for_an_account_that_does_not_exist(client, student):
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT)
    fail(client, "tidak-ada-akun-ini", django_settings.AXES_FAILURE_LIMIT)
    real = sign_in(client, student.username, "x")
    unknown = sign_in(client, "tidak-ada-akun-ini", "x")
    assert real.status_code == unknown.status_code == 429
    assert page_text(real) == page_text(unknown)


def pbkdf2_rounds_of_a_wrong_password(client, username) -> int:
    """The PBKDF2 rounds one failed sign-in spends: counted, not timed. The digests are
    fake, so no password matches."""
    rounds = []

    def counting_pbkdf2(password, salt, iterations, *args, **kwargs):
        rounds.append(iterations)
        return b"not-a-real-digest"

    with mock.patch("django.contrib.auth.hashers.pbkdf2", counting_pbkdf2):
        assert sign_in(client, username, "wrong-password").status_code == 200
    return sum(rounds)


def test_a_wrong_password_costs_as_much_for_an_initial_password_as_for_no_account(
    client, settings, student
):
    # The suite hashes with MD5 for speed; here the production hashers count.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    account_services.initial_password_set(student)  # Django's fast initial-password hash
    student.save()
    with_initial_password = pbkdf2_rounds_of_a_wrong_password(client, student.username)
    no_such_account = pbkdf2_rounds_of_a_wrong_password(client, "0099999999")
    # An unknown username costs one hash at Django's default work factor; an account
    # that still has its initial password costs exactly as much.
    assert no_such_account >= PBKDF2PasswordHasher.iterations
    assert with_initial_password == no_such_account


def test_the_lock_ends_after_the_cool_off(client, student):
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, student.username, TEST_PASSWORD).status_code == 429
    long_ago = timezone.now() - django_settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=long_ago)
    assert sign_in(client, student.username, TEST_PASSWORD).status_code == 302


def test_a_new_password_from_the_admin_lifts_the_lock(client, student, school_admin):
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT)
    credential = account_services.account_password_reset(admin=school_admin, user=student)
    assert sign_in(client, student.username, credential.password).status_code == 302


def test_a_new_password_by_e_mail_lifts_the_lock_and_signs_out_everywhere(
    client, settings, student
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    elsewhere = Client()
    assert sign_in(elsewhere, student.username, TEST_PASSWORD, ELSEWHERE).status_code == 302
    locked = fail(client, student.username, django_settings.AXES_FAILURE_LIMIT)
    assert locked.status_code == 429
    # The lock page's "Forgot your password?" leads to the reset by e-mail.
    assert f'href="{reverse("accounts:password-reset")}"' in locked.content.decode()
    reset(client, student.email)
    [message] = mail.outbox
    link = re.search(r"https?://[^/]+(/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True, REMOTE_ADDR=HOME)
    new_password = "sepeda-baru-dari-paman"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
        REMOTE_ADDR=HOME,
    )
    assert done.url == reverse("accounts:password-reset-complete")
    assert not SignIn.objects.filter(user=student).exists()
    assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("accounts:login"))
    assert sign_in(client, student.username, new_password).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, student):
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, student.username, TEST_PASSWORD).status_code == 302
    client.logout()
    fail(client, student.username, django_settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, student.username, TEST_PASSWORD).status_code == 302


def test_sign_in_attempts_from_one_address_are_rate_limited(client, settings, student):
    settings.SIGN_IN_RATE_PER_ADDRESS = "3/m"
    for number in range(3):
        assert sign_in(client, f"orang{number}", "x").status_code == 200
    limited = sign_in(client, student.username, TEST_PASSWORD)
    assert limited.status_code == 429
    assert "Terlalu banyak percobaan" in limited.content.decode()
    assert sign_in(client, student.username, TEST_PASSWORD, ELSEWHERE).status_code == 302


def test_a_page_view_of_the_sign_in_form_is_not_counted(client, settings):
    settings.SIGN_IN_RATE_PER_ADDRESS = "1/m"
    for _ in range(3):
        assert client.get(reverse("accounts:login"), REMOTE_ADDR=HOME).status_code == 200


def reset(client, email, address=HOME):
    return client.post(reverse("accounts:password-reset"), {"email": email}, REMOTE_ADDR=address)


def test_password_reset_is_rate_limited_per_address_alike_for_known_and_unknown(
    client, settings, student
):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "2/h"
    assert reset(client, student.email).status_code == 302
    assert reset(client, "siapa@tidak.ada").status_code == 302
    known = reset(client, student.email)
    unknown = reset(client, "siapa@tidak.ada")
    assert known.status_code == unknown.status_code == 429
    assert page_text(known) == page_text(unknown)


def test_password_reset_is_rate_limited_per_address_of_mail(client, settings, student):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "1/h"
    assert reset(client, student.email, "10.0.2.1").status_code == 302
    assert reset(client, student.email.upper(), "10.0.2.2").status_code == 429


@pytest.mark.parametrize(
    "password", ["password123", "12345678", "qwertyuiop", "pendek", "siswa-xyz"]
)
def test_the_password_policy_refuses_short_common_or_personal_passwords(student, password):
    student.username = "siswa-xyz"
    with pytest.raises(ValidationError):
        validate_password(password, user=student)


@pytest.mark.parametrize(
    "password", ["kucing oren lucu", "semuahurufkecil", "naik sepeda ke sekolah", "mangga-7"]
)
def test_the_password_policy_has_no_composition_rules(student, password):
    # A fixed name: a random one such as "Rangga" is rightly too like "mangga-7".
    student.first_name = "Siti Rahmawati"
    validate_password(password, user=student)  # no digit, capital or symbol required


@pytest.mark.parametrize(
    "password",
    [
        "katasandi",
        "12345678",
        "sayang123",
        "bismillah123",
        "Bismillah!!",
        "indonesia123",
        "sekolah123",
        "siswa123",
        "rahasia123",
        "Persib1933!",
        "17agustus1945",
        "123sayang",
        "2024sayangku",
        "aku sayang kamu",
    ],
)
def test_the_password_policy_refuses_common_indonesian_passwords_also_with_digits_added(
    student, password
):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=student)
    codes = [error.code for error in refused.value.error_list]
    assert codes.count("password_too_common") == 1  # said once, not by two validators


@pytest.mark.parametrize(
    "password",
    ["naik sepeda ke sekolah", "sekolah di atas bukit", "bismillah lulus ujian 2026"],
)
def test_a_sentence_with_common_words_in_it_is_still_a_good_password(student, password):
    student.first_name = "Siti Rahmawati"  # not like any of the sentences
    validate_password(password, user=student)


def test_the_indonesian_password_list_is_lowercase_as_the_check_compares():
    words = password_list_read(INDONESIAN_PASSWORDS)
    assert "katasandi" in words
    assert all(word == word.lower().strip() for word in words)


@pytest.mark.requires_redis
def test_the_counters_live_in_the_shared_redis_cache():
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("ruangbk-test", 1)
    assert cache.get("ruangbk-test") == 1
