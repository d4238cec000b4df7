"""How patients reach the clinic: CLINIC_PHONE, CLINIC_EMAIL and CLINIC_ADDRESS."""

import pytest
from django.core import checks
from django.test import override_settings

CONTACT = {
    "CLINIC_PHONE": "+44 161 496 0000",
    "CLINIC_EMAIL": "enquiries@clinic.example",
    "CLINIC_ADDRESS": "Spinal Clinic,\n  1 Example Road, Manchester M1 1AA",
}


def _footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') :]


@override_settings(**CONTACT)
def test_every_page_footer_and_the_privacy_notice_say_how_to_reach_the_clinic(
    client, spinal_metastases
):
    ways = (
        'call <a href="tel:+44-161-496-0000">0161 496 0000</a>, '
        'email <a href="mailto:enquiries@clinic.example">enquiries@clinic.example</a> '
        "or write to Spinal Clinic, 1 Example Road, Manchester M1 1AA"
    )
    for url in ["/", spinal_metastases.get_absolute_url(), "/privacy/"]:
        assert f"about a request or your details: {ways}</p>" in _footer(
            client.get(url).content.decode()
        ), url

    privacy = client.get("/privacy/").content.decode()
    assert f"or ask us to correct it or erase it, by contacting the clinic: {ways}.</p>" in privacy


@override_settings(CLINIC_PHONE="", CLINIC_EMAIL="enquiries@clinic.example", CLINIC_ADDRESS="")
def test_only_the_ways_that_are_set_are_listed(client, db):
    footer = _footer(client.get("/privacy/").content.decode())

    assert (
        'details: email <a href="mailto:enquiries@clinic.example">enquiries@clinic.example</a></p>'
        in footer
    )
    assert "call" not in footer.split("details:")[1].split("</p>")[0]


@override_settings(CLINIC_PHONE="", CLINIC_EMAIL="", CLINIC_ADDRESS="")
def test_with_nothing_set_no_empty_contact_line_is_shown(client, db):
    html = client.get("/privacy/").content.decode()

    assert "about a request or your details" not in html
    assert "or ask us to correct it or erase it, by contacting the clinic.</p>" in html


def _contact_warnings() -> list[str]:
    return [m.id for m in checks.run_checks() if m.id and m.id.startswith("clinic.")]


@pytest.mark.parametrize(
    ("debug", "contact", "warned"),
    [
        (False, {}, True),
        (False, {"CLINIC_ADDRESS": "1 Example Road"}, False),
        (True, {}, False),
    ],
)
def test_check_warns_in_production_when_patients_cannot_be_told_how_to_reach_the_clinic(
    db, debug, contact, warned
):
    unset = {"CLINIC_PHONE": "", "CLINIC_EMAIL": "", "CLINIC_ADDRESS": ""}
    with override_settings(DEBUG=debug, **(unset | contact)):
        assert _contact_warnings() == (["clinic.W001"] if warned else [])


@override_settings(CLINIC_PHONE="+353 1 234 5678", CLINIC_EMAIL="", CLINIC_ADDRESS="")
def test_a_clinic_number_abroad_is_shown_as_dialled_from_the_uk(client, db):
    footer = _footer(client.get("/privacy/").content.decode())

    assert 'call <a href="tel:+353-1-234-5678">+353 1 234 5678</a></p>' in footer
