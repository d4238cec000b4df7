import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import _mailer_from_url

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_VARS = (
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL",
    "SECURE_SSL_REDIRECT", "STATIC_ROOT",
)  # fmt: skip


# What a production .env names besides the site's own settings: with DEBUG off, all required.
SERVICES = {
    "DATABASE_URL": "postgres://u:p@db.internal:5432/clinic",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/0",
    "EMAIL_URL": "smtp+tls://user:pass@mail.internal:587",
}


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    clean |= {"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"} | env
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL); "
        "print(s.MAILERS['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production_mode_without_secret_key_refuses_to_start(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", ALLOWED_HOSTS="clinic.example")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_mode_without_site_url_refuses_to_start(tmp_path):
    """Links in emails and pages would otherwise point at localhost."""
    env = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "SITE_URL")}
    env |= {"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env |= {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "clinic.example"}
    env |= SERVICES
    code = "import django; django.setup()"

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)

    assert result.returncode != 0
    assert b"SITE_URL is not set" in result.stderr


def test_locally_the_sites_address_follows_the_port_it_is_served_on(tmp_path):
    """PORT=8102 make run: links in emails and pages must lead back to :8102."""
    clean = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "SITE_URL")}
    clean |= {"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SITE_URL)"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | {"DEBUG": "true", "PORT": "8102"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "http://127.0.0.1:8102"


@pytest.mark.parametrize("value", ["clinic.example", "https://", "ftp://clinic.example"])
def test_a_site_url_that_is_not_a_whole_web_address_refuses_to_start(tmp_path, value):
    """Staff's links to a request in admin, and canonical links, are built from it."""
    result = load_settings(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="clinic.example",
        SITE_URL=value,
        **SERVICES,
    )

    assert result.returncode != 0
    assert f"SITE_URL {value.rstrip('/')!r} is not a web address" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        # Staff would otherwise hear of a consultation request, urgent or not, only by chance.
        ("CLINIC_NOTIFY_EMAIL", "", "CLINIC_NOTIFY_EMAIL is not set"),
        ("CLINIC_NOTIFY_EMAIL", "triage@clinic", "'triage@clinic' is not an email address"),
        # Mail from no-reply@localhost (the embedded mode's sender) is refused or filed as
        # spam: patients' reports would quietly never arrive.
        ("DEFAULT_FROM_EMAIL", "", "DEFAULT_FROM_EMAIL is not set"),
        ("DEFAULT_FROM_EMAIL", "Clinic <x@clinic>", "'Clinic <x@clinic>' is not an email address"),
        # A valid address that no mail server will take from us: the old default, and the
        # placeholder .env.example ships.
        ("DEFAULT_FROM_EMAIL", "Spinal Clinic <no-reply@localhost>", "is on localhost, which"),
        ("DEFAULT_FROM_EMAIL", "Spinal Clinic <no-reply@clinic.example>", "is on clinic.example"),
        # Staff would never hear of a request sent to the example's inbox.
        ("CLINIC_NOTIFY_EMAIL", "triage@clinic.example", "which cannot receive mail"),
    ],
)
def test_production_mode_without_an_inbox_or_a_sender_refuses_to_start(
    tmp_path, setting, value, message
):
    result = load_settings(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example",
        **{setting: value}, **SERVICES,
    )  # fmt: skip

    assert result.returncode != 0
    assert f"{setting} " in result.stderr and message in result.stderr


def test_the_inbox_for_new_requests_may_be_given_with_a_name(tmp_path):
    result = load_settings(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example",
        CLINIC_NOTIFY_EMAIL="Triage team <triage@example.org>", **SERVICES,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("CLINIC_PHONE", "0161 496 000", "CLINIC_PHONE '0161 496 000' is not a valid phone number"),
        ("CLINIC_PHONE", "call us", "CLINIC_PHONE 'call us' is not a valid phone number"),
        ("CLINIC_EMAIL", "enquiries@", "CLINIC_EMAIL 'enquiries@' is not an email address"),
    ],
)
def test_a_mistyped_clinic_contact_refuses_to_start(tmp_path, setting, value, message):
    """Patients would otherwise be sent to a wrong number or address."""
    result = load_settings(tmp_path, DEBUG="true", **{setting: value})

    assert result.returncode != 0
    assert message in result.stderr


def test_a_notification_alert_sooner_than_the_sweep_refuses_to_start(tmp_path):
    """/healthz/services would page someone for every request the sweep was about to send."""
    result = load_settings(
        tmp_path, DEBUG="true", CLINIC_NOTIFY_ALERT_MINUTES="15", SWEEP_SECONDS="60"
    )

    assert result.returncode != 0
    assert "CLINIC_NOTIFY_ALERT_MINUTES (15) must be longer than" in result.stderr
    assert "960 seconds" in result.stderr
    assert load_settings(tmp_path, DEBUG="true", CLINIC_NOTIFY_ALERT_MINUTES="17").returncode == 0


@pytest.mark.parametrize("unset", ["DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL"])
def test_production_mode_never_falls_back_to_the_embedded_services(tmp_path, unset):
    """Left out by mistake, the site ran on SQLite, a folder broker and emails to a folder,
    reports unsent and marked sent, and looked healthy."""
    services = {k: v for k, v in SERVICES.items() if k != unset}
    result = load_settings(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example", **services
    )

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {unset} not set." in result.stderr


def test_the_secret_key_placeholder_from_env_example_refuses_to_start(tmp_path):
    example = _env_example() | {"VAR_DIR": str(tmp_path)}
    result = load_settings(tmp_path, **example)

    assert result.returncode != 0
    assert "SECRET_KEY is still the placeholder from .env.example" in result.stderr
    keys = {"SECRET_KEY": "x" * 50, "PRIVACY_LOG_KEY": "y" * 50}
    # Then the sender on the example's clinic.example; with all three replaced, it starts.
    result = load_settings(tmp_path, **(example | keys))
    assert "DEFAULT_FROM_EMAIL 'Spinal Clinic <no-reply@clinic.example>' is on" in result.stderr
    sender = {"DEFAULT_FROM_EMAIL": "Spinal Clinic <no-reply@example.org>"}
    result = load_settings(tmp_path, **(example | keys | sender))
    assert "CLINIC_NOTIFY_EMAIL 'triage@clinic.example' is on" in result.stderr
    inbox = {"CLINIC_NOTIFY_EMAIL": "triage@example.org"}
    assert load_settings(tmp_path, **(example | keys | sender | inbox)).returncode == 0


@pytest.mark.parametrize("value", ["", "change-me-to-another-long-random-string"])
def test_an_empty_or_placeholder_privacy_log_key_refuses_to_start(tmp_path, value):
    """Unkeyed (or keyed with a published placeholder), the log's hashes of phone numbers,
    drawn from a small space, could simply be reversed."""
    result = load_settings(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example",
        PRIVACY_LOG_KEY=value, **SERVICES,
    )  # fmt: skip

    assert result.returncode != 0
    assert "PRIVACY_LOG_KEY is empty or still the placeholder" in result.stderr


def test_secret_key_fallbacks_are_read_without_the_spaces_around_them(tmp_path):
    code = "import config.settings as s; print(s.SECRET_KEY_FALLBACKS)"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env |= {"VAR_DIR": str(tmp_path), "DEBUG": "true", "SECRET_KEY_FALLBACKS": "old-one, older"}

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert done.stdout.strip() == "['old-one', 'older']", done.stderr


def test_nothing_set_but_debug_gives_the_embedded_mode(tmp_path):
    result = load_settings(tmp_path, DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "config.mail.EmlFileBackend",
    ]


def test_production_settings_come_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="clinic.example",
        **SERVICES,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.internal:6379/0",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_a_tls_redis_broker_is_shared_as_the_cache_and_for_page_edits(tmp_path):
    """rediss:// (managed Redis over TLS) must not leave each process with its own cache."""
    clean = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "CACHE_URL")}
    env = clean | {
        "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false",
        "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "clinic.example",
        "CELERY_BROKER_URL": "rediss://:secret@cache.internal:6380/0",
        "DATABASE_URL": SERVICES["DATABASE_URL"], "EMAIL_URL": SERVICES["EMAIL_URL"],
    }  # fmt: skip
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND']); print(s.CACHES['default']['LOCATION']); "
        "print(s.PAGE_INVALIDATION_URL)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "config.cache.ReusingRedisCache",
        "rediss://:secret@cache.internal:6380/0",
        "rediss://:secret@cache.internal:6380/0",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp+tls://user:pass@mail.example:587",
            {"host": "mail.example", "port": 587, "username": "user", "password": "pass",
             "use_tls": True},
        ),
        ("smtps://user:pass@mail.example:465", {"host": "mail.example", "port": 465,
                                                 "username": "user", "password": "pass",
                                                 "use_ssl": True}),
        ("smtp+ssl://mail.example:465", {"host": "mail.example", "port": 465, "use_ssl": True}),
        ("smtp://127.0.0.1:2525", {"host": "127.0.0.1", "port": 2525}),
    ],
)  # fmt: skip
def test_email_url_becomes_a_mailers_entry(url, expected):
    mailer = _mailer_from_url(url)

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    options = {k: v for k, v in mailer["OPTIONS"].items() if k != "timeout"}
    assert options == expected


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_env_example_matches_the_shipped_units_and_nginx_config():
    """A clinic's IT person copies .env.example and the files in deploy/: beat must be able to
    write its schedule where the units allow, nginx must serve the static files where
    collectstatic writes them, and the rate limits must read the header nginx sets."""
    # The placeholders an IT person must replace (the site refuses to start with them).
    env = _env_example() | {
        "SECRET_KEY": "x" * 50,
        "PRIVACY_LOG_KEY": "y" * 50,
        "DEFAULT_FROM_EMAIL": "Spinal Clinic <no-reply@example.org>",
        "CLINIC_NOTIFY_EMAIL": "triage@example.org",
    }
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS and k != "VAR_DIR"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BEAT_SCHEDULE_FILENAME); print(s.STATIC_ROOT)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    schedule, static_root = done.stdout.split()

    for unit in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        writable = [
            line.split("=", 1)[1].strip()
            for line in unit.read_text().splitlines()
            if line.startswith("ReadWritePaths=")
        ]
        assert any(Path(schedule).is_relative_to(path) for path in writable), unit.name
    locations = (ROOT / "deploy" / "nginx" / "spinal-clinic-locations.conf").read_text()
    assert f"alias {static_root.rstrip('/')}/;" in locations
    proxy = (ROOT / "deploy" / "nginx" / "spinal-clinic-proxy.conf").read_text()
    assert env["RATELIMIT_IP_META_KEY"] == "HTTP_X_REAL_IP"
    assert "proxy_set_header X-Real-IP $remote_addr;" in proxy


def test_var_dir_set_in_the_env_file_moves_everything_kept_on_disk(tmp_path):
    """The README says every setting can come from .env. VAR_DIR used to be read before the
    file was, so beat's schedule, the emails and the SQLite database stayed in the app's own
    folder (read-only under the systemd units)."""
    app = tmp_path / "app"
    shutil.copytree(ROOT / "config", app / "config")
    var = tmp_path / "elsewhere"
    (app / ".env").write_text(f"VAR_DIR={var}\nDEBUG=true\n")
    clean = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "VAR_DIR")}
    code = (
        "import config.settings as s; print(s.VAR_DIR); print(s.CELERY_BEAT_SCHEDULE_FILENAME);"
        " print(s.EMAIL_FILE_DIR); print(s.DATABASES['default']['NAME'])"
    )

    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=app,
        env=clean | {"PYTHONPATH": f"{app}:{ROOT}"},
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 4, done.stdout
    for line in done.stdout.split():
        assert Path(line).is_relative_to(var), line
