import re

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from phonenumber_field.formfields import PhoneNumberField

from factsheets.models import FactSheet

from .models import (
    CONSULTATION_CONSENT_VERSION,
    REPORT_CONSENT_VERSION,
    ContactMethod,
    PainDuration,
    consent_wording,
)


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # the template owns <form>, its action and the CSRF token
    helper.disable_csrf = True
    return helper


class HoneypotMixin:
    """A field people never see (hidden by CSS, so no script is needed) but form-filling bots
    complete; a filled one gets an ordinary-looking confirmation and nothing is saved."""

    honeypot_field = "website"

    def add_honeypot(self) -> None:
        self.fields[self.honeypot_field] = forms.CharField(
            label="Leave this box empty",
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get(self.honeypot_field))


class SelfCheckMixin:
    """Adds the sheet's optional "Tick any that apply to you" list before the consent box."""

    def add_self_check(self, sheet: FactSheet | None) -> None:
        if sheet is None:
            return
        flags = list(sheet.red_flags.all())
        self.fields["symptoms"] = forms.TypedMultipleChoiceField(
            label="Tick any that apply to you (optional)",
            required=False,
            coerce=int,
            choices=[(flag.pk, flag.symptom or flag.text) for flag in flags],
            widget=forms.CheckboxSelectMultiple,
            help_text="This helps us tell you how soon to get help. You do not have to tick any.",
            error_messages={"invalid_choice": "Choose only from the signs listed"},
        )
        if sheet.asks_cancer_history:
            self.fields["cancer_history"] = forms.BooleanField(
                label="I have or have had cancer", required=False
            )
        order = [name for name in self.fields if name != "consent"] + ["consent"]
        self.order_fields(order)

    def keep_ticks_hidden(self) -> None:
        """For a page that must not show the sheet's list (the sheet has been withdrawn): the
        ticks go on as hidden inputs, and any no longer on the list are dropped rather than
        shown as an error no one could put right. Call before validating."""
        field = self.fields.get("symptoms")
        if field is None:
            return
        field.widget = forms.MultipleHiddenInput()
        if self.is_bound:
            listed = {str(value) for value, _label in field.choices}
            name = self.add_prefix("symptoms")
            self.data = self.data.copy()
            self.data.setlist(name, [v for v in self.data.getlist(name) if v in listed])

    def ticked_on_list(self) -> list[int]:
        """The signs ticked that are on the sheet's list, once the form has been validated.

        One tick no longer on the list (the sheet was edited while the page was open) makes
        the whole field invalid, but the others still count: an emergency sign ticked beside
        it must still bring up the 999 panel on the form shown again.
        """
        if "symptoms" in self.cleaned_data or "symptoms" not in self.fields:
            return self.cleaned_data.get("symptoms", [])
        listed = {str(value) for value, _label in self.fields["symptoms"].choices}
        return [int(v) for v in self.data.getlist(self.add_prefix("symptoms")) if v in listed]


# What a mail client or PDF reader would make a link of: a scheme, "www.", a path, or a
# name under a common top-level domain ("bit.ly", "evil.com"). Not "J.Smith" or "Dr. Ng".
WEB_ADDRESS = re.compile(
    r"://|\bhttps?:|\bwww\.|/"
    r"|\b[a-z0-9-]+\.(?:com|net|org|co|uk|io|ly|me|info|biz|app|dev|xyz|link|click|site|online"
    r"|top|ru|cn|tk|gl|gd|to|be|us|eu|de|fr)\b",
    re.IGNORECASE,
)


def no_web_address(value: str) -> None:
    """A name is printed in the emails and the PDF, under the clinic's name; anyone can have
    a report sent to any address, so a link there would be the clinic vouching for it."""
    if WEB_ADDRESS.search(value):
        raise ValidationError("Enter your name only, without a web address", code="web_address")


class ReportRequestForm(SelfCheckMixin, HoneypotMixin, forms.Form):
    prefix = "report"

    name = forms.CharField(
        label="Your name",
        max_length=100,
        validators=[no_web_address],
        error_messages={
            "required": "Enter your name",
            "max_length": "Your name must be 100 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Your email address must be 254 characters or fewer",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to agree, so that we can email you the report"},
    )

    def __init__(self, *args, sheet: FactSheet | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_honeypot()
        self.add_self_check(sheet)
        self.fields["consent"].label = consent_wording(REPORT_CONSENT_VERSION)
        self.helper = _helper()


class ConsultationRequestForm(SelfCheckMixin, HoneypotMixin, forms.Form):
    prefix = "consultation"

    name = ReportRequestForm.base_fields["name"]
    # Not everyone has email (many older people with cancer do not), and a call needs none.
    email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        help_text="Leave this empty if you would like us to phone you. We need it to contact "
        "you by email or for a video call.",
        error_messages=ReportRequestForm.base_fields["email"].error_messages,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = PhoneNumberField(
        label="Phone number",
        region="GB",
        help_text="A UK number, or an international number starting with +",
        error_messages={
            "required": "Enter a phone number",
            "invalid": "Enter a phone number, like 020 7946 0018, or +44 20 7946 0018 from abroad",
        },
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    best_time = forms.CharField(
        label="Best time to call (optional)",
        required=False,
        max_length=100,
        help_text="For example, weekday mornings",
        error_messages={"max_length": "Best time to call must be 100 characters or fewer"},
    )
    contact_method = forms.ChoiceField(
        label="How would you like us to contact you?",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how you would like us to contact you",
            "invalid_choice": "Choose phone, video call or email",
        },
    )
    description = forms.CharField(
        label="Briefly describe your back pain",
        max_length=2000,
        help_text="Your main concern, in a few sentences",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Describe your back pain",
            "max_length": "Keep the description to 2,000 characters or fewer",
        },
    )
    pain_duration = forms.ChoiceField(
        label="How long have you had this pain?",
        choices=PainDuration.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how long you have had this pain",
            "invalid_choice": "Choose one of the options for how long you have had this pain",
        },
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={
            "required": "Tick the box to agree, so that the clinic can contact you",
        },
    )

    def __init__(self, *args, sheet: FactSheet | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_honeypot()
        self.add_self_check(sheet)
        self.fields["consent"].label = consent_wording(CONSULTATION_CONSENT_VERSION)
        self.helper = _helper()

    def clean(self) -> dict:
        cleaned = super().clean()
        wants = cleaned.get("contact_method")
        needs_email = wants in (ContactMethod.EMAIL, ContactMethod.VIDEO)
        # A mistyped address has its own message already, saying what to do.
        if needs_email and not cleaned.get("email") and "email" not in self.errors:
            self.add_error(
                "email",
                "Enter your email address, or choose phone if you would like us to call you",
            )
        return cleaned
