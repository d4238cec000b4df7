"""Sheet pages are the same bytes for everyone, so shared caches may keep them; the forms are
still protected against cross-site posts without a per-visitor token (config/security.py)."""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

import factsheets.views
from factsheets import cache as page_cache
from factsheets.cache import _channel
from factsheets.models import FactSheet
from factsheets.services import load_shipped_content
from leads.models import ConsultationRequest, ReportRequest
from tests.tcp_proxy import SilencingProxy

SHEET = "/factsheets/spinal-metastases/"
SITE = "http://testserver"


def fresh_browser() -> Client:
    return Client(enforce_csrf_checks=True)


def test_two_fresh_visitors_get_byte_identical_pages_and_both_can_post(
    spinal_metastases, valid_report, valid_consultation
):
    first, second = fresh_browser(), fresh_browser()

    page_one, page_two = first.get(SHEET), second.get(SHEET)

    assert page_one.content == page_two.content
    assert "csrfmiddlewaretoken" not in page_one.content.decode()
    assert not page_one.cookies and not page_two.cookies
    assert "public" in page_one["Cache-Control"] and "max-age" in page_one["Cache-Control"]
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": SITE}
    assert first.post(f"{SHEET}report/", valid_report, headers=headers).status_code == 302
    assert (
        second.post(f"{SHEET}consultation/", valid_consultation, headers=headers).status_code == 302
    )
    assert ReportRequest.objects.count() == 1
    assert ConsultationRequest.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.testserver"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {},
    ],
)
def test_a_cross_site_post_is_refused_with_a_friendly_page(
    spinal_metastases, valid_report, headers
):
    response = fresh_browser().post(f"{SHEET}report/", valid_report, headers=headers)

    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert ReportRequest.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": SITE},  # a browser without Fetch Metadata
        {"Referer": f"{SITE}{SHEET}"},  # one that sends neither
        {"Sec-Fetch-Site": "same-origin"},
    ],
)
def test_same_origin_posts_are_accepted_however_the_browser_says_so(
    spinal_metastases, valid_report, headers
):
    response = fresh_browser().post(f"{SHEET}report/", valid_report, headers=headers)

    assert response.status_code == 302


def test_a_page_revalidates_with_304(client, spinal_metastases):
    first = client.get(SHEET)

    again = client.get(SHEET, headers={"If-None-Match": first["ETag"]})
    since = client.get(SHEET, headers={"If-Modified-Since": first["Last-Modified"]})

    assert first["ETag"] and first["Last-Modified"]
    assert again.status_code == 304
    assert since.status_code == 304


def test_saving_a_sheet_drops_its_cached_page_at_once(client, spinal_metastases):
    before = client.get(SHEET)
    etag = before["ETag"]
    spinal_metastases.summary = "A summary edited by staff"
    spinal_metastases.save()

    after = client.get(SHEET, headers={"If-None-Match": etag})

    assert after.status_code == 200
    assert "A summary edited by staff" in after.content.decode()


def test_editing_a_red_flag_alone_also_refreshes_the_page(client, spinal_metastases):
    client.get(SHEET)
    flag = spinal_metastases.red_flags.first()
    flag.text = "A newly worded warning sign"
    flag.save()

    assert "A newly worded warning sign" in client.get(SHEET).content.decode()


def test_publishing_a_sheet_refreshes_the_home_page_and_links(client, spinal_metastases):
    assert "Osteoporosis" in client.get("/").content.decode()
    sheet = FactSheet.objects.get(slug="osteoporosis")
    client.get(SHEET)

    sheet.published = False
    sheet.save()

    assert "Osteoporosis" not in client.get("/").content.decode()
    related = client.get(SHEET).content.decode().split('id="related-heading"')[1]
    assert 'href="/factsheets/osteoporosis/"' not in related.split("</section>")[0]


def test_the_page_is_served_from_the_cache_without_touching_the_database(
    client, spinal_metastases, django_assert_num_queries
):
    client.get(SHEET)

    with django_assert_num_queries(0):
        response = client.get(SHEET)

    assert response.status_code == 200


# Each web process keeps its pages in memory (factsheets/cache.py) and hears of edits made in
# other processes on a Redis channel. These tests play the other process with a second Redis
# connection and changes made without signals (update()).


def _edit_elsewhere(sheet: FactSheet, summary: str) -> None:
    """What another process's edit looks like from here: the row changes, then the channel."""
    FactSheet.objects.filter(pk=sheet.pk).update(summary=summary)
    redis.Redis.from_url(settings.PAGE_INVALIDATION_URL).publish(_channel(), "changed")


def test_an_edit_announced_by_another_process_shows_on_the_next_view(client, spinal_metastases):
    client.get(SHEET)
    FactSheet.objects.filter(pk=spinal_metastases.pk).update(summary="Changed, not yet announced")
    # Until another process announces its committed edit, this one serves the page it keeps.
    assert "Changed, not yet announced" not in client.get(SHEET).content.decode()

    _edit_elsewhere(spinal_metastases, "Edited in another process")

    # Redis answers the publisher and copies the message to each subscriber in one pass of
    # its loop, in no set order: under load the publisher can read its answer (and this test
    # ask for the page) a moment before this process's copy has arrived. The first view once
    # it has arrived shows the edit. (How soon is for bench/; the deadline only stops a hang.)
    deadline = time.monotonic() + 10
    while "Edited in another process" not in client.get(SHEET).content.decode():
        assert time.monotonic() < deadline, "the announced edit never showed"
        time.sleep(0.01)
    assert "Spinal metastases" in client.get("/").content.decode()


def test_an_edit_is_announced_to_other_processes_when_it_commits_not_before(
    spinal_metastases, django_capture_on_commit_callbacks
):
    listener = redis.Redis.from_url(settings.PAGE_INVALIDATION_URL).pubsub()
    listener.subscribe(_channel())
    assert listener.get_message(timeout=2)["type"] == "subscribe"

    with django_capture_on_commit_callbacks(execute=False) as on_commit:
        spinal_metastases.summary = "An edit in admin"
        spinal_metastases.save()
    # Not committed yet: nothing said. A marker published now arrives after anything the
    # save published (one channel, in order), so it proves nothing came before it.
    redis.Redis.from_url(settings.PAGE_INVALIDATION_URL).publish(_channel(), "marker")
    assert listener.get_message(timeout=10)["data"] == b"marker"

    for callback in on_commit:  # the commit
        callback()

    assert listener.get_message(timeout=10)["data"] == b"changed"
    listener.close()


def test_a_process_that_cannot_hear_of_edits_keeps_nothing(
    client, spinal_metastases, settings, monkeypatch
):
    with socket.socket() as unused:  # a loopback port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.PAGE_INVALIDATION_URL = f"redis://127.0.0.1:{port}/0"
    monkeypatch.setattr(page_cache, "generation", page_cache.Generation())

    assert client.get(SHEET).status_code == 200
    FactSheet.objects.filter(pk=spinal_metastases.pk).update(summary="Changed with Redis away")

    # Rendered from the database every time: slower, never stale.
    assert "Changed with Redis away" in client.get(SHEET).content.decode()


def test_a_link_to_redis_that_dies_without_closing_stops_kept_pages_within_seconds(
    client, spinal_metastases, settings, monkeypatch
):
    redis_at = redis.Redis.from_url(settings.PAGE_INVALIDATION_URL).connection_pool
    host, port, db = (redis_at.connection_kwargs[key] for key in ("host", "port", "db"))
    proxy = SilencingProxy((host, port))
    settings.PAGE_INVALIDATION_URL = f"redis://127.0.0.1:{proxy.port}/{db}"
    monkeypatch.setattr(page_cache, "generation", page_cache.Generation())
    try:
        client.get(SHEET)  # subscribed through the proxy; the page is kept
        FactSheet.objects.filter(pk=spinal_metastases.pk).update(summary="Edited elsewhere")
        assert "Edited elsewhere" not in client.get(SHEET).content.decode()

        proxy.silence()  # the connection stays open, but nothing gets through any more
        redis.Redis(host=host, port=port, db=db).publish(_channel(), "changed")  # never heard

        # Missed for at most TRUST_SECONDS; the rest of the deadline is slack for a busy box.
        deadline = time.monotonic() + page_cache.TRUST_SECONDS + 10
        while "Edited elsewhere" not in client.get(SHEET).content.decode():
            assert time.monotonic() < deadline, "still serving the page kept before the edit"
            time.sleep(0.1)
    finally:
        proxy.close()


def test_while_redis_answers_a_page_stays_kept_through_busy_and_idle_spells(
    client, spinal_metastases, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(page_cache, "generation", page_cache.Generation())
    client.get(SHEET)

    with django_assert_num_queries(0):
        busy_until = time.monotonic() + 2.5 * page_cache.CONFIRM_SECONDS
        while time.monotonic() < busy_until:  # Redis is asked to answer, and does
            assert client.get(SHEET).status_code == 200
            time.sleep(0.05)
        time.sleep(page_cache.TRUST_SECONDS + 0.5)  # idle: the next view asks and waits
        assert client.get(SHEET).status_code == 200


def test_the_forms_see_a_new_red_flag_at_once(client, spinal_metastases, valid_report):
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": SITE}
    client.post(f"{SHEET}report/", valid_report, headers=headers)  # the sheet is now kept
    flag = spinal_metastases.red_flags.create(
        level="emergency", text="A newly added warning sign", symptom="A new sign", position=99
    )

    response = client.post(
        f"{SHEET}report/",
        valid_report | {"report-name": "Cy Patient", "report-symptoms": [str(flag.pk)]},
        headers=headers,
    )

    assert response.status_code == 302
    saved = ReportRequest.objects.get(name="Cy Patient")
    new_sign = {"flag_id": flag.pk, "symptom": "A new sign", "level": "emergency", "ticked": True}
    assert new_sign | {"straight_away": False} in saved.self_check
    assert saved.urgency == "emergency"


@pytest.mark.django_db(transaction=True)
def test_views_arriving_together_render_the_page_once(monkeypatch):
    load_shipped_content()
    renders = []
    real_render = factsheets.views.render_to_string

    def counted(*args, **kwargs):
        renders.append(args[0])
        return real_render(*args, **kwargs)

    monkeypatch.setattr(factsheets.views, "render_to_string", counted)
    start = threading.Barrier(8)

    def view() -> bytes:
        start.wait()
        try:
            return Client().get(SHEET).content
        finally:
            connection.close()  # each thread's own database connection

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda _: view(), range(8)))

    assert len(set(pages)) == 1 and b"Spinal metastases" in pages[0]
    assert renders == ["factsheets/detail.html"]
