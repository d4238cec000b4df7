import phonenumbers
from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from . import services
from .models import (
    ConsultationRequest,
    ConsultationStatus,
    ReportRequest,
    ReportStatus,
    Urgency,
)

URGENCY_COLOURS = {
    Urgency.EMERGENCY: ("#d5281b", "#fff"),
    Urgency.URGENT: ("#ffb81c", "#212b32"),
    Urgency.SOON: ("#005eb8", "#fff"),
    Urgency.NONE: ("#e8edee", "#212b32"),
}


def urgency_badge(urgency: str, label: str):
    background, colour = URGENCY_COLOURS.get(urgency, URGENCY_COLOURS[Urgency.NONE])
    return format_html(
        '<span style="background:{};color:{};padding:2px 8px;border-radius:10px;'
        'font-weight:bold;white-space:nowrap">{}</span>',
        background,
        colour,
        label,
    )


def self_check_list(record) -> str:
    if not record.self_check:
        return "Not asked"
    ticked = record.ticked
    items = format_html_join(
        "", "<li>{} <em>({})</em></li>", ((i["symptom"], i["level"]) for i in ticked)
    )
    cancer = {True: "Yes", False: "No", None: "Not asked"}[record.cancer_history]
    return format_html(
        "<p><strong>Ticked:</strong></p><ul>{}</ul><p>Has or had cancer: {}</p>"
        "<p>Rules {} on sheet version {}</p>",
        items or format_html("<li>nothing</li>"),
        cancer,
        record.rules_version,
        record.content_version,
    )


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "urgency_display",
        "status",
        "name",
        "sheet",
        "contact_method",
        "age",
        "due",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["urgency", "status", "sheet", "contact_method"]
    list_select_related = ["sheet"]
    search_fields = ["name", "email", "phone"]
    date_hierarchy = "created_at"
    actions = ["mark_contacted"]
    readonly_fields = [
        "sheet",
        "created_at",
        "due_at",
        "clinic_notified_at",
        "consent_version",
        "consented_at",
        "updated_at",
        "urgency",
        "self_check_summary",
    ]
    fieldsets = [
        (None, {"fields": ["status", "urgency"]}),
        ("Self-check", {"fields": ["self_check_summary"]}),
        ("Patient", {"fields": ["name", "email", "phone", "best_time", "contact_method"]}),
        ("Back pain", {"fields": ["sheet", "pain_duration", "description"]}),
        (
            "Record",
            {
                "fields": [
                    "created_at",
                    "due_at",
                    "clinic_notified_at",
                    "consent_version",
                    "consented_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Also find a phone number typed the way people write it (07911 123456)."""
        filtered = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            number = phonenumbers.parse(search_term, "GB")
        except phonenumbers.NumberParseException:
            return queryset, may_have_duplicates
        if phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            queryset |= filtered.filter(phone=e164)
        return queryset, may_have_duplicates

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # Not ``ordering``: the admin checks reject an annotation there.
        return ["triage_rank", "-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Open requests that ticked emergency or urgent signs come first.
        # (Annotated before ModelAdmin applies ``ordering``, which sorts by the annotation.)
        is_new = Q(status=ConsultationStatus.NEW)
        queryset = self.model._default_manager.get_queryset().annotate(
            triage_rank=Case(
                When(is_new & Q(urgency=Urgency.EMERGENCY), then=Value(0)),
                When(is_new & Q(urgency=Urgency.URGENT), then=Value(1)),
                When(is_new & Q(urgency=Urgency.SOON), then=Value(2)),
                When(is_new, then=Value(3)),
                default=Value(4),
                output_field=IntegerField(),
            )
        )
        return queryset.order_by(*self.get_ordering(request))

    @admin.display(description="Urgency", ordering="triage_rank")
    def urgency_display(self, obj: ConsultationRequest):
        return urgency_badge(obj.urgency, obj.get_urgency_display())

    @admin.display(description="What they ticked")
    def self_check_summary(self, obj: ConsultationRequest):
        return self_check_list(obj)

    @admin.display(description="Received", ordering="created_at")
    def age(self, obj: ConsultationRequest) -> str:
        return f"{timesince(obj.created_at)} ago"

    @admin.display(description="Reply due", ordering="due_at")
    def due(self, obj: ConsultationRequest) -> str:
        if obj.status != ConsultationStatus.NEW:
            return "—"
        if obj.due_at < timezone.now():
            return format_html(
                '<strong class="overdue">Overdue by {}</strong>', timesince(obj.due_at)
            )
        return f"in {timesince(timezone.now(), obj.due_at)}"

    @admin.action(description="Mark selected requests as contacted")
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = queryset.filter(status=ConsultationStatus.NEW).update(
            status=ConsultationStatus.CONTACTED, updated_at=timezone.now()
        )
        self.message_user(request, f"{updated} request(s) marked as contacted.", messages.SUCCESS)


@admin.register(ReportRequest)
class ReportRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "urgency_display",
        "sheet",
        "created_at",
        "sent_at",
        "attempts",
        "short_error",
    ]
    list_filter = ["status", "urgency", "sheet"]
    list_select_related = ["sheet"]
    search_fields = ["name", "email"]
    ordering = ["-created_at"]
    actions = ["resend"]
    readonly_fields = [
        "sheet",
        "name",
        "email",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "consent_version",
        "consented_at",
        "created_at",
        "updated_at",
        "urgency",
        "self_check_summary",
        "rules_version",
        "content_version",
    ]
    exclude = ["self_check", "cancer_history"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Self-check", ordering="urgency")
    def urgency_display(self, obj: ReportRequest):
        return urgency_badge(obj.urgency, obj.get_urgency_display())

    @admin.display(description="What they ticked")
    def self_check_summary(self, obj: ReportRequest):
        return self_check_list(obj)

    @admin.display(description="Last error")
    def short_error(self, obj: ReportRequest) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description="Resend the selected failed reports")
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = services.resend_failed_reports(
            request_ids=list(
                queryset.filter(status=ReportStatus.FAILED).values_list("pk", flat=True)
            )
        )
        self.message_user(request, f"{len(ids)} report(s) queued to send again.", messages.SUCCESS)
