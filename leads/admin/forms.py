"""Forms for triage in admin: the workflow on the change page and the actions' confirm pages."""

from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from .. import services
from ..models import CloseReason, ConsultationStatus, ContactAttempt, InternalNote

# Staff choose from these; "erased" is set only by the erasure service.
STAFF_CLOSE_REASONS = [choice for choice in CloseReason.choices if choice[0] != CloseReason.ERASED]


class ConsultationRequestForm(forms.ModelForm):
    """The change page's form: model fields staff may edit, plus the next step in the workflow.

    The status itself is never a form field: ``new_status`` offers only the moves the
    workflow allows from where the request is now, and the admin hands it to the service.
    """

    new_status = forms.ChoiceField(
        label="Move to",
        required=False,
        help_text="The next step. Logging an attempt marked “Spoke to them” moves a new "
        "request to contacted by itself.",
    )
    # The status the page showed: "Move to" was chosen from there.
    opened_status = forms.CharField(widget=forms.HiddenInput, required=False)
    closing_reason = forms.ChoiceField(
        label="Close reason",
        required=False,
        choices=[("", "—")] + STAFF_CLOSE_REASONS,
        help_text="Needed when you close a request.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Each field carries the value the page showed, so "changed" means changed by this
        # member of staff. Compared with the row as it is when Save arrives, a colleague's
        # edit made meanwhile would look changed here, and be written back over.
        for field in self._meta.model._meta.fields:
            if field.name in self.fields:
                self.fields[field.name].show_hidden_initial = True
        assignee = self.fields.get("assigned_to")
        if assignee is not None and self.instance.assigned_to_id:
            # Whoever has the request now stays on the list even if since deactivated:
            # otherwise the page cannot show them, and any save would unassign it.
            staff = assignee.queryset
            assignee.queryset = staff.model.objects.filter(
                Q(pk__in=staff) | Q(pk=self.instance.assigned_to_id)
            ).order_by(*staff.query.order_by)
        current = self.instance.status or ConsultationStatus.NEW
        self.fields["opened_status"].initial = current
        self.fields["new_status"].choices = [
            ("", f"Keep as {ConsultationStatus(current).label.lower()}")
        ] + [
            (status, ConsultationStatus(status).label)
            for status in services.allowed_next_statuses(current)
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk:
            # The row as it is now, read by id alone so the read waits for an erasure in
            # flight, and locked until the save is done (admin saves in one transaction): an
            # erasure cannot land between this check and the write and be written over.
            self.current = type(self.instance).objects.select_for_update().get(pk=self.instance.pk)
            if self.current.erased_at:
                raise forms.ValidationError(
                    "This request's personal details were erased after you opened it, so "
                    "nothing you entered was saved."
                )
            self._refuse_a_move_chosen_from_an_old_status(cleaned.get("opened_status"))
        new_status, reason = cleaned.get("new_status"), cleaned.get("closing_reason")
        if new_status == ConsultationStatus.CLOSED and not reason:
            self.add_error("closing_reason", "Choose why the request is being closed.")
        if reason and new_status != ConsultationStatus.CLOSED:
            self.add_error("closing_reason", "A close reason goes with “Move to: Closed”.")
        return cleaned

    def _refuse_a_move_chosen_from_an_old_status(self, opened: str) -> None:
        """A move chosen on a page opened before a colleague moved the request would be made
        from where it is now: "Closed: patient declined" chosen on a new request would close
        one a colleague has since booked. Nothing on the page is saved; what was typed stays."""
        chosen = self.data.get(self.add_prefix("new_status"))
        now = self.current.status
        if not chosen or not opened or opened == now or opened not in ConsultationStatus.values:
            return
        self._errors.pop("new_status", None)  # "not one of the choices" would not say why
        self.add_error(
            "new_status",
            f"A colleague moved this request from {ConsultationStatus(opened).label.lower()} "
            f"to {ConsultationStatus(now).label.lower()} after you opened it, so nothing on "
            "this page was saved. What you typed is still here: check the request as it is "
            "now, then choose the next step again.",
        )
        # The page comes back as of now, so the next Save is not refused again; the move
        # (and any close reason) is chosen afresh, not saved by a second press of Save.
        self.data = self.data.copy()
        self.data[self.add_prefix("opened_status")] = now
        self.data[self.add_prefix("new_status")] = ""
        self.data[self.add_prefix("closing_reason")] = ""


class ContactAttemptForm(forms.ModelForm):
    class Meta:
        model = ContactAttempt
        fields = ["attempted_at", "channel", "outcome", "note"]

    def clean_attempted_at(self):
        # The service checks these too; here they become an error beside the field.
        attempted_at = self.cleaned_data["attempted_at"]
        if attempted_at and attempted_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("An attempt cannot be in the future.")
        consultation = self.instance.consultation
        if attempted_at and attempted_at < consultation.created_at:
            raise forms.ValidationError("This is before the request arrived.")
        return attempted_at


class InternalNoteForm(forms.ModelForm):
    class Meta:
        model = InternalNote
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 80})}


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label="Close reason", choices=STAFF_CLOSE_REASONS)


class EraseForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        max_length=90,
        initial="Erased at the patient's request",
        help_text="Recorded in the request's history and the privacy log. Do not write the "
        "patient's name or contact details here.",
    )
