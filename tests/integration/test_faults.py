"""Nothing lost, nothing sent twice, under faults: each test runs its own Redis server as the
broker, so it can stop it, and its own worker, beat and web processes pointed at it, the test
database and the SMTP server (which can refuse, stall or be away)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis as redis_client

from factsheets.services import load_shipped_content
from leads.models import ReportRequest
from tests.integration.conftest import ROOT, _service_env, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class Broker:
    """A private redis-server on a free loopback port."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp = tmp
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: self.ping(), "redis-server to start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None

    def ping(self) -> bool:
        try:
            return redis_client.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis_client.ConnectionError:
            return False

    def queued_messages(self) -> list[bytes]:
        return redis_client.Redis(port=self.port).lrange("celery", 0, -1)

    def unacked_since(self) -> list[float]:
        """When each message a worker has taken but not acked was handed to it (kombu's
        record, by which it restores them after the visibility timeout)."""
        index = redis_client.Redis(port=self.port).zrange("unacked_index", 0, -1, withscores=True)
        return [handed_out_at for _, handed_out_at in index]


@pytest.fixture
def broker(tmp_path):
    private = Broker(tmp_path)
    private.start()
    yield private
    private.stop()


@pytest.fixture
def spawn(smtp_server, broker, tmp_path):
    """Start our own processes (worker, beat, web) on the private broker; all stopped after."""
    started: list[subprocess.Popen] = []
    logs = []

    def start(kind: str, *, smtp_port: int | None = None, **env) -> subprocess.Popen:
        pool = env.pop("_pool", ["--pool=solo"])
        environment = _service_env(smtp_server) | {
            "CELERY_BROKER_URL": broker.url,
            "CACHE_URL": broker.url,
            "REPORT_RETRY_BASE_SECONDS": "0.2",
            **env,
        }
        if smtp_port:
            environment["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        command = {
            "worker": [sys.executable, "-m", "celery", "-A", "config", "worker",
                       "--loglevel=INFO", "--without-gossip", "--without-mingle",
                       "-n", f"fault{len(started)}@%h"],
            "beat": [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                     "-s", str(tmp_path / f"beat-{len(started)}")],
        }[kind]  # fmt: skip
        if kind == "worker":
            command += pool
        log = (tmp_path / f"{kind}-{len(started)}.log").open("w")
        logs.append(log)
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        started.append(process)
        if kind == "worker":
            wait_until(lambda: "ready." in Path(log.name).read_text(), "the worker to be ready")
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    for log in logs:
        log.close()


@pytest.fixture
def sheet():
    return {s.slug: s for s, _ in load_shipped_content()}["spinal-metastases"]


def make_request(sheet, name: str = "Fault Test", email: str = "fault@example.com"):
    return ReportRequest.objects.create(
        sheet=sheet,
        name=name,
        email=email,
        consent_version="report-consent-v1",
        consented_at="2026-11-21T10:00:00Z",
    )


def enqueue(broker: Broker, request_id: int, **options) -> None:
    with _enqueue_via(broker) as via:
        via.app.send_task("reports.send_report", args=[request_id], **options)


def status_of(pk: int) -> ReportRequest:
    return ReportRequest.objects.get(pk=pk)


def post_hang_guard_seconds() -> float:
    """How long to wait for the confirmation page with the broker down before calling it a
    hang: each publish attempt gives up after the broker's connect timeout, and there are
    max_retries + 1 of them. Four times that (20 s as configured), so a slow machine never
    trips it, and below gunicorn's own 30 s worker timeout, which would cut a hung post off
    with a less telling error. It says nothing about speed (that is bench/'s)."""
    from django.conf import settings

    connect = max(
        settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"],
    )
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    attempts = policy["max_retries"] + 1
    worst = attempts * (connect + policy["interval_max"])
    # The settings are the design, not the test's to stretch: a patient with Redis down waits
    # at most this long for the confirmation, and the guard stays under gunicorn's timeout.
    assert worst <= 5, f"with Redis down a post may now wait {worst:.1f}s before confirming"
    return 4 * worst


def test_redis_down_at_submission_still_confirms_and_the_sweep_sends_once(
    broker, spawn, smtp, smtp_server, sheet
):
    web_port = free_port()
    web_env = _service_env(smtp_server) | {"CELERY_BROKER_URL": broker.url, "CACHE_URL": ""}
    web_log = (broker.tmp / "web.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--no-control-socket",
         "--bind", f"127.0.0.1:{web_port}"],
        cwd=ROOT, env={k: v for k, v in web_env.items() if v},
        stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: _listening(web_port), "gunicorn")
        broker.stop()
        base = f"http://127.0.0.1:{web_port}"
        body = urllib.parse.urlencode(
            {"report-name": "Broker Down", "report-email": "down@example.com",
             "report-consent": "on"}
        ).encode()  # fmt: skip
        request = urllib.request.Request(
            f"{base}/factsheets/spinal-metastases/report/", data=body, headers={"Origin": base}
        )
        guard = post_hang_guard_seconds()
        assert guard < 30  # gunicorn's worker timeout, which would cut a hung post off first

        try:
            with urllib.request.urlopen(request, timeout=guard) as response:  # noqa: S310
                page = response.read().decode()
        except TimeoutError:
            pytest.fail(f"no answer within {guard:.0f}s with Redis down: the post hangs on it")
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a post still hung: gunicorn waits 30 s for it
            os.killpg(web.pid, signal.SIGKILL)  # its worker too
            web.wait()
        web_log.close()

    assert "Your report is on its way" in page
    saved = ReportRequest.objects.get()
    assert saved.status == "queued"

    broker.start()
    spawn("worker", REPORT_REQUEUE_AFTER_SECONDS="1")
    spawn("beat", SWEEP_SECONDS="1")

    assert len(smtp.wait_for(1, timeout=45, settle=4)) == 1
    wait_until(lambda: status_of(saved.pk).status == "sent", "the row to be marked sent")


def test_a_consultation_whose_notification_was_never_enqueued_is_notified_once_by_the_sweep(
    broker, spawn, smtp, sheet
):
    """Saved while the broker was away (its task never sent): staff must still be told, once.
    Until then /healthz/services says so (tests/config/test_hardening.py)."""
    from django.conf import settings
    from django.utils import timezone

    from leads.models import ConsultationRequest

    lost = ConsultationRequest.objects.create(
        sheet=sheet, name="Enqueue Lost", email="lost@example.com", phone="+447911123456",
        best_time="Mornings", contact_method="phone", description="Back pain.",
        pain_duration="1_to_6_weeks", consent_version="consultation-consent-v1",
        consented_at=timezone.now(), due_at=timezone.now(),
    )  # fmt: skip
    spawn("worker", REPORT_REQUEUE_AFTER_SECONDS="1")
    spawn("beat", SWEEP_SECONDS="1")

    messages = smtp.wait_for(1, timeout=45, settle=4)  # several sweeps: still one email
    assert [message["To"] for message in messages] == [settings.CLINIC_NOTIFY_EMAIL]
    assert messages[0]["Subject"] == f"New consultation request #{lost.pk}"
    wait_until(
        lambda: ConsultationRequest.objects.get(pk=lost.pk).clinic_notified_at is not None,
        "the request to be marked notified",
    )


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_smtp_away_retries_then_fails_with_the_reason_and_a_resend_sends_once(
    broker, spawn, smtp, smtp_server, sheet
):
    request = make_request(sheet)
    dead_port = free_port()  # nothing listens here: connection refused
    first = spawn("worker", smtp_port=dead_port, REPORT_MAX_ATTEMPTS="3")
    enqueue(broker, request.pk)

    wait_until(lambda: status_of(request.pk).status == "failed", "the request to be failed")
    failed = status_of(request.pk)
    assert failed.attempts == 3
    assert "ConnectionRefusedError" in failed.last_error
    first.terminate()
    first.wait(timeout=15)

    from leads.services import resend_failed_reports

    spawn("worker")  # now with the working SMTP server
    with _enqueue_via(broker):
        assert resend_failed_reports(request_ids=[request.pk]) == [request.pk]

    assert len(smtp.wait_for(1, settle=3)) == 1
    wait_until(lambda: status_of(request.pk).status == "sent", "the resend to be sent")


def test_a_resend_gets_its_attempts_again_so_one_refusal_does_not_fail_it(
    broker, spawn, smtp, smtp_server, sheet
):
    """Staff press Resend on reports that used up their attempts while the mail provider was
    away, and the provider is still throttling: the first "try later" must be retried, not
    fail the report at once, or the patient never gets it."""
    request = make_request(sheet)
    first = spawn("worker", smtp_port=free_port(), REPORT_MAX_ATTEMPTS="3")  # refused
    enqueue(broker, request.pk)
    wait_until(lambda: status_of(request.pk).status == "failed", "the request to be failed")
    assert status_of(request.pk).attempts == 3
    first.terminate()
    first.wait(timeout=15)

    from leads.services import resend_failed_reports

    smtp.refuse_rcpt_with = "421 4.7.0 Too many messages, try again later"
    spawn("worker", REPORT_MAX_ATTEMPTS="3", REPORT_RETRY_BASE_SECONDS="2")  # time to stop it
    with _enqueue_via(broker):
        assert resend_failed_reports(request_ids=[request.pk]) == [request.pk]
    wait_until(lambda: smtp.refused >= 1, "the resend to be refused once")
    smtp.refuse_rcpt_with = None

    assert len(smtp.wait_for(1, settle=3)) == 1
    wait_until(lambda: status_of(request.pk).status == "sent", "the retry to be sent")
    assert smtp.refused == 1
    assert status_of(request.pk).attempts == 2  # this round: the refusal and the send


def test_a_mailbox_refusing_for_a_while_gets_every_attempt_then_fails_with_no_address_logged(
    broker, spawn, smtp, sheet, tmp_path
):
    """A recipient's server answering "try later" (a full mailbox, greylisting) on every try:
    the report gets its REPORT_MAX_ATTEMPTS (5 by default) and is then failed for staff to
    see. Celery's own retry limit (3) used to end the chain first: the row stayed queued for
    the sweep to start again for ever, and the error, with the address, went into the log."""
    smtp.refuse_rcpt_with = "452 4.2.2 Mailbox full"
    request = make_request(sheet, email="full-mailbox@example.com")
    spawn("worker")  # REPORT_MAX_ATTEMPTS as shipped; retries 0.2 s apart, doubling
    enqueue(broker, request.pk)

    wait_until(lambda: status_of(request.pk).status == "failed", "the report to fail", 60)
    failed = status_of(request.pk)
    assert failed.attempts == 5
    assert smtp.refused == 5
    assert "452" in failed.last_error
    log = (tmp_path / "worker-0.log").read_text()
    assert "giving up" in log
    assert "full-mailbox@example.com" not in log
    assert "raised unexpected" not in log


def test_a_relay_refusing_the_site_gets_every_attempt_and_fails_the_services_check(
    broker, spawn, smtp, smtp_server, sheet, client
):
    """A 5xx to the message itself (a relay that no longer takes the site, a changed
    password) is the clinic's fault, not the patient's: it used to fail each report on its
    first try, quietly. Now each gets its attempts, monitoring hears of it, and a resend once
    it is mended clears both."""
    smtp.refuse_with = "554 5.7.1 Relay access denied"
    request = make_request(sheet)
    spawn("worker", REPORT_MAX_ATTEMPTS="3")
    enqueue(broker, request.pk)

    wait_until(lambda: status_of(request.pk).status == "failed", "the request to be failed")
    assert status_of(request.pk).attempts == 3
    assert smtp.refused == 3
    checks = client.get("/healthz/services").json()["checks"]
    assert checks["report_delivery"].startswith("reports are failing to send")

    from leads.services import resend_failed_reports

    smtp.refuse_with = None
    with _enqueue_via(broker):
        assert resend_failed_reports(request_ids=[request.pk]) == [request.pk]
    assert len(smtp.wait_for(1, settle=2)) == 1
    wait_until(lambda: status_of(request.pk).status == "sent", "the resend to be sent")
    assert client.get("/healthz/services").json()["checks"]["report_delivery"] == "ok"


class _enqueue_via:
    """Point this process's Celery app at the private broker for a moment. Celery reads the
    CELERY_BROKER_URL environment variable before its own configuration, so that is what
    changes; the connection pool is dropped so the next publish connects afresh."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def __enter__(self):
        from config.celery import app

        self.app = app
        self.saved = os.environ.get("CELERY_BROKER_URL")
        os.environ["CELERY_BROKER_URL"] = self.broker.url
        self._reset_pool()
        return self

    def _reset_pool(self) -> None:
        # Closed pools cannot be reused: drop them all so the next publish connects afresh.
        from kombu import pools

        pools.reset()
        self.app._pool = None
        self.app.amqp._producer_pool = None

    def __exit__(self, *exc) -> None:
        if self.saved is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = self.saved
        self._reset_pool()


def test_a_worker_killed_mid_task_is_redelivered_and_sends_once(broker, spawn, smtp, sheet):
    request = make_request(sheet)
    visibility = 3  # seconds a message handed to a worker stays unacked before it is restored
    smtp.rcpt_delay = 4.0  # the worker stalls in the SMTP conversation, before the message
    victim = spawn("worker", CELERY_VISIBILITY_TIMEOUT=str(visibility))
    enqueue(broker, request.pk)
    wait_until(lambda: smtp.recipients_offered > 0, "the report to be on its way")  # rendered

    victim.send_signal(signal.SIGKILL)  # while the server stalls on RCPT: mid-send
    victim.wait()
    assert smtp.messages == []  # the kill came before the message
    [handed_out_at] = broker.unacked_since()  # not acked: the dead worker still holds it
    smtp.rcpt_delay = 0.0
    # A starting worker restores only messages unacked for longer than the visibility timeout
    # (later, kombu looks again only every 100 s): wait for the broker's own deadline.
    wait_until(lambda: time.time() > handed_out_at + visibility, "the message to be visible")
    spawn("worker", CELERY_VISIBILITY_TIMEOUT=str(visibility))

    assert len(smtp.wait_for(1, timeout=45, settle=4)) == 1
    assert status_of(request.pk).status == "sent"


def test_stopping_the_worker_as_its_unit_does_lets_the_report_in_hand_finish_once(
    broker, spawn, smtp, sheet
):
    """systemd stops the worker unit with SIGTERM to the main process only (KillMode=mixed),
    and Celery's warm shutdown lets the child finish the report it is sending. With the
    default KillMode every child got SIGTERM too and died mid-send, and a report killed after
    the SMTP server took it but before its row was marked sent went out twice."""
    unit = (ROOT / "deploy" / "systemd" / "spinal-clinic-worker.service").read_text()
    assert "KillMode=mixed" in unit.splitlines()
    request = make_request(sheet)
    smtp.rcpt_delay = 3.0  # the stop comes while the report is being sent
    worker = spawn("worker", _pool=["--pool=prefork", "--concurrency=1"])
    enqueue(broker, request.pk)
    wait_until(lambda: smtp.recipients_offered > 0, "the report to be on its way")

    worker.send_signal(signal.SIGTERM)  # what KillMode=mixed sends, to the main process only

    assert worker.wait(timeout=60) == 0
    assert len(smtp.wait_for(1, settle=1)) == 1
    assert status_of(request.pk).status == "sent"


def test_the_same_task_on_two_workers_at_once_sends_one_email(broker, spawn, smtp, sheet):
    request = make_request(sheet)
    spawn("worker")
    spawn("worker")

    enqueue(broker, request.pk)
    enqueue(broker, request.pk)
    enqueue(broker, request.pk)

    messages = smtp.wait_for(1, settle=4)
    assert len(messages) == 1
    assert f"report-{request.pk}" in messages[0]["Message-ID"]
    assert status_of(request.pk).attempts == 1


def test_a_task_over_its_time_limit_is_failed_with_the_reason_and_the_worker_lives_on(
    broker, spawn, smtp, sheet
):
    slow, next_one = make_request(sheet, name="Slow"), make_request(sheet, name="Next")
    worker = spawn("worker", _pool=["--pool=prefork", "--concurrency=1"])
    smtp.rcpt_delay = 6.0
    # The limits travel in the message (the sender's CELERY_TASK_*_TIME_LIMIT settings).
    enqueue(broker, slow.pk, soft_time_limit=2, time_limit=4)

    wait_until(lambda: status_of(slow.pk).status == "failed", "the slow task to fail", 30)
    assert "TimeLimitExceeded" in status_of(slow.pk).last_error

    smtp.rcpt_delay = 0.0
    enqueue(broker, next_one.pk)
    wait_until(lambda: status_of(next_one.pk).status == "sent", "the next task to be sent", 30)
    assert worker.poll() is None


def test_task_messages_carry_only_the_request_id(broker, smtp_server, sheet, client):
    with _enqueue_via(broker):
        response = client.post(
            "/factsheets/spinal-metastases/report/",
            {"report-name": "Private Person", "report-email": "private.person@example.com",
             "report-consent": "on"},
        )  # fmt: skip

    assert response.status_code == 302
    [raw] = broker.queued_messages()
    message = json.loads(raw)
    body = json.loads(__import__("base64").b64decode(message["body"]))
    request = ReportRequest.objects.get()
    assert body[0] == [request.pk]
    assert b"Private" not in raw and b"private.person" not in raw
    assert b"Person" not in __import__("base64").b64decode(message["body"])
