from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from leads.working_time import (
    close_of_working_day,
    is_working_day,
    one_working_day_after,
    working_hours_between,
)

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _clinic_hours(settings) -> None:
    settings.TIME_ZONE = "Europe/London"
    settings.CLINIC_OPENING_HOUR = 9
    settings.CLINIC_CLOSING_HOUR = 17


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(london(2026, 11, 23, 15), london(2026, 11, 24, 15), id="monday-afternoon"),
        pytest.param(london(2026, 11, 23, 9), london(2026, 11, 23, 17), id="monday-opening"),
        pytest.param(london(2026, 11, 23, 7), london(2026, 11, 23, 17), id="before-opening"),
        pytest.param(london(2026, 11, 23, 17), london(2026, 11, 24, 17), id="at-closing"),
        pytest.param(london(2026, 11, 27, 20), london(2026, 11, 30, 17), id="friday-evening"),
        pytest.param(london(2026, 11, 27, 16), london(2026, 11, 30, 16), id="friday-afternoon"),
        pytest.param(london(2026, 11, 28, 11), london(2026, 11, 30, 17), id="saturday"),
        pytest.param(london(2026, 11, 29, 23, 59), london(2026, 11, 30, 17), id="sunday-night"),
        pytest.param(
            london(2026, 12, 24, 15), london(2026, 12, 29, 15), id="christmas-and-boxing-day"
        ),
        pytest.param(london(2026, 4, 2, 12), london(2026, 4, 7, 12), id="easter"),
    ],
)
def test_one_working_day_after(start, expected):
    result = one_working_day_after(start)

    assert result == expected
    assert result.utcoffset() == expected.utcoffset()


def test_one_working_day_after_across_the_clocks_going_forward():
    # Clocks go forward on Sunday 29 March 2026: 15:00 GMT Friday becomes 15:00 BST Monday.
    result = one_working_day_after(london(2026, 3, 27, 15))

    assert result == datetime(2026, 3, 30, 14, tzinfo=UTC)
    assert result.astimezone(LONDON).hour == 15


def test_one_working_day_after_accepts_utc_and_answers_in_london_time():
    # 14:00 UTC on a summer Monday is 15:00 in London.
    result = one_working_day_after(datetime(2026, 6, 15, 14, tzinfo=UTC))

    assert result == london(2026, 6, 16, 15)
    assert result.tzinfo == LONDON


def test_one_working_day_after_follows_the_clinic_hours(settings):
    settings.CLINIC_OPENING_HOUR = 8
    settings.CLINIC_CLOSING_HOUR = 18

    assert one_working_day_after(london(2026, 11, 23, 7)) == london(2026, 11, 23, 18)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day falls on a Saturday: Monday is the holiday
        (date(2026, 12, 26), False),  # Saturday
        (date(2026, 8, 31), False),  # Summer bank holiday (England)
        (date(2026, 8, 3), True),  # Scotland's summer holiday, not England's
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(london(2026, 11, 23, 10), london(2026, 11, 23, 17), id="during-hours"),
        pytest.param(london(2026, 11, 23, 7), london(2026, 11, 23, 17), id="before-opening"),
        pytest.param(london(2026, 11, 23, 16, 59), london(2026, 11, 23, 17), id="just-in-time"),
        pytest.param(london(2026, 11, 23, 17), london(2026, 11, 24, 17), id="at-closing"),
        pytest.param(london(2026, 11, 27, 20), london(2026, 11, 30, 17), id="friday-evening"),
        pytest.param(london(2026, 11, 28, 11), london(2026, 11, 30, 17), id="saturday"),
        pytest.param(london(2026, 12, 24, 18), london(2026, 12, 29, 17), id="christmas-eve-late"),
    ],
)
def test_close_of_working_day(start, expected):
    assert close_of_working_day(start) == expected


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        pytest.param(london(2026, 11, 23, 10), london(2026, 11, 23, 13), 3, id="same-morning"),
        pytest.param(london(2026, 11, 23, 7), london(2026, 11, 23, 20), 8, id="whole-day"),
        pytest.param(london(2026, 11, 27, 16), london(2026, 11, 30, 10), 2, id="over-weekend"),
        pytest.param(london(2026, 12, 24, 16), london(2026, 12, 29, 9, 30), 1.5, id="christmas"),
        pytest.param(london(2026, 11, 23, 13), london(2026, 11, 23, 10), 0, id="reversed"),
    ],
)
def test_working_hours_between(start, end, hours):
    assert working_hours_between(start, end) == hours
