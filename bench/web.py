"""Targets 1 to 4: the sheet page under gunicorn and behind nginx, cacheability, form posts."""

import http.client
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from .load import LoadResult, spread, wrk
from .nginx import STATIC_REFERENCE

REFERENCE_PATH = "/bench/same-bytes/"
CONNECTIONS_HALF = 16


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    port: int, path: str, *, method: str = "GET", headers: dict | None = None, body: bytes = b""
) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return Response(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def post_report(port: int, slug: str, *, name: str, email: str) -> Response:
    body = urlencode({"report-name": name, "report-email": email, "report-consent": "on"})
    return request(
        port,
        f"/factsheets/{slug}/report/",
        method="POST",
        body=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}",
            "Sec-Fetch-Site": "same-origin",
        },
    )


def alternate(
    runs: dict[str, Callable[[], LoadResult]], *, rounds: int
) -> dict[str, list[LoadResult]]:
    """Run each load in turn, ``rounds`` times, reversing the order every other round (A B, B A,
    A B, ...) so a slow spell on a shared machine falls on both sides alike."""
    names = list(runs)
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            results[name].append(runs[name]())
    return results


def throughput_ratio(measured: list[LoadResult], reference: list[LoadResult]) -> dict:
    ours = [r.throughput for r in measured]
    ref = [r.throughput for r in reference]
    # Each round's two runs sat next to each other in time, so their ratio is the fairest
    # comparison; the median of those ratios is the result (a slow spell spoils one pair,
    # not the whole answer). The ratio of the two medians is kept beside it.
    pairs = [a / b for a, b in zip(ours, ref, strict=True)]
    return {
        "measured_rps": spread(ours),
        "reference_rps": spread(ref),
        "ratio": statistics.median(pairs),
        "ratio_of_medians": statistics.median(ours) / statistics.median(ref),
        "ratio_per_round": spread(pairs),
        "errors": sum(r.error_count for r in measured + reference),
        "runs": {
            "measured": [r.as_dict() for r in measured],
            "reference": [r.as_dict() for r in reference],
        },
    }


def sheet_vs_reference(app_port: int, sheet_path: str, *, seconds: float, rounds: int) -> dict:
    """Target 1: the sheet page against the same bytes from a trivial view, same gunicorn."""
    base = f"http://127.0.0.1:{app_port}"
    for path in (sheet_path, REFERENCE_PATH):
        wrk(base + path, seconds=3)  # warm every worker's imports, connections and cache
    runs = alternate(
        {
            "sheet": lambda: wrk(base + sheet_path, seconds=seconds),
            "reference": lambda: wrk(base + REFERENCE_PATH, seconds=seconds),
        },
        rounds=rounds,
    )
    return throughput_ratio(runs["sheet"], runs["reference"])


def through_nginx(nginx_port: int, sheet_path: str, *, seconds: float, rounds: int) -> dict:
    """Target 2: the sheet page through nginx's cache against nginx serving the same bytes as
    a static file."""
    base = f"http://127.0.0.1:{nginx_port}"
    static_path = STATIC_REFERENCE + "sheet.html"
    for path in (sheet_path, static_path):
        wrk(base + path, seconds=2)
    runs = alternate(
        {
            "sheet": lambda: wrk(base + sheet_path, seconds=seconds),
            "reference": lambda: wrk(base + static_path, seconds=seconds),
        },
        rounds=rounds,
    )
    return throughput_ratio(runs["sheet"], runs["reference"])


def cacheability(
    *, app_port: int, nginx_port: int, sheet_path: str, reference_dir: Path, edit_sheet
) -> dict:
    """Target 3's checks: identical bytes for two fresh visitors, no cookie, nginx keeps the
    page and answers conditional requests, and what an edit in admin does at each layer."""
    checks: dict[str, bool | str | int] = {}
    first, second = request(app_port, sheet_path), request(app_port, sheet_path)
    checks["two fresh requests, identical bytes"] = first.body == second.body
    checks["no cookie set"] = "set-cookie" not in first.headers
    checks["app Cache-Control"] = first.headers.get("cache-control", "")
    checks["app sends ETag and Last-Modified"] = (
        "etag" in first.headers and "last-modified" in first.headers
    )
    via = [request(nginx_port, sheet_path) for _ in range(3)]
    checks["nginx cache status, three requests"] = " ".join(
        r.headers.get("x-cache-status", "?") for r in via
    )
    checks["nginx serves the app's bytes"] = all(r.body == first.body for r in via)
    checks["nginx passes ETag and Last-Modified"] = all(
        r.headers.get("etag") == first.headers.get("etag")
        and r.headers.get("last-modified") == first.headers.get("last-modified")
        for r in via
    )
    conditional = request(nginx_port, sheet_path, headers={"If-None-Match": first.headers["etag"]})
    checks["nginx answers If-None-Match with 304"] = conditional.status == 304
    static = request(nginx_port, STATIC_REFERENCE + "sheet.html")
    checks["static reference has the same bytes"] = static.body == first.body
    # A form shown again with its errors carries what was typed: no cache may keep it.
    posted = post_report(app_port, sheet_path.strip("/").split("/")[-1], name="x", email="x@y")
    checks["a re-shown form is marked no-store"] = "no-store" in posted.headers.get(
        "cache-control", ""
    )

    # An edit in admin: the app's shared page cache is dropped at once; nginx keeps its copy
    # until max-age passes, then revalidates.
    marker = f"Edited by the benchmark {uuid.uuid4().hex[:8]}"
    with edit_sheet(marker):
        started = time.monotonic()
        app_after = request(app_port, sheet_path)
        checks["app shows an edit at once"] = marker.encode() in app_after.body
        checks["app: seconds from save to edited page"] = round(time.monotonic() - started, 3)
        # Every gunicorn worker kept the page during targets 1 and 2; all must drop it.
        checks["every worker shows the edit (20 more requests)"] = all(
            marker.encode() in request(app_port, sheet_path).body for _ in range(20)
        )
        nginx_after = request(nginx_port, sheet_path)
        checks["nginx still serves its copy right after the edit (staleness window)"] = (
            marker.encode() not in nginx_after.body
        )
        checks["nginx cache status right after the edit"] = nginx_after.headers.get(
            "x-cache-status", "?"
        )
    return checks


def _mixed(base: str, sheet_url: str, post_url: str, *, seconds: float, tags: list) -> dict:
    """Half the 32 connections posting and half reading the sheet, at the same time: how much
    longer a post takes than a page view under the same load (not the target's measure, which
    runs each alone; shown beside it)."""
    tag = uuid.uuid4().hex[:10]
    tags.append(tag)
    half = CONNECTIONS_HALF
    results: dict[str, LoadResult] = {}

    def run(name: str, **kwargs) -> None:
        results[name] = wrk(connections=half, seconds=seconds, **kwargs)

    threads = [
        threading.Thread(target=run, args=("get",), kwargs={"url": sheet_url}),
        threading.Thread(
            target=run,
            args=("post",),
            kwargs={"url": post_url, "scenario": "post_report.lua", "args": (base, tag)},
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    post, get = results["post"], results["get"]
    return {
        "post_p99_ms": post.latency_ms["p99"],
        "get_p99_ms": get.latency_ms["p99"],
        "post_p50_ms": post.latency_ms["p50"],
        "get_p50_ms": get.latency_ms["p50"],
        "ratio": post.latency_ms["p99"] / get.latency_ms["p99"],
        "post_rps": round(post.throughput, 1),
        "get_rps": round(get.throughput, 1),
        "accepted_posts": post.statuses.get("302", 0),
        "errors": post.error_count + get.error_count,
    }


def post_floors(app_port: int, slug: str, *, seconds: float, rounds: int) -> dict:
    """Beside target 4: the cheapest POSTs this stack can serve (bench/urls.py's floors: the
    form read, then one ORM INSERT, then the Celery enqueue), each against sheet GETs taken in
    turn with them, so the real post's ratio can be read against what the framework alone
    costs."""
    from .urls import FLOOR_STEPS

    base = f"http://127.0.0.1:{app_port}"
    sheet_url = f"{base}/factsheets/{slug}/"

    def floor(step: str) -> Callable[[], LoadResult]:
        url = f"{base}/bench/floor/{step}/{slug}/"
        return lambda: wrk(
            url, seconds=seconds, scenario="post_report.lua", args=(base, f"floor-{step}")
        )

    runs = alternate(
        {"get": lambda: wrk(sheet_url, seconds=seconds)}
        | {step: floor(step) for step in FLOOR_STEPS},
        rounds=rounds,
    )
    get_p99 = [r.latency_ms["p99"] for r in runs["get"]]
    get_p50 = [r.latency_ms["p50"] for r in runs["get"]]
    steps = {}
    for step in FLOOR_STEPS:
        p99 = [r.latency_ms["p99"] for r in runs[step]]
        p50 = [r.latency_ms["p50"] for r in runs[step]]
        steps[step] = {
            "rps": spread([r.throughput for r in runs[step]]),
            "p50_ms": spread(p50),
            "p99_ms": spread(p99),
            "p99_ratio": statistics.median([a / b for a, b in zip(p99, get_p99, strict=True)]),
            "p50_ratio": statistics.median([a / b for a, b in zip(p50, get_p50, strict=True)]),
            "accepted": sum(r.statuses.get("302", 0) for r in runs[step]),
            "errors": sum(r.error_count for r in runs[step]),
        }
    return {
        "get_p99_ms": spread(get_p99),
        "get_p50_ms": spread(get_p50),
        "get_rps": spread([r.throughput for r in runs["get"]]),
        "steps": steps,
        "runs": {name: [r.as_dict() for r in results] for name, results in runs.items()},
    }


def posts_vs_gets(
    app_port: int, slug: str, *, seconds: float, rounds: int, count_rows: Callable[[str], int]
) -> dict:
    """Target 4: report-form POSTs (a row written, a task enqueued) against sheet GETs, both at
    32 connections; every accepted post must be in the database."""
    base = f"http://127.0.0.1:{app_port}"
    sheet_url = f"{base}/factsheets/{slug}/"
    post_url = f"{base}/factsheets/{slug}/report/"
    tags: list[str] = []

    def posts() -> LoadResult:
        tag = uuid.uuid4().hex[:10]
        tags.append(tag)
        return wrk(post_url, seconds=seconds, scenario="post_report.lua", args=(base, tag))

    wrk(sheet_url, seconds=2)
    posts()  # warm-up round, counted for correctness below but not for latency
    runs = alternate({"post": posts, "get": lambda: wrk(sheet_url, seconds=seconds)}, rounds=rounds)
    mixed = _mixed(base, sheet_url, post_url, seconds=seconds, tags=tags)
    warm_tag = tags[0]
    accepted = 0
    other_statuses: dict[str, int] = {}
    post_errors = 0
    all_posts = runs["post"]
    for result in all_posts:
        for status, n in result.statuses.items():
            if status == "302":
                accepted += n
            else:
                other_statuses[status] = other_statuses.get(status, 0) + n
        post_errors += result.error_count
    accepted += mixed["accepted_posts"]
    post_errors += mixed["errors"]
    timed_tags = [t for t in tags if t != warm_tag]
    rows = sum(count_rows(tag) for tag in timed_tags)
    post_p99 = [r.latency_ms["p99"] for r in runs["post"]]
    get_p99 = [r.latency_ms["p99"] for r in runs["get"]]
    return {
        "post_p99_ms": spread(post_p99),
        "get_p99_ms": spread(get_p99),
        "post_p50_ms": spread([r.latency_ms["p50"] for r in runs["post"]]),
        "get_p50_ms": spread([r.latency_ms["p50"] for r in runs["get"]]),
        "post_rps": spread([r.throughput for r in runs["post"]]),
        "get_rps": spread([r.throughput for r in runs["get"]]),
        # As for throughput: the median of each round's ratio (adjacent runs).
        "ratio": statistics.median([p / g for p, g in zip(post_p99, get_p99, strict=True)]),
        "ratio_of_medians": statistics.median(post_p99) / statistics.median(get_p99),
        "ratio_per_round": spread([p / g for p, g in zip(post_p99, get_p99, strict=True)]),
        "accepted_posts": accepted,
        "rows_in_database": rows,
        "every_accepted_post_saved": rows >= accepted,
        # wrk stops the clock with requests in flight: the app may finish (and save) those
        # after wrk stopped reading, so a few more rows than answers is expected.
        "rows_beyond_accepted": rows - accepted,
        "other_statuses": other_statuses,
        "errors": post_errors + sum(r.error_count for r in runs["get"]),
        "mixed": mixed,
        "runs": {
            "post": [r.as_dict() for r in runs["post"]],
            "get": [r.as_dict() for r in runs["get"]],
        },
    }
