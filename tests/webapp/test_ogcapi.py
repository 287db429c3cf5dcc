"""OGC API – Features: structure per the standard, paging, filters, roles, and GDAL's OAPIF driver."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from gridmgmt.domain.accounts import create_api_key
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import report_incident
from tests.environment import require
from tests.factories import G1, G2, LABELS, X0, Y0

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
WHEN = [datetime(2026, 11, d, 2, 0, tzinfo=UTC) for d in (2, 10, 20)]


# ------------------------------------------------------- structural checks
def check_links(links, *required):
    assert isinstance(links, list)
    for link in links:
        assert isinstance(link["href"], str) and link["href"].startswith("http")
        assert isinstance(link["rel"], str)
    rels = {link["rel"] for link in links}
    missing = set(required) - rels
    assert not missing, f"links lack {missing}"


def check_collection(c):
    assert isinstance(c["id"], str)
    check_links(c["links"], "self", "items")
    assert c["itemType"] == "feature"
    bbox = c["extent"]["spatial"]["bbox"]
    assert isinstance(bbox, list) and len(bbox[0]) in (4, 6)
    minx, miny, maxx, maxy = bbox[0][:4]
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    assert c["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
    if "temporal" in c["extent"]:
        for start, end in c["extent"]["temporal"]["interval"]:
            assert start is None or start <= end or end is None


def check_feature(f):
    assert f["type"] == "Feature"
    assert isinstance(f["id"], str | int)
    assert f["geometry"] is None or f["geometry"]["type"] in (
        "Point",
        "Polygon",
        "MultiPolygon",
        "LineString",
        "MultiPoint",
        "MultiLineString",
    )
    assert isinstance(f["properties"], dict | None)


def check_feature_collection(body):
    assert body["type"] == "FeatureCollection"
    for f in body["features"]:
        check_feature(f)
    check_links(body["links"], "self")
    assert body["numberReturned"] == len(body["features"])
    assert body["numberMatched"] >= body["numberReturned"]
    datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00"))


def check_exception(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body["code"], str) and isinstance(body["description"], str)
    return body


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def data(app):
    store = app.extensions["gridmgmt_store"]
    store.sync_categories(load_categories())  # the PostGIS store is not the app's default one
    for i, (when, dx) in enumerate(zip(WHEN, (0.0005, 0.0015, 0.0012), strict=True)):
        report_incident(
            store,
            category_code="11001",
            description=f"垃圾堆放 张三 13800000000 #{i}",
            lon=X0 + dx,
            lat=Y0 + 0.00051234,
            reporter="hotline",
            role="supervisor",
            source="12345热线",
            address="幸福路12号3单元",
            now=when,
        )
    return store


@pytest.fixture
def key(data):
    def _key(role, client=None):
        return {"X-API-Key": create_api_key(data, client or f"{role}-client", role)}

    return _key


# ------------------------------------------------------------------- tests
def test_landing_conformance_collections_follow_the_standard(client, key):
    h = key("supervisor")
    landing = client.get("/ogcapi", headers=h)
    assert landing.status_code == 200 and landing.mimetype == "application/json"
    check_links(landing.get_json()["links"], "self", "service-desc", "conformance", "data")
    api = client.get("/ogcapi/api", headers=h)
    assert api.status_code == 200 and "openapi" in api.content_type
    doc = api.get_json()
    assert doc["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in doc["paths"]
    limit = next(
        p
        for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 1000 and limit["schema"]["default"] == 10
    conf = client.get("/ogcapi/conformance", headers=h).get_json()["conformsTo"]
    assert CORE in conf and GEOJSON_CONF in conf and any(c.endswith("/conf/oas30") for c in conf)
    body = client.get("/ogcapi/collections?f=json", headers=h).get_json()
    check_links(body["links"], "self")
    assert [c["id"] for c in body["collections"]] == [
        "grids",
        "buildings",
        "facilities",
        "incidents",
    ]
    for c in body["collections"]:
        check_collection(c)
    incidents = client.get("/ogcapi/collections/incidents", headers=h).get_json()
    assert incidents["extent"]["temporal"]["interval"] == [
        ["2026-11-02T02:00:00Z", "2026-11-20T02:00:00Z"]
    ]
    grids = client.get("/ogcapi/collections/grids", headers=h).get_json()
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([X0, Y0, X0 + 0.004, Y0 + 0.002])


def test_items_paging_links_and_geojson_media_type(client, key):
    h = key("admin")
    first = client.get("/ogcapi/collections/buildings/items?limit=3", headers=h)
    assert first.mimetype == "application/geo+json"
    body = first.get_json()
    check_feature_collection(body)
    assert (body["numberMatched"], body["numberReturned"]) == (8, 3)
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert "prev" not in links and "offset=3" in links["next"] and "limit=3" in links["next"]
    seen = [f["id"] for f in body["features"]]
    url = links["next"]
    while url:
        page = client.get(url.replace("http://localhost", ""), headers=h).get_json()
        check_feature_collection(page)
        seen += [f["id"] for f in page["features"]]
        rels = {link["rel"]: link["href"] for link in page["links"]}
        assert "prev" in rels
        url = rels.get("next")
    assert sorted(seen) == sorted(f"B{i}" for i in range(8))
    default = client.get("/ogcapi/collections/buildings/items", headers=h).get_json()
    assert default["numberReturned"] == 8  # default limit 10
    capped = client.get("/ogcapi/collections/buildings/items?limit=5000", headers=h).get_json()
    assert capped["numberReturned"] == 8
    one = client.get("/ogcapi/collections/buildings/items/B3", headers=h)
    assert one.mimetype == "application/geo+json"
    check_feature(one.get_json())
    assert one.get_json()["id"] == "B3"
    check_links(one.get_json()["links"], "self", "collection")
    grid = client.get(f"/ogcapi/collections/grids/items/{G2}", headers=h).get_json()
    assert grid["properties"]["households"] == 420


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_bbox_and_datetime_filters(client, key):
    h = key("supervisor")
    items = "/ogcapi/collections/incidents/items"
    inside = client.get(f"{items}?bbox={X0},{Y0},{X0 + 0.001},{Y0 + 0.002}", headers=h).get_json()
    assert inside["numberMatched"] == 1
    grids = client.get(
        f"/ogcapi/collections/grids/items?bbox={X0 + 0.0021},{Y0},{X0 + 0.0029},{Y0 + 0.001}",
        headers=h,
    ).get_json()
    assert [f["id"] for f in grids["features"]] == ["340705001002001"]

    def matched(value):
        response = client.get(items, query_string={"datetime": value}, headers=h)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["numberMatched"]

    assert matched("2026-11-10T02:00:00Z") == 1
    assert matched("2026-11-01T00:00:00Z/2026-11-15T00:00:00Z") == 2
    assert matched("../2026-11-09T00:00:00Z") == 1
    assert matched("2026-11-09T00:00:00Z/..") == 2
    assert matched("2026-11-10T10:00:00+08:00/") == 2
    assert matched("2025-01-01T00:00:00Z/2025-02-01T00:00:00Z") == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("bbox=1,2,3", 400),
        ("bbox=a,b,c,d", 400),
        ("bbox=10,50,20,40", 400),
        ("bbox=170,0,-170,10", 400),
        ("bbox=0,-95,10,10", 400),
        ("limit=-1", 400),
        ("limit=0", 400),
        ("limit=ten", 400),
        ("offset=-3", 400),
        ("datetime=2026-11-20T00:00:00Z/2026-11-01T00:00:00Z", 400),
        ("datetime=yesterday", 400),
        ("datetime=../..&limit=1", 200),
        ("datetime=a/b/c", 400),
        ("f=html", 400),
        ("colour=red", 400),
    ],
)
def test_bad_parameters_get_a_400_exception(client, key, query, status):
    response = client.get(f"/ogcapi/collections/incidents/items?{query}", headers=key("admin"))
    if status == 200:
        assert response.status_code == 200
    else:
        assert check_exception(response, status)["code"] == "InvalidParameterValue"


def test_unknown_collection_or_feature_is_404_and_anonymous_is_401(client, key):
    h = key("admin")
    body = check_exception(client.get("/ogcapi/collections/roads/items", headers=h), 404)
    assert "roads" in body["description"] and "grids" in body["description"]
    check_exception(client.get("/ogcapi/collections/roads", headers=h), 404)
    check_exception(client.get("/ogcapi/collections/buildings/items/nope", headers=h), 404)
    assert client.get("/ogcapi/collections").status_code == 401
    assert client.get("/ogcapi", headers={"X-API-Key": "gm_wrong"}).status_code == 401


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_analyst_key_gets_no_personal_data(client, key):
    body = client.get("/ogcapi/collections/incidents/items", headers=key("analyst")).get_json()
    assert body["numberMatched"] == 3
    text = json.dumps(body, ensure_ascii=False)
    for private in ("张三", "13800000000", "幸福路", "hotline"):
        assert private not in text
    for f in body["features"]:
        assert not {"reporter", "description", "address", "department"} & set(f["properties"])
        lon, lat = f["geometry"]["coordinates"]
        assert round(lat, 3) == pytest.approx(lat, abs=1e-9) and round(lon, 3) == pytest.approx(
            lon, abs=1e-9
        )
    full = client.get("/ogcapi/collections/incidents/items", headers=key("supervisor")).get_json()
    assert full["features"][0]["properties"]["description"].startswith("垃圾堆放")
    assert full["features"][0]["geometry"]["coordinates"][1] == pytest.approx(Y0 + 0.00051234)
    grids = client.get("/ogcapi/collections/grids/items", headers=key("analyst")).get_json()
    counts = {f["id"]: f["properties"]["incidents"] for f in grids["features"]}
    assert counts[G1] == 1 and counts[G2] == 2


def test_worker_sees_only_own_grids(app, key, as_role):
    session = as_role("worker")  # logged in, bound to G1
    grids = session.get("/ogcapi/collections/grids/items").get_json()
    assert [f["id"] for f in grids["features"]] == [G1]
    buildings = session.get("/ogcapi/collections/buildings/items?limit=100").get_json()
    assert {f["properties"]["grid_code"] for f in buildings["features"]} == {G1}
    incidents = session.get("/ogcapi/collections/incidents/items").get_json()
    assert {f["properties"]["grid_code"] for f in incidents["features"]} == {G1}
    check_exception(session.get(f"/ogcapi/collections/grids/items/{G2}"), 404)
    # a worker key named after the worker inherits the worker's grids; another sees nothing
    client = app.test_client()  # no session cookie
    named = client.get(
        "/ogcapi/collections/grids/items", headers=key("worker", "worker")
    ).get_json()
    assert [f["id"] for f in named["features"]] == [G1]
    other = client.get(
        "/ogcapi/collections/grids/items", headers=key("worker", "phone-7")
    ).get_json()
    assert other["numberMatched"] == 0


def test_gdal_oapif_driver_reads_the_service(live_server, key):
    ogrinfo = shutil.which("ogrinfo")
    require(ogrinfo is not None, "GDAL's ogrinfo is not installed (apt-get install gdal-bin)")
    header = key("analyst")["X-API-Key"]
    run = subprocess.run(
        [
            ogrinfo,
            "-ro",
            "-al",
            "-so",
            f"OAPIF:{live_server}/ogcapi",
            "--config",
            "GDAL_HTTP_HEADERS",
            f"X-API-Key: {header}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for layer in ("grids", "buildings", "facilities", "incidents"):
        assert f"Layer name: {layer}" in out
    assert "Feature Count: 4" in out and "Feature Count: 8" in out and "Feature Count: 3" in out
    assert "households: Integer" in out and "reporter" not in out
    full = subprocess.run(
        [
            ogrinfo,
            "-ro",
            f"OAPIF:{live_server}/ogcapi",
            "buildings",
            "-oo",
            "PAGE_SIZE=3",
            "--config",
            "GDAL_HTTP_HEADERS",
            f"X-API-Key: {header}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 0, full.stderr
    assert full.stdout.count("OGRFeature(buildings)") == 8  # followed the next links
    denied = subprocess.run(
        [ogrinfo, "-ro", "-so", f"OAPIF:{live_server}/ogcapi"], capture_output=True, text=True
    )
    assert denied.returncode != 0


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_pages_are_counted_and_cut_in_the_store_for_each_reader(app, client, key, as_role):
    """Totals and pages of grids and buildings are the reader's own, with and without a bbox."""
    h = key("supervisor")
    url = "/ogcapi/collections/buildings/items"
    everything = client.get(f"{url}?limit=1000", headers=h).get_json()["features"]

    def west_edge(f):
        return min(p[0] for p in f["geometry"]["coordinates"][0])

    edges = sorted({west_edge(f) for f in everything})
    split = (edges[0] + edges[1]) / 2  # a box that reaches the westernmost column only
    west = [f["id"] for f in everything if west_edge(f) < split]
    assert 2 <= len(west) < len(everything)
    box = f"{X0 - 0.01},{Y0 - 0.01},{split},{Y0 + 0.01}"
    seen, offset = [], 0
    while True:
        page = client.get(f"{url}?bbox={box}&limit=1&offset={offset}", headers=h).get_json()
        assert page["numberMatched"] == len(west)
        seen += [f["id"] for f in page["features"]]
        offset += 1
        if offset >= page["numberMatched"]:
            break
    assert seen == west  # in a stable order, no row twice or missing
    beyond = client.get(f"{url}?limit=5&offset=500", headers=h).get_json()
    assert beyond["numberReturned"] == 0 and beyond["numberMatched"] == len(everything)
    codes = [
        f["id"]
        for f in client.get("/ogcapi/collections/grids/items", headers=h).get_json()["features"]
    ]
    assert codes == sorted(codes) and G2 in codes
    at = codes.index(G2)
    grids = client.get(f"/ogcapi/collections/grids/items?limit=1&offset={at}", headers=h).get_json()
    assert grids["numberMatched"] == len(codes) and [f["id"] for f in grids["features"]] == [G2]
    assert grids["features"][0]["properties"]["incidents"] == 2  # counted for the page's grids
    report_incident(
        app.extensions["gridmgmt_store"],
        category_code="11001",
        description="又一处",
        lon=X0 + 0.0015,
        lat=Y0 + 0.0005,
        reporter="hotline",
        role="supervisor",
        source="12345热线",
    )
    again = client.get(f"/ogcapi/collections/grids/items?limit=1&offset={at}", headers=h).get_json()
    assert again["features"][0]["properties"]["incidents"] == 3  # the kept page, today's count
    assert again["features"][0]["geometry"] == grids["features"][0]["geometry"]
    worker = as_role("worker").get(f"{url}?limit=1").get_json()  # bound to G1
    assert worker["numberMatched"] == sum(code == G1 for code in LABELS.values())
    assert worker["features"][0]["properties"]["grid_code"] == G1
