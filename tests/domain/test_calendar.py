"""Deadlines across Chinese holidays and adjusted working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.incidents.calendar import (
    CalendarError,
    WorkingCalendar,
    is_near_due,
    is_overdue,
)

CAL = WorkingCalendar()


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def test_national_day_2025_and_its_adjusted_sunday():
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, adjusted working day (调休)
    assert not CAL.is_working_day(date(2025, 10, 1)) and not CAL.is_working_day(date(2025, 10, 8))
    # Friday 26 Sep 16:30 + 1 working day (7.5 h): 1 h on Friday, then Sunday 28th counts
    assert CAL.add(at(2025, 9, 26, 16, 30), 1, "working_days") == at(2025, 9, 28, 16, 30)
    # Tuesday 30 Sep 17:00 + 2 working hours: the holiday runs 1–8 Oct, work resumes Thursday 9th
    assert CAL.add(at(2025, 9, 30, 17, 0), 2, "working_hours") == at(2025, 10, 9, 10, 0)


def test_spring_festival_2026():
    assert not CAL.is_working_day(date(2026, 2, 17))  # 春节
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday, adjusted working day
    deadline = CAL.add(at(2026, 2, 13, 17, 0), 3, "working_hours")
    assert deadline == at(2026, 2, 14, 11, 0)  # 0.5 h on Friday, 2.5 h on the adjusted Saturday


def test_working_hours_lunch_break_and_minutes():
    assert CAL.add(at(2026, 11, 23, 11, 0), 2, "working_hours") == at(2026, 11, 23, 14, 30)
    assert CAL.add(at(2026, 11, 23, 23, 0), 90, "minutes") == at(2026, 11, 24, 0, 30)
    assert CAL.add(at(2026, 11, 21, 9, 0), 1, "working_hours") == at(
        2026, 11, 23, 9, 30
    )  # Saturday -> Monday
    assert CAL.working_minutes_between(at(2026, 11, 23, 8, 0), at(2026, 11, 23, 18, 0)) == 7.5 * 60


def test_bad_inputs_and_years_beyond_the_data():
    with pytest.raises(CalendarError, match="timezone-aware"):
        CAL.add(datetime(2026, 1, 5, 9), 1, "working_hours")
    with pytest.raises(ValueError, match="unknown unit"):
        CAL.add(at(2026, 1, 5, 9), 1, "fortnights")
    loose = WorkingCalendar()
    assert loose.add(at(2031, 1, 6, 9, 0), 1, "working_hours") == at(2031, 1, 6, 10, 0)
    assert date(2031, 1, 6) in loose.approximate
    with pytest.raises(CalendarError, match="no holiday data"):
        WorkingCalendar(strict=True).is_working_day(date(2031, 1, 6))


def test_overdue_and_near_due():
    now = at(2026, 11, 23, 10, 0)
    assert is_overdue(now - timedelta(minutes=1), now) and not is_overdue(None, now)
    assert is_near_due(now + timedelta(minutes=30), now) and not is_near_due(
        now + timedelta(hours=5), now
    )
