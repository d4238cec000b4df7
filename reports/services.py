import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from config.mail import build_templated_email
from factsheets.assessment import OUTCOMES
from factsheets.models import FactSheet
from factsheets.selectors import sheet_context
from leads.models import ReportRequest, ReportStatus

from .fetcher import StaticOnlyURLFetcher

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"  # tagged, so screen readers can read the report


def render_report_pdf(report: ReportRequest) -> bytes:
    """The personalised PDF: a first page addressed to the patient, then the whole sheet."""
    sheet = FactSheet.objects.with_content().get(pk=report.sheet_id)
    context = sheet_context(sheet) | {
        "report": report,
        "generated_on": timezone.localdate(),
        "clinic_name": settings.CLINIC_NAME,
        # The outcome stored at submission, not a fresh one: a report can be re-rendered
        # exactly as first sent even after the sheet or the rules change.
        "outcome": OUTCOMES[report.urgency],
    }
    html = render_to_string("reports/report.html", context)
    return HTML(string=html, url_fetcher=StaticOnlyURLFetcher()).write_pdf(pdf_variant=PDF_VARIANT)


def deliver_report(*, request_id: int) -> bool:
    """Render and email one report; False when it had been sent already.

    The row stays locked from the check to the final write, so a duplicate task for the same
    request waits here and then finds it sent. If anything fails, the transaction rolls back
    and the row is still ``queued`` for a retry.
    """
    with transaction.atomic():
        report = ReportRequest.objects.select_for_update().get(pk=request_id)
        if report.status == ReportStatus.SENT:
            return False
        pdf = render_report_pdf(report)
        message = build_templated_email(
            "report",
            {"report": report, "sheet": report.sheet},
            to=[report.email],
            message_id_key=f"report-{report.pk}",
            attachments=[(f"fact-sheet-{report.pk}.pdf", pdf, "application/pdf")],
        )
        message.send()
        report.status = ReportStatus.SENT
        report.sent_at = timezone.now()
        report.attempts = F("attempts") + 1
        report.last_error = ""
        report.save(update_fields=["status", "sent_at", "attempts", "last_error", "updated_at"])
    return True


def record_delivery_failure(*, request_id: int, error: str, final: bool) -> None:
    """Count a failed attempt; ``final`` marks it failed so staff see it and can resend."""
    ReportRequest.objects.filter(pk=request_id).exclude(status=ReportStatus.SENT).update(
        attempts=F("attempts") + 1,
        last_error=error[:2000],
        status=ReportStatus.FAILED if final else ReportStatus.QUEUED,
        updated_at=timezone.now(),
    )


def claim_stale_queued(*, limit: int = 500) -> list[int]:
    """Queued rows left alone too long (their task was likely never enqueued), touched so the
    next sweep leaves them for a while."""
    older_than = timedelta(seconds=settings.REPORT_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            ReportRequest.objects.stale_queued(older_than=older_than)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        ReportRequest.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    return ids
