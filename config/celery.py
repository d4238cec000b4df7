import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker writes this every HEARTBEAT_SECONDS (scheduled by beat); /healthz reads it, so a
# fresh value shows beat, the broker and a worker are all running.
HEARTBEAT_KEY = "worker:heartbeat"
HEARTBEAT_SECONDS = 30
HEARTBEAT_MAX_AGE = 4 * HEARTBEAT_SECONDS


@app.task(name="config.heartbeat", ignore_result=True)
def heartbeat() -> None:
    import time

    from django.core.cache import caches

    caches["health"].set(HEARTBEAT_KEY, time.time(), timeout=HEARTBEAT_MAX_AGE * 2)


@app.task(name="config.housekeeping", ignore_result=True)
def housekeeping() -> dict[str, int]:
    """Delete what no longer has a use (scheduled daily by beat): expired staff sessions,
    failed sign-ins whose lock-out has lapsed (django-axes deletes those only at the next
    sign-in), and staff sign-in records (django-axes' access and failure logs: username, IP
    address, browser) older than STAFF_SIGN_IN_LOG_DAYS. Patient data has its own retention
    task (leads.apply_retention); in the embedded mode, the .eml files it leaves in a folder
    (patients' PDFs among them) go here, after REPORT_RETENTION_DAYS."""
    from importlib import import_module

    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    days = settings.STAFF_SIGN_IN_LOG_DAYS
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    lapsed = AccessAttempt.objects.filter(attempt_time__lte=timezone.now() - get_cool_off())
    return {
        "old_email_files": _delete_old_email_files(),
        "lapsed_lockouts": lapsed.delete()[0],
        "sign_ins": AxesProxyHandler.reset_logs(age_days=days),
        "failed_sign_ins": AxesProxyHandler.reset_failure_logs(age_days=days),
    }


def _delete_old_email_files() -> int:
    """The embedded mode's emails (config.mail.EmlFileBackend) older than the report retention
    period: erasing a request's row must not leave its PDF in the folder."""
    import time
    from pathlib import Path

    from django.conf import settings

    mailer = settings.MAILERS["default"]
    if mailer["BACKEND"] != "config.mail.EmlFileBackend":
        return 0
    cutoff = time.time() - settings.REPORT_RETENTION_DAYS * 24 * 60 * 60
    folder = Path(mailer["OPTIONS"]["file_path"])
    # .part: one a crash cut off while it was being written (it may hold a PDF too).
    old = [p for p in [*folder.glob("*.eml"), *folder.glob("*.part")] if p.stat().st_mtime < cutoff]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)
