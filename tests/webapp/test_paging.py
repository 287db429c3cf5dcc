"""Paged lists: totals and pages per principal, bad limits, Open311 pages, and a constant
number of SQL statements whatever the page size; on SQLite and PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from gridmgmt.domain import access
from gridmgmt.domain.accounts import create_api_key
from gridmgmt.domain.incidents import load_categories
from tests.factories import G1, IN_G1, IN_G2, make_incident
from tests.webapp.sessions import login

BACKENDS = pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)


def _fill(store, in_g1: int, in_g2: int) -> None:
    store.sync_categories(load_categories())  # the PostGIS store is not the app's first one
    for _ in range(in_g1):
        make_incident(store, "reported", at=IN_G1)
    for _ in range(in_g2):
        make_incident(store, "reported", at=IN_G2)


def _all_pages(client, url: str, limit: int) -> tuple[list[dict], set[int]]:
    """Every page of ``url`` followed through ``next``; returns the rows and the totals seen."""
    rows, totals = [], set()
    page = client.get(f"{url}?limit={limit}").get_json()
    while True:
        rows += page["items"]
        totals.add(page["total"])
        assert len(page["items"]) <= limit
        if page["next"] is None:
            return rows, totals
        page = client.get(page["next"]).get_json()


@BACKENDS
def test_pages_and_totals_are_each_principals_own(app, as_role):
    store = app.extensions["gridmgmt_store"]
    _fill(store, in_g1=7, in_g2=5)
    admin = app.test_client()
    login(admin, "admin")
    rows, totals = _all_pages(admin, "/api/v1/incidents", 5)
    assert totals == {12} and len(rows) == 12
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 12  # stable order, no row twice

    worker = as_role("worker")  # owns G1 only
    rows, totals = _all_pages(worker, "/api/v1/incidents", 3)
    assert totals == {7} and len(rows) == 7 and {r["grid_code"] for r in rows} == {G1}
    first = worker.get("/api/v1/incidents?limit=3").get_json()
    assert (first["limit"], first["offset"], first["total"]) == (3, 0, 7)
    assert first["prev"] is None and "offset=3" in first["next"]
    # the same rule as the policy applied to the whole table
    scope_rows = access.visible_incidents(
        access.Principal("worker", "worker", grid_codes=(G1,)), store.incidents()
    )
    assert sorted(scope_rows["id"]) == sorted(r["id"] for r in rows)


@BACKENDS
def test_past_the_end_bad_and_huge_limits(app, as_role):
    _fill(app.extensions["gridmgmt_store"], in_g1=3, in_g2=0)
    client = as_role("admin")
    past = client.get("/api/v1/incidents?offset=50")
    assert past.status_code == 200
    assert past.get_json()["items"] == [] and past.get_json()["total"] == 3
    for bad in ("abc", "-1", "0", "1.5"):
        answer = client.get(f"/api/v1/incidents?limit={bad}")
        assert answer.status_code == 400 and "limit" in answer.get_json()["error"], bad
    assert client.get("/api/v1/incidents?offset=-2").status_code == 400
    huge = client.get("/api/v1/incidents?limit=1000000")
    assert huge.status_code == 200 and huge.get_json()["limit"] == 500
    assert huge.headers["X-Page-Limit"] == "500" and huge.headers["X-Total-Count"] == "3"
    assert client.get("/api/v1/incidents").get_json()["limit"] == 50


@BACKENDS
def test_open311_page_and_page_size(app, client):
    store = app.extensions["gridmgmt_store"]
    _fill(store, in_g1=4, in_g2=3)
    key = create_api_key(store, "reader", "supervisor")
    url = f"/open311/v2/requests.json?api_key={key}"
    second = client.get(f"{url}&page=2&page_size=3")
    assert second.status_code == 200 and second.headers["X-Total-Count"] == "7"
    body = second.get_json()
    assert isinstance(body, list) and len(body) == 3
    link = second.headers["Link"]
    assert 'rel="next"' in link and "page=3" in link and 'rel="prev"' in link
    assert "api_key" not in link  # a key is never put into a link
    everything = [
        r["service_request_id"]
        for page in (1, 2, 3)
        for r in client.get(f"{url}&page={page}&page_size=3").get_json()
    ]
    assert len(everything) == 7 == len(set(everything))
    assert all(r["lat"] is not None and r["long"] is not None for r in body)
    assert client.get(f"{url}&page=9&page_size=3").get_json() == []
    for bad in ("page=0", "page=x", "page_size=-5"):
        answer = client.get(f"{url}&{bad}")
        assert answer.status_code == 400 and answer.get_json()[0]["code"] == 400, bad
    assert client.get(f"{url}&page_size=9999").headers["X-Page-Limit"] == "500"
    # dates filter in the query too (a date without a zone is Asia/Shanghai's)
    future = client.get(f"{url}&start_date=2999-01-01T00:00:00")
    assert future.get_json() == [] and future.headers["X-Total-Count"] == "0"
    assert client.get(f"{url}&end_date=2999-01-01T00:00:00Z").headers["X-Total-Count"] == "7"
    assert client.get(f"{url}&status=closed").headers["X-Total-Count"] == "0"
    assert client.get(f"{url}&status=maybe").status_code == 400
    # a hotline reads back only its own submissions, and its total says so
    hotline = create_api_key(store, "hotline-1", "hotline")
    mine = client.get(f"/open311/v2/requests.json?api_key={hotline}")
    assert mine.get_json() == [] and mine.headers["X-Total-Count"] == "0"


def _count_statements(engine):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


LISTS = (
    "/api/v1/incidents?limit=500",
    "/open311/v2/requests.json?page_size=500",
    "/ogcapi/collections/incidents/items?limit=500",
)


@BACKENDS
def test_lists_cost_the_same_number_of_queries_for_10_and_100_incidents(app, as_role):
    store = app.extensions["gridmgmt_store"]
    client = as_role("supervisor")
    counts = {}
    for total in (10, 100):
        _fill(store, in_g1=total - len(store.incidents()), in_g2=0)
        for url in LISTS:
            client.get(url)  # warm: categories, session
            statements, stop = _count_statements(store.engine)
            try:
                answer = client.get(url)
            finally:
                stop()
            assert answer.status_code == 200, url
            body = answer.get_json()
            listed = body.get("items") or body.get("features") if isinstance(body, dict) else body
            assert len(listed) == total, url
            counts[(url, total)] = len(statements)
    for url in LISTS:
        assert counts[(url, 10)] == counts[(url, 100)], (url, counts)


@BACKENDS
def test_ogc_incident_items_page_in_the_store_with_bbox_and_scope(app, as_role):
    store = app.extensions["gridmgmt_store"]
    _fill(store, in_g1=5, in_g2=4)
    client = as_role("supervisor")
    x, y = IN_G1
    box = f"{x - 0.0002},{y - 0.0002},{x + 0.0002},{y + 0.0002}"
    url = f"/ogcapi/collections/incidents/items?bbox={box}&limit=2"
    first = client.get(url).get_json()
    assert first["numberMatched"] == 5 and first["numberReturned"] == 2
    ids = [f["id"] for f in first["features"]]
    third = client.get(url + "&offset=4").get_json()
    assert third["numberReturned"] == 1 and not {f["id"] for f in third["features"]} & set(ids)
    assert client.get(url + "&offset=40").get_json()["features"] == []
    assert client.get(url.replace("limit=2", "limit=-3")).status_code == 400
    assert client.get(url.replace("limit=2", "limit=5000")).get_json()["numberReturned"] == 5
    everything = client.get("/ogcapi/collections/incidents/items").get_json()
    assert everything["numberMatched"] == 9 and everything["numberReturned"] == 9
    one = client.get(f"/ogcapi/collections/incidents/items/{ids[0]}")
    assert one.status_code == 200 and one.get_json()["geometry"]["type"] == "Point"


@BACKENDS
def test_ogc_worker_sees_only_own_grid_incidents(app, as_role):
    store = app.extensions["gridmgmt_store"]
    _fill(store, in_g1=2, in_g2=3)
    worker = as_role("worker")
    listed = worker.get("/ogcapi/collections/incidents/items?limit=1").get_json()
    assert listed["numberMatched"] == 2 and listed["numberReturned"] == 1
    other = store.incidents(grid_codes=["340705001001002"])["id"].iloc[0]
    assert worker.get(f"/ogcapi/collections/incidents/items/{other}").status_code == 404


@BACKENDS
def test_search_pages_in_sql_within_each_principals_reach(app):
    store = app.extensions["gridmgmt_store"]
    buildings = store.read_layer("buildings")
    named = buildings[buildings["name"].str.contains("号楼")]
    admin, worker = app.test_client(), app.test_client()
    login(admin, "admin")
    login(worker, "worker")
    url = "/api/v1/search?q=号楼"
    first = admin.get(url + "&limit=3")
    assert first.headers["X-Total-Count"] == str(len(named)) and len(first.get_json()) == 3
    labels = [
        hit["label"]
        for offset in range(0, len(named), 3)
        for hit in admin.get(f"{url}&limit=3&offset={offset}").get_json()
    ]
    assert sorted(labels) == sorted(named["name"])
    assert admin.get(url + "&offset=50").get_json() == []
    assert admin.get(url + "&limit=nope").status_code == 400
    assert admin.get(url + "&limit=100000").headers["X-Page-Limit"] == "100"
    own = named[named["grid_code"] == G1]
    assert 0 < len(own) < len(named)
    mine = worker.get(url)
    assert mine.headers["X-Total-Count"] == str(len(own))
    assert sorted(h["label"] for h in mine.get_json()) == sorted(own["name"])
    # a literal % matches nothing rather than everything
    assert admin.get("/api/v1/search?q=%25%25").get_json() == []


@BACKENDS
def test_worker_pages_own_patrols_newest_first(app, as_role):
    from datetime import UTC, datetime, timedelta

    from gridmgmt.store.patrols import PatrolStore

    patrols = PatrolStore(app.extensions["gridmgmt_store"])
    t0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
    mine = [patrols.start("worker", [G1], t0 + timedelta(hours=h), "web") for h in range(5)]
    patrols.start("someone-else", [G1], t0, "web")
    client = as_role("worker")
    first = client.get("/api/v1/patrols?limit=2").get_json()
    assert first["total"] == 5 and [p["id"] for p in first["items"]] == mine[::-1][:2]
    rest = client.get(first["next"]).get_json()
    assert [p["id"] for p in rest["items"]] == mine[::-1][2:4]
    assert client.get("/api/v1/patrols?offset=10").get_json()["items"] == []
    assert client.get("/api/v1/patrols?limit=-1").status_code == 400


@BACKENDS
def test_ids_no_row_can_have_are_not_found_not_a_server_error(app, as_role):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _fill(app.extensions["gridmgmt_store"], in_g1=1, in_g2=0)
    client = as_role("supervisor")
    huge = "340705001001001"  # a grid code where an id was expected
    assert client.get(f"/ogcapi/collections/incidents/items/{huge}").status_code == 404
    assert client.get(f"/api/v1/incidents/{huge}").status_code == 404
    listed = client.get(f"/open311/v2/requests.json?service_request_id={huge}")
    assert listed.status_code == 200 and listed.get_json() == []
    assert client.get(f"/open311/v2/requests/{huge}.json").status_code == 404
