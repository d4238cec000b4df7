"""The site in a real browser: Debian's Chromium driven by Playwright, against the site under
gunicorn on the test database, with the Celery worker and the SMTP server running.

Screenshots land in test-artifacts/screenshots/ (not committed) for a person to look at.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from pypdf import PdfReader

from factsheets.services import CONTENT_DIR, load_shipped_content
from leads.models import ConsultationRequest, ReportRequest
from tests.db_locks import raw_connections, sessions_waiting_on_a_lock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SHEET = "/factsheets/spinal-metastases/"
# The sheets as shipped, read from their files rather than from what the site loaded of them.
CONTENT = {
    content["slug"]: content
    for content in (json.loads(path.read_text()) for path in sorted(CONTENT_DIR.glob("*.json")))
}


@pytest.fixture(scope="session")
def chromium():
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def sheets():
    return {sheet.slug: sheet for sheet, _ in load_shipped_content()}


@pytest.fixture
def new_page(chromium, site_server):
    contexts = []

    def open_page(*, viewport=DESKTOP, javascript=True, tools=True):
        # ``tools``: the tests inject axe-core and test styles, which the site's own CSP
        # rightly blocks; the site itself is checked under its CSP in test_no_csp_violations.
        context = chromium.new_context(
            viewport=viewport,
            java_script_enabled=javascript,
            base_url=site_server,
            bypass_csp=tools,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    # Let the server finish any request the browser had in flight before the test database
    # is emptied; a request still writing then can deadlock with the TRUNCATE.
    wait_until_no_other_session_is_busy()


def wait_until_no_other_session_is_busy(timeout: float = 30.0) -> None:
    """Return once no other client session on the test database (the site's, the worker's)
    is running a statement or holding a transaction open; fail, naming them, after
    ``timeout`` seconds rather than hang."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT pid, state, query FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND state <> 'idle'"
            )
            if not (busy := cursor.fetchall()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"sessions still busy on the test database: {busy}")
            time.sleep(0.05)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def focused_element(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement || {};"
        " return {id: e.id || '', tag: e.tagName || '', cls: String(e.className || '')}; }"
    )


def tab_to(page, element_id: str, limit: int = 200) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        if focused_element(page)["id"] == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach #{element_id} with the Tab key")


def submit(page, button: str) -> None:
    """Click a submit button and wait for the page it leads to, as a person would."""
    with page.expect_navigation():
        page.locator(button).click()
    page.wait_for_load_state()


def submit_empty(page, form_id: str) -> None:
    page.goto(SHEET)
    submit(page, f"#{form_id} button[type=submit]")


# --- the journey ---------------------------------------------------------------------------


def test_keyboard_journey_from_home_to_both_emails(new_page, sheets, worker, smtp, settings):
    page = new_page()
    page.goto("/")
    screenshot(page, "home-desktop")
    tab_to(page, "site-search-q")
    page.keyboard.type("metastases")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Spinal metastases", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{SHEET}")

    emergency = page.locator(".care-card--emergency").first
    assert emergency.is_visible()
    assert "Call 999 or go to A&E now" in emergency.inner_text()

    tab_to(page, "id_report-name")
    page.keyboard.type("Zoë Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("zoe.keyboard@example.com")
    tab_to(page, "id_report-consent")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/report/sent/**")
    assert page.get_by_role("heading", name="Your report is on its way").is_visible()

    page.goto(SHEET)
    tab_to(page, "id_consultation-name")
    page.keyboard.type("Siobhán Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("siobhan@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("07911 123456")
    tab_to(page, "id_consultation-contact_method_0")
    page.keyboard.press("Space")
    tab_to(page, "id_consultation-description")
    page.keyboard.type("Back pain for a month.")
    tab_to(page, "id_consultation-pain_duration_0")
    page.keyboard.press("Space")
    tab_to(page, "id_consultation-consent")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/consultation/sent/**")
    assert "within one working day" in page.inner_text("main")

    messages = smtp.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted(
        ["zoe.keyboard@example.com", settings.CLINIC_NOTIFY_EMAIL]
    )
    assert ReportRequest.objects.get().name == "Zoë Keyboard"
    assert ConsultationRequest.objects.get().phone == "+447911123456"


@pytest.mark.parametrize(
    ("form_id", "first_error"),
    [("report-form", "Enter your name"), ("consultation-form", "Enter your name")],
)
def test_empty_submit_focuses_the_error_summary_with_links_to_fields(
    new_page, sheets, form_id, first_error
):
    page = new_page()
    submit_empty(page, form_id)
    # autofocus is applied once the page has loaded; give it that moment.
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.classList.contains('error-summary')"
    )

    focused = focused_element(page)
    assert "error-summary" in focused["cls"]
    links = page.locator(".error-summary a")
    assert links.first.inner_text() == first_error
    href = links.first.get_attribute("href")
    links.first.focus()
    page.keyboard.press("Enter")
    assert f"#{focused_element(page)['id']}" == href
    screenshot(page, f"{form_id}-errors-desktop")


def test_an_emergency_tick_on_a_form_with_errors_focuses_the_999_panel(new_page, sheets):
    page = new_page()
    page.goto(SHEET)
    page.check("#report-form input[name=report-symptoms] >> nth=0")  # the first sign: 999
    submit(page, "#report-form button[type=submit]")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id !== 'main'"
        " && document.activeElement.tagName !== 'BODY'"
    )

    assert "care-card--outcome" in focused_element(page)["cls"]
    assert page.locator("#outcome-heading").inner_text().endswith("Call 999 or go to A&E now")
    assert page.locator(".error-summary a").first.inner_text() == "Enter your name"


@pytest.mark.parametrize("field", ["consultation-phone", "consultation-contact_method"])
def test_an_error_link_shows_the_fields_question_and_error_not_just_its_box(
    new_page, sheets, field
):
    """Following a link in the error summary on a phone must not leave the label, hint and
    error scrolled off above the box (a blank box, its purpose out of sight)."""
    page = new_page(viewport=PHONE)
    submit_empty(page, "consultation-form")
    wrapper = page.locator(f"#div_id_{field}")

    page.locator(f".error-summary a[href^='#id_{field}']").click()

    question = wrapper.locator("label, legend").first.bounding_box()
    error = wrapper.locator(".invalid-feedback").bounding_box()
    control = wrapper.locator("input").first.bounding_box()
    assert page.evaluate("window.scrollY") > 0  # it did jump
    assert 0 <= question["y"] < error["y"] < control["y"]
    assert control["y"] + control["height"] <= PHONE["height"]
    # The field is marked as a whole, radios included, not only by red text.
    bar = wrapper.evaluate("e => getComputedStyle(e).borderLeft")
    assert bar.startswith("4px solid rgb(213, 40, 27)")
    screenshot(page, f"error-link-{field}-phone")


@pytest.mark.parametrize(
    "viewport",
    [{"width": 320, "height": 568}, {"width": 640, "height": 450}],  # small phone; 200% zoom
    ids=["320x568", "640x450"],
)
def test_the_999_card_starts_on_the_first_screen(new_page, sheets, viewport):
    page = new_page(viewport=viewport)
    checked = set()
    for slug, sheet in sheets.items():
        if not sheet.red_flags.filter(level="emergency").exists():
            continue
        page.goto(f"/factsheets/{slug}/")
        heading = page.locator("#emergency-heading").bounding_box()
        assert heading["y"] + heading["height"] <= viewport["height"], slug
        checked.add(slug)

    with_999 = {
        slug
        for slug, content in CONTENT.items()
        if any(flag["level"] == "emergency" for flag in content["red_flags"])
    }
    assert with_999  # the files were read: all seven shipped sheets have 999 signs today
    assert checked == with_999


@pytest.mark.parametrize("posted", [None, "report-form", "consultation-form"])
def test_each_form_is_named_by_its_heading(new_page, sheets, posted):
    """Both forms ask for "Your name" and "Email address": in a screen reader's list of
    fields and landmarks the forms' names tell them apart, shown again with errors too."""
    page = new_page()
    if posted:
        submit_empty(page, posted)
    else:
        page.goto(SHEET)

    report = page.get_by_role("form", name="Get this report by email", exact=True)
    consultation = page.get_by_role("form", name="Book a consultation", exact=True)
    assert report.locator("#id_report-name").count() == 1
    assert consultation.locator("#id_consultation-name").count() == 1


def test_in_a_list_of_links_none_sounds_like_a_call_to_make(new_page, sheets):
    """A screen reader's list of links shows each link's words alone: the links under the
    forms say where they go (the 999 list above), not "Call 999 or go to A&E now"."""
    page = new_page()
    page.goto(SHEET)

    names = page.locator("a").evaluate_all("links => links.map(a => a.innerText.trim())")
    assert [name for name in names if name.lower().startswith("call")] == []
    to_the_list = page.get_by_role("link", name="the signs that need 999 or A&E now")
    assert to_the_list.count() == 2
    assert {to_the_list.nth(i).get_attribute("href") for i in (0, 1)} == {"#emergency-heading"}


def test_forms_work_with_javascript_off(new_page, sheets, valid_report, valid_consultation):
    page = new_page(javascript=False)
    page.goto(SHEET)
    page.fill("#id_report-name", "No Script")
    page.fill("#id_report-email", "noscript@example.com")
    page.check("#id_report-consent")
    submit(page, "#report-form button[type=submit]")
    assert page.get_by_role("heading", name="Your report is on its way").is_visible()

    page.goto(SHEET)
    for name, value in valid_consultation.items():
        field = f"#id_{name}"
        if name.endswith(("contact_method", "pain_duration")):
            page.check(f"input[name='{name}'][value='{value}']")
        elif name.endswith("consent"):
            page.check(field)
        else:
            page.fill(field, value)
    submit(page, "#consultation-form button[type=submit]")
    assert page.get_by_role("heading", name="We have your request").is_visible()
    assert ReportRequest.objects.count() == 1
    assert ConsultationRequest.objects.count() == 1


def test_emergency_tick_shows_the_999_panel_first(new_page, sheets):
    page = new_page(viewport=PHONE)
    page.goto(SHEET)
    page.fill("#id_report-name", "Tick Emergency")
    page.fill("#id_report-email", "tick@example.com")
    page.locator("input[name='report-symptoms']").first.check()
    page.check("#id_report-consent")
    submit(page, "#report-form button[type=submit]")

    first_heading = page.locator("main h1, main h2").first
    assert "Call 999 or go to A&E now" in first_heading.inner_text()
    screenshot(page, "emergency-confirmation-phone")


# --- every page type: axe-core and the layout checks ----------------------------------------


def page_urls(sheets) -> dict[str, str]:
    urls = {"home": "/", "search": "/search/?q=back+pain", "search-empty": "/search/?q=zzyzx"}
    urls |= {f"sheet-{slug}": f"/factsheets/{slug}/" for slug in sheets}
    urls |= {"privacy": "/privacy/", "not-found": "/factsheets/no-such-sheet/"}
    return urls


def confirmation_pages(page) -> dict[str, str]:
    """Reach each confirmation page the way a patient does, returning its URL by name."""
    found = {}
    for name, form, field_values, ticks in [
        ("report-sent", "report", {"name": "A", "email": "a@example.com"}, 0),
        ("report-sent-emergency", "report", {"name": "B", "email": "b@example.com"}, 1),
        (
            "consultation-sent",
            "consultation",
            {"name": "C", "email": "c@example.com", "phone": "07911 123456",
             "description": "Back pain."},
            0,
        ),
    ]:  # fmt: skip
        page.goto(SHEET)
        for field, value in field_values.items():
            page.fill(f"#id_{form}-{field}", value)
        if form == "consultation":
            page.check("#id_consultation-contact_method_0")
            page.check("#id_consultation-pain_duration_0")
        if ticks:
            page.locator(f"input[name='{form}-symptoms']").first.check()
        page.check(f"#id_{form}-consent")
        submit(page, f"#{form}-form button[type=submit]")
        found[name] = page.url
    return found


def test_every_page_type_has_no_wcag_violations(new_page, sheets):
    page = new_page()
    urls = page_urls(sheets) | confirmation_pages(new_page())
    problems = {}
    for name, url in urls.items():
        page.goto(url)
        if violations := axe_violations(page):
            problems[name] = violations
    for form_id in ("report-form", "consultation-form"):
        submit_empty(page, form_id)
        if violations := axe_violations(page):
            problems[f"{form_id}-errors"] = violations

    assert problems == {}


def test_pages_fit_a_320px_screen_and_200_percent_text(new_page, sheets):
    narrow = new_page(viewport={"width": 320, "height": 640})
    wide = new_page()
    for url in ["/", SHEET, "/search/?q=back", "/privacy/"]:
        narrow.goto(url)
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 320, url
        wide.goto(url)
        wide.add_style_tag(content="html { font-size: 200% !important; }")
        assert wide.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"], url
    narrow.goto(SHEET)
    screenshot(narrow, "sheet-320")


@pytest.mark.parametrize("width", [375, 320])
def test_no_page_scrolls_sideways_on_a_phone_with_200_percent_text(new_page, sheets, width):
    """Long words (a sheet's title, a search result's heading) wrap instead of running off
    the screen; tables scroll inside their own box, not the page."""
    page = new_page(viewport={"width": width, "height": 740})
    urls = page_urls(sheets) | confirmation_pages(new_page())
    wide = {}

    def measure(name):
        page.add_style_tag(content="html { font-size: 200% !important; }")
        if (scroll_width := page.evaluate("document.documentElement.scrollWidth")) > width:
            wide[name] = scroll_width

    for name, url in urls.items():
        page.goto(url)
        measure(name)
    for form_id in ("report-form", "consultation-form"):
        submit_empty(page, form_id)
        measure(f"{form_id}-errors")

    assert wide == {}


def test_phone_and_desktop_screenshots_for_a_person_to_look_at(new_page, sheets):
    """Each screenshot shows the page its name says, so a person looks at the right thing."""
    for name, viewport in [("phone", PHONE), ("desktop", DESKTOP)]:
        page = new_page(viewport=viewport)
        page.goto("/")
        assert page.locator("h1").inner_text() == "Back pain: when is it serious?"
        screenshot(page, f"home-{name}")
        page.goto(SHEET)
        assert page.locator("h1").inner_text() == "Spinal metastases"
        screenshot(page, f"sheet-{name}")
        for form_id, request in [
            ("report-form", "report request"),
            ("consultation-form", "consultation request"),
        ]:
            submit_empty(page, form_id)
            title = page.locator(".error-summary #error-summary-title")
            assert title.inner_text() == f"There is a problem with your {request}"
            screenshot(page, f"{form_id}-errors-{name}")
        page.goto(SHEET)
        page.fill("#id_report-name", "Screenshot")
        page.fill("#id_report-email", f"shot-{name}@example.com")
        page.locator("input[name='report-symptoms']").first.check()
        page.check("#id_report-consent")
        submit(page, "#report-form button[type=submit]")
        assert page.locator("#outcome-heading").inner_text().endswith("Call 999 or go to A&E now")
        screenshot(page, f"emergency-confirmation-{name}")


DARK_RGB = "rgb(33, 43, 50)"
YELLOW_RGB = "rgb(255, 235, 59)"


FOCUS_STYLE = (
    "e => { const s = getComputedStyle(e); return {outlineStyle: s.outlineStyle,"
    " outlineWidth: s.outlineWidth, outlineColor: s.outlineColor, shadow: s.boxShadow,"
    " background: s.backgroundColor}; }"
)


def focus_marks(before: dict, after: dict) -> list[str]:
    """What focusing drew that was not there before: an outline that shows (not a
    transparent one, which only forced-colours mode draws), a new shadow, a new background."""
    marks = []
    outline = [after[key] for key in ("outlineStyle", "outlineWidth", "outlineColor")]
    if (
        outline != [before[key] for key in ("outlineStyle", "outlineWidth", "outlineColor")]
        and after["outlineStyle"] != "none"
        and after["outlineWidth"] != "0px"
        and after["outlineColor"] not in {"transparent", "rgba(0, 0, 0, 0)"}
    ):
        marks.append(f"outline {after['outlineColor']}")
    if after["shadow"] != before["shadow"] and after["shadow"] != "none":
        marks.append(f"shadow {after['shadow']}")
    if after["background"] != before["background"]:
        marks.append(f"background {after['background']}")
    return marks


def test_focus_is_always_visible(new_page, sheets):
    """Every stop on the sheet, Tab after Tab, changes how it looks when focused: the focus
    yellow with the dark colour beside it (yellow alone is about 1.2:1 on white)."""
    page = new_page()
    page.goto(SHEET)
    seen = []
    for _ in range(200):
        page.keyboard.press("Tab")
        element = page.evaluate_handle("() => document.activeElement")
        name = element.evaluate(
            "e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${(e.innerText || '')"
            ".trim().slice(0, 40)}`"
        )
        if element.evaluate("e => e === document.body") or (seen and name == seen[0]):
            break  # past the last stop
        focused = element.evaluate(FOCUS_STYLE)
        element.evaluate("e => e.blur()")
        unfocused = element.evaluate(FOCUS_STYLE)
        element.evaluate("e => e.focus()")  # Tab goes on from here
        marks = " ; ".join(focus_marks(unfocused, focused))
        assert YELLOW_RGB in marks and DARK_RGB in marks, (name, unfocused, focused)
        seen.append(name)
    else:
        raise AssertionError("Tab never left the last stop on the page")

    # Every kind of stop on the sheet was among them.
    kinds = {name.split("#")[0] for name in seen}
    assert kinds >= {"a", "button", "input", "textarea", "div"}, kinds
    assert any("table-container" in name for name in seen), seen


def test_a_focused_table_or_main_content_shows_a_dark_ring_not_only_yellow(new_page, sheets):
    """Yellow alone is about 1.2:1 on white: a focused box needs the dark ring too, and
    nothing may paint over it."""
    page = new_page(viewport=PHONE)
    page.goto(SHEET)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    assert focused_element(page)["id"] == "main"
    main = page.evaluate("() => getComputedStyle(document.activeElement).boxShadow")
    # Inside the main content (it fills a phone's width): yellow at the edge, dark within.
    assert main.startswith(f"{YELLOW_RGB} 0px 0px 0px 4px inset, {DARK_RGB}"), main

    table = page.locator(".table-container").first
    table.focus()
    ring = table.evaluate(
        "e => { const s = getComputedStyle(e);"
        " return {outline: s.outlineColor, width: s.outlineWidth, shadow: s.boxShadow}; }"
    )
    assert ring["outline"] == DARK_RGB and ring["width"] == "4px", ring
    assert ring["shadow"] == f"{YELLOW_RGB} 0px 0px 0px 8px", ring
    screenshot(page, "table-focus-phone")


def test_emergency_and_urgent_differ_in_words_and_icon_not_only_colour(new_page, sheets):
    page = new_page()
    page.goto(SHEET)
    emergency = page.locator(".care-card--emergency h2").first
    urgent = page.locator(".care-card--urgent h2").first

    assert emergency.locator(".care-card__icon").count() == 1
    assert urgent.locator(".care-card__icon").count() == 0
    assert "Immediate action required:" in emergency.text_content()
    assert "Urgent advice:" in urgent.text_content()
    assert emergency.inner_text() != urgent.inner_text()


def test_sheet_page_is_light_and_makes_no_outside_requests(new_page, sheets, site_server):
    page = new_page()
    requests = []
    sizes = {}
    page.on("request", lambda request: requests.append(request.url))

    def record(response):
        if response.request.resource_type in {"document", "stylesheet"}:
            sizes[response.url] = len(response.body())

    page.on("response", record)
    page.goto(SHEET, wait_until="networkidle")

    assert requests and all(url.startswith(site_server) for url in requests), requests
    assert not [url for url in requests if url.endswith(".js")]
    assert sum(sizes.values()) < 60 * 1024, sizes


def test_print_stylesheet_hides_the_forms(new_page, sheets):
    page = new_page()
    page.goto(SHEET)
    page.emulate_media(media="print")

    assert page.locator(".lead-forms").is_hidden()
    assert page.locator(".care-card--emergency").first.is_visible()


def _border_width(page, selector: str) -> float:
    return page.locator(selector).first.evaluate(
        "e => parseFloat(getComputedStyle(e).borderTopWidth)"
    )


def test_on_paper_the_999_card_has_the_heaviest_border_and_headings_stay_with_their_text(
    new_page, sheets
):
    """Printed without colour, only the border's weight tells the 999 card from the urgent one."""
    page = new_page()
    page.goto(SHEET)
    page.emulate_media(media="print")

    assert _border_width(page, ".care-card--emergency") >= 2 * _border_width(
        page, ".care-card--urgent"
    )
    breaks = page.evaluate(
        "() => [...document.querySelectorAll('main h2')].map(h => getComputedStyle(h).breakAfter)"
    )
    assert set(breaks) == {"avoid"}, breaks


def test_a_printed_sheet_has_no_search_box_or_form_links_and_gives_whole_addresses(
    new_page, sheets, tmp_path, settings
):
    page = new_page()
    page.goto("/factsheets/osteoporosis/")
    pdf = tmp_path / "osteoporosis.pdf"
    page.pdf(path=str(pdf), format="A4")  # as printed: print media, backgrounds off

    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Search fact sheets" not in text
    assert "Get this report by email" not in text and "Book a consultation" not in text
    unwrapped = text.replace("\n", "")
    related = CONTENT["osteoporosis"]["related"]
    assert len(related) == 4
    for entry in related:
        address = f"{settings.SITE_URL}/factsheets/{entry['slug']}/"
        assert f"({address})" in unwrapped, entry["title"]


def test_a_printed_confirmation_is_black_on_white_in_a_border(new_page, sheets):
    """Backgrounds are not printed: the green panel's white text would be all but invisible."""
    page = new_page()
    confirmations = confirmation_pages(page)
    for name in ("report-sent", "report-sent-emergency", "consultation-sent"):
        page.goto(confirmations[name])
        page.emulate_media(media="print")
        panel = page.locator(".panel--confirmation").evaluate(
            "p => { const s = getComputedStyle(p), h = getComputedStyle(p.querySelector('h1, h2'));"
            " return {text: s.color, heading: h.color, border: s.borderTopStyle}; }"
        )
        assert panel == {"text": "rgb(0, 0, 0)", "heading": "rgb(0, 0, 0)", "border": "solid"}, name
        page.emulate_media(media="screen")


# --- HTML validity ---------------------------------------------------------------------------


def test_every_page_type_is_valid_html(sheets, tmp_path, valid_report, valid_consultation):
    client = Client()
    pages = {name: client.get(url) for name, url in page_urls(sheets).items()}
    pages["report-errors"] = client.post(f"{SHEET}report/", {})
    pages["consultation-errors"] = client.post(f"{SHEET}consultation/", {})
    statuses = {name: response.status_code for name, response in pages.items()}
    assert statuses == {name: 404 if name == "not-found" else 200 for name in pages}
    emergency = sheets["spinal-metastases"].red_flags.filter(level="emergency").first().pk
    emergency_report = valid_report | {"report-symptoms": [emergency]}
    for name, data, url in [
        ("report-sent", valid_report, f"{SHEET}report/"),
        ("report-sent-emergency", emergency_report, f"{SHEET}report/"),
        ("consultation-sent", valid_consultation, f"{SHEET}consultation/"),
    ]:
        pages[name] = client.post(url, data, follow=True)
        # Saved and sent on to the page that says so, not the form shown again.
        assert [status for _, status in pages[name].redirect_chain] == [302], name
        assert pages[name].status_code == 200, name
        assert "/sent/" in pages[name].redirect_chain[-1][0], name
    files = []
    for name, response in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files.append(str(path))

    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    messages = json.loads(result.stderr)["messages"]  # vnu's report, even when empty
    errors = [
        f"{Path(m['url']).stem}: {m['message']} ({m.get('extract', '')[:80]!r})" for m in messages
    ]
    assert errors == []
    assert result.returncode == 0, result.stderr


def test_pages_and_admin_raise_no_csp_violations(new_page, sheets, django_user_model, site_server):
    django_user_model.objects.create_superuser("csp", "csp@example.com", "a-long-pass-phrase")
    page = new_page(tools=False)
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for url in ["/", SHEET, "/search/?q=back", "/admin/login/"]:
        page.goto(url, wait_until="networkidle")
    page.fill("#id_username", "csp")
    page.fill("#id_password", "a-long-pass-phrase")
    submit(page, "input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto("/admin/leads/consultationrequest/", wait_until="networkidle")
    page.goto("/admin/factsheets/factsheet/", wait_until="networkidle")

    # Signed in, on the fact sheets' list (not sent back to the login page).
    assert page.url == f"{site_server}/admin/factsheets/factsheet/"
    assert page.locator("h1").inner_text() == "Select fact sheet to change"
    assert problems == []


def test_a_double_click_on_save_in_admin_saves_once_and_says_so(
    new_page, sheets, django_user_model, site_server
):
    """While a save is under way (held here at the sheet's row, as a busy server would), a
    second click would send a second post; arriving after the first was saved, it would be
    refused as a stale page and tell the editor that their saved changes were lost."""
    from factsheets.models import FactSheet

    django_user_model.objects.create_superuser("ed", "ed@example.com", "a-long-pass-phrase")
    sheet = sheets["spinal-metastases"]
    page = new_page(tools=False)
    page.goto("/admin/login/")
    page.fill("#id_username", "ed")
    page.fill("#id_password", "a-long-pass-phrase")
    submit(page, "input[type=submit]")
    change = f"/admin/factsheets/factsheet/{sheet.pk}/change/"
    page.goto(change)
    page.fill("#id_summary", "Edited, then Save clicked twice.")
    posts = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )
    locker, watcher = raw_connections(connection, 2)
    watcher.autocommit = True
    with locker.cursor() as cursor:
        cursor.execute("SELECT id FROM factsheets_factsheet WHERE id = %s FOR UPDATE", [sheet.pk])
    try:
        save = page.locator("input[name=_save]")
        save.scroll_into_view_if_needed()
        box = save.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        sessions_waiting_on_a_lock(watcher, count=1, query_like='%"factsheets_factsheet"%')
        page.mouse.click(x, y)  # the page is still there while its post waits
        locker.rollback()
        # A second post would have been sent at the click and its answer would be this page.
        page.wait_for_selector("text=/was changed successfully|Someone else saved changes/")
    finally:
        locker.close()
        watcher.close()

    assert posts == [f"{site_server}{change}"]
    assert "was changed successfully" in page.content()
    assert "Someone else saved changes" not in page.content()
    saved = FactSheet.objects.get(pk=sheet.pk)
    assert saved.summary == "Edited, then Save clicked twice."
    assert saved.content_version == sheet.content_version + 1


def test_browser_tests_use_debians_chromium_not_a_download(chromium):
    assert re.match(r"^\d+\.", chromium.version)
    assert Path("/usr/bin/chromium").exists()
