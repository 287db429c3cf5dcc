"""The map in real headless Chromium: desktop and phone, local assets only."""

from __future__ import annotations

from tests.factories import G1
from tests.webapp.sessions import PASSWORD, browser_login


def test_map_loads_grids_and_card_on_desktop(open_page):
    rp = open_page()
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    assert page.url.endswith("/map")
    page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length >= 2")
    page.evaluate(f"window.gridmap.showCard('{G1}')")
    page.wait_for_selector("#card:not([hidden]) h2")
    assert page.inner_text("#card h2") == G1
    assert "300" in page.inner_text("#card")
    assert "铜官区" in page.inner_text("#breadcrumbs")
    rp.screenshot("map-desktop-supervisor")
    assert rp.foreign_requests() == []


def test_map_on_phone_viewport_for_a_worker(open_page):
    rp = open_page(viewport=(390, 844), is_mobile=True, has_touch=True)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length >= 1")
    page.evaluate("window.gridmap.map.setZoom(17)")
    page.wait_for_function("window.gridmap.layers.buildings.getLayers().length > 0")
    codes = page.evaluate(
        "window.gridmap.layers.buildings.toGeoJSON().features.map(f => f.properties.grid_code)"
    )
    assert set(codes) == {G1}  # a worker sees buildings of their own grid only
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows the phone screen sideways
    rp.screenshot("map-phone-worker")
    assert rp.foreign_requests() == []
