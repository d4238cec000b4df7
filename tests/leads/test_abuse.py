"""Hostile and abusive input: each gets a clear answer or a clean 4xx; nothing saved wrongly."""

import io
import re
import unicodedata
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.utils.html import escape
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit import core as ratelimit
from pypdf import PdfReader

from leads import guards
from leads import services as lead_services
from leads.models import ConsultationRequest, ReportRequest
from reports import services as report_services

REPORT_URL = "/factsheets/spinal-metastases/report/"
CONSULTATION_URL = "/factsheets/spinal-metastases/consultation/"


@override_settings(FORM_RATE_PER_IP="3/h", FORM_RATE_PER_EMAIL="100/h")
@pytest.mark.parametrize(
    ("url", "prefix", "data_fixture"),
    [
        (REPORT_URL, "report", "valid_report"),
        (CONSULTATION_URL, "consultation", "valid_consultation"),
    ],
)
def test_over_the_limit_the_form_comes_back_as_typed_with_when_to_send_it_again(
    client, spinal_metastases, url, prefix, data_fixture, request
):
    data = request.getfixturevalue(data_fixture)
    model = ReportRequest if prefix == "report" else ConsultationRequest
    for n in range(3):
        response = client.post(url, data | {f"{prefix}-email": f"p{n}@example.com"})
        assert response.status_code == 302
    emergency = spinal_metastases.red_flags.filter(level="emergency").first().pk
    typed = data | {
        f"{prefix}-name": "Zoë Fourth-Try",
        f"{prefix}-email": "zoe.fourth@example.com",
        f"{prefix}-symptoms": [emergency],
    }

    response = client.post(url, typed)

    assert response.status_code == 429
    html = response.content.decode()
    main = html[html.index('<main id="main"') :]
    # First what to do about the sign ticked, then the problem, then the form as typed.
    headline, problem = (
        main.index("Call 999 or go to A&amp;E now"),
        main.index("There is a problem"),
    )
    assert headline < problem < main.index('value="Zoë Fourth-Try"')
    message = main[problem:].split("</li>")[0]
    assert "could not take this one" in message and "What you typed is still here" in message
    # The time left in the limit's window: up to an hour, so "in 36 minutes" or "in 1 hour".
    assert re.search(r"please send it again in \d+(\xa0|&nbsp;| )(minute|hour)", message), message
    assert 'value="zoe.fourth@example.com"' in main
    assert f'name="{prefix}-symptoms" value="{emergency}" ' in main and "checked" in main
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "no-store" in response["Cache-Control"]
    # The three taken before are kept; the fourth is not saved, nor sent.
    assert sorted(model.objects.values_list("email", flat=True)) == [
        "p0@example.com", "p1@example.com", "p2@example.com",
    ]  # fmt: skip


@override_settings(FORM_RATE_PER_IP="2/h", FORM_RATE_PER_EMAIL="2/h")
def test_only_posts_that_would_be_saved_use_up_the_limit(client, spinal_metastases, valid_report):
    """Mistakes sent back, a double click and a bot's post do not count: a patient who got
    the form wrong five times can still send it right the sixth."""
    no_consent = valid_report | {"report-consent": ""}
    for _ in range(5):
        assert client.post(REPORT_URL, no_consent).status_code == 200
    assert client.post(REPORT_URL, valid_report | {"report-website": "spam"}).status_code == 302

    first = client.post(REPORT_URL, valid_report)
    repeat = client.post(REPORT_URL, valid_report)  # the double click
    second = client.post(REPORT_URL, valid_report | {"report-name": "Ada P."})
    third = client.post(REPORT_URL, valid_report | {"report-name": "Ada Patient-Smith"})

    assert [r.status_code for r in (first, repeat, second, third)] == [302, 302, 302, 429]
    assert sorted(ReportRequest.objects.values_list("name", flat=True)) == ["Ada P.", "Ada Patient"]


def test_a_post_refused_at_the_limit_is_saved_when_sent_again_later(
    client, spinal_metastases, valid_report
):
    """The double-click guard must not take the refused post for one already taken."""
    with override_settings(FORM_RATE_PER_IP="1/h"):
        assert client.post(REPORT_URL, valid_report).status_code == 302
        again = valid_report | {"report-name": "Second Request"}
        assert client.post(REPORT_URL, again).status_code == 429
    # Later (here: a new allowance) the very same post is taken and saved.
    with override_settings(FORM_RATE_PER_IP="10/h"):
        response = client.post(REPORT_URL, again)

    assert response.status_code == 302
    assert ReportRequest.objects.filter(name="Second Request").count() == 1


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="2/h")
def test_too_many_posts_for_one_email_are_limited_across_addresses(spinal_metastases, valid_report):
    def post_from(ip: str, name: str):
        return Client(REMOTE_ADDR=ip).post(REPORT_URL, valid_report | {"report-name": name})

    assert post_from("10.0.0.1", "One").status_code == 302
    assert post_from("10.0.0.2", "Two").status_code == 302
    assert post_from("10.0.0.3", "Three").status_code == 429
    assert post_from("10.0.0.4", "Four").status_code == 429


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="100/h", FORM_RATE_PER_PHONE="2/h")
def test_too_many_requests_to_ring_one_number_are_limited_however_it_is_written(
    spinal_metastases, valid_consultation
):
    """Someone asking the clinic to ring one number again and again, from many addresses,
    with or without an email, and writing the number differently each time. A request to be
    emailed is not counted against its number: that may be a household's shared landline."""

    def post_from(ip: str, phone: str, email: str, method: str = "phone"):
        data = valid_consultation | {
            "consultation-phone": phone,
            "consultation-email": email,
            "consultation-contact_method": method,
        }
        return Client(REMOTE_ADDR=ip).post(CONSULTATION_URL, data)

    assert post_from("10.0.0.1", "07911 123456", "").status_code == 302
    assert post_from("10.0.0.2", "07911 123456", "c@example.com", "email").status_code == 302
    assert post_from("10.0.0.3", "+44 7911 123456", "a@example.com").status_code == 302
    over = post_from("10.0.0.4", "(07911) 123-456", "b@example.com")
    assert over.status_code == 429
    assert "b@example.com" in over.content.decode()  # the form comes back as typed
    assert "this phone number in a short time" in over.content.decode()
    assert post_from("10.0.0.5", "07911 123456", "d@example.com", "email").status_code == 302
    assert post_from("10.0.0.6", "020 7946 0018", "").status_code == 302  # another number
    assert ConsultationRequest.objects.count() == 5


@override_settings(FORM_RATE_PER_IP="50/h", FORM_RATE_PER_EMAIL="10/h", FORM_RATE_PER_PHONE="7/h")
def test_the_rate_limit_counters_do_not_tell_a_cache_reader_who_sent_a_request(
    client, spinal_metastases, valid_consultation
):
    """Someone who can read the cache (Redis) and guesses an address, email, phone number or
    IP, must not learn from the counters' names that it asked for a consultation this hour."""
    email = "jane.private@example.com"
    posted = client.post(CONSULTATION_URL, valid_consultation | {"consultation-email": email})
    assert posted.status_code == 302

    def counter(group: str, rate: str, value: str) -> int | None:
        window = ratelimit._get_window(value, ratelimit._split_rate(rate)[1])
        return cache.get(ratelimit._make_cache_key(group, window, rate, value, ratelimit.ALL))

    counters = [
        ("leads.consultation.email", "10/h", "janeprivate@example.com"),  # as counted
        ("leads.consultation.ip", "50/h", "127.0.0.1"),
        ("leads.consultation.phone", "7/h", "+447911123456"),
    ]
    with override_settings(RATELIMIT_HASH_ALGORITHM="hashlib.sha256"):  # the library's default
        assert [counter(*guess) for guess in counters] == [None, None, None]
    # They are there, counting, under names only the site's secret makes.
    assert [counter(*guess) for guess in counters] == [1, 1, 1]


def test_a_bot_filling_the_honeypot_gets_a_normal_page_and_nothing_is_saved(
    client, spinal_metastases, valid_report, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            REPORT_URL, valid_report | {"report-website": "http://spam.example"}, follow=True
        )

    assert "Your report is on its way" in response.content.decode()
    assert ReportRequest.objects.count() == 0
    assert callbacks == []


def test_the_honeypot_is_hidden_from_people(client, spinal_metastases):
    css = client.get("/static/css/site.css")
    html = client.get(spinal_metastases.get_absolute_url()).content.decode()

    assert 'id="div_id_report-website"' in html
    assert "#div_id_report-website" in b"".join(css.streaming_content).decode()


@pytest.mark.parametrize(
    ("url", "data_fixture"),
    [(REPORT_URL, "valid_report"), (CONSULTATION_URL, "valid_consultation")],
)
def test_a_double_click_creates_one_request(client, spinal_metastases, url, data_fixture, request):
    data = request.getfixturevalue(data_fixture)

    first = client.post(url, data)
    second = client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert first["Location"].split("?")[0] == second["Location"].split("?")[0]
    model = ReportRequest if url == REPORT_URL else ConsultationRequest
    assert model.objects.count() == 1


def test_a_double_click_after_an_emergency_tick_still_shows_the_999_panel(
    client, spinal_metastases, valid_report
):
    flag = spinal_metastases.red_flags.filter(level="emergency").first()
    data = valid_report | {"report-symptoms": [flag.pk]}
    client.post(REPORT_URL, data)

    again = client.post(REPORT_URL, data, follow=True)

    assert "Call 999 or go to A&amp;E now" in again.content.decode()
    assert ReportRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "data_fixture", "table"),
    [
        (REPORT_URL, "valid_report", "leads_reportrequest"),
        (CONSULTATION_URL, "valid_consultation", "leads_consultationrequest"),
    ],
)
def test_sending_again_after_a_failed_save_saves_it(
    spinal_metastases, url, data_fixture, table, request
):
    """The double-click guard must not take a retry after a failure for a repeat."""
    data = request.getfixturevalue(data_fixture)
    with connection.cursor() as cursor:  # PostgreSQL refuses the insert, as if it went away
        cursor.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    browser = Client(raise_request_exception=False)

    failed = browser.post(url, data)

    assert failed.status_code == 500
    assert "it may not have reached us: please send it again" in failed.content.decode()
    model = ReportRequest if url == REPORT_URL else ConsultationRequest
    assert model.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER refuse ON {table}")

    again = browser.post(url, data)

    assert again.status_code == 302
    assert model.objects.count() == 1


def test_a_post_saved_without_the_mark_cannot_clear_the_first_posts_mark(settings):
    """After DUPLICATE_PENDING_WAIT a repeat is saved too, without the mark; if its save then
    fails, the first post, still being saved, keeps its mark, so a third post still waits."""
    settings.DUPLICATE_PENDING_WAIT = 0
    submission = {"form": "report", "sheet": 1, "data": {"name": "Ada"}}

    first = guards.first_submission(**submission, outcome="none")
    second = guards.first_submission(**submission, outcome="none")
    guards.forget_submission(second, **submission)  # the second's save failed
    third = guards.first_submission(**submission, outcome="none")

    assert (first.holds_mark, second.holds_mark, third.holds_mark) == (True, False, False)
    guards.forget_submission(first, **submission)  # the first's save failed too
    assert guards.first_submission(**submission, outcome="none").holds_mark


def test_cr_lf_in_a_name_never_reaches_an_email_header(spinal_metastases, mailoutbox, client):
    """The message as Django builds it, for `make test-unit`; the bytes the SMTP server is
    given are checked in tests/integration/test_delivery.py."""
    client.post(
        REPORT_URL,
        {"report-name": "Eve\r\nBcc: victim@mail.example", "report-email": "eve@example.com",
         "report-consent": "on"},
    )  # fmt: skip
    report = ReportRequest.objects.get()

    report_services.deliver_report(request_id=report.pk)

    raw = mailoutbox[0].message().as_string()
    headers = raw.split("\n\n", 1)[0]
    assert "victim@mail.example" not in headers
    assert mailoutbox[0].recipients() == ["eve@example.com"]


@pytest.mark.parametrize(
    "name", ["Zoë", "Siobhán", "Nguyễn Thị Minh", "王秀英", "שרה כהן", "محمد علي"]
)
def test_unicode_names_are_kept_intact_in_page_email_and_pdf(
    client, spinal_metastases, mailoutbox, name
):
    client.post(
        REPORT_URL, {"report-name": name, "report-email": "u@example.com", "report-consent": "on"}
    )
    report = ReportRequest.objects.get()
    assert report.name == name

    report_services.deliver_report(request_id=report.pk)

    message = mailoutbox[0]
    assert f"Dear {name}," in message.body
    assert f"Dear {name}," in message.alternatives[0].content
    [(_, pdf, _)] = message.attachments
    first_page = unicodedata.normalize("NFC", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    for word in name.split():
        assert word in first_page


def test_html_in_every_field_is_escaped_on_the_re_shown_page(client, spinal_metastases):
    evil = "<img src=x onerror=alert(1)>"
    data = {f"consultation-{field}": evil for field in
            ("name", "email", "phone", "best_time", "description", "contact_method")}  # fmt: skip

    html = client.post(CONSULTATION_URL, data).content.decode()

    assert evil not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- admin login ------------------------------------------------------------------------------


def login(browser: Client, username: str, password: str, **extra):
    browser.get("/admin/login/")
    return browser.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, **extra}
    )


def test_admin_login_locks_out_after_repeated_failures(django_user_model, settings):
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(browser, "staff", "wrong").status_code == 200  # the form again
    assert login(browser, "staff", "wrong").status_code == 429  # the last allowed failure

    locked = login(browser, "staff", "the-right-passphrase")

    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()
    assert browser.get("/admin/").status_code == 302  # not signed in


def test_behind_nginx_the_lock_out_counts_the_visitor_not_the_proxy(django_user_model, settings):
    """Every request reaches gunicorn from nginx (127.0.0.1); the visitor is in X-Real-IP."""
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "staff", "wrong")
    assert login(attacker, "staff", "the-right-passphrase").status_code == 429

    staff = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.7")
    login(staff, "staff", "the-right-passphrase")

    assert staff.get("/admin/").status_code == 200  # signed in: not locked out by the attacker
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_the_lock_out_counts_an_ipv6_visitor_by_network_not_by_address(django_user_model, settings):
    """A home or a server is given a whole /64: guesses spread over its addresses are one
    visitor's guesses, as the form limits count them. Another network is not locked out."""
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    for host in range(settings.AXES_FAILURE_LIMIT):
        login(Client(HTTP_X_REAL_IP=f"2001:db8:0:7::{host + 1}"), "staff", "wrong")

    same_network = Client(HTTP_X_REAL_IP="2001:db8:0:7:abcd::99")
    assert login(same_network, "staff", "the-right-passphrase").status_code == 429
    staff = Client(HTTP_X_REAL_IP="2001:db8:0:8::1")
    login(staff, "staff", "the-right-passphrase")
    assert staff.get("/admin/").status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"2001:db8:0:7::"}


def test_ipv4_visitors_seen_through_an_ipv6_proxy_are_not_one_network(django_user_model, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    django_user_model.objects.create_superuser("staff", "s@example.com", "the-right-passphrase")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(Client(HTTP_X_REAL_IP="::ffff:203.0.113.5"), "staff", "wrong")

    staff = Client(HTTP_X_REAL_IP="::ffff:198.51.100.7")
    login(staff, "staff", "the-right-passphrase")
    assert staff.get("/admin/").status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


@override_settings(REQUIRE_STAFF_2FA=True)
def test_with_2fa_required_staff_need_a_code_from_their_device(django_user_model):
    user = django_user_model.objects.create_superuser("staff", "s@example.com", "pass-phrase-1")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    without_code = Client()
    login(without_code, "staff", "pass-phrase-1")
    assert without_code.get("/admin/").status_code == 302

    with_code = Client()
    token = str(totp(device.bin_key)).zfill(6)
    login(with_code, "staff", "pass-phrase-1", otp_device=device.persistent_id, otp_token=token)
    assert with_code.get("/admin/").status_code == 200


def test_staff_can_scan_their_device_in_from_a_qr_code(admin_client, admin_user, settings):
    """The device's page links to a QR code to scan; without one, the 32-character secret
    would have to be typed into the phone by hand."""
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=False)

    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/")
    image = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/")

    assert f'src="/admin/otp_totp/totpdevice/{device.pk}/qrcode/"' in page.content.decode()
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert b"<svg" in image.content
    assert f"issuer={quote(settings.CLINIC_NAME)}" in device.config_url


def test_without_2fa_required_a_password_is_enough(django_user_model):
    django_user_model.objects.create_superuser("staff", "s@example.com", "pass-phrase-1")
    browser = Client()

    login(browser, "staff", "pass-phrase-1")

    assert browser.get("/admin/").status_code == 200


def test_markup_in_a_name_is_escaped_in_the_html_email(spinal_metastases, mailoutbox):
    """The form refuses a name with a "/" in it; one saved before (or any other way) must
    still be escaped."""
    report = lead_services.create_report_request(
        sheet=spinal_metastases, name="<b>Bold</b><script>x()</script>", email="m@example.com"
    )

    report_services.deliver_report(request_id=report.pk)

    html = mailoutbox[0].alternatives[0].content
    assert "<script>" not in html and "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;" in html


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="2/h")
def test_one_mailbox_written_differently_shares_one_allowance(spinal_metastases, valid_report):
    """ "+tags", capitals and a domain's Unicode or ASCII form all reach the same inbox."""
    addresses = ["ada@bücher.example", "Ada+1@BÜCHER.example", "ada+2@xn--bcher-kva.example"]

    statuses = [
        Client(REMOTE_ADDR=f"10.0.1.{i}")
        .post(REPORT_URL, valid_report | {"report-email": email, "report-name": f"N {i}"})
        .status_code
        for i, email in enumerate(addresses)
    ]

    assert statuses == [302, 302, 429]


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="3/h")
def test_quotes_escapes_and_dots_do_not_make_a_mailbox_new(spinal_metastases, valid_report):
    """'"bob"@', '"b\\ob"@' and 'b.ob@' reach bob@ at most mail servers (Gmail ignores dots)."""
    addresses = [
        "bob@example.com",
        '"bob"@example.com',
        '"b\\ob"@example.com',
        "b.ob@example.com",
        '"bob+4"@example.com',
    ]

    statuses = [
        Client(REMOTE_ADDR=f"10.0.3.{i}")
        .post(REPORT_URL, valid_report | {"report-email": email, "report-name": f"N {i}"})
        .status_code
        for i, email in enumerate(addresses)
    ]

    assert statuses == [302, 302, 302, 429, 429]
    assert ReportRequest.objects.count() == 3


@pytest.mark.parametrize(
    "name",
    [
        "Eve visit https://evil.example/login",
        "Eve at www.evil.example",
        "HTTP://x.example",
        "http:evil.example",
        "Eve visit evil.example/login",
        "Eve bit.ly/x2y",
        "Claim at evil.com now",
        "wwww.evil.co.uk",
    ],
)
def test_a_name_with_a_web_address_is_refused_and_kept_as_typed(
    client, spinal_metastases, valid_report, name
):
    """Anyone can have a report sent to any address: a link in the name would reach a
    stranger in an email from the clinic."""
    response = client.post(REPORT_URL, valid_report | {"report-name": name})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter your name only, without a web address" in html
    assert f'value="{escape(name)}"' in html
    assert ReportRequest.objects.count() == 0


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="100/h")
def test_ordinary_names_are_not_taken_for_web_addresses(client, spinal_metastases, valid_report):
    names = ["J.Smith", "Dr. A. O'Neill-Wwong", "Ana www", "Zoë Comfort", "M. Uk-Chan", "Ng Http"]
    for name in names:
        assert client.post(REPORT_URL, valid_report | {"report-name": name}).status_code == 302
    assert ReportRequest.objects.count() == len(names)


@override_settings(FORM_RATE_PER_IP="100/h", FORM_RATE_PER_EMAIL="1/h")
def test_another_forms_email_field_does_not_move_a_post_onto_a_fresh_allowance(
    spinal_metastases, valid_consultation
):
    def post(ip: str, decoy: str):
        data = valid_consultation | {"consultation-description": f"Pain {ip}"}
        return Client(REMOTE_ADDR=ip).post(CONSULTATION_URL, data | {"report-email": decoy})

    assert post("10.0.2.1", "decoy-1@example.com").status_code == 302
    assert post("10.0.2.2", "decoy-2@example.com").status_code == 429
    assert ConsultationRequest.objects.count() == 1


def test_a_sender_over_the_limit_cannot_learn_what_someone_else_just_sent(
    spinal_metastases, valid_report, settings
):
    """Someone out of allowance who posts another person's exact name, address and ticks gets
    the same "too many" answer as for anything else, not the "sent" a repeat would get."""
    flag = spinal_metastases.red_flags.filter(level="emergency").first()
    victims = valid_report | {"report-symptoms": [flag.pk]}
    assert Client(REMOTE_ADDR="10.0.3.1").post(REPORT_URL, victims).status_code == 302
    settings.FORM_RATE_PER_IP = "1/h"
    attacker = Client(REMOTE_ADDR="10.0.3.2")
    assert attacker.post(REPORT_URL, valid_report | {"report-name": "Own"}).status_code == 302

    guess = attacker.post(REPORT_URL, victims)
    miss = attacker.post(REPORT_URL, valid_report | {"report-name": "Other"})

    assert guess.status_code == miss.status_code == 429
    assert ReportRequest.objects.count() == 2


def test_the_double_click_guard_keys_what_was_sent_with_the_sites_secret(settings):
    """A plain hash of a name, an address and the ticks could be matched by anyone who can
    read the cache and guesses them; under an HMAC with the site's secret it cannot."""
    data = {"name": "Ada Patient", "email": "ada@example.com", "symptoms": [3]}
    settings.SECRET_KEY = "one-secret-" + "x" * 40
    first = guards._submission_key("report", 1, data)
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    second = guards._submission_key("report", 1, data)

    assert first != second
    assert first.startswith("leads:submission:")
