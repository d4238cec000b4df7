import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.mail import build_templated_email
from factsheets.assessment import RULES_VERSION, assess
from factsheets.models import FactSheet

from .models import (
    CONSULTATION_CONSENT_VERSION,
    REPORT_CONSENT_VERSION,
    ConsultationRequest,
    ReportRequest,
    ReportStatus,
)
from .signals import consultation_request_created, report_requested
from .working_time import one_working_day_after

logger = logging.getLogger(__name__)


def _after_commit(action, *, what: str, pk: int) -> None:
    """Run ``action`` once the transaction commits; a broker outage must not lose the row.

    The row is already saved; if enqueueing fails, the periodic sweep picks it up later.
    """

    def run() -> None:
        try:
            action()
        except Exception:
            logger.exception("Could not enqueue %s for request %s; the sweep will retry", what, pk)

    transaction.on_commit(run)


def self_check_fields(
    sheet: FactSheet, ticked_flag_ids: Iterable[int], cancer_history: bool | None
) -> dict:
    """The whole list as shown (ticked or not), the outcome, and the versions that made it."""
    ticked_ids = set(ticked_flag_ids)
    checklist = [
        {
            "flag_id": flag.pk,
            "symptom": flag.symptom or flag.text,
            "level": flag.level,
            "ticked": flag.pk in ticked_ids,
        }
        for flag in sheet.red_flags.all()
    ]
    outcome = assess(item["level"] for item in checklist if item["ticked"])
    return {
        "self_check": checklist,
        "cancer_history": cancer_history if sheet.asks_cancer_history else None,
        "urgency": outcome.level,
        "rules_version": RULES_VERSION,
        "content_version": sheet.content_version,
    }


@transaction.atomic
def create_report_request(
    *,
    sheet: FactSheet,
    name: str,
    email: str,
    ticked_flag_ids: Iterable[int] = (),
    cancer_history: bool | None = None,
) -> ReportRequest:
    request = ReportRequest.objects.create(
        sheet=sheet,
        name=name,
        email=email,
        consent_version=REPORT_CONSENT_VERSION,
        consented_at=timezone.now(),
        **self_check_fields(sheet, ticked_flag_ids, cancer_history),
    )
    _after_commit(
        lambda: report_requested.send(sender=ReportRequest, request_id=request.pk),
        what="report",
        pk=request.pk,
    )
    return request


@transaction.atomic
def resend_failed_reports(*, request_ids: list[int]) -> list[int]:
    """Put failed report requests back in the queue through the normal task path."""
    ids = list(
        ReportRequest.objects.select_for_update()
        .filter(pk__in=request_ids, status=ReportStatus.FAILED)
        .values_list("pk", flat=True)
    )
    ReportRequest.objects.filter(pk__in=ids).update(
        status=ReportStatus.QUEUED, last_error="", updated_at=timezone.now()
    )
    for pk in ids:
        _after_commit(
            lambda pk=pk: report_requested.send(sender=ReportRequest, request_id=pk),
            what="report resend",
            pk=pk,
        )
    return ids


@transaction.atomic
def create_consultation_request(
    *,
    sheet: FactSheet,
    name: str,
    email: str,
    phone: str,
    best_time: str,
    contact_method: str,
    description: str,
    pain_duration: str,
    ticked_flag_ids: Iterable[int] = (),
    cancer_history: bool | None = None,
) -> ConsultationRequest:
    now = timezone.now()
    consultation = ConsultationRequest.objects.create(
        sheet=sheet,
        name=name,
        email=email,
        phone=phone,
        best_time=best_time,
        contact_method=contact_method,
        description=description,
        pain_duration=pain_duration,
        consent_version=CONSULTATION_CONSENT_VERSION,
        consented_at=now,
        due_at=one_working_day_after(now),
        **self_check_fields(sheet, ticked_flag_ids, cancer_history),
    )
    _after_commit(
        lambda: consultation_request_created.send(
            sender=ConsultationRequest, request_id=consultation.pk
        ),
        what="clinic notification",
        pk=consultation.pk,
    )
    return consultation


def send_clinic_notification(*, consultation_id: int) -> bool:
    """Email the clinic's inbox about a new request, once. Returns False if already notified.

    The row stays locked while the email goes out, so a duplicate task waits and then skips.
    The email carries no health details: staff read those in admin.
    """
    with transaction.atomic():
        consultation = (
            ConsultationRequest.objects.select_for_update()
            .select_related("sheet")
            .get(pk=consultation_id)
        )
        if consultation.clinic_notified_at:
            return False
        admin_path = reverse("admin:leads_consultationrequest_change", args=[consultation.pk])
        message = build_templated_email(
            "clinic_notification",
            {"consultation": consultation, "admin_url": settings.SITE_URL + admin_path},
            to=[settings.CLINIC_NOTIFY_EMAIL],
            message_id_key=f"consultation-{consultation.pk}",
        )
        message.send()
        consultation.clinic_notified_at = timezone.now()
        consultation.save(update_fields=["clinic_notified_at", "updated_at"])
    return True
