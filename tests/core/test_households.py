"""Household estimates: floors by levels, height or footprint; sources, default shares, plausibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridmgmt.core.addresses import address_key, normalise_housenumber, split_address
from gridmgmt.core.household_ledgers import compound_name_key, split_by_weight
from gridmgmt.core.households import (
    DEFAULT_SHARE_WARNING,
    confidence_of,
    default_floors,
    default_share,
    default_share_warnings,
    estimate_households,
    floors_from_height,
    plausibility_flags,
    resolve_floors,
)


def test_default_floors_follow_the_footprint_for_generic_housing_only():
    types = pd.Series(["residential"] * 5 + ["apartments", "office", "villa"])
    area = [30, 100, 300, 1200, 9000, 1200, 1200, 1200]
    assert default_floors(types, area).tolist() == [1, 2, 4, 6, 3, 6, 8, 3]
    assert default_floors(types).tolist() == [6, 6, 6, 6, 6, 6, 8, 3]  # without footprints


def test_floors_come_from_levels_then_height_then_defaults():
    floors, source = resolve_floors(
        [12, np.nan, np.nan, 0],
        [100.0, 55.0, np.nan, np.nan],
        pd.Series(["residential"] * 4),
        [800, 800, 100, 800],
    )
    assert floors.tolist() == [12, 18, 2, 6]
    assert source.tolist() == ["levels", "height", "default", "default"]
    assert floors_from_height([1.0, 7.5, np.nan]).tolist()[:2] == [1.0, 2.0]


def test_estimates_use_footprint_defaults_not_a_flat_six():
    types = pd.Series(["residential", "residential"])
    hh = estimate_households([100.0, 18000.0], [np.nan, np.nan], types)
    # 100 m² x 2 floors / 90 -> 2; a block outline 18,000 m² x 3 floors / 90 -> 600 (not 1,200)
    assert hh.tolist() == [2, 600]


def test_confidence_follows_the_source():
    got = confidence_of(["ledger", "compound_ledger", "levels", "height", "default", "x"])
    assert got.tolist() == ["high", "high", "medium", "medium", "low", "low"]


def test_default_share_overall_and_per_grid_with_warnings():
    b = pd.DataFrame(
        {
            "households": [100, 300, 50, 50, 0],
            "households_source": ["ledger", "default", "levels", "estimated", "default"],
        }
    )
    assert default_share(b) == pytest.approx(350 / 500)
    share = default_share(b, ["G1", "G1", "G2", "G2", None])
    assert share.to_dict() == {"G1": 0.75, "G2": 0.5}
    warnings = default_share_warnings(share)
    assert len(warnings) == 1 and warnings[0].startswith("grid G1: 75% of households")
    assert DEFAULT_SHARE_WARNING == 0.5
    assert default_share(b.iloc[:0]) == 0.0


def test_plausibility_flags_density_and_block_outlines():
    types = pd.Series(["residential", "residential", "residential", "office", "residential"])
    flags = plausibility_flags(
        [60, 200, 1, 500, 700],
        [1000.0, 1000.0, 1000.0, 1000.0, 9000.0],
        [6, 2, 6, 6, np.nan],
        types,
    )
    assert flags[0] is None  # 1 household per 100 m²
    assert "10.00 households per 100 m²" in flags[1]
    assert "0.02 households per 100 m²" in flags[2]
    assert flags[3] is None  # not residential
    assert "block or compound outline" in flags[4]


def test_plausibility_flags_a_floor_count_no_residential_building_has():
    # building:levels=300 (for 30): 1.1 households per 100 m² of floor area, plausible per floor
    flags = plausibility_flags(
        [3300, 330], [1000.0, 1000.0], [300, 30], pd.Series(["residential"] * 2)
    )
    assert "300 floors" in flags[0] and "mistyped" in flags[0]
    assert flags[1] is None


def test_split_by_weight_adds_up():
    parts = split_by_weight(100, np.array([1.0, 1.0, 1.0]))
    assert parts.sum() == 100 and sorted(parts.tolist()) == [33, 33, 34]
    assert split_by_weight(7, np.array([0.0, 0.0])).sum() == 7
    assert split_by_weight(5, np.array([])).tolist() == []


@pytest.mark.parametrize(
    ("street", "number", "key"),
    [
        ("学院路", "１８号", "学院路|18"),
        ("学院路 ", "18 号", "学院路|18"),
        ("北京市海淀区学院路", "18", "学院路|18"),
        ("长乐路", "18弄3号", "长乐路|18-3"),
        ("长乐路", "７弄", "长乐路|7"),
        ("长乐路", "12号楼", "长乐路|12"),
        ("长乐路", "No. 5", "长乐路|5"),
        ("Yuhangtang Road", 866.0, "yuhangtangroad|866"),
        ("长乐路", "", None),
    ],
)
def test_addresses_normalise(street, number, key):
    assert address_key(street, number) == key


def test_one_column_addresses_split_and_compound_names_fold():
    assert split_address("学院路１８号") == ("学院路", "18号")
    assert normalise_housenumber("18号-2") == "18-2"
    assert compound_name_key("崂山三村 小区") == compound_name_key("崂山三村") == "崂山三村"
