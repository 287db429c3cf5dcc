"""The grid worker's field app with no signal, in headless Chromium on a phone viewport.

A report with a photo, a 民情日记 entry and a patrol are made offline
(``context.set_offline``), the page is reloaded offline (the service worker
serves it), the connection comes back: each reaches the store exactly once,
even when the outbox is made to send everything a second time. The manifest
and service worker make the app installable (Chromium's own installability
check); the bottom navigation's targets are large enough to tap.
"""

from __future__ import annotations

import io

import pytest

from gridmgmt.store.patrols import PatrolStore
from tests.factories import G1
from tests.webapp.sessions import PASSWORD, browser_login

CENTRE_OF_G1 = (30.941, 117.8105)  # lat, lon: inside grid G1 of the test 街道
PHONE = {"viewport": (390, 844), "is_mobile": True, "has_touch": True}


def photo_png(tmp_path):
    from PIL import Image

    path = tmp_path / "scene.png"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


def field_app(open_page, path: str, **options):
    """A worker's phone on ``path``, the service worker installed and in control of the page."""
    rp = open_page(**PHONE, **options)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + path)
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now served through the worker: the page and its data are cached
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    return rp


def pending(page) -> int:
    return int(page.inner_text("#outbox .outbox-count"))


def send_everything_again(page):
    """Mark every sent item queued again and replay: the server must not store anything twice."""
    page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open("gridmgmt-outbox");
          open.onsuccess = () => {
            const t = open.result.transaction("items", "readwrite"), s = t.objectStore("items");
            s.getAll().onsuccess = (e) => e.target.result.forEach((i) => {
              if (i.status === "sent" && i.kind !== "photo") { i.status = "queued"; s.put(i); }
            });
            t.oncomplete = resolve; t.onerror = reject;
          };
        }).then(() => Outbox.drain())"""
    )


def test_report_with_photo_written_offline_arrives_once_after_a_reload(open_page, app, tmp_path):
    store = app.extensions["gridmgmt_store"]
    rp = field_app(open_page, "/report")
    page = rp.page
    page.wait_for_function("document.querySelectorAll('#major option').length > 5")
    page.context.set_offline(True)
    xy = page.evaluate(
        f"(() => {{ const p = window.reportPage.map.latLngToContainerPoint({list(CENTRE_OF_G1)});"
        " return {x: p.x, y: p.y}; })()"
    )
    page.locator("#pick-map").tap(position=xy)
    page.select_option("#major", "11")
    page.select_option("#minor", "11001")  # asks a worker for a photo
    page.fill("#description", "地下室积水，无信号时上报")
    page.set_input_files("#photo", str(photo_png(tmp_path)))
    page.click("#submit")
    page.wait_for_selector("#mine li.pending")
    assert "联网后自动发送" in page.inner_text("#status")
    assert pending(page) == 1
    rp.screenshot("offline-report-queued")
    assert len(store.incidents()) == 0

    # offline for the service worker too: a page it does not keep gets its offline answer
    page.goto(rp.base_url + "/map")
    assert "当前离线" in page.inner_text("body")
    page.goto(rp.base_url + "/report")  # offline: the service worker answers with the cached page
    page.wait_for_function("() => window.reportPage && window.outboxUI")
    page.wait_for_function(
        "() => document.querySelector('#outbox .outbox-count').textContent === '1'"
    )
    assert "待发送" in page.inner_text("#outbox")
    assert len(store.incidents()) == 0

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.querySelector('#outbox .outbox-count').textContent === '0'", timeout=20_000
    )
    assert "已发送" in page.inner_text("#outbox")
    send_everything_again(page)
    incidents = store.incidents()
    assert len(incidents) == 1
    incident = store.incident(int(incidents["id"].iloc[0]))
    assert incident["description"] == "地下室积水，无信号时上报"
    assert incident["reporter"] == "worker" and incident["grid_code"] == G1
    (photo,) = incident["history"][0]["photo_ids"]  # the report's own step carries the photo
    shown = page.request.get(f"{rp.base_url}/cases/{incident['id']}/photos/{photo}")
    assert shown.status == 200 and shown.body()[:4] == b"\x89PNG"
    rp.screenshot("offline-report-sent")
    assert rp.foreign_requests() == []


def test_diary_and_patrol_started_offline_arrive_once(open_page, app):
    lat, lon = 30.9405, 117.8102  # inside G1
    rp = field_app(
        open_page,
        "/patrol",
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 6},
        permissions=["geolocation"],
    )
    page = rp.page
    page.context.set_offline(True)
    page.tap("#start")
    page.wait_for_function("() => window.patrolPage.state() && window.patrolPage.state().key")
    assert page.evaluate("() => window.patrolPage.state().id") is None
    assert "无法开始巡查" not in page.inner_text("#patrol-status")
    for k in range(1, 8):
        page.context.set_geolocation({"latitude": lat + 0.00003 * k, "longitude": lon})
        page.wait_for_function(f"() => window.patrolPage.state().seq >= {k}")

    page.fill("#diary-form textarea[name=text]", "走访独居老人，离线记录")
    page.click("#diary-form button[type=submit]")
    page.wait_for_selector("#diary-list .pending-badge")
    assert "联网后自动发送" in page.inner_text("#diary-status")
    assert page.url.endswith("/patrol")  # no browser error page

    page.reload()  # offline: the cached page, the patrol carries on from localStorage
    page.wait_for_function("() => window.patrolPage && window.patrolPage.state()")
    for k in range(8, 12):
        page.context.set_geolocation({"latitude": lat + 0.00003 * k, "longitude": lon})
        page.wait_for_function(f"() => window.patrolPage.state().seq >= {k}")
    page.wait_for_function(
        "() => document.querySelector('#outbox .outbox-count').textContent !== '0'"
    )
    rp.screenshot("offline-patrol-queued")
    repo = PatrolStore(app.extensions["gridmgmt_store"])
    assert repo.patrols().empty and repo.diary().empty

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => window.patrolPage.state().id !== null && window.patrolPage.state().queue.length === 0",
        timeout=20_000,
    )
    total = page.evaluate("() => window.patrolPage.state().seq")
    page.tap("#stop")
    page.wait_for_selector("#measures:not([hidden])", timeout=20_000)
    send_everything_again(page)

    (patrol,) = repo.patrols().to_dict("records")
    assert patrol["status"] == "done" and patrol["worker"] == "worker"
    points = repo.points([patrol["id"]])
    assert sorted(points["seq"]) == list(range(total)) and total >= 11
    assert page.get_attribute("#measures", "data-points") == str(total)
    (entry,) = repo.diary().to_dict("records")
    assert entry["text"] == "走访独居老人，离线记录" and entry["grid_code"] == G1
    rp.screenshot("offline-patrol-sent")


def test_manifest_and_service_worker_make_the_app_installable(open_page):
    rp = field_app(open_page, "/report")
    page = rp.page
    manifest = page.request.get(rp.base_url + "/manifest.webmanifest").json()
    assert manifest["name"].startswith("网格") and manifest["lang"] == "zh-CN"
    assert manifest["start_url"] == "/report" and manifest["display"] == "standalone"
    sizes = {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(rp.base_url + icon["src"]).status == 200
    scope = page.evaluate("() => navigator.serviceWorker.controller.scriptURL")
    assert scope == rp.base_url + "/sw.js"
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # a fresh browser context counts as incognito for Chromium; everything else must be met
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    assert cdp.send("Page.getAppManifest")["errors"] == []


@pytest.mark.parametrize("path", ["/report", "/patrol", "/buildings", "/tasks", "/map"])
def test_bottom_navigation_is_compact_with_large_targets(open_page, path):
    rp = open_page(**PHONE)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + path)
    page.evaluate("window.scrollTo(0, 0)")
    top = page.locator("header.topbar").bounding_box()
    assert 40 <= top["height"] <= 48 and top["y"] == 0  # one line, and there on long pages
    out = page.locator("header.topbar form.inline button").bounding_box()
    assert out["height"] >= 44 and out["y"] >= 0
    assert not page.locator("header.topbar .nav").is_visible()
    links = page.locator("#bottomnav a")
    assert links.count() == 5  # 上报, 巡查, 房屋 (房屋台账), 任务, 地图
    assert page.locator("#bottomnav a[aria-current=page]").count() == 1
    for k in range(5):
        box = links.nth(k).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        assert box["y"] + box["height"] <= 844 + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    rp.screenshot(f"bottomnav{path.replace('/', '-')}")


def test_worker_map_opens_on_own_grids_and_names_own_community(open_page, app):
    rp = open_page(**PHONE)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/map")
    page.wait_for_function(
        "() => document.getElementById('breadcrumbs').textContent.includes('社区')"
    )
    grids = app.extensions["gridmgmt_store"].current_grids()
    west, south, east, north = grids[grids["code"] == G1].total_bounds
    shown = page.evaluate(
        "(() => { const b = window.gridmap.map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    assert shown[0] <= west and shown[1] <= south and shown[2] >= east and shown[3] >= north
    # fitted to the worker's grid, not the whole 街道 (twice as wide as G1 at least)
    assert shown[2] - shown[0] < 4 * (east - west)
    assert "翠湖社区" in page.inner_text("#breadcrumbs")
    assert "东湖社区" not in page.inner_text("#breadcrumbs")


def test_a_phone_shared_by_two_workers_sends_each_ones_items_in_their_own_name(open_page, app):
    """Logging out drops the cached pages; a queued entry waits for its own worker's session."""
    from gridmgmt.domain.accounts import create_user

    store = app.extensions["gridmgmt_store"]
    create_user(store, "worker2", PASSWORD, "worker", display_name="二号", grid_codes=[G1])
    rp = field_app(open_page, "/patrol")
    page = rp.page
    page.context.set_offline(True)
    page.fill("#diary-form textarea[name=text]", "一号离线写的")
    page.click("#diary-form button[type=submit]")
    page.wait_for_selector("#diary-list .pending-badge")
    # the signal returns but the entry does not get through before worker logs out
    page.context.route("**/patrol/diary", lambda route: route.abort())
    page.context.set_offline(False)
    page.evaluate("() => Outbox.drain()")
    assert page.evaluate("() => Outbox.pending()") == 1
    # keep the door shut until worker has logged out: an automatic retry would
    # otherwise deliver the entry in worker's own (still valid) session first
    page.click("header.topbar form.inline button")  # 退出
    page.wait_for_url("**/login**")
    page.context.unroute("**/patrol/diary")
    assert page.evaluate("() => caches.has('gm-pages')") is False

    browser_login(rp, "worker2", PASSWORD)
    page.goto(rp.base_url + "/patrol")
    page.wait_for_function("() => window.Outbox")
    page.evaluate("() => Outbox.drain()")
    repo = PatrolStore(store)
    assert repo.diary().empty  # worker2's session never sends worker's entry
    assert "一号离线写的" not in page.inner_text("#outbox")
    # a replay that still believes worker is logged in (a background sync firing
    # before the page names its user) is refused by the server and keeps waiting
    page.evaluate(
        "() => Outbox.setContext({user: 'worker',"
        " token: document.querySelector('meta[name=csrf-token]').content})"
        ".then(() => Outbox.drain())"
    )
    assert repo.diary().empty
    assert page.evaluate("() => Outbox.pending()") == 1
    page.evaluate(
        "() => Outbox.setContext({user: 'worker2',"
        " token: document.querySelector('meta[name=csrf-token]').content})"
    )
    page.wait_for_function("() => !document.getElementById('outbox').textContent.includes('一号')")

    page.click("header.topbar form.inline button")
    page.wait_for_url("**/login**")
    browser_login(rp, "worker", PASSWORD)
    page.goto(rp.base_url + "/patrol")
    page.wait_for_function("() => window.Outbox")
    page.evaluate("() => Outbox.drain()")
    (entry,) = repo.diary().to_dict("records")
    assert entry["worker"] == "worker" and entry["text"] == "一号离线写的"
