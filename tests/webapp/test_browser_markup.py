"""Text from imported data never becomes markup in the map's tooltips (real Chromium)."""

from __future__ import annotations

from tests.webapp.sessions import PASSWORD, browser_login

COMMUNITY = "340705001001"


def test_building_names_are_shown_as_text_in_the_editor(app, open_page):
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + f"/rebalance/?community={COMMUNITY}")
    page.wait_for_selector("#rb-map[data-loaded]")
    page.hover("path[data-building='B0']")
    tooltip = page.wait_for_selector(".leaflet-tooltip:not(.rb-label)")
    # the fixture names B0 "<script>alert('x')</script>楼": shown as written, no element made
    assert "<script>alert('x')</script>楼" in tooltip.inner_text()
    assert page.locator(".leaflet-tooltip-pane script").count() == 0
    assert page.locator(".leaflet-tooltip *:not(span)").count() == 0
    assert rp.foreign_requests() == []
