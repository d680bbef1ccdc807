"""RuangBK settings: one module, configured by environment variables.

Defaults are for a developer's first run (SQLite, in-memory channel layer, console
e-mail). Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
DATABASE_URL and REDIS_URL; see README.md, "Configuration".
"""

import datetime
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Read a variable, or the contents of the file named by <NAME>_FILE (secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (0/1), not {value!r}")


def envint(name: str, default: int) -> int:
    value = env(name, str(default))
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from error


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Translate EMAIL_URL (smtp://user:pass@host:587?tls=1, or console://) to settings."""
    parts = urlsplit(url)
    if parts.scheme in {"", "console"}:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not supported")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "0") in {"1", "true", "yes"},
    }


# Development-only key: the app refuses to start with it when DEBUG is off.
DEVELOPMENT_SECRET_KEY = "ruangbk-development-only-secret-key-never-use-in-production-0123456789"
DEBUG = envbool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0 (the development key is public)."
    )
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "counseling_platform.operator_admin.OperatorAdminConfig",  # django.contrib.admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap's CSS/JS served by us, no CDN
    "auditlog",
    "axes",
    "csp",
    "accounts",
    "sessions_app",
    "instruments",
    "analytics",
    "notifications",
    "audit",
    "privacy",
]

MIDDLEWARE = [
    "counseling_platform.addresses.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "counseling_platform.headers.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SchoolLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SignInLifetimeMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.SchoolTimezoneMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    # Turns a rate-limited request into the "too many attempts" page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "counseling_platform.urls"
ASGI_APPLICATION = "counseling_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.bell",
                "sessions_app.context_processors.emergency_contacts",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL via DATABASE_URL -------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
# PostgreSQL: each server process keeps a pool of connections (psycopg 3). Under ASGI a
# request or a socket's database call may run in any thread; without a pool every call
# would open a new connection (CONN_MAX_AGE 0) or leave one open per finished thread
# (CONN_MAX_AGE > 0). Keep processes × DATABASE_POOL_SIZE (+ cron jobs) under the
# server's max_connections. DATABASE_POOL_SIZE=0 turns the pool off (e.g. behind
# PgBouncer; then DATABASE_CONN_MAX_AGE applies).
DATABASE_POOL_SIZE = envint("DATABASE_POOL_SIZE", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_SIZE),
        "max_size": DATABASE_POOL_SIZE,
        "timeout": envint("DATABASE_POOL_TIMEOUT", 20),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and a busy timeout keep concurrent writers (the ASGI
    # server and a test process) from failing with "database is locked". The test
    # database is a file so a live server in another process can see it.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer: in-memory by default, Redis via REDIS_URL ---------------------------
REDIS_URL = env("REDIS_URL")
# pubsub: each process reads its messages from one subscribed connection (bench/README.md:
# the core layer's per-process queue could not carry 100 messages/s on 2 cores and then
# dropped messages at its capacity). "core" remains available.
CHANNEL_LAYER_BACKEND = env("CHANNEL_LAYER_BACKEND", "pubsub")
if CHANNEL_LAYER_BACKEND not in {"pubsub", "core"}:
    raise ImproperlyConfigured("CHANNEL_LAYER_BACKEND must be 'pubsub' or 'core'.")
if REDIS_URL:
    channel_layer_config = {
        # redis-py's async pool defaults to 100 connections, which fails with
        # "Too many connections" once ~100 sockets join groups at once.
        "hosts": [
            {
                "address": REDIS_URL,
                "max_connections": envint("REDIS_MAX_CONNECTIONS", 2000),
                # Above channels-redis's 5 s blocking poll: redis-py's default of 5 s
                # failed the poll of every quiet server process.
                "socket_timeout": envint("REDIS_SOCKET_TIMEOUT", 15),
            }
        ],
        "prefix": env("CHANNEL_LAYER_PREFIX", "ruangbk"),
        # Chat and signaling frames cross Redis encrypted (Fernet). Several keys: the
        # first encrypts, all decrypt (rotation).
        "symmetric_encryption_keys": envlist("CHANNEL_LAYER_ENCRYPTION_KEYS") or [SECRET_KEY],
    }
    if CHANNEL_LAYER_BACKEND == "core":
        channel_layer_config |= {
            "capacity": envint("CHANNEL_LAYER_CAPACITY", 1000),
            "expiry": 60,
        }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"
            if CHANNEL_LAYER_BACKEND == "pubsub"
            else "channels_redis.core.RedisChannelLayer",
            "CONFIG": channel_layer_config,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- The session room: notes encryption, WebRTC ICE servers -------------------------------
# Confidential notes are encrypted with keys derived from SECRET_KEY (and its fallbacks)
# and these salts (django-fernet-encrypted-fields): the first encrypts, all decrypt.
DEVELOPMENT_NOTES_KEY = "ruangbk-development-notes-key"
SALT_KEY = envlist("NOTES_ENCRYPTION_KEYS") or [DEVELOPMENT_NOTES_KEY]
if not DEBUG and DEVELOPMENT_NOTES_KEY in SALT_KEY:
    raise ImproperlyConfigured("NOTES_ENCRYPTION_KEYS must be set when DJANGO_DEBUG=0.")
SECRET_KEY_FALLBACKS = envlist("DJANGO_SECRET_KEY_FALLBACKS")
# STUN/TURN for video calls. TURN credentials are issued per session with coturn's
# shared-secret scheme (use-auth-secret), valid until the session's room closes.
STUN_URLS = envlist("RUANGBK_STUN_URLS")
TURN_URLS = envlist("RUANGBK_TURN_URLS")
TURN_SECRET = env("RUANGBK_TURN_SECRET")
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("RUANGBK_TURN_SECRET must be set with RUANGBK_TURN_URLS.")
# Chat transcripts of a case closed this many months ago are removed by the cron command
# `purge_transcripts` (privacy app); the counselor's notes and session records stay.
CHAT_RETENTION_MONTHS = envint("RUANGBK_CHAT_RETENTION_MONTHS", 24)
if not 1 <= CHAT_RETENTION_MONTHS <= 1200:
    raise ImproperlyConfigured("RUANGBK_CHAT_RETENTION_MONTHS must be between 1 and 1200.")
# At most this many chat messages per user in 30 seconds (a person types far fewer; the
# limit stops a runaway script). bench/chat_load.py lifts it to measure the system.
CHAT_MESSAGES_PER_30S = envint("RUANGBK_CHAT_MESSAGES_PER_30S", 20)
if CHAT_MESSAGES_PER_30S < 1:
    raise ImproperlyConfigured("RUANGBK_CHAT_MESSAGES_PER_30S must be at least 1.")

# --- Cache: per process by default, shared on Redis in production ------------------------
# The rate limits count in the cache, so every server process must share it.
REDIS_CACHE_URL = env("REDIS_CACHE_URL", REDIS_URL)
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "ruangbk-cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts and passwords --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # Random, must-change initial passwords only; see accounts/hashers.py.
    "accounts.hashers.InitialPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    # Django's list of common passwords and accounts/data/common-passwords-id.txt, also
    # with digits or symbols added ("sayang123"); replaces Django's own validator.
    {"NAME": "accounts.password_validation.IndonesianCommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in protection. django-axes locks a username *and* address pair after repeated
# failures (a whole school shares one address behind its router, so the address alone
# must not lock everyone out); the lock looks the same whether the account exists or not.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("RUANGBK_SIGN_IN_FAILURES", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("RUANGBK_SIGN_IN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.sign_in.locked_out"
AXES_USERNAME_CALLABLE = "accounts.sign_ins.attempted_username"
# daphne --proxy-headers puts the address from X-Forwarded-For in REMOTE_ADDR: the TLS
# proxy must overwrite that header (README, "Production"); ClientAddressMiddleware turns
# anything that is not an IP address into 0.0.0.0.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False
# Successful sign-ins are listed by accounts.SignIn (and forgotten when they end), not
# kept forever in django-axes' access log.
AXES_DISABLE_ACCESS_LOG = True
# Rate limits (django-ratelimit) on sign-in and password reset, counted in the shared
# cache. The address limit is generous for the same reason as above.
SIGN_IN_RATE_PER_ADDRESS = env("RUANGBK_SIGN_IN_RATE_PER_ADDRESS", "120/m")
PASSWORD_RESET_RATE_PER_ADDRESS = env("RUANGBK_PASSWORD_RESET_RATE_PER_ADDRESS", "20/h")
PASSWORD_RESET_RATE_PER_EMAIL = env("RUANGBK_PASSWORD_RESET_RATE_PER_EMAIL", "3/h")
RATELIMIT_VIEW = "counseling_platform.views.rate_limited"

# Web sessions: an idle timeout and an absolute lifetime, shorter for staff (who can
# read every client's records) than for students.
SIGN_IN_IDLE_MINUTES = {
    "student": envint("RUANGBK_STUDENT_IDLE_MINUTES", 60),
    "staff": envint("RUANGBK_STAFF_IDLE_MINUTES", 30),
}
SIGN_IN_LIFETIME_HOURS = {
    "student": envint("RUANGBK_STUDENT_SESSION_HOURS", 12),
    "staff": envint("RUANGBK_STAFF_SESSION_HOURS", 9),
}
SESSION_COOKIE_AGE = max(SIGN_IN_LIFETIME_HOURS.values()) * 3600
# In the database: the list of sign-ins (accounts.SignIn) ends sessions by key.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The audit trail (django-auditlog): which models and fields are in audit/registration.py.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_MASK_CALLABLE = "audit.registration.mask_value"
# A change of counselor or class reads as names, not row numbers.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

# --- E-mail ------------------------------------------------------------------------------
globals().update(email_settings(env("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "RuangBK <noreply@ruangbk.local>")
# The address people open RuangBK at, for links in e-mails and calendar files.
SITE_URL = env("RUANGBK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Questionnaires ---------------------------------------------------------------------
# Extra directories of instrument definition files (a school's own instruments, or its
# validated adaptation of a shipped one: same code, its own version), comma-separated.
INSTRUMENT_DIRS = envlist("RUANGBK_INSTRUMENT_DIRS")

# --- Language and time: Indonesian first, UTC stored, the school's zone shown -------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage and fallback; each request shows the user's school zone

# --- Static files: all served by the app (whitenoise), nothing from a CDN ---------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security: production hardening whenever DEBUG is off --------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; failures and lockouts are warnings.
    "loggers": {"axes": {"level": env("AXES_LOG_LEVEL", "WARNING")}},
}

# --- Content Security Policy and Permissions-Policy ---
# Every script and style comes from our own static files: no inline <script>, style=""
# attribute, <style> block or on*= handler anywhere (tests/test_headers.py scans the
# templates). 'self' in connect-src also covers the room's websocket (ws/wss to the
# same host, CSP level 3). Video plays MediaStreams through srcObject, which is no
# fetch, so media-src needs nothing more. Bootstrap's CSS draws its icons as data: SVG.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy: counseling_platform.headers.PermissionsPolicyMiddleware turns off
# browser features (camera, microphone, location, payment, USB, …) on every page; the
# session room turns camera and microphone on for itself.
