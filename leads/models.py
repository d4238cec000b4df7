import functools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Func, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower, Trim
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from factsheets.assessment import Outcome, recorded_outcome
from factsheets.models import FactSheet

# Raise when the wording of a consent tick-box changes, so each request records what was agreed.
# Every wording ever shown stays in CONSENT_WORDING under its version, so a request's version
# reads back as the very words the person agreed to (in admin and the subject access export).
REPORT_CONSENT_VERSION = "report-consent-v2"
CONSULTATION_CONSENT_VERSION = "consultation-consent-v1"
CONSENT_WORDING = {
    # Until 2026-11-21; it left out the self-check answers stored with the request.
    "report-consent-v1": (
        "I agree to {clinic} storing my name and email address so that it can email me this "
        "fact sheet. They are used for nothing else."
    ),
    "report-consent-v2": (
        "I agree to {clinic} storing my name, my email address and any answers I give above, "
        "so that it can email me this fact sheet with a summary of my answers. They are used "
        "for nothing else."
    ),
    "consultation-consent-v1": (
        "I agree to {clinic} storing these details, including what I have said about my "
        "health, so that its staff can contact me about a consultation."
    ),
}


def consent_wording(version: str) -> str:
    """The words of the consent box a request's ``consent_version`` stands for."""
    wording = CONSENT_WORDING.get(version)
    if wording is None:
        return f"(no wording recorded for {version!r})"
    return wording.format(clinic=settings.CLINIC_NAME)


class ReusedHistoryManager(HistoryManager):
    """simple_history's history manager, with its class built once.

    ``instance.history`` builds a new manager class from the queryset (``inspect.getmembers``
    over it) on every access, and saving a request reads it once to write the history row:
    about a fifth of a millisecond of each form post here (docs/performance.md).
    """

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


# How the cancer box is reported (admin, subject access): left unticked, it may mean "no" or
# "skipped", so it is never shown as "No".
CANCER_BOX = {True: "Ticked", False: "Not ticked", None: "Not asked"}


class Urgency(models.TextChoices):
    """The self-check outcome (factsheets.assessment), most pressing first."""

    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    SOON = "soon", "Soon"
    NONE = "none", "No red flags ticked"


class SelfCheckRecord(models.Model):
    """What a person ticked on a sheet's self-check list, and what the rule made of it.

    The list is stored whole (ticked and not) with the content and rule versions, so the
    outcome shown at the time can be reproduced even after the sheet is edited.
    """

    self_check = models.JSONField(default=list, blank=True)
    # The form's one optional box, "I have or have had cancer": None when the sheet did not ask.
    cancer_history = models.BooleanField(null=True, blank=True)
    urgency = models.CharField(
        max_length=10, choices=Urgency.choices, default=Urgency.NONE, db_index=True
    )
    rules_version = models.CharField(max_length=40, blank=True)
    content_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def ticked(self) -> list[dict]:
        return [item for item in self.self_check if item["ticked"]]

    @property
    def not_ticked(self) -> list[dict]:
        return [item for item in self.self_check if not item["ticked"]]

    @property
    def outcome(self) -> Outcome:
        """What the self-check told the person when they sent this."""
        return recorded_outcome(self.urgency, self.ticked)


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReportRequestQuerySet(models.QuerySet):
    def stale_queued(self, *, older_than: timedelta) -> "ReportRequestQuerySet":
        """Queued rows nobody has touched for a while: their task was probably never enqueued."""
        return self.filter(status=ReportStatus.QUEUED, updated_at__lt=timezone.now() - older_than)


class ReportRequest(SelfCheckRecord):
    sheet = models.ForeignKey(FactSheet, on_delete=models.PROTECT, related_name="report_requests")
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    consent_version = models.CharField(max_length=40)
    consented_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportRequestQuerySet.as_manager()
    # The self-check list is never edited after submission, so history need not copy it.
    history = HistoricalRecords(
        excluded_fields=["self_check", "updated_at"], history_manager=ReusedHistoryManager
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("resend_reportrequest", "Can resend failed report emails")]

    def __str__(self) -> str:
        return f"Report request #{self.pk}"


class ConsultationStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Booked"
    CLOSED = "closed", "Closed"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video call"
    EMAIL = "email", "Email"


class PainDuration(models.TextChoices):
    UNDER_WEEK = "under_1_week", "Less than a week"
    WEEKS = "1_to_6_weeks", "1 to 6 weeks"
    MONTHS = "6_weeks_to_3_months", "6 weeks to 3 months"
    LONG = "over_3_months", "More than 3 months"


class CloseReason(models.TextChoices):
    BOOKED_ELSEWHERE = "booked_elsewhere", "Booked elsewhere"
    NO_REPLY = "no_reply", "No reply after 3 attempts"
    NOT_APPROPRIATE = "not_appropriate", "Not appropriate for the clinic"
    DUPLICATE = "duplicate", "Duplicate of another request"
    DECLINED = "declined", "Patient declined or cancelled"
    ERASED = "erased", "Personal details erased"
    OTHER = "other", "Other (see notes)"


# Which status may follow which. "Booked" straight from "new" is the call that books at once.
# Closed is final: a patient who comes back sends a new request.
CONSULTATION_TRANSITIONS: dict[str, frozenset[str]] = {
    ConsultationStatus.NEW: frozenset(
        {ConsultationStatus.CONTACTED, ConsultationStatus.BOOKED, ConsultationStatus.CLOSED}
    ),
    ConsultationStatus.CONTACTED: frozenset({ConsultationStatus.BOOKED, ConsultationStatus.CLOSED}),
    ConsultationStatus.BOOKED: frozenset({ConsultationStatus.CLOSED}),
    ConsultationStatus.CLOSED: frozenset(),
}
OPEN_STATUSES = (ConsultationStatus.NEW, ConsultationStatus.CONTACTED)

# Self-check outcomes that shorten the reply promise to the same working day.
SAME_DAY_URGENCIES = (Urgency.EMERGENCY, Urgency.URGENT)

# Requests from the same email or phone this close together are shown as possible duplicates.
DUPLICATE_WINDOW = timedelta(days=30)
# Enough unanswered attempts to close a request as "no reply".
NO_REPLY_ATTEMPTS = 3


def _start_of_tomorrow(now: datetime) -> datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    tomorrow = timezone.localtime(now, zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone)


def normalised_email(value):
    """The email as compared for duplicates: trimmed and case-insensitive (a DB expression)."""
    return Lower(Trim(value))


class ConsultationRequestQuerySet(models.QuerySet):
    def open(self) -> "ConsultationRequestQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: datetime | None = None) -> "ConsultationRequestQuerySet":
        """Nobody has reached the patient yet and the reply promise has run out."""
        return self.filter(status=ConsultationStatus.NEW, due_at__lt=now or timezone.now())

    def due_today(self, now: datetime | None = None) -> "ConsultationRequestQuerySet":
        """Still waiting for a first reply, not yet overdue, due before midnight (clinic time)."""
        now = now or timezone.now()
        return self.filter(
            status=ConsultationStatus.NEW, due_at__gte=now, due_at__lt=_start_of_tomorrow(now)
        )

    def mine(self, user) -> "ConsultationRequestQuerySet":
        return self.filter(assigned_to=user)

    def unassigned(self) -> "ConsultationRequestQuerySet":
        return self.filter(assigned_to__isnull=True)

    def unnotified(self, *, older_than: timedelta) -> "ConsultationRequestQuerySet":
        """Requests the clinic has still not been emailed about, made over ``older_than`` ago
        (newer ones' notifications may well be on their way)."""
        return self.filter(
            clinic_notified_at__isnull=True, created_at__lt=timezone.now() - older_than
        )

    def with_triage_order(self, now: datetime | None = None) -> "ConsultationRequestQuerySet":
        """The call-back queue: open requests by self-check urgency, overdue before the rest,
        then oldest first; booked and closed requests after all open ones."""
        is_open = Q(status__in=OPEN_STATUSES)
        return self.annotate(
            triage_rank=Case(
                When(is_open & Q(urgency=Urgency.EMERGENCY), then=Value(0)),
                When(is_open & Q(urgency=Urgency.URGENT), then=Value(1)),
                When(is_open & Q(urgency=Urgency.SOON), then=Value(2)),
                When(is_open, then=Value(3)),
                default=Value(4),
                output_field=IntegerField(),
            ),
            overdue_rank=Case(
                When(
                    status=ConsultationStatus.NEW, due_at__lt=now or timezone.now(), then=Value(0)
                ),
                default=Value(1),
                output_field=IntegerField(),
            ),
        ).order_by("triage_rank", "overdue_rank", "created_at", "pk")

    def with_attempt_count(self) -> "ConsultationRequestQuerySet":
        attempts = ContactAttempt.objects.filter(consultation=OuterRef("pk"))
        return self.annotate(attempt_count=_count(attempts))

    def with_duplicate_count(self) -> "ConsultationRequestQuerySet":
        """How many other requests look like the same person within the duplicate window."""
        others = _same_person(
            email=normalised_email(OuterRef("email")),
            phone=OuterRef("phone"),
            around=OuterRef("created_at"),
        ).exclude(pk=OuterRef("pk"))
        return self.annotate(duplicate_count=_count(others))

    def possible_duplicates_of(
        self, consultation: "ConsultationRequest"
    ) -> "ConsultationRequestQuerySet":
        """Requests that may be the same person: linked for staff to see, never merged."""
        return (
            self.filter(
                pk__in=_same_person(
                    email=normalised_email(Value(consultation.email)),
                    phone=str(consultation.phone or ""),
                    around=consultation.created_at,
                ).values("pk")
            )
            .exclude(pk=consultation.pk)
            .order_by("created_at")
        )


def _count(queryset: models.QuerySet) -> Coalesce:
    """COUNT(*) of a correlated subquery, without GROUP BY on the outer query (so the list
    stays one query however many rows, and the admin search can still OR two querysets)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _same_person(*, email, phone, around) -> models.QuerySet:
    """Requests with the same trimmed, case-folded email or the same E.164 phone, received
    within the duplicate window either side of ``around``. Erased (blank) details never match."""
    return ConsultationRequest.objects.alias(email_key=normalised_email("email")).filter(
        (Q(email_key=email) & ~Q(email_key="")) | (Q(phone=phone) & ~Q(phone="")),
        created_at__gte=around - DUPLICATE_WINDOW,
        created_at__lte=around + DUPLICATE_WINDOW,
        erased_at__isnull=True,
    )


class ConsultationRequest(SelfCheckRecord):
    sheet = models.ForeignKey(
        FactSheet, on_delete=models.PROTECT, related_name="consultation_requests"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField(
        max_length=254, blank=True, help_text="Empty when the person asked to be phoned."
    )
    phone = PhoneNumberField(help_text="Stored in international (E.164) form.")
    best_time = models.CharField(max_length=100, blank=True)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices)
    description = models.TextField(max_length=2000)
    pain_duration = models.CharField(max_length=24, choices=PainDuration.choices)
    consent_version = models.CharField(max_length=40)
    consented_at = models.DateTimeField()
    status = models.CharField(
        max_length=10,
        choices=ConsultationStatus.choices,
        default=ConsultationStatus.NEW,
        db_index=True,
    )
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_consultations",
        help_text="The member of staff handling this request.",
    )
    due_at = models.DateTimeField(
        help_text="When the reply promise runs out: one working day, or the same working day "
        "for emergency and urgent self-checks."
    )
    first_contact_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The first contact attempt (answered or not): when the clinic responded.",
    )
    clinic_notified_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationRequestQuerySet.as_manager()
    # The patient's own words and ticks are read-only in admin, so history need not copy them
    # (fewer copies of health details to erase later).
    history = HistoricalRecords(
        excluded_fields=["description", "self_check", "updated_at"],
        history_manager=ReusedHistoryManager,
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("export_consultationrequest", "Can export consultation requests as CSV"),
            ("erase_consultationrequest", "Can erase a patient's personal details"),
            (
                "subject_access_consultationrequest",
                "Can export everything held about a person (subject access)",
            ),
        ]
        indexes = [
            models.Index(Lower(Trim("email")), name="leads_consult_email_norm_idx"),
            models.Index(fields=["phone"], name="leads_consult_phone_idx"),
            # The few the clinic has not been told of yet (the sweep, /healthz/services):
            # found without reading every request ever made.
            models.Index(
                fields=["created_at"],
                condition=models.Q(clinic_notified_at__isnull=True),
                name="leads_consult_unnotified_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def phone_for_staff(self) -> str:
        """UK numbers as dialled here (07911 123456); others in international form."""
        if not self.phone:
            return ""
        if self.phone.country_code == 44:
            return self.phone.as_national
        return self.phone.as_international


class AttemptChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"
    EMAIL = "email", "Email"
    TEXT = "text", "Text message"


class ContactOutcome(models.TextChoices):
    REACHED = "reached", "Spoke to them"
    VOICEMAIL = "voicemail", "Left a voicemail"
    NO_ANSWER = "no_answer", "No answer"
    EMAIL_SENT = "email_sent", "Sent an email"
    WRONG_DETAILS = "wrong_details", "Wrong number or email bounced"


class ContactAttempt(models.Model):
    """One try at reaching the patient. Append-only: a correction is a new note."""

    consultation = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10, choices=AttemptChannel.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    note = models.CharField(max_length=300, blank=True)
    # PROTECT: the log must keep saying who called; deactivate staff accounts, don't delete.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["attempted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_outcome_display()}"


class InternalNote(models.Model):
    """A note for colleagues, never shown to the patient. Append-only."""

    consultation = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"


class ExportLog(models.Model):
    """Who took patients' contact details out of the system as CSV, when, and which rows."""

    exported_at = models.DateTimeField(default=timezone.now, db_index=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    row_count = models.PositiveIntegerField()
    filters = models.CharField(
        max_length=1000, blank=True, help_text="The list's filters and search when exported."
    )
    requests = models.ManyToManyField(ConsultationRequest, related_name="exports", blank=True)

    class Meta:
        ordering = ["-exported_at"]

    def __str__(self) -> str:
        return f"Export #{self.pk}"


class PrivacyAction(models.TextChoices):
    SUBJECT_ACCESS = "subject_access", "Subject access export"
    ERASURE = "erasure", "Erasure on request"
    RETENTION = "retention", "Erasure at the end of the retention period"


class PrivacyLog(models.Model):
    """An audit entry for each export or erasure of personal data, holding none itself.

    ``subject`` is a keyed hash of the email address: it shows that the clinic acted on a
    given person's request (hash their address again to check) without storing the address.
    """

    action = models.CharField(max_length=20, choices=PrivacyAction.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the automatic retention job and for the command line.",
    )
    subject = models.CharField(max_length=64, blank=True)
    report_requests = models.PositiveIntegerField(default=0)
    consultation_requests = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
