import pytest

from leads.forms import ConsultationRequestForm, ReportRequestForm
from tests.conftest import VALID_CONSULTATION, VALID_REPORT

REPORT = VALID_REPORT
CONSULTATION = VALID_CONSULTATION

PHONE_INVALID = "Enter a phone number, like 020 7946 0018, or +44 20 7946 0018 from abroad"


def _with(data: dict[str, str], **changes: str | None) -> dict[str, str]:
    """A copy of ``data`` with fields changed, or left out where the change is None."""
    result = dict(data)
    for field, value in changes.items():
        if value is None:
            result.pop(field, None)
        else:
            result[field] = value
    return result


def test_report_form_valid_data_is_valid():
    form = ReportRequestForm(data=REPORT)

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "name": "Ada Patient",
        "email": "ada@example.com",
        "website": "",
        "consent": True,
    }


def test_report_form_empty_gives_a_message_for_every_field():
    form = ReportRequestForm(data={})

    assert not form.is_valid()
    assert form.errors == {
        "name": ["Enter your name"],
        "email": ["Enter your email address"],
        "consent": ["Tick the box to agree, so that we can email you the report"],
    }


def test_report_form_blank_name_is_required():
    form = ReportRequestForm(data=_with(REPORT, **{"report-name": "   "}))

    assert form.errors == {"name": ["Enter your name"]}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"report-email": "ada.example.com"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"report-email": "ada@"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"report-email": "a" * 243 + "@example.com"},
            "email",
            "Your email address must be 254 characters or fewer",
        ),
        ({"report-name": "a" * 101}, "name", "Your name must be 100 characters or fewer"),
        (
            {"report-consent": None},
            "consent",
            "Tick the box to agree, so that we can email you the report",
        ),
    ],
)
def test_report_form_invalid_input_gives_clear_message(changes, field, message):
    form = ReportRequestForm(data=_with(REPORT, **changes))

    assert not form.is_valid()
    assert message in form.errors[field]
    assert list(form.errors) == [field]


def test_report_form_accepts_a_name_of_exactly_100_characters():
    form = ReportRequestForm(data=_with(REPORT, **{"report-name": "a" * 100}))

    assert form.is_valid(), form.errors


def test_consultation_form_valid_data_is_valid():
    form = ConsultationRequestForm(data=CONSULTATION)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_method"] == "phone"
    assert form.cleaned_data["pain_duration"] == "1_to_6_weeks"
    assert form.cleaned_data["consent"] is True


def test_consultation_form_best_time_is_optional():
    form = ConsultationRequestForm(data=_with(CONSULTATION, **{"consultation-best_time": None}))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["best_time"] == ""


def test_consultation_form_empty_gives_a_message_for_every_required_field():
    """Email is not one of them: it is needed only for contact by email or video call."""
    form = ConsultationRequestForm(data={})

    assert not form.is_valid()
    assert form.errors == {
        "name": ["Enter your name"],
        "phone": ["Enter a phone number"],
        "contact_method": ["Choose how you would like us to contact you"],
        "description": ["Describe your back pain"],
        "pain_duration": ["Choose how long you have had this pain"],
        "consent": ["Tick the box to agree, so that the clinic can contact you"],
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"consultation-email": "ben@example"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        ({"consultation-name": "b" * 101}, "name", "Your name must be 100 characters or fewer"),
        ({"consultation-phone": "12345"}, "phone", PHONE_INVALID),
        ({"consultation-phone": "not a number"}, "phone", PHONE_INVALID),
        (
            {"consultation-best_time": "x" * 101},
            "best_time",
            "Best time to call must be 100 characters or fewer",
        ),
        (
            {"consultation-contact_method": "fax"},
            "contact_method",
            "Choose phone, video call or email",
        ),
        (
            {"consultation-pain_duration": "forever"},
            "pain_duration",
            "Choose one of the options for how long you have had this pain",
        ),
        (
            {"consultation-description": "x" * 2001},
            "description",
            "Keep the description to 2,000 characters or fewer",
        ),
        (
            {"consultation-consent": None},
            "consent",
            "Tick the box to agree, so that the clinic can contact you",
        ),
    ],
)
def test_consultation_form_invalid_input_gives_clear_message(changes, field, message):
    form = ConsultationRequestForm(data=_with(CONSULTATION, **changes))

    assert not form.is_valid()
    assert message in form.errors[field]
    assert list(form.errors) == [field]


def test_consultation_form_accepts_a_description_of_exactly_2000_characters():
    form = ConsultationRequestForm(
        data=_with(CONSULTATION, **{"consultation-description": "x" * 2000})
    )

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("020 7946 0018", "+442079460018"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_consultation_form_phone_is_normalised_to_e164(typed, e164):
    form = ConsultationRequestForm(data=_with(CONSULTATION, **{"consultation-phone": typed}))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"].as_e164 == e164


def test_forms_use_prefixes_so_both_fit_on_one_page():
    report, consultation = ReportRequestForm(), ConsultationRequestForm()

    assert report["email"].id_for_label == "id_report-email"
    assert consultation["email"].id_for_label == "id_consultation-email"
