"""Working-day calendar for deadlines: Chinese public holidays and adjusted working days (调休).

Holidays and 调休 days come from the ``chinesecalendar`` package, which
follows the State Council's yearly notice. For a year it does not cover yet
(the notice comes out each November), the calendar falls back to
Monday–Friday and says so (``approximate`` dates are recorded), unless
``strict=True``, which raises instead. Working hours default to 08:30–12:00
and 13:30–17:30, Asia/Shanghai. All datetimes must be timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gridmgmt.core.periods import SHANGHAI

DEFAULT_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


class CalendarError(ValueError):
    """A date the holiday data does not cover (strict calendars only) or a naive datetime."""


@dataclass
class WorkingCalendar:
    """Working days and hours; see the module docstring."""

    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    tz: ZoneInfo = SHANGHAI
    strict: bool = False
    approximate: set[date] = field(default_factory=set)

    def is_working_day(self, day: date) -> bool:
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as err:
            if self.strict:
                raise CalendarError(
                    f"no holiday data for {day} ({err}); update the chinesecalendar package"
                ) from err
            self.approximate.add(day)
            return day.weekday() < 5

    @property
    def minutes_per_day(self) -> int:
        return sum(
            (datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds // 60
            for a, b in self.hours
        )

    def _check(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise CalendarError("datetimes must be timezone-aware (e.g. Asia/Shanghai)")
        return moment.astimezone(self.tz)

    def add(self, start: datetime, amount: int | float, unit: str) -> datetime:
        """The deadline ``amount`` ``unit`` after ``start``.

        ``minutes`` are calendar minutes; ``working_hours`` and ``working_days``
        (a working day being :attr:`minutes_per_day` of working time) count
        only time inside working hours of working days.
        """
        start = self._check(start)
        if amount < 0:
            raise ValueError("amount must not be negative")
        if unit == "minutes":
            return start + timedelta(minutes=amount)
        if unit == "working_hours":
            remaining = amount * 60.0
        elif unit == "working_days":
            remaining = amount * self.minutes_per_day
        else:
            raise ValueError(
                f"unknown unit {unit!r}; expected minutes, working_hours or working_days"
            )
        cursor = start
        for _ in range(3660):  # ten years of days at most
            day = cursor.date()
            if self.is_working_day(day):
                for a, b in self.hours:
                    begin = datetime.combine(day, a, self.tz)
                    end = datetime.combine(day, b, self.tz)
                    if cursor >= end:
                        continue
                    begin = max(begin, cursor)
                    available = (end - begin).total_seconds() / 60
                    if remaining <= available:
                        return begin + timedelta(minutes=remaining)
                    remaining -= available
                    cursor = end
            cursor = datetime.combine(day + timedelta(days=1), time(0, 0), self.tz)
        raise CalendarError("deadline further than ten years away")

    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        """Working time between two moments, in minutes (0 if ``end`` is not after ``start``)."""
        start, end = self._check(start), self._check(end)
        total, day = 0.0, start.date()
        while day <= end.date():
            if self.is_working_day(day):
                for a, b in self.hours:
                    lo = max(datetime.combine(day, a, self.tz), start)
                    hi = min(datetime.combine(day, b, self.tz), end)
                    if hi > lo:
                        total += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return total


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Past its deadline (an incident without a running deadline never is)."""
    return deadline is not None and now > deadline


def is_near_due(
    deadline: datetime | None, now: datetime, *, within: timedelta = timedelta(hours=2)
) -> bool:
    """Not yet overdue but due within ``within``."""
    return deadline is not None and now <= deadline <= now + within
