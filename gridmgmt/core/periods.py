"""Local time and reporting periods: one definition for every layer.

Every wall time the platform shows or reads is Asia/Shanghai (China has one
time zone and no daylight saving). A *period* is a half-open interval
``[start, end)`` of aware datetimes; a period given by calendar days
``first..last`` runs from ``first`` 00:00 to the day after ``last`` 00:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE_NAME)


class PeriodError(ValueError):
    """A period whose dates cannot be read or whose start is not before its end."""


def check_period(start: datetime, end: datetime) -> None:
    """Raise :class:`PeriodError` unless ``start < end``.

    Parameters
    ----------
    start, end : datetime
        Both aware or both naive.
    """
    if start >= end:
        raise PeriodError(
            f"period start {start.isoformat()} is not before its end {end.isoformat()}"
        )


def day_period(first: date, last: date) -> tuple[datetime, datetime]:
    """The aware period covering the calendar days ``first`` to ``last`` inclusive.

    Parameters
    ----------
    first, last : date
        First and last day, Asia/Shanghai.

    Returns
    -------
    tuple of datetime
        ``first`` 00:00 and the day after ``last`` 00:00, both Asia/Shanghai.
    """
    if first > last:
        raise PeriodError(f"period start {first} is after its end {last}")
    start = datetime.combine(first, datetime.min.time(), SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI)


def parse_day(text: str) -> date:
    """A date written as ``2026-11-01``; :class:`PeriodError` otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as err:
        raise PeriodError(f"dates must look like 2026-11-01, not {text!r}") from err


def parse_period(
    start: str | None, end: str | None
) -> tuple[datetime, datetime] | tuple[None, None]:
    """Two ISO dates or datetimes as an aware Asia/Shanghai period.

    Parameters
    ----------
    start, end : str or None
        e.g. ``"2026-11-01"`` and ``"2026-12-01"`` (``end`` is exclusive, as
        given). Both absent means no period.

    Returns
    -------
    tuple
        ``(start, end)`` as aware datetimes, or ``(None, None)`` when both are absent.

    Raises
    ------
    PeriodError
        Only one of the two given, a date that cannot be read, or a start
        not before the end.
    """
    if start is None and end is None:
        return None, None
    if start is None or end is None:
        raise PeriodError("give both the start and the end of the period")
    try:
        t0 = datetime.fromisoformat(start).replace(tzinfo=SHANGHAI)
        t1 = datetime.fromisoformat(end).replace(tzinfo=SHANGHAI)
    except ValueError as err:
        raise PeriodError(f"dates must look like 2026-11-01 ({err})") from err
    if t0 >= t1:
        raise PeriodError(f"period start {start} is not before its end {end}")
    return t0, t1
