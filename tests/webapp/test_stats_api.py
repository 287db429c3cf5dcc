"""The hot-spot endpoint for the map."""

from __future__ import annotations

from datetime import UTC, datetime

from gridmgmt.domain.incidents.service import report_incident
from tests.factories import G1, G4, X0, Y0

#: G1's class when it holds every incident of the period. G1, G2 and G3 are the only
#: tested grids (G4 has no households) and lie in a row, so G1's Gi* neighbourhood is
#: G1 and G2 and its z-score is positive. Every conditional permutation draws G1's
#: one neighbour from G2 and G3, both without incidents, so each simulated Gi* equals
#: the observed one; the folded pseudo p-value is then 1 / (999 + 1) = 0.001: hot_99.
G1_HOTSPOT = "hot_99"


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
    assert props[G1]["hotspot"] == G1_HOTSPOT
    bad = client.get("/api/v1/stats/hotspots?from=2026-12-01&to=2026-11-01")
    assert bad.status_code == 400 and "not before" in bad.get_json()["error"]
    assert client.get("/api/v1/stats/hotspots?from=2026-11-01").status_code == 400
    assert client.get("/api/v1/stats/hotspots?from=x&to=2026-11-01").status_code == 400


def test_map_hotspot_layer_toggle_in_chromium(app, open_page):
    from tests.webapp.sessions import PASSWORD, browser_login

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
    assert [G1, 4, G1_HOTSPOT] in [list(c) for c in classes]
    assert dict((c[0], c[2]) for c in classes)[G4] == "no_households"
    rp.screenshot("map-hotspots-analyst")
    assert rp.foreign_requests() == []
