import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from factsheets.models import FactSheet
from tests.config.test_settings import SETTINGS_VARS

ROOT = Path(__file__).resolve().parents[2]


def result_titles(response) -> list[str]:
    return re.findall(
        r'<h2><a href="/factsheets/[^"]+/">([^<]+)</a></h2>', response.content.decode()
    )


def test_search_box_is_on_every_page(client, spinal_metastases):
    for url in ["/", spinal_metastases.get_absolute_url(), "/privacy/", "/search/?q=x"]:
        html = client.get(url).content.decode()
        assert 'role="search"' in html and 'action="/search/"' in html, url


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("myeloma", "Multiple myeloma"),  # a title
        ("saddle", "Cauda equina syndrome"),  # a red flag
        ("dexamethasone", "Spinal metastases"),  # a table cell
        ("coordinating", "Metastatic spinal cord compression"),  # body text
    ],
)
def test_search_finds_sheets_by_title_flags_and_body(client, shipped_sheets, query, expected):
    assert connection.vendor == "postgresql"

    titles = result_titles(client.get("/search/", {"q": query}))

    assert expected in titles


@pytest.mark.parametrize("query", ["incontinence", "wee?", "numbness in my bum"])
def test_search_understands_everyday_words_for_what_the_sheets_describe(
    client, shipped_sheets, query
):
    titles = result_titles(client.get("/search/", {"q": query}))

    assert "Cauda equina syndrome" in titles


def test_search_ranks_a_title_match_first(client, shipped_sheets):
    titles = result_titles(client.get("/search/", {"q": "osteoporosis"}))

    assert titles[0] == "Osteoporosis"


def test_search_with_no_results_suggests_the_list_of_sheets(client, shipped_sheets):
    html = client.get("/search/", {"q": "zzyzx"}).content.decode()

    assert "No fact sheets matched your search" in html
    for sheet in shipped_sheets.values():
        assert sheet.get_absolute_url() in html


def test_search_ignores_unpublished_sheets_and_escapes_the_query(client, shipped_sheets):
    FactSheet.objects.filter(slug="osteoporosis").update(published=False)

    html = client.get("/search/", {"q": "<b>osteoporosis</b>"}).content.decode()

    assert "<b>osteoporosis</b>" not in html
    assert 'href="/factsheets/osteoporosis/"' not in html.split("No fact sheets matched")[0]


def test_search_on_sqlite_falls_back_to_matching_every_word(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env |= {"DEBUG": "true", "VAR_DIR": str(tmp_path)}
    script = (
        "from django.core.management import call_command as c;"
        "c('migrate', verbosity=0); c('load_factsheets', verbosity=0);"
        "from django.db import connection; from factsheets.models import FactSheet as F;"
        "print(connection.vendor);"
        "print(sorted(s.slug for s in F.objects.published().search('saddle numbness')));"
        "print(sorted(s.slug for s in F.objects.published().search('incontinence, wee?')))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip

    vendor, slugs, everyday = result.stdout.strip().splitlines()[-3:]
    assert vendor == "sqlite"
    assert "cauda-equina-syndrome" in slugs
    assert "cauda-equina-syndrome" in everyday


def test_sitemap_lists_every_published_sheet(client, shipped_sheets):
    xml = client.get("/sitemap.xml").content.decode()

    for sheet in shipped_sheets.values():
        assert f"{sheet.get_absolute_url()}</loc>" in xml
    assert "<lastmod>" in xml


def test_the_sitemap_gives_the_site_s_own_addresses_whatever_host_was_asked_for(
    client, shipped_sheets, settings
):
    settings.SITE_URL = "https://spine.clinic.example"

    xml = client.get("/sitemap.xml", HTTP_HOST="localhost").content.decode()

    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert len(locations) == len(shipped_sheets) + 3
    assert all(loc.startswith("https://spine.clinic.example/") for loc in locations), locations


def test_robots_txt_points_to_the_sitemap_and_keeps_out_of_admin(client, db):
    response = client.get("/robots.txt")

    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert re.search(r"^Sitemap: https?://\S+/sitemap\.xml$", text, re.M)


def test_sheet_page_has_canonical_url_and_medical_web_page_data(
    client, spinal_metastases, settings
):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert (
        f'<link rel="canonical" href="{settings.SITE_URL}/factsheets/spinal-metastases/">' in html
    )
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == spinal_metastases.last_reviewed.isoformat()
    assert data["name"] == "Spinal metastases"


def test_markup_in_staff_text_cannot_close_the_json_ld_script(client, spinal_metastases):
    FactSheet.objects.filter(pk=spinal_metastases.pk).update(summary="</script><script>x()")

    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert "</script><script>x()" not in html


def test_django_system_checks_pass():
    call_command("check", fail_level="ERROR")
