"""Production hardening, checked on the running configuration."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone

from config.celery import HEARTBEAT_KEY
from leads.models import ConsultationRequest, ReportRequest
from tests.config.test_settings import SETTINGS_VARS
from tests.factories import ConsultationRequestFactory, ReportRequestFactory

ROOT = Path(__file__).resolve().parents[2]
SHEET = "/factsheets/spinal-metastases/"


def test_deploy_checks_pass_at_warning_level_with_production_settings(tmp_path):
    # (DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; never in deploy.)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env |= {
        "VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "clinic.example",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://user:pass@mail.example:587",
        "CLINIC_EMAIL": "enquiries@clinic.example",
        "REQUIRE_STAFF_2FA": "true",
    }
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    # Admin holds patients' details: a password alone is worth a warning at install.
    env["REQUIRE_STAFF_2FA"] = "false"
    warned = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert warned.returncode != 0
    assert "(clinic.W002) Staff sign in to admin with a password alone" in warned.stderr


def test_security_headers_on_a_public_page(client, spinal_metastases):
    response = client.get(SHEET, secure=True)

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "public" in response["Cache-Control"]


def test_admin_works_under_the_csp_and_is_never_stored(admin_client):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert "no-store" in response["Cache-Control"]
    assert "<script>" not in response.content.decode()  # no inline script the CSP would block


def test_session_and_csrf_cookies_are_secure_and_http_only(django_user_model):
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-pass-phrase")
    browser = Client()
    browser.get("/admin/login/")
    token = browser.cookies["csrftoken"].value

    browser.post(
        "/admin/login/",
        {"username": "staff", "password": "a-long-pass-phrase", "csrfmiddlewaretoken": token},
    )

    session = browser.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert browser.cookies["csrftoken"]["secure"]


def test_a_form_shown_again_with_errors_is_never_stored(client, spinal_metastases):
    response = client.post(f"{SHEET}report/", {"report-name": "Typed name"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_oversized_form_body_gets_the_400_page_not_a_500(client, spinal_metastases):
    response = client.post(
        f"{SHEET}consultation/", {"consultation-description": "x" * (200 * 1024)}
    )

    assert response.status_code == 400
    assert "could not be read" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/factsheets/nope/", 404, "Page not found"),
        ("/factsheets/spinal-metastases/report/sent/", 200, "on its way"),
    ],
)
def test_own_error_and_confirmation_pages(client, spinal_metastases, url, status, text):
    response = client.get(url)

    assert response.status_code == status
    assert text in response.content.decode()


@override_settings(DEBUG=False)
def test_server_error_page_is_the_sites_own(client, db):
    from django.urls import path

    from config import urls

    def broken(request):
        raise RuntimeError("boom")

    urls.urlpatterns.append(path("__broken__/", broken))
    try:
        response = Client(raise_request_exception=False).get("/__broken__/")
    finally:
        urls.urlpatterns.pop()

    assert response.status_code == 500
    assert "there is a problem with the service" in response.content.decode()
    assert "call 999" in response.content.decode()


def test_healthz_services_reports_database_redis_and_worker(client, db):
    """The heartbeat is set here, as the worker sets it; the worker setting it and another
    process reading it is tests/integration/test_delivery.py."""
    caches["health"].set(HEARTBEAT_KEY, time.time())

    response = client.get("/healthz/services")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "worker": "ok",
            "clinic_notifications": "ok",
            "report_delivery": "ok",
        },
    }


def test_requests_the_clinic_was_not_told_of_fail_the_services_check_only(client, db):
    """Notifications refused by the inbox or stuck in a mail outage: the requests are saved,
    but staff hear of none of them, so monitoring must; the site itself still serves."""
    caches["health"].set(HEARTBEAT_KEY, time.time())
    long_ago = timezone.now() - timedelta(minutes=31)
    told = ConsultationRequestFactory(clinic_notified_at=long_ago)
    ConsultationRequestFactory()  # just in: its notification may well be on its way
    ConsultationRequest.objects.filter(pk=told.pk).update(created_at=long_ago)
    assert client.get("/healthz/services").status_code == 200

    untold = ConsultationRequestFactory(urgency="emergency")
    ConsultationRequest.objects.filter(pk=untold.pk).update(created_at=long_ago)
    services = client.get("/healthz/services")

    assert services.status_code == 503
    assert services.json()["checks"]["clinic_notifications"] == (
        "consultation requests not emailed to the clinic after 30 minutes"
    )
    assert client.get("/healthz").status_code == 200


def test_a_stuck_worker_fails_the_services_check_but_not_the_load_balancers(client, db):
    """Without a worker, pages still show and forms are still saved; taking the web nodes out
    of the load balancer would take the red-flag advice off the internet for nothing."""
    caches["health"].set(HEARTBEAT_KEY, time.time() - 3600)

    services = client.get("/healthz/services")
    web = client.get("/healthz")

    assert services.status_code == 503
    assert services.json()["checks"]["worker"] == "no recent heartbeat"
    assert web.status_code == 200
    assert web.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-store" in web["Cache-Control"]


def test_the_load_balancer_may_probe_over_plain_http(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/factsheets/").status_code == 301  # everything else goes to HTTPS


def test_healthz_says_when_redis_is_unreachable(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    caches["health"].set(HEARTBEAT_KEY, time.time())

    response = client.get("/healthz/services")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unavailable"


def _finished_report(status: str, error: str = "") -> None:
    report = ReportRequestFactory()
    ReportRequest.objects.filter(pk=report.pk).update(
        status=status, last_error=error, updated_at=timezone.now()
    )


def test_reports_failing_on_the_clinics_side_fail_the_services_check(client, db):
    """A changed SMTP password or a relay refusing the site fails every report alike; a
    patient's mistyped address is theirs alone and says nothing about the mail path."""
    caches["health"].set(HEARTBEAT_KEY, time.time())
    _finished_report("sent")
    _finished_report("failed", "SMTPRecipientsRefused: {'typo@exampel.com': (550, b'no')}")
    assert client.get("/healthz/services").json()["checks"]["report_delivery"] == "ok"

    _finished_report("failed", "SMTPAuthenticationError: (535, b'5.7.8 bad credentials')")
    services = client.get("/healthz/services")

    assert services.status_code == 503
    assert services.json()["checks"]["report_delivery"] == (
        "reports are failing to send: see failed report requests in admin"
    )
    assert client.get("/healthz").status_code == 200
    _finished_report("sent")  # a resend once the password is mended
    assert client.get("/healthz/services").status_code == 200


def test_three_refused_recipients_in_a_row_fail_the_services_check(client, db):
    """A relay answering "550 relaying denied" to every recipient looks like a bad address."""
    caches["health"].set(HEARTBEAT_KEY, time.time())
    refused = "SMTPRecipientsRefused: {'x@example.com': (550, b'5.7.1 Relaying denied')}"
    for _ in range(2):
        _finished_report("failed", refused)
    assert client.get("/healthz/services").status_code == 200

    _finished_report("failed", refused)

    assert client.get("/healthz/services").status_code == 503
