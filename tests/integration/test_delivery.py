"""End to end on the real parts: a form post through Django, Redis, a Celery worker process,
WeasyPrint, an SMTP server on 127.0.0.1 and PostgreSQL."""

import io
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from pypdf import PdfReader

from config.celery import heartbeat
from factsheets.services import load_shipped_content
from leads import services as lead_services
from leads.models import ConsultationRequest, ReportRequest
from reports.tasks import send_report
from tests.integration.conftest import services_checks, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sheets():
    return {sheet.slug: sheet for sheet, _ in load_shipped_content()}


def pdf_attachments(message) -> list[bytes]:
    return [
        part.get_content()
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def wait_for_status(model, pk: int, status: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = model.objects.get(pk=pk)
        if row.status == status:
            return row
        time.sleep(0.2)
    return model.objects.get(pk=pk)


def test_report_form_emails_one_pdf_with_the_patients_name(client, sheets, worker, smtp):
    assert connection.vendor == "postgresql"

    response = client.post(
        "/factsheets/spinal-metastases/report/",
        {"report-name": "Zoë Ashworth", "report-email": "zoe@example.com", "report-consent": "on"},
    )

    assert response.status_code == 302
    messages = smtp.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "zoe@example.com"
    assert "metastases" not in message["Subject"].lower()
    [pdf] = pdf_attachments(message)
    text = pdf_text(pdf)
    assert "Zoë Ashworth" in text
    assert "Spinal metastases" in text
    request = wait_for_status(ReportRequest, ReportRequest.objects.get().pk, "sent")
    assert request.status == "sent"
    assert request.sent_at is not None


def test_consultation_form_notifies_the_clinic(client, sheets, worker, smtp, settings):
    """Without the patient's details, but saying at once that the self-check was an emergency."""
    emergency = sheets["metastatic-spinal-cord-compression"].red_flags.filter(level="emergency")
    response = client.post(
        "/factsheets/metastatic-spinal-cord-compression/consultation/",
        {
            "consultation-name": "Siobhán Kelly",
            "consultation-email": "siobhan@example.com",
            "consultation-phone": "07911 123456",
            "consultation-best_time": "Afternoons",
            "consultation-contact_method": "video",
            "consultation-description": "Numb legs and back pain since Tuesday",
            "consultation-pain_duration": "under_1_week",
            "consultation-consent": "on",
            "consultation-symptoms": [emergency.first().pk],
        },
    )

    assert response.status_code == 302
    messages = smtp.wait_for(1)
    assert len(messages) == 1
    [message] = messages
    assert message["To"] == settings.CLINIC_NOTIFY_EMAIL
    consultation = ConsultationRequest.objects.get()
    assert message["Subject"] == (
        f"Emergency self-check: New consultation request #{consultation.pk}"
    )
    body = message.get_body(("plain",)).get_content()
    assert 'Self-check: Emergency (the patient was shown "Call 999 or go to A&E now")' in body
    assert "<strong>Emergency</strong>" in message.get_body(("html",)).get_content()
    assert f"/admin/leads/consultationrequest/{consultation.pk}/change/" in body
    assert "Numb legs" not in body
    consultation.refresh_from_db()
    assert consultation.clinic_notified_at is not None


def test_markup_in_a_name_prints_as_text_and_fetches_nothing(sheets, worker, smtp):
    """The form now refuses a name with a "/" in it, but one saved before it did (or by any
    other way in) must still print as text, and WeasyPrint must fetch nothing it names."""
    hostile = '<img src="file:///etc/passwd">'

    lead_services.create_report_request(
        sheet=sheets["spinal-metastases"], name=hostile, email="x@example.com"
    )  # enqueued to the worker when the transaction commits, as from the form

    [message] = smtp.wait_for(1)
    attachments = list(message.iter_attachments())
    assert [part.get_content_type() for part in attachments] == ["application/pdf"]
    text = pdf_text(attachments[0].get_content())
    assert hostile in text
    assert "root:x:0:0" not in text


def test_the_same_task_delivered_twice_sends_one_email(sheets, worker, smtp):
    request = ReportRequest.objects.create(
        sheet=sheets["spinal-metastases"],
        name="Twice Sent",
        email="twice@example.com",
        consent_version="report-consent-v1",
        consented_at="2026-11-21T10:00:00Z",
    )

    send_report.delay(request.pk)
    send_report.delay(request.pk)

    assert len(smtp.wait_for(1, settle=3)) == 1
    assert wait_for_status(ReportRequest, request.pk, "sent").attempts == 1


def test_a_greylisted_address_is_retried_without_reaching_the_worker_log(
    client, sheets, worker, smtp
):
    """A refused recipient is quoted in the SMTP error; the retry must not log it."""
    log = Path(settings.VAR_DIR) / "test-worker.log"
    logged_before = len(log.read_text())
    smtp.refuse_rcpt_with = "450 4.7.1 Greylisted, please try again later"

    client.post(
        "/factsheets/spinal-metastases/report/",
        {"report-name": "Grey Listed", "report-email": "grey.listed@example.com",
         "report-consent": "on"},
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while smtp.refused < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    smtp.refuse_rcpt_with = None
    request = wait_for_status(ReportRequest, ReportRequest.objects.get().pk, "sent")

    assert request.attempts >= 3
    assert [m["To"] for m in smtp.wait_for(1)] == ["grey.listed@example.com"]
    new_lines = log.read_text()[logged_before:]
    assert "Retry in" in new_lines and "SMTPRecipientsRefused" in new_lines
    assert "grey.listed" not in new_lines and "Grey Listed" not in new_lines


def test_smtp_4xx_is_retried_then_delivered_once(client, sheets, worker, smtp):
    smtp.refuse_with = "451 4.3.0 Try again later"

    client.post(
        "/factsheets/spinal-metastases/report/",
        {"report-name": "Retry Me", "report-email": "retry@example.com", "report-consent": "on"},
    )
    deadline = time.monotonic() + 20
    while smtp.refused < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    request = ReportRequest.objects.get()
    assert request.status == "queued"
    assert "451" in request.last_error
    smtp.refuse_with = None

    assert len(smtp.wait_for(1)) == 1
    request = wait_for_status(ReportRequest, request.pk, "sent")
    assert request.status == "sent"
    assert request.attempts >= 3


def test_a_report_on_a_sheet_withdrawn_before_it_is_sent_never_reaches_the_patient(
    sheets, worker, smtp
):
    """A sheet taken down (perhaps because it was wrong) after someone asked for it: the
    worker must not send it. The row is failed with the reason, for staff to decide."""
    sheet = sheets["spinal-metastases"]
    with transaction.atomic():  # the task is enqueued when this commits, as from the form
        request = lead_services.create_report_request(
            sheet=sheet, name="Withdrawn Sheet", email="withdrawn@example.com"
        )
        sheet.published = False  # as unticking "published" in admin does
        sheet.save()

    wait_until(
        lambda: ReportRequest.objects.get(pk=request.pk).status != "queued",
        "the worker to finish with the report",
    )

    request.refresh_from_db()
    assert request.status == "failed"
    assert request.last_error.startswith("SheetWithdrawn: Fact sheet")
    assert smtp.recipients_offered == 0 and smtp.messages == []  # not even begun


def test_cr_lf_in_a_name_never_reaches_a_header_or_a_recipient_on_the_wire(
    client, sheets, worker, smtp
):
    """What the SMTP server is given: the headers as bytes, and the envelope's recipients."""
    client.post(
        "/factsheets/spinal-metastases/report/",
        {"report-name": "Eve\r\nBcc: victim@mail.example", "report-email": "eve@example.com",
         "report-consent": "on"},
    )  # fmt: skip
    assert "\nBcc: victim@mail.example" in ReportRequest.objects.get().name  # saved as typed

    smtp.wait_for(1, settle=0)

    [(recipients, raw)] = smtp.received
    headers = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    assert b"victim" not in headers
    assert recipients == ["eve@example.com"]


def test_a_failure_while_recording_a_failure_logs_no_address(sheets, worker, smtp):
    """The SMTP server refuses the address, quoting it, and then the database refuses the
    write that records the failure: the database error the worker logs must not carry the
    refusal along (as its context or its cause's) into the worker's log."""
    log = Path(settings.VAR_DIR) / "test-worker.log"
    logged_before = len(log.read_text())
    address = "no.such.user@example.com"
    smtp.refuse_rcpt_with = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    request = ReportRequest.objects.create(
        sheet=sheets["spinal-metastases"],
        name="Refused Twice",
        email=address,
        consent_version="report-consent-v1",
        consented_at="2026-11-21T10:00:00Z",
    )
    with connection.cursor() as cursor:  # PostgreSQL refuses any change to a request's row
        cursor.execute(
            "CREATE OR REPLACE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'update refused by the test'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON leads_reportrequest "
            "FOR EACH ROW EXECUTE FUNCTION refuse_update()"
        )
    try:
        send_report.delay(request.pk)
        wait_until(
            lambda: "raised unexpected" in log.read_text()[logged_before:],
            "the worker to log the task's error",
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_update ON leads_reportrequest")
            cursor.execute("DROP FUNCTION refuse_update()")

    new_lines = log.read_text()[logged_before:]
    assert smtp.refused == 1
    assert "update refused by the test" in new_lines  # the database error, with its traceback
    assert address not in new_lines and "no.such.user" not in new_lines
    assert "Refused Twice" not in new_lines
    request.refresh_from_db()
    assert (request.status, request.attempts) == ("queued", 0)  # the failure went unrecorded


def test_the_workers_heartbeat_reaches_the_web_processes_services_check(site_server, worker):
    """Beat sends the heartbeat task; the worker writes it to Redis; the web process (gunicorn,
    not this one) reads it there for /healthz/services."""
    assert services_checks(site_server)["worker"] == "no recent heartbeat"

    heartbeat.delay()  # as beat sends it, through the broker to the worker

    wait_until(lambda: services_checks(site_server)["worker"] == "ok", "the heartbeat to be seen")
