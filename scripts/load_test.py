"""A bounded load test on loopback: page views and report-form posts for 60 s against gunicorn,
PostgreSQL, Redis and Celery workers, then a check that every accepted post was emailed
exactly once. Writes docs/load-test.md.

    scripts/bootstrap.sh --test && .venv/bin/python scripts/load_test.py [--seconds 60]

Every server it starts listens on 127.0.0.1 only and is stopped at the end; the run is
bounded in time (the load phase, then at most --drain seconds for the queue to empty).
"""

import argparse
import http.client
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from email import message_from_bytes, policy
from pathlib import Path

import psycopg2
import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "spinal_loadtest"
SHEETS = ["spinal-metastases", "cauda-equina-syndrome", "multiple-myeloma", "osteoporosis"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"sheet": [], "home": [], "post": []}
        self.errors: list[str] = []
        self.accepted_posts = 0

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            if not ok:
                self.errors.append(f"{kind}: {detail}")


def viewer(port: int, stop: float, stats: Stats) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < stop:
        kind = "home" if random.random() < 0.15 else "sheet"  # noqa: S311 (load mix only)
        path = "/" if kind == "home" else f"/factsheets/{random.choice(SHEETS)}/"  # noqa: S311
        started = time.monotonic()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            stats.record(
                kind, time.monotonic() - started, response.status == 200, str(response.status)
            )
        except Exception as error:  # noqa: BLE001 (counted as an error)
            stats.record(kind, time.monotonic() - started, False, repr(error))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def poster(port: int, stop: float, stats: Stats, interval: float, offset: int) -> None:
    origin = f"http://127.0.0.1:{port}"
    number = 0
    while time.monotonic() < stop:
        number += 1
        body = urllib.parse.urlencode(
            {
                "report-name": f"Load Test {offset}-{number}",
                "report-email": f"load-{offset}-{number}@example.com",
                "report-consent": "on",
            }
        )
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(
                "POST",
                "/factsheets/spinal-metastases/report/",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": origin},
            )
            response = connection.getresponse()
            response.read()
            ok = response.status == 302
            stats.record("post", time.monotonic() - started, ok, str(response.status))
            if ok:
                with stats.lock:
                    stats.accepted_posts += 1
        except Exception as error:  # noqa: BLE001 (counted as an error)
            stats.record("post", time.monotonic() - started, False, repr(error))
        finally:
            connection.close()
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--viewers", type=int, default=8)
    parser.add_argument("--posts-per-second", type=float, default=2.0)
    parser.add_argument("--drain", type=float, default=240)
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "docs" / "load-test.md"))
    args = parser.parse_args()

    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(broker).flushdb()

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = os.environ | {
        "DEBUG": "false",
        "SECRET_KEY": "load-test-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "CLINIC_NOTIFY_EMAIL": "triage@example.org",
        "DEFAULT_FROM_EMAIL": "Spinal Clinic <no-reply@example.org>",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "FORM_RATE_PER_IP": "100000/m",
        "FORM_RATE_PER_EMAIL": "100000/m",
        "VAR_DIR": str(ROOT / "var" / "loadtest"),
        "STATIC_ROOT": str(ROOT / "var" / "loadtest" / "static"),
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    setup = (["migrate", "-v0"], ["load_factsheets"], ["collectstatic", "--noinput", "-v0"])
    for command in setup:
        subprocess.run(  # noqa: S603 (our own manage.py)
            [python, "manage.py", *command],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    processes = [
        subprocess.Popen(  # noqa: S603 (our own servers, loopback only)
            [python, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "3", "--log-level", "warning"],
            cwd=ROOT, env=env,
        ),
        subprocess.Popen(  # noqa: S603
            [python, "-m", "celery", "-A", "config", "worker", "--concurrency", "2",
             "--loglevel", "WARNING"],
            cwd=ROOT, env=env,
        ),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(3)  # the worker's start

        stats = Stats()
        started = time.monotonic()
        stop = started + args.seconds
        threads = [
            threading.Thread(target=viewer, args=(port, stop, stats)) for _ in range(args.viewers)
        ]
        threads.append(
            threading.Thread(target=poster, args=(port, stop, stats, 1 / args.posts_per_second, 1))
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=DB_NAME) as db:
            drain_deadline = time.monotonic() + args.drain
            while True:
                with db.cursor() as cursor:
                    cursor.execute(
                        "SELECT status, count(*) FROM leads_reportrequest GROUP BY status"
                    )
                    by_status = dict(cursor.fetchall())
                db.commit()
                if by_status.get("queued", 0) == 0 or time.monotonic() > drain_deadline:
                    break
                time.sleep(1)
        drained = time.monotonic() - started - elapsed
        time.sleep(2)  # any duplicate would arrive now
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()

    saved = sum(by_status.values())
    sent = by_status.get("sent", 0)
    unique = len(set(inbox.message_ids))
    gets = stats.latency["sheet"] + stats.latency["home"]
    # A post whose answer the client did not wait for may still have been saved: what must
    # hold is that every saved request was emailed exactly once, and none accepted was lost.
    passed = (
        not stats.errors
        and stats.accepted_posts <= saved == sent == len(inbox.message_ids) == unique
    )
    lines = [
        "# Load test",
        "",
        f"Run of `scripts/load_test.py` ({args.seconds:.0f} s of load, loopback only) on "
        f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; gunicorn (3 sync workers), PostgreSQL, Redis, one "
        "Celery worker (2 processes), an SMTP server in the script.",
        "",
        f"Mix: {args.viewers} clients reading sheet pages (85 %) and the home page (15 %) "
        f"back to back, and one client posting the report form {args.posts_per_second:g} "
        "times a second, each with a new email address.",
        "",
        "| what | count | rate (/s) | p50 (ms) | p95 (ms) | p99 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in [("page views", gets), ("report posts", stats.latency["post"])]:
        lines.append(
            f"| {name} | {len(values)} | {len(values) / elapsed:.1f} | "
            f"{percentile(values, 50) * 1000:.1f} | {percentile(values, 95) * 1000:.1f} | "
            f"{percentile(values, 99) * 1000:.1f} |"
        )
    lines += [
        "",
        f"- Errors: {len(stats.errors)}" + (f" (first: {stats.errors[0]})" if stats.errors else ""),
        f"- Posts accepted (302): {stats.accepted_posts}; rows saved: {saved}; marked sent: "
        f"{sent}; emails received: {len(inbox.message_ids)}, distinct Message-IDs: {unique}.",
        f"- The queue emptied {drained:.0f} s after the load stopped (PDFs render at a few a "
        "second on two shared cores).",
        f"- Result: **{'pass' if passed else 'FAIL'}**: "
        + (
            "no errors; every accepted request was saved and emailed exactly once."
            if passed
            else "see the counts above."
        ),
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
