"""UK GDPR for what patients send us: retention, subject access and erasure.

Health details are special category data, so they are kept only as long as they are needed:
a report request until some time after its email was sent, a consultation request until some
time after it was closed or booked (once booked, the clinic's own records take over, and
nothing in the workflow closes a booked request). Every export and erasure leaves a
PrivacyLog entry that holds no personal data.
"""

import hashlib
import hmac
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .exports import staff_name
from .models import (
    CANCER_BOX,
    ConsultationRequest,
    ConsultationStatus,
    PrivacyAction,
    PrivacyLog,
    ReportRequest,
    ReportStatus,
    consent_wording,
)
from .services import ERASED_NAME, erase_consultation_request, save_with_history

ERASED_BEFORE_SENT = "Erased before it was sent"


def subject_ref(person: str) -> str:
    """A keyed hash of an email address (or a phone number, below): the same person gives the
    same value, but the address cannot be read back from it. Keyed with PRIVACY_LOG_KEY, which
    stays put when SECRET_KEY is rotated."""
    key = settings.PRIVACY_LOG_KEY.encode()
    return hmac.new(key, person.strip().lower().encode(), hashlib.sha256).hexdigest()


def person_key(given: str) -> str:
    """Who a data request is about, as the requests store it: an email address as given, or a
    phone number in international form (07911 123456 and +44 7911 123456 are one person);
    "" when it is neither. "Possible", not "valid": a later phonenumbers release must not
    make a number stored under an earlier one unreachable."""
    given = given.strip()
    if "@" in given:
        return given
    try:
        number = phonenumbers.parse(given, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def person_of(request: ReportRequest | ConsultationRequest) -> str:
    """A request's person: its email address, or its phone number when it has none (a
    consultation request made to be phoned); "" once erased."""
    if request.email:
        return request.email.strip().lower()
    phone = getattr(request, "phone", None)
    return phone.as_e164 if phone else ""


def _requests_of(model, person: str) -> QuerySet:
    """The requests of one person (``person_key``): those with their email address or, for
    someone who gave none, those made with their phone number and no email. Never everything
    whose email is blank: that is every phone-only and every erased request."""
    if "@" in person:
        return model.objects.filter(email__iexact=person)
    if person and model is ConsultationRequest:
        # Only requests made without an email: a number can be shared (a couple's landline),
        # and a request that gave an email belongs to whoever that address names.
        return model.objects.filter(phone=person, email="")
    return model.objects.none()


def others_with_this_number(person: str) -> list[int]:
    """The consultation requests that give this phone number (``person_key``) together with
    an email address: they belong to whoever that address names, so a look-up by the number
    leaves them out, but whoever handles the request should know they are there."""
    if not person or "@" in person:
        return []
    mixed = ConsultationRequest.objects.filter(phone=person, erased_at__isnull=True)
    return list(mixed.exclude(email="").order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def erase_report_request(
    *, request: ReportRequest, by: AbstractBaseUser | None, reason: str
) -> ReportRequest:
    """Blank the name, email and self-check of a report request, here and in its history."""
    locked = ReportRequest.objects.select_for_update().get(pk=request.pk)
    if locked.erased_at:
        return locked
    locked.name, locked.email = ERASED_NAME, ""
    locked.self_check, locked.cancer_history = [], None
    locked.last_error = ""  # an SMTP error can quote the address
    if locked.status != ReportStatus.SENT:
        # Nowhere to send it now. Failed, not queued, so the requeue sweep leaves it alone;
        # and a failed row that is erased cannot be resent.
        locked.status = ReportStatus.FAILED
        locked.last_error = ERASED_BEFORE_SENT
    locked.erased_at = timezone.now()
    locked.history.update(name=ERASED_NAME, email="", last_error="", cancer_history=None)
    save_with_history(locked, by=by, reason=f"Erased: {reason}")
    return locked


def _versions(record, *fields: str) -> list[dict]:
    """The request as each change left it (its history), oldest first: a name or number staff
    corrected is still held there, so the copy includes it."""
    return [
        {"at": version.history_date.isoformat()}
        | {field: str(getattr(version, field) or "") for field in fields}
        for version in sorted(record.history.all(), key=lambda version: version.history_date)
    ]


def subject_access_export(person: str, *, by: AbstractBaseUser | None = None) -> dict:
    """Everything held about the person with this email address (or phone number, for
    requests made without one), as plain data."""
    person = person_key(person)
    reports = _requests_of(ReportRequest, person).select_related("sheet").order_by("created_at")
    consultations = (
        _requests_of(ConsultationRequest, person)
        .select_related("sheet", "assigned_to")
        .prefetch_related("contact_attempts", "notes")
        .order_by("created_at")
    )
    data = {
        "email" if "@" in person else "phone": person,
        "exported_at": timezone.now().isoformat(),
        "report_requests": [
            {
                "reference": r.pk,
                "fact_sheet": r.sheet.title,
                "name": r.name,
                "email": r.email,
                "asked_at": r.created_at.isoformat(),
                "consent_version": r.consent_version,
                "consent_wording": consent_wording(r.consent_version),
                "consented_at": r.consented_at.isoformat(),
                "ticked": [item["symptom"] for item in r.ticked],
                "not_ticked": [item["symptom"] for item in r.not_ticked],
                "cancer_box": CANCER_BOX[r.cancer_history],
                "self_check_told_you": r.outcome.headline,
                "status": r.get_status_display(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "earlier_versions": _versions(r, "name", "email", "status"),
            }
            for r in reports
        ],
        "consultation_requests": [
            {
                "reference": c.pk,
                "fact_sheet": c.sheet.title,
                "name": c.name,
                "email": c.email,
                "phone": str(c.phone),
                "best_time_to_call": c.best_time,
                "preferred_contact": c.get_contact_method_display(),
                "description": c.description,
                "pain_duration": c.get_pain_duration_display(),
                "ticked": [item["symptom"] for item in c.ticked],
                "not_ticked": [item["symptom"] for item in c.not_ticked],
                "cancer_box": CANCER_BOX[c.cancer_history],
                "self_check_told_you": c.outcome.headline,
                "asked_at": c.created_at.isoformat(),
                "consent_version": c.consent_version,
                "consent_wording": consent_wording(c.consent_version),
                "consented_at": c.consented_at.isoformat(),
                "status": c.get_status_display(),
                "close_reason": c.get_close_reason_display(),
                "dealt_with_by": staff_name(c.assigned_to),
                "earlier_versions": _versions(
                    c, "name", "email", "phone", "best_time", "contact_method", "status"
                ),
                "contact_attempts": [
                    {
                        "at": a.attempted_at.isoformat(),
                        "how": a.get_channel_display(),
                        "outcome": a.get_outcome_display(),
                        "note": a.note,
                    }
                    for a in c.contact_attempts.all()
                ],  # fmt: skip
                "staff_notes": [
                    {"at": n.created_at.isoformat(), "text": n.text} for n in c.notes.all()
                ],
            }
            for c in consultations
        ],
    }
    PrivacyLog.objects.create(
        action=PrivacyAction.SUBJECT_ACCESS,
        by=by,
        subject=subject_ref(person),
        report_requests=len(data["report_requests"]),
        consultation_requests=len(data["consultation_requests"]),
    )
    return data


@transaction.atomic
def erase_consultation(
    consultation: ConsultationRequest, *, by: AbstractBaseUser | None, reason: str
) -> PrivacyLog | None:
    """Erase one consultation request (admin's "Erase personal details"), with its audit
    entry; None when it had been erased already."""
    locked = ConsultationRequest.objects.select_for_update().get(pk=consultation.pk)
    if locked.erased_at:
        return None
    person = person_of(locked)  # before it goes
    erase_consultation_request(request=locked, by=by, reason=reason)
    return _erasure_logged(person, by=by, reason=reason, consultations=1)


@transaction.atomic
def erase_everything_for(
    person: str, *, by: AbstractBaseUser | None, reason: str = "Erased at the patient's request"
) -> PrivacyLog:
    """Erase every request of the person with this email address (or phone number)."""
    person = person_key(person)
    reports = list(_requests_of(ReportRequest, person).filter(erased_at__isnull=True))
    consultations = list(_requests_of(ConsultationRequest, person).filter(erased_at__isnull=True))
    for report in reports:
        erase_report_request(request=report, by=by, reason=reason)
    for consultation in consultations:
        erase_consultation_request(request=consultation, by=by, reason=reason)
    return _erasure_logged(
        person, by=by, reason=reason, reports=len(reports), consultations=len(consultations)
    )


def _erasure_logged(
    person: str,
    *,
    by: AbstractBaseUser | None,
    reason: str,
    reports: int = 0,
    consultations: int = 0,
) -> PrivacyLog:
    return PrivacyLog.objects.create(
        action=PrivacyAction.ERASURE,
        by=by,
        subject=subject_ref(person) if person else "",
        report_requests=reports,
        consultation_requests=consultations,
        note=reason[:200],
    )


@transaction.atomic
def apply_retention() -> PrivacyLog | None:
    """Erase what has been kept as long as promised (settings REPORT_RETENTION_DAYS and
    CONSULTATION_RETENTION_DAYS). Returns the audit entry, or None when nothing was due."""
    now = timezone.now()
    report_cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    consultation_cutoff = now - timedelta(days=settings.CONSULTATION_RETENTION_DAYS)
    reports = list(
        ReportRequest.objects.filter(erased_at__isnull=True).filter(
            Q(status=ReportStatus.SENT, sent_at__lt=report_cutoff)
            | Q(status=ReportStatus.FAILED, updated_at__lt=report_cutoff)
        )
    )
    consultations = list(
        ConsultationRequest.objects.filter(
            erased_at__isnull=True,
            status__in=[ConsultationStatus.CLOSED, ConsultationStatus.BOOKED],
            updated_at__lt=consultation_cutoff,
        )
    )
    if not reports and not consultations:
        return None
    reason = "Retention period ended"
    for report in reports:
        erase_report_request(request=report, by=None, reason=reason)
    for consultation in consultations:
        erase_consultation_request(request=consultation, by=None, reason=reason)
    return PrivacyLog.objects.create(
        action=PrivacyAction.RETENTION,
        report_requests=len(reports),
        consultation_requests=len(consultations),
    )
