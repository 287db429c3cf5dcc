"""Hot spots from the store: the use case, the CLI and the web endpoint."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import geopandas as gpd
import pytest
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.core.spatial_stats import HOTSPOT_CLASSES
from gridmgmt.domain.hotspots import area_hotspots, compare_area_periods
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import report_incident
from gridmgmt.store.repository import Store
from tests.factories import G1, G2, G3, G4, X0, Y0, boundaries, buildings, roads, small_grids


def fill(store: Store) -> Store:
    store.sync_categories(load_categories())
    store.write_layers(
        {"boundaries": boundaries(), "buildings": buildings(8), "roads": roads()}, source="t"
    )
    grids = small_grids()
    store.write_grid_version("340705001001", grids.iloc[:2], {})
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    # 5 incidents in G1 and 1 in G3 in November, 4 in G3 in October
    nov, oct_ = datetime(2026, 11, 5, 3, tzinfo=UTC), datetime(2026, 10, 5, 3, tzinfo=UTC)
    spots = [(0.0005, nov)] * 5 + [(0.0025, nov)] + [(0.0025, oct_)] * 4
    for i, (dx, when) in enumerate(spots):
        report_incident(
            store,
            category_code="11001",
            description=f"#{i}",
            lon=X0 + dx,
            lat=Y0 + 0.0005,
            reporter="t",
            role="supervisor",
            source="12345热线",
            now=when,
        )
    return store


@pytest.fixture
def filled(tmp_path):
    store = fill(Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}"))
    yield store
    store.dispose()


def test_area_hotspots_counts_the_period_only(filled):
    nov = area_hotspots(
        filled, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    by = nov.grids.set_index("code")
    assert nov.incidents == 6
    assert by.loc[G1, "incidents"] == 5 and by.loc[G3, "incidents"] == 1
    assert by.loc[G1, "rate"] == pytest.approx(5 / 300 * 1000)
    assert by.loc[G4, "hotspot"] == "no_households"  # a unit grid
    oct_ = area_hotspots(filled, datetime(2026, 10, 1), datetime(2026, 11, 1))
    assert oct_.incidents == 4 and oct_.grids.set_index("code").loc[G3, "incidents"] == 4
    one = area_hotspots(
        filled, datetime(2026, 11, 1), datetime(2026, 12, 1), community="340705001001"
    )
    assert sorted(one.grids["code"]) == [G1, G2]
    with pytest.raises(ValueError, match="not before"):
        area_hotspots(filled, datetime(2026, 12, 1), datetime(2026, 11, 1))


def run(tmp_path, *args):
    return CliRunner().invoke(main, [*args, "--workdir", str(tmp_path)], catch_exceptions=False)


def test_cli_writes_gpkg_geojson_csv_and_png(filled, tmp_path):
    base = [
        "stats",
        "hotspots",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--permutations",
        "99",
    ]
    result = run(
        tmp_path, *base, "--out", str(tmp_path / "h.gpkg"), "--png", str(tmp_path / "h.png")
    )
    assert result.exit_code == 0, result.output
    assert "4 grids, 6 incidents" in result.output
    assert "Moran's I = " in result.output
    layer = gpd.read_file(tmp_path / "h.gpkg", layer="hotspots")
    assert set(layer["hotspot"]) <= set(HOTSPOT_CLASSES)
    assert layer.set_index("code").loc[G4, "hotspot"] == "no_households"
    assert layer.set_index("code").loc[G1, "incidents"] == 5
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert run(tmp_path, *base, "--out", str(tmp_path / "h.geojson")).exit_code == 0
    assert len(gpd.read_file(tmp_path / "h.geojson")) == 4
    assert (
        run(
            tmp_path, *base, "--out", str(tmp_path / "h.csv"), "--community", "340705001002"
        ).exit_code
        == 0
    )
    with open(tmp_path / "h.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["code"] for r in rows] == [G3, G4]


def test_cli_refuses_a_reversed_period_and_unknown_format(filled, tmp_path):
    reversed_ = run(tmp_path, "stats", "hotspots", "--from", "2026-12-01", "--to", "2026-11-01")
    assert reversed_.exit_code == 2 and "not before its end" in reversed_.output
    bad = run(
        tmp_path,
        "stats",
        "hotspots",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--out",
        "x.shp",
    )
    assert bad.exit_code == 2 and ".gpkg" in bad.output
    assert not (tmp_path / "x.shp").exists()
    unknown = run(
        tmp_path,
        "stats",
        "hotspots",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--community",
        "火星社区",
    )
    assert unknown.exit_code == 1 and "火星社区" in unknown.output


def test_compare_area_periods_and_seeded_moran(filled):
    oct_ = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    nov = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    change = compare_area_periods(filled, oct_, nov, permutations=99).set_index("code")
    assert change.loc[G1, "rate_change"] == pytest.approx(5 / 300 * 1000)
    assert change.loc[G3, "rate_change"] == pytest.approx((1 - 4) / 260 * 1000)
    assert change.loc[G4, "class_change"] == "unchanged"
    a = area_hotspots(filled, *nov, seed=3).moran
    b = area_hotspots(filled, *nov, seed=3).moran
    assert a == b
