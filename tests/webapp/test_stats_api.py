"""The hot-spot endpoint for the map."""

from __future__ import annotations

from datetime import UTC, datetime

from gridmgmt.domain.incidents.service import report_incident
from tests.store.test_store import X0, Y0
from tests.webapp.conftest import G1, G4


def test_hotspots_endpoint(app, as_role):
    fill_incidents = app.extensions["gridmgmt_store"]
    for i in range(3):
        report_incident(
            fill_incidents,
            category_code="11001",
            description=f"#{i}",
            lon=X0 + 0.0005,
            lat=Y0 + 0.0005,
            reporter="t",
            role="supervisor",
            source="12345热线",
            now=datetime(2026, 11, 5, 3, tzinfo=UTC),
        )
    client = as_role("analyst")
    body = client.get("/api/v1/stats/hotspots?from=2026-11-01&to=2026-12-01").get_json()
    assert body["type"] == "FeatureCollection" and body["incidents"] == 3
    props = {f["id"]: f["properties"] for f in body["features"]}
    assert props[G1]["incidents"] == 3 and props[G4]["hotspot"] == "no_households"
    bad = client.get("/api/v1/stats/hotspots?from=2026-12-01&to=2026-11-01")
    assert bad.status_code == 400 and "not before" in bad.get_json()["error"]
    assert client.get("/api/v1/stats/hotspots?from=2026-11-01").status_code == 400
    assert client.get("/api/v1/stats/hotspots?from=x&to=2026-11-01").status_code == 400


def test_map_hotspot_layer_toggle_in_chromium(app, open_page):
    from tests.webapp.conftest import PASSWORD, browser_login

    store = app.extensions["gridmgmt_store"]
    for i in range(4):
        report_incident(
            store,
            category_code="11001",
            description=f"#{i}",
            lon=X0 + 0.0005,
            lat=Y0 + 0.0005,
            reporter="t",
            role="supervisor",
            source="12345热线",
        )
    rp = open_page()
    browser_login(rp, "analyst", PASSWORD)
    page = rp.page
    page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length >= 2")
    assert page.evaluate("window.gridmap.layers.hotspots.getLayers().length") == 0  # off by default
    page.hover(".leaflet-control-layers")
    with page.expect_response(lambda r: "/api/v1/stats/hotspots" in r.url) as response:
        page.click(".leaflet-control-layers-overlays label:has-text('事件热点') input")
    assert response.value.status == 200
    for _ in range(
        50
    ):  # the page's CSP forbids eval, so poll from here rather than wait_for_function
        if page.evaluate("window.gridmap.layers.hotspots.getLayers().length") == 4:
            break
        page.wait_for_timeout(100)
    classes = page.evaluate(
        "window.gridmap.layers.hotspots.toGeoJSON().features.map(f => [f.id, f.properties.incidents, f.properties.hotspot])"
    )
    assert [G1, 4, classes[0][2]] in [list(c) for c in classes]
    assert dict((c[0], c[2]) for c in classes)[G4] == "no_households"
    rp.screenshot("map-hotspots-analyst")
    assert rp.foreign_requests() == []
