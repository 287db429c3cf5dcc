"""Assessment (考核) report: the incident-loop KPIs per 街道, 社区, grid, worker or department,
ranked, with the change against the previous period of the same length (环比).

The KPIs are those of :mod:`gridmgmt.domain.incidents.kpi`. The **score**
used for the ranking (0–100) is::

    score = 100 · (0.4 · 结案率 + 0.4 · 按期结案率 + 0.2 · (1 − 返工率))

with a missing 返工率 (nothing handled) counted as 0 and groups without
incidents due in the period left unscored (ranked after the others).
Ranks are 1 = best; equal scores share the better rank (1, 2, 2, 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from gridmgmt.core.periods import check_period
from gridmgmt.domain.areas import Area, select_area
from gridmgmt.domain.incidents.kpi import kpis
from gridmgmt.domain.report_labels import LEVELS

SCORE_WEIGHTS = {"close_rate": 0.4, "on_time_rate": 0.4, "rework": 0.2}
#: columns compared with the previous period
COMPARED = ("reported", "close_rate", "on_time_rate", "rework_rate", "score")


@dataclass(frozen=True)
class AssessmentReport:
    """The ranked KPI table and the two periods it compares."""

    area: Area
    by: str
    start: datetime
    end: datetime
    previous_start: datetime
    table: pd.DataFrame


def score(table: pd.DataFrame) -> pd.Series:
    """The 0–100 assessment score of each row of a KPI table (see the module docstring)."""
    w = SCORE_WEIGHTS
    rework = table["rework_rate"].fillna(0.0)
    value = 100 * (
        w["close_rate"] * table["close_rate"]
        + w["on_time_rate"] * table["on_time_rate"]
        + w["rework"] * (1 - rework)
    )
    return value.where(table["due"] > 0).round(1)


def ranked(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """``current`` with score, rank and 环比 columns (``<kpi>_prev``, ``<kpi>_change``).

    Parameters
    ----------
    current, previous : DataFrame
        KPI tables (:func:`gridmgmt.domain.incidents.kpi.kpis`) of the period
        and of the one before it, indexed by the group.
    """
    out = current.copy()
    out["score"] = score(out)
    out["rank"] = out["score"].rank(method="min", ascending=False).astype("Int64")
    prev = previous.copy()
    prev["score"] = score(prev) if len(prev) else pd.Series(dtype=float)
    for col in COMPARED:
        before = prev[col].reindex(out.index) if col in prev else np.nan
        out[f"{col}_prev"] = before
        out[f"{col}_change"] = out[col] - before
    return out.sort_values(["rank", "score"], na_position="last", kind="stable")


def area_assessment(
    store,
    start: datetime,
    end: datetime,
    *,
    by: str = "grid",
    street: str | None = None,
    community: str | None = None,
    grids: Iterable[str] | None = None,
) -> AssessmentReport:
    """Ranked KPIs of the incidents located in the area, this period against the previous one.

    Raises
    ------
    ValueError
        Unknown ``by``, a reversed or empty period.
    NotFoundError
        An unknown area.
    """
    if by not in LEVELS:
        raise ValueError(f"unknown level {by!r}; expected one of {', '.join(LEVELS)}")
    check_period(start, end)
    area = select_area(store, street=street, community=community, grids=grids)
    previous_start = start - (end - start)
    incidents = store.incidents()
    if len(incidents):
        incidents = incidents[incidents["grid_code"].isin(area.codes)]
    if incidents.empty:
        return AssessmentReport(area, by, start, end, previous_start, _empty(by))
    history = store.incident_history()
    history = history[history["incident_id"].isin(incidents["id"])]
    current = kpis(incidents, history, start, end, by=by)
    previous = kpis(incidents, history, previous_start, start, by=by)
    current = current[(current[["reported", "registered", "due", "handled"]] > 0).any(axis=1)]
    return AssessmentReport(area, by, start, end, previous_start, ranked(current, previous))


def _empty(by: str) -> pd.DataFrame:
    """An assessment table without rows, with every column."""
    from gridmgmt.domain.incidents.kpi import COUNTS

    cols = [*COUNTS, "mean_handling_hours", "register_rate", "close_rate", "on_time_rate"]
    cols += ["rework_rate", "score", "rank"]
    cols += [f"{c}_{s}" for c in COMPARED for s in ("prev", "change")]
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    frame.index.name = by
    return frame
