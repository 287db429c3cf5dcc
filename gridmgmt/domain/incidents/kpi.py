"""KPIs of the incident loop, computed from the history (GB/T 30428.4 style).

For a period [start, end) and any grouping (grid, 社区, 街道, reporting
worker, department, category), per incident first, then summed:

- 上报数 ``reported``: incidents created in the period;
- 立案数 ``registered``: incidents with a 立案 (register) step in the period;
  立案率 ``register_rate`` = 立案数 / 上报数;
- 应结案数 ``due``: registered incidents whose 处置 deadline (the latest
  one, after approved extensions) falls in the period, or that were closed
  (结案) in the period;
- 结案数 ``closed``: due incidents closed by the end of the period;
  结案率 ``close_rate`` = 结案数 / 应结案数;
- 按期结案数 ``closed_on_time``: closed due incidents each of whose 处置完毕
  (handle) steps came no later than the deadline running at that moment
  (a 返工 starts a new 处置 period, but a late first handling stays late);
  按期结案率 ``on_time_rate`` = 按期结案数 / 应结案数;
- 返工率 ``rework_rate``: share of incidents handled in the period that had
  at least one 核查不通过 (verify_fail) step;
- 平均处置时长 ``mean_handling_hours``: mean time from the first 派遣
  (dispatch) to the last 处置完毕, for incidents closed in the period;
- 超期数 ``overdue``: due incidents with a late 处置完毕 step, or not handled
  although their deadline passed before the end of the period;
- 挂账数 ``suspended``: incidents in 挂账 at the end of the period;
- 回访评价数 ``rated``: residents' 回访 ratings given in the period (see
  :mod:`gridmgmt.domain.residents`); 满意数 ``satisfied``: those rated 满意
  or 基本满意; 满意率 ``satisfaction_rate`` = (满意 + 基本满意) / 回访评价数.

Rates are NaN where their denominator is 0. Grouped by ``worker``, an
incident counts for its reporter, except a resident's report (reporter
``居民``), which counts for the grid worker who made its last 核查 step: the
satisfaction of residents' cases is the worker's who checked them.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

GROUPINGS = {
    "grid": lambda f: f["grid_code"],
    "community": lambda f: f["grid_code"].str[:12],
    "street": lambda f: f["grid_code"].str[:9],
    "worker": lambda f: f["worker"],
    "department": lambda f: f["department"],
    "category": lambda f: f["category_code"],
    "all": lambda f: pd.Series("all", index=f.index),
}
COUNTS = (
    "reported",
    "registered",
    "due",
    "closed",
    "closed_on_time",
    "handled",
    "reworked",
    "overdue",
    "suspended",
    "rated",
    "satisfied",
)
#: the reporter recorded on residents' reports (:data:`gridmgmt.domain.residents.RESIDENT_REPORTER`)
RESIDENT_REPORTER = "居民"
#: ratings that count as satisfied (满意, 基本满意)
SATISFIED_RATINGS = ("satisfied", "basic")


def incident_facts(
    incidents: pd.DataFrame,
    history: pd.DataFrame,
    start: datetime,
    end: datetime,
    ratings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per incident with the facts the KPIs count (see the module docstring).

    ``ratings`` holds residents' 回访 ratings (``incident_id``, ``rating``,
    ``rated_at``); None counts none.
    """
    if end <= start:
        raise ValueError("the period's end must be after its start")
    h = history.sort_values(["incident_id", "seq"])
    by = h.groupby("incident_id")

    def last_time(name, upto=None):
        rows = h[h["transition"] == name]
        if upto is not None:
            rows = rows[rows["at"] < upto]
        return rows.groupby("incident_id")["at"].max()

    handle_deadline = (
        h[h["deadline_stage"] == "handle"].groupby("incident_id")["deadline_at"].last()
    )
    facts = incidents.set_index("id")[
        ["grid_code", "reporter", "department", "category_code", "created_at"]
    ].copy()
    facts["registered_at"] = last_time("register")
    facts["closed_at"] = last_time("close", end)
    facts["handled_at"] = last_time("handle", end)
    facts["first_dispatch"] = h[h["transition"] == "dispatch"].groupby("incident_id")["at"].min()
    facts["deadline"] = handle_deadline
    facts["reworked_ever"] = (
        by.apply(lambda g: (g["transition"] == "verify_fail").any()) if len(h) else False
    )
    state_at_end = h[h["at"] < end].groupby("incident_id")["to_state"].last()
    facts["state_at_end"] = state_at_end

    def within(col):
        return facts[col].notna() & (facts[col] >= start) & (facts[col] < end)

    facts["reported"] = within("created_at")
    registered_in = h[(h["transition"] == "register") & (h["at"] >= start) & (h["at"] < end)][
        "incident_id"
    ].unique()
    facts["registered"] = facts.index.isin(registered_in)
    closed_in = within("closed_at")
    facts["due"] = facts["registered_at"].notna() & (within("deadline") | closed_in)
    facts["closed"] = facts["due"] & facts["closed_at"].notna()
    # a 处置完毕 step is late when it comes after the deadline running at that moment
    running = h.groupby("incident_id")["deadline_at"].shift(1)
    late_step = (h["transition"] == "handle") & running.notna() & (h["at"] > running)
    late = late_step.groupby(h["incident_id"]).any().reindex(facts.index, fill_value=False)
    not_yet = facts["handled_at"].isna() & facts["deadline"].notna() & (facts["deadline"] < end)
    on_time = facts["handled_at"].notna() & ~late
    facts["closed_on_time"] = facts["closed"] & on_time
    facts["handled"] = within("handled_at")
    facts["reworked"] = facts["handled"] & facts["reworked_ever"].astype(bool)
    facts["overdue"] = facts["due"] & (late | not_yet)
    facts["suspended"] = facts["state_at_end"] == "suspended"
    hours = (facts["handled_at"] - facts["first_dispatch"]).dt.total_seconds() / 3600
    facts["handling_hours"] = hours.where(closed_in)
    checker = h[h["transition"] == "verify_pass"].groupby("incident_id")["actor"].last()
    by_resident = facts["reporter"] == RESIDENT_REPORTER
    facts["worker"] = facts["reporter"].where(~by_resident, checker.reindex(facts.index))
    facts["rated"] = False
    facts["satisfied"] = False
    if ratings is not None and len(ratings):
        r = ratings.set_index("incident_id")
        at = pd.to_datetime(r["rated_at"], utc=True)
        rated_in = r[(at >= pd.Timestamp(start)) & (at < pd.Timestamp(end))]
        facts["rated"] = facts.index.isin(rated_in.index)
        satisfied = rated_in.index[rated_in["rating"].isin(SATISFIED_RATINGS)]
        facts["satisfied"] = facts.index.isin(satisfied)
    return facts


def kpis(
    incidents: pd.DataFrame,
    history: pd.DataFrame,
    start: datetime,
    end: datetime,
    by: str = "all",
    ratings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The KPI table for the period, one row per group of ``by`` (see :data:`GROUPINGS`).

    ``ratings``: residents' 回访 ratings for 满意率 (None: no ratings).
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPINGS)}")
    facts = incident_facts(incidents, history, start, end, ratings)
    key = GROUPINGS[by](facts).fillna("(unassigned)")
    table = facts[list(COUNTS)].astype(int).groupby(key).sum()
    table["mean_handling_hours"] = facts["handling_hours"].groupby(key).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["register_rate"] = table["registered"] / table["reported"].replace(0, np.nan)
        table["close_rate"] = table["closed"] / table["due"].replace(0, np.nan)
        table["on_time_rate"] = table["closed_on_time"] / table["due"].replace(0, np.nan)
        table["rework_rate"] = table["reworked"] / table["handled"].replace(0, np.nan)
        table["satisfaction_rate"] = table["satisfied"] / table["rated"].replace(0, np.nan)
    table.index.name = by
    return table
