"""The map draws grids and buildings from vector tiles in real headless Chromium."""

from __future__ import annotations

from tests.factories import G1, IN_G2, make_incident
from tests.webapp.sessions import PASSWORD, browser_login


def test_map_draws_vector_tiles_without_errors(app, open_page):
    app.config["GRIDMGMT_VECTOR_TILES_ABOVE"] = 0  # the 4-grid fixture counts as large
    incident = make_incident(app.extensions["gridmgmt_store"], at=IN_G2)
    rp = open_page()
    page = rp.page
    problems, tiles = [], []

    def console(message):
        # Chromium's favicon request (no /favicon.ico here) is reported only as a console
        # line; every request the page makes is checked through its response below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", console)
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)
    browser_login(rp, "supervisor", PASSWORD)
    page.wait_for_function("window.gridmap && window.gridmap.layers.gridTiles !== undefined")
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-tile-container canvas, canvas.leaflet-tile').length > 0"
    )
    with page.expect_response(lambda r: "/tiles/buildings/16/" in r.url and r.status == 200):
        page.evaluate("window.gridmap.map.setView([30.9405, 117.8105], 16)")
    page.wait_for_load_state("networkidle")
    grid_tiles = [status for url, status in tiles if "/tiles/grids/" in url]
    assert 200 in grid_tiles, tiles
    assert all(status in (200, 204, 304) for _url, status in tiles), tiles
    assert any("/tiles/buildings/16/" in url and status == 200 for url, status in tiles), tiles
    # the GeoJSON path is not asked for the tiled layers
    assert not any("/api/v1/geo/grids" in u or "/api/v1/geo/buildings" in u for u in rp.requests)
    # clicking a grid drawn from a tile opens its card
    box = page.evaluate(
        """() => { const m = window.gridmap.map;
                   const p = m.latLngToContainerPoint([30.9405, 117.8105]);
                   const r = m.getContainer().getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(box[0], box[1])
    page.wait_for_selector("#card:not([hidden]) h2")
    assert page.inner_text("#card h2") == G1
    # open incidents come from tiles too (not GeoJSON), and a click on one names it
    assert any("/tiles/incidents/16/" in url and status == 200 for url, status in tiles), tiles
    assert not any("/api/v1/geo/incidents" in u for u in rp.requests)
    lon, lat = IN_G2
    box = page.evaluate(
        f"""() => {{ const m = window.gridmap.map;
                   const p = m.latLngToContainerPoint([{lat}, {lon}]);
                   const r = m.getContainer().getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }}"""
    )
    page.mouse.click(box[0], box[1])
    page.wait_for_selector(".leaflet-popup-content")
    assert incident["number"] in page.inner_text(".leaflet-popup-content")
    rp.screenshot("map-vector-tiles")
    assert problems == []
    assert rp.foreign_requests() == []


def test_small_areas_keep_geojson(open_page):
    rp = open_page()
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length >= 2")
    assert not any("/tiles/" in u for u in rp.requests)
