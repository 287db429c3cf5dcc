"""Oversized text is refused at every door with a 400 that says why; nothing is stored."""

from __future__ import annotations

import re

from gridmgmt.domain.accounts import create_api_key


def _centre_of_first_grid(store):
    point = store.current_grids().geometry.iloc[0].representative_point()
    return point.x, point.y


def test_ten_megabyte_description_is_refused_by_the_api(app, as_role):
    store = app.extensions["gridmgmt_store"]
    client = as_role("supervisor")  # no photo needed from a supervisor
    token = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/map").get_data(as_text=True)
    ).group(1)
    lon, lat = _centre_of_first_grid(store)
    answer = client.post(
        "/api/v1/incidents",
        json={
            "category_code": "11001",
            "description": "x" * (10 * 1024 * 1024),
            "lon": lon,
            "lat": lat,
        },
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 400
    assert "at most 2,000" in answer.get_json()["error"]
    assert len(store.incidents()) == 0


def test_open311_address_longer_than_its_column_is_refused(app, client):
    store = app.extensions["gridmgmt_store"]
    key = create_api_key(store, "12345热线", "supervisor")
    lon, lat = _centre_of_first_grid(store)
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "15003",
            "lat": lat,
            "long": lon,
            "address_string": "长" * 5000,
            "description": "人行道上单车堆放",
        },
    )
    assert answer.status_code == 400
    assert "at most 200" in answer.get_json()[0]["description"]
    assert len(store.incidents()) == 0
