"""Log-in, CSRF, roles, scope and escaping of the map and its GeoJSON endpoints."""

from __future__ import annotations

import pytest

from tests.factories import G1, G2
from tests.webapp.sessions import PASSWORD, csrf_token, login


def test_pages_need_login(client):
    assert client.get("/map").status_code == 302
    assert client.get("/api/v1/geo/grids").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_login_wrong_password_and_unknown_user(client):
    r = login(client, "worker", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    assert login(client, "nobody").status_code == 401


def test_login_without_csrf_token_is_refused(client):
    r = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 400


def test_login_throttled_per_account_not_for_everyone_at_the_address(client):
    others = ["supervisor", "dept", "worker", "nobody"] * 3
    assert [login(client, name, "bad-password").status_code for name in others] == [401] * 12
    assert login(client, "admin").status_code == 302  # others' failures do not lock admin out
    codes = [login(client, "analyst", "bad-password").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]  # an account's own failures lock that account
    locked = login(client, "analyst")  # even the right password while locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "登录尝试过多，请稍后再试" in locked.get_data(as_text=True)
    assert login(client, "admin").status_code == 302  # only that account


def test_open_redirect_is_not_followed(client):
    token = csrf_token(client)
    r = client.post(
        "/login?next=//evil.example/x",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/map"


def test_logout_needs_post_with_csrf(as_role):
    client = as_role("admin")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    token = csrf_token(client, "/map")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/map").status_code == 302


@pytest.mark.parametrize("role", ["admin", "supervisor", "dept", "worker", "analyst"])
def test_map_page_for_every_role_serves_local_assets_only(as_role, role):
    html = as_role(role).get("/map").get_data(as_text=True)
    assert "/vendor/leaflet/leaflet.js" in html and "/static/js/map.js" in html
    assert "http://" not in html and "https://" not in html
    assert "&lt;b&gt;" in html  # the display name is escaped


def test_vendor_assets_served(client):
    r = client.get("/vendor/leaflet/leaflet.js")
    assert r.status_code == 200 and b"Leaflet" in r.data[:2000]
    assert client.get("/vendor/jquery/x.js").status_code == 404


def test_grids_geojson_by_bbox(as_role):
    client = as_role("supervisor")
    fc = client.get("/api/v1/geo/grids?bbox=117.8,30.9,117.9,31.0&zoom=16").get_json()
    assert sorted(f["properties"]["code"] for f in fc["features"]) == [
        G1,
        G2,
        "340705001002001",
        "340705001002002",
    ]
    narrow = client.get(
        "/api/v1/geo/grids?bbox=117.8101,30.9401,117.8108,30.9405&zoom=18"
    ).get_json()
    assert [f["properties"]["code"] for f in narrow["features"]] == [G1]
    assert client.get("/api/v1/geo/grids?bbox=1,2,3&zoom=1").status_code == 400
    assert client.get("/api/v1/geo/grids?bbox=3,2,1,4").status_code == 400
    assert client.get("/api/v1/geo/people").status_code == 404


def test_buildings_only_when_zoomed_in_and_scoped_for_workers(as_role, client):
    sup = as_role("supervisor")
    far = sup.get("/api/v1/geo/buildings?bbox=117.8,30.9,117.9,31.0&zoom=12").get_json()
    assert far["features"] == [] and far["min_zoom"] == 15
    near = sup.get("/api/v1/geo/buildings?bbox=117.8,30.9,117.9,31.0&zoom=17").get_json()
    assert len(near["features"]) == 8
    sup.post("/logout", data={"csrf_token": csrf_token(sup, "/map")})
    worker = as_role("worker")
    mine = worker.get("/api/v1/geo/buildings?bbox=117.8,30.9,117.9,31.0&zoom=17").get_json()
    assert {f["properties"]["grid_code"] for f in mine["features"]} == {G1}
    assert len(mine["features"]) == 4


def test_geojson_is_simplified_and_rounded_by_zoom(as_role):
    client = as_role("admin")
    coarse = client.get("/api/v1/geo/communities?zoom=10").get_json()
    ring = coarse["features"][0]["geometry"]["coordinates"][0]
    assert all(len(str(c[0]).split(".")[-1]) <= 6 for c in ring)


def test_grid_card_and_search(as_role):
    client = as_role("analyst")
    card = client.get(f"/api/v1/grids/{G1}").get_json()
    assert card["households"] == 300 and card["workers"] == ["worker<b>"]
    assert client.get("/api/v1/grids/000").status_code == 404
    hits = client.get("/api/v1/search?q=" + G2[-6:]).get_json()
    assert {"type": "grid", "label": G2} in [{k: h[k] for k in ("type", "label")} for h in hits]
    named = client.get("/api/v1/search?q=翠湖").get_json()
    assert named[0]["type"] == "community"


def test_xss_payload_in_names_is_returned_as_data_not_markup(as_role):
    client = as_role("admin")
    fc = client.get("/api/v1/geo/buildings?bbox=117.8,30.9,117.9,31.0&zoom=17").get_json()
    names = [f["properties"]["name"] for f in fc["features"]]
    assert (
        "<script>alert('x')</script>楼" in names
    )  # JSON data; the map inserts it with textContent
    js = client.get("/static/js/map.js").get_data(as_text=True)
    assert "innerHTML" not in js


def test_english_ui_and_language_cookie(as_role):
    client = as_role("admin")
    html = client.get("/map?lang=en").get_data(as_text=True)
    assert "Grid Management Platform" in html and 'lang="en"' in html
    assert "Grid Management Platform" in client.get("/map").get_data(as_text=True)  # remembered
    assert "网格化管理平台" in client.get("/map?lang=zh").get_data(as_text=True)


def test_security_headers(as_role):
    r = as_role("admin").get("/map")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_areas_tree(as_role):
    tree = as_role("admin").get("/api/v1/areas").get_json()
    assert tree[0]["name"] == "铜官区"
    communities = tree[0]["children"][0]["children"]
    assert [(c["name"], c["grids"], c["households"]) for c in communities] == [
        ("翠湖社区", 2, 720),
        ("东湖社区", 2, 260),
    ]


def test_api_key_authenticates_without_session(app, client):
    from gridmgmt.domain.accounts import create_api_key

    key = create_api_key(app.extensions["gridmgmt_store"], "qgis", "analyst")
    assert key.startswith("gm_") and len(key) > 40
    assert client.get("/api/v1/areas", headers={"X-API-Key": key}).status_code == 200
    assert client.get(f"/api/v1/areas?api_key={key}").status_code == 401  # Open311 paths only
    assert client.get("/api/v1/areas", headers={"X-API-Key": key + "x"}).status_code == 401
    assert client.get("/api/v1/areas", headers={"X-API-Key": "gm_nope"}).status_code == 401
    with pytest.raises(ValueError, match="unknown role"):
        create_api_key(app.extensions["gridmgmt_store"], "x", "boss")


def test_cli_apikey_add_prints_a_working_key(tmp_path):
    from click.testing import CliRunner

    from gridmgmt.cli import main
    from gridmgmt.domain.accounts import api_key_client
    from gridmgmt.store.repository import Store

    out = CliRunner().invoke(
        main, ["apikey", "add", "12345热线", "--role", "supervisor", "--workdir", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    key = out.output.strip()
    client = api_key_client(Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}"), key)
    assert client["client"] == "12345热线" and client["role"] == "supervisor"
