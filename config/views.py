import time
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.timesince import timeuntil
from django_ratelimit import core as ratelimit

from reports.tasks import is_recipient_refusal

from .celery import HEARTBEAT_KEY, HEARTBEAT_MAX_AGE


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post (stale page, blocked cookies, a forged cross-site post) explained."""
    return render(request, "403_csrf.html", status=403)


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice, with the retention periods this site is set to keep."""
    rates = (settings.FORM_RATE_PER_IP, settings.FORM_RATE_PER_EMAIL, settings.FORM_RATE_PER_PHONE)
    context = {
        "report_retention_days": settings.REPORT_RETENTION_DAYS,
        "consultation_retention_days": settings.CONSULTATION_RETENTION_DAYS,
    }
    # The rate-limit counters last for their limit's window: the longest, in words, as the
    # limit message says when to send again (leads/views.py).
    now = timezone.now()
    longest = max(ratelimit._split_rate(rate)[1] for rate in rates)
    context["form_counts_kept_for"] = timeuntil(now + timedelta(seconds=longest), now)
    repeat = timedelta(seconds=settings.DUPLICATE_SUBMISSION_WINDOW)
    context["repeat_check_kept_for"] = timeuntil(now + repeat, now)
    return render(request, "privacy.html", context)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "429.html", status=429)


def _health(checks: dict[str, str]) -> JsonResponse:
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks})
    response.status_code = 200 if healthy else 503
    add_never_cache_headers(response)
    return response


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return "unavailable"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: can this web process serve patients? It needs the database; with
    Redis or the worker away, pages still show and forms are still saved (the sweeps send
    what waited), so those do not take the red-flag advice off the internet."""
    return _health({"database": _database()})


def healthz_services(request: HttpRequest) -> JsonResponse:
    """For monitoring and alerts: the database, Redis and a recent worker heartbeat."""
    checks: dict[str, str] = {"database": _database()}
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(settings.REDIS_URL_PREFIXES):
        try:
            redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unavailable"
    try:
        beat = caches["health"].get(HEARTBEAT_KEY)
    except Exception:
        beat = None
    fresh = beat is not None and time.time() - beat < HEARTBEAT_MAX_AGE
    checks["worker"] = "ok" if fresh else "no recent heartbeat"
    checks["clinic_notifications"] = _clinic_notifications()
    checks["report_delivery"] = _report_delivery()
    return _health(checks)


def _report_delivery() -> str:
    """Whether reports are reaching patients. Failed while the latest report to finish failed
    for a reason on the clinic's side (an SMTP login or relay refused, a bug: it would fail
    every report alike), or the latest three all failed whatever the reason (a relay refusing
    every recipient looks like three mistyped addresses). Cleared by the next report sent,
    e.g. staff resending the failed ones once the cause is mended."""
    from leads.models import ReportRequest, ReportStatus

    try:
        latest = list(
            ReportRequest.objects.filter(
                status__in=[ReportStatus.SENT, ReportStatus.FAILED], erased_at__isnull=True
            )
            .order_by("-updated_at")
            .values_list("status", "last_error")[:3]
        )
    except Exception:
        return "unavailable"
    failed = [error for status, error in latest if status == ReportStatus.FAILED]
    last_status, last_error = latest[0] if latest else (None, "")
    ours = last_status == ReportStatus.FAILED and not is_recipient_refusal(last_error)
    if ours or len(failed) == 3:
        return "reports are failing to send: see failed report requests in admin"
    return "ok"


def _clinic_notifications() -> str:
    """Whether staff have been told of every new consultation request. The notification is
    retried, then swept up again every minute, so one still unsent after
    CLINIC_NOTIFY_ALERT_MINUTES means mail is not going out or CLINIC_NOTIFY_EMAIL refuses it:
    the requests are saved, but nobody hears of them, urgent ones included."""
    from leads.models import ConsultationRequest

    older_than = timedelta(minutes=settings.CLINIC_NOTIFY_ALERT_MINUTES)
    try:
        late = ConsultationRequest.objects.unnotified(older_than=older_than).exists()
    except Exception:
        return "unavailable"
    if late:  # how many is for admin, not for a public address
        minutes = settings.CLINIC_NOTIFY_ALERT_MINUTES
        return f"consultation requests not emailed to the clinic after {minutes} minutes"
    return "ok"
