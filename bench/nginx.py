"""nginx for the benchmarks: the shipped snippets in deploy/nginx/, on 127.0.0.1, with only their
paths and the gunicorn address swapped, plus one reference location serving the sheet page's
bytes as a plain static file."""

import getpass
import os
import shutil
from pathlib import Path

from .procs import ROOT

DEPLOY = ROOT / "deploy" / "nginx"
STATIC_REFERENCE = "/bench-static/"


def _swap(text: str, replacements: dict[str, str], name: str) -> str:
    for old, new in replacements.items():
        if old not in text:
            raise RuntimeError(f"deploy/nginx/{name} no longer contains {old!r}; update bench/")
        text = text.replace(old, new)
    return text


def write_config(
    *, workdir: Path, port: int, app_port: int, static_root: Path, reference_dir: Path
) -> Path:
    """Write nginx.conf (and the swapped snippets) into ``workdir``; returns its path."""
    cache_dir = workdir / "cache"
    for sub in ("cache", "tmp", "logs"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    proxy = workdir / "spinal-clinic-proxy.conf"
    shutil.copyfile(DEPLOY / "spinal-clinic-proxy.conf", proxy)
    http = workdir / "spinal-clinic-http.conf"
    http.write_text(
        _swap(
            (DEPLOY / "spinal-clinic-http.conf").read_text(),
            {
                "/var/cache/nginx/spinal-clinic": str(cache_dir),
                "127.0.0.1:8000": f"127.0.0.1:{app_port}",
            },
            "spinal-clinic-http.conf",
        )
    )
    locations = workdir / "spinal-clinic-locations.conf"
    locations.write_text(
        _swap(
            (DEPLOY / "spinal-clinic-locations.conf").read_text(),
            {
                "/srv/spinal-clinic/static/": f"{static_root}/",
                "/etc/nginx/snippets/spinal-clinic-proxy.conf": str(proxy),
            },
            "spinal-clinic-locations.conf",
        )
    )
    tmp = workdir / "tmp"
    conf = workdir / "nginx.conf"
    # Same connection handling for the page and the static reference: one server, keep-alive,
    # sendfile, no access log (the disk is shared and noisy).
    # Started as root, nginx would drop its workers to "nobody", who cannot use these folders.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
worker_processes auto;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {http};
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        location {STATIC_REFERENCE} {{ alias {reference_dir}/; }}
        include {locations};
    }}
}}
""")
    return conf
