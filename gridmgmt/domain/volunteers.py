"""楼栋长 and 信息员: daily reports and 零报告, and who of a grid's volunteers was silent.

Volunteers (roles ``building_head`` and ``informant``, bound to grids)
report problems through their phone page as source ``信息员上报`` (the same
incident loop as everyone's) and, on a day with nothing to report, send a
零报告 (one per person per Asia/Shanghai day), so that silence means
nobody looked rather than nothing happened.

Per grid and day each volunteer is ``reported`` (an incident reported that
day), ``zero`` (a 零报告 and no incident) or ``silent``. The **reporting
rate** of a grid over a period = volunteer-days with a report or a 零报告 /
volunteer-days (volunteers bound to the grid × days in the period).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.access import VOLUNTEER_ROLES

#: a volunteer's status on one day, (中文, English)
STATUSES = {
    "reported": ("今日已上报", "Reported today"),
    "zero": ("今日已发送零报告", "零报告 sent today"),
    "silent": ("今日未报", "Silent today"),
}
SOURCE = "信息员上报"


def local_day(moment: datetime | None = None) -> date:
    """The Asia/Shanghai calendar day of ``moment`` (default: now)."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(SHANGHAI).date()


def send_zero_report(repo, username: str, grid_codes, now: datetime | None = None) -> bool:
    """Record the 零报告 of ``username`` for today (Asia/Shanghai); False if sent already today.

    ``repo`` needs ``add_zero_report(username, day, grid_code, at)``
    (:class:`gridmgmt.store.residents.ResidentStore`); the first of the
    volunteer's grids is recorded with it.
    """
    now = now or datetime.now(UTC)
    codes = list(grid_codes or ())
    return repo.add_zero_report(username, local_day(now), codes[0] if codes else None, now)


def volunteers(users: pd.DataFrame) -> pd.DataFrame:
    """One row per (volunteer, grid) from the accounts table (``username``, ``role``, ``grid_codes``)."""
    columns = ["username", "display_name", "role", "grid_code"]
    if users.empty:
        return pd.DataFrame(columns=columns)
    rows = users[users["role"].isin(VOLUNTEER_ROLES)]
    if "active" in rows:
        rows = rows[rows["active"].astype(bool)]
    out = [
        {
            "username": r["username"],
            "display_name": r.get("display_name") or r["username"],
            "role": r["role"],
            "grid_code": code,
        }
        for _, r in rows.iterrows()
        for code in (r.get("grid_codes") or ())
    ]
    return pd.DataFrame(out, columns=columns)


def _reported_days(incidents: pd.DataFrame) -> pd.DataFrame:
    """(reporter, day) of incidents volunteers reported."""
    if incidents.empty:
        return pd.DataFrame(columns=["username", "day"])
    rows = incidents[incidents["source"] == SOURCE]
    days = pd.to_datetime(rows["created_at"], utc=True).dt.tz_convert(SHANGHAI).dt.date
    return pd.DataFrame({"username": rows["reporter"].to_numpy(), "day": days.to_numpy()})


def roll(
    users: pd.DataFrame,
    incidents: pd.DataFrame,
    zero_reports: pd.DataFrame,
    day: date,
    grid_codes=None,
) -> pd.DataFrame:
    """Who of each grid's volunteers reported on ``day``, sent 零报告, or was silent.

    ``grid_codes`` limits the grids (a worker's own); None: every grid.
    Returns one row per (volunteer, grid): ``grid_code``, ``username``,
    ``display_name``, ``role``, ``status`` (a key of :data:`STATUSES`).
    """
    table = volunteers(users)
    if grid_codes is not None:
        table = table[table["grid_code"].isin(list(grid_codes))]
    reported = _reported_days(incidents)
    reported = set(reported.loc[reported["day"] == day, "username"])
    zero = (
        set(zero_reports.loc[zero_reports["day"] == day, "username"])
        if len(zero_reports)
        else set()
    )
    status = [
        "reported" if u in reported else "zero" if u in zero else "silent"
        for u in table["username"]
    ]
    table = table.assign(status=status)
    return table.sort_values(["grid_code", "status", "username"]).reset_index(drop=True)


def reporting_rates(
    users: pd.DataFrame,
    incidents: pd.DataFrame,
    zero_reports: pd.DataFrame,
    first: date,
    last: date,
) -> pd.DataFrame:
    """Per grid over ``first`` .. ``last``: volunteers, volunteer-days, days with a report or
    零报告 (``volunteer_days_reported``) and the reporting rate (NaN without volunteers)."""
    table = volunteers(users)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    reported = _reported_days(incidents)
    zero = (
        zero_reports[["username", "day"]]
        if len(zero_reports)
        else pd.DataFrame(columns=["username", "day"])
    )
    active = pd.concat([reported, zero]).drop_duplicates()
    active = active[active["day"].isin(days)]
    per_user = active.groupby("username").size()
    out = table.assign(
        days=len(days), active_days=table["username"].map(per_user).fillna(0).astype(int)
    )
    grouped = out.groupby("grid_code").agg(
        volunteers=("username", "nunique"),
        volunteer_days=("days", "sum"),
        volunteer_days_reported=("active_days", "sum"),
    )
    grouped["volunteer_report_rate"] = grouped["volunteer_days_reported"] / grouped[
        "volunteer_days"
    ].where(grouped["volunteer_days"] > 0)
    return grouped


VOLUNTEER_COLUMNS = ["volunteers", "volunteer_report_rate"]


def period_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The Asia/Shanghai days a period ``[start, end)`` covers."""
    return local_day(start), local_day(end - timedelta(microseconds=1))


def volunteer_rates(store, first: date, last: date) -> pd.DataFrame:
    """:func:`reporting_rates` from a store with ``users()``, ``incidents()``, ``zero_reports()``."""
    return reporting_rates(
        store.users(), store.incidents(), store.zero_reports(first, last), first, last
    )


def volunteer_columns(store):
    """A workload provider (``provide(area, start, end)``): volunteers and reporting rate per grid."""

    def provide(area, start: datetime, end: datetime) -> pd.DataFrame:
        rates = volunteer_rates(store, *period_days(start, end))
        out = rates.reindex(list(area.codes))[VOLUNTEER_COLUMNS]
        out["volunteers"] = out["volunteers"].fillna(0).astype(int)
        out.index.name = "code"
        return out

    return provide
