"""ETags and 304s on incident lists and map layers, with gzip, and no view cached for one
principal served to another; on SQLite and PostGIS."""

from __future__ import annotations

import pytest

from gridmgmt.domain.incidents import load_categories
from tests.factories import G1, IN_G1, IN_G2, LABELS, make_incident, small_grids
from tests.webapp.sessions import login

BACKENDS = pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
GZIP = {"Accept-Encoding": "gzip"}


def _store(app):
    store = app.extensions["gridmgmt_store"]
    store.sync_categories(load_categories())  # the PostGIS store is not the app's first one
    return store


def _revalidate(client, url: str, etag: str, **headers):
    return client.get(url, headers={"If-None-Match": etag, **headers})


@BACKENDS
def test_incident_list_etag_round_trip_and_change(app, as_role):
    store = _store(app)
    for _ in range(6):
        make_incident(store, "reported", at=IN_G1)
    client = as_role("supervisor")
    url = "/api/v1/incidents?limit=20"
    first = client.get(url)
    etag = first.headers["ETag"].strip('"')
    assert (
        "private" in first.headers["Cache-Control"] and "max-age=" in first.headers["Cache-Control"]
    )
    again = _revalidate(client, url, first.headers["ETag"])
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    # compressed: the tag says so, and revalidating with it works too
    zipped = client.get(url, headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["ETag"] == f'"{etag}-gzip"'
    vary = [v.strip() for header in zipped.headers.getlist("Vary") for v in header.split(",")]
    assert sorted(vary) == sorted({"Accept-Encoding", "Cookie", "X-API-Key"})  # each once
    assert _revalidate(client, url, zipped.headers["ETag"], **GZIP).status_code == 304
    # another page is another version
    assert client.get(url + "&offset=1").headers["ETag"] != first.headers["ETag"]
    # a new incident: the old tag no longer matches
    make_incident(store, "reported", at=IN_G1)
    changed = _revalidate(client, url, first.headers["ETag"])
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert changed.get_json()["total"] == 7


@BACKENDS
def test_open311_list_revalidates(app, client):
    from gridmgmt.domain.accounts import create_api_key

    store = _store(app)
    make_incident(store, "reported", at=IN_G1)
    key = create_api_key(store, "reader", "supervisor")
    url = f"/open311/v2/requests.json?api_key={key}"
    first = client.get(url)
    assert _revalidate(client, url, first.headers["ETag"]).status_code == 304


@BACKENDS
def test_grid_layer_etag_follows_grid_versions_and_incidents(app, as_role):
    store = _store(app)
    client = as_role("supervisor")
    url = "/api/v1/geo/grids?zoom=15"
    first = client.get(url)
    assert first.status_code == 200 and len(first.get_json()["features"]) == 4
    tag = first.headers["ETag"]
    assert _revalidate(client, url, tag).status_code == 304
    zipped = client.get(url, headers=GZIP)
    assert zipped.headers["ETag"] == tag[:-1] + '-gzip"'
    assert _revalidate(client, url, zipped.headers["ETag"], **GZIP).status_code == 304
    # a new incident changes the grids' counts
    make_incident(store, "reported", at=IN_G1)
    counted = _revalidate(client, url, tag)
    assert counted.status_code == 200 and counted.headers["ETag"] != tag
    features = {f["properties"]["code"]: f for f in counted.get_json()["features"]}
    assert features[G1]["properties"]["open_incidents"] == 1
    tag = counted.headers["ETag"]
    # a new grid version (households changed) changes it again
    grids = small_grids().iloc[:2].copy()
    grids["households"] = grids["households"] + 17
    store.write_grid_version("340705001001", grids, LABELS)
    fresh = _revalidate(client, url, tag)
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    households = {
        f["properties"]["code"]: f["properties"]["households"] for f in fresh.get_json()["features"]
    }
    assert households[G1] == int(grids.iloc[0]["households"])


@BACKENDS
def test_no_principal_is_served_anothers_cached_layer(app):
    store = _store(app)
    make_incident(store, "reported", at=IN_G2)  # in a grid the worker does not own
    admin, worker = app.test_client(), app.test_client()
    login(admin, "admin")
    login(worker, "worker")
    url = "/api/v1/geo/buildings?zoom=16"
    seen_by_admin = admin.get(url)
    assert admin.get(url).status_code == 200  # served from the cache now
    cache = app.extensions["gridmgmt_layer_cache"]
    assert cache.hits >= 1
    seen_by_worker = worker.get(url)
    admin_codes = {f["properties"]["grid_code"] for f in seen_by_admin.get_json()["features"]}
    worker_codes = {f["properties"]["grid_code"] for f in seen_by_worker.get_json()["features"]}
    assert len(admin_codes) > 1 and worker_codes == {G1}
    assert seen_by_worker.headers["ETag"] != seen_by_admin.headers["ETag"]
    # the admin's tag gets the worker its own view, not a 304 for the admin's
    assert _revalidate(worker, url, seen_by_admin.headers["ETag"]).status_code == 200
    # grids: the same outlines, but counts of the incidents each may see
    admin_grids = admin.get("/api/v1/geo/grids?zoom=15").get_json()["features"]
    worker_grids = worker.get("/api/v1/geo/grids?zoom=15").get_json()["features"]
    assert sum(f["properties"]["open_incidents"] for f in admin_grids) == 1
    assert sum(f["properties"]["open_incidents"] for f in worker_grids) == 0


@BACKENDS
def test_grid_layer_counts_open_and_overdue_incidents_in_one_query(app, as_role):
    from datetime import UTC, datetime

    from gridmgmt.domain.incidents.service import transition_incident

    store = _store(app)
    long_ago = datetime(2025, 3, 3, 9, tzinfo=UTC)
    make_incident(store, "registered", at=IN_G1, now=long_ago)  # its deadline passed long ago
    make_incident(store, "reported", at=IN_G1)  # due later
    refused = make_incident(store, "reported", at=IN_G1, now=long_ago)
    transition_incident(  # rejected: no longer open, not counted though its deadline passed
        store, refused["id"], "reject", actor="supervisor", role="supervisor", note="重复"
    )
    make_incident(store, "reported", at=IN_G2)
    client = as_role("supervisor")
    grids = client.get("/api/v1/geo/grids?zoom=15").get_json()["features"]
    counts = {
        f["properties"]["code"]: (
            f["properties"]["open_incidents"],
            f["properties"]["overdue_incidents"],
        )
        for f in grids
    }
    assert counts[G1] == (2, 1) and counts["340705001001002"] == (1, 0)
    card = client.get(f"/api/v1/grids/{G1}").get_json()
    assert (card["open_incidents"], card["overdue_incidents"]) == (2, 1)


def test_a_body_with_a_strong_etag_is_gzipped_once_and_follows_its_body():
    import gzip

    from webapp.compression import CompressedBodies

    kept = CompressedBodies(max_entries=2)
    body = b'{"type": "FeatureCollection"}' * 100
    first = kept.compressed(("tag-a", len(body), "application/json"), body, 6)
    again = kept.compressed(("tag-a", len(body), "application/json"), b"ignored", 6)
    assert again is first and gzip.decompress(first) == body  # the kept copy, not a new one
    other = b"[1, 2, 3]" * 200
    assert gzip.decompress(kept.compressed(("tag-b", len(other), "x"), other, 6)) == other
    kept.compressed(("tag-c", 3, "x"), b"abc", 6)  # a third entry pushes out the oldest
    assert (
        gzip.decompress(kept.compressed(("tag-a", len(body), "x"), b"new body", 6)) == b"new body"
    )


def test_layers_are_served_gzipped_and_identical_asks_get_identical_bytes(app, as_role):
    import gzip

    session = as_role("supervisor")
    url, headers = "/api/v1/geo/grids?zoom=15", {"Accept-Encoding": "gzip"}
    one = session.get(url, headers=headers)
    two = session.get(url, headers=headers)
    assert one.headers["Content-Encoding"] == "gzip" and one.data == two.data
    assert one.headers["ETag"].endswith('-gzip"')
    assert gzip.decompress(one.data) == session.get(url).data
