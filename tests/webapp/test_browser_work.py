"""Worker reporting on a phone and the supervisor registering and dispatching, in real Chromium."""

from __future__ import annotations

import io

import pytest

from tests.factories import G1, make_incident
from tests.webapp.sessions import PASSWORD, browser_login

CENTRE_OF_G1 = (30.941, 117.8105)  # lat, lon: inside grid G1 of the test 街道


def photo_png(tmp_path):
    from PIL import Image

    path = tmp_path / "scene.png"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.slow
def test_worker_reports_by_tapping_the_map_and_supervisor_dispatches(open_page, tmp_path):
    rp = open_page(viewport=(390, 844), is_mobile=True, has_touch=True)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/report")
    page.wait_for_function(
        "window.reportPage && document.querySelectorAll('#major option').length > 5"
    )
    rp.screenshot("report-phone-empty")
    xy = page.evaluate(
        f"(() => {{ const p = window.reportPage.map.latLngToContainerPoint({list(CENTRE_OF_G1)});"
        " return {x: p.x, y: p.y}; })()"
    )
    page.locator("#pick-map").tap(position=xy)
    page.wait_for_selector("#loc-text.ok")
    page.select_option("#major", "11")
    page.select_option("#minor", "11001")
    page.fill("#description", "小区东门垃圾堆放<b>未清理</b>")
    page.set_input_files("#photo", str(photo_png(tmp_path)))
    rp.screenshot("report-phone-filled")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    result = page.inner_text("#result")
    number = page.inner_text("#result .num")
    assert number.endswith("-000001") and G1 in result
    first = page.locator("#mine li").first
    assert number in first.inner_text() and G1 in first.inner_text()
    assert "<b>未清理</b>" in first.inner_text()  # shown as text, not markup
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    rp.screenshot("report-phone-done")
    page.goto(rp.base_url + "/tasks")
    rp.screenshot("tasks-phone-empty")
    assert rp.foreign_requests() == []

    sp = open_page(viewport=(1280, 860))
    browser_login(sp, "supervisor", PASSWORD)
    page = sp.page
    page.goto(sp.base_url + "/desk?queue=new")
    assert number in page.inner_text("#desk-table")
    sp.screenshot("desk-new-reports")
    page.click(f"text={number}")
    page.wait_for_selector("#case-number")
    case_url = page.url
    page.click(".action-register button")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#case-state") == "立案"
    page.select_option(".action-dispatch select[name=department]", "城管执法中队")
    page.click(".action-dispatch button")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#case-state") == "已派遣"
    assert page.inner_text("#case-department") == "城管执法中队"
    history = page.inner_text("#history")
    assert "派遣至城管执法中队" in history and "网格员" in history
    assert page.locator(".photos img").count() == 1
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") == 64
    sp.screenshot("case-dispatched")
    page.goto(sp.base_url + "/desk")
    sp.screenshot("desk-all")
    assert sp.foreign_requests() == []

    wp = open_page(viewport=(390, 844), is_mobile=True, has_touch=True)
    browser_login(wp, "supervisor", PASSWORD)
    wp.page.goto(case_url)
    wp.screenshot("case-phone")
    assert wp.page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.slow
def test_worker_verifies_a_task_on_the_phone_and_dept_page(app, open_page, tmp_path):
    folder = app.config["GRIDMGMT_SETTINGS"].uploads_dir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.png").write_bytes(photo_png(tmp_path).read_bytes())
    store = app.extensions["gridmgmt_store"]
    task = make_incident(store, "handled", description="楼道堆物已清理")
    held = make_incident(store, "dispatched", description="路灯不亮")

    rp = open_page(viewport=(390, 844), is_mobile=True, has_touch=True)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/tasks")
    card = page.locator(f"#task-{task['id']}")
    assert task["number"] in card.inner_text() and G1 in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    rp.screenshot("tasks-phone")
    card.locator("input[name=photo]").set_input_files(str(photo_png(tmp_path)))
    card.locator("button[value=verify_pass]").tap()
    page.wait_for_load_state("networkidle")
    assert f"#task-{task['id']}" not in page.content() and task["number"] in page.inner_text(
        ".flash"
    )
    assert app.extensions["gridmgmt_store"].incident(task["id"])["state"] == "verified"
    rp.screenshot("tasks-phone-verified")
    assert rp.foreign_requests() == []

    dp = open_page(viewport=(1280, 800))
    browser_login(dp, "dept", PASSWORD)
    dp.page.goto(dp.base_url + "/dept")
    assert held["number"] in dp.page.inner_text("#dept-table")
    assert task["number"] not in dp.page.inner_text("#dept-table")
    dp.screenshot("dept-cases")
    assert dp.foreign_requests() == []


def test_report_location_from_the_phone_gps(open_page):
    lat, lon = CENTRE_OF_G1
    rp = open_page(
        viewport=(390, 844),
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 8},
        permissions=["geolocation"],
    )
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/report")
    page.wait_for_function("window.reportPage")
    page.tap("#gps")
    page.wait_for_selector("#loc-text.ok")
    text = page.inner_text("#loc-text")
    assert "GPS ±8m" in text and f"{lon:.6f}" in text and f"{lat:.6f}" in text
    assert rp.foreign_requests() == []
