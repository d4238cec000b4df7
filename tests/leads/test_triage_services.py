import csv
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone

from leads import exports, services
from leads.models import ConsultationRequest, ExportLog, ReportRequest
from leads.working_time import close_of_working_day, one_working_day_after
from tests.factories import (
    ConsultationRequestFactory,
    ContactAttemptFactory,
    InternalNoteFactory,
    ReportRequestFactory,
    UserFactory,
)

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def staff(db):
    return UserFactory(username="alex")


# --- the reply promise -------------------------------------------------------------------------


@pytest.mark.parametrize("urgency", ["emergency", "urgent"])
def test_reply_due_at_is_the_same_working_day_for_urgent_self_checks(urgency):
    received = timezone.datetime(2026, 11, 23, 10, tzinfo=LONDON)

    due = services.reply_due_at(received_at=received, urgency=urgency)

    assert due == timezone.datetime(2026, 11, 23, 17, tzinfo=LONDON)


@pytest.mark.parametrize("urgency", ["soon", "none"])
def test_reply_due_at_is_one_working_day_for_the_rest(urgency):
    received = timezone.datetime(2026, 11, 23, 10, tzinfo=LONDON)

    due = services.reply_due_at(received_at=received, urgency=urgency)

    assert due == timezone.datetime(2026, 11, 24, 10, tzinfo=LONDON)


def test_create_consultation_request_with_an_emergency_tick_is_due_the_same_day(
    spinal_metastases, django_capture_on_commit_callbacks
):
    flag = spinal_metastases.red_flags.filter(level="emergency").first()

    with django_capture_on_commit_callbacks(execute=False):
        consultation = services.create_consultation_request(
            sheet=spinal_metastases,
            name="Ben",
            email="ben@example.com",
            phone="+447911123456",
            best_time="",
            contact_method="phone",
            description="Back pain.",
            pain_duration="1_to_6_weeks",
            ticked_flag_ids=[flag.pk],
        )

    assert consultation.urgency == "emergency"
    assert consultation.due_at == close_of_working_day(consultation.created_at)
    assert consultation.due_at <= one_working_day_after(consultation.created_at)


# --- reads -------------------------------------------------------------------------------------


def test_overdue_and_due_today_only_count_requests_nobody_has_reached(db):
    now = timezone.now()
    late = ConsultationRequestFactory(due_at=now - timedelta(minutes=1))
    ConsultationRequestFactory(due_at=now - timedelta(hours=1), status="contacted")
    later = ConsultationRequestFactory(due_at=now + timedelta(days=3))

    assert list(ConsultationRequest.objects.overdue()) == [late]
    assert later not in ConsultationRequest.objects.due_today()


def test_due_today_stops_at_midnight_clinic_time(db, settings):
    settings.TIME_ZONE = "Europe/London"
    now = timezone.datetime(2026, 11, 23, 12, tzinfo=LONDON)
    today = ConsultationRequestFactory(due_at=timezone.datetime(2026, 11, 23, 17, tzinfo=LONDON))
    ConsultationRequestFactory(due_at=timezone.datetime(2026, 11, 24, 0, 0, tzinfo=LONDON))

    assert list(ConsultationRequest.objects.due_today(now)) == [today]


def test_mine_and_unassigned(staff):
    mine = ConsultationRequestFactory(assigned_to=staff)
    ConsultationRequestFactory(assigned_to=UserFactory())
    nobodys = ConsultationRequestFactory()

    assert list(ConsultationRequest.objects.mine(staff)) == [mine]
    assert list(ConsultationRequest.objects.unassigned()) == [nobodys]


def test_triage_order_is_urgency_then_overdue_then_oldest_with_finished_last(db):
    now = timezone.now()

    def make(name, urgency="none", status="new", hours_old=1, overdue=False):
        return ConsultationRequestFactory(
            name=name,
            urgency=urgency,
            status=status,
            created_at=now - timedelta(hours=hours_old),
            due_at=now + (timedelta(hours=-1) if overdue else timedelta(hours=5)),
        )

    make("routine, newer", hours_old=1)
    make("routine, older", hours_old=5)
    make("routine, overdue", hours_old=2, overdue=True)
    make("urgent", urgency="urgent", hours_old=1)
    make("emergency, contacted", urgency="emergency", status="contacted", hours_old=1)
    make("emergency, closed", urgency="emergency", status="closed", hours_old=9)
    make("soon", urgency="soon", hours_old=1)

    names = [c.name for c in ConsultationRequest.objects.with_triage_order()]

    assert names == [
        "emergency, contacted",
        "urgent",
        "soon",
        "routine, overdue",
        "routine, older",
        "routine, newer",
        "emergency, closed",
    ]


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("  BEN@Example.com ", "+447400000001"),  # the same email, typed differently
        ("someone.else@example.com", "+447911123456"),  # the same phone
    ],
)
def test_possible_duplicates_match_email_or_phone_within_30_days(db, email, phone):
    first = ConsultationRequestFactory(email="ben@example.com", phone="+447911123456")
    second = ConsultationRequestFactory(
        email=email, phone=phone, created_at=first.created_at + timedelta(days=29)
    )

    assert list(ConsultationRequest.objects.possible_duplicates_of(first)) == [second]
    assert list(ConsultationRequest.objects.possible_duplicates_of(second)) == [first]
    annotated = ConsultationRequest.objects.with_duplicate_count().get(pk=first.pk)
    assert annotated.duplicate_count == 1


def test_possible_duplicates_leave_out_older_than_30_days_strangers_and_erased(db, staff):
    first = ConsultationRequestFactory(email="ben@example.com", phone="+447911123456")
    ConsultationRequestFactory(
        email="ben@example.com", created_at=first.created_at - timedelta(days=31)
    )
    ConsultationRequestFactory(email="someone@example.com", phone="+447400000002")
    erased = ConsultationRequestFactory(email="ben@example.com")
    services.erase_consultation_request(request=erased, by=staff)

    assert list(ConsultationRequest.objects.possible_duplicates_of(first)) == []
    assert ConsultationRequest.objects.with_duplicate_count().get(pk=first.pk).duplicate_count == 0


# --- workflow ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to"),
    [("new", "contacted"), ("new", "booked"), ("contacted", "booked"), ("booked", "closed")],
)
def test_change_status_allows_the_workflow(staff, start, to):
    consultation = ConsultationRequestFactory(status=start)
    reason = "declined" if to == "closed" else ""

    changed = services.change_consultation_status(
        consultation=consultation, to=to, by=staff, close_reason=reason
    )

    assert changed.status == to
    entry = changed.history.latest()
    assert entry.history_user == staff
    assert entry.history_change_reason.startswith("Status: ")


@pytest.mark.parametrize(
    ("start", "to"),
    [("contacted", "new"), ("booked", "contacted"), ("closed", "new"), ("closed", "booked")],
)
def test_change_status_refuses_going_backwards(staff, start, to):
    consultation = ConsultationRequestFactory(status=start)

    with pytest.raises(services.TriageError, match="cannot move to"):
        services.change_consultation_status(consultation=consultation, to=to, by=staff)

    consultation.refresh_from_db()
    assert consultation.status == start


def test_closing_needs_a_reason(staff):
    consultation = ConsultationRequestFactory()

    with pytest.raises(services.TriageError, match="Choose why"):
        services.change_consultation_status(consultation=consultation, to="closed", by=staff)


def test_closing_as_no_reply_needs_three_attempts(staff):
    consultation = ConsultationRequestFactory()
    ContactAttemptFactory.create_batch(2, consultation=consultation)

    with pytest.raises(services.TriageError, match="has 2 contact attempt"):
        services.change_consultation_status(
            consultation=consultation, to="closed", close_reason="no_reply", by=staff
        )

    ContactAttemptFactory(consultation=consultation)
    closed = services.change_consultation_status(
        consultation=consultation, to="closed", close_reason="no_reply", by=staff
    )
    assert (closed.status, closed.close_reason) == ("closed", "no_reply")


def test_marking_contacted_records_the_first_contact_once(staff):
    consultation = ConsultationRequestFactory()

    contacted = services.change_consultation_status(
        consultation=consultation, to="contacted", by=staff
    )
    first = contacted.first_contact_at
    booked = services.change_consultation_status(consultation=contacted, to="booked", by=staff)

    assert first is not None
    assert booked.first_contact_at == first


def test_log_contact_attempt_records_who_and_sets_first_contact(staff):
    consultation = ConsultationRequestFactory(created_at=timezone.now() - timedelta(hours=2))
    when = timezone.now() - timedelta(minutes=10)

    attempt = services.log_contact_attempt(
        consultation=consultation,
        by=staff,
        channel="phone",
        outcome="no_answer",
        attempted_at=when,
    )

    consultation.refresh_from_db()
    assert attempt.by == staff
    assert consultation.first_contact_at == when
    assert consultation.status == "new"  # nobody answered: still waiting to be reached


def test_log_contact_attempt_that_reached_the_patient_marks_contacted(staff):
    consultation = ConsultationRequestFactory()

    services.log_contact_attempt(
        consultation=consultation, by=staff, channel="phone", outcome="reached"
    )

    consultation.refresh_from_db()
    assert consultation.status == "contacted"
    assert "Spoke to them" in consultation.history.latest().history_change_reason


def test_log_contact_attempt_refuses_a_time_before_the_request_arrived(staff):
    consultation = ConsultationRequestFactory()

    with pytest.raises(services.TriageError, match="arrived after that time"):
        services.log_contact_attempt(
            consultation=consultation,
            by=staff,
            channel="phone",
            outcome="reached",
            attempted_at=consultation.created_at - timedelta(days=1),
        )


def test_log_contact_attempt_refuses_the_future(staff):
    consultation = ConsultationRequestFactory()

    with pytest.raises(services.TriageError, match="future"):
        services.log_contact_attempt(
            consultation=consultation,
            by=staff,
            channel="phone",
            outcome="reached",
            attempted_at=timezone.now() + timedelta(hours=1),
        )


def test_assign_refuses_someone_who_is_not_staff(staff):
    consultation = ConsultationRequestFactory()
    patient_account = UserFactory(is_staff=False)

    with pytest.raises(services.TriageError, match="not an active member of staff"):
        services.assign_consultation(consultation=consultation, to=patient_account, by=staff)


def test_assign_records_it_in_history(staff):
    consultation = ConsultationRequestFactory()

    services.assign_consultation(consultation=consultation, to=staff, by=staff)

    entry = consultation.history.latest()
    assert entry.assigned_to_id == staff.pk
    assert entry.history_change_reason == "Assigned to alex"


# --- erasure -----------------------------------------------------------------------------------


def test_erase_blanks_personal_details_here_and_in_history(staff):
    consultation = ConsultationRequestFactory(
        name="Ben Patient",
        email="ben@example.com",
        phone="+447911123456",
        best_time="Mornings",
        cancer_history=True,
    )
    services.assign_consultation(consultation=consultation, to=staff, by=staff)
    InternalNoteFactory(consultation=consultation, text="Ben's wife answered.")
    ContactAttemptFactory(consultation=consultation, note="Ben busy")

    erased = services.erase_consultation_request(
        request=consultation, by=staff, reason="Patient asked by phone"
    )

    assert (erased.name, erased.email, str(erased.phone), erased.description) == (
        "[erased]",
        "",
        "",
        "",
    )
    assert erased.self_check == [] and erased.cancer_history is None
    assert erased.erased_at is not None
    assert (erased.status, erased.close_reason) == ("closed", "erased")
    assert erased.history.count() >= 3  # created, assigned, erased
    for entry in erased.history.all():
        assert entry.name == "[erased]"
        assert entry.email == entry.phone == entry.best_time == ""
        assert entry.cancer_history is None
    last = erased.history.latest()
    assert last.history_user == staff
    assert last.history_change_reason == "Erased: Patient asked by phone"
    assert erased.notes.get().text == "[erased]"
    assert erased.contact_attempts.get().note == "[erased]"


def test_erased_request_can_no_longer_be_worked(staff):
    consultation = ConsultationRequestFactory()
    services.erase_consultation_request(request=consultation, by=staff)

    with pytest.raises(services.TriageError, match="erased"):
        services.assign_consultation(consultation=consultation, to=staff, by=staff)


def test_erase_works_without_a_user_for_retention_jobs(db):
    consultation = ConsultationRequestFactory()

    erased = services.erase_consultation_request(
        request=consultation, by=None, reason="Retention period over"
    )

    assert erased.history.latest().history_user is None
    assert erased.history.latest().history_change_reason == "Erased: Retention period over"


# --- export ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+447911123456", "'+447911123456"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Ben = fine", "Ben = fine"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_defuses_formulas(value, safe):
    assert exports.spreadsheet_safe(value) == safe


def test_csv_has_the_call_back_fields_and_never_the_description(db):
    consultation = ConsultationRequestFactory(
        name="=cmd|' /C calc'!A0", description="Private health details"
    )
    out = StringIO()

    exports.write_csv([consultation], out)

    text = out.getvalue()
    assert text.startswith("\ufeffID,Name,Phone,Email,Preferred contact,Best time,")
    assert "'=cmd" in text
    assert "07911 123456" in text  # a UK number as dialled here
    assert "Private health details" not in text


def test_csv_says_what_the_patient_was_told(shipped_sheets):
    """Whoever rings back from the list should know "straight away" from "today"."""
    infection = shipped_sheets["spinal-infection"]
    fever = infection.red_flags.get(level="urgent", text__contains="38°C")
    today = infection.red_flags.filter(level="urgent").exclude(pk=fever.pk).first()
    rows = [
        ConsultationRequestFactory(
            sheet=infection, **services.self_check_fields(infection, ticked, None)
        )
        for ticked in ([fever.pk], [today.pk], [])
    ]
    out = StringIO()

    exports.write_csv(rows, out)

    lines = list(csv.reader(StringIO(out.getvalue().lstrip("\ufeff"))))
    column = lines[0].index("Shown to the patient")
    assert [line[lines[0].index("Self-check urgency")] for line in lines[1:]] == [
        "Urgent",
        "Urgent",
        "No red flags ticked",
    ]
    assert [line[column] for line in lines[1:]] == [
        "Get medical advice straight away",
        "Get medical advice today",
        "",
    ]


def test_record_export_links_the_rows(staff):
    rows = ConsultationRequestFactory.create_batch(3)

    log = services.record_export(requests=rows, by=staff, filters="status=open")

    assert ExportLog.objects.get() == log
    assert log.row_count == 3
    assert set(log.requests.all()) == set(rows)


# --- report requests ---------------------------------------------------------------------------


def test_resend_is_recorded_in_the_reports_history(staff, django_capture_on_commit_callbacks):
    report = ReportRequestFactory(status="failed", last_error="SMTP 550")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.resend_failed_reports(request_ids=[report.pk], by=staff)

    entry = report.history.latest()
    assert (entry.status, entry.history_user, entry.history_change_reason) == (
        "queued",
        staff,
        "Resend requested",
    )
    assert len(callbacks) == 1


def test_history_stores_the_value_of_a_field_saved_as_an_expression(db):
    # reports.services counts attempts with F("attempts") + 1.
    report = ReportRequestFactory(attempts=2)
    report.attempts = F("attempts") + 1

    report.save(update_fields=["attempts", "updated_at"])

    assert report.history.latest().attempts == 3
    assert ReportRequest.objects.get(pk=report.pk).attempts == 3
