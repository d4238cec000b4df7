"""A sheet renamed or withdrawn while its page is open somewhere: nothing sent from it is lost.

Pages stay open in browser tabs, and in shared caches for up to a minute, after an edit in
admin; their links and forms keep the address they were loaded from. The edits here are made
through the admin's own change form, by a content editor, as the clinic would make them.
"""

import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from factsheets.models import FactSheet, FormerSlug
from leads.models import ConsultationRequest, ReportRequest
from tests.factories import UserFactory
from tests.html_forms import form_data

OLD = "spinal-metastases"
NEW = "cancer-that-has-spread-to-the-spine"


@pytest.fixture
def editor(db) -> Client:
    client = Client()
    client.force_login(UserFactory(groups=["Content editor"]))
    return client


def _edit(editor: Client, sheet: FactSheet, **changes) -> None:
    """Change the sheet through its admin change form, as a content editor would."""
    url = reverse("admin:factsheets_factsheet_change", args=[sheet.pk])
    data = form_data(editor.get(url).content.decode(), "factsheet_form")
    for field, value in changes.items():
        if value is False:
            data.pop(field, None)  # an unticked box is not sent
        else:
            data[field] = "on" if value is True else value
    response = editor.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def _main(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def _emergency_flag(sheet: FactSheet) -> int:
    return sheet.red_flags.filter(level="emergency").first().pk


# --- renamed ----------------------------------------------------------------------------------


def test_renamed_sheet_old_address_leads_to_the_new_one(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, slug=NEW)

    response = client.get(f"/factsheets/{OLD}/")

    assert response.status_code == 301
    assert response["Location"] == f"/factsheets/{NEW}/"
    # Kept no longer than a page is, so that renaming it back cannot leave a loop in a browser.
    assert "max-age=60" in response["Cache-Control"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<h1>Spinal metastases</h1>" in page.content.decode()


def test_posts_from_a_page_open_before_a_rename_are_saved(
    client, editor, spinal_metastases, valid_report, valid_consultation
):
    _edit(editor, spinal_metastases, slug=NEW)

    report = client.post(f"/factsheets/{OLD}/report/", valid_report)
    consultation = client.post(f"/factsheets/{OLD}/consultation/", valid_consultation)

    assert report.status_code == consultation.status_code == 302
    assert report["Location"].startswith(f"/factsheets/{NEW}/report/sent/")
    assert consultation["Location"].startswith(f"/factsheets/{NEW}/consultation/sent/")
    assert ReportRequest.objects.get().sheet == spinal_metastases
    assert ConsultationRequest.objects.get().sheet == spinal_metastases
    assert "Your report is on its way" in client.get(report["Location"]).content.decode()


def test_form_errors_on_a_renamed_sheet_post_back_to_its_new_address(
    client, editor, spinal_metastases
):
    _edit(editor, spinal_metastases, slug=NEW)

    response = client.post(f"/factsheets/{OLD}/consultation/", {"consultation-name": "Ben"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert f'action="/factsheets/{NEW}/consultation/"' in html
    assert 'value="Ben"' in html


def test_related_links_naming_the_old_address_lead_to_the_new_one(client, editor, shipped_sheets):
    mscc = shipped_sheets["metastatic-spinal-cord-compression"]
    assert mscc.related.filter(target_slug=OLD).exists()  # the shipped content links to it

    _edit(editor, shipped_sheets[OLD], slug=NEW)

    html = client.get(mscc.get_absolute_url()).content.decode()
    assert f'href="/factsheets/{NEW}/"' in html
    assert f'href="/factsheets/{OLD}/"' not in html


def test_renaming_back_takes_the_address_back_without_a_loop(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, slug=NEW)
    _edit(editor, FactSheet.objects.get(pk=spinal_metastases.pk), slug=OLD)

    assert client.get(f"/factsheets/{OLD}/").status_code == 200
    moved = client.get(f"/factsheets/{NEW}/")
    assert (moved.status_code, moved["Location"]) == (301, f"/factsheets/{OLD}/")
    assert list(FormerSlug.objects.values_list("slug", flat=True)) == [NEW]


def test_editor_sees_a_former_address_and_can_let_it_go(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, slug=NEW)
    url = reverse("admin:factsheets_factsheet_change", args=[spinal_metastases.pk])
    html = editor.get(url).content.decode()
    assert "Former web addresses" in html
    assert f"/factsheets/{OLD}/" in html

    data = form_data(html, "factsheet_form")
    data["former_slugs-0-DELETE"] = "on"
    assert editor.post(url, data).status_code == 302

    assert not FormerSlug.objects.exists()
    assert client.get(f"/factsheets/{OLD}/").status_code == 404


def test_a_new_sheet_takes_over_a_former_address(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, slug=NEW)
    other = FactSheet.objects.create(
        title="A new sheet",
        slug=OLD,
        summary="A sheet written later at the old address.",
        last_reviewed="2026-11-01",
        next_review_due="2027-11-01",
        published=True,
    )

    response = client.get(f"/factsheets/{OLD}/")

    assert response.status_code == 200
    assert "<h1>A new sheet</h1>" in response.content.decode()
    assert not FormerSlug.objects.filter(slug=other.slug).exists()


# --- withdrawn ---------------------------------------------------------------------------------


def test_withdrawn_sheet_page_says_so_and_shows_none_of_its_content(
    client, editor, spinal_metastases
):
    flag_text = spinal_metastases.red_flags.first().text
    _edit(editor, spinal_metastases, published=False)

    response = client.get(f"/factsheets/{OLD}/")

    html = response.content.decode()
    assert response.status_code == 410
    assert "The Spinal metastases fact sheet has been withdrawn" in html
    assert flag_text not in html
    assert 'action="' not in _main(html)  # no forms
    assert f'href="{reverse("home")}"' in _main(html)
    assert FactSheet.objects.get(pk=spinal_metastases.pk).withdrawn_at is not None


def test_consultation_from_a_withdrawn_sheets_open_page_is_saved(
    client, editor, spinal_metastases, valid_consultation
):
    _edit(editor, spinal_metastases, published=False)

    response = client.post(f"/factsheets/{OLD}/consultation/", valid_consultation)

    assert response.status_code == 302
    saved = ConsultationRequest.objects.get()
    assert (saved.sheet, saved.name) == (spinal_metastases, "Ben Patient")
    sent = client.get(response["Location"])
    main = _main(sent.content.decode())
    assert sent.status_code == 200
    assert "We have your request" in main
    assert f'href="/factsheets/{OLD}/"' not in main  # no link back to a withdrawn page
    assert "In an emergency, call 999 or go to A&amp;E now." in main


def test_consultation_errors_on_a_withdrawn_sheet_keep_what_was_typed(
    client, editor, spinal_metastases, valid_consultation
):
    flag = _emergency_flag(spinal_metastases)
    _edit(editor, spinal_metastases, published=False)
    data = valid_consultation | {"consultation-symptoms": [flag]}
    del data["consultation-consent"]

    response = client.post(f"/factsheets/{OLD}/consultation/", data)

    html = response.content.decode()
    main = _main(html)
    assert response.status_code == 200
    assert not ConsultationRequest.objects.exists()
    # What to do now about the emergency sign ticked comes first, then the errors, then the
    # form as it was typed, posting to the same address; nothing else of the sheet.
    assert main.index("Call 999 or go to A&amp;E now") < main.index("There is a problem")
    assert "Do this now, before you come back to the form below." in main
    assert "has been withdrawn" in main
    assert 'value="Ben Patient"' in main
    assert "Low back pain for two weeks, worse at night." in main
    assert re.search(rf'value="{flag}"[^>]*checked', main)
    assert f'action="/factsheets/{OLD}/consultation/"' in main
    assert 'action="/factsheets/spinal-metastases/report/"' not in main
    assert "<title>Call 999 or go to A&amp;E now. Error:" in html

    data["consultation-consent"] = "on"
    assert client.post(f"/factsheets/{OLD}/consultation/", data).status_code == 302
    assert ConsultationRequest.objects.get().urgency == "emergency"


def test_report_from_a_withdrawn_sheets_open_page_is_refused_and_nothing_kept(
    client, editor, spinal_metastases, valid_report
):
    flag = _emergency_flag(spinal_metastases)
    _edit(editor, spinal_metastases, published=False)

    response = client.post(f"/factsheets/{OLD}/report/", valid_report | {"report-symptoms": [flag]})

    main = _main(response.content.decode())
    assert response.status_code == 410
    assert not ReportRequest.objects.exists()
    assert "We have not sent you this fact sheet." in main
    assert "We have not kept your name, your email address or anything you ticked." in main
    assert main.index("Call 999 or go to A&amp;E now") < main.index("has been withdrawn")
    assert "Do this now." in main
    assert "Ada Patient" not in main and "ada@example.com" not in main


def test_report_asked_for_just_before_withdrawal_is_not_promised(
    client, editor, spinal_metastases, valid_report
):
    response = client.post(f"/factsheets/{OLD}/report/", valid_report)
    _edit(editor, spinal_metastases, published=False)

    sent = client.get(response["Location"])

    main = _main(sent.content.decode())
    assert sent.status_code == 200
    assert "We will not email you this fact sheet" in main
    assert "on its way" not in main


def test_republishing_shows_the_sheet_again(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, published=False)
    _edit(editor, FactSheet.objects.get(pk=spinal_metastases.pk), published=True)

    response = client.get(f"/factsheets/{OLD}/")

    assert response.status_code == 200
    assert FactSheet.objects.get(pk=spinal_metastases.pk).withdrawn_at is None


# --- drafts stay unseen -------------------------------------------------------------------------


def test_a_draft_never_published_is_not_found_and_takes_nothing(
    client, spinal_metastases, valid_report
):
    draft = FactSheet.objects.create(
        title="Draft sheet",
        slug="draft-sheet",
        summary="Not ready.",
        last_reviewed="2026-11-01",
        next_review_due="2027-11-01",
    )

    page = client.get(draft.get_absolute_url())
    posts = [
        client.post("/factsheets/draft-sheet/consultation/", {"consultation-name": "Ben"}),
        client.post("/factsheets/draft-sheet/report/", valid_report),
    ]

    for response in (page, *posts):
        assert response.status_code == 404
        assert "Draft sheet" not in response.content.decode()
    assert not ConsultationRequest.objects.exists()
    assert not ReportRequest.objects.exists()


def test_upgrade_marks_sheets_already_off_the_site_with_requests_as_withdrawn(
    shipped_sheets, valid_consultation
):
    """The data step of migration 0004, on the current models (the fields are the same)."""
    from importlib import import_module

    from tests.factories import ConsultationRequestFactory

    migration = import_module("factsheets.migrations.0004_withdrawn_sheets_and_former_addresses")
    asked = shipped_sheets[OLD]
    quiet = shipped_sheets["metastatic-spinal-cord-compression"]
    ConsultationRequestFactory(sheet=asked)
    FactSheet.objects.filter(pk__in=[asked.pk, quiet.pk]).update(published=False)

    migration.mark_withdrawn(apps, None)

    assert FactSheet.objects.get(pk=asked.pk).withdrawn  # people asked about it: it was public
    assert not FactSheet.objects.get(pk=quiet.pk).withdrawn  # nothing says it ever was
