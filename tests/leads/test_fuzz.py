"""Property-based: whatever is typed into either form, no 500, and what is saved is what was
typed (after the trimming of surrounding spaces every form field does)."""

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import ConsultationRequest, ReportRequest

SHEET = "/factsheets/spinal-metastases/"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text a browser can send: every Unicode category, RTL, emoji, controls and markup.
any_text = st.text(max_size=140) | st.sampled_from(
    ["<script>alert(1)</script>", "Robert'); DROP TABLE leads;--", "\u202eevil", "a\r\nBcc: x@y"]
)
emails = st.emails() | any_text
phones = st.sampled_from(["07911 123456", "+33 1 23 45 67 89", "020 7946 0018"]) | any_text


def expected(value: str) -> str:
    return value.strip()


@FUZZ
@given(name=any_text, email=emails, consent=st.booleans())
@override_settings(
    FORM_RATE_PER_IP="100000/m", FORM_RATE_PER_EMAIL="100000/m", FORM_RATE_PER_PHONE="100000/m"
)
def test_report_form_never_errors_and_saves_what_was_typed(
    client, spinal_metastases, name, email, consent
):
    before = ReportRequest.objects.count()
    data = {"report-name": name, "report-email": email}
    if consent:
        data["report-consent"] = "on"

    response = client.post(f"{SHEET}report/", data)

    assert response.status_code in (200, 302, 400)
    if response.status_code == 302 and ReportRequest.objects.count() > before:
        saved = ReportRequest.objects.latest("pk")
        assert saved.name == expected(name)
        assert saved.email.lower() == expected(email).lower()


@FUZZ
@given(
    name=any_text,
    email=emails,
    phone=phones,
    best_time=any_text,
    method=st.sampled_from(["phone", "video", "email"]) | any_text,
    description=st.text(min_size=1, max_size=600) | any_text,
    duration=st.sampled_from(["under_1_week", "over_3_months"]) | any_text,
)
@override_settings(
    FORM_RATE_PER_IP="100000/m", FORM_RATE_PER_EMAIL="100000/m", FORM_RATE_PER_PHONE="100000/m"
)
def test_consultation_form_never_errors_and_saves_what_was_typed(
    client, spinal_metastases, name, email, phone, best_time, method, description, duration
):
    before = ConsultationRequest.objects.count()
    data = {
        "consultation-name": name,
        "consultation-email": email,
        "consultation-phone": phone,
        "consultation-best_time": best_time,
        "consultation-contact_method": method,
        "consultation-description": description,
        "consultation-pain_duration": duration,
        "consultation-consent": "on",
    }

    response = client.post(f"{SHEET}consultation/", data)

    assert response.status_code in (200, 302, 400)
    if response.status_code == 302 and ConsultationRequest.objects.count() > before:
        saved = ConsultationRequest.objects.latest("pk")
        assert saved.name == expected(name)
        assert saved.best_time == expected(best_time)
        assert saved.description == expected(description).replace("\r\n", "\n")
        assert saved.contact_method == method
        assert saved.phone.is_valid()
