import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from tests.factories import (
    FactSheetFactory,
    RedFlagFactory,
    RelatedSheetFactory,
    SectionFactory,
)

DISCLAIMER = "not medical advice"


def _sheet_url(slug: str) -> str:
    return reverse("factsheets:detail", kwargs={"slug": slug})


def _between(html: str, start: str, end: str) -> str:
    """The part of the page from ``start`` up to ``end`` (both must be there)."""
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_home_lists_published_sheets_only(client, db):
    FactSheetFactory(title="Published sheet", slug="published-sheet")
    FactSheetFactory(title="Draft sheet", slug="draft-sheet", published=False)

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<a href="{_sheet_url("published-sheet")}">Published sheet</a>' in html
    assert "Draft sheet" not in html
    assert _sheet_url("draft-sheet") not in html


def test_a_sheet_links_down_to_its_forms_after_the_warning_signs(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    links = html.index('href="#report-form"')
    assert html.index('id="emergency-heading"') < links < html.index('id="report-form"')
    assert 'href="#consultation-form"' in html and 'id="consultation-form"' in html


def test_the_address_above_every_sheet_leads_to_the_list_of_sheets(client, db):
    response = client.get("/factsheets/")

    assert response.status_code == 302 and response["Location"] == "/"


def test_home_says_so_when_nothing_is_published(client, db):
    FactSheetFactory(published=False)

    response = client.get(reverse("home"))

    assert "No fact sheets are published yet." in response.content.decode()


def test_sheet_page_shows_emergency_then_urgent_box_before_the_body(client, spinal_metastases):
    first_heading = spinal_metastases.sections.first().heading

    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    emergency = html.index('class="care-card care-card--emergency"')
    urgent = html.index('class="care-card care-card--urgent"')
    body = html.index(f"<h2>{escape(first_heading)}</h2>")
    assert emergency < urgent < body


def test_sheet_page_puts_emergency_box_first_whatever_order_staff_entered(client, db):
    sheet = FactSheetFactory()
    RedFlagFactory(sheet=sheet, level="urgent", text="An urgent sign", position=0)
    RedFlagFactory(sheet=sheet, level="emergency", text="An emergency sign", position=1)
    SectionFactory(sheet=sheet, heading="About this", position=0)

    html = client.get(sheet.get_absolute_url()).content.decode()

    assert html.index("An emergency sign") < html.index("An urgent sign") < html.index("About this")


def test_sheet_page_red_flag_boxes_list_every_flag_under_its_level(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    emergency_box = _between(html, "care-card--emergency", "</section>")
    urgent_box = _between(html, "care-card--urgent", "</section>")
    for flag in spinal_metastases.red_flags.all():
        box = emergency_box if flag.level == "emergency" else urgent_box
        assert f"<li>{escape(flag.text)}</li>" in box


def test_sheet_page_has_screen_reader_prefixes_on_the_boxes(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert '<span class="visually-hidden">Immediate action required: </span>' in _between(
        html, "care-card--emergency", "</h2>"
    )
    assert '<span class="visually-hidden">Urgent advice: </span>' in _between(
        html, "care-card--urgent", "</h2>"
    )


def test_sheet_page_renders_tables_with_caption_and_column_headers(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    for table in spinal_metastases.tables.all():
        assert re.search(
            rf'<caption id="[\w-]+">{re.escape(escape(table.caption))}</caption>', html
        )
        for heading in table.header:
            assert f'<th scope="col">{escape(heading)}</th>' in html
        # The first cell of each row heads that row.
        assert f'<th scope="row">{escape(table.rows[0][0])}</th>' in html
    assert html.count("<table>") == 2


def test_sheet_page_links_related_sheets_that_are_published(client, db):
    sheet = FactSheetFactory()
    FactSheetFactory(slug="osteoporosis", title="Osteoporosis")
    RelatedSheetFactory(sheet=sheet, target_slug="osteoporosis", title="Osteoporosis")
    RelatedSheetFactory(sheet=sheet, target_slug="not-written-yet", title="Not written yet")

    html = client.get(sheet.get_absolute_url()).content.decode()

    related = _between(html, 'id="related-heading"', "</section>")
    # Site-relative, so it works on whatever address the page was reached; the whole address
    # (the same for every visitor) is there for print.css to show on paper.
    url = _sheet_url("osteoporosis")
    assert f'<a href="{url}" data-address="{settings.SITE_URL}{url}">Osteoporosis</a>' in related
    assert related.count("<a ") == 1


def test_sheet_page_shows_unwritten_related_sheets_as_plain_text(client, db):
    sheet = FactSheetFactory()
    RelatedSheetFactory(sheet=sheet, target_slug="not-written-yet", title="Not written yet")

    html = client.get(sheet.get_absolute_url()).content.decode()

    related = _between(html, 'id="related-heading"', "</section>")
    assert '<span class="related-list__pending">Not written yet</span>' in related
    assert _sheet_url("not-written-yet") not in html


def test_sheet_page_does_not_link_a_related_sheet_that_is_unpublished(client, db):
    sheet = FactSheetFactory()
    FactSheetFactory(slug="draft-sheet", title="Draft sheet", published=False)
    RelatedSheetFactory(sheet=sheet, target_slug="draft-sheet", title="Draft sheet")

    html = client.get(sheet.get_absolute_url()).content.decode()

    related = _between(html, 'id="related-heading"', "</section>")
    assert '<span class="related-list__pending">Draft sheet</span>' in related
    assert "<a " not in related


def test_sheet_page_shows_sources_and_both_review_dates(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    sources = _between(html, 'id="sources-heading"', "</section>")
    for source in spinal_metastases.sources.all():
        assert (
            f'{escape(source.publisher)}: <a href="{source.url}">{escape(source.title)}</a>'
            in sources
        )
    assert 'Last reviewed: <time datetime="2026-11-22">22 November 2026</time>' in sources
    assert 'Next review due: <time datetime="2029-11-22">22 November 2029</time>' in sources


def test_sheet_page_works_without_javascript(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode().lower()

    # The only <script> is schema.org data, which browsers never run.
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script type="application/ld+json">']
    assert " onclick=" not in html


def test_sheet_page_has_both_forms_posting_to_their_urls(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    report_url = reverse("leads:request_report", kwargs={"slug": "spinal-metastases"})
    consultation_url = reverse("leads:request_consultation", kwargs={"slug": "spinal-metastases"})
    assert f'<form method="post" action="{report_url}"' in html
    assert f'<form method="post" action="{consultation_url}"' in html
    assert 'name="report-email"' in html
    assert 'name="consultation-phone"' in html


def test_sheet_page_has_no_error_summary_when_nothing_was_posted(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert "There is a problem" not in html
    assert "is-invalid" not in html


def test_sheet_page_links_the_print_stylesheet(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    print_css = r'<link rel="stylesheet" href="/static/css/print[^"]*\.css" media="print">'
    assert re.search(print_css, html)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/factsheets/spinal-metastases/",
        "/factsheets/spinal-metastases/report/sent/",
        "/factsheets/spinal-metastases/consultation/sent/",
        "/privacy/",
        "/factsheets/no-such-sheet/",
    ],
)
def test_every_page_has_the_disclaimer_in_the_footer(client, shipped_sheets, url):
    html = client.get(url).content.decode()

    footer = _between(html, '<footer class="site-footer">', "</footer>")
    assert DISCLAIMER in footer


def test_sheet_page_unknown_slug_shows_the_sites_404_page(client, db):
    response = client.get(_sheet_url("no-such-sheet"))

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert DISCLAIMER in html


def test_sheet_page_unpublished_sheet_is_not_found(client, db):
    sheet = FactSheetFactory(published=False, title="Draft sheet")

    response = client.get(sheet.get_absolute_url())

    assert response.status_code == 404
    assert "Draft sheet" not in response.content.decode()
