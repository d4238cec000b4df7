"""The daily housekeeping task: staff sessions and sign-in records are not kept for ever."""

from datetime import timedelta

from axes.models import AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from config.celery import app, housekeeping


def sign_in(username: str, password: str) -> Client:
    browser = Client()
    browser.get("/admin/login/")
    browser.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return browser


def test_old_sign_in_records_and_expired_sessions_are_deleted_and_recent_ones_kept(
    django_user_model,
):
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    earlier = sign_in("staff", "the-right-passphrase")
    today = sign_in("staff", "the-right-passphrase")
    assert earlier.get("/admin/").status_code == 200 and today.get("/admin/").status_code == 200
    assert AccessLog.objects.count() == 2
    days = settings.STAFF_SIGN_IN_LOG_DAYS
    long_ago = timezone.now() - timedelta(days=days + 1)
    AccessLog.objects.filter(pk=AccessLog.objects.order_by("pk").first().pk).update(
        attempt_time=long_ago
    )
    Session.objects.filter(session_key=earlier.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    counts = housekeeping()

    assert counts == {"sign_ins": 1, "failed_sign_ins": 0}
    assert AccessLog.objects.count() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        today.session.session_key
    ]
    assert today.get("/admin/").status_code == 200  # the live session is untouched
    assert earlier.get("/admin/").status_code == 302  # its session had expired anyway


def test_housekeeping_is_scheduled_daily_for_the_worker():
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "config.housekeeping"
    )
    assert entry["schedule"] == 24 * 60 * 60
    assert "config.housekeeping" in app.tasks
