"""Report requests (delivery, resend) and the log of CSV exports."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..models import ExportLog, ReportRequest, ReportStatus
from .display import (
    ADMIN_CSS,
    BOTH_PLACES,
    LogAdmin,
    ReadOnlyHistoryMixin,
    self_check_list,
    urgency_badge,
)
from .privacy import PrivacyActionsMixin

# --- report requests ---------------------------------------------------------------------------


@admin.register(ReportRequest)
class ReportRequestAdmin(PrivacyActionsMixin, ReadOnlyHistoryMixin, SimpleHistoryAdmin):
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
    actions = ["resend", "subject_access_export", "erase_everything_for_person"]
    readonly_fields = [
        "sheet",
        "name",
        "email",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "consent_version",
        "consent_wording",
        "consented_at",
        "created_at",
        "updated_at",
        "urgency",
        "self_check_summary",
        "rules_version",
        "content_version",
    ]
    exclude = ["self_check", "cancer_history"]

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nothing on a report request is for staff to edit: the worker owns its delivery
        fields (a save from here would write back the status it read, and could send the
        report twice), and erasure has its own action. Resend (here or on the list) and
        erasure by person (on the list) are actions with their own permissions."""
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("leads.resend_reportrequest")

    @admin.display(description="Self-check", ordering="urgency")
    def urgency_display(self, obj: ReportRequest):
        return urgency_badge(obj.urgency, obj.get_urgency_display())

    @admin.display(description="What they ticked")
    def self_check_summary(self, obj: ReportRequest):
        return self_check_list(obj)

    @admin.display(description="Last error")
    def short_error(self, obj: ReportRequest) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(
        description="Resend this report",
        description_plural="Resend the selected failed reports",
        permissions=["resend"],
        location=BOTH_PLACES,
    )
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = services.resend_failed_reports(
            request_ids=list(
                queryset.filter(status=ReportStatus.FAILED).values_list("pk", flat=True)
            ),
            by=request.user,
        )
        self.message_user(request, f"{len(ids)} report(s) queued to send again.", messages.SUCCESS)


# --- export log --------------------------------------------------------------------------------


@admin.register(ExportLog)
class ExportLogAdmin(LogAdmin):
    """The record of every CSV export; nobody edits or deletes it here."""

    list_display = ["id", "exported_at", "exported_by", "row_count", "filters"]
    list_select_related = ["exported_by"]
    date_hierarchy = "exported_at"
    fields = ["exported_at", "exported_by", "row_count", "filters", "request_links"]
    readonly_fields = fields

    @admin.display(description="Requests exported")
    def request_links(self, obj: ExportLog):
        return format_html_join(
            ", ",
            '<a href="{}">#{}</a>',
            (
                (reverse("admin:leads_consultationrequest_change", args=[pk]), pk)
                for pk in obj.requests.order_by("pk").values_list("pk", flat=True)
            ),
        )
