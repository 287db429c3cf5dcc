"""Per-grid counts, the workload index and the neighbour flag on a hand-built 3×1 strip of grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.workload import (
    DEFAULT_WEIGHTS,
    building_weights,
    grid_counts,
    neighbour_outliers,
    workload_index,
)


@pytest.fixture
def strip():
    """Grids A | B | C side by side (B touches both), and D far away."""
    grids = gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "kind": ["residential"] * 3 + ["unit"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)] + [shapely.box(10, 0, 11, 1)],
        crs=3857,
    )
    buildings = pd.DataFrame(
        {
            "building_id": ["a1", "a2", "b1", "c1", "x"],
            "grid_code": ["A", "A", "B", "C", "Z"],  # Z: not a grid of the report
            "households": [100, 200, 300, 300, 999],
            "population": [250, 500, 800, 700, 0],
        }
    )
    facilities = pd.DataFrame(
        {"grid_code": ["A", "B", "B"], "category": ["school", "park", "school"]}
    )
    incidents = pd.DataFrame(
        {
            "grid_code": ["A", "B", "B", "B", "B", "B", "B", None],
            "category_code": [
                "11001",
                "11001",
                "11001",
                "11002",
                "11002",
                "11002",
                "11002",
                "11001",
            ],
            "state": [
                "closed",
                "closed",
                "handled",
                "closed",
                "closed",
                "closed",
                "closed",
                "closed",
            ],
            "overdue": [False, True, True, False, False, False, False, False],
            "reported": [True, True, True, True, True, True, False, True],
            "handling_hours": [2.0, 4.0, np.nan, 6.0, np.nan, np.nan, np.nan, 1.0],
        }
    )
    return grids, buildings, facilities, incidents


def test_counts_per_grid(strip):
    t = grid_counts(*strip).set_index("code")
    assert t["households"].to_dict() == {"A": 300, "B": 300, "C": 300, "D": 0}
    assert t["population"].to_dict() == {"A": 750, "B": 800, "C": 700, "D": 0}
    assert t["buildings"].to_dict() == {"A": 2, "B": 1, "C": 1, "D": 0}
    assert t["facilities"].to_dict() == {"A": 1, "B": 2, "C": 0, "D": 0}
    assert t["facilities_school"].to_dict() == {"A": 1, "B": 1, "C": 0, "D": 0}
    # the row not reported in the period counts for overdue/handling only
    assert t["incidents"].to_dict() == {"A": 1, "B": 5, "C": 0, "D": 0}
    assert t["incidents_11002"].to_dict() == {"A": 0, "B": 3, "C": 0, "D": 0}
    assert t["state_handled"].to_dict() == {"A": 0, "B": 1, "C": 0, "D": 0}
    assert t["overdue"].to_dict() == {"A": 0, "B": 2, "C": 0, "D": 0}
    assert t.loc["B", "incidents_per_1000"] == pytest.approx(5 / 300 * 1000)
    assert np.isnan(t.loc["D", "incidents_per_1000"])
    assert t.loc["B", "mean_handling_hours"] == pytest.approx(5.0)
    assert np.isnan(t.loc["C", "mean_handling_hours"])


def test_index_is_weighted_mean_of_measures_over_their_means(strip):
    t = grid_counts(*strip)
    idx = workload_index(t, {"households": 1.0, "incidents": 1.0}).to_numpy()
    # households 300,300,300,0 (mean 225), incidents 1,5,0,0 (mean 1.5)
    expected = [(300 / 225 + 1 / 1.5) / 2, (300 / 225 + 5 / 1.5) / 2, 300 / 225 / 2, 0.0]
    assert idx == pytest.approx(expected)
    assert workload_index(t).mean() == pytest.approx(1.0)  # 1.0 is the average grid
    # a measure whose mean is 0 drops out instead of dividing by zero
    quiet = t.assign(incidents=0)
    assert workload_index(quiet, {"households": 1, "incidents": 1}).to_numpy() == pytest.approx(
        [300 / 225, 300 / 225, 300 / 225, 0]
    )
    with pytest.raises(ValueError, match="unknown measure"):
        workload_index(t, {"patrols": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        workload_index(t, {"households": -1.0})
    assert set(DEFAULT_WEIGHTS) <= set(t.columns)


def test_far_above_neighbours(strip):
    grids = strip[0]
    out = neighbour_outliers(grids, pd.Series([0.5, 2.0, 0.5, 1.0]))
    assert out["neighbour_index"].iloc[1] == pytest.approx(0.5)
    assert out["neighbour_index"].iloc[0] == pytest.approx(2.0)
    assert np.isnan(out["neighbour_index"].iloc[3])  # an island has no neighbours
    assert out["far_above_neighbours"].tolist() == [False, True, False, False]
    # high, but not 1.5 times its neighbours' mean
    assert not neighbour_outliers(grids, pd.Series([1.5, 2.0, 1.5, 1]))[
        "far_above_neighbours"
    ].any()
    with pytest.raises(ValueError, match="ratio"):
        neighbour_outliers(grids, pd.Series([1, 1, 1, 1]), ratio=1.0)


def test_building_weights_share_each_grid_by_households(strip):
    grids, buildings, *_ = strip
    table = pd.DataFrame({"code": ["A", "B", "C"], "workload_index": [1.2, 3.0, 0.6]})
    w = building_weights(buildings, table)
    assert w.to_dict() == pytest.approx({"a1": 0.4, "a2": 0.8, "b1": 3.0, "c1": 0.6, "x": 0.0})
