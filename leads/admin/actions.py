"""The queue's actions: assign, move along the workflow, close with a reason, export, erase.

Each runs a service per request and turns the services' refusals into messages.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .. import privacy, services
from ..models import ConsultationStatus
from .display import BOTH_PLACES
from .forms import CloseForm, EraseForm


class TriageActionsMixin:
    """The consultation admin's actions (mixed into ``ConsultationRequestAdmin``)."""

    def _each(self, request: HttpRequest, queryset: QuerySet, step, done: str) -> None:
        """Run ``step`` per request; report how many worked and why the others were refused."""
        count, refused = 0, []
        for consultation in queryset:
            try:
                step(consultation)
            except services.TriageError as error:
                refused.append(str(error))
            else:
                count += 1
        if count or not refused:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(
        description="Assign to me",
        description_plural="Assign the selected requests to me",
        permissions=["change"],
        location=BOTH_PLACES,
    )
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.assign_consultation(
                consultation=c, to=request.user, by=request.user
            ),
            "{count} request(s) assigned to you.",
        )

    @admin.action(description="Mark selected requests as contacted", permissions=["change"])
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.change_consultation_status(
                consultation=c, to=ConsultationStatus.CONTACTED, by=request.user
            ),
            "{count} request(s) marked as contacted.",
        )

    @admin.action(description="Mark selected requests as booked", permissions=["change"])
    def mark_booked(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.change_consultation_status(
                consultation=c, to=ConsultationStatus.BOOKED, by=request.user
            ),
            "{count} request(s) marked as booked.",
        )

    @admin.action(description="Close selected requests with a reason…", permissions=["change"])
    def close_with_reason(self, request: HttpRequest, queryset: QuerySet):
        form = CloseForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda c: services.change_consultation_status(
                    consultation=c,
                    to=ConsultationStatus.CLOSED,
                    close_reason=reason,
                    by=request.user,
                ),
                "{count} request(s) closed.",
            )
            return None
        return self._confirm_page(
            request,
            queryset,
            form,
            title="Close consultation requests",
            intro="Close these requests? Closed is final.",
            submit="Close them",
        )

    @admin.action(description="Export selected to CSV (for call-backs)", permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return self._csv_response(request, queryset, filters="selected rows")

    @admin.action(
        description="Erase personal details…",
        description_plural="Erase the selected requests' personal details…",
        permissions=["erase"],
        location=BOTH_PLACES,
    )
    def erase_personal_details(self, request: HttpRequest, queryset: QuerySet):
        form = EraseForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            count = sum(
                privacy.erase_consultation(consultation, by=request.user, reason=reason) is not None
                for consultation in queryset
            )
            self.message_user(
                request, f"Personal details erased from {count} request(s).", messages.SUCCESS
            )
            return None
        return self._confirm_page(
            request,
            queryset,
            form,
            title="Erase personal details",
            intro="This blanks the name, email, phone, description and self-check of these "
            "requests, and of every earlier copy in their history. It cannot be undone.",
            submit="Erase them",
        )

    def _confirm_page(
        self, request: HttpRequest, queryset: QuerySet, form: forms.Form, **text
    ) -> TemplateResponse:
        """An action's confirmation page that posts back to the same action.

        It sends the action under the name it came in with (the change page prefixes it) and
        the rows by id, as Django's own delete confirmation does.
        """
        change_form_key = f"{ActionLocation.CHANGE_FORM.value}-action"
        action_key = change_form_key if change_form_key in request.POST else "action"
        return TemplateResponse(
            request,
            "admin/leads/consultationrequest/action_confirmation.html",
            {
                **self.admin_site.each_context(request),
                **text,
                "opts": self.opts,
                "form": form,
                "objects": list(queryset),
                "action_key": action_key,
                "action_name": request.POST[action_key],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "media": self.media + form.media,
            },
        )
