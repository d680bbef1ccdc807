"""Production configuration: deploy checks pass, and the development key is refused."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from counseling_platform.settings import email_settings

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7#kq2!production-like-secret-key-for-the-deploy-check-9f3a1c5e7b",
    "DJANGO_ALLOWED_HOSTS": "bk.sekolah.sch.id",
    "NOTES_ENCRYPTION_KEYS": "a-school-specific-notes-salt-0b7e2f",
    "REDIS_URL": "redis://redis.internal:6379/0",  # only named: no check connects
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "NOTES_", "RUANGBK_TURN", "RUANGBK_STUN", "REDIS_", "CHANNEL_LAYER_")
        )
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    # Clean, not quiet: no check is silenced (SILENCED_SYSTEM_CHECKS) to get there.
    assert "no issues (0 silenced)" in result.stdout


def test_deploy_check_warns_without_redis():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "REDIS_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "ruangbk.W001" in result.stderr  # the in-memory channel layer
    assert "ruangbk.W002" in result.stderr  # the per-process cache


def test_deploy_check_warns_about_a_per_process_cache_beside_redis_channels():
    env = {**PRODUCTION_ENV, "REDIS_CACHE_URL": ""}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "ruangbk.W002" in result.stderr
    assert "ruangbk.W001" not in result.stderr


def test_the_development_check_of_make_test_passes_without_redis():
    # `make test` runs this without --deploy: the warnings are for production only.
    result = manage("check", "--fail-level", "WARNING", env={})
    assert result.returncode == 0, result.stdout + result.stderr


def test_refuses_to_start_with_the_development_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION_ENV["DJANGO_SECRET_KEY"] + "\n")
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY_FILE": str(secret_file)}
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_seed_demo_refuses_to_run_in_production():
    result = manage("seed_demo", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "DJANGO_DEBUG=1" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://bk%40sekolah.id:p%40ss@mail.sekolah.id:587?tls=1",
            {
                "EMAIL_HOST": "mail.sekolah.id",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "bk@sekolah.id",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://mail.sekolah.id", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
    ],
)
def test_email_url_is_translated_to_settings(url, expected):
    result = email_settings(url)
    assert {key: result[key] for key in expected} == expected


def test_refuses_to_start_in_production_without_a_notes_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "NOTES_ENCRYPTION_KEYS"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "NOTES_ENCRYPTION_KEYS must be set" in result.stderr


def test_refuses_a_turn_server_without_its_secret():
    env = {**PRODUCTION_ENV, "RUANGBK_TURN_URLS": "turn:turn.sekolah.sch.id:3478"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "RUANGBK_TURN_SECRET must be set" in result.stderr
