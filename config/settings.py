"""One settings module, driven by environment variables.

With nothing set but DEBUG=true the site runs in its embedded mode: SQLite, a Celery broker that
is a folder on disk (no server), and emails written as .eml files to a folder. Production (DEBUG
off) must set DATABASE_URL, CELERY_BROKER_URL and EMAIL_URL. See README.md for the settings.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from config import contact

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# After .env is read: set there, it must move the database, beat's schedule and the emails.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
            "for local development set DEBUG=true instead."
        )
    SECRET_KEY = "insecure-local-development-key-only-used-when-DEBUG-is-on"  # noqa: S105
if not DEBUG and SECRET_KEY.startswith("change-me"):
    raise ImproperlyConfigured(
        "SECRET_KEY is still the placeholder from .env.example. Set it to a long random string "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
# Rotating SECRET_KEY (after a leak, say): put the old one here for a while, so sessions and
# signed links made with it (staff sign-ins, confirmation pages) still work.
SECRET_KEY_FALLBACKS = [key.strip() for key in env.list("SECRET_KEY_FALLBACKS", default=[])]
# Keys the privacy log's hash of each email address or phone number (leads/privacy.py). Set it
# to its own random value (.env.example), so rotating SECRET_KEY leaves the log's entries
# comparable; unset, it follows SECRET_KEY.
PRIVACY_LOG_KEY = env.str("PRIVACY_LOG_KEY", default=SECRET_KEY)
if not DEBUG and (not PRIVACY_LOG_KEY.strip() or PRIVACY_LOG_KEY.startswith("change-me")):
    raise ImproperlyConfigured(
        "PRIVACY_LOG_KEY is empty or still the placeholder from .env.example: the privacy "
        "log's hashes of email addresses and phone numbers would be easy to reverse. Set it "
        "to a long random string, or leave it out to use SECRET_KEY."
    )
# The embedded mode's stand-ins (a SQLite file, a folder for a broker, emails left in a folder)
# must never be chosen in production by leaving a setting out: the site would look healthy
# while reports sat unsent in a folder, marked sent.
_UNSET_SERVICES = [
    name for name in ("DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL") if not env.str(name, "")
]
if not DEBUG and _UNSET_SERVICES:
    raise ImproperlyConfigured(
        f"{' and '.join(_UNSET_SERVICES)} not set. Outside DEBUG the site does not fall back to "
        "its embedded mode (SQLite, a folder as the broker, emails to a folder): set "
        "DATABASE_URL, CELERY_BROKER_URL and EMAIL_URL (README, Settings)."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty. Set ALLOWED_HOSTS to the site's host names, comma separated."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

INSTALLED_APPS = [
    "config.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_ratelimit",
    "factsheets",
    "leads",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.middleware.NoStoreForPrivateResponses",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Whole-page cache of the public pages (factsheets/cache.py) and the rate-limit counters:
# shared by every process, so Redis in production (CACHE_URL, else the Redis broker's server).
# Local memory only for the single-process embedded mode.
# rediss:// is Redis over TLS, as managed Redis services offer it.
REDIS_URL_PREFIXES = ("redis://", "rediss://")
_default_cache = "locmemcache://"
if not DEBUG and env.str("CELERY_BROKER_URL", default="").startswith(REDIS_URL_PREFIXES):
    # Production already runs Redis for the broker; share it (cache keys are prefixed).
    _default_cache = env.str("CELERY_BROKER_URL")
CACHES = {"default": env.cache_url("CACHE_URL", default=_default_cache)}
# django-ratelimit only knows django-redis by name; Django's own RedisCache does the atomic
# add/incr it needs.
SILENCED_SYSTEM_CHECKS: list[str] = ["django_ratelimit.W001"]
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Right for the embedded mode's single process; production uses Redis.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["BACKEND"] = "config.cache.ReusingRedisCache"  # one client, not one a call
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
# The worker's heartbeat (config.celery) must reach the web processes that report it
# (/healthz/services). The embedded mode's default cache is each process's own memory, so there
# the heartbeat goes to a folder; elsewhere it shares the default cache.
CACHES["health"] = (
    {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
    if CACHES["default"]["BACKEND"].endswith("LocMemCache")
    else dict(CACHES["default"])
)
# Each web process keeps the pages it renders; an edit tells them all to drop them, on a
# Redis pub/sub channel named after the database (factsheets/cache.py): processes that share
# the content share the channel. Without Redis (embedded mode) there is one process to tell.
_location = CACHES["default"].get("LOCATION", "")
PAGE_INVALIDATION_URL = env.str(
    "PAGE_INVALIDATION_URL",
    default=(_location[0] if isinstance(_location, list) else _location)
    if CACHES["default"]["BACKEND"].endswith("RedisCache")
    else "",
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = "GB"

# --- Email -------------------------------------------------------------------------------------
# Django 6.1 configures mail with MAILERS. EMAIL_URL (smtp://, smtp+tls://, smtps://,
# smtp+ssl://, consolemail://) is translated here; without it, each message becomes an .eml
# file in EMAIL_FILE_DIR so a person can open it in a mail client.
EMAIL_FILE_DIR = Path(env.str("EMAIL_FILE_DIR", default=str(VAR_DIR / "emails")))


def _mailer_from_url(url: str) -> dict:
    config = environ.Env.email_url_config(url)
    backend = config["EMAIL_BACKEND"]
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        return {"BACKEND": backend}
    if not config.get("EMAIL_HOST"):
        raise ImproperlyConfigured("EMAIL_URL has no host: set it like smtp://user:pass@host:587")
    options: dict = {"host": config["EMAIL_HOST"], "timeout": env.int("EMAIL_TIMEOUT", default=10)}
    if config.get("EMAIL_PORT"):
        options["port"] = config["EMAIL_PORT"]
    if config.get("EMAIL_HOST_USER"):
        options["username"] = config["EMAIL_HOST_USER"]
        options["password"] = config.get("EMAIL_HOST_PASSWORD") or ""
    # environ maps smtps:// to EMAIL_USE_TLS; smtps conventionally means implicit TLS (465).
    if url.startswith("smtps://") or config.get("EMAIL_USE_SSL"):
        options["use_ssl"] = True
    elif config.get("EMAIL_USE_TLS"):
        options["use_tls"] = True
    return {"BACKEND": backend, "OPTIONS": options}


EMAIL_URL = env.str("EMAIL_URL", default="")
MAILERS = {
    "default": _mailer_from_url(EMAIL_URL)
    if EMAIL_URL
    else {"BACKEND": "config.mail.EmlFileBackend", "OPTIONS": {"file_path": str(EMAIL_FILE_DIR)}}
}
# Every email's sender. Outside DEBUG it must be set: mail "from" no-reply@localhost is refused
# or filed as spam by most receiving servers, so patients' reports would quietly not arrive.
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Spinal Clinic <no-reply@localhost>" if DEBUG else ""
)
REPLY_TO_EMAIL = env.str("REPLY_TO_EMAIL", default="")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Told about each new consultation request, urgent ones included: without it (or with a typo)
# staff learn of a request only by opening admin, so outside DEBUG it must be set, and valid.
CLINIC_NOTIFY_EMAIL = env.str("CLINIC_NOTIFY_EMAIL", default="clinic@localhost" if DEBUG else "")
CLINIC_NAME = env.str("CLINIC_NAME", default="Spinal Clinic")
# How patients reach the clinic about a request or their data: shown in every page's footer and
# in the privacy notice, which must say how to ask for a copy of one's details or their erasure.
# Checked here, so a typo stops the site rather than sending patients elsewhere; with none
# set, every manage.py command that runs the system checks warns outside DEBUG.
CLINIC_PHONE = env.str("CLINIC_PHONE", default="")
CLINIC_EMAIL = env.str("CLINIC_EMAIL", default="")
CLINIC_ADDRESS = env.str("CLINIC_ADDRESS", default="")
contact.parse(CLINIC_PHONE, CLINIC_EMAIL, CLINIC_ADDRESS, PHONENUMBER_DEFAULT_REGION)
# Locally, scripts/run.sh's PORT: the links in emails and pages lead back to the running site.
_local_site = f"http://127.0.0.1:{env.str('PORT', default='8000')}"
SITE_URL = env.str("SITE_URL", default=_local_site if DEBUG else "").rstrip("/")
if not DEBUG and not SITE_URL:
    # Links in emails (staff's link to a request in admin), canonical links and the sitemap
    # are built from it; a localhost default would send them all to the wrong place.
    raise ImproperlyConfigured(
        "SITE_URL is not set. Set it to the site's public address, like https://clinic.example."
    )
_site = urlsplit(SITE_URL)
if SITE_URL and (_site.scheme not in ("http", "https") or not _site.hostname):
    # "clinic.example" alone would make every emailed link relative, and so dead.
    raise ImproperlyConfigured(
        f"SITE_URL {SITE_URL!r} is not a web address. Give it whole, like https://clinic.example."
    )
if not DEBUG and not CLINIC_NOTIFY_EMAIL:
    raise ImproperlyConfigured(
        "CLINIC_NOTIFY_EMAIL is not set. Set it to the inbox where staff triage consultation "
        "requests: without it nobody is told when a patient asks for one, however urgent."
    )
contact.check_email("CLINIC_NOTIFY_EMAIL", CLINIC_NOTIFY_EMAIL, with_name=True)
if not DEBUG and not DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL is not set. Set it to the address every email comes from, on the "
        "clinic's own domain (Spinal Clinic <no-reply@...>): receiving servers refuse, or file "
        "as spam, mail from an address they cannot check."
    )
contact.check_email("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL, with_name=True)
if not DEBUG:
    # The example's placeholders would start the site and lose every email quietly.
    contact.check_mail_domain("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL, sends=True)
    contact.check_mail_domain("CLINIC_NOTIFY_EMAIL", CLINIC_NOTIFY_EMAIL, sends=False)

# --- Celery ------------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is kombu's filesystem transport: folders under var/, so
# the embedded mode runs a real worker with no broker server to install. Its control folder
# (the exchange tables) defaults to "control" in the working directory, i.e. the source tree.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Bounded waits so a form post never hangs when Redis is away.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A form post enqueues after commit; with Redis away it must give up quickly (the row is saved
# and the sweep enqueues it later), not keep the patient waiting.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=200)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SWEEP_SECONDS = env.float("SWEEP_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "config.heartbeat", "schedule": 30.0},
    "apply-retention": {"task": "leads.apply_retention", "schedule": 6 * 60 * 60.0},
    "housekeeping": {"task": "config.housekeeping", "schedule": 24 * 60 * 60.0},
    "requeue-stale-report-requests": {
        "task": "reports.requeue_stale_report_requests",
        "schedule": SWEEP_SECONDS,
    },
    "notify-clinic-of-unnotified-consultations": {
        "task": "leads.notify_unnotified_consultations",
        "schedule": SWEEP_SECONDS,
    },
}
# How long a report request may sit queued before the sweep enqueues it again.
REPORT_REQUEUE_AFTER_SECONDS = env.int("REPORT_REQUEUE_AFTER_SECONDS", default=900)
REPORT_MAX_ATTEMPTS = env.int("REPORT_MAX_ATTEMPTS", default=5)
REPORT_RETRY_BASE_SECONDS = env.float("REPORT_RETRY_BASE_SECONDS", default=10.0)
# /healthz/services fails while a consultation request older than this has not been emailed to
# CLINIC_NOTIFY_EMAIL. Longer than the sweep's wait (REPORT_REQUEUE_AFTER_SECONDS) plus a few
# retries, so a short mail outage is not an alert.
CLINIC_NOTIFY_ALERT_MINUTES = env.int("CLINIC_NOTIFY_ALERT_MINUTES", default=30)
if CLINIC_NOTIFY_ALERT_MINUTES * 60 <= REPORT_REQUEUE_AFTER_SECONDS + SWEEP_SECONDS:
    raise ImproperlyConfigured(
        f"CLINIC_NOTIFY_ALERT_MINUTES ({CLINIC_NOTIFY_ALERT_MINUTES}) must be longer than the "
        f"sweep takes to send a notification whose task was lost (REPORT_REQUEUE_AFTER_SECONDS "
        f"plus SWEEP_SECONDS: {REPORT_REQUEUE_AFTER_SECONDS + SWEEP_SECONDS:g} seconds), or "
        "/healthz/services fails for requests the sweep is about to send."
    )

# --- Clinic ------------------------------------------------------------------------------------
# Opening hours for the "one working day" promise (England and Wales bank holidays excluded).
CLINIC_OPENING_HOUR = env.int("CLINIC_OPENING_HOUR", default=9)
CLINIC_CLOSING_HOUR = env.int("CLINIC_CLOSING_HOUR", default=17)

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz"]  # load balancers probe the app over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Adds "preload" to the header; submitting the domain to the browsers' list stays a choice.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # a larger form body gets the 400 page, not a 500
# Django's default. A fact sheet's change page in admin sends one field per column of every red
# flag, section, table, link and source: 230-330 for the longer shipped sheets, more as staff
# add rows (at 200, five of the seven could not be saved). The body-size limit above is what
# bounds a public form post.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)  # a working day
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy with Django 6's built-in middleware. No inline script or style
# anywhere (the JSON-LD block is data, which CSP does not run); admin works under it.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# --- Privacy -----------------------------------------------------------------------------------
# Personal data of sent (or finally failed) report requests is erased after this many days,
# and of closed or booked consultation requests after this many, by a task run every six hours
# (leads/privacy.py).
REPORT_RETENTION_DAYS = env.int("REPORT_RETENTION_DAYS", default=30)
CONSULTATION_RETENTION_DAYS = env.int("CONSULTATION_RETENTION_DAYS", default=365)
# Staff sign-in records (username, IP address, browser; django-axes) are deleted after this many
# days, and expired staff sessions daily (config.housekeeping).
STAFF_SIGN_IN_LOG_DAYS = env.int("STAFF_SIGN_IN_LOG_DAYS", default=90)

# --- Abuse limits ------------------------------------------------------------------------------
# Per IP address, email address and phone number, on each patient form (django-ratelimit,
# shared cache).
FORM_RATE_PER_IP = env.str("FORM_RATE_PER_IP", default="20/h")
FORM_RATE_PER_EMAIL = env.str("FORM_RATE_PER_EMAIL", default="5/h")
FORM_RATE_PER_PHONE = env.str("FORM_RATE_PER_PHONE", default="5/h")
RATELIMIT_VIEW = "config.views.rate_limited"
RATELIMIT_FAIL_OPEN = True  # a cache outage must not stop patients reaching us
RATELIMIT_HASH_ALGORITHM = "leads.guards.KeyedHash"  # counters' names keyed, not plain hashes
# Behind a proxy set RATELIMIT_IP_META_KEY to the header it writes, e.g. HTTP_X_REAL_IP.
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
# Seconds during which the same submission again (a double click, a refresh) makes no new row.
DUPLICATE_SUBMISSION_WINDOW = env.int("DUPLICATE_SUBMISSION_WINDOW", default=600)
# A repeat arriving while the first is still being saved waits up to this many seconds to learn
# whether it was saved (if not, the repeat is saved instead). The "being saved" mark lapses after
# DUPLICATE_PENDING_TIMEOUT, so a process killed mid-save cannot hold it (above gunicorn's 30 s).
DUPLICATE_PENDING_WAIT = 10
DUPLICATE_PENDING_TIMEOUT = 60

# Admin login lock-out after repeated failures (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_CLIENT_IP_CALLABLE = "config.security.lockout_address"  # as the rate limits count
# Two-factor login for staff (django-otp, TOTP). Off by default so a fresh install can log in;
# turn it on once each staff member has added an authenticator device in admin.
REQUIRE_STAFF_2FA = env.bool("REQUIRE_STAFF_2FA", default=False)
OTP_TOTP_ISSUER = CLINIC_NAME  # what staff see beside the codes in their authenticator app

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint reports every refused fetch; keep them, but not at INFO noise.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
AXES_VERBOSE = False
