"""Large imports: read and written in parts, bulk loaded (COPY on PostGIS), same result as whole."""

from __future__ import annotations

import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import insert, select

from gridmgmt.domain.importing import import_file
from gridmgmt.store import models as m
from gridmgmt.store.layers import frame_to_rows
from gridmgmt.store.repository import Store

X0, Y0 = 117.81, 30.94
N = 61


def buildings_file(path, n: int = N) -> gpd.GeoDataFrame:
    """Buildings exercising every per-row step: repairs, skips, made ids, types, floors, counts."""
    rng = np.random.default_rng(5)
    geoms = []
    for i in range(n):
        x, y = X0 + (i % 10) * 0.0006, Y0 + (i // 10) * 0.0006
        geoms.append(shapely.box(x, y, x + 0.0003, y + 0.0002))
    geoms[3] = shapely.Polygon([(X0, Y0), (X0 + 3e-4, Y0 + 3e-4), (X0 + 3e-4, Y0), (X0, Y0 + 3e-4)])
    geoms[17] = shapely.Polygon()  # empty: skipped
    geoms[n - 1] = geoms[n - 1].buffer(0.00001)
    frame = gpd.GeoDataFrame(
        {
            "id": [None if i in (5, 33) else f"B{i}" for i in range(n)],
            "类型": rng.choice(["住宅", "商业", None, "学校"], n),
            "层数": [None if i % 7 == 0 else int(rng.integers(1, 30)) for i in range(n)],
            "户数": [200 if i == 8 else (24 if i % 11 == 0 else None) for i in range(n)],
            "名称": [f"{i}号楼" if i % 3 else None for i in range(n)],
        },
        geometry=geoms,
        crs=4326,
    )
    frame.to_file(path, layer="buildings", driver="GPKG")
    return frame


def stored(store: Store) -> tuple[pd.DataFrame, dict]:
    """The stored buildings (sorted by id, without row ids) and the import run's summary."""
    frame = store.read_layer("buildings").drop(columns="id")
    frame = frame.sort_values("building_id").reset_index(drop=True)
    with store.session() as s:
        summary = s.scalars(select(m.ImportRun.summary)).one()
    return frame, summary


def second_url(kind: str, request, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'second.db'}"
    server = request.getfixturevalue("postgis")
    name = f"t_{uuid.uuid4().hex[:12]}"
    request.addfinalizer(lambda: server.drop_database(name))
    return server.create_database(name)


def test_import_in_parts_equals_import_whole(store, database_url, request, tmp_path):
    path = tmp_path / "buildings.gpkg"
    buildings_file(path)
    calls = []
    parts = import_file(
        store, path, kind="buildings", chunk_size=7, progress=lambda d, t: calls.append((d, t))
    )
    kind = "sqlite" if database_url.startswith("sqlite") else "postgis"
    other = Store(second_url(kind, request, tmp_path))
    whole = import_file(other, path, kind="buildings")
    # read in 9 parts (61 features, 7 a part), progress after each, then the same result
    assert calls == [(min(7 * k, N), N) for k in range(1, 10)]
    assert parts.written == whole.written == {"buildings": N - 1}
    assert parts.report.to_dict() == whole.report.to_dict()
    assert str(parts.report) == str(whole.report)
    assert whole.report.layers["buildings"].repaired and whole.report.layers["buildings"].skipped
    a, summary_a = stored(store)
    b, summary_b = stored(other)
    assert summary_a == summary_b
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0).all()
    other.dispose()


def test_repeated_id_across_parts_is_refused_with_both_rows(store, tmp_path):
    from gridmgmt.io import InputError

    path = tmp_path / "dup.gpkg"
    frame = buildings_file(tmp_path / "tmp.gpkg", 20)
    frame.loc[15, "id"] = "B2"
    frame.to_file(path, layer="buildings", driver="GPKG")
    with pytest.raises(InputError, match=r"duplicate id 'B2' \(rows 3, 16\)"):
        import_file(store, path, kind="buildings", chunk_size=5)
    assert store.read_layer("buildings").empty  # nothing written: one transaction


def test_bulk_load_writes_what_the_orm_path_writes(store, tmp_path):
    """COPY (PostGIS) or executemany (SQLite) give the rows and geometries of ORM inserts."""
    from gridmgmt.io import read_layers

    path = tmp_path / "buildings.gpkg"
    buildings_file(path)
    layer = read_layers(path, kind="buildings").buildings
    store.write_layers({"buildings": layer}, source="bulk")
    bulk = store.read_layer("buildings")
    with store.session() as s:
        s.execute(m.Building.__table__.delete())
        s.execute(insert(m.Building), frame_to_rows("buildings", layer))
    orm = store.read_layer("buildings")
    columns = [c for c in bulk.columns if c not in ("id", "geometry")]
    pd.testing.assert_frame_equal(bulk[columns], orm[columns])
    assert shapely.equals_exact(bulk.geometry.values, orm.geometry.values, 0).all()


def test_copy_is_used_on_postgis(postgis_url, tmp_path, monkeypatch):
    from gridmgmt.store import bulk_load

    copied = []
    real = bulk_load.copy_rows
    monkeypatch.setattr(bulk_load, "copy_rows", lambda *a: (copied.append(a[1]), real(*a))[1])
    path = tmp_path / "buildings.gpkg"
    buildings_file(path)
    store = Store(postgis_url)
    outcome = import_file(store, path, kind="buildings", chunk_size=20)
    assert copied == ["buildings"] * 4 and outcome.written == {"buildings": N - 1}
    assert len(store.read_layer("buildings")) == N - 1
    store.dispose()


def test_geojson_in_parts_is_read_in_one_stream_with_the_same_result(tmp_path):
    """GeoJSON is streamed (not re-parsed per part) and stores what a whole read stores."""
    path = tmp_path / "buildings.geojson"
    buildings_file(tmp_path / "b.gpkg").to_file(path, driver="GeoJSON")
    stores = [Store(f"sqlite:///{tmp_path / name}") for name in ("parts.db", "whole.db")]
    parts = import_file(stores[0], path, kind="buildings", chunk_size=9)
    whole = import_file(stores[1], path, kind="buildings")
    assert parts.report.to_dict() == whole.report.to_dict()
    a, b = (stored(s)[0] for s in stores)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0).all()


def test_confidence_follows_the_source_when_the_file_gives_none(tmp_path):
    """Buildings with a source and no confidence column get their source's confidence, not the default."""
    import geopandas as gpd
    import shapely

    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    frame = gpd.GeoDataFrame(
        {
            "building_id": ["L", "E"],
            "households": [30, 10],
            "households_source": ["ledger", "default"],
        },
        geometry=[
            shapely.box(116.30, 39.95, 116.3001, 39.9501),
            shapely.box(116.31, 39.95, 116.3101, 39.9501),
        ],
        crs=4326,
    )
    store.write_layers({"buildings": frame}, source="test")
    stored = store.read_layer("buildings").set_index("building_id")
    assert stored.loc["L", "households_confidence"] == "high"
    assert stored.loc["E", "households_confidence"] == "low"
    store.dispose()


def test_ewkb_with_srid_is_shapely_ewkb_of_every_geometry_type():
    from gridmgmt.store.bulk_load import ewkb_with_srid

    geoms = np.array(
        [
            shapely.box(X0, Y0, X0 + 1e-4, Y0 + 1e-4),
            shapely.Point(X0, Y0),
            shapely.Point(X0, Y0, 12.5),
            shapely.LineString([(X0, Y0), (X0 + 1e-4, Y0)]),
            shapely.MultiPolygon([shapely.box(X0, Y0, X0 + 1e-4, Y0 + 1e-4)]),
            shapely.Polygon([(X0, Y0, 1), (X0 + 1e-4, Y0, 2), (X0, Y0 + 1e-4, 3)]),
            shapely.GeometryCollection([shapely.Point(X0, Y0)]),
        ],
        dtype=object,
    )
    expected = shapely.to_wkb(shapely.set_srid(geoms, 4326), include_srid=True, byte_order=1)
    assert ewkb_with_srid(geoms) == list(expected)
    assert shapely.get_srid(shapely.from_wkb(ewkb_with_srid(geoms))).tolist() == [4326] * 7
