"""考核 score, ranking with ties, and 环比 against the previous period, on hand-built KPI tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridmgmt.domain.assessment import ranked, score


def kpi(rows: dict) -> pd.DataFrame:
    cols = ["reported", "due", "close_rate", "on_time_rate", "rework_rate"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    frame.index.name = "grid"
    return frame


def test_score_formula_and_unscored_groups():
    t = kpi(
        {
            "g1": [10, 10, 1.0, 1.0, 0.0],
            "g2": [10, 10, 0.5, 0.25, 0.5],
            "g3": [4, 0, np.nan, np.nan, np.nan],  # nothing due: no score
            "g4": [3, 3, 1.0, 0.0, np.nan],  # nothing handled: rework counts as 0
        }
    )
    s = score(t)
    assert s["g1"] == 100.0
    assert s["g2"] == pytest.approx(100 * (0.4 * 0.5 + 0.4 * 0.25 + 0.2 * 0.5))
    assert np.isnan(s["g3"])
    assert s["g4"] == pytest.approx(60.0)


def test_rank_ties_share_the_better_rank_and_unscored_come_last():
    now = kpi(
        {
            "a": [5, 5, 1.0, 1.0, 0.0],
            "b": [5, 5, 1.0, 1.0, 0.0],
            "c": [5, 5, 0.8, 0.6, 0.0],
            "d": [5, 0, np.nan, np.nan, np.nan],
        }
    )
    before = kpi({"a": [8, 8, 0.5, 0.5, 0.0], "c": [2, 2, 1.0, 1.0, 0.0]})
    out = ranked(now, before)
    assert out.index.tolist() == ["a", "b", "c", "d"]
    assert out["rank"].tolist()[:3] == [1, 1, 3]
    assert pd.isna(out.loc["d", "rank"])
    assert out.loc["a", "score_prev"] == pytest.approx(60.0)
    assert out.loc["a", "score_change"] == pytest.approx(40.0)
    assert out.loc["a", "reported_change"] == -3
    assert out.loc["c", "close_rate_change"] == pytest.approx(-0.2)
    assert np.isnan(out.loc["b", "score_prev"])  # nothing in the previous period
