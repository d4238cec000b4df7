"""The shipped nginx site (deploy/nginx/spinal-clinic.conf) in front of the site under
gunicorn, on loopback ports with a throwaway certificate: what a load balancer and the access
log see."""

import contextlib
import http.client
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, _service_env, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DEPLOY = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextlib.contextmanager
def _shipped_nginx(tmp_path: Path, app_port: str, static_root: str):
    """nginx with the shipped site config, only its paths, ports and certificate swapped.
    Yields the HTTP and HTTPS ports; the logs are written in ``tmp_path``."""
    http_port, https_port = free_port(), free_port()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=clinic.example.org", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    swaps = {
        "/etc/nginx/snippets/": f"{tmp_path}/",
        "/var/cache/nginx/spinal-clinic": str(tmp_path / "cache"),
        "127.0.0.1:8000": f"127.0.0.1:{app_port}",
        "/srv/spinal-clinic/static/": f"{static_root}/",
        "/var/log/nginx/": f"{tmp_path}/",
        "/etc/letsencrypt/live/clinic.example.org/fullchain.pem": str(tmp_path / "cert.pem"),
        "/etc/letsencrypt/live/clinic.example.org/privkey.pem": str(tmp_path / "key.pem"),
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen [::]:80;": "",
        "listen [::]:443 ssl http2;": "",
    }
    for name in ("spinal-clinic.conf", "spinal-clinic-http.conf",
                 "spinal-clinic-locations.conf", "spinal-clinic-proxy.conf"):  # fmt: skip
        text = (DEPLOY / name).read_text()
        for old, new in swaps.items():
            text = text.replace(old, new)
        (tmp_path / name).write_text(text)
    (tmp_path / "cache").mkdir()
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    # The main error log as Debian's nginx.conf has it (level "error"), for what the site's
    # servers do not log themselves.
    conf.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; daemon off;\n"
        "user root;\nevents { worker_connections 64; }\n"
        f"http {{ include /etc/nginx/mime.types; client_body_temp_path {tmp_path}/tmp/b;\n"
        f"proxy_temp_path {tmp_path}/tmp/p; fastcgi_temp_path {tmp_path}/tmp/f;\n"
        f"uwsgi_temp_path {tmp_path}/tmp/u; scgi_temp_path {tmp_path}/tmp/s;\n"
        f"include {tmp_path}/spinal-clinic.conf; }}\n"
    )
    errors = tmp_path / "nginx-start.log"
    with errors.open("w") as stderr:
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=stderr)
    deadline = time.monotonic() + 15
    while not (tmp_path / "nginx.pid").exists():
        if nginx.poll() is not None or time.monotonic() > deadline:
            nginx.kill()
            pytest.fail(f"nginx did not start: {errors.read_text()}")
        time.sleep(0.1)
    try:
        yield http_port, https_port
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


@pytest.fixture
def nginx_site(site_server, tmp_path, settings):
    with _shipped_nginx(tmp_path, site_server.rsplit(":", 1)[1], settings.STATIC_ROOT) as ports:
        yield *ports, tmp_path / "spinal-clinic.access.log"


def _get(
    port: int, path: str, *, tls: bool = False, headers: dict | None = None
) -> http.client.HTTPResponse:
    if tls:
        context = ssl._create_unverified_context()  # noqa: S323 (a throwaway certificate)
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "testserver"} | (headers or {}))
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_load_balancer_probe_over_plain_http_gets_the_app_not_a_redirect(nginx_site):
    http_port, _https, _log = nginx_site

    assert _get(http_port, "/healthz").status == 200
    moved = _get(http_port, "/factsheets/")
    assert moved.status == 301
    assert moved.getheader("Location").startswith("https://")


def test_the_access_log_keeps_no_search_terms(nginx_site, shipped_sheets):
    _http, https_port, log = nginx_site

    assert _get(https_port, "/search/?q=jane.doe%40example.com", tls=True).status == 200
    assert _get(https_port, "/admin/leads/?q=07700900123", tls=True).status in (200, 302)

    deadline = time.monotonic() + 5
    while log.read_text().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    written = log.read_text()
    assert '"GET /search/ HTTP/1.1" 200' in written
    assert '"GET /admin/leads/ HTTP/1.1"' in written  # both lines are there to be checked
    assert "jane.doe" not in written
    assert "07700900123" not in written


def test_with_the_app_down_no_log_keeps_search_terms(tmp_path, settings):
    """While gunicorn restarts (an upgrade) or times out, nginx answers 502 or 504 and writes
    an error line quoting the request and its referrer, query strings included: a staff
    search by name or phone, or a patient's, must not land in any log that way either."""
    dead_app = str(free_port())  # nothing listens there: connection refused
    with _shipped_nginx(tmp_path, dead_app, settings.STATIC_ROOT) as (_http, https_port):
        staff_page = "https://testserver/admin/leads/consultationrequest/?q=07700900123"
        failed = _get(
            https_port, "/search/?q=jane.doe%40example.com", tls=True,
            headers={"Referer": staff_page},
        )  # fmt: skip
        assert failed.status == 502
        time.sleep(0.5)  # nginx writes its logs as it goes; give it a moment

    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    assert '"GET /search/ HTTP/1.1" 502' in logs["spinal-clinic.access.log"]
    for name, text in logs.items():
        assert "jane.doe" not in text, name
        assert "07700900123" not in text, name


def test_gunicorn_access_log_as_shipped_keeps_no_search_terms(tmp_path, smtp_server):
    """deploy/gunicorn.conf.py's access log (GUNICORN_ACCESS_LOG), on its own port."""
    port, log = free_port(), tmp_path / "gunicorn-access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "config.wsgi"],
        cwd=ROOT, env=_service_env(smtp_server) | {"GUNICORN_ACCESS_LOG": str(log)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = _get(port, "/search/?q=jane.doe%40example.com")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn start"
                time.sleep(0.2)
        assert response.status == 200
        while "GET /search/" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        written = log.read_text()
        assert '"GET /search/ HTTP/1.1" 200' in written
        assert "jane.doe" not in written
    finally:
        server.terminate()
        server.wait(timeout=20)
