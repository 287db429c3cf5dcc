"""Assessment (考核) report: the incident-loop KPIs per 街道, 社区, grid, worker or department,
ranked, with the change against the previous period of the same length (环比).

The KPIs are those of :mod:`gridmgmt.domain.incidents.kpi`. The **score**
used for the ranking (0–100) is the weighted mean of the components::

    score = 100 · (0.4 · 结案率 + 0.4 · 按期结案率 + 0.2 · (1 − 返工率) + w · 满意率)
                / (0.4 + 0.4 + 0.2 + w)

with a missing 返工率 (nothing handled) counted as 0, the 满意率 term (and
its weight ``w``) left out for groups without 回访 ratings in the period,
and groups without incidents due in the period left unscored (ranked after
the others). ``w`` (:data:`SCORE_WEIGHTS` ``["satisfaction"]``, 0.2) is
configurable: ``GRIDMGMT_SATISFACTION_WEIGHT`` (:func:`score_weights`),
``gridmgmt report assessment --satisfaction-weight``; 0 leaves satisfaction
out of the score (it is still reported). 满意率 = (满意 + 基本满意) / rated.
Ranks are 1 = best; equal scores share the better rank (1, 2, 2, 4).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from gridmgmt.core.periods import check_period
from gridmgmt.domain.areas import Area, select_area
from gridmgmt.domain.incidents.kpi import kpis
from gridmgmt.domain.report_labels import LEVELS

SCORE_WEIGHTS = {"close_rate": 0.4, "on_time_rate": 0.4, "rework": 0.2, "satisfaction": 0.2}
#: columns compared with the previous period
COMPARED = ("reported", "close_rate", "on_time_rate", "rework_rate", "satisfaction_rate", "score")
SATISFACTION_WEIGHT_ENV = "GRIDMGMT_SATISFACTION_WEIGHT"


def score_weights(environ=None, satisfaction: float | None = None) -> dict[str, float]:
    """The score's weights: :data:`SCORE_WEIGHTS` with the 满意率 weight from the argument,
    else ``GRIDMGMT_SATISFACTION_WEIGHT`` in ``environ``.

    Raises ``ValueError`` for a weight that is not a number between 0 and 10.
    """
    weights = dict(SCORE_WEIGHTS)
    value = satisfaction
    if value is None and environ is not None and environ.get(SATISFACTION_WEIGHT_ENV):
        text = environ[SATISFACTION_WEIGHT_ENV]
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{SATISFACTION_WEIGHT_ENV} must be a number, not {text!r}") from None
    if value is not None:
        if not 0 <= value <= 10 or value != value:
            raise ValueError(f"the satisfaction weight must lie between 0 and 10, not {value}")
        weights["satisfaction"] = float(value)
    return weights


@dataclass(frozen=True)
class AssessmentReport:
    """The ranked KPI table and the two periods it compares."""

    area: Area
    by: str
    start: datetime
    end: datetime
    previous_start: datetime
    table: pd.DataFrame


def score(table: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.Series:
    """The 0–100 assessment score of each row of a KPI table (see the module docstring)."""
    w = weights or SCORE_WEIGHTS
    rework = table["rework_rate"].fillna(0.0)
    value = (
        w["close_rate"] * table["close_rate"]
        + w["on_time_rate"] * table["on_time_rate"]
        + w["rework"] * (1 - rework)
    )
    total = w["close_rate"] + w["on_time_rate"] + w["rework"]
    if "satisfaction_rate" in table and w.get("satisfaction", 0) > 0:
        rated = table["satisfaction_rate"].notna()
        value = value + (w["satisfaction"] * table["satisfaction_rate"]).where(rated, 0.0)
        total = total + rated * w["satisfaction"]
    return (100 * value / total).where(table["due"] > 0).round(1)


def ranked(
    current: pd.DataFrame, previous: pd.DataFrame, weights: dict[str, float] | None = None
) -> pd.DataFrame:
    """``current`` with score, rank and 环比 columns (``<kpi>_prev``, ``<kpi>_change``).

    Parameters
    ----------
    current, previous : DataFrame
        KPI tables (:func:`gridmgmt.domain.incidents.kpi.kpis`) of the period
        and of the one before it, indexed by the group.
    """
    out = current.copy()
    out["score"] = score(out, weights)
    out["rank"] = out["score"].rank(method="min", ascending=False).astype("Int64")
    prev = previous.copy()
    prev["score"] = score(prev, weights) if len(prev) else pd.Series(dtype=float)
    for col in COMPARED:
        if col not in out:  # a KPI table from before 满意率 was counted
            continue
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
    weights: dict[str, float] | None = None,
) -> AssessmentReport:
    """Ranked KPIs of the incidents located in the area, this period against the previous one.

    ``weights`` are the score's (:func:`score_weights`; default: the
    environment's). Residents' 回访 ratings come from the store's
    ``satisfaction_ratings()``.

    Raises
    ------
    ValueError
        Unknown ``by``, a reversed or empty period, a bad weight.
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
    ratings = store.satisfaction_ratings() if hasattr(store, "satisfaction_ratings") else None
    if weights is None:
        weights = score_weights(os.environ)
    current = kpis(incidents, history, start, end, by=by, ratings=ratings)
    previous = kpis(incidents, history, previous_start, start, by=by, ratings=ratings)
    active = ["reported", "registered", "due", "handled", "rated"]
    current = current[(current[active] > 0).any(axis=1)]
    table = ranked(current, previous, weights)
    return AssessmentReport(area, by, start, end, previous_start, table)


def _empty(by: str) -> pd.DataFrame:
    """An assessment table without rows, with every column."""
    from gridmgmt.domain.incidents.kpi import COUNTS

    cols = [*COUNTS, "mean_handling_hours", "register_rate", "close_rate", "on_time_rate"]
    cols += ["rework_rate", "satisfaction_rate", "score", "rank"]
    cols += [f"{c}_{s}" for c in COMPARED for s in ("prev", "change")]
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    frame.index.name = by
    return frame
