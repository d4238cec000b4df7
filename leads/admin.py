import phonenumbers
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from . import services
from .models import ConsultationRequest, ConsultationStatus, ReportRequest, ReportStatus


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "name",
        "sheet",
        "contact_method",
        "age",
        "due",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["status", "sheet", "contact_method"]
    list_select_related = ["sheet"]
    search_fields = ["name", "email", "phone"]
    ordering = ["-created_at"]
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
    ]
    fieldsets = [
        (None, {"fields": ["status"]}),
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
    list_display = ["id", "status", "sheet", "created_at", "sent_at", "attempts", "short_error"]
    list_filter = ["status", "sheet"]
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
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
