import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from leads import dashboard
from leads.charts import BarChart, Series, axis_ticks
from tests.factories import ConsultationRequestFactory, FactSheetFactory, ReportRequestFactory

DASHBOARD = reverse("admin:leads_dashboard")
LONDON = ZoneInfo("Europe/London")
# A Wednesday afternoon, so "this week" began on Monday 23 November 2026.
NOW = datetime(2026, 11, 25, 15, tzinfo=LONDON)


def london(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _clinic_hours(settings) -> None:
    settings.TIME_ZONE = "Europe/London"
    settings.CLINIC_OPENING_HOUR = 9
    settings.CLINIC_CLOSING_HOUR = 17


def _chart(board: dashboard.Dashboard, slug: str) -> BarChart:
    return next(chart for chart in board.charts if chart.slug == slug)


def _stat(board: dashboard.Dashboard, label: str) -> str:
    return next(stat.value for stat in board.stats if stat.label == label)


# --- the page ----------------------------------------------------------------------------------


def test_dashboard_page_for_triage_staff_has_five_accessible_charts(triage_client):
    ConsultationRequestFactory()
    ReportRequestFactory(status="failed")

    response = triage_client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
    for slug in ["requests-by-sheet", "first-contact", "promise-kept", "report-emails"]:
        assert f'aria-labelledby="{slug}-title {slug}-desc"' in html
        assert re.search(rf'<title id="{slug}-title">[^<]+</title><desc id="{slug}-desc">', html)
    assert html.count("<summary>The numbers as a table</summary>") == 5
    assert html.count('<th scope="col">Week starting</th>') == 4
    assert "style=" not in html.split('id="content-main"')[1]  # CSP: no inline style


def test_dashboard_needs_a_logged_in_member_of_staff(client, db):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_dashboard_period_can_be_chosen_and_falls_back_to_twelve_weeks(triage_client):
    four = triage_client.get(DASHBOARD, {"weeks": "4"}).context["dashboard"]
    odd = triage_client.get(DASHBOARD, {"weeks": "1000"}).context["dashboard"]

    assert len(four.charts[0].categories) == 4
    assert odd.weeks == 12


def test_dashboard_stats_link_to_the_filtered_queue(triage_client):
    html = triage_client.get(DASHBOARD).content.decode()

    changelist = reverse("admin:leads_consultationrequest_changelist")
    assert f'<a href="{changelist}?promise=overdue">Overdue now</a>' in html


# --- the numbers -------------------------------------------------------------------------------


def test_requests_per_week_by_sheet(db):
    back, neck = FactSheetFactory(title="Back pain"), FactSheetFactory(title="Neck pain")
    ConsultationRequestFactory(sheet=back, created_at=london(23, 10))
    ConsultationRequestFactory(sheet=back, created_at=london(24, 10))
    ConsultationRequestFactory(sheet=neck, created_at=london(17, 10))
    ConsultationRequestFactory(sheet=neck, created_at=london(1, 10, month=1))  # outside

    chart = _chart(dashboard.build(weeks=4, now=NOW), "requests-by-sheet")

    assert chart.categories == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]
    assert [(s.label, s.values) for s in chart.series] == [
        ("Back pain", [0, 0, 0, 2]),
        ("Neck pain", [0, 0, 1, 0]),
    ]
    assert chart.description.startswith("3 consultation requests in 4 weeks.")


def test_median_time_to_first_contact_counts_opening_hours(db):
    # Friday 16:00 -> Monday 10:00 is two working hours; Monday 9:00 -> 13:00 is four.
    ConsultationRequestFactory(created_at=london(20, 16), first_contact_at=london(23, 10))
    ConsultationRequestFactory(created_at=london(23, 9), first_contact_at=london(23, 13))
    ConsultationRequestFactory(created_at=london(24, 9))  # not contacted yet

    board = dashboard.build(weeks=4, now=NOW)

    chart = _chart(board, "first-contact")
    assert chart.series[0].values == [None, None, 2.0, 4.0]
    assert chart.target == 8
    assert _stat(board, "Median working hours to first contact") == "3"


def test_share_answered_within_the_promise(db):
    ConsultationRequestFactory(  # in time
        created_at=london(23, 9), due_at=london(23, 17), first_contact_at=london(23, 12)
    )
    ConsultationRequestFactory(  # late
        created_at=london(23, 10), due_at=london(24, 10), first_contact_at=london(24, 12)
    )
    ConsultationRequestFactory(created_at=london(24, 9), due_at=london(24, 17))  # missed
    ConsultationRequestFactory(created_at=london(25, 14), due_at=london(26, 14))  # not yet due
    ConsultationRequestFactory(  # a duplicate is not owed a reply of its own
        created_at=london(23, 11), due_at=london(24, 11), status="closed", close_reason="duplicate"
    )

    board = dashboard.build(weeks=4, now=NOW)

    assert _chart(board, "promise-kept").series[0].values == [None, None, None, 33]
    assert _stat(board, "Answered within the promise") == "33%"


def test_report_emails_sent_and_failed(db):
    ReportRequestFactory.create_batch(3, status="sent", created_at=london(24, 10))
    ReportRequestFactory(status="failed", created_at=london(18, 10))

    board = dashboard.build(weeks=4, now=NOW)

    chart = _chart(board, "report-emails")
    assert [(s.label, s.values) for s in chart.series][:2] == [
        ("Sent", [0, 0, 0, 3]),
        ("Failed", [0, 0, 1, 0]),
    ]
    assert _stat(board, "Report emails failed") == "1"


def test_open_requests_by_age(db):
    ConsultationRequestFactory(created_at=NOW - timedelta(hours=3))
    ConsultationRequestFactory(created_at=NOW - timedelta(days=2), status="contacted")
    ConsultationRequestFactory(created_at=NOW - timedelta(days=40))
    ConsultationRequestFactory(created_at=NOW - timedelta(days=2), status="booked")  # not open

    chart = _chart(dashboard.build(weeks=4, now=NOW), "open-by-age")

    assert chart.categories[0] == "Under 1 day"
    assert chart.series[0].values == [1, 0, 0, 0, 1]  # new
    assert chart.series[1].values == [0, 1, 0, 0, 0]  # contacted


# --- the drawing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (8, [0, 2, 4, 6, 8]),
        (1, [0, 1]),
        (23, [0, 10, 20, 30]),
        (100, [0, 25, 50, 75, 100]),
    ],
)
def test_axis_ticks_are_round_and_reach_the_top(value, ticks):
    assert axis_ticks(value) == ticks


def test_axis_ticks_for_measures_may_be_fractions():
    assert axis_ticks(0.3, whole=False) == pytest.approx([0, 0.1, 0.2, 0.3])


def test_chart_escapes_labels_and_gives_each_bar_a_title():
    chart = BarChart(
        slug="t",
        title="Per <sheet>",
        description="A & B",
        category_label="Week",
        categories=["1 Jan"],
        series=[Series("<b>Back</b>", [2], "#000"), Series("Neck", [1], "#111")],
    )

    svg = str(chart.svg())

    assert '<title id="t-title">Per &lt;sheet&gt;</title><desc id="t-desc">A &amp; B</desc>' in svg
    assert "<title>1 Jan: &lt;b&gt;Back&lt;/b&gt; 2 </title>" in svg
    assert chart.table_rows() == [["1 Jan", "2", "1", "3"]]


def test_empty_chart_says_so():
    chart = BarChart(
        slug="e",
        title="Empty",
        description="Nothing",
        category_label="Week",
        categories=["1 Jan", "8 Jan"],
        series=[Series("Requests", [0, 0], "#000")],
    )

    assert "Nothing to show for this period" in str(chart.svg())
