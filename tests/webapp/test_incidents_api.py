"""The incident REST API and Open311 GeoReport v2, with roles, scope, CSRF and conflicts."""

from __future__ import annotations

import io

import pytest

from gridmgmt.domain.accounts import create_api_key
from tests.factories import G1, G2, X0, Y0
from tests.webapp.sessions import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def headers(client):
    return {"X-CSRFToken": csrf_token(client, "/map")}


def upload(client, data=PNG, name="p.png"):
    return client.post(
        "/api/v1/photos",
        data={"photo": (io.BytesIO(data), name)},
        headers=headers(client),
        content_type="multipart/form-data",
    )


def report(client, **body):
    payload = {
        "category_code": "11001",
        "description": "垃圾堆放",
        "lon": X0 + 0.0005,
        "lat": Y0 + 0.0005,
    }
    payload.update(body)
    return client.post("/api/v1/incidents", json=payload, headers=headers(client))


def test_worker_reports_with_photo_and_idempotency(as_role):
    client = as_role("worker")
    photo = upload(client).get_json()["id"]
    first = report(client, photo_ids=[photo], idempotency_key="k-1")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (
        body["grid_code"] == G1
        and body["state"] == "reported"
        and body["number"].endswith("-000001")
    )
    again = report(client, photo_ids=[photo], idempotency_key="k-1")
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert (
        report(client).status_code == 400
    )  # photo required for a worker's report of this category
    assert report(client, photo_ids=["../../etc/passwd"]).status_code == 400
    outside = report(client, photo_ids=[photo], lon=X0 + 0.05)
    assert outside.status_code == 201 and outside.get_json()["grid_code"] is None
    assert outside.get_json()["unassigned_reason"] == "outside_all_grids"


def test_photo_checks(as_role):
    client = as_role("worker")
    assert upload(client, b"GIF89a" + b"\x00" * 10, "x.gif").status_code == 415
    assert upload(client, PNG + b"\x00" * (10 * 1024 * 1024)).status_code == 413


def test_session_post_without_csrf_header_is_refused(as_role):
    client = as_role("supervisor")
    r = client.post(
        "/api/v1/incidents",
        json={"category_code": "11001", "description": "x", "lon": X0, "lat": Y0},
    )
    assert r.status_code == 400


def test_workflow_roles_scope_and_conflicts(app, as_role, client):
    sup = as_role("supervisor")
    mine = report(sup).get_json()
    other = report(sup, lon=X0 + 0.0015).get_json()
    assert (mine["grid_code"], other["grid_code"]) == (G1, G2)

    def move(c, incident, transition, **body):
        return c.post(
            f"/api/v1/incidents/{incident['id']}/transitions",
            json={"transition": transition, **body},
            headers=headers(c),
        )

    assert move(sup, mine, "register").status_code == 200
    stale = move(sup, mine, "reject", expected_version=1, note="重复")
    assert stale.status_code == 409 and "changed meanwhile" in stale.get_json()["error"]
    assert move(sup, mine, "close").status_code == 422
    assert move(sup, mine, "dispatch").status_code == 200
    sup.post("/logout", data={"csrf_token": csrf_token(sup, "/map")})

    worker = as_role("worker")
    assert (
        worker.get(f"/api/v1/incidents/{other['id']}").status_code == 404
    )  # another grid's incident
    assert move(worker, other, "register").status_code == 404
    assert [r["id"] for r in worker.get("/api/v1/incidents").get_json()["items"]] == [mine["id"]]
    assert move(worker, mine, "accept").status_code == 403  # role
    worker.post("/logout", data={"csrf_token": csrf_token(worker, "/map")})

    analyst = as_role("analyst")
    detail = analyst.get(f"/api/v1/incidents/{mine['id']}").get_json()
    assert "reporter" not in detail and all(h["actor"] is None for h in detail["history"])
    assert [h["transition"] for h in detail["history"]] == ["report", "register", "dispatch"]


def test_open311_round_trip(app, client):
    store = app.extensions["gridmgmt_store"]
    key = create_api_key(store, "12345热线", "supervisor")
    services = client.get(f"/open311/v2/services.json?api_key={key}").get_json()
    assert {"service_code": "15003", "service_name": "共享单车乱停放"}.items() <= next(
        s for s in services if s["service_code"] == "15003"
    ).items()
    assert (
        client.get("/open311/v2/services/15003.json", headers={"X-API-Key": key}).get_json()[
            "attributes"
        ]
        == []
    )
    assert (
        client.get("/open311/v2/services/99999.json", headers={"X-API-Key": key}).status_code == 404
    )
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "15003",
            "lat": Y0 + 0.0005,
            "long": X0 + 0.0005,
            "address_string": "长江路1号",
            "description": "人行道上单车堆放",
        },
    )
    assert posted.status_code == 201, posted.get_json()
    request_id = posted.get_json()[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{request_id}.json?api_key={key}").get_json()[0]
    assert (
        got["status"] == "open"
        and got["service_name"] == "共享单车乱停放"
        and got["address"] == "长江路1号"
    )
    assert got["lat"] == pytest.approx(Y0 + 0.0005) and got["expected_datetime"]
    listed = client.get(f"/open311/v2/requests.json?status=open&api_key={key}").get_json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get(f"/open311/v2/requests.json?status=closed&api_key={key}").get_json() == []
    bad = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "00000", "lat": Y0, "long": X0, "description": "x"},
    )
    assert (
        bad.status_code == 400 and "unknown incident category" in bad.get_json()[0]["description"]
    )
    assert client.get("/open311/v2/services.json").status_code == 401
    reader = create_api_key(store, "qgis", "analyst")
    assert (
        client.post(
            "/open311/v2/requests.json", data={"api_key": reader, "service_code": "15003"}
        ).status_code
        == 403
    )


def test_incidents_on_the_map_and_grid_cards(as_role):
    sup = as_role("supervisor")
    report(sup)
    report(sup, lon=X0 + 0.0015)
    fc = sup.get("/api/v1/geo/incidents?bbox=117.8,30.9,117.9,31.0&zoom=16").get_json()
    assert sorted(f["properties"]["grid_code"] for f in fc["features"]) == [G1, G2]
    assert fc["features"][0]["properties"]["category"] == "暴露垃圾"
    assert (
        sup.get("/api/v1/geo/incidents?bbox=117.8,30.9,117.9,31.0&zoom=10").get_json()["features"]
        == []
    )
    grids = sup.get("/api/v1/geo/grids?bbox=117.8,30.9,117.9,31.0&zoom=16").get_json()
    counts = {f["properties"]["code"]: f["properties"]["open_incidents"] for f in grids["features"]}
    assert counts[G1] == 1 and counts[G2] == 1
    card = sup.get(f"/api/v1/grids/{G1}").get_json()
    assert card["open_incidents"] == 1 and card["overdue_incidents"] == 0
    sup.post("/logout", data={"csrf_token": csrf_token(sup, "/map")})
    worker = as_role("worker")
    mine = worker.get("/api/v1/geo/incidents?bbox=117.8,30.9,117.9,31.0&zoom=16").get_json()
    assert [f["properties"]["grid_code"] for f in mine["features"]] == [G1]
