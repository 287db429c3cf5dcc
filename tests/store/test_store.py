"""The store on SQLite and PostGIS: migrations, layers, grid versions, users."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gridmgmt.domain.accounts import create_user, verify_password
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import engine as eng
from gridmgmt.store.models import Base
from gridmgmt.store.repository import Store
from tests.factories import CRS, X0, Y0, boundaries, buildings, roads, small_grids


def test_migrations_up_down_up(database_url):
    engine = eng.make_engine(database_url)
    assert eng.upgrade(engine) == eng.head_revision()
    assert "buildings" in sa.inspect(engine).get_table_names()
    assert eng.downgrade(engine, "base") is None
    assert "buildings" not in sa.inspect(engine).get_table_names()
    assert eng.upgrade(engine) == eng.head_revision()
    engine.dispose()


def test_models_match_migrations(store):
    """The ORM models and the migrations describe the same schema."""

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "index" and name and name.endswith("_geom"))

    def include_name(name, type_, parent_names):
        return not (type_ == "table" and name == "spatial_ref_sys")

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include, "include_name": include_name}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_layers_round_trip_with_chinese_text(store):
    written = store.write_layers(
        {"boundaries": boundaries(), "buildings": buildings(), "roads": roads()}, source="test"
    )
    assert written == {"boundaries": 4, "buildings": 4, "roads": 1}
    got = store.read_layer("buildings")
    assert list(got["building_id"]) == ["B0", "B1", "B2", "B3"]
    assert list(got["name"]) == ["1号楼", "2号楼", "3号楼", "4号楼"]
    assert got.crs.to_epsg() == 4326
    assert all(shapely.equals_exact(got.geometry.values, buildings().geometry.values, 1e-12))
    assert store.read_layer("roads")["name"].tolist() == ["长江路"]
    counts = store.counts()
    assert counts["buildings"] == 4 and counts["households"] == 120
    assert counts["communities"] == 2 and counts["streets"] == 1 and counts["districts"] == 1
    communities = store.admin_areas("community")
    assert communities["parent_code"].tolist() == ["340705001", "340705001"]
    assert store.community("翠湖社区")["code"] == "340705001001"
    with pytest.raises(NotFoundError, match="翠湖社区"):
        store.community("不存在社区")


def test_duplicate_ids_refused_and_nothing_written(store):
    store.write_layers({"buildings": buildings(2)}, source="first")
    before = store.counts()
    with pytest.raises(ConflictError, match=r"buildings: 2 id\(s\) already stored \(B0, B1\)"):
        store.write_layers({"roads": roads(), "buildings": buildings(3)}, source="second")
    assert store.counts() == before  # the roads of the failed import are not there either
    store.write_layers({"buildings": buildings(3, households=40)}, source="third", replace=True)
    got = store.read_layer("buildings")
    assert len(got) == 3 and set(got["households"]) == {40}


def test_failed_write_rolls_back_everything(store):
    bad = buildings(2)
    bad.loc[1, "households"] = -5  # violates the CHECK constraint
    with pytest.raises(sa.exc.IntegrityError):
        store.write_layers(
            {"boundaries": boundaries(), "roads": roads(), "buildings": bad}, source="bad"
        )
    counts = store.counts()
    assert counts["roads"] == 0 and counts["buildings"] == 0 and counts["communities"] == 0


def test_grid_versions_history_and_conflict(store):
    store.write_layers({"boundaries": boundaries(), "buildings": buildings()}, source="t")
    grids_v1 = gpd.GeoDataFrame(
        {
            "code": ["340705001001001", "340705001001002"],
            "kind": ["residential", "unit"],
            "households": [60, 60],
            "n_buildings": [2, 2],
            "flag": [None, None],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 0.001, Y0 + 0.002),
            shapely.box(X0 + 0.001, Y0, X0 + 0.002, Y0 + 0.002),
        ],
        crs=CRS,
    )
    labels = {
        "B0": "340705001001001",
        "B1": "340705001001001",
        "B2": "340705001001002",
        "B3": "340705001001002",
    }
    assert store.write_grid_version("340705001001", grids_v1, labels) == 1
    between = datetime.now(UTC)
    time.sleep(0.05)
    merged = grids_v1.iloc[[0]].copy()
    merged["households"] = 120
    merged["n_buildings"] = 4
    merged["geometry"] = [shapely.box(X0, Y0, X0 + 0.002, Y0 + 0.002)]
    with pytest.raises(ConflictError, match="version 1, not 0"):
        store.write_grid_version("340705001001", merged, {}, expected_version=0)
    v2 = store.write_grid_version(
        "340705001001", merged, {k: "340705001001001" for k in labels}, expected_version=1
    )
    assert v2 == 2
    current = store.current_grids("340705001001")
    assert current["code"].tolist() == ["340705001001001"] and current["version"].tolist() == [2]
    old = store.grids_at(between, "340705001001")
    assert old["code"].tolist() == ["340705001001001", "340705001001002"]
    assert set(store.read_layer("buildings")["grid_code"]) == {"340705001001001"}
    with pytest.raises(NotFoundError):
        store.write_grid_version("999999999999", merged, {})


def test_users(store):
    uid = create_user(
        store,
        "worker",
        "gridmgmt-demo",
        "worker",
        display_name="张三",
        grid_codes=["340705001001001"],
    )
    assert uid > 0
    with pytest.raises(ConflictError):
        create_user(store, "worker", "another-pass", "worker")
    with pytest.raises(ValueError, match="unknown role"):
        create_user(store, "x", "long-enough", "boss")
    with pytest.raises(ValueError, match="at least 8"):
        create_user(store, "y", "short", "analyst")
    users = store.users()
    assert users["username"].tolist() == ["worker"]
    assert users["grid_codes"].tolist() == [["340705001001001"]]
    with store.engine.connect() as conn:
        h = conn.scalar(sa.text("SELECT password_hash FROM users WHERE username='worker'"))
    assert h != "gridmgmt-demo" and verify_password(h, "gridmgmt-demo")


def test_postgis_geometry_is_native_with_gist(postgis_url):
    store = Store(postgis_url)
    store.write_layers({"buildings": buildings()}, source="t")
    with store.engine.connect() as conn:
        geom_type = conn.scalar(sa.text("SELECT GeometryType(geom) FROM buildings LIMIT 1"))
        srid = conn.scalar(sa.text("SELECT ST_SRID(geom) FROM buildings LIMIT 1"))
        covered = conn.scalar(
            sa.text(
                "SELECT count(*) FROM buildings WHERE ST_Covers(ST_MakeEnvelope(:a,:b,:c,:d,4326), geom)"
            ),
            {"a": X0, "b": Y0, "c": X0 + 0.0008, "d": Y0 + 0.0004},
        )
        indexes = (
            conn.execute(
                sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE tablename='buildings' AND indexname='ix_buildings_geom'"
                )
            )
            .scalars()
            .all()
        )
    assert geom_type == "POLYGON" and srid == 4326
    assert covered == 2
    assert indexes and "gist" in indexes[0].lower()
    store.dispose()


def test_bbox_and_grid_filters_agree_across_backends(store):
    frame = buildings(8)
    frame["grid_code"] = ["340705001001001"] * 4 + ["340705001001002"] * 4
    store.write_layers({"buildings": frame}, source="t")
    box = (X0, Y0, X0 + 0.0008, Y0 + 0.0004)  # the first two footprints of the first row
    assert store.read_layer("buildings", bbox=box)["building_id"].tolist() == ["B0", "B1"]
    assert store.read_layer("buildings", grid_codes=["340705001001002"])[
        "building_id"
    ].tolist() == ["B4", "B5", "B6", "B7"]
    with pytest.raises(ValueError, match="not located in grids"):
        store.read_layer("roads", grid_codes=["x"])
    with pytest.raises(ValueError, match="unknown layer"):
        store.read_layer("people")


def test_user_lookup(store):
    create_user(
        store, "wang", "pass-word-9", "worker", grid_codes=["340705001001002", "340705001001001"]
    )
    u = store.user(username="wang")
    assert u["role"] == "worker" and u["grid_codes"] == ["340705001001001", "340705001001002"]
    assert store.user(user_id=u["id"])["username"] == "wang"
    assert store.user(username="nobody") is None


def test_grid_lookup_same_on_both_backends_and_bulk(store):
    """PostGIS SQL (ST_Covers), the SQLite live index and bulk assign agree, edges included."""
    import numpy as np

    from gridmgmt.core.assignment import assign

    store.write_layers({"boundaries": boundaries()}, source="t")
    grids = small_grids()
    store.write_grid_version("340705001001", grids.iloc[:2], {})
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    rng = np.random.default_rng(1)
    lon = np.r_[X0 + rng.uniform(-0.0005, 0.0045, 150), X0 + 0.001, X0 + 0.002, X0 + 0.001, X0]
    lat = np.r_[Y0 + rng.uniform(-0.0005, 0.0025, 150), Y0 + 0.001, Y0 + 0.002, Y0, Y0 + 0.0005]
    got = [store.grid_code_at(x, y) for x, y in zip(lon, lat, strict=True)]
    bulk = assign(gpd.GeoSeries(shapely.points(lon, lat), crs=CRS), grids)["grid_code"].tolist()
    assert got == bulk
    assert got[-4:] == ["340705001001001", "340705001001002", "340705001001001", "340705001001001"]
    assert None in got  # some random points fall outside
    # a hair outside the outer edge (0.0 m after rounding) goes to the grid there; 10 cm does not
    assert store.grid_code_at(X0 - 1e-12, Y0 + 0.0005) == "340705001001001"
    assert store.grid_code_at(X0 - 1e-6, Y0 + 0.0005) is None
    store.write_grid_version("340705001001", grids.iloc[[0]].assign(code="340705001001009"), {})
    assert (
        store.grid_code_at(X0 + 0.0005, Y0 + 0.0005) == "340705001001009"
    )  # new version seen at once


def test_grid_codes_are_set_and_cleared_in_bulk(store):
    store.write_layers({"boundaries": boundaries(), "buildings": buildings(6)}, source="t")
    store.set_grid_codes("buildings", {"B0": "340705001001001", "B1": "340705001001002"})
    codes = store.read_layer("buildings").set_index("building_id")["grid_code"]
    assert codes["B0"] == "340705001001001" and codes["B1"] == "340705001001002"
    assert codes.drop(["B0", "B1"]).isna().all()
    # None and "" clear; ids not named keep theirs; a Series is taken as is
    store.set_grid_codes("buildings", {"B0": None})
    store.set_grid_codes("buildings", pd.Series({"B2": "340705001001003", "B1": ""}))
    codes = store.read_layer("buildings").set_index("building_id")["grid_code"]
    assert codes.isna().tolist() == [True, True, False, True, True, True]
    assert codes["B2"] == "340705001001003"
    store.set_grid_codes("buildings", {})  # nothing to do
