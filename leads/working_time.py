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


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` of opening time have passed after ``start`` (an aware datetime)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    opening, closing = time(settings.CLINIC_OPENING_HOUR), time(settings.CLINIC_CLOSING_HOUR)
    current = start.astimezone(zone)
    remaining = timedelta(hours=hours)
    while True:
        day = current.date()
        day_open = datetime.combine(day, opening, tzinfo=zone)
        day_close = datetime.combine(day, closing, tzinfo=zone)
        if not is_working_day(day) or current >= day_close:
            current = datetime.combine(day + timedelta(days=1), opening, tzinfo=zone)
            continue
        current = max(current, day_open)
        available = day_close - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = datetime.combine(day + timedelta(days=1), opening, tzinfo=zone)


def one_working_day_after(start: datetime) -> datetime:
    return add_working_hours(start, settings.CLINIC_CLOSING_HOUR - settings.CLINIC_OPENING_HOUR)
