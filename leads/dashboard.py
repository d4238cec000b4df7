"""The numbers a clinic lead asks for, for the admin dashboard page.

Rows for the period are read once and counted in Python: a clinic receives hundreds of
requests a week at most, and this keeps the week boundaries (clinic time) and the working
hours (bank holidays) exactly as the rest of triage computes them, on SQLite and PostgreSQL.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .charts import GREY, PALETTE, BarChart, Series, number
from .models import (
    CloseReason,
    ConsultationRequest,
    ConsultationStatus,
    ReportRequest,
    ReportStatus,
)
from .working_time import working_hours_between

WEEK_CHOICES = [4, 12, 26, 52]
DEFAULT_WEEKS = 12
MAX_SHEETS_SHOWN = 6  # the rest are added up as "Other sheets"
AGE_BUCKETS: list[tuple[timedelta | None, str]] = [
    (timedelta(days=1), "Under 1 day"),
    (timedelta(days=3), "1 to 3 days"),
    (timedelta(days=7), "3 to 7 days"),
    (timedelta(days=28), "1 to 4 weeks"),
    (None, "Over 4 weeks"),
]


@dataclass(frozen=True)
class Stat:
    label: str
    value: str
    hint: str = ""
    url: str = ""


@dataclass(frozen=True)
class Dashboard:
    weeks: int
    since: date
    stats: list[Stat]
    charts: list[BarChart]


def parse_weeks(raw: str | None) -> int:
    try:
        weeks = int(raw or DEFAULT_WEEKS)
    except ValueError:
        return DEFAULT_WEEKS
    return weeks if weeks in WEEK_CHOICES else DEFAULT_WEEKS


class _Weeks:
    """The period's weeks, Monday to Sunday in clinic time, oldest first."""

    def __init__(self, weeks: int, now: datetime) -> None:
        self.zone = ZoneInfo(settings.TIME_ZONE)
        today = timezone.localtime(now, self.zone).date()
        this_monday = today - timedelta(days=today.weekday())
        self.starts = [this_monday - timedelta(weeks=n) for n in reversed(range(weeks))]
        self.since = datetime.combine(self.starts[0], time.min, tzinfo=self.zone)
        self.labels = [f"{start:%-d %b}" for start in self.starts]
        self._index = {start: i for i, start in enumerate(self.starts)}

    def index(self, moment: datetime) -> int | None:
        day = timezone.localtime(moment, self.zone).date()
        return self._index.get(day - timedelta(days=day.weekday()))


def build(*, weeks: int = DEFAULT_WEEKS, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    period = _Weeks(weeks, now)
    consultations = list(
        ConsultationRequest.objects.filter(created_at__gte=period.since).values_list(
            "created_at", "sheet__title", "due_at", "first_contact_at", "close_reason"
        )
    )
    reports = list(
        ReportRequest.objects.filter(created_at__gte=period.since)
        # Erased before it was sent: not a delivery that failed, and nothing to resend.
        .exclude(status=ReportStatus.FAILED, erased_at__isnull=False)
        .values_list("created_at", "status")
    )
    open_requests = list(ConsultationRequest.objects.open().values_list("created_at", "status"))

    per_sheet = _requests_by_sheet(period, consultations)
    contact, contact_median = _time_to_first_contact(period, consultations)
    promise, kept, decided = _promise_kept(period, consultations, now)
    delivery, sent, failed = _report_delivery(period, reports)
    ages = _open_by_age(open_requests, now)

    changelist = reverse("admin:leads_consultationrequest_changelist")
    stats = [
        Stat("Open requests", str(len(open_requests)), url=f"{changelist}?status=open"),
        Stat(
            "Overdue now",
            str(ConsultationRequest.objects.overdue(now).count()),
            url=f"{changelist}?promise=overdue",
        ),
        Stat(
            "Due today",
            str(ConsultationRequest.objects.due_today(now).count()),
            url=f"{changelist}?promise=today",
        ),
        Stat(
            "Median working hours to first contact",
            number(contact_median),
            hint=f"Requests received since {period.starts[0]:%-d %b}",
        ),
        Stat(
            "Answered within the promise",
            f"{round(100 * kept / decided)}%" if decided else "—",
            hint=f"{kept} of {decided} whose promise has run its course",
        ),
        Stat(
            "Report emails failed",
            str(failed),
            hint=f"{sent} sent in the same period",
            url=f"{reverse('admin:leads_reportrequest_changelist')}?status__exact=failed",
        ),
    ]
    return Dashboard(
        weeks=weeks,
        since=period.starts[0],
        stats=stats,
        charts=[per_sheet, contact, promise, delivery, ages],
    )


def _requests_by_sheet(period: _Weeks, rows: list[tuple]) -> BarChart:
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(period.starts))
    for created_at, title, *_ in rows:
        week = period.index(created_at)
        if week is not None:
            counts[title][week] += 1
    by_size = sorted(counts, key=lambda title: (-sum(counts[title]), title))
    shown, rest = by_size[:MAX_SHEETS_SHOWN], by_size[MAX_SHEETS_SHOWN:]
    series = [
        Series(title, counts[title], PALETTE[i % len(PALETTE)]) for i, title in enumerate(shown)
    ]
    if rest:
        other = [sum(counts[title][i] for title in rest) for i in range(len(period.starts))]
        series.append(Series("Other sheets", other, GREY))
    total = len(rows)
    busiest = f" The most came from “{shown[0]}”." if shown else ""
    return BarChart(
        slug="requests-by-sheet",
        title="Consultation requests per week, by fact sheet",
        description=f"{total} consultation requests in {len(period.starts)} weeks.{busiest}",
        category_label="Week starting",
        categories=period.labels,
        series=series or [Series("Requests", [0] * len(period.starts), PALETTE[0])],
    )


def _time_to_first_contact(period: _Weeks, rows: list[tuple]) -> tuple[BarChart, float | None]:
    hours: dict[int, list[float]] = defaultdict(list)
    for created_at, _title, _due, first_contact_at, _reason in rows:
        week = period.index(created_at)
        if first_contact_at and week is not None:
            hours[week].append(working_hours_between(created_at, first_contact_at))
    medians = [round(median(hours[i]), 1) if hours[i] else None for i in range(len(period.starts))]
    everything = [h for week in hours.values() for h in week]
    overall = round(median(everything), 1) if everything else None
    promise = settings.CLINIC_CLOSING_HOUR - settings.CLINIC_OPENING_HOUR
    summary = (
        f"Overall median {number(overall)} working hours against a promise of {promise}."
        if overall is not None
        else "No request in this period has been contacted yet."
    )
    chart = BarChart(
        slug="first-contact",
        title="Median time to first contact, by week received",
        description=summary,
        category_label="Week starting",
        categories=period.labels,
        series=[Series("Median", medians, PALETTE[0])],
        unit="working hours",
        whole_numbers=False,
        target=promise,
        target_label="One working day",
        note="Opening hours only, from the request to the first contact attempt, answered "
        "or not. Weeks with no contacted request show no bar.",
    )
    return chart, overall


def _promise_kept(period: _Weeks, rows: list[tuple], now: datetime) -> tuple[BarChart, int, int]:
    kept, decided = Counter(), Counter()
    for created_at, _title, due_at, first_contact_at, close_reason in rows:
        week = period.index(created_at)
        # Duplicates were never owed a reply of their own; requests still inside their promise
        # with no reply yet cannot be judged.
        if week is None or close_reason == CloseReason.DUPLICATE:
            continue
        if first_contact_at is None and due_at >= now:
            continue
        decided[week] += 1
        if first_contact_at is not None and first_contact_at <= due_at:
            kept[week] += 1
    shares = [
        round(100 * kept[i] / decided[i]) if decided[i] else None for i in range(len(period.starts))
    ]
    total_kept, total_decided = sum(kept.values()), sum(decided.values())
    summary = (
        f"{total_kept} of {total_decided} requests ({round(100 * total_kept / total_decided)}%) "
        "had a first contact within the promise."
        if total_decided
        else "No request in this period can be judged yet."
    )
    chart = BarChart(
        slug="promise-kept",
        title="Share answered within the promise, by week received",
        description=summary,
        category_label="Week starting",
        categories=period.labels,
        series=[Series("Answered in time", shares, PALETTE[2])],
        unit="%",
        max_value=100,
        note="Answered means a first contact attempt before the due time. Requests still "
        "within their promise and duplicates are left out.",
    )
    return chart, total_kept, total_decided


def _report_delivery(period: _Weeks, rows: list[tuple]) -> tuple[BarChart, int, int]:
    counts = {status: [0] * len(period.starts) for status in ("sent", "failed", "queued")}
    for created_at, status in rows:
        week = period.index(created_at)
        if week is not None:
            counts[status][week] += 1
    sent, failed = sum(counts["sent"]), sum(counts["failed"])
    chart = BarChart(
        slug="report-emails",
        title="Report emails per week: sent and failed",
        description=f"{sent} report emails sent and {failed} failed in this period; "
        f"{sum(counts['queued'])} still queued.",
        category_label="Week starting",
        categories=period.labels,
        series=[
            Series("Sent", counts["sent"], PALETTE[2]),
            Series("Failed", counts["failed"], PALETTE[5]),
            Series("Queued", counts["queued"], GREY),
        ],
    )
    return chart, sent, failed


def _open_by_age(rows: list[tuple], now: datetime) -> BarChart:
    counts = {status: [0] * len(AGE_BUCKETS) for status in ConsultationStatus.values}
    for created_at, status in rows:
        age = now - created_at
        bucket = next(i for i, (limit, _) in enumerate(AGE_BUCKETS) if limit is None or age < limit)
        counts[status][bucket] += 1
    waiting = sum(counts[ConsultationStatus.NEW])
    return BarChart(
        slug="open-by-age",
        title="Open requests by age",
        description=f"{len(rows)} open requests: {waiting} not yet reached, "
        f"{len(rows) - waiting} contacted and not yet booked or closed.",
        category_label="Received",
        categories=[label for _, label in AGE_BUCKETS],
        series=[
            Series("New", counts[ConsultationStatus.NEW], PALETTE[5]),
            Series("Contacted", counts[ConsultationStatus.CONTACTED], PALETTE[0]),
        ],
    )
