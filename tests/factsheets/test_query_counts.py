"""The public pages make the same number of SQL queries however many sheets, parts of a sheet
and requests there are: a page rendered into the cache must not turn into N+1 queries as
content grows, and a page served from the cache makes none. (The admin request list has its
own test in tests/leads/test_admin.py.)"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from factsheets.cache import forget_everything
from tests.factories import (
    FactSheetFactory,
    RedFlagFactory,
    RelatedSheetFactory,
    ReportRequestFactory,
    SectionFactory,
    SheetTableFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> list[str]:
    """The queries a fresh render of ``url`` makes (nothing kept in the process)."""
    forget_everything()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def add_content(sheet, count: int) -> None:
    """``count`` of each part a sheet page shows, with related sheets that exist and that do
    not, and ``count`` report requests made from it."""
    for index in range(count):
        RedFlagFactory(sheet=sheet, level=("emergency", "urgent", "soon")[index % 3])
        SectionFactory(sheet=sheet, position=2 * index)
        SheetTableFactory(sheet=sheet, position=2 * index + 1)
        other = FactSheetFactory()
        RelatedSheetFactory(sheet=sheet, target_slug=other.slug, title=other.title)
        RelatedSheetFactory(sheet=sheet, target_slug=f"unwritten-{sheet.pk}-{index}")
        SourceFactory(sheet=sheet)
        ReportRequestFactory(sheet=sheet)


def test_sheet_page_queries_do_not_grow_with_its_content_or_other_sheets(client):
    sheet = FactSheetFactory()
    add_content(sheet, 1)
    url = sheet.get_absolute_url()
    few = queries_for(client, url)

    add_content(sheet, 15)
    FactSheetFactory.create_batch(10)

    assert len(queries_for(client, url)) == len(few), few


def test_home_page_queries_do_not_grow_with_the_number_of_sheets(client):
    add_content(FactSheetFactory(), 1)
    few = queries_for(client, "/")

    for _ in range(15):
        add_content(FactSheetFactory(), 2)

    assert len(queries_for(client, "/")) == len(few), few


def test_pages_served_from_the_cache_make_no_queries(client, django_assert_num_queries):
    sheet = FactSheetFactory()
    add_content(sheet, 3)
    for url in ("/", sheet.get_absolute_url()):
        client.get(url)  # fills the cache

        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200
