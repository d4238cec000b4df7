import io
import smtplib

import pytest
from pypdf import PdfReader

from leads.models import ReportStatus
from reports import services
from reports.tasks import _is_retryable, send_report
from tests.factories import ReportRequestFactory


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def report(spinal_metastases):
    return ReportRequestFactory(sheet=spinal_metastases, name="Siobhán Nguyễn")


def test_render_report_pdf_opens_with_the_patients_own_page(report):
    reader = PdfReader(io.BytesIO(services.render_report_pdf(report)))
    first_page = reader.pages[0].extract_text()
    whole = "\n".join(page.extract_text() for page in reader.pages)

    assert "Prepared for Siobhán Nguyễn" in first_page
    assert "Your self-check summary" in first_page
    assert "Spinal\nmetastases" in first_page or "Spinal metastases" in first_page
    assert "call 999" in first_page
    assert f"Page 1 of {len(reader.pages)}" in first_page
    assert "Metastatic spinal cord compression (MSCC)" in whole
    assert "Prostate cancer" in whole
    assert "not medical advice" in whole.lower()
    assert reader.metadata.title == (
        "Spinal metastases: fact sheet and self-check summary for Siobhán Nguyễn"
    )


def test_render_report_pdf_prints_markup_in_a_name_as_text(spinal_metastases, caplog):
    hostile = '<img src="file:///etc/passwd"><style>@import "http://127.0.0.1:9/x.css";</style>'
    report = ReportRequestFactory(sheet=spinal_metastases, name=hostile)

    text = pdf_text(services.render_report_pdf(report))

    assert '<img src="file:///etc/passwd">' in text
    assert "root:x:0:0" not in text
    assert not [r for r in caplog.records if "Refused to fetch" in r.getMessage()]


def test_deliver_report_sends_one_email_with_the_pdf(report, mailoutbox, settings):
    settings.REPLY_TO_EMAIL = "clinic-replies@example.org"

    assert services.deliver_report(request_id=report.pk) is True

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [report.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.reply_to == ["clinic-replies@example.org"]
    assert "metastases" not in message.subject.lower()
    assert "Siobhán" not in message.subject
    assert message.alternatives[0].mimetype == "text/html"
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf"
    assert "Siobhán Nguyễn" in pdf_text(content)
    assert f"report-{report.pk}" in message.extra_headers["Message-ID"]
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT
    assert report.sent_at is not None
    assert report.attempts == 1


def test_deliver_report_twice_sends_once(report, mailoutbox):
    services.deliver_report(request_id=report.pk)

    assert services.deliver_report(request_id=report.pk) is False
    assert len(mailoutbox) == 1


def test_record_delivery_failure_counts_attempts_and_marks_final_failure(report):
    assert not services.record_delivery_failure(request_id=report.pk, error="SMTP 451", final=False)
    report.refresh_from_db()
    assert (report.status, report.attempts, report.last_error) == ("queued", 1, "SMTP 451")

    services.record_delivery_failure(request_id=report.pk, error="SMTP 451 again", final=True)
    report.refresh_from_db()
    assert (report.status, report.attempts) == ("failed", 2)


def test_a_failure_after_the_last_attempt_counted_on_the_row_is_final(report, settings):
    """A chain the requeue sweep started again counts its retries from 0; the row's count is
    what stops it."""
    settings.REPORT_MAX_ATTEMPTS = 5
    type(report).objects.filter(pk=report.pk).update(attempts=4)

    assert services.record_delivery_failure(request_id=report.pk, error="451", final=False)
    report.refresh_from_db()
    assert (report.status, report.attempts) == ("failed", 5)


def test_a_failure_on_a_report_sent_meanwhile_changes_nothing_and_asks_for_no_retry(report):
    type(report).objects.filter(pk=report.pk).update(status="sent")

    assert services.record_delivery_failure(request_id=report.pk, error="451", final=False)
    report.refresh_from_db()
    assert (report.status, report.attempts, report.last_error) == ("sent", 0, "")


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}), False),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"mailbox busy")}), True),
        (ConnectionRefusedError(), True),
        (smtplib.SMTPServerDisconnected(), True),
        # Ours, not the patient's: every report would fail alike until someone mends it.
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), True),
        (smtplib.SMTPSenderRefused(550, b"not our domain", "no-reply@clinic.example"), True),
        (smtplib.SMTPDataError(554, b"5.7.1 relay access denied"), True),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), True),
        (ValueError("bad template"), False),
    ],
)
def test_only_a_refused_recipient_or_a_bug_fails_a_report_at_once(exc, retry):
    assert _is_retryable(exc) is retry


def test_a_report_sent_after_an_edit_says_the_sheet_changed_since(report, spinal_metastases):
    """A resend days later (or a long mail outage) sends the sheet as it is now: the cover
    names that version, and says the person saw an earlier one."""
    asked_on = report.content_version = spinal_metastases.content_version  # as the form saves
    report.save()
    before = pdf_text(services.render_report_pdf(report))
    spinal_metastases.content_version += 1  # as a save in admin does
    spinal_metastases.save()

    after = pdf_text(services.render_report_pdf(report))

    assert f"fact sheet version {asked_on} " in before and "updated this" not in before
    assert f"fact sheet version {asked_on + 1} " in after
    assert f"(you saw version {asked_on})" in " ".join(after.split())


def test_a_report_on_a_withdrawn_sheet_is_not_sent_and_staff_see_why(report, mailoutbox):
    """In-process, for `make test-unit`; through the worker to the SMTP server, see
    tests/integration/test_delivery.py."""
    report.sheet.published = False
    report.sheet.save()

    send_report.apply(args=[report.pk])  # the task's own code, in this process

    assert mailoutbox == []
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED  # not retried: staff decide
    assert report.last_error.startswith("SheetWithdrawn: Fact sheet")


@pytest.mark.parametrize("slug", ["multiple-myeloma", "metastatic-spinal-cord-compression"])
def test_questions_to_ask_are_on_the_page_and_printed_once_in_the_pdf(client, shipped_sheets, slug):
    """The PDF and the web page both have them at the end of the sheet; a sheet whose text
    already lists them (MSCC, under its scans) is not given them twice."""
    sheet = shipped_sheets[slug]
    page = " ".join(client.get(sheet.get_absolute_url()).content.decode().split())
    whole = " ".join(
        pdf_text(services.render_report_pdf(ReportRequestFactory(sheet=sheet))).split()
    )

    questions = sheet.questions or ["How soon will I get the results?"]  # MSCC's, in its text
    for question in questions:
        assert page.count(question) == 1, question
        assert whole.count(question) == 1, question
