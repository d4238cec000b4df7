"""Quick checks of the benchmark suite's own parts (the suite itself runs with `make bench`):
its statistics, the nginx set-up it builds from deploy/nginx/, its report, and the reference
view. Each runs in well under a second."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from bench import load, nginx, report, urls
from leads.models import ReportRequest
from tests.integration.test_faults import Broker, _enqueue_via


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))

    assert load.percentile(values, 50) == 50
    assert load.percentile(values, 95) == 95
    assert load.percentile(values, 99) == 99
    assert load.percentile([7.0], 99) == 7.0


def test_spread_gives_median_and_range():
    assert load.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}


def test_wrk_refuses_anything_but_loopback():
    with pytest.raises(AssertionError):
        load.wrk("http://example.org/", seconds=1)


def test_nginx_config_uses_the_shipped_snippets(tmp_path):
    conf = nginx.write_config(
        workdir=tmp_path / "nginx",
        port=18080,
        app_port=18000,
        static_root=tmp_path / "static",
        reference_dir=tmp_path / "reference",
    )

    locations = (tmp_path / "nginx" / "spinal-clinic-locations.conf").read_text()
    http = (tmp_path / "nginx" / "spinal-clinic-http.conf").read_text()
    assert "listen 127.0.0.1:18080;" in conf.read_text()
    assert "proxy_cache_revalidate on;" in locations
    assert f"alias {tmp_path / 'static'}/;" in locations
    assert "server 127.0.0.1:18000;" in http
    assert "/var/cache/nginx" not in http


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def test_nginx_accepts_the_config(tmp_path):
    assert NGINX, "nginx is installed by scripts/bootstrap.sh --test"
    conf = nginx.write_config(
        workdir=tmp_path / "nginx",
        port=18080,
        app_port=18000,
        static_root=tmp_path / "static",
        reference_dir=tmp_path / "reference",
    )
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path / "nginx")],
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert checked.returncode == 0, checked.stderr


def test_report_says_met_or_missed_and_by_how_much():
    results = {
        "started": "2026-11-21T12:00:00+00:00",
        "mode": "full",
        "machine": {"cores": "2"},
        "target1": {
            "measured_rps": {"median": 450.0, "min": 400.0, "max": 500.0, "n": 3},
            "reference_rps": {"median": 900.0, "min": 800.0, "max": 1000.0, "n": 3},
            "ratio": 0.5,
            "ratio_per_round": {"median": 0.5, "min": 0.4, "max": 0.6, "n": 3},
            "runs": {"measured": [], "reference": []},
        },
        "target6": {
            "reports": 300, "delivered": 300, "duplicates": 0, "max_tasks_per_child": 100,
            "children_used": 3, "worker_ready_seconds": 9.0, "child_rss_idle_mb": 120.0,
            "child_rss_after_first_mb": 130.0, "child_rss_peak_mb": 150.0,
            "main_rss_peak_mb": 140.0, "memory_ratio": 150 / 130, "first_task_ms": 300.0,
            "replacement_child_first_task_ms": [310.0, 305.0],
            "warm_task_ms": {"median": 250.0, "min": 200.0, "max": 400.0, "n": 297},
            "first_vs_warm": 1.2,
        },
    }  # fmt: skip

    text = report.markdown(results, quick=False)

    assert "| 1 | Sheet page under gunicorn" in text
    assert "**missed** by 44%" in text  # 0.5 against at least 0.9
    assert text.count("**met**") == 2  # memory and first report


def test_reference_view_returns_the_page_bytes(settings, tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    page.write_bytes("<!DOCTYPE html><p>Spinal cord compression · ‘quoted’</p>".encode())
    monkeypatch.setenv("BENCH_PAGE_FILE", str(page))
    urls._page.cache_clear()
    settings.ROOT_URLCONF = "bench.urls"

    response = Client().get("/" + urls.REFERENCE_URL)

    assert response.status_code == 200
    assert response.content == page.read_bytes()
    urls._page.cache_clear()


@pytest.fixture
def private_broker(tmp_path):
    """A redis-server of this test's own: the session's Celery worker (tests/integration),
    which a test process may have started before this test, consumes the shared broker's
    queue, and could take a message before the test sees it."""
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.mark.django_db
def test_floor_posts_do_what_the_report_says_and_no_more(
    settings, spinal_metastases, private_broker
):
    settings.ROOT_URLCONF = "bench.urls"

    def post(step: str):
        who = f"floor-{step}"
        return Client().post(
            f"/bench/floor/{step}/{spinal_metastases.slug}/",
            {"report-name": who, "report-email": f"{who}@example.com", "report-consent": "on"},
        )

    with _enqueue_via(private_broker):
        responses = {step: post(step) for step in urls.FLOOR_STEPS}
    added = private_broker.queued_messages()

    assert {step: r.status_code for step, r in responses.items()} == dict.fromkeys(
        urls.FLOOR_STEPS, 302
    )
    rows = {r.email: r for r in ReportRequest.objects.filter(email__startswith="floor-")}
    assert set(rows) == {"floor-insert@example.com", "floor-enqueue@example.com"}
    assert all(row.history.count() == 0 for row in rows.values())  # no history row
    enqueued = [json.loads(m)["headers"] for m in added]
    assert [(h["task"], h["argsrepr"]) for h in enqueued] == [
        ("reports.send_report", f"({rows['floor-enqueue@example.com'].pk},)")
    ]


def test_report_sets_the_floors_beside_target_4():
    spread = {"median": 100.0, "min": 90.0, "max": 110.0, "n": 3}
    floor = {"rps": spread, "p50_ms": spread, "p99_ms": spread, "p99_ratio": 2.5,
             "p50_ratio": 2.0, "accepted": 300, "errors": 0}  # fmt: skip
    results = {
        "started": "2026-11-21T12:00:00+00:00",
        "mode": "full",
        "machine": {"cores": "2"},
        "target4": {
            "errors": 0, "other_statuses": {}, "every_accepted_post_saved": True,
            "accepted_posts": 900, "rows_in_database": 910, "rows_beyond_accepted": 10,
            "ratio": 4.5, "ratio_of_medians": 4.4, "ratio_per_round": spread,
            "post_p99_ms": spread, "get_p99_ms": spread, "post_p50_ms": spread,
            "get_p50_ms": spread, "post_rps": spread, "runs": {"post": [], "get": []},
            "floors": {"get_p99_ms": spread, "get_p50_ms": spread, "get_rps": spread,
                       "steps": {step: floor for step in urls.FLOOR_STEPS}},
        },
    }  # fmt: skip

    text = report.markdown(results, quick=False)

    assert "**missed** by 50%" in text  # 4.5 against at most 3
    assert "the floors: the cheapest POSTs this stack can serve" in text
    assert (
        "| floor: enqueue | and the Celery task enqueued | 100 | 100.0 | 100.0 | 2.00 | 2.50 |"
        in text
    )
    assert "| the report form (target 4) |" in text
