"""Subject access and erasure by person (every request with the same email address, or, for
a consultation request made without one, every request made with the same phone number and
no email), from either request list.
Both leave a PrivacyLog entry with no personal data in it."""

import json

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from .. import privacy
from ..models import PrivacyLog, consent_wording
from .actions import TriageActionsMixin
from .display import LogAdmin
from .forms import EraseForm


def _people(queryset: QuerySet) -> list[str]:
    """The selected requests' people (erased requests name no one)."""
    return sorted({person for row in queryset if (person := privacy.person_of(row))})


class PrivacyActionsMixin:
    """Mixed into both request admins."""

    @admin.display(description="Consent wording agreed to")
    def consent_wording(self, obj) -> str:
        return consent_wording(obj.consent_version)

    @admin.action(
        description="Subject access: export everything held about these people (JSON)",
        permissions=["subject_access"],
    )
    def subject_access_export(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        exports = [
            privacy.subject_access_export(person, by=request.user) for person in _people(queryset)
        ]
        response = HttpResponse(
            json.dumps(exports, indent=2, cls=DjangoJSONEncoder),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="subject-access.json"'
        return response

    @admin.action(
        description="Erase everything held about these people (every request by their email "
        "or, without one, their phone)",
        permissions=["erase"],
    )
    def erase_everything_for_person(self, request: HttpRequest, queryset: QuerySet):
        form = EraseForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            for person in _people(queryset):
                privacy.erase_everything_for(
                    person, by=request.user, reason=form.cleaned_data["reason"]
                )
            self.message_user(
                request,
                f"Erased everything held for {len(_people(queryset))} person(s).",
                messages.SUCCESS,
            )
            return None
        return TriageActionsMixin._confirm_page(
            self,
            request,
            queryset,
            form,
            title="Erase everything held about these people",
            intro="This blanks the personal details of every report and consultation request "
            "made with these email addresses (or, for a request made without one, every request "
            "with its phone number and no email), and of every earlier copy in their history. "
            "An audit entry without personal data is kept. It cannot be undone.",
            submit="Erase everything",
        )

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("leads.erase_consultationrequest")

    def has_subject_access_permission(self, request: HttpRequest) -> bool:
        # Everything about a person, descriptions and staff notes included: not for every
        # member of staff who can view the lists (triage has its own, narrower CSV export).
        return request.user.has_perm("leads.subject_access_consultationrequest")


@admin.register(PrivacyLog)
class PrivacyLogAdmin(LogAdmin):
    list_display = ["at", "action", "by", "report_requests", "consultation_requests"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in PrivacyLog._meta.fields]
