import logging
import random
import smtplib

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from leads.models import ReportRequest

from . import services

logger = logging.getLogger(__name__)


def _is_retryable(exc: BaseException) -> bool:
    """Worth another try: a 4xx answer, or the server or network being away for a while."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, OSError)  # refused, reset, timed out, disconnected


def backoff_seconds(retries: int) -> float:
    base = settings.REPORT_RETRY_BASE_SECONDS
    return min(600.0, base * 2**retries) + random.uniform(0, base)  # noqa: S311 (jitter only)


@shared_task(bind=True, name="reports.send_report")
def send_report(self, request_id: int) -> None:
    try:
        services.deliver_report(request_id=request_id)
    except ReportRequest.DoesNotExist:
        logger.info("Report request %s no longer exists; nothing to send", request_id)
    except (Exception, SoftTimeLimitExceeded) as exc:
        final = not _is_retryable(exc) or self.request.retries + 1 >= settings.REPORT_MAX_ATTEMPTS
        services.record_delivery_failure(
            request_id=request_id, error=f"{type(exc).__name__}: {exc}", final=final
        )
        # Only the id and the kind of error: no patient details in logs.
        logger.warning(
            "Report request %s attempt %s failed (%s)%s",
            request_id,
            self.request.retries + 1,
            type(exc).__name__,
            "; giving up" if final else "; will retry",
        )
        if not final:
            raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc


def enqueue_report(sender, *, request_id: int, **kwargs) -> None:
    send_report.delay(request_id)


@shared_task(name="reports.requeue_stale_report_requests")
def requeue_stale_report_requests() -> int:
    ids = services.claim_stale_queued()
    for pk in ids:
        send_report.delay(pk)
    return len(ids)
