"""A sheet renamed or withdrawn while its page is open somewhere: nothing sent from it is lost.

Pages stay open in browser tabs, and in shared caches for up to a minute, after an edit in
admin; their links and forms keep the address they were loaded from. The edits here are made
through the admin's own change form, by a content editor, as the clinic would make them.
"""

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from factsheets.models import FactSheet, FormerSlug
from factsheets.services import update_shipped_content
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


def _new_sheet(*, slug: str, published: bool) -> FactSheet:
    return FactSheet.objects.create(
        title="A new sheet",
        slug=slug,
        summary="A sheet written later.",
        last_reviewed="2026-11-01",
        next_review_due="2027-11-01",
        published=published,
    )


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
    client.get(f"/factsheets/{OLD}/")  # the page and its sheet are now kept in the process
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
    other = _new_sheet(slug=OLD, published=True)

    response = client.get(f"/factsheets/{OLD}/")

    assert response.status_code == 200
    assert "<h1>A new sheet</h1>" in response.content.decode()
    assert not FormerSlug.objects.filter(slug=other.slug).exists()


def test_a_draft_given_a_former_address_does_not_take_it_over_until_published(
    client, editor, spinal_metastases, valid_consultation
):
    _edit(editor, spinal_metastases, slug=NEW)
    draft = _new_sheet(slug=OLD, published=False)

    assert client.get(f"/factsheets/{OLD}/")["Location"] == f"/factsheets/{NEW}/"
    assert client.post(f"/factsheets/{OLD}/consultation/", valid_consultation).status_code == 302
    assert ConsultationRequest.objects.get().sheet == spinal_metastases

    _edit(editor, draft, published=True)

    assert client.get(f"/factsheets/{OLD}/").status_code == 200
    assert not FormerSlug.objects.exists()


def test_a_post_finds_the_sheet_its_form_was_shown_with_after_the_address_is_reused(
    client, editor, spinal_metastases, valid_report
):
    html = client.get(f"/factsheets/{OLD}/").content.decode()
    sheet_field = re.search(r'<input type="hidden" name="sheet" value="(\d+)">', html)
    assert sheet_field and int(sheet_field.group(1)) == spinal_metastases.pk
    _edit(editor, spinal_metastases, slug=NEW)
    other = _new_sheet(slug=OLD, published=True)

    response = client.post(f"/factsheets/{OLD}/report/", valid_report | {"sheet": sheet_field[1]})

    assert response["Location"].startswith(f"/factsheets/{NEW}/report/sent/")
    assert ReportRequest.objects.get().sheet == spinal_metastases  # not the new sheet there
    assert not other.report_requests.exists()


def test_the_same_post_sent_again_after_a_rename_is_still_a_repeat(
    client, editor, spinal_metastases, valid_consultation
):
    first = client.post(f"/factsheets/{OLD}/consultation/", valid_consultation)
    _edit(editor, spinal_metastases, slug=NEW)

    again = client.post(f"/factsheets/{NEW}/consultation/", valid_consultation)

    assert first.status_code == again.status_code == 302
    assert ConsultationRequest.objects.count() == 1


def test_loading_the_shipped_sheets_after_a_rename_does_not_bring_the_old_one_back(
    client, editor, spinal_metastases
):
    _edit(editor, spinal_metastases, slug=NEW)
    sheets = FactSheet.objects.count()

    reports = update_shipped_content()  # as every start of the site does

    assert FactSheet.objects.count() == sheets
    assert not FactSheet.objects.filter(slug=OLD).exists()
    assert client.get(f"/factsheets/{OLD}/")["Location"] == f"/factsheets/{NEW}/"
    (renamed,) = [report for report in reports if report.shipped.slug == OLD]
    assert renamed.sheet.pk == spinal_metastases.pk


def test_saving_only_some_fields_acts_only_on_those(spinal_metastases):
    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    sheet.slug, sheet.published = NEW, False

    sheet.save(update_fields=["published"])  # the new slug is not written

    saved = FactSheet.objects.get(pk=sheet.pk)
    assert (saved.slug, saved.published, saved.withdrawn) == (OLD, False, True)
    assert not FormerSlug.objects.exists()

    sheet.published = True
    sheet.save(update_fields=["slug"])  # nor is publishing it again

    saved = FactSheet.objects.get(pk=sheet.pk)
    assert (saved.slug, saved.published, saved.withdrawn) == (NEW, False, True)
    assert list(FormerSlug.objects.values_list("slug", flat=True)) == [OLD]


def test_renaming_a_draft_off_a_former_address_leaves_that_address_alone(
    client, editor, spinal_metastases
):
    _edit(editor, spinal_metastases, slug=NEW)
    draft = _new_sheet(slug=OLD, published=False)

    draft.slug = "somewhere-else"
    draft.save()

    assert client.get(f"/factsheets/{OLD}/")["Location"] == f"/factsheets/{NEW}/"
    assert FormerSlug.objects.get().sheet == spinal_metastases


def test_a_sheet_withdrawn_at_a_former_address_does_not_hide_where_it_leads(
    client, editor, spinal_metastases
):
    _edit(editor, spinal_metastases, slug=NEW)
    withdrawn = _new_sheet(slug="elsewhere", published=True)
    withdrawn.published = False
    withdrawn.save()
    withdrawn.slug = OLD  # a withdrawn sheet does not take an address over
    withdrawn.save()

    assert client.get(f"/factsheets/{OLD}/")["Location"] == f"/factsheets/{NEW}/"


@pytest.mark.parametrize("posted", ["\u00b2", "9" * 5000, "-1", ""])
def test_a_garbled_sheet_id_falls_back_to_the_address(
    client, spinal_metastases, valid_consultation, posted
):
    response = client.post(
        f"/factsheets/{OLD}/consultation/", valid_consultation | {"sheet": posted}
    )

    assert response.status_code == 302
    assert ConsultationRequest.objects.get().sheet == spinal_metastases


def test_a_drafts_id_posted_to_a_live_address_is_taken_on_the_live_sheet(
    client, spinal_metastases, valid_consultation
):
    draft = _new_sheet(slug="draft-sheet", published=False)

    response = client.post(
        f"/factsheets/{OLD}/consultation/", valid_consultation | {"sheet": str(draft.pk)}
    )

    assert response.status_code == 302
    assert ConsultationRequest.objects.get().sheet == spinal_metastases


# --- withdrawn ---------------------------------------------------------------------------------


def test_withdrawn_sheet_page_says_so_and_shows_none_of_its_content(
    client, editor, spinal_metastases
):
    flag_text = spinal_metastases.red_flags.first().text
    _edit(editor, spinal_metastases, published=False)

    response = client.get(f"/factsheets/{OLD}/")

    html = response.content.decode()
    assert response.status_code == 410
    assert "max-age=60" in response["Cache-Control"]  # republishing shows within a minute
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
    # The ticks go on unseen: the withdrawn sheet's list is not shown again.
    assert re.search(rf'<input type="hidden" name="consultation-symptoms" value="{flag}"', main)
    for text in spinal_metastases.red_flags.values_list("text", flat=True):
        assert text not in main
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
    assert "not sent you this fact sheet</strong>, and we have not kept this request." in main
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
    assert "if we had not already sent it to you, we will not send it now." in main
    assert "on its way" not in main


def test_republishing_shows_the_sheet_again(client, editor, spinal_metastases):
    _edit(editor, spinal_metastases, published=False)
    _edit(editor, FactSheet.objects.get(pk=spinal_metastases.pk), published=True)

    response = client.get(f"/factsheets/{OLD}/")

    assert response.status_code == 200
    assert FactSheet.objects.get(pk=spinal_metastases.pk).withdrawn_at is None


def test_replacing_the_shipped_sheets_keeps_a_withdrawn_sheet_withdrawn(
    client, editor, spinal_metastases
):
    _edit(editor, spinal_metastases, published=False)
    before = FactSheet.objects.get(pk=spinal_metastases.pk)
    out = StringIO()

    call_command("load_factsheets", "--replace", stdout=out)  # every sheet, as after an upgrade

    sheet = FactSheet.objects.get(pk=spinal_metastases.pk)
    assert not sheet.published
    assert sheet.withdrawn_at == before.withdrawn_at
    assert sheet.content_version == before.content_version + 1  # it was replaced
    assert client.get(f"/factsheets/{OLD}/").status_code == 410
    (line,) = [line for line in out.getvalue().splitlines() if line.startswith(f"{OLD}:")]
    assert "stays withdrawn until it is published again in admin" in line
    assert client.get("/factsheets/multiple-myeloma/").status_code == 200  # the rest: as they were


def test_a_withdrawn_sheet_is_not_reported_as_edited(editor, spinal_metastases):
    _edit(editor, spinal_metastases, published=False)

    (report,) = [r for r in update_shipped_content() if r.shipped.slug == OLD]

    assert report.same_as_shipped
    assert report.staff_edits is False
    assert not report.out_of_date


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


def test_staff_are_told_what_withdrawing_means_and_the_list_tells_it_from_a_draft(
    editor, spinal_metastases
):
    _new_sheet(slug="not-yet-written", published=False)
    listing = reverse("admin:factsheets_factsheet_changelist")

    _edit(editor, spinal_metastases, published=False)
    withdrawn = [str(m) for m in editor.get(listing).context["messages"]]
    rows = editor.get(listing).content.decode()
    _edit(editor, FactSheet.objects.get(pk=spinal_metastases.pk), published=True)
    back = [str(m) for m in editor.get(listing).context["messages"]]

    assert any("“Spinal metastases” is now withdrawn" in m for m in withdrawn)
    assert re.search(r"Withdrawn \d{1,2} \w{3} \d{4}", rows)
    assert "Draft, never published" in rows
    assert any("“Spinal metastases” is back on the site" in m for m in back)
