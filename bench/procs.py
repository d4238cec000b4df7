"""The processes a benchmark starts: each bound to 127.0.0.1, each with a time limit, and all
stopped by the suite, by their own process ids, however the run ends."""

# ruff: noqa: S603, S607 (the suite runs its own fixed commands: gunicorn, celery, nginx, wrk)

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{log.name}: nothing listening on {port}:\n{tail(log)}"
                ) from exc
            time.sleep(0.1)


def wait_for_text(text: str, *, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{log.name}: {text!r} never appeared:\n{tail(log)}")
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Processes:
    """Starts processes in their own process groups and stops every one of them on exit.

    ``limit`` is each process's own time limit (coreutils ``timeout``), so nothing outlives the
    suite even if the suite itself is killed without a chance to clean up.
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, argv: Sequence[str], *, env: dict[str, str], limit: int = 900
    ) -> tuple[subprocess.Popen, Path]:
        log = self.log_dir / f"{name}.log"
        handle = log.open("w")
        proc = subprocess.Popen(
            ["timeout", "--signal=TERM", "--kill-after=10", str(limit), *argv],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so stopping it stops its children
        )
        handle.close()
        self.running.append((name, proc))
        return proc, log

    def stop(self, proc: subprocess.Popen, *, grace: float = 15) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.running = [(n, p) for n, p in self.running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.running)):
            self.stop(proc)

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
