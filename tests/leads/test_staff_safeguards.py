"""What staff can do in admin must never lose a patient's data, bring erased data back, or
keep personal data where erasure cannot reach it."""

import importlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from leads import dashboard, privacy, services
from leads.models import ConsultationRequest, ExportLog, PrivacyLog
from reports import services as report_services
from tests.db_locks import raw_connections, sessions_waiting_on_a_lock
from tests.factories import ConsultationRequestFactory, ReportRequestFactory, UserFactory
from tests.html_forms import form_data

CONSULTATIONS = reverse("admin:leads_consultationrequest_changelist")
REPORTS = reverse("admin:leads_reportrequest_changelist")
EXPORT = reverse("admin:leads_consultationrequest_export")
LOCKING = 'SELECT "leads_consultationrequest".%'  # reads of the request (the erasure's, the save's)


def change_url(row) -> str:
    return reverse(f"admin:leads_{row._meta.model_name}_change", args=[row.pk])


def delete_url(row) -> str:
    return reverse(f"admin:leads_{row._meta.model_name}_delete", args=[row.pk])


def page_form(client: Client, consultation: ConsultationRequest) -> dict[str, str]:
    """The change page's form as the browser holds it when the page was opened."""
    html = client.get(change_url(consultation)).content.decode()
    return form_data(html, "consultationrequest_form") | {"_save": "Save"}


# --- deleting ------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [ConsultationRequestFactory, ReportRequestFactory])
def test_nobody_deletes_a_request_not_even_a_superuser(admin_client, factory):
    """Its history copies would outlive it where erasure and subject access cannot find them."""
    row = factory(name="Pat Person")
    listing = CONSULTATIONS if factory is ConsultationRequestFactory else REPORTS
    choices = [
        name
        for name, _ in admin_client.get(listing).context["action_form"].fields["action"].choices
    ]

    page = admin_client.get(delete_url(row))
    admin_client.post(delete_url(row), {"post": "yes"})
    admin_client.post(
        listing, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )

    assert "delete_selected" not in choices
    assert page.status_code == 403
    assert type(row).objects.filter(pk=row.pk, name="Pat Person").exists()


# --- report requests are not edited in admin ----------------------------------------------


def test_a_superuser_cannot_mark_a_report_erased_without_erasing_it(admin_client):
    report = ReportRequestFactory(name="Pat Person", email="pat@example.com")

    page = admin_client.get(change_url(report)).content.decode()
    refused = admin_client.post(
        change_url(report), {"erased_at_0": "2026-01-01", "erased_at_1": "10:00"}
    )

    assert 'name="_save"' not in page
    assert refused.status_code == 403
    report.refresh_from_db()
    assert report.erased_at is None and report.email == "pat@example.com"


# --- an erased report is never sent, resent or given an error that quotes it ----------------


def test_a_report_erased_before_it_was_sent_is_not_sent_resent_or_swept_up(
    admin_client, mailoutbox, settings
):
    settings.REPORT_REQUEUE_AFTER_SECONDS = 0
    report = ReportRequestFactory(email="pat@example.com")  # queued; its task still to run

    privacy.erase_everything_for("pat@example.com", by=None)
    sent = report_services.deliver_report(request_id=report.pk)  # the task runs after all
    swept = report_services.claim_stale_queued()
    resent = services.resend_failed_reports(request_ids=[report.pk])

    report.refresh_from_db()
    assert (sent, swept, resent, mailoutbox) == (False, [], [], [])
    assert report.status == "failed"
    assert report.last_error == "Erased before it was sent"
    assert "Erased before it was sent" in admin_client.get(REPORTS).content.decode()


def test_a_send_that_failed_while_the_erasure_waited_leaves_no_address_behind(db):
    report = ReportRequestFactory(email="pat@example.com")
    privacy.erase_everything_for("pat@example.com", by=None)

    # The worker's send failed, and it reports that after the erasure committed.
    report_services.record_delivery_failure(
        request_id=report.pk,
        error="SMTPRecipientsRefused: {'pat@example.com': (550, b'No such user')}",
        final=True,
    )

    report.refresh_from_db()
    assert "pat@example.com" not in report.last_error


def test_a_report_erased_before_it_was_sent_is_not_counted_as_a_failed_delivery(db):
    ReportRequestFactory(email="pat@example.com")
    ReportRequestFactory(email="other@example.com", status="failed")
    privacy.erase_everything_for("pat@example.com", by=None)

    stats = {stat.label: stat.value for stat in dashboard.build().stats}

    assert stats["Report emails failed"] == "1"


# --- erasing one request is audited ---------------------------------------------------------


def test_erasing_one_request_leaves_a_privacy_log_entry_without_personal_data(admin_client):
    consultation = ConsultationRequestFactory(name="Pat Person", email="Pat@Example.com")
    url = change_url(consultation)
    ask = admin_client.post(
        url, {"CHANGE_FORM-action": "erase_personal_details", "_selected_action": [consultation.pk]}
    )
    confirm = form_data(ask.content.decode().replace("<form method", '<form id="c" method'), "c")

    admin_client.post(url, confirm | {"reason": "Asked by phone"})

    entry = PrivacyLog.objects.get()
    assert (entry.action, entry.consultation_requests, entry.note) == (
        "erasure",
        1,
        "Asked by phone",
    )
    assert entry.subject == privacy.subject_ref("pat@example.com")
    assert "Pat" not in str(vars(entry))
    assert "name or contact details here" in ask.content.decode()


# --- the export log ----------------------------------------------------------------------


def test_the_export_log_keeps_that_there_was_a_search_but_not_what_was_searched(
    triage_client, admin_client
):
    ConsultationRequestFactory(name="Jane Smith", email="jane@example.com")

    response = triage_client.post(f"{EXPORT}?status=open&q=jane%40example.com")

    assert "Jane Smith" in response.content.decode("utf-8-sig")  # the search did filter
    log = ExportLog.objects.get()
    assert log.filters == "status=open and a search"
    # Triage staff cannot read the log; whoever can sees no trace of what was searched.
    log_page = admin_client.get(reverse("admin:leads_exportlog_changelist"))
    assert log_page.status_code == 200
    assert "status=open and a search" in log_page.content.decode()
    assert "jane" not in log_page.content.decode().lower()


def test_export_logs_made_before_keep_only_that_there_was_a_search(triage_user):
    older = ExportLog.objects.create(
        exported_by=triage_user, row_count=1, filters="status=open&q=Jane+Smith"
    )
    plain = ExportLog.objects.create(exported_by=triage_user, row_count=2, filters="selected rows")
    migration = importlib.import_module("leads.migrations.0007_export_log_without_search_terms")

    migration.forget_search_terms(django_apps, None)

    older.refresh_from_db()
    plain.refresh_from_db()
    assert (older.filters, plain.filters) == ("status=open and a search", "selected rows")


def test_the_export_log_keeps_no_value_typed_into_the_address(triage_client, triage_user):
    """Admin takes any lookup on a field from the address (?email=…): the export log, kept for
    good and untouched by erasure, keeps such a lookup by its name only, and the list's own
    filters with their values."""
    wanted = ConsultationRequestFactory(email="pat@example.com", description="cancer")
    query = "email=pat%40example.com&description__icontains=cancer&status=open&urgency__exact=none"

    response = triage_client.post(f"{EXPORT}?{query}")

    assert "pat@example.com" in response.content.decode("utf-8-sig")  # the lookups did filter
    log = ExportLog.objects.get()
    assert list(log.requests.all()) == [wanted]
    assert log.filters == (
        "status=open&urgency__exact=none and filters typed by hand (description__icontains, email)"
    )
    assert "pat" not in log.filters and "cancer" not in log.filters


def test_export_logs_made_before_keep_no_value_typed_into_the_address(triage_user):
    typed = ExportLog.objects.create(
        exported_by=triage_user,
        row_count=1,
        filters="status=open&email=pat%40example.com&name__icontains=Pat and a search",
    )
    kept = ["assigned=me", "selected rows", "and a search", "status=open and a search", ""]
    untouched = [
        ExportLog.objects.create(exported_by=triage_user, row_count=2, filters=filters)
        for filters in kept
    ]
    counts = ExportLog.objects.create(
        exported_by=triage_user, row_count=1, filters="_facets=True&status=open"
    )
    migration = importlib.import_module("leads.migrations.0010_export_log_without_typed_lookups")

    migration.forget_typed_lookups(django_apps, None)

    for log in (typed, counts, *untouched):
        log.refresh_from_db()
    assert typed.filters == (
        "status=open and filters typed by hand (email, name__icontains) and a search"
    )
    assert counts.filters == "status=open"
    assert [log.filters for log in untouched] == kept


def test_show_counts_is_not_logged_as_a_filter_typed_by_hand(triage_client):
    ConsultationRequestFactory()

    triage_client.post(f"{EXPORT}?_facets=True&status=open")

    assert ExportLog.objects.get().filters == "status=open"


# --- two members of staff on one request ------------------------------------------------------


def test_saving_an_old_page_keeps_what_a_colleague_changed_meanwhile(triage_client, triage_user):
    consultation = ConsultationRequestFactory(phone="+447911123401")
    sam = UserFactory(first_name="Sam", last_name="Colleague")
    tess_page = page_form(triage_client, consultation)  # Tess opens the request

    services.assign_consultation(consultation=consultation, to=sam, by=sam)  # Sam takes it on
    consultation.refresh_from_db()
    consultation.phone = "+447911123402"  # and puts the right number in
    services.save_with_history(
        consultation, by=sam, reason="Edited: phone", update_fields=["phone"]
    )

    # Tess writes a note and saves the page she opened earlier, touching nothing else.
    response = triage_client.post(
        change_url(consultation), tess_page | {"notes-0-text": "Left a voicemail."}
    )

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.phone == "+447911123402"
    assert consultation.assigned_to == sam
    assert consultation.notes.get().text == "Left a voicemail."


@pytest.mark.parametrize("chosen", ["closed", "contacted"])
def test_a_move_chosen_before_a_colleague_moved_the_request_is_refused(triage_client, chosen):
    """Tess opened a new request; Sam booked it; Tess, on her old page, closes it as
    declined (allowed from booked too) or marks it contacted (not allowed from booked)."""
    consultation = ConsultationRequestFactory()
    tess_page = page_form(triage_client, consultation)
    services.change_consultation_status(consultation=consultation, to="booked", by=None)

    response = triage_client.post(
        change_url(consultation),
        tess_page
        | {"new_status": chosen, "notes-0-text": "Patient rang to cancel."}
        | ({"closing_reason": "declined"} if chosen == "closed" else {}),
    )

    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert "A colleague moved this request from new to booked after you opened it" in page
    assert "not one of the available choices" not in page
    assert "Patient rang to cancel." in page  # kept on the page, for Tess to save again
    consultation.refresh_from_db()
    assert consultation.status == "booked" and consultation.close_reason == ""
    assert not consultation.notes.exists()

    # The page that came back is as of now: with the move chosen again, Save goes through.
    returned = form_data(response.content.decode(), "consultationrequest_form")
    assert returned["new_status"] == "" and returned["notes-0-text"] == "Patient rang to cancel."
    again = triage_client.post(
        change_url(consultation),
        returned | {"_save": "Save", "new_status": "closed", "closing_reason": "declined"},
    )
    assert again.status_code == 302
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == ("closed", "declined")
    assert consultation.notes.get().text == "Patient rang to cancel."


def test_a_move_from_the_status_the_page_showed_is_made(triage_client):
    consultation = ConsultationRequestFactory()
    page = page_form(triage_client, consultation)

    triage_client.post(change_url(consultation), page | {"new_status": "booked"})

    consultation.refresh_from_db()
    assert consultation.status == "booked"


def test_a_colleagues_edit_to_another_field_is_kept_in_the_history_copy(triage_client):
    consultation = ConsultationRequestFactory(phone="+447911123401", best_time="Mornings")
    tess_page = page_form(triage_client, consultation)
    consultation.phone = "+447911123402"
    services.save_with_history(
        consultation, by=None, reason="Edited: phone", update_fields=["phone"]
    )

    triage_client.post(change_url(consultation), tess_page | {"best_time": "After 5pm"})

    consultation.refresh_from_db()
    latest = consultation.history.latest()
    assert (consultation.phone, consultation.best_time) == ("+447911123402", "After 5pm")
    assert (latest.phone, latest.best_time) == ("+447911123402", "After 5pm")


def test_a_request_stays_with_a_colleague_who_has_since_left(triage_client):
    sam = UserFactory(first_name="Sam", last_name="Leaver")
    consultation = ConsultationRequestFactory(assigned_to=sam)
    sam.is_active = False
    sam.save()

    page = page_form(triage_client, consultation)
    response = triage_client.post(change_url(consultation), page | {"notes-0-text": "Called."})

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.assigned_to == sam


@pytest.mark.django_db(transaction=True)
def test_a_save_that_arrives_while_the_request_is_erased_does_not_bring_the_details_back():
    """The erasure holds the row; the page was read before it committed. The save must see
    the erasure, not write the old details over it."""
    consultation = ConsultationRequestFactory(name="Pat Person", phone="+447911123401")
    tess = Client()
    tess.force_login(UserFactory(is_staff=True, is_superuser=True))
    tess_page = page_form(tess, consultation)
    connection.close()
    locker, watcher = raw_connections(connection, 2)
    watcher.autocommit = True
    with locker.cursor() as cursor:  # holds the row so both arrive before either finishes
        cursor.execute(
            "SELECT id FROM leads_consultationrequest WHERE id = %s FOR UPDATE", [consultation.pk]
        )

    def erase():
        try:
            return privacy.erase_consultation(consultation, by=None, reason="Asked by email")
        finally:
            connection.close()

    def save():
        try:
            return tess.post(change_url(consultation), tess_page | {"phone": "+447911123403"})
        finally:
            connection.close()

    pool = ThreadPoolExecutor(max_workers=2)
    try:
        erasing = pool.submit(erase)
        sessions_waiting_on_a_lock(watcher, count=1, query_like=LOCKING)
        saving = pool.submit(save)
        sessions_waiting_on_a_lock(watcher, count=2, query_like=LOCKING)  # the save read the row
        locker.rollback()
        assert erasing.result(timeout=30) is not None
        response = saving.result(timeout=30)
    finally:
        locker.close()
        pool.shutdown()
        watcher.close()

    consultation.refresh_from_db()
    assert consultation.erased_at is not None
    assert (consultation.name, consultation.phone) == ("[erased]", "")
    assert not consultation.history.filter(name="Pat Person").exists()
    assert response.status_code == 200  # the page again, not a 302 "saved"
    assert (
        "erased after you opened it, so nothing you entered was saved" in response.content.decode()
    )
