"""Consultation requests: the call-back queue and the change page where a request is worked."""

import phonenumbers
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from simple_history.admin import SimpleHistoryAdmin

from .. import exports, services
from ..models import ConsultationRequest, ContactAttempt, InternalNote, Urgency
from .actions import TriageActionsMixin
from .changes import change_summaries
from .display import (
    ADMIN_CSS,
    ReadOnlyHistoryMixin,
    reply_promise_badge,
    self_check_list,
    urgency_badge,
)
from .filters import AssignedFilter, PromiseFilter, StatusFilter
from .forms import ConsultationRequestForm, ContactAttemptForm, InternalNoteForm
from .pages import TriagePagesMixin
from .privacy import PrivacyActionsMixin

# --- inlines -----------------------------------------------------------------------------------


class AppendOnlyInline(admin.TabularInline):
    """Past entries are shown, not edited or deleted; new ones go through a service."""

    extra = 1

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            super().has_add_permission(request, obj) and obj is not None and obj.erased_at is None
        )


class ContactAttemptInline(AppendOnlyInline):
    model = ContactAttempt
    form = ContactAttemptForm
    fields = ["attempted_at", "channel", "outcome", "note", "by_name"]
    readonly_fields = ["by_name"]
    verbose_name = "contact attempt"
    verbose_name_plural = "Contact attempts (when, how, by whom, outcome)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")

    @admin.display(description="By")
    def by_name(self, obj: ContactAttempt) -> str:
        # A name, not a link to the user admin, which triage staff cannot open.
        return exports.staff_name(obj.by) if obj.pk else "you"


class InternalNoteInline(AppendOnlyInline):
    model = InternalNote
    form = InternalNoteForm
    fields = ["text", "author_name", "written_at"]
    readonly_fields = ["author_name", "written_at"]
    verbose_name_plural = "Internal notes (staff only)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("author")

    @admin.display(description="By")
    def author_name(self, obj: InternalNote) -> str:
        return exports.staff_name(obj.author) if obj.pk else "you"

    @admin.display(description="Written")
    def written_at(self, obj: InternalNote) -> str:
        return timezone.localtime(obj.created_at).strftime("%-d %b %Y %H:%M") if obj.pk else ""


# --- consultation requests ---------------------------------------------------------------------


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(
    PrivacyActionsMixin,
    TriageActionsMixin,
    TriagePagesMixin,
    ReadOnlyHistoryMixin,
    SimpleHistoryAdmin,
):
    form = ConsultationRequestForm
    inlines = [ContactAttemptInline, InternalNoteInline]
    list_display = [
        "id",
        "urgency_display",
        "status",
        "name",
        "phone_link",
        "contact_method",
        "age",
        "due",
        "assignee",
        "attempt_count",
        "duplicates_marker",
    ]
    list_display_links = ["id", "name"]
    list_filter = [
        StatusFilter,
        PromiseFilter,
        AssignedFilter,
        "urgency",
        "sheet",
        "contact_method",
        "close_reason",
    ]
    list_select_related = ["sheet", "assigned_to"]
    search_fields = ["name", "email", "phone"]
    date_hierarchy = "created_at"
    actions = [
        "assign_to_me",
        "mark_contacted",
        "mark_booked",
        "close_with_reason",
        "export_selected",
        "erase_personal_details",
        "subject_access_export",
        "erase_everything_for_person",
    ]
    readonly_fields = [
        "reply_promise",
        "status",
        "close_reason",
        "first_contact_at",
        "sheet",
        "pain_duration",
        "description",
        "created_at",
        "due_at",
        "clinic_notified_at",
        "consent_version",
        "consent_wording",
        "consented_at",
        "updated_at",
        "erased_at",
        "urgency",
        "self_check_summary",
        "possible_duplicates",
        "recent_changes",
        "export_records",
    ]
    # The change page shows the first ``top_fieldsets``, then the attempt and note logs, then
    # the rest (templates/admin/leads/consultationrequest/change_form.html).
    fieldsets = [
        (
            "Triage",
            {
                "fields": [
                    "reply_promise",
                    ("status", "close_reason"),
                    ("new_status", "opened_status"),
                    "closing_reason",
                    "assigned_to",
                ]
            },
        ),
        ("Patient", {"fields": ["name", "email", "phone", "best_time", "contact_method"]}),
        ("Self-check", {"fields": ["urgency", "self_check_summary"]}),
        ("Back pain", {"fields": ["sheet", "pain_duration", "description"]}),
        ("Possible duplicates", {"fields": ["possible_duplicates"]}),
        ("What happened", {"fields": ["recent_changes", "export_records"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": [
                    "created_at",
                    "due_at",
                    "first_contact_at",
                    "clinic_notified_at",
                    "consent_version",
                    "consent_wording",
                    "consented_at",
                    "updated_at",
                    "erased_at",
                ],
            },
        ),
    ]
    top_fieldsets = 2

    class Media:
        css = ADMIN_CSS

    # --- permissions ---

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from patients' forms only

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.erased_at:
            return False
        return super().has_change_permission(request, obj)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("leads.export_consultationrequest")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("leads.erase_consultationrequest")

    # --- the queue ---

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Built here, not with ``ordering``: the admin checks reject annotations there, and
        # the default ordering must be applied after the annotations exist.
        queryset = (
            self.model._default_manager.with_triage_order()
            .with_attempt_count()
            .with_duplicate_count()
        )
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["triage_rank", "overdue_rank", "created_at"]

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

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .order_by("first_name", "last_name", "username")
            )
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = exports.staff_name
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def render_change_form(self, request: HttpRequest, context, *args, **kwargs):
        context["top_fieldsets"] = self.top_fieldsets
        return super().render_change_form(request, context, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = (extra_context or {}) | {
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    # --- columns and read-only fields ---

    @admin.display(description="Urgency", ordering="triage_rank")
    def urgency_display(self, obj: ConsultationRequest):
        return urgency_badge(obj.urgency, obj.get_urgency_display())

    @admin.display(description="Phone")
    def phone_link(self, obj: ConsultationRequest):
        if not obj.phone:
            return "—"
        return format_html('<a href="tel:{}">{}</a>', obj.phone.as_e164, obj.phone_for_staff)

    @admin.display(description="Received", ordering="created_at")
    def age(self, obj: ConsultationRequest) -> str:
        return f"{timesince(obj.created_at, depth=1)} ago"

    @admin.display(description="Reply due", ordering="due_at")
    def due(self, obj: ConsultationRequest):
        return reply_promise_badge(obj)

    @admin.display(description="Assigned to", ordering="assigned_to__username")
    def assignee(self, obj: ConsultationRequest) -> str:
        return exports.staff_name(obj.assigned_to) or "—"

    @admin.display(description="Attempts", ordering="attempt_count")
    def attempt_count(self, obj: ConsultationRequest) -> int:
        return obj.attempt_count

    @admin.display(description="Duplicates?", ordering="duplicate_count")
    def duplicates_marker(self, obj: ConsultationRequest):
        if not obj.duplicate_count:
            return ""
        return format_html(
            '<span class="duplicate-marker" title="Same email or phone within 30 days">'
            "{} possible</span>",
            obj.duplicate_count,
        )

    @admin.display(description="Reply promise")
    def reply_promise(self, obj: ConsultationRequest):
        if obj.urgency in (Urgency.EMERGENCY, Urgency.URGENT):
            rule = "same working day (emergency or urgent self-check)"
        else:
            rule = "one working day"
        return format_html(
            "{} <br>Due {} — {}",
            reply_promise_badge(obj),
            timezone.localtime(obj.due_at).strftime("%a %-d %b %Y %H:%M"),
            rule,
        )

    @admin.display(description="What they ticked")
    def self_check_summary(self, obj: ConsultationRequest):
        return self_check_list(obj)

    @admin.display(description="Same email or phone within 30 days")
    def possible_duplicates(self, obj: ConsultationRequest):
        others = list(ConsultationRequest.objects.possible_duplicates_of(obj))
        if not others:
            return "None."
        email = obj.email.strip().casefold()

        def matched_on(other: ConsultationRequest) -> str:
            same = []
            if email and other.email.strip().casefold() == email:
                same.append("email")
            if obj.phone and other.phone == obj.phone:
                same.append("phone")
            return " and ".join(same)

        return format_html(
            '<ul class="duplicates">{}</ul><p class="help">Linked for you to check; nothing '
            "is merged. Close the extra one as “Duplicate” if it is the same request.</p>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a>: {}, received {}, {} (same {})</li>',
                (
                    (
                        reverse("admin:leads_consultationrequest_change", args=[other.pk]),
                        other,
                        other.name,
                        timezone.localtime(other.created_at).strftime("%-d %b %Y %H:%M"),
                        other.get_status_display().lower(),
                        matched_on(other),
                    )
                    for other in others
                ),
            ),
        )

    @admin.display(description="Changes")
    def recent_changes(self, obj: ConsultationRequest):
        summaries = change_summaries(obj, limit=20)
        history_url = reverse("admin:leads_consultationrequest_history", args=[obj.pk])
        return format_html(
            '<ol class="change-summaries">{}</ol><p><a href="{}">Full history</a></p>',
            format_html_join(
                "",
                "<li><time>{}</time> <strong>{}</strong>: {}</li>",
                (
                    (
                        timezone.localtime(s.when).strftime("%-d %b %Y %H:%M"),
                        s.who,
                        s.what,
                    )
                    for s in summaries
                ),
            ),
            history_url,
        )

    @admin.display(description="Exported")
    def export_records(self, obj: ConsultationRequest):
        logs = list(obj.exports.select_related("exported_by"))
        if not logs:
            return "Never."
        return format_html_join(
            mark_safe("<br>"),
            "{} by {} (export #{})",
            (
                (
                    timezone.localtime(log.exported_at).strftime("%-d %b %Y %H:%M"),
                    exports.staff_name(log.exported_by),
                    log.pk,
                )
                for log in logs
            ),
        )

    # --- saving the change page ---

    def save_model(self, request: HttpRequest, obj: ConsultationRequest, form, change: bool):
        """Save the edited contact details (only those); assignment goes through a service.

        The status is never saved from here: ``save_related`` moves it once the new contact
        attempts are in, so "no reply after 3 attempts" can count the one just logged.
        """
        edited = [
            name
            for name in form.changed_data
            if name not in ("new_status", "closing_reason", "assigned_to")
        ]
        if edited:
            # Onto the row as it is now (the form read and locked it), so the history copy
            # shows a colleague's edits made meanwhile too, not this page's old values.
            current = form.current
            for name in edited:
                setattr(current, name, getattr(obj, name))
            labels = ", ".join(str(obj._meta.get_field(name).verbose_name) for name in edited)
            services.save_with_history(
                current,
                by=request.user,
                reason=f"Edited: {labels}",
                update_fields=[*edited, "updated_at"],
            )
        if "assigned_to" in form.changed_data:
            self._call(
                request,
                services.assign_consultation,
                consultation=obj,
                to=form.cleaned_data["assigned_to"],
                by=request.user,
            )

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.instance._state.adding or not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            if formset.model is ContactAttempt:
                created = self._call(
                    request,
                    services.log_contact_attempt,
                    consultation=form.instance,
                    by=request.user,
                    channel=data["channel"],
                    outcome=data["outcome"],
                    attempted_at=data.get("attempted_at"),
                    note=data.get("note", ""),
                )
            else:
                created = self._call(
                    request,
                    services.add_internal_note,
                    consultation=form.instance,
                    author=request.user,
                    text=data["text"],
                )
            if created is not None:
                formset.new_objects.append(created)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        new_status = form.cleaned_data.get("new_status")
        if new_status:
            self._call(
                request,
                services.change_consultation_status,
                consultation=form.instance,
                to=new_status,
                close_reason=form.cleaned_data.get("closing_reason", ""),
                by=request.user,
            )
        saved = []
        for formset in formsets:
            if count := len(formset.new_objects):
                meta = formset.model._meta
                saved.append(
                    f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}"
                )
        if saved and getattr(request, "_triage_refused", False):
            # Only the error would show, and notes and attempts cannot be deleted: without
            # this, staff type them again and the log holds each one twice.
            self.message_user(
                request,
                f"Saved, so do not enter them again: {' and '.join(saved)}.",
                messages.SUCCESS,
            )

    def response_change(self, request: HttpRequest, obj: ConsultationRequest):
        # A refused step was reported as an error: show the page again, not "changed".
        if getattr(request, "_triage_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def _call(self, request: HttpRequest, service, **kwargs):
        try:
            return service(**kwargs)
        except services.TriageError as error:
            request._triage_refused = True
            self.message_user(request, str(error), messages.ERROR)
            return None
