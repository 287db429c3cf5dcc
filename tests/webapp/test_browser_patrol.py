"""A worker records a patrol in headless Chromium, loses the connection, and nothing is lost or doubled."""

from __future__ import annotations

from gridmgmt.store.patrols import PatrolStore
from tests.webapp.sessions import PASSWORD, browser_login

LAT, LON = 30.9405, 117.8102  # inside grid G1 of the test 街道


def move(page, k):
    page.context.set_geolocation({"latitude": LAT + 0.00003 * k, "longitude": LON, "accuracy": 6})


def test_offline_queue_is_replayed_once(open_page, app):
    rp = open_page(
        viewport=(390, 844),
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": LAT, "longitude": LON, "accuracy": 6},
        permissions=["geolocation"],
    )
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/patrol")
    page.wait_for_function("() => window.patrolPage")
    page.tap("#start")
    page.wait_for_function("() => window.patrolPage.state() && window.patrolPage.state().id")
    for k in range(1, 6):  # online: sent as they come
        move(page, k)
        page.wait_for_function(f"() => window.patrolPage.state().seq >= {k}")
    page.wait_for_function("() => window.patrolPage.state().queue.length === 0")

    page.context.set_offline(True)
    for k in range(6, 16):  # offline: they wait on the phone, across a reload too
        move(page, k)
        page.wait_for_function(f"() => window.patrolPage.state().seq >= {k}")
    queued = page.evaluate("() => window.patrolPage.state().queue.length")
    assert queued >= 10
    assert "离线" in page.inner_text("#online-state")
    rp.screenshot("patrol-phone-offline")

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => window.patrolPage.state().queue.length === 0", timeout=20_000)
    # a GPS jump (1 km within a second): flagged, and named in Chinese on the page, not by its code
    seq = page.evaluate("() => window.patrolPage.state().seq")
    move(page, 300)
    page.wait_for_function(f"() => window.patrolPage.state().seq > {seq}")
    total = page.evaluate("() => window.patrolPage.state().seq")
    page.tap("#stop")
    page.wait_for_selector("#measures:not([hidden])")
    measures = page.inner_text("#measures")
    assert "轨迹跳变" in measures
    assert not any(code in measures for code in ("jumps", "long_stationary", "mostly_outside"))
    rp.screenshot("patrol-phone-done")

    repo = PatrolStore(app.extensions["gridmgmt_store"])
    (patrol,) = repo.patrols().to_dict("records")
    points = repo.points([patrol["id"]])
    assert patrol["status"] == "done"
    assert len(points) == total >= 15
    assert points["seq"].is_unique and sorted(points["seq"]) == list(range(total))
    assert page.get_attribute("#measures", "data-points") == str(total)
    assert rp.foreign_requests() == []
