"""UK GDPR: consent records, retention, subject access and erasure, with audit entries that
hold no personal data."""

import json
import stat
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from leads import privacy, services
from leads.models import ConsultationRequest, PrivacyLog, ReportRequest, consent_wording
from tests.factories import ConsultationRequestFactory, ReportRequestFactory

EMAIL = "Pat.Person@Example.com"


def test_each_request_records_when_and_which_consent_wording(
    client, spinal_metastases, valid_report
):
    page = client.get(spinal_metastases.get_absolute_url()).content.decode()
    before = timezone.now()
    client.post("/factsheets/spinal-metastases/report/", valid_report)

    request = ReportRequest.objects.get()
    assert request.consent_version == "report-consent-v2"
    assert before <= request.consented_at <= timezone.now()
    # The box ticked said the answers are stored too: they are (the self-check).
    assert consent_wording(request.consent_version) in page
    assert "my email address and any answers I give above" in page


def test_a_consent_version_reads_back_as_the_words_agreed_to(triage_client, settings):
    settings.CLINIC_NAME = "Northside Spine Clinic"
    earlier = ReportRequestFactory(email=EMAIL, consent_version="report-consent-v1")
    ConsultationRequestFactory(email=EMAIL)

    exported = privacy.subject_access_export(EMAIL)
    admin_page = triage_client.get(
        reverse("admin:leads_reportrequest_change", args=[earlier.pk])
    ).content.decode()

    v1 = (
        "I agree to Northside Spine Clinic storing my name and email address so that it can "
        "email me this fact sheet. They are used for nothing else."
    )
    [report] = exported["report_requests"]
    assert (report["consent_version"], report["consent_wording"]) == ("report-consent-v1", v1)
    [consultation] = exported["consultation_requests"]
    assert "including what I have said about my health" in consultation["consent_wording"]
    assert "Consent wording agreed to" in admin_page and v1 in admin_page


def test_privacy_notice_names_the_data_purpose_and_how_long_it_is_kept(client, db, settings):
    settings.REPORT_RETENTION_DAYS, settings.CONSULTATION_RETENTION_DAYS = 45, 400
    html = client.get("/privacy/").content.decode()

    assert "Privacy notice" in html
    assert "name and email address" in html
    assert "what you told us about your back pain" in html
    # Both forms store the self-check answers, cancer box included; the notice says so.
    assert "the list of signs, with the ones you ticked; what the check told you to do" in html
    assert "whether you ticked the box saying you have or have had cancer" in html
    assert "the optional questions as you answered them (as above" in html
    # What staff add, what is kept after erasure, the double-click fingerprint's ten minutes.
    assert "Staff also record each time they try to contact you" in html
    assert html.count("we keep a record without them") == 1
    assert "For 10\xa0minutes after you send a form we also keep a scrambled fingerprint" in html
    assert "We keep backups of the website's records for 45 days" in html
    assert "answers 45 days after the fact sheet is sent" in html
    kept = "these details 400 days after the last change to your request, once it has been closed"
    assert kept in html
    # The rate-limit counters: for as long as the longest limit's window.
    assert "We keep these counts for up to 1\xa0hour" in html
    settings.FORM_RATE_PER_PHONE = "3/d"
    assert "for up to 1\xa0day," in client.get("/privacy/").content.decode()
    # Where to complain, as UK data protection law gives everyone the right to.
    assert "complain to the Information Commissioner's Office (ICO)" in html
    assert '<a href="https://ico.org.uk/">ico.org.uk</a>' in html


def test_retention_erases_old_sent_reports_and_old_closed_or_booked_consultations_only(
    db, settings
):
    old = timezone.now() - timedelta(days=settings.REPORT_RETENTION_DAYS + 1)
    expired_report = ReportRequestFactory(status="sent", sent_at=old, name="Old Report")
    fresh_report = ReportRequestFactory(status="sent", sent_at=timezone.now(), name="Fresh")
    queued_report = ReportRequestFactory(status="queued", name="Still Queued")
    closed = ConsultationRequestFactory(status="closed", name="Old Closed")
    booked = ConsultationRequestFactory(status="booked", name="Old Booked")
    open_one = ConsultationRequestFactory(status="new", name="Still Open")
    booked_lately = ConsultationRequestFactory(status="booked", name="Booked Lately")
    long_ago = timezone.now() - timedelta(days=settings.CONSULTATION_RETENTION_DAYS + 1)
    ConsultationRequest.objects.filter(pk__in=[closed.pk, booked.pk, open_one.pk]).update(
        updated_at=long_ago
    )

    log = privacy.apply_retention()

    assert (log.report_requests, log.consultation_requests) == (1, 2)
    assert ConsultationRequest.objects.get(pk=booked.pk).name == "[erased]"
    assert ConsultationRequest.objects.get(pk=booked_lately.pk).name == "Booked Lately"
    assert ReportRequest.objects.get(pk=expired_report.pk).email == ""
    assert ReportRequest.objects.get(pk=expired_report.pk).name == "[erased]"
    for kept in (fresh_report, queued_report):
        assert ReportRequest.objects.get(pk=kept.pk).email == kept.email
    assert ConsultationRequest.objects.get(pk=closed.pk).description == ""
    assert ConsultationRequest.objects.get(pk=open_one.pk).name == "Still Open"
    assert log.subject == "" and log.action == "retention"
    assert privacy.apply_retention() is None  # nothing more is due


def test_retention_also_blanks_the_history_copies(db, settings):
    report = ReportRequestFactory(status="sent", name="In History", email="hist@example.com")
    report.sent_at = timezone.now() - timedelta(days=settings.REPORT_RETENTION_DAYS + 5)
    report.save()

    privacy.apply_retention()

    # Created, then sent, then erased: every copy, not only the latest, is blank.
    assert report.history.count() >= 3
    assert set(report.history.values_list("name", flat=True)) == {"[erased]"}
    assert set(report.history.values_list("email", flat=True)) == {""}


def test_subject_access_export_has_everything_for_the_email_and_an_audit_entry(db):
    ReportRequestFactory(email=EMAIL.lower(), name="Pat Person")
    ConsultationRequestFactory(email=EMAIL, name="Pat Person", description="Sore back")
    ReportRequestFactory(email="someone.else@example.com")

    data = privacy.subject_access_export("pat.person@example.com")

    assert len(data["report_requests"]) == 1
    assert data["consultation_requests"][0]["description"] == "Sore back"
    log = PrivacyLog.objects.get()
    assert log.action == "subject_access"
    assert log.subject == privacy.subject_ref(EMAIL)
    assert "pat" not in log.subject.lower() and "@" not in str(log.__dict__)


def test_erasure_blanks_every_request_for_the_email_and_keeps_an_anonymous_record(db):
    report = ReportRequestFactory(email=EMAIL, name="Pat Person")
    consultation = ConsultationRequestFactory(email=EMAIL.upper(), name="Pat Person")
    other = ReportRequestFactory(email="keep@example.com", name="Keep Me")

    log = privacy.erase_everything_for(EMAIL, by=None)

    assert ReportRequest.objects.get(pk=report.pk).email == ""
    assert ConsultationRequest.objects.get(pk=consultation.pk).phone in ("", None)
    assert ReportRequest.objects.get(pk=other.pk).name == "Keep Me"
    assert (log.report_requests, log.consultation_requests) == (1, 1)
    assert log.subject == privacy.subject_ref(EMAIL)
    assert "Pat" not in json.dumps(
        {k: str(v) for k, v in PrivacyLog.objects.values().get().items()}
    )


def test_management_command_exports_and_erases(db, tmp_path):
    ReportRequestFactory(email=EMAIL, name="Pat Person")
    target = tmp_path / "sar.json"

    call_command("patient_data", "export", EMAIL, output=str(target), stdout=StringIO())
    exported = json.loads(target.read_text())
    out = StringIO()
    call_command("patient_data", "erase", EMAIL, yes=True, stdout=out)

    assert exported["report_requests"][0]["name"] == "Pat Person"
    assert "Erased 1 report request(s)" in out.getvalue()
    assert ReportRequest.objects.get().name == "[erased]"
    assert list(PrivacyLog.objects.values_list("action", flat=True).order_by("at")) == [
        "subject_access",
        "erasure",
    ]


def test_admin_actions_export_and_erase_by_person(admin_client):
    report = ReportRequestFactory(email=EMAIL, name="Pat Person")
    ConsultationRequestFactory(email=EMAIL, name="Pat Person")
    changelist = reverse("admin:leads_reportrequest_changelist")

    exported = admin_client.post(
        changelist, {"action": "subject_access_export", "_selected_action": [report.pk]}
    )
    confirm = admin_client.post(
        changelist, {"action": "erase_everything_for_person", "_selected_action": [report.pk]}
    )
    erased = admin_client.post(
        changelist,
        {"action": "erase_everything_for_person", "_selected_action": [report.pk],
         "confirm": "yes", "reason": "Patient asked by phone"},
    )  # fmt: skip

    [record] = json.loads(exported.content)
    assert record["report_requests"][0]["name"] == "Pat Person"
    assert len(record["consultation_requests"]) == 1
    assert "Erase everything" in confirm.content.decode()
    assert erased.status_code == 302
    assert ReportRequest.objects.get().email == ""
    assert ConsultationRequest.objects.get().email == ""
    assert PrivacyLog.objects.filter(action="erasure").count() == 1


def test_subject_access_export_needs_its_own_permission_not_just_view(triage_client, triage_user):
    """Triage staff can view the lists, but a whole person's record is not theirs to take."""
    report = ReportRequestFactory(email=EMAIL, name="Pat Person")
    ConsultationRequestFactory(email=EMAIL, name="Pat Person", description="Private words")
    changelist = reverse("admin:leads_reportrequest_changelist")
    action = {"action": "subject_access_export", "_selected_action": [report.pk]}

    offered = triage_client.get(changelist).content.decode()
    refused = triage_client.post(changelist, action)
    triage_user.user_permissions.add(
        Permission.objects.get(codename="subject_access_consultationrequest")
    )
    allowed = triage_client.post(changelist, action)

    assert 'value="subject_access_export"' not in offered
    assert "Private words" not in refused.content.decode()
    assert PrivacyLog.objects.filter(action="subject_access").count() == 1
    [record] = json.loads(allowed.content)
    assert record["consultation_requests"][0]["description"] == "Private words"


def test_generated_pdfs_are_not_stored(spinal_metastases, mailoutbox, settings):
    from reports.services import deliver_report

    report = ReportRequestFactory(sheet=spinal_metastases)
    before = {p for p in settings.VAR_DIR.rglob("*.pdf")}

    deliver_report(request_id=report.pk)

    assert len(mailoutbox[0].attachments) == 1
    assert {p for p in settings.VAR_DIR.rglob("*.pdf")} == before
    assert not any(f.get_internal_type() == "FileField" for f in ReportRequest._meta.fields)


def test_erasure_leaves_nothing_said_about_the_pain_or_how_to_make_contact(db):
    """The privacy notice promises to erase what the person told us: that includes how long
    they have had the pain and how they like to be contacted, in the row and its history."""
    consultation = ConsultationRequestFactory(
        email=EMAIL, pain_duration="over_3_months", contact_method="video"
    )

    privacy.erase_everything_for(EMAIL, by=None)

    erased = ConsultationRequest.objects.get(pk=consultation.pk)
    assert (erased.pain_duration, erased.contact_method) == ("", "")
    kept = set(erased.history.values_list("pain_duration", "contact_method"))
    assert kept == {("", "")}


def test_after_the_secret_key_is_rotated_the_log_still_matches_the_person(db, settings):
    """SECRET_KEY rotated after a leak, PRIVACY_LOG_KEY set to the old one (README): a request
    made today by someone whose data was erased before is seen to be the same person."""
    ReportRequestFactory(email=EMAIL)
    before = privacy.erase_everything_for(EMAIL, by=None)
    settings.PRIVACY_LOG_KEY, settings.SECRET_KEY = settings.SECRET_KEY, "a-new-key-" + "x" * 40

    privacy.subject_access_export(EMAIL.upper())

    after = PrivacyLog.objects.get(action="subject_access")
    assert after.subject == before.subject
    settings.PRIVACY_LOG_KEY = settings.SECRET_KEY  # as if left unset: the link is lost
    assert privacy.subject_ref(EMAIL) != before.subject


def test_someone_who_gave_only_a_phone_number_is_found_by_it(db, tmp_path):
    """Export and erasure by phone number, as given (07911...) or as admin shows it (+44...),
    for a consultation request made without an email address."""
    phoned = ConsultationRequestFactory(email="", phone="+447911123456", name="No Email")
    ConsultationRequestFactory(email="", phone="+447700900123", name="Someone Else")
    target = tmp_path / "sar.json"

    call_command("patient_data", "export", "07911 123456", output=str(target), stdout=StringIO())
    call_command("patient_data", "erase", "+44 7911 123456", yes=True, stdout=StringIO())

    exported = json.loads(target.read_text())
    assert exported["phone"] == "+447911123456"
    assert [c["name"] for c in exported["consultation_requests"]] == ["No Email"]
    assert ConsultationRequest.objects.get(pk=phoned.pk).name == "[erased]"
    assert ConsultationRequest.objects.filter(name="Someone Else").exists()
    log = PrivacyLog.objects.get(action="erasure")
    assert log.subject == privacy.subject_ref("+447911123456") and "7911" not in log.subject


def test_the_export_file_is_new_and_readable_by_its_owner_only(db, tmp_path):
    ReportRequestFactory(email=EMAIL, name="Pat Person")
    target = tmp_path / "sar.json"

    call_command("patient_data", "export", EMAIL, output=str(target), stdout=StringIO())

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["report_requests"][0]["name"] == "Pat Person"


@pytest.mark.parametrize("where", ["existing file", "missing folder"])
def test_an_export_that_cannot_be_written_is_not_made_or_logged(db, tmp_path, where):
    ReportRequestFactory(email=EMAIL, name="Pat Person")
    target = tmp_path / ("earlier.json" if where == "existing file" else "no-such-folder/sar.json")
    if where == "existing file":
        target.write_text("an earlier export")

    with pytest.raises(CommandError, match="nothing was exported"):
        call_command("patient_data", "export", EMAIL, output=str(target), stdout=StringIO())

    assert not PrivacyLog.objects.exists()
    if where == "existing file":
        assert target.read_text() == "an earlier export"


def test_erase_with_no_one_to_answer_erases_nothing(db, monkeypatch):
    """Run from a script without --yes: input() finds no terminal (end of input)."""
    ReportRequestFactory(email=EMAIL, name="Pat Person")
    monkeypatch.setattr("sys.stdin", StringIO(""))

    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("patient_data", "erase", EMAIL, stdout=StringIO())

    assert ReportRequest.objects.get().name == "Pat Person"


def test_a_look_up_by_phone_names_the_requests_it_leaves_out(db):
    """Requests giving the number with an email belong to that address's person; whoever
    handles the subject access request must still hear of them, not read "nothing held"."""
    ConsultationRequestFactory(email="", phone="+447911123456", name="No Email")
    with_email = ConsultationRequestFactory(email=EMAIL, phone="+447911123456")
    errors = StringIO()

    call_command("patient_data", "export", "07911 123456", stdout=StringIO(), stderr=errors)

    assert f"consultation request(s) #{with_email.pk} give this phone number" in errors.getvalue()


def test_a_blank_person_matches_nobody(db):
    """Phone-only and erased requests all have a blank email: "" must not name them all."""
    ConsultationRequestFactory(email="", name="No Email")
    erased = ReportRequestFactory(email=EMAIL)
    privacy.erase_everything_for(EMAIL, by=None)

    data = privacy.subject_access_export("")
    log = privacy.erase_everything_for(" ", by=None)

    assert data["report_requests"] == data["consultation_requests"] == []
    assert (log.report_requests, log.consultation_requests) == (0, 0)
    assert ConsultationRequest.objects.get().name == "No Email"
    assert ReportRequest.objects.get(pk=erased.pk).name == "[erased]"
    with pytest.raises(CommandError, match="neither an email address nor a valid phone"):
        call_command("patient_data", "export", "", stdout=StringIO())


def test_admin_erases_a_phone_only_request_by_its_phone_number_and_no_one_elses(admin_client):
    """A shared landline: the spouse who gave their own email is someone else, and their
    description, answers and notes are not the requester's to take or to erase."""
    phoned = ConsultationRequestFactory(email="", name="No Email")
    again = ConsultationRequestFactory(email="", name="No Email Again")
    same_phone = ConsultationRequestFactory(email="spouse@example.com", name="Same Phone")
    changelist = reverse("admin:leads_consultationrequest_changelist")

    exported = admin_client.post(
        changelist, {"action": "subject_access_export", "_selected_action": [phoned.pk]}
    )
    admin_client.post(
        changelist,
        {"action": "erase_everything_for_person", "_selected_action": [phoned.pk],
         "confirm": "yes", "reason": "Asked by phone"},
    )  # fmt: skip

    [record] = json.loads(exported.content)
    assert {c["name"] for c in record["consultation_requests"]} == {"No Email", "No Email Again"}
    assert ConsultationRequest.objects.get(pk=phoned.pk).name == "[erased]"
    assert ConsultationRequest.objects.get(pk=again.pk).name == "[erased]"
    assert ConsultationRequest.objects.get(pk=same_phone.pk).name == "Same Phone"


def test_an_unticked_cancer_box_is_never_reported_as_no(
    client, admin_client, spinal_metastases, valid_consultation
):
    """The box is optional: left unticked it may mean "no" or "skipped". Staff and the
    patient's own copy of their data say what happened, not an answer nobody gave."""
    client.post("/factsheets/spinal-metastases/consultation/", valid_consultation)
    consultation = ConsultationRequest.objects.get()

    page = admin_client.get(
        reverse("admin:leads_consultationrequest_change", args=[consultation.pk])
    ).content.decode()
    data = privacy.subject_access_export(consultation.email)

    assert "\u201cI have or have had cancer\u201d box: Not ticked" in page
    assert "cancer: No" not in page
    assert data["consultation_requests"][0]["cancer_box"] == "Not ticked"


def test_subject_access_export_has_what_the_notice_says_is_held(
    spinal_metastases, django_user_model
):
    """The self-check's advice, the signs not ticked as well as those ticked, why it closed,
    who dealt with it, and each earlier version (a phone number staff corrected, say)."""
    staff = django_user_model.objects.create_user("tess", first_name="Tess", last_name="Triage")
    request = ConsultationRequestFactory(
        email=EMAIL, urgency="emergency", status="closed", close_reason="duplicate",
        assigned_to=staff, phone="+447700900111",
    )  # fmt: skip
    request.phone = "+447700900222"
    request.save()
    ReportRequestFactory(  # shown the list, nothing ticked
        email=EMAIL,
        sheet=spinal_metastases,
        **services.self_check_fields(spinal_metastases, [], None),
    )

    data = privacy.subject_access_export(EMAIL)
    [consultation], [report] = data["consultation_requests"], data["report_requests"]

    assert consultation["self_check_told_you"] == "Call 999 or go to A&E now"
    assert report["self_check_told_you"] == "You did not tick any warning signs"
    assert report["ticked"] == []
    assert len(report["not_ticked"]) == spinal_metastases.red_flags.count()
    assert consultation["close_reason"] == "Duplicate of another request"
    assert consultation["dealt_with_by"] == "Tess Triage"
    phones = [version["phone"] for version in consultation["earlier_versions"]]
    assert phones[0] == "+447700900111" and phones[-1] == "+447700900222"
