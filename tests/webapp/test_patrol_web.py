"""巡查 pages and API: roles, own patrols only, idempotent batches, diary, report and downloads."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from gridmgmt.store.patrols import PatrolStore
from tests.factories import G1, X0, Y0
from tests.webapp.sessions import PASSWORD, csrf_token, login


def fixes(n, seq0=0, start=None):
    start = start or datetime.now(UTC) - timedelta(minutes=30)
    return [
        {
            "seq": seq0 + i,
            "t": (start + timedelta(seconds=30 * i)).isoformat(),
            "lon": X0 + 0.0001 + 0.00002 * (i % 40),
            "lat": Y0 + 0.0005 + 0.00002 * (i // 40),
            "accuracy": 8,
        }
        for i in range(n)
    ]


def api(client, path, body=None):
    token = csrf_token(client, "/patrol")
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token})


@pytest.mark.parametrize("role,status", [("worker", 200), ("supervisor", 403), ("analyst", 403)])
def test_patrol_page_is_for_workers(client, role, status):
    login(client, role)
    assert client.get("/patrol").status_code == status


@pytest.mark.parametrize(
    "role,status",
    [("supervisor", 200), ("admin", 200), ("analyst", 200), ("worker", 403), ("dept", 403)],
)
def test_report_roles(client, role, status):
    login(client, role)
    assert client.get("/patrols/report").status_code == status


def test_record_replay_stop_and_report(client, app):
    login(client, "worker")
    r = api(client, "/api/v1/patrols")
    assert r.status_code == 201
    pid = r.get_json()["id"]
    batch = fixes(40)
    assert (
        api(client, f"/api/v1/patrols/{pid}/points", {"points": batch[:25]}).get_json()["new"] == 25
    )
    # the offline queue resends: only the 15 new fixes are stored
    r = api(client, f"/api/v1/patrols/{pid}/points", {"points": batch})
    assert r.get_json() == {"new": 15, "received": 40}
    r = api(client, f"/api/v1/patrols/{pid}/stop")
    m = r.get_json()["measures"]
    assert (
        m["points"] == 40 and m["inside_share"] == 1.0 and m["duration_min"] == pytest.approx(19.5)
    )
    store = app.extensions["gridmgmt_store"]
    assert len(PatrolStore(store).points([pid])) == 40
    # bad batches
    assert api(client, f"/api/v1/patrols/{pid}/points", {"points": "x"}).status_code == 400
    future = fixes(2, seq0=100, start=datetime.now(UTC) + timedelta(days=1))
    r = api(client, f"/api/v1/patrols/{pid}/points", {"points": future})
    assert r.status_code == 400 and "future" in r.get_json()["error"]
    assert api(client, "/api/v1/patrols/9999/stop").status_code == 404
    # without the CSRF header
    assert client.post(f"/api/v1/patrols/{pid}/stop", json={}).status_code == 400

    client.get("/logout")
    login(client, "supervisor")
    html = client.get("/patrols/report").get_data(as_text=True)
    assert G1 in html and 'id="patrol-table"' in html and '"type": "LineString"' in html
    r = client.get("/patrols/report", query_string={"format": "xlsx"})
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["grids", "patrols", "daily"] and wb["patrols"].max_row == 2
    r = client.get("/patrols/report", query_string={"format": "csv", "grid": G1})
    assert r.data.startswith(b"\xef\xbb\xbf") and G1 in r.data.decode("utf-8-sig")
    assert (
        client.get(
            "/patrols/report", query_string={"from": "2026-11-20", "to": "2026-11-01"}
        ).status_code
        == 400
    )
    assert client.get("/patrols/report", query_string={"grid": "000"}).status_code == 404


def test_someone_elses_patrol_is_refused(client, app):
    from gridmgmt.domain.accounts import create_user
    from tests.factories import G2

    store = app.extensions["gridmgmt_store"]
    create_user(store, "w2", PASSWORD, "worker", grid_codes=[G2])
    login(client, "worker")
    pid = api(client, "/api/v1/patrols").get_json()["id"]
    client.get("/logout")
    login(client, "w2")
    # someone else's patrol is out of reach as if it did not exist
    assert api(client, f"/api/v1/patrols/{pid}/points", {"points": fixes(2)}).status_code == 404
    assert api(client, f"/api/v1/patrols/{pid}/stop").status_code == 404


def test_diary_form(client, app):
    login(client, "worker")
    token = csrf_token(client, "/patrol")
    day = datetime.now(UTC).date().isoformat()
    r = client.post(
        "/patrol/diary",
        data={
            "csrf_token": token,
            "day": day,
            "grid_code": G1,
            "kind": "调解",
            "text": "调解<b>纠纷</b>",
        },
    )
    assert r.status_code == 302
    html = client.get("/patrol").get_data(as_text=True)
    assert "调解&lt;b&gt;纠纷&lt;/b&gt;" in html  # escaped
    r = client.post(
        "/patrol/diary",
        data={
            "csrf_token": token,
            "day": day,
            "grid_code": "340705001001002",
            "kind": "走访",
            "text": "x",
        },
    )
    assert r.status_code == 403
    r = client.post(
        "/patrol/diary",
        data={"csrf_token": token, "day": day, "grid_code": G1, "kind": "聊天", "text": "x"},
    )
    assert r.status_code == 302 and "unknown diary type" in client.get("/patrol").get_data(
        as_text=True
    )
    store = app.extensions["gridmgmt_store"]
    assert len(PatrolStore(store).diary()) == 1


def test_analyst_patrol_report_names_no_worker(client, app):
    login(client, "worker")
    pid = api(client, "/api/v1/patrols").get_json()["id"]
    api(client, f"/api/v1/patrols/{pid}/points", {"points": fixes(20)})
    api(client, f"/api/v1/patrols/{pid}/stop")
    client.get("/logout")
    login(client, "supervisor")
    html = client.get("/patrols/report").get_data(as_text=True)
    assert '"worker": "worker"' in html  # supervisors see who walked
    client.get("/logout")
    login(client, "analyst")
    html = client.get("/patrols/report").get_data(as_text=True)
    assert G1 in html and '"type": "LineString"' in html  # the figures and tracks stay
    assert '"worker"' not in html and "worker<b>" not in html
    wb = load_workbook(
        io.BytesIO(client.get("/patrols/report", query_string={"format": "xlsx"}).data)
    )
    for sheet in wb.worksheets:
        cells = {str(c.value) for row in sheet.iter_rows() for c in row}
        assert "worker" not in cells, sheet.title


def test_offline_replays_of_start_and_diary_arrive_once(client, app):
    """The outbox replays 开始巡查 and a diary entry with their keys: one patrol, one entry."""
    login(client, "worker")
    tapped = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    body = {"idempotency_key": "start-1", "started_at": tapped}
    first = api(client, "/api/v1/patrols", body)
    again = api(client, "/api/v1/patrols", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    bad = api(client, "/api/v1/patrols", {"started_at": "yesterday"})
    assert bad.status_code == 400 and "ISO 8601" in bad.get_json()["error"]
    naive = api(client, "/api/v1/patrols", {"started_at": "2026-12-01T08:00:00"})
    assert naive.status_code == 400

    token = csrf_token(client, "/patrol")
    day = datetime.now(UTC).date().isoformat()
    form = {
        "day": day,
        "grid_code": G1,
        "kind": "走访",
        "text": "离线记的",
        "idempotency_key": "d1",
    }
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    one = client.post("/patrol/diary", data=form, headers=headers)
    two = client.post("/patrol/diary", data=form, headers=headers)
    assert (one.status_code, two.status_code) == (201, 200)
    assert one.get_json()["id"] == two.get_json()["id"]
    refused = client.post(
        "/patrol/diary", data=form | {"kind": "聊天", "idempotency_key": "d2"}, headers=headers
    )
    assert refused.status_code == 400 and "unknown diary type" in refused.get_json()["error"]
    elsewhere = client.post(
        "/patrol/diary",
        data=form | {"grid_code": "340705001001002", "idempotency_key": "d3"},
        headers=headers,
    )
    assert elsewhere.status_code == 403 and "网格" in elsewhere.get_json()["error"]
    repo = PatrolStore(app.extensions["gridmgmt_store"])
    assert len(repo.patrols()) == 1 and len(repo.diary()) == 1
    (started,) = repo.patrols()["started_at"]
    assert started.isoformat().startswith(tapped[:19])


@pytest.mark.parametrize("lang,label", [("zh", "轨迹跳变"), ("en", "track jumps")])
def test_stop_answer_labels_the_anomalies_in_the_page_language(client, lang, label):
    """The codes (``jumps``) stay for programs; ``anomaly_labels`` is what the patrol page shows."""
    login(client, "worker")
    client.get(f"/patrol?lang={lang}")  # the language cookie the outbox's requests carry
    pid = api(client, "/api/v1/patrols").get_json()["id"]
    batch = fixes(20)
    batch[10] = batch[10] | {"lat": batch[10]["lat"] + 0.05}  # 5.5 km off and back in 30 s
    api(client, f"/api/v1/patrols/{pid}/points", {"points": batch})
    measures = api(client, f"/api/v1/patrols/{pid}/stop").get_json()["measures"]
    assert "jumps" in measures["anomalies"].split(",")
    assert label in measures["anomaly_labels"].split(", " if lang == "en" else "、")
    assert measures["anomaly_labels"] != measures["anomalies"]


def test_an_item_queued_by_one_worker_is_refused_in_another_workers_session(client, app):
    """A shared phone's outbox names who queued each item; nobody else's session records it."""
    from gridmgmt.domain.accounts import create_user

    store = app.extensions["gridmgmt_store"]
    create_user(store, "张三", PASSWORD, "worker", grid_codes=[G1])
    login(client, "张三")
    token = csrf_token(client, "/patrol")
    form = {"day": datetime.now(UTC).date().isoformat(), "grid_code": G1, "kind": "走访"}
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    queued_by = {"X-Outbox-User": "worker"}
    refused = client.post(
        "/patrol/diary", data=form | {"text": "一号的"}, headers=headers | queued_by
    )
    assert refused.status_code == 401 and "another account" in refused.get_json()["error"]
    assert PatrolStore(store).diary().empty
    # the header is percent-encoded UTF-8 (header values are Latin-1): its own worker gets through
    own = {"X-Outbox-User": "%E5%BC%A0%E4%B8%89"}
    assert (
        client.post(
            "/patrol/diary", data=form | {"text": "张三的"}, headers=headers | own
        ).status_code
        == 201
    )
    assert PatrolStore(store).diary()["worker"].tolist() == ["张三"]
