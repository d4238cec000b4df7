from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads import services
from leads.models import ConsultationRequest, ReportRequest
from tests.factories import (
    ConsultationRequestFactory,
    ContactAttemptFactory,
    FactSheetFactory,
    ReportRequestFactory,
    UserFactory,
)

CONSULTATIONS = reverse("admin:leads_consultationrequest_changelist")
REPORTS = reverse("admin:leads_reportrequest_changelist")


def _row_names(response) -> list[str]:
    """Names of the requests listed, read from the page the staff member sees."""
    return [obj.name for obj in response.context["cl"].result_list]


# --- consultation requests -------------------------------------------------------------------


def test_consultation_changelist_shows_name_and_status(admin_client, db):
    ConsultationRequestFactory(name="Ben Patient", status="new")

    response = admin_client.get(CONSULTATIONS)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ben Patient" in html
    assert '<td class="field-status">New</td>' in html


def test_consultation_changelist_flags_overdue_requests(admin_client, db):
    ConsultationRequestFactory(due_at=timezone.now() - timedelta(hours=3))

    response = admin_client.get(CONSULTATIONS)

    assert '<strong class="overdue">Overdue by 3' in response.content.decode()


def test_consultation_changelist_filters_by_status(admin_client, db):
    ConsultationRequestFactory(name="Still new", status="new")
    ConsultationRequestFactory(name="Already called", status="contacted")

    response = admin_client.get(CONSULTATIONS, {"status": "new"})

    assert _row_names(response) == ["Still new"]
    assert "Already called" not in response.content.decode()


def test_consultation_changelist_filters_by_sheet(admin_client, db):
    wanted, other = FactSheetFactory(), FactSheetFactory()
    ConsultationRequestFactory(name="From wanted sheet", sheet=wanted)
    ConsultationRequestFactory(name="From other sheet", sheet=other)

    response = admin_client.get(CONSULTATIONS, {"sheet__id__exact": wanted.pk})

    assert _row_names(response) == ["From wanted sheet"]
    assert "From other sheet" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["carol@example.org", "CAROL@EXAMPLE", "+447911123456", "7911123456"],
)
def test_consultation_changelist_search_finds_by_email_and_phone(admin_client, db, query):
    ConsultationRequestFactory(name="Carol", email="carol@example.org", phone="+447911123456")
    ConsultationRequestFactory(name="Dan", email="dan@example.org", phone="+447400123456")

    response = admin_client.get(CONSULTATIONS, {"q": query})

    assert _row_names(response) == ["Carol"]


def test_consultation_changelist_search_finds_a_phone_typed_the_uk_way(admin_client, db):
    ConsultationRequestFactory(name="Carol", phone="+447911123456")

    response = admin_client.get(CONSULTATIONS, {"q": "07911 123456"})

    assert _row_names(response) == ["Carol"]


def test_consultation_mark_contacted_action_moves_new_to_contacted(admin_client, db):
    new = ConsultationRequestFactory(status="new")
    booked = ConsultationRequestFactory(status="booked")

    response = admin_client.post(
        CONSULTATIONS,
        {"action": "mark_contacted", "_selected_action": [new.pk, booked.pk]},
        follow=True,
    )

    new.refresh_from_db()
    booked.refresh_from_db()
    assert new.status == "contacted"
    assert booked.status == "booked"  # only new requests move
    assert "1 request(s) marked as contacted." in response.content.decode()


# --- report requests -------------------------------------------------------------------------


def test_report_changelist_shows_status_and_last_error(admin_client, db):
    ReportRequestFactory(status="failed", last_error="SMTP 550: mailbox unavailable")

    response = admin_client.get(REPORTS)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-status">Failed</td>' in html
    assert "SMTP 550: mailbox unavailable" in html


def test_report_changelist_shortens_a_long_error(admin_client, db):
    ReportRequestFactory(status="failed", last_error="x" * 79 + "END-OF-LONG-ERROR")

    html = admin_client.get(REPORTS).content.decode()

    assert "x" * 79 + "E…" in html
    assert "END-OF-LONG-ERROR" not in html


def test_report_resend_action_queues_a_failed_report_again(
    admin_client, db, django_capture_on_commit_callbacks
):
    failed = ReportRequestFactory(status="failed", last_error="SMTP timeout", attempts=5)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            REPORTS, {"action": "resend", "_selected_action": [failed.pk]}, follow=True
        )

    failed.refresh_from_db()
    assert failed.status == "queued"
    assert failed.last_error == ""
    assert len(callbacks) == 1
    assert "1 report(s) queued to send again." in response.content.decode()


def test_report_resend_action_leaves_sent_reports_alone(
    admin_client, db, django_capture_on_commit_callbacks
):
    sent = ReportRequestFactory(status="sent", sent_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(REPORTS, {"action": "resend", "_selected_action": [sent.pk]})

    sent.refresh_from_db()
    assert sent.status == "sent"
    assert callbacks == []


def test_report_admin_has_no_add_button(admin_client, db):
    response = admin_client.get(reverse("admin:leads_reportrequest_add"))

    assert response.status_code == 403


# --- query counts ----------------------------------------------------------------------------


def _changelist_queries(admin_client, url: str) -> int:
    admin_client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(queries)


def _busy_consultation(sheet, i: int) -> ConsultationRequest:
    """A row using everything the list shows: assignee, attempts and a possible duplicate."""
    consultation = ConsultationRequestFactory(
        sheet=sheet,
        assigned_to=UserFactory(),
        email=f"patient{i // 2}@example.com",  # every two rows share an email
        phone=f"+4479110000{i:02d}",
    )
    ContactAttemptFactory(consultation=consultation, by=consultation.assigned_to)
    return consultation


@pytest.mark.parametrize(
    ("url", "factory"),
    [(CONSULTATIONS, _busy_consultation), (REPORTS, None)],
    ids=["consultations", "reports"],
)
@pytest.mark.parametrize("who", ["admin_client", "triage_client"])
def test_changelist_query_count_does_not_grow_with_rows(request, db, url, factory, who):
    client = request.getfixturevalue(who)
    sheets = FactSheetFactory.create_batch(2)

    def make(i: int) -> None:
        if factory:
            factory(sheets[i % 2], i)
        else:
            ReportRequestFactory(sheet=sheets[i % 2])

    for i in range(2):
        make(i)
    with_two = _changelist_queries(client, url)

    for i in range(2, 20):
        make(i)
    with_twenty = _changelist_queries(client, url)

    assert ConsultationRequest.objects.count() + ReportRequest.objects.count() == 20
    assert with_twenty == with_two


# --- self-check urgency ----------------------------------------------------------------------


def test_consultation_changelist_puts_new_emergency_and_urgent_requests_first(admin_client, db):
    now = timezone.now()
    ConsultationRequestFactory(name="Routine newest", urgency="none", created_at=now)
    ConsultationRequestFactory(name="Urgent", urgency="urgent", created_at=now - timedelta(hours=2))
    ConsultationRequestFactory(
        name="Emergency but booked",
        urgency="emergency",
        status="booked",
        created_at=now - timedelta(hours=1),
    )
    ConsultationRequestFactory(
        name="Emergency", urgency="emergency", created_at=now - timedelta(hours=3)
    )

    names = _row_names(admin_client.get(CONSULTATIONS))

    assert names == ["Emergency", "Urgent", "Routine newest", "Emergency but booked"]


def test_consultation_changelist_puts_overdue_first_then_oldest_within_an_urgency(admin_client, db):
    now = timezone.now()

    def routine(name: str, hours_old: int, overdue: bool = False) -> None:
        ConsultationRequestFactory(
            name=name,
            created_at=now - timedelta(hours=hours_old),
            due_at=now + timedelta(hours=-1 if overdue else 4),
        )

    routine("Newest", 1)
    routine("Oldest", 6)
    routine("Overdue", 3, overdue=True)
    ConsultationRequestFactory(name="Soon", urgency="soon", due_at=now + timedelta(hours=8))

    names = _row_names(admin_client.get(CONSULTATIONS))

    assert names == ["Soon", "Overdue", "Oldest", "Newest"]


def test_consultation_changelist_shows_urgency_as_a_labelled_badge(admin_client, db):
    ConsultationRequestFactory(urgency="emergency")

    html = admin_client.get(CONSULTATIONS).content.decode()

    # Coloured by css/admin.css (the Content-Security-Policy allows no inline style).
    assert '<span class="urgency urgency-emergency">Emergency</span>' in html


def test_consultation_changelist_filters_by_urgency(admin_client, db):
    ConsultationRequestFactory(name="Flagged", urgency="urgent")
    ConsultationRequestFactory(name="Not flagged", urgency="none")

    response = admin_client.get(CONSULTATIONS, {"urgency__exact": "urgent"})

    assert _row_names(response) == ["Flagged"]


def test_consultation_change_page_lists_what_was_ticked(admin_client, spinal_metastases):
    flag = spinal_metastases.red_flags.filter(level="emergency").first()
    consultation = ConsultationRequestFactory(
        sheet=spinal_metastases,
        urgency="emergency",
        cancer_history=True,
        rules_version="self-check-test",
        content_version=1,
        self_check=[
            {
                "flag_id": flag.pk,
                "symptom": "Legs <b>weak</b>",
                "level": "emergency",
                "ticked": True,
            }
        ],
    )

    html = admin_client.get(
        reverse("admin:leads_consultationrequest_change", args=[consultation.pk])
    ).content.decode()

    assert "Legs &lt;b&gt;weak&lt;/b&gt; <em>(emergency)</em>" in html
    assert "\u201cI have or have had cancer\u201d box: Ticked" in html
    assert "Shown to the patient: \u201cCall 999 or go to A&amp;E now\u201d" in html


def test_staff_see_that_the_patient_was_told_straight_away(admin_client, shipped_sheets):
    """The urgency column says "Urgent" for both; whoever calls back should know which."""
    infection = shipped_sheets["spinal-infection"]
    fever = infection.red_flags.get(level="urgent", text__contains="38°C")
    consultation = ConsultationRequestFactory(
        sheet=infection, **services.self_check_fields(infection, [fever.pk], None)
    )

    html = admin_client.get(
        reverse("admin:leads_consultationrequest_change", args=[consultation.pk])
    ).content.decode()

    assert consultation.urgency == "urgent"
    assert "Shown to the patient: \u201cGet medical advice straight away\u201d" in html
