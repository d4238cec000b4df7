"""Real services for the integration tests: an SMTP server on 127.0.0.1 inside the test
process, and a Celery worker process consuming from Redis and writing to the PostgreSQL test
database."""

import asyncio
import email
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPCollector:
    """An aiosmtpd handler that keeps every message, or answers with an error while told to."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received: list[tuple[list[str], bytes]] = []  # each message's RCPT TOs and bytes
        self.refuse_with: str | None = None
        self.refused = 0
        self.rcpt_delay = 0.0  # seconds to stall before accepting a recipient (a slow server)
        self.refuse_rcpt_with: str | None = None  # e.g. greylisting: "450 4.7.1 ..."
        self.recipients_offered = 0  # RCPT commands seen: a send is under way
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.recipients_offered += 1
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if self.refuse_rcpt_with:
            self.refused += 1
            return self.refuse_rcpt_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            self.refused += 1
            return self.refuse_with
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.received.clear()
        self.refuse_with = None
        self.refuse_rcpt_with = None
        self.refused = 0
        self.recipients_offered = 0
        self.rcpt_delay = 0.0

    def wait_for(self, count: int, *, timeout: float = 30.0, settle: float = 1.5) -> list:
        """Wait until ``count`` messages arrived, then a little longer to catch duplicates."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.1)
        time.sleep(settle)
        return list(self.messages)


def services_checks(base: str) -> dict:
    """The checks /healthz/services reports on the site at ``base``."""
    try:
        with urllib.request.urlopen(base + "/healthz/services", timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["checks"]
    except urllib.error.HTTPError as error:  # 503 while a check fails; the body says which
        return json.loads(error.read())["checks"]


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def smtp_server():
    collector = SMTPCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server) -> SMTPCollector:
    smtp_server.handler.clear()
    yield smtp_server.handler
    smtp_server.handler.clear()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, smtp_server):
    """A real `celery worker` process on Redis, pointed at the test database and SMTP server."""
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), "integration tests need CELERY_BROKER_URL=redis://..."
    redis.Redis.from_url(broker).flushdb()
    env = _service_env(smtp_server) | {"REPORT_RETRY_BASE_SECONDS": "0.5"}
    log_path = Path(settings.VAR_DIR) / "test-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", "test-worker@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.fixture
def worker(celery_worker_process, smtp):
    """The running worker, with an empty SMTP inbox; fails the test if the worker died."""
    assert celery_worker_process.poll() is None, "the Celery worker process has exited"
    return celery_worker_process


def _service_env(smtp_server) -> dict[str, str]:
    """Environment for a process of ours that must share the test database, Redis and SMTP."""
    db = settings.DATABASES["default"]
    return os.environ | {
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def site_server(django_db_setup, smtp_server):
    """The site under gunicorn (as in production) on a free loopback port, on the test database;
    static files come from STATIC_ROOT through WhiteNoise, collected by scripts/test.sh."""
    port = free_port()
    log_path = Path(settings.VAR_DIR) / "test-site.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--no-control-socket",
         "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--access-logfile", "-"],
        cwd=ROOT, env=_service_env(smtp_server), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()
