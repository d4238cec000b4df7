from datetime import timedelta

from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from factsheets.models import FactSheet

# Raise when the wording of a consent tick-box changes, so each request records what was agreed.
REPORT_CONSENT_VERSION = "report-consent-v1"
CONSULTATION_CONSENT_VERSION = "consultation-consent-v1"


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
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

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


class ConsultationRequestQuerySet(models.QuerySet):
    def open(self) -> "ConsultationRequestQuerySet":
        return self.exclude(status__in=[ConsultationStatus.BOOKED, ConsultationStatus.CLOSED])

    def overdue(self) -> "ConsultationRequestQuerySet":
        return self.filter(status=ConsultationStatus.NEW, due_at__lt=timezone.now())

    def unnotified(self) -> "ConsultationRequestQuerySet":
        return self.filter(clinic_notified_at__isnull=True)


class ConsultationRequest(SelfCheckRecord):
    sheet = models.ForeignKey(
        FactSheet, on_delete=models.PROTECT, related_name="consultation_requests"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
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
    due_at = models.DateTimeField(help_text="When the one-working-day reply promise runs out.")
    clinic_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Consultation request #{self.pk}"
