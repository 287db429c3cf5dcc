"""Residents and volunteers on a phone in real Chromium: report without an account, follow the
case by number and code, rate it 不满意, the supervisor reopens it; 满意率 in 考核; a 信息员's
零报告 counts; a flood is refused; public pages show no phone number and no staff name."""

from __future__ import annotations

import io

import pytest

from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import transition_incident
from gridmgmt.domain.public_guard import DEVICE_BUDGET
from gridmgmt.store.residents import ResidentStore
from tests.factories import G1
from tests.webapp.sessions import PASSWORD, browser_login

CENTRE_OF_G1 = (30.941, 117.8105)  # lat, lon
PHONE = "13987654321"
PHONE_VIEW = {"viewport": (390, 844), "is_mobile": True, "has_touch": True}
STAFF_PATH = [
    ("register", "supervisor", {}),
    ("dispatch", "supervisor", {}),
    ("accept", "dept", {}),
    ("handle", "dept", {"note": "王师傅已清理", "photo_ids": ["p.png"]}),
    ("verify_pass", "worker", {"photo_ids": ["p.png"]}),
    ("close", "supervisor", {"note": "垃圾已清运，感谢您的反映"}),
]
#: names of the staff who handled the case: never on a public page
STAFF_NAMES = ("王师傅", "supervisor", "dept", "worker<b>", "supervisor<b>")


def photo_jpeg(tmp_path):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SecretPhone"
    path = tmp_path / "scene.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (90, 120, 160)).save(buf, format="JPEG", exif=exif)
    path.write_bytes(buf.getvalue())
    return path


def fill_report(page, description: str, phone: str | None = None) -> None:
    page.wait_for_function(
        "window.residentPage && document.querySelectorAll('#major option').length > 5"
    )
    xy = page.evaluate(
        f"(() => {{ const p = window.residentPage.map.latLngToContainerPoint({list(CENTRE_OF_G1)});"
        " return {x: p.x, y: p.y}; })()"
    )
    page.locator("#pick-map").tap(position=xy)
    page.wait_for_selector("#loc-text.ok")
    page.select_option("#major", "11")
    page.select_option("#minor", "11001")
    page.fill("#description", description)
    if phone:
        page.fill("#phone", phone)


def public_text(page) -> str:
    return page.inner_text("body") + page.content()


@pytest.mark.slow
def test_the_resident_loop_on_a_phone(app, open_page, tmp_path):
    app.config["GRIDMGMT_CHALLENGE_BITS"] = 10
    store = app.extensions["gridmgmt_store"]
    store.sync_categories(load_categories())
    rp = open_page(**PHONE_VIEW)
    page = rp.page
    page.goto(rp.base_url + "/r")
    fill_report(page, "小区东门垃圾堆放三天", PHONE)
    page.set_input_files("#photo", str(photo_jpeg(tmp_path)))
    rp.screenshot("resident-report-filled")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])", timeout=30000)
    number, code = page.inner_text("#r-number"), page.inner_text("#r-code")
    assert number.endswith("-000001") and len(code) == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    rp.screenshot("resident-report-done")
    incident_id = ResidentStore(store).incident_id_by_number(number)
    incident = store.incident(incident_id)
    assert incident["source"] == "居民上报" and incident["grid_code"] == G1
    photo_id = incident["history"][0]["photo_ids"][0]
    stored = (app.config["GRIDMGMT_SETTINGS"].uploads_dir / "photos" / photo_id).read_bytes()
    assert b"SecretPhone" not in stored

    # follow by number, then code
    page.goto(f"{rp.base_url}/r/{number}")
    assert "小区东门" not in page.inner_text("body")
    page.fill("input[name=c]", code.lower())
    page.click("button[type=submit]")
    page.wait_for_selector("#public-state")
    assert page.inner_text("#public-state") == "已受理"

    # the staff run the loop (through the service), the page follows in plain words
    for transition, role, extras in STAFF_PATH:
        transition_incident(store, incident_id, transition, actor=role, role=role, **extras)
    page.reload()
    assert page.inner_text("#public-state") == "已办结"
    assert "垃圾已清运" in page.inner_text("#reply")
    text = public_text(page)
    assert PHONE not in text and not [n for n in STAFF_NAMES if n in page.inner_text("body")]
    rp.screenshot("resident-follow-closed")
    page.check("input[name=rating][value=unsatisfied]")
    page.fill("textarea[name=comment]", "门口还有垃圾")
    page.click("#rate-form button[type=submit]")
    page.wait_for_selector("#rated")
    assert "不满意" in page.inner_text("#rated") and page.locator("#rate-form").count() == 0
    assert page.inner_text("#public-state") == "返工审核中"
    rp.screenshot("resident-rated")
    assert rp.foreign_requests() == []

    # the supervisor finds the 返工 request on the desk and reopens the case
    sp = open_page(viewport=(1280, 860))
    browser_login(sp, "supervisor", PASSWORD)
    desk = sp.page
    desk.goto(sp.base_url + "/desk?queue=rework")
    assert number in desk.inner_text("#desk-table")
    desk.click(f"text={number}")
    desk.wait_for_selector("#case-number")
    assert PHONE in desk.inner_text("#case-contact")  # staff see the contact
    assert "不满意" in desk.inner_text("#case-rating")
    desk.fill(".action-reopen textarea[name=note]", "居民不满意，返工")
    desk.click(".action-reopen button")
    desk.wait_for_load_state("networkidle")
    assert desk.inner_text("#case-state") == "立案"
    sp.screenshot("supervisor-reopened")
    # 考核 shows the satisfaction rate: one rated, not satisfied
    desk.goto(sp.base_url + "/reports")
    desk.wait_for_selector("#report-tables[aria-busy=false] #kpi-table")  # loaded after the page
    body = desk.inner_text("body")
    assert "满意率" in body and "回访评价数" in body
    kpi = desk.inner_text("#kpi-table")
    assert "满意率" in kpi and "0.0%" in kpi

    # the public map counts the open case in G1, without its text
    page.goto(rp.base_url + "/r/map")
    page.wait_for_selector(".leaflet-interactive")
    assert page.inner_text("#open-total") == "1"
    assert "小区东门" not in public_text(page) and PHONE not in public_text(page)

    # a flood from one phone is refused: the budget is DEVICE_BUDGET reports an hour
    refused = None
    for n in range(DEVICE_BUDGET):
        page.goto(rp.base_url + "/r")
        fill_report(page, f"第{n + 2}次反映")
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden]), #status.error", timeout=30000)
        if page.locator("#status.error").count():
            refused = n + 2
            break
    assert refused == DEVICE_BUDGET + 1
    assert "频繁" in page.inner_text("#status")


@pytest.mark.slow
def test_an_informants_zero_report_counts(app, open_page):
    from gridmgmt.domain.accounts import create_user

    store = app.extensions["gridmgmt_store"]
    create_user(store, "xinxi", PASSWORD, "informant", display_name="信息员甲", grid_codes=[G1])
    create_user(store, "louzhang", PASSWORD, "building_head", grid_codes=[G1])
    vp = open_page(**PHONE_VIEW)
    browser_login(vp, "xinxi", PASSWORD)
    page = vp.page
    assert page.url.endswith("/v")
    page.click("#zero")
    page.wait_for_selector("#zero-sent")
    vp.screenshot("informant-zero-report")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wp = open_page(**PHONE_VIEW)
    browser_login(wp, "worker", PASSWORD)
    wp.page.goto(wp.base_url + "/volunteers")
    assert wp.page.inner_text("#count-zero") == "1"
    assert wp.page.inner_text("#count-silent") == "1"
    row = wp.page.inner_text("tr[data-user=xinxi]")
    assert "零报告" in row
    wp.screenshot("worker-volunteer-roll")
