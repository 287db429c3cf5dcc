"""Analyst and supervisor pages in real Chromium: hot spot legend, report and export progress,
the OGC landing page, the favicon, and no console errors on the main pages."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.factories import IN_G1, IN_G2, make_incident
from tests.webapp.sessions import PASSWORD, browser_login

#: a 1 x 1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MAIN_PAGES = (
    "/map",
    "/overview",
    "/desk",
    "/rebalance/",
    "/reports",
    "/patrols/report",
    "/ogcapi?f=html",
    "/login",
)


def _watch(page):
    """Console errors and failed same-site responses of ``page``, as they come."""
    problems = []
    page.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def test_hotspot_layer_has_a_legend(app, open_page):
    store = app.extensions["gridmgmt_store"]
    for at in (IN_G1, IN_G1, IN_G2):
        make_incident(store, "reported", at=at)
    rp = open_page()
    browser_login(rp, "analyst", PASSWORD)
    page = rp.page
    problems = _watch(page)
    page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length >= 2")
    assert page.locator("#hotspot-legend").count() == 0  # the layer is off: no legend
    page.hover(".leaflet-control-layers")
    page.check(".leaflet-control-layers-overlays label:has-text('事件热点') input")
    page.wait_for_selector("#hotspot-legend")
    legend = page.inner_text("#hotspot-legend")
    for text in ("事件热点", "热点 (99%)", "不显著", "冷点 (99%)", "无住户"):
        assert text in legend, legend
    assert page.locator("#hotspot-legend [data-hotspot] .swatch").count() == 8
    # polled from here: the page's CSP forbids the eval a polling wait_for_function needs
    for _ in range(100):
        if page.evaluate("window.gridmap.layers.hotspots.getLayers().length") > 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.gridmap.layers.hotspots.getLayers().length") == 4
    rp.screenshot("map-hotspot-legend")
    page.uncheck(".leaflet-control-layers-overlays label:has-text('事件热点') input")
    page.wait_for_selector("#hotspot-legend", state="detached")
    assert problems == []
    assert rp.foreign_requests() == []


def test_reports_show_progress_then_tables_and_exports_show_progress(app, open_page):
    rp = open_page()
    browser_login(rp, "analyst", PASSWORD)
    page = rp.page
    problems = _watch(page)
    held = []
    page.route("**/reports/tables*", lambda route: held.append(route))
    page.goto(rp.base_url + "/reports")
    # the page is there with its progress while the tables are still being computed
    page.wait_for_selector("#report-progress .spinner")
    page.wait_for_selector("#report-elapsed:not(:empty)")
    assert page.get_attribute("#report-tables", "aria-busy") == "true"
    assert page.locator("#workload-table").count() == 0
    rp.screenshot("reports-progress")
    assert held, "the tables were not requested"
    held[0].continue_()
    page.unroute("**/reports/tables*")
    page.wait_for_selector("#workload-table")
    assert page.get_attribute("#report-tables", "aria-busy") == "false"
    assert page.locator("#report-progress").count() == 0
    assert page.locator("#kpi-table").count() == 1

    # an export: progress while it is made, then the browser gets the file
    with page.expect_download() as download:
        page.click(".download-row:has([data-what='grids']) a.export:has-text('CSV')")
        page.wait_for_selector("#export-status:not([hidden])")
    file = download.value
    assert file.suggested_filename.startswith(
        "gridmgmt-grids-"
    ) and file.suggested_filename.endswith(".csv")
    page.wait_for_selector("#export-status.done")
    assert "已下载" in page.inner_text("#export-status")
    assert file.suggested_filename in page.inner_text("#export-status")
    assert problems == []


def test_main_pages_have_no_console_errors_and_a_favicon(app, open_page):
    store = app.extensions["gridmgmt_store"]
    case = make_incident(store, "registered")  # its photo p.png is stored, as an upload would be
    photos = Path(app.config["GRIDMGMT_SETTINGS"].uploads_dir) / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    (photos / "p.png").write_bytes(PNG)
    rp = open_page()
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    problems = _watch(page)
    for path in (*MAIN_PAGES, f"/cases/{case['id']}"):
        page.goto(rp.base_url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith(
            "/favicon.ico"
        ), path
    icon = page.request.get(rp.base_url + "/favicon.ico")
    assert icon.status == 200
    assert problems == [], problems
    # the OGC landing page as a browser gets it: HTML, in Chinese
    page.goto(rp.base_url + "/ogcapi")
    assert page.inner_text("h1").endswith("数据服务")
    assert rp.foreign_requests() == []
