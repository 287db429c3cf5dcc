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
