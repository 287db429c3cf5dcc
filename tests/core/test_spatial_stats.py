"""Gi*, Moran's I and rates checked against the formulas on a 3×3 lattice."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core.spatial_stats import (
    compare_periods,
    contiguity_weights,
    hotspots,
    incident_rates,
)

VALUES = np.array([9, 8, 1, 7, 6, 1, 1, 1, 1.0])


def lattice(values=VALUES, households=1000) -> gpd.GeoDataFrame:
    codes = [f"G{r}{c}" for r in range(3) for c in range(3)]
    geoms = [shapely.box(c, -r, c + 1, -r + 1) for r in range(3) for c in range(3)]
    frame = gpd.GeoDataFrame({"code": codes, "households": households}, geometry=geoms, crs=3857)
    frame["rate"] = values
    return frame


def test_queen_and_rook_neighbours_follow_shared_boundaries():
    queen = contiguity_weights(lattice(), "queen")
    rook = contiguity_weights(lattice(), "rook")
    assert sorted(queen.neighbors["G00"]) == ["G01", "G10", "G11"]
    assert sorted(rook.neighbors["G00"]) == ["G01", "G10"]
    assert len(queen.neighbors["G11"]) == 8 and len(rook.neighbors["G11"]) == 4
    with pytest.raises(ValueError, match="unknown contiguity"):
        contiguity_weights(lattice(), "bishop")


def _gi_star_z(x, w):
    """Getis & Ord (1992) Gi* z-score, binary weights with the focal cell included."""
    n = len(x)
    ws = w + np.eye(n)
    mean, s = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    wi = ws.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ws @ x - mean * wi) / (s * np.sqrt((n * (ws**2).sum(1) - wi**2) / (n - 1)))


def _morans_i(x, w):
    wr = w / w.sum(1, keepdims=True)
    d = x - x.mean()
    return len(x) / wr.sum() * (d @ wr @ d) / (d @ d)


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_gi_star_and_morans_i_match_the_formulas(kind):
    frame = lattice()
    w = contiguity_weights(frame, kind).full()[0]
    out, moran = hotspots(frame, contiguity=kind, permutations=999, seed=7)
    expected = _gi_star_z(VALUES, w)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(out["gi_z"].to_numpy()[finite], expected[finite], rtol=1e-9)
    assert pytest.approx(_morans_i(VALUES, w), rel=1e-12) == moran.I
    assert moran.expected == pytest.approx(-1 / 8)
    assert moran.I > 0  # high values cluster in the north-west corner
    assert 0 < moran.p_sim < 0.1


def test_hotspot_classes_and_seeded_p_values():
    out, _ = hotspots(lattice(), permutations=999, seed=7)
    again, _ = hotspots(lattice(), permutations=999, seed=7)
    np.testing.assert_array_equal(out["gi_p"], again["gi_p"])
    classes = dict(zip(out["code"], out["hotspot"], strict=True))
    assert classes["G00"].startswith("hot_")
    assert not any(c.startswith("hot_") for k, c in classes.items() if k in ("G20", "G21", "G22"))
    # queen: the centre touches every cell, so Gi* is constant and has no z-score
    assert np.isnan(out.loc[out["code"] == "G11", "gi_z"]).all()
    assert classes["G11"] == "not_significant"


def test_random_values_have_no_spatial_autocorrelation_on_average():
    rng = np.random.default_rng(3)
    values = rng.normal(size=9)
    _, moran = hotspots(lattice(values), permutations=199, seed=1)
    assert moran.p_sim > 0.05


def test_rates_per_thousand_households_and_unit_grids_are_not_tested():
    grids = lattice(households=[500, 1000, 250, 400, 0, 400, 400, 400, 400]).drop(columns="rate")
    rates = incident_rates(grids, ["G00"] * 5 + ["G01", None, "G11", "nowhere"])
    assert rates.set_index("code")["incidents"].to_dict()["G00"] == 5
    assert rates.set_index("code")["rate"]["G00"] == pytest.approx(10.0)
    assert rates.set_index("code")["rate"]["G01"] == pytest.approx(1.0)
    assert np.isnan(rates.set_index("code")["rate"]["G11"])
    out, moran = hotspots(rates, seed=0)
    assert out.set_index("code")["hotspot"]["G11"] == "no_households"
    assert moran is not None and moran.n == 8
    with pytest.raises(ValueError, match="negative"):
        incident_rates(lattice(households=-1), [])


def test_constant_rates_are_not_significant_without_moran():
    out, moran = hotspots(lattice(np.ones(9)))
    assert moran is None and set(out["hotspot"]) == {"not_significant"}


def test_compare_periods_reports_rate_and_class_changes():
    before, _ = hotspots(lattice(), seed=1)
    after, _ = hotspots(lattice(VALUES[::-1].copy()), seed=1)
    change = compare_periods(before, after).set_index("code")
    assert change.loc["G00", "rate_change"] == pytest.approx(1 - 9)
    assert change.loc["G00", "class_change"].startswith("hot_")
    assert change.loc["G00", "hotspot_after"] in ("not_significant", "cold_90", "cold_95")
    same = compare_periods(before, before)
    assert set(same["class_change"]) == {"unchanged"}
