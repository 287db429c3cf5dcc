"""调度台: time to the deadline, order by deadline, the polled updates, 批量派遣 (endpoint)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from gridmgmt.domain.accounts import create_user
from gridmgmt.domain.incidents import desk as work
from tests.factories import COMMUNITY, IN_G1, make_incident
from tests.webapp.sessions import PASSWORD, login

URL = "/api/v1/desk/dispatch"


def _token(client) -> str:
    html = client.get("/map").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_hours_left_and_deadline_order():
    now = datetime(2026, 11, 2, 8, tzinfo=UTC)
    table = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "created_at": [now - timedelta(hours=h) for h in (1, 2, 3)],
            "deadline_at": [now + timedelta(hours=5), None, now - timedelta(hours=2.5)],
            "grid_code": ["g", "g", "g"],
        }
    )
    rows = work.annotate(table, now)
    assert rows["hours_left"].tolist()[0] == pytest.approx(5)
    assert pd.isna(rows["hours_left"].tolist()[1])
    assert rows["hours_left"].tolist()[2] == pytest.approx(-2.5)
    assert work.sort_rows(rows, "deadline")["id"].tolist() == [3, 1, 2]  # overdue first, none last
    assert work.sort_rows(rows, "created")["id"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="order"):
        work.sort_rows(rows, "size")


def test_desk_shows_time_left_and_sorts_by_deadline(app, as_role):
    store = app.extensions["gridmgmt_store"]
    late = make_incident(store, "registered", now=datetime.now(UTC) - timedelta(days=10))
    fresh = make_incident(store, "registered")
    client = as_role("supervisor")
    html = client.get("/desk?sort=deadline").get_data(as_text=True)
    assert (
        "剩余/超期" in html
        and re.search(r"超期 \d+ 小时", html)
        and re.search(r"剩余 [\d.]+ 小时", html)
    )
    order = [int(i) for i in re.findall(r'<tr class="[^"]*" data-id="(\d+)"', html)]
    assert order.index(late["id"]) < order.index(fresh["id"])
    created = client.get("/desk").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'<tr class="[^"]*" data-id="(\d+)"', created)]
    assert order.index(fresh["id"]) < order.index(late["id"])
    assert client.get("/desk?sort=bogus").status_code == 400
    english = client.get("/desk?sort=deadline&lang=en").get_data(as_text=True)
    assert re.search(r"Overdue \d+ h", english)


def test_updates_report_new_cases_since_the_page(app, as_role):
    store = app.extensions["gridmgmt_store"]
    first = make_incident(store, "reported")
    client = as_role("supervisor")
    html = client.get("/desk").get_data(as_text=True)
    since = int(re.search(r'data-since="(\d+)"', html).group(1))
    assert since == first["id"]
    quiet = client.get(f"/api/v1/desk/updates?since={since}").get_json()
    assert quiet["new_count"] == 0 and quiet["counts"]["new"] == 1
    second = make_incident(store, "reported")
    news = client.get(f"/api/v1/desk/updates?since={since}").get_json()
    assert news["new_count"] == 1 and news["new"][0]["number"] == second["number"]
    assert news["counts"]["new"] == 2 and news["newest_id"] == second["id"]
    queue = client.get(f"/api/v1/desk/updates?since={since}&queue=dispatch").get_json()
    assert queue["new_count"] == 0  # the view's own queue and filter apply
    for bad in ("since=x", "since=-1", "queue=nope", "sort=size"):
        assert client.get(f"/api/v1/desk/updates?{bad}").status_code == 400, bad
    assert app.test_client().get("/api/v1/desk/updates").status_code == 401


def test_bulk_dispatch_reports_each_case(app, as_role):
    store = app.extensions["gridmgmt_store"]
    a = make_incident(store, "registered")
    b = make_incident(store, "registered")
    new = make_incident(store, "reported")
    stale = make_incident(store, "registered")
    client = as_role("supervisor")
    headers = {"X-CSRFToken": _token(client)}
    department = store.departments()[0]
    body = {
        "department": department,
        "cases": [
            {"id": a["id"], "version": a["version"]},
            {"id": b["id"], "version": b["version"]},
            {"id": new["id"], "version": new["version"]},
            {"id": stale["id"], "version": stale["version"] - 1},
            {"id": 999999, "version": 1},
        ],
    }
    answer = client.post(URL, json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert (data["dispatched"], data["refused"]) == (2, 3)
    results = {r["id"]: r for r in data["results"]}
    assert results[a["id"]]["ok"] and results[b["id"]]["ok"]
    assert (
        results[new["id"]]["reason"] == "state" and results[new["id"]]["text"] == "当前状态不能派遣"
    )
    assert results[stale["id"]]["reason"] == "conflict"
    assert results[999999]["reason"] == "not_found"
    for case in (a, b):
        stored = store.incident(case["id"])
        assert stored["state"] == "dispatched" and stored["department"] == department
        assert stored["history"][-1]["actor"] == "supervisor"
    assert store.incident(new["id"])["state"] == "reported"
    assert store.incident(stale["id"])["state"] == "registered"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"department": "环卫所"},
        {"department": "环卫所", "cases": []},
        {"department": "环卫所", "cases": "1,2"},
        {"department": "环卫所", "cases": [{"id": "1"}]},
        {"department": "环卫所", "cases": [{"id": 1, "version": "x"}]},
        {"department": "环卫所", "cases": [1, 1]},
        {"department": "环卫所", "cases": list(range(1, 202))},
        {"department": "", "cases": [1]},
        {"department": "no such office", "cases": [1]},
    ],
)
def test_bulk_dispatch_refuses_bad_input_and_touches_nothing(app, as_role, body):
    store = app.extensions["gridmgmt_store"]
    case = make_incident(store, "registered")
    client = as_role("supervisor")
    headers = {"X-CSRFToken": _token(client)}
    if isinstance(body, dict) and body.get("cases") == [1]:
        body = {**body, "cases": [case["id"]]}
    answer = (
        client.post(URL, json=body, headers=headers)
        if body is not None
        else client.post(URL, data="not json", headers=headers, content_type="application/json")
    )
    assert answer.status_code == 400
    assert store.incident(case["id"])["state"] == "registered"


def test_bulk_dispatch_access(app, client):
    store = app.extensions["gridmgmt_store"]
    case = make_incident(store, "registered")
    elsewhere = make_incident(store, "registered", at=(IN_G1[0] + 0.0025, IN_G1[1]))  # in G3
    department = store.departments()[0]
    body = {"department": department, "cases": [case["id"]]}
    assert app.test_client().post(URL, json=body).status_code in (400, 401)  # no session: CSRF/401
    for role in ("dept", "worker", "analyst"):
        c = app.test_client()
        login(c, role)
        assert c.post(URL, json=body, headers={"X-CSRFToken": _token(c)}).status_code == 403, role
    assert store.incident(case["id"])["state"] == "registered"
    # a supervisor bound to one 社区 cannot reach a case of another: not found, not dispatched
    create_user(store, "sup_cuihu", PASSWORD, "supervisor", area=COMMUNITY)
    c = app.test_client()
    login(c, "sup_cuihu")
    both = {"department": department, "cases": [case["id"], elsewhere["id"]]}
    data = c.post(URL, json=both, headers={"X-CSRFToken": _token(c)}).get_json()
    results = {r["id"]: r for r in data["results"]}
    assert results[case["id"]]["ok"] and results[elsewhere["id"]]["reason"] == "not_found"
    assert store.incident(elsewhere["id"])["state"] == "registered"
