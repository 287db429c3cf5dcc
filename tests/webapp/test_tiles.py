"""Vector tiles: decoded back with the expected features, the access policy, bad addresses.

On the SQLite default (Python encoder) and on PostGIS (``ST_AsMVT``). The
web fixture's 街道 lies at about (117.81, 30.94): zoom 14 tile 13553/6709
holds all four grids, zoom 15 tile 27107/13419 the eight buildings.
"""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
import pytest
import shapely

from gridmgmt.core.vector_tiles import EXTENT, TileAddress, mercator_to_lonlat
from gridmgmt.store.vector_tiles import STAMP_SECONDS
from tests.factories import G1, G2, G3, G4, IN_G1, IN_G2, make_incident

Z, X, Y = 14, 13553, 6709
GRIDS = f"/tiles/grids/{Z}/{X}/{Y}.mvt"
BUILDINGS = "/tiles/buildings/15/27107/13419.mvt"  # buildings start at zoom 15
INCIDENTS = f"/tiles/incidents/{Z}/{X}/{Y}.mvt"


def decoded(answer) -> dict:
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(answer.get_data(), default_options={"y_coord_down": True})


def codes(tile: dict, layer: str = "grids", key: str = "code") -> set:
    return {f["properties"][key] for f in tile.get(layer, {}).get("features", [])}


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_grid_and_building_tiles_decode_to_the_stored_features(app, as_role):
    client = as_role("supervisor")
    grids = decoded(client.get(GRIDS))
    assert grids["grids"]["extent"] == EXTENT
    assert codes(grids) == {G1, G2, G3, G4}
    one = next(f for f in grids["grids"]["features"] if f["properties"]["code"] == G1)
    assert one["properties"]["community_code"] == G1[:12]
    stored = app.extensions["gridmgmt_store"].current_grids().set_index("code")
    assert one["properties"]["households"] == stored.loc[G1, "households"]
    assert one["geometry"]["type"] == "Polygon"
    # the polygon sits where G1 is: inside the tile, quantised to integers
    ring = one["geometry"]["coordinates"][0]
    assert all(0 <= x <= EXTENT and 0 <= y <= EXTENT for x, y in ring)
    assert all(isinstance(x, int) for x, _ in ring)
    buildings = decoded(client.get(BUILDINGS))
    assert len(buildings["buildings"]["features"]) == 8
    assert codes(buildings, "buildings", "grid_code") == {G1, G2}
    assert {"building_id", "building_type", "households"} <= set(
        buildings["buildings"]["features"][0]["properties"]
    )


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_a_worker_sees_only_its_own_grids_buildings_and_incidents(app, as_role):
    store = app.extensions["gridmgmt_store"]
    from gridmgmt.domain.incidents import load_categories

    store.sync_categories(load_categories())
    own = make_incident(store, "reported", at=IN_G1)
    make_incident(store, "reported", at=IN_G2)
    client = as_role("worker")
    assert codes(decoded(client.get(GRIDS))) == {G1}
    assert codes(decoded(client.get(BUILDINGS)), "buildings", "grid_code") == {G1}
    incidents = decoded(client.get(INCIDENTS))
    assert codes(incidents, "incidents", "id") == {own["id"]}
    assert set(incidents["incidents"]["features"][0]["properties"]) == {
        "id",
        "number",
        "state",
        "category_code",
        "grid_code",
        "overdue",
    }


def tile_of(lon: float, lat: float, z: int) -> TileAddress:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return TileAddress(z, x, y)


def points_in(client, address: TileAddress) -> list[tuple[float, float]]:
    """The incident points of a tile, back in lon/lat (to a tile unit, ~0.3 m at z 17)."""
    answer = client.get(f"/tiles/incidents/{address.z}/{address.x}/{address.y}.mvt")
    if answer.status_code == 204:
        return []
    minx, miny, maxx, maxy = address.mercator_bounds()
    out = []
    for feature in decoded(answer)["incidents"]["features"]:
        px, py = feature["geometry"]["coordinates"]
        mx = minx + px / EXTENT * (maxx - minx)
        my = maxy - py / EXTENT * (maxy - miny)
        out.append(mercator_to_lonlat(mx, my))
    return out


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_analysts_get_incident_points_rounded_like_every_other_door(app, as_role):
    store = app.extensions["gridmgmt_store"]
    from gridmgmt.domain.incidents import load_categories

    store.sync_categories(load_categories())
    at = (IN_G1[0] + 0.00031, IN_G1[1] + 0.00027)  # 30 m off the 0.001° lattice
    make_incident(store, "reported", at=at)
    rounded = (round(at[0], 3), round(at[1], 3))

    def near(points, target):
        return any(abs(p[0] - target[0]) < 1e-5 and abs(p[1] - target[1]) < 1e-5 for p in points)

    supervisor = as_role("supervisor")
    assert near(points_in(supervisor, tile_of(*at, 17)), at)
    analyst = as_role("analyst")
    assert near(points_in(analyst, tile_of(*rounded, 17)), rounded)
    assert not near(points_in(analyst, tile_of(*at, 17)), at)


def test_anonymous_gets_401_and_hotline_keys_403(app, client):
    from gridmgmt.domain.accounts import create_api_key

    assert client.get(GRIDS).status_code == 401
    key = create_api_key(app.extensions["gridmgmt_store"], "12345热线", "hotline")
    assert client.get(GRIDS, headers={"X-API-Key": key}).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/roads/14/13553/6709.mvt",  # unknown layer
        "/tiles/grids/23/0/0.mvt",  # zoom out of range
        "/tiles/grids/2/4/0.mvt",  # x beyond 2^z - 1
        "/tiles/grids/2/0/4.mvt",
        "/tiles/grids/-1/0/0.mvt",
        "/tiles/grids/a/0/0.mvt",
        "/tiles/grids/14/1.5/0.mvt",
        "/tiles/grids/14/13553/6709.png",
        "/tiles/grids/99999999999999999999/0/0.mvt",
    ],
)
def test_malformed_tile_addresses_are_404(as_role, path):
    answer = as_role("admin").get(path)
    assert answer.status_code == 404, (path, answer.status_code)


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_empty_tiles_are_204_and_etags_revalidate(app, as_role):
    client = as_role("admin")
    assert client.get("/tiles/grids/14/0/0.mvt").status_code == 204  # far away
    assert client.get("/tiles/buildings/10/846/419.mvt").status_code == 204  # below min zoom
    first = client.get(GRIDS)
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(GRIDS, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    # a new grid version is a new ETag
    store = app.extensions["gridmgmt_store"]
    grids = store.current_grids(G3[:12])
    grids["geometry"] = grids.geometry.apply(lambda g: shapely.affinity.scale(g, 0.9, 0.9))
    store.write_grid_version(G3[:12], grids, {})
    time.sleep(STAMP_SECONDS)  # a process asks the database for versions once a second
    changed = client.get(GRIDS, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_gzip_applies_to_tiles(as_role):
    client = as_role("admin")
    plain = client.get(GRIDS)
    zipped = client.get(GRIDS, headers={"Accept-Encoding": "gzip"})
    if len(plain.get_data()) >= 1024:
        assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.status_code == 200


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_tiles_seen_from_afar_are_coarser_and_grids_start_at_zoom_12(app, as_role):
    from gridmgmt.core.vector_tiles import extent_for

    client = as_role("supervisor")
    far = decoded(client.get(f"/tiles/grids/12/{X >> 2}/{Y >> 2}.mvt"))
    assert far["grids"]["extent"] == extent_for(12) == EXTENT // 4
    assert codes(far) == {G1, G2, G3, G4}  # the same grids, in fewer units
    for feature in far["grids"]["features"]:
        assert all(-16 <= x <= EXTENT // 4 + 16 for x, _ in feature["geometry"]["coordinates"][0])
    # below zoom 12 a grid is a few pixels wide: no grid tiles (the 社区 outlines show the city)
    assert client.get(f"/tiles/grids/11/{X >> 3}/{Y >> 3}.mvt").status_code == 204
