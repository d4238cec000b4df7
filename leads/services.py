import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from config.mail import build_templated_email
from factsheets.assessment import (
    NONE,
    RULES_VERSION,
    Outcome,
    highest_level,
    recorded_outcome,
    says_straight_away,
)
from factsheets.models import ActionLevel, FactSheet

from .models import (
    CONSULTATION_CONSENT_VERSION,
    CONSULTATION_TRANSITIONS,
    NO_REPLY_ATTEMPTS,
    REPORT_CONSENT_VERSION,
    SAME_DAY_URGENCIES,
    CloseReason,
    ConsultationRequest,
    ConsultationStatus,
    ContactAttempt,
    ContactOutcome,
    ExportLog,
    InternalNote,
    ReportRequest,
    ReportStatus,
    SelfCheckRecord,
)
from .signals import consultation_request_created, report_requested
from .working_time import close_of_working_day, one_working_day_after

logger = logging.getLogger(__name__)

# Erasure keeps the row (for the numbers on the dashboard) but nothing that identifies anyone.
ERASED_NAME = "[erased]"
# The fields history copies that hold personal details (contact details, how they like to be
# contacted, how long they have had pain, and whether they have had cancer); erasure blanks
# them in every copy.
PERSONAL_HISTORY_FIELDS = {
    "name": ERASED_NAME,
    "email": "",
    "phone": "",
    "best_time": "",
    "contact_method": "",
    "pain_duration": "",
    "cancer_history": None,
}


class TriageError(Exception):
    """A triage change that is not allowed. The message is written for staff to read."""


def save_with_history(
    obj: models.Model, *, by: AbstractBaseUser | None, reason: str, **save_kwargs
) -> None:
    """Save ``obj`` so its history says who (when known) and why.

    In admin the history middleware already knows the user; ``by`` covers tasks and commands.
    """
    if by is not None:
        obj._history_user = by
    obj._change_reason = reason[:100]  # the history column is 100 characters
    try:
        obj.save(**save_kwargs)
    finally:
        # Not left on the instance, or a later save would repeat this reason.
        del obj._change_reason


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


def _self_check(sheet: FactSheet, ticked_flag_ids: Iterable[int]) -> tuple[list[dict], Outcome]:
    """The whole list as shown (ticked or not), and what the rule makes of the ticks."""
    ticked_ids = set(ticked_flag_ids)
    checklist = [
        {
            "flag_id": flag.pk,
            "symptom": flag.symptom or flag.text,
            "level": flag.level,
            "ticked": flag.pk in ticked_ids,
            # Whether an urgent sign's own words said "straight away": the outcome says so too.
            "straight_away": flag.level == ActionLevel.URGENT and says_straight_away(flag.text),
        }
        for flag in sheet.red_flags.all()
    ]
    ticked = [item for item in checklist if item["ticked"]]
    return checklist, recorded_outcome(highest_level(item["level"] for item in ticked), ticked)


def self_check_fields(
    sheet: FactSheet, ticked_flag_ids: Iterable[int], cancer_history: bool | None
) -> dict:
    """The whole list as shown (ticked or not), the outcome, and the versions that made it."""
    checklist, outcome = _self_check(sheet, ticked_flag_ids)
    return {
        "self_check": checklist,
        "cancer_history": cancer_history if sheet.asks_cancer_history else None,
        "urgency": outcome.level,
        "rules_version": RULES_VERSION,
        "content_version": sheet.content_version,
    }


def self_check_outcome(sheet: FactSheet, ticked_flag_ids: Iterable[int]) -> Outcome:
    """What the self-check tells someone who ticked these signs on this sheet."""
    return _self_check(sheet, ticked_flag_ids)[1]


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
def resend_failed_reports(
    *, request_ids: list[int], by: AbstractBaseUser | None = None
) -> list[int]:
    """Put failed report requests back in the queue through the normal task path, with a
    fresh set of attempts: a failed row has used all of them, so with its count kept the
    first "try again later" after a resend would fail it at once.

    Saved row by row (not ``update()``) so each resend shows in the request's history (where
    the earlier attempts stay on record).
    """
    reports = list(
        ReportRequest.objects.select_for_update().filter(
            pk__in=request_ids, status=ReportStatus.FAILED, erased_at__isnull=True
        )
    )
    ids = [report.pk for report in reports]
    for report in reports:
        report.status = ReportStatus.QUEUED
        report.last_error = ""
        report.attempts = 0
        save_with_history(report, by=by, reason="Resend requested")
    for pk in ids:
        _after_commit(
            lambda pk=pk: report_requested.send(sender=ReportRequest, request_id=pk),
            what="report resend",
            pk=pk,
        )
    return ids


def reply_due_at(*, received_at: datetime, urgency: str) -> datetime:
    """When the reply promise runs out.

    Routine requests: one working day of opening hours. Emergency and urgent self-checks: the
    close of the working day they arrive in (or of the next working day when they arrive out
    of hours), so they are called back the same working day. The patient has already been
    told on the page to call 999 / NHS 111; this is the clinic's own follow-up.
    """
    if urgency in SAME_DAY_URGENCIES:
        return close_of_working_day(received_at)
    return one_working_day_after(received_at)


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
    checked = self_check_fields(sheet, ticked_flag_ids, cancer_history)
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
        due_at=reply_due_at(received_at=now, urgency=checked["urgency"]),
        **checked,
    )
    _after_commit(
        lambda: consultation_request_created.send(
            sender=ConsultationRequest, request_id=consultation.pk
        ),
        what="clinic notification",
        pk=consultation.pk,
    )
    return consultation


def shown_to_patient(record: SelfCheckRecord) -> str:
    """The headline the self-check put in front of the patient ("Call 999 or go to A&E
    now"); "" when they ticked nothing."""
    outcome = record.outcome
    return outcome.headline if outcome.level != NONE else ""


def send_clinic_notification(*, consultation_id: int) -> bool:
    """Email the clinic's inbox about a new request, once. Returns False if already notified.

    The row stays locked while the email goes out, so a duplicate task waits and then skips.
    The email names no one and carries no symptoms or description: staff read those in admin.
    It does give the self-check's level, so an emergency or urgent request stands out in the
    inbox the moment it arrives.
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
            {
                "consultation": consultation,
                "admin_url": settings.SITE_URL + admin_path,
                "shown": shown_to_patient(consultation),
                "same_day": consultation.urgency in SAME_DAY_URGENCIES,  # put first in the inbox
            },
            to=[settings.CLINIC_NOTIFY_EMAIL],
            message_id_key=f"consultation-{consultation.pk}",
        )
        message.send()
        consultation.clinic_notified_at = timezone.now()
        consultation.save(update_fields=["clinic_notified_at", "updated_at"])
    return True


# --- Triage --------------------------------------------------------------------------------


def allowed_next_statuses(status: str) -> list[str]:
    """The statuses a request may move to next, in workflow order."""
    return [
        value for value in ConsultationStatus.values if value in CONSULTATION_TRANSITIONS[status]
    ]


def _lock(consultation: ConsultationRequest) -> ConsultationRequest:
    """The row, locked until the transaction ends, so two members of staff cannot race."""
    locked = ConsultationRequest.objects.select_for_update().get(pk=consultation.pk)
    if locked.erased_at:
        raise TriageError(f"{locked} has been erased and can no longer be changed.")
    return locked


def _label(status: str) -> str:
    return ConsultationStatus(status).label


@transaction.atomic
def change_consultation_status(
    *,
    consultation: ConsultationRequest,
    to: str,
    by: AbstractBaseUser | None,
    close_reason: str = "",
) -> ConsultationRequest:
    """Move a request along the workflow; refuses moves the workflow does not allow.

    Closing needs a reason; "no reply" needs the attempts to show for it.
    """
    locked = _lock(consultation)
    before = locked.status
    if to not in CONSULTATION_TRANSITIONS[before]:
        raise TriageError(
            f"{locked} is {_label(before).lower()}: it cannot move to {_label(to).lower()}."
        )
    if to == ConsultationStatus.CLOSED:
        if close_reason not in CloseReason.values or close_reason == CloseReason.ERASED:
            raise TriageError(f"Choose why {locked} is being closed.")
        attempts = locked.contact_attempts.count()
        if close_reason == CloseReason.NO_REPLY and attempts < NO_REPLY_ATTEMPTS:
            raise TriageError(
                f"{locked} has {attempts} contact attempt(s) logged; log {NO_REPLY_ATTEMPTS} "
                'before closing it as "no reply".'
            )
    elif close_reason:
        raise TriageError("A close reason only goes with closing a request.")

    locked.status = to
    locked.close_reason = close_reason
    if (
        to in (ConsultationStatus.CONTACTED, ConsultationStatus.BOOKED)
        and not locked.first_contact_at
    ):
        # Marked contacted without a logged attempt: the mark is the best record of the reply.
        locked.first_contact_at = timezone.now()
    reason = f"Status: {_label(before)} → {_label(to)}"
    if close_reason:
        reason += f" ({CloseReason(close_reason).label})"
    save_with_history(locked, by=by, reason=reason)
    return locked


@transaction.atomic
def assign_consultation(
    *, consultation: ConsultationRequest, to: AbstractBaseUser | None, by: AbstractBaseUser | None
) -> ConsultationRequest:
    """Give a request to a member of staff (``to=None`` leaves it unassigned)."""
    locked = _lock(consultation)
    if to is not None and not (to.is_active and to.is_staff):
        raise TriageError(f"{to} is not an active member of staff.")
    if locked.assigned_to_id == (to.pk if to else None):
        return locked
    locked.assigned_to = to
    save_with_history(
        locked, by=by, reason=f"Assigned to {to.get_username()}" if to else "Unassigned"
    )
    return locked


@transaction.atomic
def log_contact_attempt(
    *,
    consultation: ConsultationRequest,
    by: AbstractBaseUser,
    channel: str,
    outcome: str,
    attempted_at: datetime | None = None,
    note: str = "",
) -> ContactAttempt:
    """Record one try at reaching the patient.

    The first attempt is the clinic's reply for the promise, answered or not. Speaking to the
    patient moves a new request to contacted, so staff need not do that by hand.
    """
    locked = _lock(consultation)
    now = timezone.now()
    attempted_at = attempted_at or now
    if attempted_at > now + timedelta(minutes=5):
        raise TriageError("A contact attempt cannot be logged in the future.")
    if attempted_at < locked.created_at:
        raise TriageError(f"{locked} arrived after that time; check the date of the attempt.")
    attempt = ContactAttempt.objects.create(
        consultation=locked,
        by=by,
        channel=channel,
        outcome=outcome,
        attempted_at=attempted_at,
        note=note,
    )
    changed = []
    if locked.first_contact_at is None or attempted_at < locked.first_contact_at:
        locked.first_contact_at = attempted_at
        changed.append("first contact")
    if outcome == ContactOutcome.REACHED and locked.status == ConsultationStatus.NEW:
        locked.status = ConsultationStatus.CONTACTED
        changed.append("status")
    if changed:
        reason = f"Contact attempt logged: {attempt.get_outcome_display()}"
        if "status" in changed:
            reason += " (status: New → Contacted)"
        save_with_history(locked, by=by, reason=reason)
    return attempt


@transaction.atomic
def add_internal_note(
    *, consultation: ConsultationRequest, author: AbstractBaseUser, text: str
) -> InternalNote:
    locked = _lock(consultation)
    text = text.strip()
    if not text:
        raise TriageError("A note needs some text.")
    return InternalNote.objects.create(consultation=locked, author=author, text=text)


@transaction.atomic
def erase_consultation_request(
    *,
    request: ConsultationRequest,
    by: AbstractBaseUser | None,
    reason: str = "Erased at the patient's request",
) -> ConsultationRequest:
    """Blank everything that identifies the patient, here and in every copy in history.

    The row stays (with its sheet, urgency, dates and status) so the clinic's numbers still
    add up, and a last history entry records who erased it, when and why. An open request is
    closed: nobody can call back a blank row.
    """
    locked = ConsultationRequest.objects.select_for_update().get(pk=request.pk)
    if locked.erased_at:
        return locked
    reason = reason.strip()
    if not reason:
        raise TriageError("Say why the personal details are being erased.")
    for field, blank in PERSONAL_HISTORY_FIELDS.items():
        setattr(locked, field, blank)
    locked.description = ""
    locked.self_check = []
    locked.erased_at = timezone.now()
    if locked.is_open:
        locked.status = ConsultationStatus.CLOSED
        locked.close_reason = CloseReason.ERASED
    # Staff notes and attempt notes may name the patient too.
    locked.notes.update(text="[erased]")
    locked.contact_attempts.exclude(note="").update(note="[erased]")
    locked.history.update(**PERSONAL_HISTORY_FIELDS)
    save_with_history(locked, by=by, reason=f"Erased: {reason}")
    return locked


@transaction.atomic
def record_export(
    *, requests: list[ConsultationRequest], by: AbstractBaseUser, filters: str = ""
) -> ExportLog:
    """Note who exported which requests' contact details, before the file is handed over."""
    log = ExportLog.objects.create(exported_by=by, row_count=len(requests), filters=filters[:1000])
    log.requests.set(requests)
    return log
