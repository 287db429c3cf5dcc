"""房屋台账 on 走访 through the web: the API's access, its answers to bad values, replays, the pages."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from gridmgmt.domain.accounts import create_api_key
from tests.factories import COMMUNITY, G1, G2
from tests.webapp.sessions import login

BAND = (100, 150)


def _token(client) -> str:
    html = client.get("/map").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def use_ledger_band(app):
    """Grid totals that match their buildings (G1, G2: 120) and a 100–150 band, on the web fixture."""
    store = app.extensions["gridmgmt_store"]
    store.update_households(
        pd.DataFrame({"building_id": ["B0"], "households": [30], "population": [90]}),
        min_households=BAND[0],
        max_households=BAND[1],
    )
    settings = app.config["GRIDMGMT_SETTINGS"]
    app.config["GRIDMGMT_SETTINGS"] = type(settings)(
        instance_dir=settings.instance_dir, database_url=settings.database_url, band=BAND
    )
    return app


@pytest.fixture
def ledger_app(app):
    """The web fixture as :func:`use_ledger_band` leaves it."""
    return use_ledger_band(app)


def _session(app, role):
    client = app.test_client()
    assert login(client, role).status_code == 302
    return client, {"X-CSRFToken": _token(client)}


def _post(client, headers, building, key, **fields):
    return client.post(
        f"/api/v1/buildings/{building}/households",
        json=fields,
        headers=headers | ({"Idempotency-Key": key} if key else {}),
    )


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_worker_corrects_and_the_grid_total_follows(ledger_app):
    client, headers = _session(ledger_app, "worker")
    answer = _post(client, headers, "B0", "k-1", households=60, note="新入住")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["change"]["households_before"] == 30 and body["change"]["households"] == 60
    assert body["change"]["username"] == "worker" and "idempotency_key" not in body["change"]
    assert body["building"]["households_source"] == "visit"
    assert body["grid"]["code"] == G1 and body["grid"]["households"] == 150
    assert body["grid"]["band_status"] == "in_band" and body["replayed"] is False
    card = client.get(f"/api/v1/grids/{G1}").get_json()
    assert card["households"] == 150
    history = client.get("/api/v1/buildings/B0/households").get_json()
    assert [h["households"] for h in history] == [60]
    # the same key again: the stored change, nothing written twice
    again = _post(client, headers, "B0", "k-1", households=60, note="新入住")
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["change"]["id"] == body["change"]["id"]
    assert len(client.get("/api/v1/buildings/B0/households").get_json()) == 1
    assert client.get(f"/api/v1/grids/{G1}").get_json()["households"] == 150


def test_form_fields_and_key_field_work_as_the_outbox_sends_them(ledger_app):
    client, headers = _session(ledger_app, "worker")
    fields = {"households": "31", "population": "", "note": "多一户", "idempotency_key": "f-1"}
    answer = client.post("/api/v1/buildings/B1/households", data=fields, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    again = client.post("/api/v1/buildings/B1/households", data=fields, headers=headers)
    assert again.status_code == 200 and again.get_json()["replayed"]


def test_access_outside_own_grid_analyst_and_unknown(ledger_app):
    worker, headers = _session(ledger_app, "worker")
    outside = _post(worker, headers, "B2", "x", households=10, note="x")  # B2 lies in G2
    assert outside.status_code == 403
    assert outside.get_json()["error"] == "只能确认本人网格内的建筑"
    assert worker.get("/api/v1/buildings/B2").status_code == 404  # not even readable
    assert worker.get("/api/v1/buildings/B2/households").status_code == 404
    assert _post(worker, headers, "nope", "x", households=1).status_code == 404
    analyst, a_headers = _session(ledger_app, "analyst")
    assert _post(analyst, a_headers, "B0", "x", households=30).status_code == 403
    supervisor, s_headers = _session(ledger_app, "supervisor")
    assert _post(supervisor, s_headers, "B2", "s", households=40, note="核").status_code == 201
    # the analyst reads the history without names or notes
    seen = analyst.get("/api/v1/buildings/B2/households").get_json()
    assert len(seen) == 1 and "username" not in seen[0] and "note" not in seen[0]
    assert analyst.get("/households/changes").status_code == 403
    assert worker.get("/households/changes").status_code == 403
    store = ledger_app.extensions["gridmgmt_store"]
    key = create_api_key(store, "hotline-x", "hotline")
    assert (
        ledger_app.test_client()
        .post("/api/v1/buildings/B0/households", json={"households": 1}, headers={"X-API-Key": key})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"households": -3, "note": "x"}, "b1", "户数须为不小于 0 的整数"),
        ({"households": "十", "note": "x"}, "b2", "户数须为不小于 0 的整数"),
        ({"households": 2.5, "note": "x"}, "b3", "户数须为不小于 0 的整数"),
        ({}, "b4", "请填写户数"),
        ({"households": 99999, "note": "x"}, "b5", "户数超出合理范围"),
        ({"households": 40}, "b6", "请填写说明"),
        ({"households": 40, "population": 3, "note": "x"}, "b7", "人口少于户数"),
        ({"households": 30}, None, "幂等键"),
        ({"households": 30, "note": ["x"]}, "b9", "说明须为文字"),
    ],
)
def test_bad_values_answer_400_in_chinese(ledger_app, fields, key, message):
    client, headers = _session(ledger_app, "worker")
    answer = _post(client, headers, "B0", key, **fields)
    assert answer.status_code == 400
    assert message in answer.get_json()["error"]
    assert client.get("/api/v1/buildings/B0/households").get_json() == []
    bad_json = client.post(
        "/api/v1/buildings/B0/households",
        data="[1, 2]",
        headers=headers | {"Content-Type": "application/json", "Idempotency-Key": "j"},
    )
    assert bad_json.status_code == 400


def test_english_message_when_english_is_chosen(ledger_app):
    client, headers = _session(ledger_app, "worker")
    client.get("/map?lang=en")
    answer = _post(client, headers, "B0", "e", households=-1)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "Households must be a whole number of at least 0"


def test_search_and_card_within_reach(ledger_app):
    worker, _ = _session(ledger_app, "worker")
    found = worker.get("/api/v1/buildings?q=楼").get_json()  # B0 is "<script>…楼"
    assert {b["building_id"] for b in found} == {"B0", "B1", "B4", "B5"}  # G1's only
    card = worker.get("/api/v1/buildings/B1").get_json()
    assert card["households"] == 30 and card["source_label"] == "台账"
    assert card["confidence_label"] == "高" and card["changes"] == []
    assert worker.get("/api/v1/buildings?q=" + "x" * 101).status_code == 400


def test_pages_render_for_worker_and_supervisor(ledger_app):
    worker, headers = _session(ledger_app, "worker")
    page = worker.get("/buildings").get_data(as_text=True)
    assert 'id="visit-form"' in page and "js/buildings.js" in page
    assert f"data-mine='[\"{G1}\"]'" in page
    assert "房屋台账" in page
    assert "House" not in page
    english = worker.get("/buildings?lang=en").get_data(as_text=True)
    assert "Building ledger" in english and "Confirm as is" in english
    _post(worker, headers, "B0", "p-1", households=90, note="整栋新入住")  # G1: 180, over 150
    supervisor, s_headers = _session(ledger_app, "supervisor")
    _post(supervisor, s_headers, "B2", "p-2", households=31, note="核对")  # G2: 121, in band
    review = supervisor.get("/households/changes").get_data(as_text=True)
    first, second = review.index(f'id="grid-{G1}"'), review.index(f'id="grid-{G2}"')
    assert first < second  # out of band first
    g1 = review[first:second]
    assert 'data-band-status="over"' in g1 and "180" in g1 and "30 → 90" in g1
    assert "整栋新入住" in g1 and "worker" in g1
    assert f'action="/rebalance/{COMMUNITY}/auto"' in g1 and "生成调整方案" in g1
    assert "生成调整方案" not in review[second:]
    _post(worker, headers, "B1", "p-3", households=30)  # a confirmation without a note
    review = supervisor.get("/households/changes").get_data(as_text=True)
    assert ">nan<" not in review
    data = supervisor.get("/api/v1/households/changes?days=7").get_json()
    assert [g["grid"]["code"] for g in data["grids"]] == [G1, G2]
    assert data["grids"][0]["left_band"] is True
    assert supervisor.get("/households/changes?days=3").status_code == 400
    # the proposal is made by the existing rebalance service
    made = supervisor.post(
        f"/rebalance/{COMMUNITY}/auto", data={"csrf_token": s_headers["X-CSRFToken"]}
    )
    assert made.status_code == 302 and "proposal=" in made.headers["Location"]
