"""bench/results.md (for people) and bench/results.json (everything measured) from one run."""

import json
import math
import statistics
from pathlib import Path

NOTES = Path(__file__).resolve().parent / "notes.md"


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _verdict(ratio: float | None, limit: float, *, at_most: bool) -> str:
    if ratio is None or math.isnan(ratio):
        return "not measured"
    met = ratio <= limit if at_most else ratio >= limit
    if met:
        return "**met**"
    # How far off, as a share of the limit.
    off = (ratio / limit - 1) if at_most else (1 - ratio / limit)
    return f"**missed** by {off:.0%}"


def _rows(results: dict) -> list[list[str]]:
    rows: list[list[str]] = []
    t1, t2, t3 = results.get("target1"), results.get("target2"), results.get("target3")
    t4, t5, t6, t7 = (results.get(f"target{n}") for n in (4, 5, 6, 7))
    if t1:
        rows.append([
            "1", "Sheet page under gunicorn, 32 connections (throughput)",
            f"{_fmt(t1['measured_rps']['median'], 0)} req/s",
            f"{_fmt(t1['reference_rps']['median'], 0)} req/s (trivial view, same bytes)",
            _fmt(t1["ratio"], 2), "≥ 0.9", _verdict(t1["ratio"], 0.9, at_most=False),
        ])  # fmt: skip
    if t2:
        rows.append([
            "2", "Sheet page through nginx's cache, 32 connections (throughput)",
            f"{_fmt(t2['measured_rps']['median'], 0)} req/s",
            f"{_fmt(t2['reference_rps']['median'], 0)} req/s (nginx, same bytes as a static file)",
            _fmt(t2["ratio"], 2), "≥ 0.5", _verdict(t2["ratio"], 0.5, at_most=False),
        ])  # fmt: skip
    if t3:
        passed = [v for k, v in t3.items() if isinstance(v, bool)]
        rows.append([
            "3", "Cacheable pages (checks below)", f"{sum(passed)} of {len(passed)} checks pass",
            "", "", "all", "**met**" if all(passed) else "**missed**",
        ])  # fmt: skip
    if t4:
        clean = t4["errors"] == 0 and not t4["other_statuses"] and t4["every_accepted_post_saved"]
        verdict = _verdict(t4["ratio"], 3.0, at_most=True)
        if not clean:
            verdict += " (errors or unsaved posts)"
        rows.append([
            "4", "Report-form POST p99 (row written, task enqueued), 32 connections",
            f"{_fmt(t4['post_p99_ms']['median'])} ms",
            f"{_fmt(t4['get_p99_ms']['median'])} ms (sheet GET p99)",
            _fmt(t4["ratio"], 2), "≤ 3", verdict,
        ])  # fmt: skip
    if t5:
        naive = next(s for s in t5["steps"] if s["step"] == "naive, untagged")["median_ms"]
        verdict = _verdict(t5["ratio"], 0.6, at_most=True)
        if not (t5["same_text_as_naive_tagged"] and t5["tagged_pdf_ua"]):
            verdict += " (output differs or untagged)"
        rows.append([
            "5", "Tagged personalised PDF, warm process (median)",
            f"{_fmt(t5['warm_median_ms'])} ms", f"{_fmt(naive)} ms (naive untagged render)",
            _fmt(t5["ratio"], 2), "≤ 0.6", verdict,
        ])  # fmt: skip
    if t6:
        rows.append([
            "6a", f"Worker child peak RSS over {t6['reports']} reports",
            f"{_fmt(t6['child_rss_peak_mb'])} MB",
            f"{_fmt(t6['child_rss_after_first_mb'])} MB (after the first report)",
            _fmt(t6["memory_ratio"], 2), "≤ 1.5", _verdict(t6["memory_ratio"], 1.5, at_most=True),
        ])  # fmt: skip
        rows.append([
            "6b", "First report after worker start (task time)",
            f"{_fmt(t6['first_task_ms'])} ms",
            f"{_fmt(t6['warm_task_ms']['median'])} ms (warm task median)",
            _fmt(t6["first_vs_warm"], 2), "≤ 2", _verdict(t6["first_vs_warm"], 2.0, at_most=True),
        ])  # fmt: skip
    if t7 and t5:
        warm = t5["warm_median_ms"]
        intact = t7["lost"] == 0 and t7["duplicated"] == 0
        for label, key, limit in (("p50", "p50", 1.5), ("p95", "p95", 2.5)):
            ratio = t7["latency_ms"][key] / warm
            verdict = _verdict(ratio, limit, at_most=True)
            if not intact:
                verdict += " (lost or duplicated)"
            rows.append([
                f"7{'a' if key == 'p50' else 'b'}",
                f"POST to email accepted, 1 report/s for {t7['seconds']} s, "
                f"{t7['workers']} workers ({label})",
                f"{_fmt(t7['latency_ms'][key])} ms", f"{_fmt(warm)} ms (warm render median, 5)",
                _fmt(ratio, 2), f"≤ {limit}", verdict,
            ])  # fmt: skip
    rows.append([
        "8", "SQL queries constant as sheets and requests grow",
        "a test, not a benchmark", "", "", "constant",
        "tests/factsheets/test_query_counts.py, tests/leads/test_admin.py",
    ])  # fmt: skip
    return rows


def _table(header: list[str], rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _load_runs(name: str, target: dict, keys: tuple[str, str]) -> str:
    rows = []
    for key in keys:
        for index, run in enumerate(target["runs"][key], start=1):
            rows.append([
                key, index, _fmt(run["throughput_rps"], 0), _fmt(run["latency_ms"]["p50"], 2),
                _fmt(run["latency_ms"]["p99"], 2), run["requests"],
                sum(run["errors"].values()),
            ])  # fmt: skip
    return f"{name}\n\n" + _table(
        ["run", "#", "req/s", "p50 ms", "p99 ms", "requests", "errors"], rows
    )


def _range(spread: dict, digits: int = 2) -> str:
    return f"{_fmt(spread['min'], digits)} to {_fmt(spread['max'], digits)}"


def _section1(t1: dict, identical: bool) -> list[str]:
    return [
        "## 1. Sheet page, app alone",
        "",
        f"Ratio per round (sheet / reference): median {_fmt(t1['ratio_per_round']['median'], 2)}"
        f", range {_range(t1['ratio_per_round'])}; ratio of the medians "
        f"{_fmt(t1.get('ratio_of_medians'), 2)}. The reference returns identical bytes: "
        f"{identical}.",
        "",
        _load_runs(
            "gunicorn with `deploy/gunicorn.conf.py`, wrk -t2 -c32:", t1, ("measured", "reference")
        ),
        "",
    ]


def _section2(t2: dict) -> list[str]:
    return [
        "## 2. Sheet page, as deployed (nginx in front)",
        "",
        f"Ratio per round: median {_fmt(t2['ratio_per_round']['median'], 2)}, range "
        f"{_range(t2['ratio_per_round'])}; ratio of the medians "
        f"{_fmt(t2.get('ratio_of_medians'), 2)}.",
        "",
        _load_runs(
            "nginx with the deploy/nginx/ snippets, wrk -t2 -c32 (keep-alive):",
            t2,
            ("measured", "reference"),
        ),
        "",
    ]


def _section3(t3: dict) -> list[str]:
    return ["## 3. Cacheable pages", "", _table(["check", "result"], list(t3.items())), ""]


def _section4(t4: dict) -> list[str]:
    return [
        "## 4. Form posts",
        "",
        f"Accepted posts (302): {t4['accepted_posts']}; rows in the database: "
        f"{t4['rows_in_database']} (every accepted post saved: "
        f"{t4['every_accepted_post_saved']}; {t4['rows_beyond_accepted']} more rows than "
        "answers: requests in flight when wrk stopped). Other statuses: "
        f"{t4['other_statuses'] or 'none'}. Errors: {t4['errors']}. p50: POST "
        f"{_fmt(t4['post_p50_ms']['median'])} ms, GET {_fmt(t4['get_p50_ms']['median'])} ms. "
        f"POST p99 range {_range(t4['post_p99_ms'], 1)} ms; ratio per round "
        f"{_range(t4['ratio_per_round'])}; ratio of the medians "
        f"{_fmt(t4.get('ratio_of_medians'), 2)}.",
        "",
        _load_runs("gunicorn, wrk -t2 -c32:", t4, ("post", "get")),
        "",
        *_mixed_line(t4.get("mixed")),
        *_floors(t4),
    ]


FLOOR_STEPS = {
    "read": "the form body read, a redirect (Django's request and response, its middleware)",
    "insert": "and one ORM INSERT of the row (no validation, history row or transaction)",
    "enqueue": "and the Celery task enqueued",
}


FLOOR_HEADER = ["post", "what it does", "req/s", "p50 ms", "p99 ms", "p50 ÷ GET", "p99 ÷ GET",
                "errors"]  # fmt: skip


def _floors(t4: dict) -> list[str]:
    floors = t4.get("floors")
    if not floors:
        return []
    steps = floors["steps"]
    rows = [
        [
            f"floor: {step}", FLOOR_STEPS.get(step, ""), _fmt(s["rps"]["median"], 0),
            _fmt(s["p50_ms"]["median"]), _fmt(s["p99_ms"]["median"]), _fmt(s["p50_ratio"], 2),
            _fmt(s["p99_ratio"], 2), s["errors"],
        ]
        for step, s in steps.items()
    ]  # fmt: skip
    pairs = zip(t4["runs"]["post"], t4["runs"]["get"], strict=True)
    p50_ratios = [p["latency_ms"]["p50"] / g["latency_ms"]["p50"] for p, g in pairs]
    rows.append([
        "the report form (target 4)", "everything the real post does",
        _fmt(t4["post_rps"]["median"], 0), _fmt(t4["post_p50_ms"]["median"]),
        _fmt(t4["post_p99_ms"]["median"]),
        _fmt(statistics.median(p50_ratios), 2) if p50_ratios else "n/a",
        _fmt(t4["ratio"], 2), t4["errors"],
    ])  # fmt: skip
    rounds = floors["get_p99_ms"]["n"]
    return [
        "Beside the target, the floors: the cheapest POSTs this stack can serve "
        "(bench/urls.py), under the same gunicorn, each taken in turn with sheet GETs "
        f"({rounds} rounds; GET p50 {_fmt(floors['get_p50_ms']['median'])} ms, p99 "
        f"{_fmt(floors['get_p99_ms']['median'])} ms). Ratios are medians of each round's "
        "POST against its GET.",
        "",
        _table(FLOOR_HEADER, rows),
        "",
    ]


def _mixed_line(mixed: dict | None) -> list[str]:
    if not mixed:
        return []
    return [
        "Beside the target, both at once (16 connections posting, 16 reading the sheet, "
        f"{mixed['post_rps']} and {mixed['get_rps']} req/s): POST p99 "
        f"{_fmt(mixed['post_p99_ms'])} ms against GET p99 {_fmt(mixed['get_p99_ms'])} ms, "
        f"ratio {_fmt(mixed['ratio'], 2)}; p50 {_fmt(mixed['post_p50_ms'])} against "
        f"{_fmt(mixed['get_p50_ms'])} ms; errors {mixed['errors']}.",
        "",
    ]


def _section5(t5: dict) -> list[str]:
    header = ["step", "what it adds", "median ms", "p90 ms", "range ms", "vs naive untagged"]
    rows = [
        [
            s["step"],
            s["adds"],
            _fmt(s["median_ms"]),
            _fmt(s["p90_ms"]),
            f"{_fmt(s['min_ms'])} to {_fmt(s['max_ms'])}",
            _fmt(s["vs_naive_untagged"], 2),
            _fmt(s["vs_previous_step"], 2) if s["vs_previous_step"] else "",
        ]
        for s in t5["steps"]
    ]
    return [
        "## 5. Personalised PDF, warm process",
        "",
        f"{t5['reports']} reports (three sheets, the 6-page one first) × {t5['rounds']} rounds, "
        "each step in turn. The shipped output has the same text on every page as the naive "
        f"tagged render: {t5['same_text_as_naive_tagged']}; the very same bytes: "
        f"{t5.get('same_bytes_as_naive_tagged')}; tagged PDF/UA: "
        f"{t5['tagged_pdf_ua']}. Against the naive *tagged* render: "
        f"{_fmt(t5['ratio_vs_naive_tagged'], 2)}.",
        "",
        _table([*header, "vs previous step"], rows),
        "",
    ]


def _section6(t6: dict) -> list[str]:
    firsts = ", ".join(_fmt(x) for x in t6["replacement_child_first_task_ms"]) or "none"
    return [
        "## 6. Worker memory and first report",
        "",
        "One worker, one pool child at a time, "
        f"`--max-tasks-per-child={t6['max_tasks_per_child']}` ({t6['children_used']} children "
        f"over the run). Worker ready in {t6['worker_ready_seconds']} s (its main process lays "
        "out every published sheet before forking). Child RSS: "
        f"{_fmt(t6['child_rss_idle_mb'])} MB idle, {_fmt(t6['child_rss_after_first_mb'])} MB "
        f"after the first report, {_fmt(t6['child_rss_peak_mb'])} MB at most; main process at "
        f"most {_fmt(t6['main_rss_peak_mb'])} MB. Delivered {t6['delivered']} of "
        f"{t6['reports']}, duplicates {t6['duplicates']}. First task of each replacement "
        f"child: {firsts} ms. Warm tasks {_range(t6['warm_task_ms'], 1)} ms.",
        "",
    ]


def _section7(t7: dict) -> list[str]:
    return [
        "## 7. End to end",
        "",
        f"Posted {t7['posted']} (accepted {t7['accepted_posts']}), delivered "
        f"{t7['delivered']}, lost {t7['lost']}, duplicated {t7['duplicated']}. Latency "
        f"{_fmt(t7['latency_ms']['min'])} to {_fmt(t7['latency_ms']['max'])} ms. Worker task "
        f"time median {_fmt(t7['task_ms']['median'])} ms.",
        "",
    ]


def markdown(results: dict, *, quick: bool) -> str:
    out = ["# Benchmark results (issue #6)", ""]
    if quick:
        out += [
            "**Quick run** (`--quick`): each load lasts 1 s; the numbers only show the suite "
            "works. The committed file comes from a full run.",
            "",
        ]
    header = ["#", "Target", "Measured", "Reference", "Ratio", "Limit", "Result"]
    out += [
        f"Run {results['started']} ({results['mode']}), {results.get('total_seconds', '?')} s "
        "in all, with `make bench` (`python -m bench.run`). Every ratio compares two things "
        "measured in this same run, on this same shared, noisy 2-core machine, taken in turns "
        "(A B, B A, A B, ...) so a slow spell falls on both sides. Each ratio is the median of "
        "the ratios of runs taken side by side (the ratio of the two medians is given below "
        "too); the Measured and Reference columns are medians of the runs.",
        "",
        _table(header, _rows(results)),
        "",
    ]
    if results.get("failures"):
        out += ["## Failures", ""]
        out += [f"- {name}: `{error}`" for name, error in results["failures"].items()]
        out += [""]
    if t1 := results.get("target1"):
        out += _section1(t1, results.get("reference_bytes_identical"))
    sections = {"target2": _section2, "target3": _section3, "target4": _section4}
    sections |= {"target5": _section5, "target6": _section6, "target7": _section7}
    for key, section in sections.items():
        if target := results.get(key):
            out += section(target)
    seconds = results.get("seconds", {})
    out += [
        "## Machine and versions",
        "",
        _table(["", ""], list(results["machine"].items())),
        "",
        "Seconds per target: " + ", ".join(f"{k} {v}" for k, v in seconds.items()),
        "",
    ]
    if NOTES.exists():
        out += [NOTES.read_text().strip(), ""]
    return "\n".join(out)


def write_results(results: dict, out_dir: Path, *, quick: bool) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if quick else ""
    js = out_dir / f"results{suffix}.json"
    md = out_dir / f"results{suffix}.md"
    js.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md.write_text(markdown(results, quick=quick))
    return md, js
