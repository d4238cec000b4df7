import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from leads.models import (
    CONSULTATION_CONSENT_VERSION,
    REPORT_CONSENT_VERSION,
    ConsultationRequest,
    ReportRequest,
)
from leads.working_time import one_working_day_after

SLUG = "spinal-metastases"
REPORT_URL = f"/factsheets/{SLUG}/report/"
CONSULTATION_URL = f"/factsheets/{SLUG}/consultation/"


def _input_tag(html: str, name: str) -> str:
    """The whole <input> tag for the field called ``name``."""
    match = re.search(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert match, f"no <input name={name!r}> on the page"
    return match.group(0)


def _main(html: str) -> str:
    """The page's own content, without the site-wide header strip and footer (both say 999)."""
    return html[html.index('<main id="main"') : html.index("</main>")]


def _error_beside(html: str, field_id: str) -> str:
    pattern = rf'<div id="{field_id}_error" class="invalid-feedback">(.*?)</div>'
    match = re.search(pattern, html, re.S)
    assert match, f"no error shown beside #{field_id}"
    return match.group(1)


# --- valid posts -----------------------------------------------------------------------------


def test_request_report_valid_post_saves_one_queued_request(
    client, spinal_metastases, valid_report, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(REPORT_URL, valid_report)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("leads:report_sent", kwargs={"slug": SLUG}))
    request = ReportRequest.objects.get()
    assert request.sheet == spinal_metastases
    assert (request.name, request.email) == ("Ada Patient", "ada@example.com")
    assert request.status == "queued"
    assert request.consent_version == REPORT_CONSENT_VERSION
    assert request.consented_at is not None
    assert len(callbacks) == 1


def test_report_sent_page_repeats_emergency_advice(client, spinal_metastases):
    response = client.get(reverse("leads:report_sent", kwargs={"slug": SLUG}))

    main = _main(response.content.decode())
    assert response.status_code == 200
    assert "Your report is on its way" in main
    assert "call 999 or go to A&amp;E now" in main
    assert f'<a href="{spinal_metastases.get_absolute_url()}">' in main


def test_request_consultation_valid_post_saves_one_new_request(
    client, spinal_metastases, valid_consultation, django_capture_on_commit_callbacks
):
    valid_consultation["consultation-phone"] = "07911 123456"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(CONSULTATION_URL, valid_consultation)

    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("leads:consultation_sent", kwargs={"slug": SLUG})
    )
    consultation = ConsultationRequest.objects.get()
    assert consultation.sheet == spinal_metastases
    assert consultation.status == "new"
    assert consultation.phone.as_e164 == "+447911123456"
    assert ConsultationRequest.objects.filter(phone="+447911123456").exists()
    assert consultation.consent_version == CONSULTATION_CONSENT_VERSION
    assert consultation.due_at > consultation.created_at
    assert consultation.due_at == one_working_day_after(consultation.consented_at)
    assert consultation.clinic_notified_at is None
    assert len(callbacks) == 1


def test_someone_without_email_can_ask_to_be_phoned(client, spinal_metastases, valid_consultation):
    """Many people, older people with cancer among them, have no email address: a call needs
    none."""
    valid_consultation["consultation-email"] = ""

    response = client.post(CONSULTATION_URL, valid_consultation)

    assert response.status_code == 302
    consultation = ConsultationRequest.objects.get()
    assert (consultation.email, consultation.phone.as_e164) == ("", "+447911123456")


@pytest.mark.parametrize("method", ["email", "video"])
def test_email_or_a_video_call_needs_an_email_address(
    client, spinal_metastases, valid_consultation, method
):
    valid_consultation |= {"consultation-email": "", "consultation-contact_method": method}

    html = client.post(CONSULTATION_URL, valid_consultation).content.decode()

    message = "Enter your email address, or choose phone if you would like us to call you"
    assert f'<a href="#id_consultation-email">{message}</a>' in html
    assert 'value="Low back pain' not in html  # a textarea keeps its text inside it
    assert "Low back pain for two weeks, worse at night." in html
    radio = re.search(rf'<input type="radio"[^>]*value="{method}"[^>]*>', html).group(0)
    assert "checked" in radio  # the choice made is kept
    assert not ConsultationRequest.objects.exists()


def test_request_consultation_stores_an_international_number_as_e164(
    client, spinal_metastases, valid_consultation, django_capture_on_commit_callbacks
):
    valid_consultation["consultation-phone"] = "+33 1 23 45 67 89"

    with django_capture_on_commit_callbacks(execute=False):
        client.post(CONSULTATION_URL, valid_consultation)

    assert ConsultationRequest.objects.get().phone.as_e164 == "+33123456789"


def test_consultation_sent_page_promises_one_working_day_and_says_999(client, spinal_metastases):
    response = client.get(reverse("leads:consultation_sent", kwargs={"slug": SLUG}))

    main = _main(response.content.decode())
    assert response.status_code == 200
    assert "within one working day" in main
    assert "999" in main


@pytest.mark.parametrize("name", ["report_sent", "consultation_sent"])
def test_confirmation_pages_are_never_cached(client, spinal_metastases, name):
    response = client.get(reverse(f"leads:{name}", kwargs={"slug": SLUG}))

    assert "no-cache" in response["Cache-Control"]


def test_request_report_without_origin_headers_is_refused(spinal_metastases, valid_report):
    response = Client(enforce_csrf_checks=True).post(REPORT_URL, valid_report)

    assert response.status_code == 403
    assert ReportRequest.objects.count() == 0
    assert "Your form could not be sent" in response.content.decode()
    assert "call 999" in response.content.decode()


# --- invalid posts ---------------------------------------------------------------------------

REPORT_INVALID = {
    "empty": ({}, "report-name", "Enter your name"),
    "bad email": (
        {"report-email": "ada.example.com"},
        "report-email",
        "Enter an email address in the correct format, like name@example.com",
    ),
    "missing consent": (
        {"report-consent": None},
        "report-consent",
        "Tick the box to agree, so that we can email you the report",
    ),
}

CONSULTATION_INVALID = {
    "empty": ({}, "consultation-name", "Enter your name"),
    "bad email": (
        {"consultation-email": "ben@"},
        "consultation-email",
        "Enter an email address in the correct format, like name@example.com",
    ),
    "missing consent": (
        {"consultation-consent": None},
        "consultation-consent",
        "Tick the box to agree, so that the clinic can contact you",
    ),
}


def _post_data(valid: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    if not changes:
        return {}
    data = dict(valid)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("case", REPORT_INVALID, ids=list(REPORT_INVALID))
def test_request_report_invalid_post_saves_nothing_and_shows_errors(
    client, spinal_metastases, valid_report, django_capture_on_commit_callbacks, case
):
    changes, field, message = REPORT_INVALID[case]
    data = _post_data(valid_report, changes)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(REPORT_URL, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert ReportRequest.objects.count() == 0
    assert callbacks == []
    assert "<title>Error: " in html
    assert "There is a problem" in html
    assert f'<a href="#id_{field}">{message}</a>' in html
    assert message in _error_beside(html, f"id_{field}")


@pytest.mark.parametrize("case", CONSULTATION_INVALID, ids=list(CONSULTATION_INVALID))
def test_request_consultation_invalid_post_saves_nothing_and_shows_errors(
    client, spinal_metastases, valid_consultation, django_capture_on_commit_callbacks, case
):
    changes, field, message = CONSULTATION_INVALID[case]
    data = _post_data(valid_consultation, changes)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(CONSULTATION_URL, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert ConsultationRequest.objects.count() == 0
    assert callbacks == []
    assert "There is a problem" in html
    assert f'<a href="#id_{field}">{message}</a>' in html
    assert message in _error_beside(html, f"id_{field}")


def test_request_report_invalid_post_keeps_what_was_typed(client, spinal_metastases):
    response = client.post(
        REPORT_URL, {"report-name": "Ada O'Patient", "report-email": "ada.example.com"}
    )

    html = response.content.decode()
    assert 'value="Ada O&#x27;Patient"' in _input_tag(html, "report-name")
    assert 'value="ada.example.com"' in _input_tag(html, "report-email")


def test_request_consultation_invalid_post_keeps_what_was_typed(
    client, spinal_metastases, valid_consultation
):
    valid_consultation.pop("consultation-consent")

    response = client.post(CONSULTATION_URL, valid_consultation)

    html = response.content.decode()
    assert 'value="Ben Patient"' in _input_tag(html, "consultation-name")
    assert 'value="ben@example.com"' in _input_tag(html, "consultation-email")
    assert f'value="{valid_consultation["consultation-phone"]}"' in _input_tag(
        html, "consultation-phone"
    )
    assert 'value="Weekday mornings"' in _input_tag(html, "consultation-best_time")
    assert "checked" in _input_tag(html, "consultation-contact_method")  # phone, the first option
    assert re.search(r'value="1_to_6_weeks"[^>]*\bchecked\b', html)
    assert ">\nLow back pain for two weeks, worse at night.</textarea>" in html
    assert "checked" not in _input_tag(html, "consultation-consent")


def test_request_report_invalid_post_shows_the_consultation_form_blank(client, spinal_metastases):
    response = client.post(REPORT_URL, {"report-name": "Ada Patient"})

    html = response.content.decode()
    assert f'action="{CONSULTATION_URL}"' in html
    for name in ["consultation-name", "consultation-email", "consultation-phone"]:
        assert "value=" not in _input_tag(html, name)
    assert 'id="id_consultation-name_error"' not in html
    assert "consultation-form" in html


def test_request_consultation_invalid_post_shows_the_report_form_blank(client, spinal_metastases):
    response = client.post(CONSULTATION_URL, {"consultation-name": "Ben Patient"})

    html = response.content.decode()
    assert f'action="{REPORT_URL}"' in html
    for name in ["report-name", "report-email"]:
        assert "value=" not in _input_tag(html, name)
    assert 'id="id_report-name_error"' not in html


def test_request_invalid_post_still_shows_the_sheet(client, spinal_metastases):
    response = client.post(REPORT_URL, {})

    html = response.content.decode()
    assert "<h1>Spinal metastases</h1>" in html
    assert html.index("There is a problem") < html.index("care-card--emergency")


@pytest.mark.parametrize("url", [REPORT_URL, CONSULTATION_URL])
def test_request_invalid_post_escapes_html_typed_in_a_name(client, spinal_metastases, url):
    prefix = "report" if url == REPORT_URL else "consultation"

    response = client.post(url, {f"{prefix}-name": "<script>alert(1)</script>"})

    html = response.content.decode()
    assert "<script>alert" not in html.lower()
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in _input_tag(html, f"{prefix}-name")


def test_request_consultation_error_summary_links_radio_fields_to_a_choice(
    client, spinal_metastases
):
    response = client.post(CONSULTATION_URL, {})

    html = response.content.decode()
    assert '<a href="#">' not in html
    assert (
        f'<a href="#id_consultation-contact_method_0">'
        f"{escape('Choose how you would like us to contact you')}</a>"
    ) in html


# --- wrong method, wrong sheet ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "form"), [(REPORT_URL, "report-form"), (CONSULTATION_URL, "consultation-form")]
)
def test_a_form_address_visited_leads_back_to_that_form_on_the_sheet(
    client, spinal_metastases, url, form
):
    """A bookmark, a restored tab or the address bar after an error page: not a bare 405."""
    response = client.get(url, follow=True)

    assert response.redirect_chain == [(f"/factsheets/{SLUG}/#{form}", 302)]
    assert f'id="{form}"' in response.content.decode()
    assert "no-store" in client.get(url)["Cache-Control"]
    assert client.put(url).status_code == 405


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/factsheets/no-such-sheet/report/", "valid_report"),
        ("/factsheets/no-such-sheet/consultation/", "valid_consultation"),
    ],
)
def test_request_unknown_sheet_is_not_found(client, spinal_metastases, request, url, data):
    response = client.post(url, request.getfixturevalue(data))

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert ReportRequest.objects.count() == 0
    assert ConsultationRequest.objects.count() == 0


def test_confirmation_page_for_unknown_sheet_is_not_found(client, db):
    response = client.get("/factsheets/no-such-sheet/report/sent/")

    assert response.status_code == 404
