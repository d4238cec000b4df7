import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services
from .models import ConsultationRequest

logger = logging.getLogger(__name__)

RETRYABLE = (smtplib.SMTPException, OSError)


@shared_task(
    name="leads.notify_clinic",
    autoretry_for=RETRYABLE,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def notify_clinic(consultation_id: int) -> None:
    services.send_clinic_notification(consultation_id=consultation_id)


def enqueue_clinic_notification(sender, *, request_id: int, **kwargs) -> None:
    notify_clinic.delay(request_id)


@shared_task(name="leads.notify_unnotified_consultations")
def notify_unnotified_consultations() -> int:
    """Catch requests whose notification was never enqueued (e.g. the broker was down)."""
    stale = ConsultationRequest.objects.unnotified(
        older_than=timedelta(seconds=settings.REPORT_REQUEUE_AFTER_SECONDS)
    )
    ids = list(stale.values_list("pk", flat=True)[:500])
    for pk in ids:
        notify_clinic.delay(pk)
    return len(ids)


@shared_task(name="leads.apply_retention")
def apply_retention() -> int:
    from .privacy import apply_retention as erase_expired

    log = erase_expired()
    return 0 if log is None else log.report_requests + log.consultation_requests
