"""The self-check on both forms: what a person sees at once, and what is stored."""

import base64
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

from leads import services
from leads.models import ConsultationRequest, ReportRequest
from reports.services import render_report_pdf

REPORT_URL = "/factsheets/spinal-metastases/report/"
CONSULTATION_URL = "/factsheets/spinal-metastases/consultation/"


def flag_id(sheet, level: str) -> int:
    return sheet.red_flags.filter(level=level).first().pk


def test_sheet_page_offers_the_checklist_on_both_forms(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert html.count("Tick any that apply to you") == 2
    for flag in spinal_metastases.red_flags.all():
        assert html.count(f'value="{flag.pk}"') == 2
    assert html.count("I have or have had cancer") == 2


def test_report_with_an_emergency_tick_leads_with_the_999_panel(client, spinal_metastases):
    data = {
        "report-name": "Ada",
        "report-email": "ada@example.com",
        "report-consent": "on",
        "report-symptoms": [
            flag_id(spinal_metastases, "urgent"),
            flag_id(spinal_metastases, "emergency"),
        ],
    }

    response = client.post(REPORT_URL, data, follow=True)

    html = response.content.decode()
    main = html[html.index('<main id="main"') :]
    panel = main.index("Call 999 or go to A&amp;E now")
    assert panel < main.index("Your report is on its way")
    assert "Immediate action required:" in main[:panel]
    assert ReportRequest.objects.get().urgency == "emergency"


@pytest.mark.parametrize(
    "url, level, waiting_for",
    [
        (REPORT_URL, "emergency", "Do not wait for our email."),
        (REPORT_URL, "urgent", "Do not wait for our email: get medical advice today."),
        (CONSULTATION_URL, "emergency", "Do not wait for us to contact you."),
        (CONSULTATION_URL, "urgent", "Do not wait for us to contact you: get medical advice"),
    ],
)
def test_a_confirmation_never_reads_as_leave_to_wait_for_us(
    client, spinal_metastases, valid_report, valid_consultation, url, level, waiting_for
):
    """A "within one working day" promise under "Get medical advice today" must
    not read as leave to wait for the clinic; nor "our email" to someone who asked for a call."""
    data, prefix = (
        (valid_report, "report") if url == REPORT_URL else (valid_consultation, "consultation")
    )
    data[f"{prefix}-symptoms"] = [flag_id(spinal_metastases, level)]

    html = client.post(url, data, follow=True).content.decode()

    main = " ".join(html[html.index('<main id="main"') :].split())
    panel = main[main.index('id="outcome-heading"') : main.index("panel--confirmation")]
    assert waiting_for in panel
    if url == CONSULTATION_URL:
        assert "email" not in panel


def test_report_with_an_urgent_tick_leads_with_same_day_advice(client, spinal_metastases):
    data = {
        "report-name": "Ada",
        "report-email": "ada@example.com",
        "report-consent": "on",
        "report-symptoms": [flag_id(spinal_metastases, "urgent")],
    }

    html = client.post(REPORT_URL, data, follow=True).content.decode()

    main = html[html.index('<main id="main"') :]
    assert main.index("Get medical advice today") < main.index("Your report is on its way")
    assert "Urgent advice:" in main
    assert "Immediate action required: </span><span" not in main.split("Your report")[0]


def test_report_with_nothing_ticked_still_works_and_shows_no_outcome_panel(
    client, spinal_metastases, valid_report
):
    html = client.post(REPORT_URL, valid_report, follow=True).content.decode()

    main = html[html.index('<main id="main"') :]
    assert main.index("<h1") < main.index("Your report is on its way") < main.index("Do not wait")
    request = ReportRequest.objects.get()
    assert request.urgency == "none"
    assert request.ticked == []
    assert len(request.not_ticked) == spinal_metastases.red_flags.count()


def test_consultation_with_an_emergency_tick_shows_the_panel_and_is_saved_flagged(
    client, spinal_metastases, valid_consultation
):
    data = valid_consultation | {
        "consultation-symptoms": [flag_id(spinal_metastases, "emergency")],
        "consultation-cancer_history": "on",
    }

    html = client.post(CONSULTATION_URL, data, follow=True).content.decode()

    main = html[html.index('<main id="main"') :]
    assert main.index("Call 999 or go to A&amp;E now") < main.index("We have your request")
    consultation = ConsultationRequest.objects.get()
    assert consultation.urgency == "emergency"
    assert consultation.cancer_history is True
    assert [item["level"] for item in consultation.ticked] == ["emergency"]
    assert consultation.rules_version and consultation.content_version == 1


def test_a_forged_outcome_in_the_url_shows_no_panel(client, spinal_metastases):
    response = client.get("/factsheets/spinal-metastases/report/sent/?outcome=emergency")

    assert "Call 999 or go to A&amp;E now" not in response.content.decode()


def test_a_flag_from_another_sheet_is_refused_and_nothing_saved(
    client, shipped_sheets, valid_report
):
    foreign = shipped_sheets["osteoporosis"].red_flags.first().pk

    response = client.post(REPORT_URL, valid_report | {"report-symptoms": [foreign]})

    assert response.status_code == 200
    assert "Choose only from the signs listed" in response.content.decode()
    assert ReportRequest.objects.count() == 0


def test_pdf_summary_lists_ticked_and_unticked_signs_and_the_outcome(
    client, shipped_sheets, valid_report
):
    sheet = shipped_sheets["multiple-myeloma"]  # a sheet with questions
    ticked = sheet.red_flags.filter(level="urgent").first()
    client.post(
        f"/factsheets/{sheet.slug}/report/",
        valid_report | {"report-symptoms": [ticked.pk]},
    )
    report = ReportRequest.objects.get()

    reader = PdfReader(io.BytesIO(render_report_pdf(report)))
    first = " ".join(reader.pages[0].extract_text().split())
    second = " ".join(reader.pages[1].extract_text().split()) if len(reader.pages) > 1 else ""
    summary = first + " " + second

    assert "Your self-check summary" in first
    assert "Get medical advice today" in first
    assert "You told us you have" in first
    assert " ".join(ticked.symptom.split()) in summary
    assert "You did not tick" in summary
    untouched = sheet.red_flags.filter(level="emergency").first().symptom
    assert " ".join(untouched.split()) in summary
    # The sheet's own questions end the sheet, as on the web page, not the summary.
    assert "Questions you could ask" not in summary
    assert report.rules_version in summary.replace(" ", "") or report.rules_version in summary
    assert "not a diagnosis" in first


@pytest.mark.parametrize("url", [REPORT_URL, CONSULTATION_URL])
def test_invalid_post_keeps_the_ticks(client, spinal_metastases, url):
    prefix = "report" if url == REPORT_URL else "consultation"
    ticked = flag_id(spinal_metastases, "emergency")

    html = client.post(url, {f"{prefix}-symptoms": [ticked]}).content.decode()

    checkbox = html[html.index(f'name="{prefix}-symptoms" value="{ticked}"') - 200 :][:400]
    assert "checked" in checkbox


@pytest.mark.parametrize(
    ("url", "prefix", "level", "headline", "focused"),
    [
        (REPORT_URL, "report", "emergency", "Call 999 or go to A&amp;E now", "outcome"),
        (CONSULTATION_URL, "consultation", "emergency", "Call 999 or go to A&amp;E now", "outcome"),
        (REPORT_URL, "report", "urgent", "Get medical advice today", "outcome"),
        (REPORT_URL, "report", None, None, "errors"),
    ],
)
def test_a_form_shown_again_with_errors_still_says_what_to_do_about_the_ticks(
    client, spinal_metastases, url, prefix, level, headline, focused
):
    """No consent ticked: nothing is saved, but an emergency tick is acted on at once."""
    data = {
        f"{prefix}-name": "Ada Typed",
        f"{prefix}-email": "ada@example.com",
    }
    if level:
        data[f"{prefix}-symptoms"] = [flag_id(spinal_metastases, level)]

    response = client.post(url, data)

    html = response.content.decode()
    main = html[html.index('<main id="main"') :]
    errors = main.index("There is a problem")
    assert "Tick the box to agree" in main
    assert 'value="Ada Typed"' in main
    if headline:
        assert main.index(headline) < errors < main.index("<h1")
        assert "Do not wait for our email" not in main
    else:
        assert 'id="outcome-heading"' not in main
    summary = main.index('<div class="error-summary"')
    assert main.count(" autofocus") == 1
    assert (main.index(" autofocus") < summary) == (focused == "outcome")
    assert ReportRequest.objects.count() == ConsultationRequest.objects.count() == 0


FORM_HINTS = [
    "An email cannot help in an emergency.",
    "Booking a consultation cannot help in an emergency.",
]


@pytest.mark.parametrize("lead", FORM_HINTS)
def test_the_hint_under_each_form_names_the_999_list_and_links_to_it(
    client, spinal_metastases, lead
):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    hint = html[html.index(lead) :].split("</p>")[0]
    assert "red box" not in hint
    # The link's words say where it goes, not what to do (which the sentence then says).
    assert (
        'If you have any of <a href="#emergency-heading">the signs that need 999 or A&amp;E now</a>'
        ", listed above, call 999 or go to A&amp;E now." in hint
    )
    assert 'id="emergency-heading"' in html


@pytest.mark.parametrize("lead", FORM_HINTS)
def test_without_emergency_signs_the_hint_points_to_no_list(client, spinal_metastases, lead):
    spinal_metastases.red_flags.filter(level="emergency").delete()

    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    hint = html[html.index(lead) :].split("</p>")[0]
    assert "#emergency-heading" not in hint and 'id="emergency-heading"' not in html
    assert "In an emergency, call 999." in hint


def test_a_tick_no_longer_on_the_list_does_not_hide_the_999_panel(client, spinal_metastases):
    """The sheet was edited while the page was open: one ticked sign has gone from the list.
    The form comes back for that, but the emergency sign also ticked is still acted on."""
    gone = spinal_metastases.red_flags.filter(level="soon").first() or (
        spinal_metastases.red_flags.filter(level="urgent").first()
    )
    gone_id = gone.pk
    gone.delete()
    data = {
        "report-name": "Ada Typed",
        "report-email": "ada@example.com",
        "report-consent": "on",
        "report-symptoms": [flag_id(spinal_metastases, "emergency"), gone_id],
    }

    response = client.post(REPORT_URL, data)

    html = response.content.decode()
    main = html[html.index('<main id="main"') :]
    assert "Choose only from the signs listed" in main
    assert main.index("Call 999 or go to A&amp;E now") < main.index("There is a problem")
    assert "<title>Call 999" in html
    assert ReportRequest.objects.count() == 0


def test_the_confirmation_url_does_not_show_the_outcome(client, spinal_metastases):
    """The URL lands in access logs and browser history: it must not say "emergency", not
    even base64-encoded, yet the page it leads to still says to call 999."""
    data = {
        "report-name": "Ada",
        "report-email": "ada@example.com",
        "report-consent": "on",
        "report-symptoms": [flag_id(spinal_metastases, "emergency")],
    }

    first = client.post(REPORT_URL, data)["Location"]
    second = client.post(REPORT_URL, data | {"report-name": "Ada B"})["Location"]

    token = parse_qs(urlsplit(first).query)["outcome"][0]
    for part in token.split(":"):
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert b"emergency" not in decoded.lower()
    assert "emergency" not in first.lower()
    assert first != second  # no fixed token that would stand for "emergency"
    page = client.get(first).content.decode()
    assert "Call 999 or go to A&amp;E now" in page
    tampered = first[:-3] + ("aaa" if not first.endswith("aaa") else "bbb")
    assert "Call 999 or go to A&amp;E now" not in client.get(tampered).content.decode()


def test_urgent_advice_sends_a_myeloma_patient_to_the_team_their_sheet_names(
    client, shipped_sheets, valid_report
):
    """The myeloma sheet says "contact your hospital team straight away" for signs of
    infection; the same-day card and the outcome must not send them to their GP instead."""
    sheet = shipped_sheets["multiple-myeloma"]
    infection = sheet.red_flags.get(level="urgent", text__contains="signs of infection")
    page = client.get(sheet.get_absolute_url()).content.decode()
    assert "Get urgent medical advice today if:" in page
    assert "(your GP or NHS 111) if:" not in page

    html = client.post(
        f"/factsheets/{sheet.slug}/report/",
        valid_report | {"report-symptoms": [infection.pk]},
        follow=True,
    ).content.decode()

    panel = html[html.index('id="outcome-heading"') : html.index("Your report is on its way")]
    assert "hospital, cancer or healthcare team, contact them" in panel
    assert "otherwise ask your GP surgery for an urgent appointment, or call NHS 111" in panel
    report = ReportRequest.objects.get()
    first = " ".join(
        PdfReader(io.BytesIO(render_report_pdf(report))).pages[0].extract_text().split()
    )
    assert "hospital, cancer or healthcare team, contact them" in first


def test_the_999_advice_on_the_page_points_to_no_list_the_page_does_not_show(
    client, spinal_metastases
):
    data = {
        "report-name": "Ada",
        "report-email": "ada@example.com",
        "report-consent": "on",
        "report-symptoms": [flag_id(spinal_metastases, "emergency")],
    }

    html = client.post(REPORT_URL, data, follow=True).content.decode()

    assert "Call 999 or go to your nearest A&amp;E now." in html
    assert "show them this list" not in html


def test_a_report_with_nothing_ticked_gives_no_when_line_and_speaks_of_a_self_check(
    client, spinal_metastases, valid_report
):
    client.post(REPORT_URL, valid_report)
    report = ReportRequest.objects.get()

    first = PdfReader(io.BytesIO(render_report_pdf(report))).pages[0].extract_text()

    assert "Your self-check summary" in first
    assert "assessment" not in first.lower()
    assert "When:" not in first
    assert "You did not tick any warning signs" in " ".join(first.split())
    assert "You told us you have" not in first  # no heading over an empty list


# --- an urgent sign whose sheet says "straight away" ---------------------------------------

INFECTION_REPORT_URL = "/factsheets/spinal-infection/report/"


def infection_flag(shipped_sheets, words: str):
    return shipped_sheets["spinal-infection"].red_flags.get(level="urgent", text__contains=words)


def test_a_sign_the_sheet_says_needs_a_doctor_straight_away_is_not_told_today(
    client, shipped_sheets, valid_report
):
    """The infection sheet says a fever with back pain needs a doctor straight away: the
    confirmation must say so too, not "today", which reads as leave to wait until later."""
    fever = infection_flag(shipped_sheets, "38°C")
    assert "straight away" in fever.text

    html = client.post(
        INFECTION_REPORT_URL, valid_report | {"report-symptoms": [fever.pk]}, follow=True
    ).content.decode()

    panel = html[html.index('id="outcome-heading"') : html.index("Your report is on its way")]
    assert "Get medical advice straight away" in panel
    assert "the fact sheet says needs checking straight away" in panel
    assert "Do not wait for our email: get medical advice straight away." in panel
    assert "today" not in panel.replace("later today", "")
    report = ReportRequest.objects.get()
    assert report.urgency == "urgent"  # the level triage sorts by is unchanged
    assert [item["straight_away"] for item in report.ticked] == [True]
    first = " ".join(
        PdfReader(io.BytesIO(render_report_pdf(report))).pages[0].extract_text().split()
    )
    assert "Get medical advice straight away" in first
    assert "When: Straight away. Do not wait until later today." in first


def test_a_form_shown_again_says_straight_away_too(client, shipped_sheets, valid_report):
    fever = infection_flag(shipped_sheets, "38°C")
    data = valid_report | {"report-symptoms": [fever.pk]}
    del data["report-consent"]

    html = client.post(INFECTION_REPORT_URL, data).content.decode()

    assert "Get medical advice straight away" in html
    assert ReportRequest.objects.count() == 0


def test_an_urgent_sign_the_sheet_says_to_check_urgently_is_still_today(
    client, shipped_sheets, valid_report
):
    unwell = infection_flag(shipped_sheets, "generally unwell")
    assert "straight away" not in unwell.text

    html = client.post(
        INFECTION_REPORT_URL, valid_report | {"report-symptoms": [unwell.pk]}, follow=True
    ).content.decode()

    assert "Get medical advice today" in html
    assert "Do not wait for our email: get medical advice today." in html
    assert "straight away" not in html[html.index('id="outcome-heading"') :]


def test_a_double_click_is_answered_straight_away_too(client, shipped_sheets, valid_report):
    fever = infection_flag(shipped_sheets, "38°C")
    data = valid_report | {"report-symptoms": [fever.pk]}

    client.post(INFECTION_REPORT_URL, data)
    again = client.post(INFECTION_REPORT_URL, data, follow=True).content.decode()

    assert ReportRequest.objects.count() == 1
    assert "Get medical advice straight away" in again


def test_the_clinic_is_told_what_the_patient_was_shown(
    client, shipped_sheets, valid_consultation, mailoutbox
):
    fever = infection_flag(shipped_sheets, "38°C")
    client.post(
        "/factsheets/spinal-infection/consultation/",
        valid_consultation | {"consultation-symptoms": [fever.pk]},
    )
    consultation = ConsultationRequest.objects.get()

    assert services.send_clinic_notification(consultation_id=consultation.pk)

    body = mailoutbox[-1].body
    assert 'the patient was shown "Get medical advice straight away"' in body
    assert mailoutbox[-1].subject.startswith("Urgent self-check:")


def test_the_pdf_cover_reads_what_to_do_before_the_clinic_s_codes(
    client, spinal_metastases, valid_report
):
    """Read aloud or copied as text, the cover gives the outcome first; the reference and
    versions for the clinic come last."""
    client.post(
        REPORT_URL, valid_report | {"report-symptoms": [flag_id(spinal_metastases, "emergency")]}
    )
    report = ReportRequest.objects.get()

    first = " ".join(
        PdfReader(io.BytesIO(render_report_pdf(report))).pages[0].extract_text().split()
    )

    assert first.index("Call 999 or go to A&E now") < first.index("For the clinic:")
    assert first.index("If things get worse") < first.index("For the clinic:")


def test_the_summary_fits_on_its_first_page_for_every_shipped_sheet(shipped_sheets):
    """It says "Show them this page". The longest it gets: every sign ticked (or only the
    urgent ones, whose outcome's words are longer), cancer ticked, the longest name the form
    takes, and the note that the sheet has changed since. The clinic's line is last on page
    1, and the fact sheet starts on page 2."""
    name = ("Alexandra-Josephine Montgomery-Smythe " * 3)[:100]
    for slug, sheet in shipped_sheets.items():
        flags = list(sheet.red_flags.all())
        for ticks in (flags, [flag for flag in flags if flag.level == "urgent"]):
            report = services.create_report_request(
                sheet=sheet,
                name=name,
                email="ada@example.com",
                ticked_flag_ids=[flag.pk for flag in ticks],
                cancer_history=True,
            )
            report.content_version = sheet.content_version + 1  # "We have updated this…"
            pages = PdfReader(io.BytesIO(render_report_pdf(report))).pages
            first, second = (" ".join(page.extract_text().split()) for page in pages[:2])
            assert "We have updated this fact sheet" in first, slug
            assert "If things get worse" in first and "For the clinic:" in first, slug
            assert sheet.title in second[:200], slug
