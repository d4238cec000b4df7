"""Sheet pages are the same bytes for everyone, so shared caches may keep them; the forms are
still protected against cross-site posts without a per-visitor token (config/security.py)."""

import pytest
from django.test import Client

from factsheets.models import FactSheet
from leads.models import ConsultationRequest, ReportRequest

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
