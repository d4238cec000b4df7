"""What the triage admin pages show: badges, the self-check, and history kept read-only."""

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil

from ..models import CANCER_BOX, ConsultationRequest, ConsultationStatus
from ..services import shown_to_patient

BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
ADMIN_CSS = {"all": ["css/admin.css"]}


def urgency_badge(urgency: str, label: str):
    # Colours come from css/admin.css: the Content-Security-Policy allows no inline style.
    return format_html('<span class="urgency urgency-{}">{}</span>', urgency, label)


def reply_promise_badge(obj: ConsultationRequest):
    """Time left or overdue while nobody has reached the patient; a dash after that."""
    if obj.status != ConsultationStatus.NEW:
        return "—"
    now = timezone.now()
    if obj.due_at < now:
        return format_html('<strong class="overdue">Overdue by {}</strong>', timesince(obj.due_at))
    due = timezone.localtime(obj.due_at)
    if due.date() == timezone.localdate(now):
        return format_html(
            '<strong class="due-today">Due today {} (in {})</strong>',
            due.strftime("%H:%M"),
            timeuntil(obj.due_at, now),
        )
    return format_html(
        '<span class="due-later">Due {} (in {})</span>',
        due.strftime("%a %-d %b %H:%M"),
        timeuntil(obj.due_at, now),
    )


def self_check_list(record) -> str:
    if not record.self_check:
        return "Not asked"
    ticked = record.ticked
    items = format_html_join(
        "", "<li>{} <em>({})</em></li>", ((i["symptom"], i["level"]) for i in ticked)
    )
    cancer = CANCER_BOX[record.cancer_history]
    # What the patient was told to do, as the clinic's notification says it: "straight away"
    # is not in the urgency column, and whoever calls back should know it was said.
    shown = shown_to_patient(record)
    return format_html(
        "<p><strong>Ticked:</strong></p><ul>{}</ul>"
        "<p>\u201cI have or have had cancer\u201d box: {}</p>{}"
        "<p>Rules {} on sheet version {}</p>",
        items or format_html("<li>{}</li>", "nothing"),
        cancer,
        format_html("<p>Shown to the patient: \u201c{}\u201d</p>", shown) if shown else "",
        record.rules_version,
        record.content_version,
    )


class ReadOnlyHistoryMixin:
    """History to read, never to revert: a revert would skip the workflow's checks and could
    bring back details that were erased. And requests are never deleted."""

    def revert_disabled(self, request: HttpRequest, obj=None) -> bool:
        return True

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        """Nobody deletes a request, superusers included: its history copies (every field,
        contact details too) would outlive it where erasure, retention and subject access
        cannot find them. Erase its personal details instead; the row stays for the numbers."""
        return False


class LogAdmin(admin.ModelAdmin):
    """An audit log: to read only; nobody adds, changes or deletes its entries in admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
