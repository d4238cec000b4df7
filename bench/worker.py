"""Targets 6 and 7: a real Celery worker process rendering and emailing reports.

6. Memory over 300 consecutive reports, and the first report after the worker starts against
   a warm one (task run times from the worker's own log).
7. End to end at a steady 1 report a second for 60 s with 2 workers: from the POST to the
   email accepted by the local SMTP server.
"""

import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from .load import percentile, spread
from .procs import Processes, wait_for_text
from .smtp import Inbox
from .web import post_report

SUCCEEDED = re.compile(
    r"/(?P<process>[\w-]+)\][^\n]*reports\.send_report\[[^\]]+\] succeeded in (?P<seconds>[\d.]+)s"
)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the RSS of a worker's main process and its pool children every 50 ms."""

    def __init__(self, launcher_pid: int) -> None:
        super().__init__(daemon=True)
        self.launcher_pid = launcher_pid  # coreutils timeout; celery is its only child
        self.samples: list[tuple[float, int, str, float]] = []  # (t, pid, role, MB)
        self._stop = threading.Event()

    def main_pid(self) -> int | None:
        children = _children(self.launcher_pid)
        return children[0] if children else None

    def pool_pids(self) -> list[int]:
        main = self.main_pid()
        return _children(main) if main else []

    def run(self) -> None:
        main, children, tick = None, [], 0
        while not self._stop.wait(0.05):
            # Finding processes walks /proc, which costs CPU the worker needs: twice a second
            # is often enough to see a replacement child; its memory is read every 50 ms.
            if tick % 10 == 0 or main is None:
                main = self.main_pid()
                children = _children(main) if main else []
            tick += 1
            if main is None:
                continue
            now = time.monotonic()
            if (rss := _rss_mb(main)) is not None:
                self.samples.append((now, main, "main", rss))
            for child in children:
                if (rss := _rss_mb(child)) is not None:
                    self.samples.append((now, child, "child", rss))

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=5)

    def child_peak(self) -> float:
        return max((mb for _, _, role, mb in self.samples if role == "child"), default=0.0)

    def main_peak(self) -> float:
        return max((mb for _, _, role, mb in self.samples if role == "main"), default=0.0)


def task_times(log: Path) -> list[tuple[str, float]]:
    """(pool process name, seconds) of each report task, in the order they finished."""
    return [
        (m["process"], float(m["seconds"]) * 1000)
        for m in SUCCEEDED.finditer(log.read_text(errors="replace"))
    ]


def _worker_argv(name: str, *, concurrency: int, max_tasks_per_child: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
        f"--concurrency={concurrency}", f"--max-tasks-per-child={max_tasks_per_child}",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"{name}@%h",
    ]  # fmt: skip


def memory(
    procs: Processes,
    env: dict[str, str],
    inbox: Inbox,
    *,
    create_reports: Callable[[int, str], list[int]],
    count: int,
    max_tasks_per_child: int,
) -> dict:
    """Target 6: one worker (one pool child at a time), ``count`` reports in a row."""
    inbox.clear()
    proc, log = procs.start(
        "worker-memory",
        _worker_argv("bench-memory", concurrency=1, max_tasks_per_child=max_tasks_per_child),
        env=env,
        limit=600,
    )
    try:
        started = time.monotonic()
        wait_for_text("ready.", proc=proc, log=log, timeout=120)
        ready_seconds = time.monotonic() - started
        sampler = RssSampler(proc.pid)
        sampler.start()
        time.sleep(0.5)
        child_rss_idle = max((_rss_mb(pid) or 0.0) for pid in sampler.pool_pids() or [0])
        tag = uuid.uuid4().hex[:8]
        # The first report alone, so the child's memory after it is read while it is idle.
        ids = create_reports(1, tag)
        if not inbox.wait_for(1, timeout=60):
            raise RuntimeError("the first report never arrived")
        time.sleep(0.3)
        pool = sampler.pool_pids()
        rss_after_first = max((_rss_mb(pid) or 0.0) for pid in pool) if pool else float("nan")
        ids += create_reports(count - 1, tag)
        delivered = inbox.wait_for(count, timeout=max(120, count * 1.5))
        time.sleep(1.0)  # anything sent twice would arrive now
        sampler.stop()
    finally:
        procs.stop(proc)
    messages = inbox.snapshot()
    times = task_times(log)
    first_ms = times[0][1] if times else float("nan")
    # The first task of each replacement child (same fork of the warm main process).
    seen: set[str] = {times[0][0]} if times else set()
    replacement_first: list[float] = []
    warm: list[float] = []
    for process, ms in times[1:]:
        if process not in seen:
            seen.add(process)
            replacement_first.append(ms)
        else:
            warm.append(ms)
    warm_median = statistics.median(warm) if warm else float("nan")
    peak = sampler.child_peak()
    by_report = _count_by_report(messages)
    return {
        "reports": count,
        "delivered": len(messages),
        "all_delivered": delivered and set(by_report) == set(ids),
        "duplicates": sum(n - 1 for n in by_report.values() if n > 1),
        "max_tasks_per_child": max_tasks_per_child,
        "children_used": len(seen),
        "worker_ready_seconds": round(ready_seconds, 2),
        "child_rss_idle_mb": round(child_rss_idle, 1),
        "child_rss_after_first_mb": round(rss_after_first, 1),
        "child_rss_peak_mb": round(peak, 1),
        "main_rss_peak_mb": round(sampler.main_peak(), 1),
        "memory_ratio": peak / rss_after_first,
        "first_task_ms": round(first_ms, 1),
        "replacement_child_first_task_ms": [round(ms, 1) for ms in replacement_first],
        "warm_task_ms": {k: round(v, 1) for k, v in spread(warm).items()},
        "first_vs_warm": first_ms / warm_median,
        "rss_series_mb": _downsample(sampler.samples),
    }


def _count_by_report(messages) -> dict[int, int]:
    counts: dict[int, int] = {}
    for message in messages:
        if message.report_id is not None:
            counts[message.report_id] = counts.get(message.report_id, 0) + 1
    return counts


def _downsample(samples, every: float = 1.0) -> list[dict]:
    """One child and one main reading a second, for the JSON file."""
    series, last = [], -every
    start = samples[0][0] if samples else 0.0
    for t, _pid, role, mb in samples:
        if role == "child" and t - last >= every:
            series.append({"t": round(t - start, 1), "child_mb": round(mb, 1)})
            last = t
    return series


def end_to_end(
    procs: Processes,
    env: dict[str, str],
    inbox: Inbox,
    *,
    app_port: int,
    slugs: list[str],
    seconds: int,
    concurrency: int,
    max_tasks_per_child: int,
) -> dict:
    """Target 7: POST at a steady 1 a second; time to the email accepted by SMTP."""
    inbox.clear()
    proc, log = procs.start(
        "worker-e2e",
        _worker_argv("bench-e2e", concurrency=concurrency, max_tasks_per_child=max_tasks_per_child),
        env=env,
        limit=seconds + 300,
    )
    tag = uuid.uuid4().hex[:8]
    posted: dict[str, float] = {}
    statuses: list[int] = []
    try:
        wait_for_text("ready.", proc=proc, log=log, timeout=120)
        time.sleep(1.0)  # let both pool children come up
        start = time.time() + 0.5
        for index in range(seconds):
            delay = start + index - time.time()
            if delay > 0:
                time.sleep(delay)
            email = f"e2e-{tag}-{index}@example.com"
            posted[email] = time.time()
            response = post_report(
                app_port, slugs[index % len(slugs)], name=f"End To End {index}", email=email
            )
            statuses.append(response.status)
        inbox.wait_for(seconds, timeout=90)
        time.sleep(3.0)  # anything sent twice would arrive now
    finally:
        procs.stop(proc)
    arrivals: dict[str, list[float]] = {}
    for message in inbox.snapshot():
        for recipient in message.recipients:
            if recipient in posted:
                arrivals.setdefault(recipient, []).append(message.at)
    latencies = [(min(times) - posted[email]) * 1000 for email, times in arrivals.items()]
    return {
        "posted": len(posted),
        "accepted_posts": statuses.count(302),
        "delivered": len(arrivals),
        "lost": len(posted) - len(arrivals),
        "duplicated": sum(len(times) - 1 for times in arrivals.values()),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "min": round(min(latencies, default=float("nan")), 1),
            "max": round(max(latencies, default=float("nan")), 1),
        },
        "task_ms": {k: round(v, 1) for k, v in spread([ms for _, ms in task_times(log)]).items()},
        "workers": concurrency,
        "rate_per_second": 1,
        "seconds": seconds,
    }
