"""Accessibility and wording fixes found in review: where group errors show, focus styles,
the calm reminder on routine confirmation pages, page titles for an urgent outcome, and the
consultation promise said the same way everywhere."""

import hashlib
import re
from pathlib import Path

import crispy_bootstrap5
import pytest
from django.conf import settings
from django.utils.html import escape

from factsheets.assessment import OUTCOMES

SLUG = "spinal-metastases"
REPORT_URL = f"/factsheets/{SLUG}/report/"
CONSULTATION_URL = f"/factsheets/{SLUG}/consultation/"
SITE_CSS = Path(settings.BASE_DIR) / "static" / "css" / "site.css"
DARK = "#212b32"
YELLOW = "#ffeb3b"


def _main(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def _group(html: str, name: str) -> str:
    """The fieldset of the radio or checkbox group ``name``, from its wrapper to </fieldset>."""
    start = html.index(f'<div id="div_id_{name}"')
    return html[start : html.index("</fieldset>", start) + len("</fieldset>")]


def _section(html: str, labelled_by: str) -> str:
    start = html.rindex("<section", 0, html.index(f'aria-labelledby="{labelled_by}"'))
    return html[start : html.index("</section>", start)]


def _flag(sheet, level: str) -> int:
    return sheet.red_flags.filter(level=level).first().pk


# --- 1. a group's error once, after the legend and hint, before the first option ----------


def test_radio_group_error_is_shown_once_before_the_first_option(client, spinal_metastases):
    html = client.post(CONSULTATION_URL, {}).content.decode()

    group = _group(html, "consultation-contact_method")
    message = escape("Choose how you would like us to contact you")
    assert group.count(message) == 1
    assert group.index("</legend>") < group.index(message) < group.index('type="radio"')
    # The error is not inside any option's row.
    assert group.index(message) < group.index('class="form-check')
    # The fieldset still points at the error, and the summary link still finds the first radio.
    error_id = "id_consultation-contact_method_error"
    assert f'id="{error_id}"' in group
    assert re.search(rf'<fieldset aria-describedby="[^"]*\b{error_id}\b', group)
    assert f'<a href="#id_consultation-contact_method_0">{message}</a>' in html
    assert 'id="id_consultation-contact_method_0"' in group


def test_checkbox_group_shows_hint_then_error_then_options(client, shipped_sheets):
    foreign = shipped_sheets["osteoporosis"].red_flags.first().pk

    html = client.post(REPORT_URL, {"report-symptoms": [foreign]}).content.decode()

    group = _group(html, "report-symptoms")
    message = "Choose only from the signs listed"
    hint = 'id="id_report-symptoms_helptext"'
    assert group.count(message) == 1
    assert group.count(hint) == 1
    legend = group.index("</legend>")
    assert legend < group.index(hint) < group.index(message) < group.index('type="checkbox"')
    assert re.search(
        r'<fieldset aria-describedby="id_report-symptoms_helptext id_report-symptoms_error"',
        group,
    )


def test_each_group_error_shows_once_on_the_page(client, spinal_metastases):
    html = client.post(CONSULTATION_URL, {}).content.decode()

    for name, message in [
        ("contact_method", "Choose how you would like us to contact you"),
        ("pain_duration", "Choose how long you have had this pain"),
    ]:
        # Once in the error summary, once beside the group.
        assert html.count(escape(message)) == 2, name
        assert html.count(f'id="id_consultation-{name}_error"') == 1, name


def _wrapper(html: str, name: str) -> str:
    """A single field's wrapper div, from its start to the next field's."""
    start = html.index(f'<div id="div_id_{name}"')
    return html[start : html.index('<div id="div_id_', start + 1)]


def test_a_text_box_shows_label_then_hint_then_error_then_the_box(client, spinal_metastases):
    html = client.post(CONSULTATION_URL, {"consultation-phone": "12"}).content.decode()

    field = _wrapper(html, "consultation-phone")
    label = re.search(r'<label\s+for="id_consultation-phone"', field).start()
    hint = field.index('id="id_consultation-phone_helptext"')
    error = field.index('id="id_consultation-phone_error"')
    box = field.index('<input type="tel"')
    assert label < hint < error < box
    # The box still points at both, and the summary link still finds it.
    assert re.search(
        r'<input type="tel"[^>]*aria-describedby="id_consultation-phone_helptext '
        r'id_consultation-phone_error"',
        field,
    )
    assert '<a href="#id_consultation-phone">' in html


def test_a_text_box_without_a_hint_shows_its_error_before_the_box(client, spinal_metastases):
    html = client.post(REPORT_URL, {}).content.decode()

    field = _wrapper(html, "report-name")
    assert field.index("Enter your name") < field.index('<input type="text"')


def test_the_consent_box_shows_its_error_on_a_line_above_it(client, spinal_metastases):
    html = client.post(REPORT_URL, {}).content.decode()

    field = _wrapper(html, "report-consent")
    message = "Tick the box to agree, so that we can email you the report"
    assert field.count(message) == 1
    assert field.index(message) < field.index('type="checkbox"') < field.index("<label")
    assert re.search(
        r"\.form-check > \.invalid-feedback, \.form-check > \.form-text \{ flex-basis: 100%;",
        SITE_CSS.read_text(),
    )


# The crispy-bootstrap5 templates copied into templates/bootstrap5/ and changed there, with the
# SHA-256 of the original each copy was made from (crispy-bootstrap5 2026.9).
COPIED_FROM = {
    "bootstrap5/field.html": "1c6d91cfb43dd8909234f977c7934c9d9cc787fba77c33dec505d7717dfc1b99",
    "bootstrap5/layout/radio_checkbox_select.html": (
        "892a6889cfc317932949bef82d44bb1e21c4ea755ca2f6c15e66a132b89eb328"
    ),
    "bootstrap5/layout/field_errors_block.html": (
        "098b3e84e7ed6e3da8f109a79bb83957476603193809f69bae1fac8626b58beb"
    ),
}


@pytest.mark.parametrize(("name", "sha256"), COPIED_FROM.items())
def test_the_crispy_templates_we_override_are_still_the_ones_we_copied(name, sha256):
    """An upgrade that changes an original would otherwise be hidden by our older copy: then
    make the same change to the new original, copy it over ours and update the hash here."""
    original = Path(crispy_bootstrap5.__file__).parent / "templates" / name

    assert hashlib.sha256(original.read_bytes()).hexdigest() == sha256, (
        f"crispy-bootstrap5's {name} has changed since templates/{name} was copied from it"
    )


# --- 2 and 3. focus styles (read from the stylesheet) --------------------------------------


def _css_rules() -> list[tuple[list[str], dict[str, str]]]:
    css = re.sub(r"/\*.*?\*/", "", SITE_CSS.read_text(), flags=re.S)
    css = re.sub(r"@media[^{]*\{((?:[^{}]*\{[^{}]*\})*)\s*\}", r"\1", css)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                prop, value = declaration.split(":", 1)
                declarations[prop.strip()] = " ".join(value.split()).lower()
        rules.append(([" ".join(s.split()) for s in selectors.split(",")], declarations))
    return rules


def _declared(selector: str) -> dict[str, str]:
    """What the rules naming exactly ``selector`` declare, later rules winning."""
    merged: dict[str, str] = {}
    for selectors, declarations in _css_rules():
        if selector in selectors:
            merged |= declarations
    return merged


@pytest.mark.parametrize("selector", ["input:focus", "textarea:focus", "select:focus"])
def test_focused_form_controls_have_a_dark_ring_inside_the_yellow_outline(selector):
    style = _declared(selector)

    assert YELLOW in style.get("outline", ""), style
    # A dark inset ring is drawn inside the control, so the outline cannot cover it.
    assert "inset" in style.get("box-shadow", "") and DARK in style["box-shadow"], style


def test_focused_radios_and_checkboxes_have_a_dark_ring_that_shows():
    style = _declared(".form-check-input:focus")

    assert DARK in style.get("outline", "") or DARK in style.get("box-shadow", ""), style


def test_a_focused_button_turns_yellow_with_a_dark_bar_not_covered_by_an_outline():
    style = _declared(".button:focus")

    assert style.get("background") == YELLOW or style.get("background-color") == YELLOW
    assert style.get("color") == DARK
    assert DARK in style.get("box-shadow", "")
    assert "transparent" in style.get("outline", style.get("outline-color", "")), style


def test_a_focused_error_summary_link_is_dark_on_yellow():
    assert _declared(".error-summary__list a:focus").get("color") == DARK


def test_links_keep_their_yellow_highlight_on_focus():
    style = _declared("a:focus")

    assert style.get("background") == YELLOW and style.get("color") == DARK


def test_the_focused_site_name_is_dark_on_yellow_not_white():
    assert _declared(".site-header__name:focus").get("color") == DARK


def test_a_focused_links_dark_bar_is_not_covered_by_an_outline():
    style = _declared("a:focus")

    assert f"0 4px {DARK}" in style.get("box-shadow", ""), style
    assert "transparent" in style.get("outline-color", ""), style


# --- 4. the reminder on routine confirmation pages is calm, not the 999 card ----------------


def _relative_luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted([_relative_luminance(a), _relative_luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _confirmation(client, sheet, form: str, level: str | None, valid: dict) -> str:
    data = dict(valid)
    if level:
        data[f"{form}-symptoms"] = [_flag(sheet, level)]
    url = REPORT_URL if form == "report" else CONSULTATION_URL
    return client.post(url, data, follow=True).content.decode()


@pytest.mark.parametrize("form", ["report", "consultation"])
@pytest.mark.parametrize("level", [None, "urgent"])
def test_routine_confirmation_reminder_is_a_calm_callout(
    client, spinal_metastases, valid_report, valid_consultation, form, level
):
    valid = valid_report if form == "report" else valid_consultation
    main = _main(_confirmation(client, spinal_metastases, form, level, valid))

    reminder = _section(main, "reminder-heading")
    assert "Do not wait for us if things get worse" in reminder
    assert '<span class="visually-hidden">Important: </span>' in reminder
    assert "care-card" not in reminder
    # The red 999 card and its "Immediate action required" are kept for "act now".
    assert "care-card--emergency" not in main
    assert "Immediate action required" not in main


def test_reminder_style_has_readable_text_and_links():
    html = Path(settings.BASE_DIR, "templates/leads/_emergency_reminder.html").read_text()
    classes = re.search(r'<section class="([^"]+)"', html).group(1).split()
    style: dict[str, str] = {}
    for name in classes:
        style |= _declared(f".{name}")
    background = style.get("background-color", style.get("background", "#fff"))
    text = style.get("color", DARK)

    assert re.fullmatch(r"#[0-9a-f]{3}|#[0-9a-f]{6}", background), style
    assert _contrast(text, background) >= 4.5
    for link in ("#005eb8", "#330072"):  # a, a:visited
        assert _contrast(link, background) >= 4.5
    left = style.get("border-left", "")
    assert DARK in left or "#4c6272" in left, style


def test_emergency_confirmation_still_leads_with_the_red_card(
    client, spinal_metastases, valid_report
):
    main = _main(_confirmation(client, spinal_metastases, "report", "emergency", valid_report))

    assert "care-card--emergency" in main
    assert 'id="reminder-heading"' not in main


# --- 5. the title says what the h1 says ---------------------------------------------------


@pytest.mark.parametrize(
    ("form", "level", "title"),
    [
        ("report", "urgent", None),  # None: the outcome's own headline
        ("consultation", "urgent", None),
        ("report", "emergency", None),
        ("consultation", "emergency", None),
        ("report", None, "Your report is on its way"),
        ("consultation", None, "We have your request"),
    ],
)
def test_confirmation_title_matches_the_main_heading(
    client, spinal_metastases, valid_report, valid_consultation, form, level, title
):
    valid = valid_report if form == "report" else valid_consultation
    html = _confirmation(client, spinal_metastases, form, level, valid)
    title = title or escape(OUTCOMES[level].headline)

    assert _title(html).startswith(f"{title} –")
    h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", _main(html), re.S).group(1)
    assert title in h1


# --- 6. the consultation promise, said the same way -----------------------------------------


PROMISE = "We aim to contact you"


def test_consultation_form_and_confirmation_make_the_same_promise(
    client, spinal_metastases, valid_consultation
):
    sheet = _main(client.get(spinal_metastases.get_absolute_url()).content.decode())
    sent = _main(_confirmation(client, spinal_metastases, "consultation", None, valid_consultation))

    form_panel = sheet[sheet.index('id="consultation-form"') :]
    for page in (form_panel, sent):
        text = " ".join(re.sub(r"<[^>]+>", "", page).split())
        assert f"{PROMISE} within one working day" in text
    assert "reply within" not in sheet


def test_forms_heading_names_who_will_contact_you(client, spinal_metastases):
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    heading = re.search(r'<h2 id="lead-forms-heading">(.*?)</h2>', html).group(1)
    assert "specialist" not in heading
    assert "clinic team" in heading
    assert "a member of the clinic team will" in html


# --- found in a browser walkthrough (phone, keyboard, screen reader) -------------------------


@pytest.mark.parametrize(
    ("url", "form"), [(REPORT_URL, "report request"), (CONSULTATION_URL, "consultation request")]
)
def test_the_error_summary_names_the_form_and_each_error_says_it_is_one(
    client, spinal_metastases, url, form
):
    """Both forms ask for "Your name": "Enter your name" alone does not say which one. A
    screen reader reads a field's hint and error as one description: "…starting with + Enter
    a phone number" ran the two together."""
    html = client.post(url, {}).content.decode()

    assert f">There is a problem with your {form}</h2>" in html
    prefix = url.split("/")[-2]
    error = re.search(rf'<p id="error_1_id_{prefix}-name">(.*?)</p>', html).group(1)
    assert error == '<strong><span class="visually-hidden">Error: </span>Enter your name</strong>'
    consent = re.search(rf'<p id="error_1_id_{prefix}-consent">(<strong>.*?</strong>)</p>', html)
    assert consent.group(1).startswith('<strong><span class="visually-hidden">Error: </span>')
    assert f'<a href="#id_{prefix}-name">Enter your name</a>' in html  # the summary: no prefix


def test_a_table_that_may_scroll_sideways_can_be_reached_and_is_named(client, spinal_metastases):
    html = client.get(f"/factsheets/{SLUG}/").content.decode()

    regions = re.findall(
        r'<div class="table-container" role="region" tabindex="0" '
        r'aria-labelledby="(table-caption-\d+)">\s*<table>\s*<caption id="(table-caption-\d+)">',
        html,
    )
    assert len(regions) == html.count("<table>") == 2
    assert all(labelled_by == caption for labelled_by, caption in regions)
