import gc
import logging
import random
import smtplib

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings
from django.db import connections

from leads.models import ReportRequest

from . import services

logger = logging.getLogger(__name__)


def _is_retryable(exc: BaseException) -> bool:
    """Worth another try: anything wrong with the way out rather than with the patient's
    address. Only a lasting refusal of the recipient (a 5xx to RCPT: no such mailbox) is final
    at once. A 4xx, the server or network away, or a 5xx to our login, our sender or our
    message (a changed SMTP password, a relay that no longer takes us) gets every attempt:
    it would fail every report alike, and /healthz/services says so (config/views.py)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    # smtplib's errors are OSErrors too, as are refused, reset and timed-out connections.
    return isinstance(exc, OSError)


def error_text(exc: BaseException) -> str:
    """What a failed attempt records on its row (shown to staff in admin, never logged)."""
    return f"{type(exc).__name__}: {exc}"


def is_recipient_refusal(last_error: str) -> bool:
    """Whether a row's recorded error is its recipient's address being refused: the patient's
    mistyped or closed mailbox, not a fault on the clinic's side."""
    return last_error.startswith(f"{smtplib.SMTPRecipientsRefused.__name__}:")


def backoff_seconds(retries: int) -> float:
    base = settings.REPORT_RETRY_BASE_SECONDS
    return min(600.0, base * 2**retries) + random.uniform(0, base)  # noqa: S311 (jitter only)


class DeliveryDeferred(Exception):
    """What a retry is logged with: the kind of error, never its text. Celery logs the
    retry's exception at INFO, and an SMTP refusal quotes the recipient's address."""


class ReportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # A hard time limit kills the child before send_report's own handler can run; Celery
        # then calls this in the worker's main process. Record it as a final failure, or the
        # row would sit "queued" and the sweep would send it back to be killed again.
        if isinstance(exc, TimeLimitExceeded) and args:
            services.record_delivery_failure(
                request_id=args[0], error=f"TimeLimitExceeded: {exc}", final=True
            )
            logger.warning("Report request %s stopped at the hard time limit", args[0])


# No max_retries: how many attempts a report gets is counted on its row (REPORT_MAX_ATTEMPTS,
# in record_delivery_failure). Celery's own limit (3 by default) would end the chain on a
# retry we asked for, raising the delivery error (whose text can quote the address) into the
# log and leaving the row queued for the sweep to start again, for ever.
@shared_task(bind=True, base=ReportTask, name="reports.send_report", max_retries=None)
def send_report(self, request_id: int) -> None:
    try:
        services.deliver_report(request_id=request_id)
        return
    except ReportRequest.DoesNotExist:
        logger.info("Report request %s no longer exists; nothing to send", request_id)
        return
    except (Exception, SoftTimeLimitExceeded) as exc:
        failure = exc
    # Recorded outside the except block: an error raised while recording (the database gone
    # too, a soft time limit) would otherwise carry the delivery error as its context, and
    # Celery logs the whole chain; an SMTP refusal quotes the recipient's address.
    final = services.record_delivery_failure(
        request_id=request_id,
        error=error_text(failure),
        final=not _is_retryable(failure),
    )
    # Only the id and the kind of error: no patient details in logs.
    kind = type(failure).__name__
    logger.warning(
        "Report request %s attempt %s failed (%s)%s",
        request_id,
        self.request.retries + 1,
        kind,
        "; giving up" if final else "; will retry",
    )
    if not final:
        deferred = DeliveryDeferred(f"{kind} (report request {request_id})")
        countdown = backoff_seconds(self.request.retries)
        raise self.retry(exc=deferred, countdown=countdown) from None


def enqueue_report(sender, *, request_id: int, **kwargs) -> None:
    send_report.delay(request_id)


@shared_task(name="reports.requeue_stale_report_requests")
def requeue_stale_report_requests() -> int:
    ids = services.claim_stale_queued()
    for pk in ids:
        send_report.delay(pk)
    return len(ids)


@worker_init.connect(dispatch_uid="reports.warm_report_renderer")
def warm_report_renderer(**kwargs) -> None:
    """Before the worker forks its children, lay out the published sheets' PDF pages once.

    The children start with WeasyPrint's fonts, the stylesheet and those pages in memory, so
    a child's first report (after a start, or after it is replaced) is as quick as the rest.
    A failure here only costs that speed, so the worker starts anyway.
    """
    try:
        warmed = services.warm_report_renderer()
    except Exception:
        logger.warning("Could not lay out the sheets' PDF pages ahead of time", exc_info=True)
    else:
        logger.info("Laid out the PDF pages of %s sheets ahead of the first report", warmed)
    finally:
        connections.close_all()  # the children must not share this process's connection
        # What was laid out stays for the process's life. Frozen, the garbage collector (in
        # this process and in every child) never walks it again: a full collection over it
        # takes ~100-250 ms here, and would copy the children's shared memory as it went.
        gc.freeze()
