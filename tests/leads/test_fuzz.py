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
        assert saved.description == expected(description)
        assert saved.contact_method == method
        assert saved.phone.is_valid()


# Valid by construction, so the round trip is checked on every example, not only on the
# few random posts that happen to pass every check. Names: letters and marks in any script,
# spaces (any kind), apostrophes and hyphens; the form refuses nothing here.
word = st.text(st.characters(categories=("L", "M")), min_size=1, max_size=12)
names = st.builds(
    lambda pad, first, rest: pad + first + "".join(sep + word for sep, word in rest) + pad,
    st.sampled_from(["", " ", "  "]),
    word,
    st.lists(st.tuples(st.sampled_from([" ", "-", "'", "\u2019", "\u00a0"]), word), max_size=4),
).filter(lambda name: len(name.strip()) <= 100)
valid_emails = st.from_regex(
    r"[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?@[a-z0-9]{1,15}\.example", fullmatch=True
)
# Anything a keyboard types in a free-text box: no control characters but the line break.
typed = st.characters(exclude_categories=("Cc", "Cs")) | st.just("\n")
free_text = st.text(typed, max_size=100)
long_text = st.text(typed, min_size=1, max_size=1000).filter(str.strip)


@FUZZ
@given(name=names, email=valid_emails)
@override_settings(
    FORM_RATE_PER_IP="100000/m", FORM_RATE_PER_EMAIL="100000/m", FORM_RATE_PER_PHONE="100000/m"
)
def test_report_form_saves_any_valid_name_exactly(client, spinal_metastases, name, email):
    response = client.post(
        f"{SHEET}report/", {"report-name": name, "report-email": email, "report-consent": "on"}
    )

    assert response.status_code == 302
    # filter(), not latest(): a repeated example is a double click, confirmed but saved once.
    assert ReportRequest.objects.filter(name=expected(name), email__iexact=email).exists()


@FUZZ
@given(
    name=names,
    email=valid_emails,
    best_time=free_text.filter(lambda text: len(text.strip()) <= 100),
    # As typed, and as a browser sends a text box's line breaks (CR LF).
    description=long_text | long_text.map(lambda text: text.replace("\n", "\r\n")),
    method=st.sampled_from(["phone", "video", "email"]),
)
@override_settings(
    FORM_RATE_PER_IP="100000/m", FORM_RATE_PER_EMAIL="100000/m", FORM_RATE_PER_PHONE="100000/m"
)
def test_consultation_form_saves_any_valid_request_exactly(
    client, spinal_metastases, name, email, best_time, description, method
):
    data = {
        "consultation-name": name,
        "consultation-email": email,
        "consultation-phone": "07911 123456",
        "consultation-best_time": best_time,
        "consultation-contact_method": method,
        "consultation-description": description,
        "consultation-pain_duration": "under_1_week",
        "consultation-consent": "on",
    }

    response = client.post(f"{SHEET}consultation/", data)

    assert response.status_code == 302
    assert ConsultationRequest.objects.filter(
        name=expected(name),
        email__iexact=email,
        best_time=expected(best_time),
        description=expected(description),  # as sent: a browser sends CR LF, kept as such
        contact_method=method,
    ).exists()
