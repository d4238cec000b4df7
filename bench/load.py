"""HTTP load with wrk, and the statistics every benchmark reports."""

# ruff: noqa: S603, S607 (wrk, with arguments the suite builds itself)

import json
import math
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
CONNECTIONS = 32
THREADS = 2


@dataclass
class LoadResult:
    url: str
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.throughput, 1),
            "errors": self.errors,
            "latency_ms": self.latency_ms,
            "statuses": self.statuses,
        }


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int = CONNECTIONS,
    scenario: str | None = None,
    args: tuple[str, ...] = (),
) -> LoadResult:
    """One wrk run against a loopback URL; ``scenario`` is a script in bench/lua/."""
    assert url.startswith("http://127.0.0.1:"), "load goes to this machine's loopback only"
    script = (LUA / "summary.lua").read_text()
    if scenario:
        script += "\n" + (LUA / scenario).read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    argv = [
        "wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", handle.name, url,
    ]  # fmt: skip
    if args:
        argv += ["--", *args]
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        Path(handle.name).unlink(missing_ok=True)
    summary = _tagged_json(out, "BENCH_JSON")
    statuses = _tagged_json(out, "BENCH_STATUS") if "BENCH_STATUS" in out else {}
    latency = summary["latency_us"]
    return LoadResult(
        url=url,
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=summary["errors"],
        latency_ms={
            "p50": latency["percentiles"]["50"] / 1000,
            "p90": latency["percentiles"]["90"] / 1000,
            "p99": latency["percentiles"]["99"] / 1000,
            "max": latency["max"] / 1000,
            "mean": round(latency["mean"] / 1000, 3),
        },
        statuses=statuses,
    )


def _tagged_json(out: str, tag: str) -> dict:
    for line in out.splitlines():
        if line.startswith(tag + " "):
            return json.loads(line.removeprefix(tag + " "))
    raise RuntimeError(f"wrk printed no {tag} line:\n{out}")


def spread(values: list[float]) -> dict[str, float]:
    """Median, range and count of repeated measurements."""
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a sample."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]
