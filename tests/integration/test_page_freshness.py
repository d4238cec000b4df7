"""Each web process keeps the pages it has rendered (factsheets/cache.py). An edit committed
anywhere must show on the very next page view from every process, and a process that cannot
hear of edits (Redis away) must render from the database rather than serve what it kept."""

import subprocess
import sys
import urllib.request

import pytest
import redis
from django.urls import reverse

from factsheets.cache import _channel
from factsheets.models import FactSheet
from factsheets.services import load_shipped_content
from tests.html_forms import form_data
from tests.integration.conftest import ROOT, _service_env, free_port
from tests.integration.test_faults import _listening, broker, wait_until  # noqa: F401 (broker)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PATH = "/factsheets/spinal-metastases/"


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), ""


@pytest.fixture
def sheet() -> FactSheet:
    return {s.slug: s for s, _ in load_shipped_content()}["spinal-metastases"]


def test_an_edit_in_one_process_shows_at_once_in_every_web_process(site_server, sheet):
    # Enough views that both gunicorn workers have rendered and kept the page.
    etags = {fetch(site_server + PATH)[1]["ETag"] for _ in range(20)}
    assert len(etags) == 1

    sheet.summary = "Reworded by a clinician in admin"
    sheet.save()  # commits: this test process announces it, as the admin's process would

    views = [fetch(site_server + PATH) for _ in range(20)]
    assert all("Reworded by a clinician in admin" in body for _, _, body in views)
    revalidated = fetch(site_server + PATH, {"If-None-Match": etags.pop()})
    assert revalidated[0] == 200 and "Reworded by a clinician" in revalidated[2]


def test_an_edit_saved_in_admin_shows_at_once_in_every_web_process(
    site_server, sheet, client, django_user_model
):
    etag = fetch(site_server + PATH)[1]["ETag"]
    for _ in range(20):  # both gunicorn workers keep the page
        fetch(site_server + PATH)
    client.force_login(django_user_model.objects.create_superuser("editor", "e@example.com"))
    url = reverse("admin:factsheets_factsheet_change", args=[sheet.pk])
    data = form_data(client.get(url).content.decode(), "factsheet_form")
    data["summary"] = "Corrected in the admin form"

    assert client.post(url, data).status_code == 302  # the admin's own save, committed

    views = [fetch(site_server + PATH, {"If-None-Match": etag}) for _ in range(20)]
    assert all(status == 200 and "Corrected in the admin form" in body for status, _, body in views)


def test_a_web_process_that_loses_redis_renders_fresh_pages_and_keeps_them_again_after(
    broker,  # noqa: F811 (the private Redis of test_faults, a fixture)
    smtp_server,
    sheet,
    tmp_path,
):
    port = free_port()
    env = _service_env(smtp_server) | {
        "CACHE_URL": broker.url,
        "CELERY_BROKER_URL": broker.url,
    }
    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--no-control-socket",
         "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    page = f"http://127.0.0.1:{port}{PATH}"

    def summary_shown() -> str:
        status, _, body = fetch(page)
        assert status == 200
        return next(s for s in ("first", "second", "third", "original") if f"Summary {s}" in body)

    def set_summary(word: str) -> None:  # a change no process announces
        FactSheet.objects.filter(pk=sheet.pk).update(summary=f"Summary {word}")

    def subscribers() -> int:
        return dict(redis.Redis(port=broker.port).pubsub_numsub(_channel()))[_channel().encode()]

    try:
        wait_until(lambda: _listening(port), "gunicorn")
        set_summary("original")
        assert summary_shown() == "original"
        assert subscribers() == 1
        set_summary("first")
        assert summary_shown() == "original"  # kept: only an announcement drops it

        broker.stop()
        assert summary_shown() == "first"  # it cannot hear of edits now, so it keeps nothing
        set_summary("second")
        assert summary_shown() == "second"

        broker.start()  # same port; the process subscribes again within seconds
        wait_until(lambda: summary_shown() and subscribers() == 1, "the process to subscribe")
        set_summary("third")
        assert summary_shown() == "second"  # keeping pages again
        redis.Redis(port=broker.port).publish(_channel(), "changed")
        assert summary_shown() == "third"
    finally:
        web.terminate()
        web.wait(timeout=15)
        log.close()
