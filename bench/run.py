"""Run the benchmark suite and write bench/results.md and bench/results.json.

    .venv/bin/python -m bench.run            # the whole suite (about 8 minutes)
    .venv/bin/python -m bench.run --quick    # every target, briefly: checks the suite works

Uses its own PostgreSQL database (BENCH_DATABASE_URL, default spinal_bench_run, dropped and
made again) and Redis databases 5 (cache) and 6 (broker), so it never touches the test or
development data. Every server it starts listens on 127.0.0.1 only, has a time limit of its own
and is stopped by the suite.
"""

# ruff: noqa: S603, S607 (the suite runs its own fixed commands: apt-get, manage.py, nginx -v)

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .procs import ROOT, Processes, free_port, wait_for_port

BENCH_DIR = ROOT / "bench"
DEFAULTS = {
    "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/spinal_bench_run",
    "BENCH_BROKER_URL": "redis://127.0.0.1:6379/6",
    "BENCH_CACHE_URL": "redis://127.0.0.1:6379/5",
}
FULL = {"seconds": 4, "rounds": 5, "pdf_rounds": 3, "memory_reports": 300, "e2e_seconds": 60}
QUICK = {"seconds": 1, "rounds": 1, "pdf_rounds": 1, "memory_reports": 12, "e2e_seconds": 5}
SHEET = "spinal-metastases"  # the example: a 5-page report
MAX_TASKS_PER_CHILD = 100  # as deploy/Procfile and deploy/systemd recommend
E2E_WORKERS = 2


def bench_env(var_dir: Path) -> dict[str, str]:
    setting = {name: os.environ.get(name, default) for name, default in DEFAULTS.items()}
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": setting["BENCH_DATABASE_URL"],
        "CELERY_BROKER_URL": setting["BENCH_BROKER_URL"],
        "CACHE_URL": setting["BENCH_CACHE_URL"],
        "EMAIL_URL": "consolemail://",  # the worker's processes get the bench's SMTP server
        "SECRET_KEY": "bench-only-secret-key-not-for-production",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "CLINIC_NOTIFY_EMAIL": "triage@example.org",
        "DEFAULT_FROM_EMAIL": "Spinal Clinic <no-reply@example.org>",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "staticfiles"),
        "BENCH_PAGE_FILE": str(var_dir / "sheet-page.html"),
        # Thousands of posts from one address in seconds: the abuse limits would (rightly)
        # refuse them, and they are not what target 4 measures.
        "FORM_RATE_PER_IP": "100000000/h",
        "FORM_RATE_PER_EMAIL": "100000000/h",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }


def ensure_tools() -> None:
    """nginx and wrk from Debian, installed the way scripts/bootstrap.sh installs packages."""
    missing = [tool for tool in ("nginx", "wrk") if not _which(tool)]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print(f"==> Installing {' '.join(missing)}", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
    )


def _which(tool: str) -> str | None:
    return shutil.which(tool) or next(
        (str(p) for p in (Path("/usr/sbin") / tool, Path("/usr/bin") / tool) if p.exists()), None
    )


def prepare_database(env: dict[str, str]) -> None:
    """A new database for this run, with the shipped sheets; empty cache and broker."""
    import psycopg2
    import redis
    from psycopg2 import sql

    subprocess.run([str(ROOT / "scripts" / "services.sh")], check=True, stdout=subprocess.DEVNULL)
    url = env["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        database = sql.Identifier(name)
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(database))
    admin.close()
    for redis_url in (env["CELERY_BROKER_URL"], env["CACHE_URL"]):
        redis.Redis.from_url(redis_url).flushdb()
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_factsheets"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run(manage + command, check=True, env=env, stdout=subprocess.DEVNULL)


# What the measured processes run; a change elsewhere (docs, tests, scripts) does not matter.
CODE_PATHS = (
    "config", "factsheets", "leads", "reports", "templates", "static", "bench", "deploy",
    "manage.py", "pyproject.toml",
)  # fmt: skip


def tree_state() -> str:
    """A digest of the code the run measures, committed and not: the tree is shared with
    others, and a change in the middle of a run (a new migration, say) would make its later
    targets measure something else."""
    import hashlib

    parts = []
    for argv in (
        ["rev-parse", *(f"HEAD:{path}" for path in CODE_PATHS)],
        ["diff", "HEAD", "--", *CODE_PATHS],
        ["status", "--porcelain", "--", *CODE_PATHS],
    ):
        done = subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, timeout=30)
        parts.append(done.stdout)
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def versions() -> dict[str, str]:
    import platform
    from importlib.metadata import version

    def run(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        lines = (done.stdout + done.stderr).strip().splitlines()
        return lines[0] if lines else ""

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    commit = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if run(["git", "-C", str(ROOT), "status", "--porcelain"]) not in ("", "?"):
        commit += " (the working tree has other, uncommitted changes)"
    packages = ("django", "weasyprint", "gunicorn", "celery", "redis", "psycopg2-binary")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": platform.release(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        **{package: version(package) for package in packages},
        "nginx": run([_which("nginx") or "nginx", "-v"]),
        "wrk": run(["wrk", "--version"]),
        "postgresql": run(["psql", "--version"]),
        "redis-server": run(["redis-server", "--version"]),
        "git commit": commit,
    }


@contextlib.contextmanager
def step(results: dict, name: str) -> Iterator[None]:
    """Run one target; a failure is recorded in the results and the suite goes on."""
    started = time.monotonic()
    print(f"==> {name}", flush=True)
    try:
        yield
    except Exception as exc:  # noqa: BLE001 (reported in results.md, the rest still runs)
        results.setdefault("failures", {})[name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        results.setdefault("seconds", {})[name] = round(time.monotonic() - started, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every target, briefly")
    parser.add_argument(
        "--out", type=Path, help="where results go (bench/, or var/bench/ for --quick)"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    var_dir = ROOT / "var" / "bench"
    shutil.rmtree(var_dir, ignore_errors=True)
    (var_dir / "logs").mkdir(parents=True)
    env = bench_env(var_dir)
    os.environ.update(env)
    started = time.monotonic()
    tree_at_start = tree_state()

    ensure_tools()
    prepare_database(env)

    import django

    django.setup()

    from . import pdf, web, worker
    from .report import write_results
    from .smtp import SMTPServer

    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "plan": plan,
        "machine": versions(),
    }
    sheet_path = f"/factsheets/{SHEET}/"
    with Processes(var_dir / "logs") as procs, SMTPServer() as smtp:
        app_port = free_port()
        gunicorn, gunicorn_log = procs.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{app_port}", "config.wsgi"],
            env=env | {"EMAIL_URL": smtp.url},
            limit=1200,
        )  # fmt: skip
        wait_for_port(app_port, proc=gunicorn, log=gunicorn_log)
        page = web.request(app_port, sheet_path)
        assert page.status == 200, page.status
        Path(env["BENCH_PAGE_FILE"]).write_bytes(page.body)
        reference_dir = var_dir / "static-reference"
        reference_dir.mkdir()
        (reference_dir / "sheet.html").write_bytes(page.body)
        same = web.request(app_port, web.REFERENCE_PATH).body == page.body
        results["reference_bytes_identical"] = same

        with step(results, "1. sheet page, app alone"):
            results["target1"] = web.sheet_vs_reference(
                app_port, sheet_path, seconds=plan["seconds"], rounds=plan["rounds"]
            )

        nginx_port = free_port()
        conf = _nginx_config(var_dir, nginx_port, app_port, env, reference_dir)
        nginx, nginx_log = procs.start(
            "nginx", [_which("nginx") or "nginx", "-c", str(conf), "-p", str(var_dir / "nginx")],
            env=env, limit=900,
        )  # fmt: skip
        wait_for_port(nginx_port, proc=nginx, log=nginx_log)
        with step(results, "2. sheet page through nginx"):
            results["target2"] = web.through_nginx(
                nginx_port, sheet_path, seconds=plan["seconds"], rounds=plan["rounds"]
            )
        with step(results, "3. cacheable pages"):
            results["target3"] = web.cacheability(
                app_port=app_port,
                nginx_port=nginx_port,
                sheet_path=sheet_path,
                reference_dir=reference_dir,
                edit_sheet=_edit_sheet,
            )
        procs.stop(nginx)

        with step(results, "4. form posts"):
            results["target4"] = web.posts_vs_gets(
                app_port, SHEET, seconds=plan["seconds"], rounds=plan["rounds"],
                count_rows=_rows_tagged,
            )  # fmt: skip
            results["target4"]["floors"] = web.post_floors(
                app_port, SHEET, seconds=plan["seconds"], rounds=min(plan["rounds"], 3)
            )
        _empty_queue(env)

        with step(results, "5. personalised PDF"):
            results["target5"] = pdf.benchmark(_sample_reports(), rounds=plan["pdf_rounds"])

        worker_env = env | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "EMAIL_URL": smtp.url,
            "LOG_LEVEL": "INFO",
        }
        with step(results, "6. worker memory and first report"):
            results["target6"] = worker.memory(
                procs,
                worker_env,
                smtp.inbox,
                create_reports=_create_reports,
                count=plan["memory_reports"],
                max_tasks_per_child=MAX_TASKS_PER_CHILD,
            )
        with step(results, "7. end to end"):
            results["target7"] = worker.end_to_end(
                procs,
                worker_env,
                smtp.inbox,
                app_port=app_port,
                slugs=[report.sheet.slug for report in _sample_reports()],
                seconds=plan["e2e_seconds"],
                concurrency=E2E_WORKERS,
                max_tasks_per_child=MAX_TASKS_PER_CHILD,
            )
    if tree_state() != tree_at_start:
        results.setdefault("failures", {})["the code"] = (
            "the working tree changed during the run; later targets may have measured other "
            "code (run again)"
        )
    results["total_seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out = args.out or (var_dir if args.quick else BENCH_DIR)
    md, js = write_results(results, out, quick=args.quick)
    print(f"==> Wrote {md} and {js} in {results['total_seconds']} s", flush=True)
    return 1 if results.get("failures") else 0


def _nginx_config(var_dir, nginx_port, app_port, env, reference_dir) -> Path:
    from .nginx import write_config

    return write_config(
        workdir=var_dir / "nginx",
        port=nginx_port,
        app_port=app_port,
        static_root=Path(env["STATIC_ROOT"]),
        reference_dir=reference_dir,
    )


@contextlib.contextmanager
def _edit_sheet(marker: str) -> Iterator[None]:
    """Change the sheet the way a save in admin does (the model's signals), then put it back."""
    from factsheets.models import FactSheet

    sheet = FactSheet.objects.get(slug=SHEET)
    original = sheet.subtitle
    sheet.subtitle = marker
    sheet.save()
    try:
        yield
    finally:
        sheet.subtitle = original
        sheet.save()


def _rows_tagged(tag: str) -> int:
    from leads.models import ReportRequest

    return ReportRequest.objects.filter(email__startswith=f"bench-{tag}-").count()


def _empty_queue(env: dict[str, str]) -> None:
    """Target 4's thousands of tasks are not for the workers that follow."""
    import redis

    time.sleep(3)  # posts still in flight when wrk stopped enqueue their tasks by now

    from leads.models import ReportRequest, ReportStatus

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    ReportRequest.objects.filter(email__startswith="bench-").update(status=ReportStatus.SENT)


NAMES = ["Ada Patient", "Siobhán Nguyễn", "Oluwaseun Adébáyọ̀", "Zoë Ångström", "Mohammed Al-Farsi"]


def _new_report(sheet, index: int, tag: str, *, enqueue: bool):
    """A report request as the form makes it: some signs ticked, a name from the list."""
    from leads.models import REPORT_CONSENT_VERSION, ReportRequest
    from leads.services import create_report_request, self_check_fields

    flags = list(sheet.red_flags.all())
    ticked = [flag.pk for flag in flags[index % 3 :: 3]]
    name = f"{NAMES[index % len(NAMES)]} {index}"
    email = f"worker-{tag}-{index}@example.com"
    if enqueue:
        return create_report_request(
            sheet=sheet, name=name, email=email, ticked_flag_ids=ticked, cancer_history=True
        )
    from django.utils import timezone

    return ReportRequest.objects.create(
        sheet=sheet, name=name, email=email, consent_version=REPORT_CONSENT_VERSION,
        consented_at=timezone.now(), **self_check_fields(sheet, ticked, True),
    )  # fmt: skip


def _sample_reports():
    """One report on each of three sheets, the issue's example first (not enqueued). Target 7
    posts on the same three, so its reference (target 5's median) is the same reports'."""
    from factsheets.models import FactSheet

    sheets = list(FactSheet.objects.published().with_content())
    sheets.sort(key=lambda s: (s.slug != SHEET, s.slug))
    return [_new_report(sheet, i, "pdf", enqueue=False) for i, sheet in enumerate(sheets[:3])]


def _create_reports(count: int, tag: str) -> list[int]:
    """``count`` reports through the real service, each enqueued on commit."""
    from factsheets.models import FactSheet

    sheets = list(FactSheet.objects.published().with_content())
    offset = len(list(_created.setdefault(tag, [])))
    ids = []
    for index in range(offset, offset + count):
        ids.append(_new_report(sheets[index % len(sheets)], index, tag, enqueue=True).pk)
    _created[tag].extend(ids)
    return ids


_created: dict[str, list[int]] = {}


if __name__ == "__main__":
    sys.exit(main())
