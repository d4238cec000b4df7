"""The two staff roles made by a data migration, tried as real users through the admin's views."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from factsheets.models import FactSheet
from tests.factories import ConsultationRequestFactory, ReportRequestFactory, UserFactory
from tests.html_forms import form_data

TRIAGE_STAFF = "Triage staff"
CONTENT_EDITOR = "Content editor"


def _logged_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(groups=[role]))
    return client


@pytest.fixture
def triage(db) -> Client:
    return _logged_in(TRIAGE_STAFF)


@pytest.fixture
def editor(db) -> Client:
    return _logged_in(CONTENT_EDITOR)


def _codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


# --- what each group holds ---------------------------------------------------------------------


def test_triage_staff_group_has_least_privilege(db):
    assert _codenames(TRIAGE_STAFF) == {
        "leads.view_consultationrequest",
        "leads.change_consultationrequest",
        "leads.export_consultationrequest",
        "leads.add_contactattempt",
        "leads.view_contactattempt",
        "leads.add_internalnote",
        "leads.view_internalnote",
        "leads.view_reportrequest",
        "leads.resend_reportrequest",
    }


def test_content_editor_group_has_fact_sheets_only(db):
    codenames = _codenames(CONTENT_EDITOR)

    assert {"factsheets.add_factsheet", "factsheets.change_factsheet"} <= codenames
    assert "factsheets.delete_factsheet" not in codenames
    assert "factsheets.delete_redflag" in codenames  # removing a red flag is editing a sheet
    assert all(name.startswith("factsheets.") for name in codenames)


# --- triage staff ------------------------------------------------------------------------------


def test_triage_staff_get_403_on_fact_sheet_pages(triage, spinal_metastases):
    change = reverse("admin:factsheets_factsheet_change", args=[spinal_metastases.pk])
    delete = reverse("admin:factsheets_factsheet_delete", args=[spinal_metastases.pk])

    assert triage.get(reverse("admin:factsheets_factsheet_changelist")).status_code == 403
    assert triage.get(change).status_code == 403
    assert triage.post(change, {"title": "Changed by triage"}).status_code == 403
    assert triage.get(delete).status_code == 403
    assert FactSheet.objects.get(pk=spinal_metastases.pk).title != "Changed by triage"


def test_triage_staff_cannot_delete_requests(triage):
    consultation = ConsultationRequestFactory()
    report = ReportRequestFactory()

    consultation_delete = reverse("admin:leads_consultationrequest_delete", args=[consultation.pk])
    report_delete = reverse("admin:leads_reportrequest_delete", args=[report.pk])

    assert triage.post(consultation_delete, {"post": "yes"}).status_code == 403
    assert triage.post(report_delete, {"post": "yes"}).status_code == 403
    response = triage.post(
        reverse("admin:leads_consultationrequest_changelist"),
        {"action": "delete_selected", "_selected_action": [consultation.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert consultation.__class__.objects.filter(pk=consultation.pk).exists()


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:auth_user_changelist",
        "admin:auth_group_changelist",
        "admin:leads_exportlog_changelist",
    ],
)
def test_triage_staff_cannot_see_other_admin_areas(triage, url_name):
    assert triage.get(reverse(url_name)).status_code == 403


def test_triage_staff_admin_home_shows_only_their_work(triage):
    html = triage.get(reverse("admin:index")).content.decode()

    assert "Triage: today" in html
    assert reverse("admin:leads_consultationrequest_changelist") in html
    assert reverse("admin:leads_reportrequest_changelist") in html
    assert reverse("admin:factsheets_factsheet_changelist") not in html
    assert reverse("admin:auth_user_changelist") not in html


def test_triage_staff_can_work_a_request(triage):
    consultation = ConsultationRequestFactory()
    url = reverse("admin:leads_consultationrequest_change", args=[consultation.pk])
    data = form_data(triage.get(url).content.decode(), "consultationrequest_form")

    response = triage.post(url, data | {"_save": "Save", "new_status": "contacted"})

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "contacted"


# --- content editors ---------------------------------------------------------------------------


def test_content_editor_can_edit_a_fact_sheet(editor, spinal_metastases):
    url = reverse("admin:factsheets_factsheet_change", args=[spinal_metastases.pk])
    data = form_data(editor.get(url).content.decode(), "factsheet_form")
    data["summary"] = "Edited by the content editor."

    response = editor.post(url, data)

    assert response.status_code == 302
    assert FactSheet.objects.get(pk=spinal_metastases.pk).summary == (
        "Edited by the content editor."
    )


def test_content_editor_cannot_delete_a_fact_sheet(editor, spinal_metastases):
    url = reverse("admin:factsheets_factsheet_delete", args=[spinal_metastases.pk])

    assert editor.get(url).status_code == 403


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:leads_consultationrequest_changelist",
        "admin:leads_reportrequest_changelist",
        "admin:leads_dashboard",
        "admin:auth_user_changelist",
    ],
)
def test_content_editor_gets_403_outside_fact_sheets(editor, url_name):
    assert editor.get(reverse(url_name)).status_code == 403


def test_content_editor_cannot_open_or_export_a_request(editor):
    consultation = ConsultationRequestFactory()

    change = editor.get(reverse("admin:leads_consultationrequest_change", args=[consultation.pk]))
    export = editor.post(reverse("admin:leads_consultationrequest_export"))

    assert change.status_code == 403
    assert export.status_code == 403


def test_content_editor_admin_home_has_no_triage(editor):
    html = editor.get(reverse("admin:index")).content.decode()

    assert reverse("admin:factsheets_factsheet_changelist") in html
    assert "Triage: today" not in html
    assert reverse("admin:leads_consultationrequest_changelist") not in html
