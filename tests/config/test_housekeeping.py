"""The daily housekeeping task: staff sessions and sign-in records are not kept for ever."""

import os
import resource
import signal
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.core.mail import EmailMessage
from django.test import Client
from django.utils import timezone

from config.celery import housekeeping
from config.mail import EmlFileBackend


def sign_in(username: str, password: str) -> Client:
    browser = Client()
    browser.get("/admin/login/")
    browser.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return browser


def test_old_sign_in_records_and_expired_sessions_are_deleted_and_recent_ones_kept(
    django_user_model, settings
):
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True  # off by default; trimmed when turned on
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    earlier = sign_in("staff", "the-right-passphrase")
    today = sign_in("staff", "the-right-passphrase")
    sign_in("someone", "a-guess")  # failed sign-ins, left counting towards a lock-out
    sign_in("someone-else", "a-guess")
    assert earlier.get("/admin/").status_code == 200 and today.get("/admin/").status_code == 200
    assert (AccessLog.objects.count(), AccessAttempt.objects.count()) == (2, 2)
    assert AccessFailureLog.objects.count() == 2
    long_ago = timezone.now() - timedelta(days=settings.STAFF_SIGN_IN_LOG_DAYS + 1)
    for model in (AccessLog, AccessFailureLog):
        oldest = model.objects.order_by("pk").first()
        model.objects.filter(pk=oldest.pk).update(attempt_time=long_ago)
    lapsed = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    AccessAttempt.objects.filter(username="someone").update(attempt_time=lapsed)
    Session.objects.filter(session_key=earlier.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    counts = housekeeping()

    assert counts == {
        "old_email_files": 0,  # the tests send mail through a server, not to a folder
        "lapsed_lockouts": 1,
        "sign_ins": 1,
        "failed_sign_ins": 1,
    }
    assert AccessLog.objects.count() == 1
    assert AccessFailureLog.objects.get().username == "someone-else"
    assert AccessAttempt.objects.get().username == "someone-else"  # its lock-out still counts
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        today.session.session_key
    ]
    assert today.get("/admin/").status_code == 200  # the live session is untouched
    assert earlier.get("/admin/").status_code == 302  # its session had expired anyway


def test_housekeeping_is_scheduled_daily(settings):
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "config.housekeeping"
    )
    assert entry["schedule"] == 24 * 60 * 60


def test_the_embedded_modes_emails_are_deleted_after_the_report_retention_period(
    db, settings, tmp_path
):
    settings.MAILERS = {
        "default": {"BACKEND": "config.mail.EmlFileBackend", "OPTIONS": {"file_path": tmp_path}}
    }
    folder = EmlFileBackend(file_path=str(tmp_path))
    folder.send_messages([EmailMessage("Your fact sheet", "PDF attached", to=["a@example.com"])])
    (old,) = tmp_path.glob("*.eml")
    past = time.time() - (settings.REPORT_RETENTION_DAYS * 24 + 1) * 60 * 60
    os.utime(old, (past, past))
    folder.send_messages([EmailMessage("Your fact sheet", "PDF attached", to=["b@example.com"])])
    (tmp_path / "notes.txt").write_text("not an email: left alone")
    cut_off = tmp_path / "20260101-000000-0000dead.part"  # a write a crash cut short
    cut_off.write_text("From: clinic")
    os.utime(cut_off, (past, past))

    assert housekeeping()["old_email_files"] == 2

    (kept,) = tmp_path.glob("*.eml")
    assert "b@example.com" in kept.read_text()
    assert (tmp_path / "notes.txt").exists()


def test_an_eml_folder_made_earlier_is_closed_and_a_failed_write_leaves_no_file(tmp_path):
    folder = tmp_path / "emails"
    folder.mkdir()
    folder.chmod(0o755)  # as an earlier release left it
    backend = EmlFileBackend(file_path=str(folder))
    assert folder.stat().st_mode & 0o777 == 0o700

    # A write the system refuses part way (here a file-size limit; a full disk is the same).
    big = EmailMessage("Your fact sheet", "x" * 200_000, to=["a@example.com"])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65_536, hard))
    try:
        with pytest.raises(OSError):
            backend.send_messages([big])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert list(folder.iterdir()) == []  # no half of a patient's email left behind

    backend.send_messages([EmailMessage("Your fact sheet", "PDF", to=["a@example.com"])])
    (written,) = folder.iterdir()
    assert written.suffix == ".eml" and written.stat().st_mode & 0o777 == 0o600
