"""The clinic's "we reply within one working day" promise, in opening hours.

Bank holidays for England and Wales come from the maintained ``holidays`` package.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=[year])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _opening_hours(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(settings.CLINIC_OPENING_HOUR), tzinfo=zone),
        datetime.combine(day, time(settings.CLINIC_CLOSING_HOUR), tzinfo=zone),
    )


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` of opening time have passed after ``start`` (an aware datetime)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    current = start.astimezone(zone)
    remaining = timedelta(hours=hours)
    while True:
        day = current.date()
        day_open, day_close = _opening_hours(day, zone)
        if not is_working_day(day) or current >= day_close:
            current = _opening_hours(day + timedelta(days=1), zone)[0]
            continue
        current = max(current, day_open)
        available = day_close - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = _opening_hours(day + timedelta(days=1), zone)[0]


def one_working_day_after(start: datetime) -> datetime:
    return add_working_hours(start, settings.CLINIC_CLOSING_HOUR - settings.CLINIC_OPENING_HOUR)


def close_of_working_day(start: datetime) -> datetime:
    """Closing time of the working day under way at ``start``; if the clinic is closed then
    (evening, weekend, bank holiday), closing time of the next working day."""
    zone = ZoneInfo(settings.TIME_ZONE)
    current = start.astimezone(zone)
    day = current.date()
    while True:
        _, day_close = _opening_hours(day, zone)
        if is_working_day(day) and current < day_close:
            return day_close
        day += timedelta(days=1)


def working_hours_between(start: datetime, end: datetime) -> float:
    """Hours of opening time between two moments (0 if ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(settings.TIME_ZONE)
    start, end = start.astimezone(zone), end.astimezone(zone)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            day_open, day_close = _opening_hours(day, zone)
            overlap = min(day_close, end) - max(day_open, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600
