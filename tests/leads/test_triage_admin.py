"""Triage through the admin's own views, as a member of the "Triage staff" group."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from leads.models import ConsultationRequest, ContactAttempt, ExportLog, InternalNote
from tests.factories import (
    ConsultationRequestFactory,
    ContactAttemptFactory,
    ReportRequestFactory,
    UserFactory,
)
from tests.html_forms import form_data

CONSULTATIONS = reverse("admin:leads_consultationrequest_changelist")
EXPORT = reverse("admin:leads_consultationrequest_export")
REPORTS = reverse("admin:leads_reportrequest_changelist")


def change_url(consultation: ConsultationRequest) -> str:
    return reverse("admin:leads_consultationrequest_change", args=[consultation.pk])


def _names(response) -> list[str]:
    return [obj.name for obj in response.context["cl"].result_list]


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _as_submitted(client, consultation: ConsultationRequest, **changes) -> dict[str, str]:
    """The change page's form as a browser would send it on Save, with ``changes`` typed in."""
    data = form_data(
        client.get(change_url(consultation)).content.decode(), "consultationrequest_form"
    )
    return data | {"_save": "Save"} | changes


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


@pytest.fixture
def old_request(db):
    """A routine request that arrived two hours ago and is still new."""
    return ConsultationRequestFactory(
        name="Ben Patient",
        created_at=timezone.now() - timedelta(hours=2),
        due_at=timezone.now() + timedelta(hours=6),
    )


# --- the queue ---------------------------------------------------------------------------------


def test_queue_shows_time_left_overdue_phone_and_assignee(triage_client, triage_user):
    now = timezone.now()
    ConsultationRequestFactory(name="Late", due_at=now - timedelta(hours=3))
    ConsultationRequestFactory(
        name="Later", due_at=now + timedelta(days=3), assigned_to=triage_user
    )

    response = triage_client.get(CONSULTATIONS)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="overdue">Overdue by 3' in html
    assert '<span class="due-later">Due ' in html
    assert '<a href="tel:+447911123456">07911 123456</a>' in html
    assert "Tess Triage" in html


def test_queue_filters_mine_and_unassigned(triage_client, triage_user):
    ConsultationRequestFactory(name="Mine", assigned_to=triage_user)
    ConsultationRequestFactory(name="Colleague's", assigned_to=UserFactory())
    ConsultationRequestFactory(name="Nobody's")

    assert _names(triage_client.get(CONSULTATIONS, {"assigned": "me"})) == ["Mine"]
    assert _names(triage_client.get(CONSULTATIONS, {"assigned": "none"})) == ["Nobody's"]


def test_queue_filters_overdue_and_due_today(triage_client, settings):
    now = timezone.now()
    ConsultationRequestFactory(name="Overdue", due_at=now - timedelta(minutes=5))
    ConsultationRequestFactory(name="Next week", due_at=now + timedelta(days=7))
    ConsultationRequestFactory(
        name="Overdue but reached", due_at=now - timedelta(hours=1), status="contacted"
    )

    assert _names(triage_client.get(CONSULTATIONS, {"promise": "overdue"})) == ["Overdue"]
    assert _names(triage_client.get(CONSULTATIONS, {"promise": "today"})) == []


def test_queue_filter_due_today_finds_a_request_due_later_today(triage_client, settings):
    # Clinic time set to a zone where it is about midday now, so "later today" always exists
    # (Etc/GMT-N is N hours ahead of UTC: the sign is the other way round).
    ahead = 12 - timezone.now().astimezone(UTC).hour
    settings.TIME_ZONE = f"Etc/GMT{-ahead:+d}" if ahead else "Etc/GMT"
    now = timezone.localtime()
    assert 11 <= now.hour <= 12
    end_of_today = now.replace(hour=23, minute=59, second=0, microsecond=0)
    ConsultationRequestFactory(name="Due tonight", due_at=end_of_today)

    response = triage_client.get(CONSULTATIONS, {"promise": "today"})

    assert _names(response) == ["Due tonight"]
    assert '<strong class="due-today">Due today 23:59' in response.content.decode()


def test_queue_filter_open_leaves_out_booked_and_closed(triage_client):
    ConsultationRequestFactory(name="New", status="new")
    ConsultationRequestFactory(name="Contacted", status="contacted")
    ConsultationRequestFactory(name="Booked", status="booked")
    ConsultationRequestFactory(name="Closed", status="closed", close_reason="duplicate")

    assert sorted(_names(triage_client.get(CONSULTATIONS, {"status": "open"}))) == [
        "Contacted",
        "New",
    ]


def test_queue_marks_possible_duplicates(triage_client):
    ConsultationRequestFactory(name="First", email="ben@example.com", phone="+447911000001")
    ConsultationRequestFactory(name="Again", email="Ben@Example.com ", phone="+447911000002")

    html = triage_client.get(CONSULTATIONS).content.decode()

    assert html.count("1 possible</span>") == 2


# --- assignment --------------------------------------------------------------------------------


def test_assign_to_me_action_on_the_list(triage_client, triage_user):
    consultations = ConsultationRequestFactory.create_batch(2)

    response = triage_client.post(
        CONSULTATIONS,
        {"action": "assign_to_me", "_selected_action": [c.pk for c in consultations]},
        follow=True,
    )

    assert ConsultationRequest.objects.mine(triage_user).count() == 2
    assert "2 request(s) assigned to you." in response.content.decode()


def test_assign_to_me_on_the_change_page(triage_client, triage_user, old_request):
    response = triage_client.post(
        change_url(old_request),
        {"CHANGE_FORM-action": "assign_to_me", "_selected_action": [old_request.pk]},
    )

    old_request.refresh_from_db()
    assert response.status_code == 302
    assert old_request.assigned_to == triage_user


def test_change_page_assigns_to_a_colleague(triage_client, old_request):
    colleague = UserFactory(first_name="Cara", last_name="Colleague")

    triage_client.post(
        change_url(old_request),
        _as_submitted(triage_client, old_request, assigned_to=str(colleague.pk)),
    )

    old_request.refresh_from_db()
    assert old_request.assigned_to == colleague
    assert old_request.history.latest().history_change_reason == f"Assigned to {colleague}"


# --- the workflow on the change page ----------------------------------------------------------


def test_change_page_logs_an_attempt_that_reached_the_patient(
    triage_client, triage_user, old_request
):
    data = _as_submitted(
        triage_client,
        old_request,
        **{
            "contact_attempts-0-channel": "phone",
            "contact_attempts-0-outcome": "reached",
            "contact_attempts-0-note": "Will book online",
        },
    )

    response = triage_client.post(change_url(old_request), data)

    assert response.status_code == 302
    attempt = ContactAttempt.objects.get()
    assert (attempt.by, attempt.outcome, attempt.note) == (
        triage_user,
        "reached",
        "Will book online",
    )
    old_request.refresh_from_db()
    assert old_request.status == "contacted"
    assert old_request.first_contact_at == attempt.attempted_at


def test_change_page_adds_a_note_with_its_author(triage_client, triage_user, old_request):
    data = _as_submitted(triage_client, old_request, **{"notes-0-text": "Prefers a woman doctor."})

    triage_client.post(change_url(old_request), data)

    note = InternalNote.objects.get()
    assert (note.author, note.text) == (triage_user, "Prefers a woman doctor.")
    html = triage_client.get(change_url(old_request)).content.decode()
    assert "Prefers a woman doctor." in html
    assert "Tess Triage" in html


def test_change_page_does_the_whole_workflow(triage_client, old_request):
    url = change_url(old_request)

    triage_client.post(url, _as_submitted(triage_client, old_request, new_status="contacted"))
    triage_client.post(url, _as_submitted(triage_client, old_request, new_status="booked"))
    triage_client.post(
        url,
        _as_submitted(triage_client, old_request, new_status="closed", closing_reason="declined"),
    )

    old_request.refresh_from_db()
    assert (old_request.status, old_request.close_reason) == ("closed", "declined")
    reasons = list(
        old_request.history.exclude(history_change_reason=None).values_list(
            "history_change_reason", flat=True
        )
    )
    assert "Status: Contacted → Booked" in reasons


def test_change_page_only_offers_allowed_moves(triage_client):
    booked = ConsultationRequestFactory(status="booked")

    response = triage_client.get(change_url(booked))

    choices = [
        value for value, _ in response.context["adminform"].form.fields["new_status"].choices
    ]
    assert choices == ["", "closed"]


def test_change_page_refuses_a_move_the_workflow_does_not_allow(triage_client):
    booked = ConsultationRequestFactory(status="booked")

    response = triage_client.post(
        change_url(booked), _as_submitted(triage_client, booked, new_status="new")
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == "booked"


def test_change_page_closing_needs_a_reason(triage_client, old_request):
    response = triage_client.post(
        change_url(old_request),
        _as_submitted(triage_client, old_request, new_status="closed"),
    )

    assert response.status_code == 200
    assert "Choose why the request is being closed." in response.content.decode()
    old_request.refresh_from_db()
    assert old_request.status == "new"


def test_change_page_closes_as_no_reply_with_the_third_attempt_in_the_same_save(
    triage_client, old_request
):
    ContactAttemptFactory.create_batch(2, consultation=old_request)
    data = _as_submitted(
        triage_client,
        old_request,
        new_status="closed",
        closing_reason="no_reply",
        **{"contact_attempts-2-channel": "phone", "contact_attempts-2-outcome": "no_answer"},
    )

    response = triage_client.post(change_url(old_request), data)

    old_request.refresh_from_db()
    assert response.status_code == 302
    assert (old_request.status, old_request.close_reason) == ("closed", "no_reply")


def test_change_page_shows_why_a_no_reply_close_was_refused(triage_client, old_request):
    ContactAttemptFactory(consultation=old_request)

    response = triage_client.post(
        change_url(old_request),
        _as_submitted(triage_client, old_request, new_status="closed", closing_reason="no_reply"),
        follow=True,
    )

    old_request.refresh_from_db()
    assert old_request.status == "new"
    assert response.redirect_chain[-1][0] == change_url(old_request)
    assert any("has 1 contact attempt(s) logged" in m for m in _messages(response))
    assert not any("was changed successfully" in m for m in _messages(response))


def test_a_refused_move_says_which_notes_and_attempts_were_saved_all_the_same(
    triage_client, old_request
):
    """Notes and attempts cannot be deleted: told only of the error, staff would type them in
    again and the log would hold each one twice."""
    response = triage_client.post(
        change_url(old_request),
        _as_submitted(
            triage_client,
            old_request,
            new_status="closed",
            closing_reason="no_reply",
            **{"notes-0-text": "Rang twice, no answer."},
        ),
        follow=True,
    )

    messages = _messages(response)
    assert any("contact attempt(s) logged" in m for m in messages)  # the refusal
    assert "Saved, so do not enter them again: 1 internal note." in messages
    assert old_request.notes.get().text == "Rang twice, no answer."


def test_logged_attempts_cannot_be_rewritten(triage_client, old_request):
    attempt = ContactAttemptFactory(consultation=old_request, outcome="no_answer")
    data = _as_submitted(
        triage_client,
        old_request,
        **{"contact_attempts-0-id": str(attempt.pk), "contact_attempts-0-outcome": "reached"},
    )

    triage_client.post(change_url(old_request), data)

    attempt.refresh_from_db()
    assert attempt.outcome == "no_answer"
    assert (
        'name="contact_attempts-0-outcome"'
        not in triage_client.get(change_url(old_request)).content.decode()
    )


def test_change_page_refuses_an_attempt_in_the_future(triage_client, old_request):
    tomorrow = timezone.localtime() + timedelta(days=1)
    data = _as_submitted(
        triage_client,
        old_request,
        **{
            "contact_attempts-0-attempted_at_0": tomorrow.strftime("%d/%m/%Y"),
            "contact_attempts-0-attempted_at_1": "10:00:00",
            "contact_attempts-0-channel": "phone",
            "contact_attempts-0-outcome": "reached",
        },
    )

    response = triage_client.post(change_url(old_request), data)

    assert response.status_code == 200
    assert "An attempt cannot be in the future." in response.content.decode()
    assert ContactAttempt.objects.count() == 0


# --- list actions ------------------------------------------------------------------------------


def test_mark_booked_action_says_why_it_skipped_some(triage_client):
    contacted = ConsultationRequestFactory(status="contacted")
    closed = ConsultationRequestFactory(status="closed", close_reason="duplicate")

    response = triage_client.post(
        CONSULTATIONS,
        {"action": "mark_booked", "_selected_action": [contacted.pk, closed.pk]},
        follow=True,
    )

    contacted.refresh_from_db()
    closed.refresh_from_db()
    assert (contacted.status, closed.status) == ("booked", "closed")
    messages = _messages(response)
    assert "1 request(s) marked as booked." in messages
    assert f"{closed} is closed: it cannot move to booked." in messages


def test_close_with_reason_action_asks_for_the_reason_first(triage_client, old_request):
    # The rows before the action: the confirmation page must not mistake one for the other.
    ask = triage_client.post(
        CONSULTATIONS, {"_selected_action": [old_request.pk], "action": "close_with_reason"}
    )

    assert ask.status_code == 200
    assert "Close these requests? Closed is final." in ask.content.decode()
    old_request.refresh_from_db()
    assert old_request.status == "new"

    confirm = form_data(ask.content.decode().replace("<form method", '<form id="c" method'), "c")
    triage_client.post(CONSULTATIONS, confirm | {"reason": "booked_elsewhere"})

    old_request.refresh_from_db()
    assert (old_request.status, old_request.close_reason) == ("closed", "booked_elsewhere")


# --- duplicates and history --------------------------------------------------------------------


def test_possible_duplicates_are_linked_on_each_others_pages(triage_client):
    first = ConsultationRequestFactory(name="Ben", email="ben@example.com", phone="+447911000001")
    second = ConsultationRequestFactory(
        name="Ben again", email=" BEN@example.com", phone="+447911000002"
    )

    first_page = triage_client.get(change_url(first)).content.decode()
    second_page = triage_client.get(change_url(second)).content.decode()

    assert f'<a href="{change_url(second)}">{second}</a>: Ben again' in first_page
    assert f'<a href="{change_url(first)}">{first}</a>: Ben' in second_page
    assert "(same email)" in first_page
    assert ConsultationRequest.objects.count() == 2  # linked, never merged


def test_change_page_shows_who_changed_what(triage_client, old_request):
    triage_client.post(
        change_url(old_request), _as_submitted(triage_client, old_request, new_status="booked")
    )

    html = triage_client.get(change_url(old_request)).content.decode()

    assert "<strong>Tess Triage</strong>: Status: New → Booked" in html
    assert "<strong>website</strong>: Received" in html  # made with no staff member logged in
    assert "status: New → Booked" in html


def test_history_page_is_readable_but_cannot_revert(triage_client, old_request):
    triage_client.post(
        change_url(old_request), _as_submitted(triage_client, old_request, new_status="booked")
    )
    first_version = old_request.history.earliest()
    history_url = reverse("admin:leads_consultationrequest_history", args=[old_request.pk])
    version_url = reverse(
        "admin:leads_consultationrequest_simple_history",
        args=[old_request.pk, first_version.history_id],
    )

    history = triage_client.get(history_url)
    version = triage_client.get(version_url)
    revert = triage_client.post(version_url, {"_change_history": "1"})

    assert history.status_code == 200
    assert "Status: New → Booked" in history.content.decode()
    assert version.status_code == 200
    assert revert.status_code == 403
    old_request.refresh_from_db()
    assert old_request.status == "booked"


# --- erasure -----------------------------------------------------------------------------------


def test_triage_staff_are_not_offered_erasure(triage_client, old_request):
    response = triage_client.get(CONSULTATIONS)
    choices = [name for name, _ in response.context["action_form"].fields["action"].choices]

    triage_client.post(
        CONSULTATIONS,
        {"action": "erase_personal_details", "_selected_action": [old_request.pk]},
    )

    assert "erase_personal_details" not in choices
    old_request.refresh_from_db()
    assert old_request.erased_at is None


def test_erasure_from_the_change_page_confirms_then_erases(admin_client, admin_user, old_request):
    url = change_url(old_request)

    ask = admin_client.post(
        url, {"CHANGE_FORM-action": "erase_personal_details", "_selected_action": [old_request.pk]}
    )
    assert ask.status_code == 200
    assert "It cannot be undone." in ask.content.decode()

    confirm = form_data(ask.content.decode().replace("<form method", '<form id="c" method'), "c")
    admin_client.post(url, confirm | {"reason": "Asked by email"})

    old_request.refresh_from_db()
    assert old_request.erased_at is not None
    assert old_request.name == "[erased]"
    assert old_request.history.latest().history_user == admin_user
    assert old_request.history.latest().history_change_reason == "Erased: Asked by email"
    assert not old_request.history.filter(name="Ben Patient").exists()
    erased_page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in erased_page  # read-only from now on


# --- export ------------------------------------------------------------------------------------


def test_export_button_is_on_the_list_for_triage_staff(triage_client, old_request):
    html = triage_client.get(CONSULTATIONS, {"status": "open"}).content.decode()

    assert f'action="{EXPORT}?status=open"' in html
    assert "Export these 1 to CSV" in html


def test_export_follows_the_lists_filters_and_is_logged(triage_client, triage_user):
    mine = ConsultationRequestFactory(
        name="Mine", assigned_to=triage_user, description="Private health details"
    )
    ConsultationRequestFactory(name="Not mine")

    response = triage_client.post(f"{EXPORT}?assigned=me")

    rows = _csv_rows(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="call-backs-')
    assert rows[0] == [
        "ID",
        "Name",
        "Phone",
        "Email",
        "Preferred contact",
        "Best time",
        "Self-check urgency",
        "Shown to the patient",
        "Reply due",
        "Status",
        "Assigned to",
    ]
    assert [row[1] for row in rows[1:]] == ["Mine"]
    assert rows[1][-1] == "Tess Triage"
    assert "Private health details" not in response.content.decode()
    log = ExportLog.objects.get()
    assert (log.exported_by, log.row_count, log.filters) == (triage_user, 1, "assigned=me")
    assert list(log.requests.all()) == [mine]
    assert "Tess Triage (export #" in triage_client.get(change_url(mine)).content.decode()


def test_export_defuses_spreadsheet_formulas(triage_client):
    ConsultationRequestFactory(name='=HYPERLINK("http://evil.example","Click")')

    rows = _csv_rows(triage_client.post(EXPORT))

    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","Click")'


def test_export_must_be_posted(triage_client):
    assert triage_client.get(EXPORT).status_code == 405
    assert ExportLog.objects.count() == 0


def test_export_selected_action(triage_client):
    wanted, _other = ConsultationRequestFactory.create_batch(2)

    response = triage_client.post(
        CONSULTATIONS, {"action": "export_selected", "_selected_action": [wanted.pk]}
    )

    assert [row[0] for row in _csv_rows(response)[1:]] == [str(wanted.pk)]
    assert ExportLog.objects.get().filters == "selected rows"


# --- report requests ---------------------------------------------------------------------------


def test_triage_staff_see_report_delivery_and_can_resend(
    triage_client, triage_user, django_capture_on_commit_callbacks
):
    failed = ReportRequestFactory(status="failed", attempts=5, last_error="SMTP 550: no mailbox")

    listing = triage_client.get(REPORTS).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = triage_client.post(
            REPORTS, {"action": "resend", "_selected_action": [failed.pk]}, follow=True
        )

    assert "SMTP 550: no mailbox" in listing
    assert '<td class="field-attempts">5</td>' in listing
    failed.refresh_from_db()
    assert failed.status == "queued"
    assert len(callbacks) == 1
    assert "1 report(s) queued to send again." in response.content.decode()
    assert failed.history.latest().history_user == triage_user


def test_triage_staff_resend_from_the_report_page(
    triage_client, django_capture_on_commit_callbacks
):
    failed = ReportRequestFactory(status="failed")
    url = reverse("admin:leads_reportrequest_change", args=[failed.pk])

    page = triage_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        triage_client.post(url, {"CHANGE_FORM-action": "resend", "_selected_action": [failed.pk]})

    assert 'name="_save"' not in page  # view only: staff cannot edit a report request
    failed.refresh_from_db()
    assert failed.status == "queued"
    assert len(callbacks) == 1


def test_triage_staff_cannot_edit_a_report_request(triage_client):
    report = ReportRequestFactory(email="ada@example.com")
    url = reverse("admin:leads_reportrequest_change", args=[report.pk])

    response = triage_client.post(url, {"email": "someone@else.example"})

    assert response.status_code == 403
