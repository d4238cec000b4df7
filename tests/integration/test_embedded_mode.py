"""The README's run mode, for real: SQLite, a worker on the filesystem broker, .eml files.

Starts the same processes scripts/run.sh starts, in a fresh folder, with none of the production
settings in the environment, and sends a report request through the running site.
"""

import email
import http.cookiejar
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path

import pytest

from tests.config.test_settings import SETTINGS_VARS
from tests.integration.conftest import free_port, services_checks

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded_site(tmp_path):
    # Nor the test run's own Redis cache (scripts/test.sh): the embedded mode has none.
    env = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "CACHE_URL")}
    env |= {"DEBUG": "true", "VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["load_factsheets"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    worker_log, web_log = (logs / "worker.log").open("w"), (logs / "web.log").open("w")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            manage + ["runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):  # noqa: S310 (loopback)
                break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail((logs / "web.log").read_text())
            time.sleep(0.3)
    yield base, tmp_path, env
    for process in processes:
        process.terminate()
        process.wait(timeout=20)
    worker_log.close()
    web_log.close()


def test_embedded_mode_writes_the_report_email_as_an_eml_file(embedded_site):
    base, var_dir, _ = embedded_site
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(base + "/factsheets/spinal-metastases/") as response:
        assert "Get this report by email" in response.read().decode()
    form = urllib.parse.urlencode(
        {
            "report-name": "Nguyễn Văn An",
            "report-email": "an@example.com",
            "report-consent": "on",
        }
    ).encode()
    request = urllib.request.Request(
        base + "/factsheets/spinal-metastases/report/",
        data=form,
        headers={"Origin": base, "Referer": base + "/factsheets/spinal-metastases/"},
    )

    with opener.open(request) as response:
        confirmation = response.read().decode()

    assert "Your report is on its way" in confirmation
    deadline = time.monotonic() + 30
    while not list((var_dir / "emails").glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.3)
    [eml] = list((var_dir / "emails").glob("*.eml"))
    # It holds the patient's PDF: for the site's own user alone, whatever the umask.
    assert (stat.S_IMODE(eml.stat().st_mode), stat.S_IMODE(eml.parent.stat().st_mode)) == (
        0o600,
        0o700,
    )
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "an@example.com"
    assert [p.get_content_type() for p in message.iter_attachments()] == ["application/pdf"]
    # The broker keeps all its state under VAR_DIR: kombu's default control folder is relative
    # to the working directory, which here (as in scripts/run.sh) is the source tree.
    assert {f.name for f in (var_dir / "broker" / "control").iterdir()} >= {
        "celery.exchange",
        "celery.pidbox.exchange",
    }


def test_the_web_process_hears_the_workers_heartbeat(embedded_site):
    """Each process keeps its own memory cache here, so a heartbeat kept there by the worker
    never reached the web process: /healthz/services said 503 "no recent heartbeat" while the
    worker ran. The heartbeat is sent as beat sends it, through the broker to the worker."""
    base, _, env = embedded_site
    assert services_checks(base)["worker"] == "no recent heartbeat"
    send = "import django; django.setup(); from config.celery import heartbeat; heartbeat.delay()"
    subprocess.run([sys.executable, "-c", send], cwd=ROOT, env=env, check=True)

    deadline = time.monotonic() + 30
    while services_checks(base)["worker"] != "ok" and time.monotonic() < deadline:
        time.sleep(0.3)

    assert services_checks(base)["worker"] == "ok"
