"""Every route of the app against every kind of principal, checked against the access policy.

Each view declares the action it needs (``webapp.policy.requires``) or that
it is public; the matrix enumerates ``app.url_map``, so a new route that
declares nothing fails :func:`test_every_route_declares_its_access` until it
does. For each route and principal the test asks the app and compares with
:func:`gridmgmt.domain.access.may`:

- anonymous: a redirect to the log-in page (pages) or 401 (APIs), except for
  the public actions (the residents' pages), which anonymous requests pass;
- a principal the policy refuses: 403;
- a principal it allows: anything but 401/403 (200, or 400/404/409/422 for
  the deliberately empty requests and ids out of reach).

On SQLite and PostGIS. Principals: one session per role, a handler bound to 环卫所, a
supervisor bound to the 社区 of G1 and G2, and an API key per role (sent as
``X-API-Key``), the hotline's included.
"""

from __future__ import annotations

import re

import pytest

from gridmgmt.domain import access
from gridmgmt.domain.accounts import create_api_key
from gridmgmt.store.accounts import AccountStore
from tests.factories import COMMUNITY, G1, G3, IN_G1, IN_G2, OTHER_COMMUNITY, make_incident
from tests.webapp.sessions import login

#: routes whose access is not a policy action: endpoint -> who may use it
OUTSIDE_THE_POLICY = {
    "static": "everyone (the app's own CSS and JavaScript)",
    "auth.login": "everyone",
    "auth.logout": "anyone logged in",
}
SESSION_ROLES = ("admin", "supervisor", "dept", "worker", "analyst", "informant", "building_head")
KEY_ROLES = ("admin", "supervisor", "dept", "worker", "analyst", "hotline")
API_PREFIXES = ("/api/", "/open311/", "/ogcapi", "/rebalance/api/", "/tiles/")


def _view_action(app, endpoint: str):
    """The action a view declared, ``None`` for public, or the sentinel ``...`` for nothing."""
    return getattr(app.view_functions[endpoint], "access_action", ...)


@pytest.fixture
def world(app):
    """The web fixture's 街道 with incidents, a bound handler and one API key per role."""
    store = app.extensions["gridmgmt_store"]
    from gridmgmt.domain.accounts import create_user
    from gridmgmt.domain.incidents import load_categories
    from tests.webapp.sessions import PASSWORD

    store.sync_categories(load_categories())  # the PostGIS store is not the app's first one

    create_user(store, "dept_hw", PASSWORD, "dept", display_name="环卫所 王")
    AccountStore(store).set_department("dept_hw", "环卫所")
    create_user(store, "sup_cuihu", PASSWORD, "supervisor", area=COMMUNITY)
    for volunteer in ("informant", "building_head"):  # 信息员, 楼栋长 of G1
        create_user(store, volunteer, PASSWORD, volunteer, grid_codes=[G1])
    mine = make_incident(store, "reported", at=IN_G1, description="楼道堆物，电话13800000000")
    dispatched = make_incident(store, "dispatched", at=IN_G2, description="占道经营")
    keys = {role: create_api_key(store, f"key-{role}", role) for role in KEY_ROLES}
    return {"mine": mine, "dispatched": dispatched, "keys": keys, "store": store}


def _fill(rule, world) -> str:
    values = {
        "incident_id": str(world["mine"]["id"]),
        "request_id": str(world["mine"]["id"]),
        "photo_id": "p.png",
        "code": G1,
        "layer": "grids",
        "collection_id": "grids",
        "feature_id": G1,
        "pid": "1",
        "patrol_id": "1",
        "building_id": "B0",
        "name": "demo.html",
        "package": "leaflet",
        "filename": "leaflet.js",
        "number": world["mine"]["number"],
        # the vector tile over G1 at zoom 16
        "z": "16",
        "x": "54214",
        "y": "26839",
    }
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", values[arg], url)
    return url


def _principals(app, world):
    """(name, principal, session client or None, headers) for every principal of the matrix."""
    out = []
    for role in (*SESSION_ROLES, "dept_hw", "sup_cuihu"):
        client = app.test_client()
        assert login(client, role).status_code == 302, role
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        user = world["store"].user(username=role)
        principal = access.Principal(
            user["role"],
            role,
            grid_codes=tuple(user.get("grid_codes", ())),
            department="环卫所" if role == "dept_hw" else None,
            area=user.get("area"),
        )
        out.append((role, principal, client, {"X-CSRFToken": token}))
    for role, key in world["keys"].items():
        principal = access.Principal(role, f"key-{role}")
        out.append((f"key:{role}", principal, None, {"X-API-Key": key}))
    out.append(("anonymous", access.ANONYMOUS, None, {}))
    return out


#: endpoints whose record rule refuses some principals the action allows: endpoint -> the rule,
#: asked for the record the matrix requests (building B0, in G1)
RECORD_RULES = {
    "household_visits.confirm": lambda principal: access.may_confirm_households(principal, G1),
}


def refused_by_record(rule, principal) -> bool:
    """True when the policy's record rule refuses ``principal`` the record the matrix asks for
    (a worker key without grids confirming a building in G1): the answer must then be 403."""
    check = RECORD_RULES.get(rule.endpoint)
    return check is not None and not check(principal)


def test_every_route_declares_its_access(app):
    undeclared = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in OUTSIDE_THE_POLICY and _view_action(app, rule.endpoint) is ...
    )
    assert undeclared == [], "routes without requires(...) or public: add them to the policy"
    for rule in app.url_map.iter_rules():
        action = _view_action(app, rule.endpoint)
        assert action in (None, ...) or action in access.ACTIONS, (rule.rule, action)


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_route_by_principal_matrix(app, world):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    principals = _principals(app, world)
    wrong = []
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in ("static", "auth.login", "auth.logout", "mapview.vendor"):
            continue
        action = _view_action(app, rule.endpoint)
        url = _fill(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for name, principal, session, headers in principals:
                # programs keep no cookies: a fresh client for keys and anonymous requests
                client = session or app.test_client()
                if method == "GET":
                    answer = client.get(url, headers=headers)
                else:
                    answer = client.open(url, method=method, json={}, headers=headers)
                status = answer.status_code
                checked += 1
                if action is None:
                    expected_ok = status not in (401, 403)
                elif not principal.authenticated and not access.may(principal, action):
                    api = url.startswith(API_PREFIXES)
                    expected_ok = status == 401 if api else status == 302
                    if method != "GET":  # a write without a session fails its CSRF check first
                        expected_ok = expected_ok or status == 400
                elif access.may(principal, action) and not refused_by_record(rule, principal):
                    expected_ok = status not in (401, 403) and status < 500
                else:
                    expected_ok = status == 403
                if not expected_ok:
                    wrong.append(f"{method} {url} as {name} ({action}): {status}")
    assert checked > 500
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_analyst_sees_no_personal_data_through_any_door(app, world, as_role):
    analyst = as_role("analyst")
    mine = world["mine"]
    listed = analyst.get("/api/v1/incidents").get_json()["items"]
    one = analyst.get(f"/api/v1/incidents/{mine['id']}").get_json()
    open311 = analyst.get("/open311/v2/requests.json").get_json()
    ogc = analyst.get("/ogcapi/collections/incidents/items?limit=100").get_json()
    ogc_props = [f["properties"] for f in ogc["features"]]
    for record in [*listed, one, *ogc_props]:
        assert not {"description", "address", "reporter", "department"} & set(record), record
    assert all(r["description"] is None and r["address"] is None for r in open311)
    assert all(r["agency_responsible"] is None for r in open311)
    assert all(h["actor"] is None and h["note"] is None for h in one["history"])
    text = " ".join(
        str(x) for x in (listed, one, open311, ogc)
    )  # the phone number in the description is nowhere
    assert "13800000000" not in text
    # places rounded to 0.001° (about 100 m)
    assert one["lon"] == round(IN_G1[0], 3) and one["lat"] == round(IN_G1[1], 3)
    assert all(round(r["long"], 3) == r["long"] for r in open311 if r["long"] is not None)
    geo = analyst.get("/api/v1/geo/incidents?bbox=117.8,30.9,117.9,31.0&zoom=18").get_json()
    for feature in geo["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert round(lon, 3) == lon and round(lat, 3) == lat
    token = re.search(
        r'name="csrf-token" content="([^"]+)"', analyst.get("/map").get_data(as_text=True)
    ).group(1)
    uploaded = analyst.post("/api/v1/photos", headers={"X-CSRFToken": token})
    assert uploaded.status_code == 403  # no uploads either


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_a_bound_handler_sees_only_its_department_everywhere(app, world):
    client = app.test_client()
    login(client, "dept_hw")
    listed = client.get("/api/v1/incidents").get_json()["items"]
    assert [r["id"] for r in listed] == [world["dispatched"]["id"]]
    assert all(r["department"] == "环卫所" for r in listed)
    # the never-dispatched one is out of reach by id through every door
    mine = world["mine"]["id"]
    assert client.get(f"/api/v1/incidents/{mine}").status_code == 404
    assert client.get(f"/cases/{mine}").status_code == 404
    assert client.get(f"/open311/v2/requests/{mine}.json").status_code == 404
    ogc = client.get("/ogcapi/collections/incidents/items").get_json()
    assert [f["id"] for f in ogc["features"]] == [world["dispatched"]["id"]]
    requests = client.get("/open311/v2/requests.json").get_json()
    assert [r["service_request_id"] for r in requests] == [str(world["dispatched"]["id"])]


def test_a_worker_key_reads_only_its_grids_through_open311(app, world):
    store = world["store"]
    outside = make_incident(store, "reported", at=IN_G2, description="别的网格")
    key = create_api_key(store, "worker", "worker")  # a worker's own key: G1 only
    listed = (
        app.test_client().get("/open311/v2/requests.json", headers={"X-API-Key": key}).get_json()
    )
    ids = {int(r["service_request_id"]) for r in listed}
    assert world["mine"]["id"] in ids and outside["id"] not in ids
    assert world["dispatched"]["id"] not in ids
    nobody = world["keys"]["worker"]  # a worker key of no worker: nothing
    assert (
        app.test_client().get("/open311/v2/requests.json", headers={"X-API-Key": nobody}).get_json()
        == []
    )


def test_open311_worker_submissions_follow_the_photo_rule(app, world):
    store = world["store"]
    key = create_api_key(store, "worker", "worker")
    answer = app.test_client().post(
        "/open311/v2/requests.json",
        data={
            "service_code": "11001",  # requires a photo from a worker on patrol
            "lat": IN_G1[1],
            "long": IN_G1[0],
            "description": "垃圾堆放",
        },
        headers={"X-API-Key": key},
    )
    assert answer.status_code == 400
    assert "photo" in answer.get_json()[0]["description"]


def test_grid_cards_of_neighbours_name_no_worker(app, world, as_role):
    worker = as_role("worker")
    own = worker.get(f"/api/v1/grids/{G1}").get_json()
    other = worker.get(f"/api/v1/grids/{G3}").get_json()
    assert own["workers"] and other["workers"] == []


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_hotline_key_submits_and_reads_back_only_its_own(app, world):
    store = world["store"]
    key = world["keys"]["hotline"]
    client = app.test_client()
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "15003",
            "lat": IN_G2[1],
            "long": IN_G2[0],
            "address_string": "长江路1号",
            "description": "人行道上单车堆放",
        },
        headers={"X-API-Key": key},
    )
    assert posted.status_code == 201, posted.get_json()
    own = int(posted.get_json()[0]["service_request_id"])
    assert store.incident(own)["source"] == "12345热线"
    listed = client.get("/open311/v2/requests.json", headers={"X-API-Key": key}).get_json()
    assert [int(r["service_request_id"]) for r in listed] == [own]
    mine = world["mine"]["id"]
    assert (
        client.get(f"/open311/v2/requests/{mine}.json", headers={"X-API-Key": key}).status_code
        == 404
    )
    for page in ("/map", "/api/v1/areas", "/ogcapi/collections", "/api/v1/geo/grids"):
        assert client.get(page, headers={"X-API-Key": key}).status_code == 403, page


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_an_area_bound_supervisor_sees_only_its_area(app, world):
    store = world["store"]
    elsewhere = make_incident(store, "reported", at=(IN_G1[0] + 0.0025, IN_G1[1]))  # in G3
    assert elsewhere["grid_code"] == G3
    client = app.test_client()
    login(client, "sup_cuihu")
    ids = {r["id"] for r in client.get("/api/v1/incidents").get_json()["items"]}
    assert world["mine"]["id"] in ids and elsewhere["id"] not in ids
    assert client.get(f"/api/v1/incidents/{elsewhere['id']}").status_code == 404
    assert client.get(f"/cases/{elsewhere['id']}").status_code == 404
    desk = client.get("/desk").get_data(as_text=True)
    assert world["mine"]["number"] in desk and elsewhere["number"] not in desk
    grids = client.get("/api/v1/geo/grids?bbox=117.8,30.9,117.9,31.0&zoom=16").get_json()
    assert {f["properties"]["code"][:12] for f in grids["features"]} == {COMMUNITY}
    assert client.get(f"/api/v1/grids/{G3}").status_code == 404
    assert client.get(f"/rebalance/?community={OTHER_COMMUNITY}").status_code == 404
    areas = client.get("/api/v1/areas").get_json()
    communities = [c["code"] for d in areas for s in d["children"] for c in s["children"]]
    assert communities == [COMMUNITY]


def test_an_unbound_handler_never_sees_an_undispatched_case(app, world, as_role):
    dept = as_role("dept")
    mine = world["mine"]["id"]  # reported, never dispatched
    for url in (f"/api/v1/incidents/{mine}", f"/cases/{mine}", f"/open311/v2/requests/{mine}.json"):
        assert dept.get(url).status_code == 404, url
    listed = {r["id"] for r in dept.get("/api/v1/incidents").get_json()["items"]}
    assert listed == {world["dispatched"]["id"]}
