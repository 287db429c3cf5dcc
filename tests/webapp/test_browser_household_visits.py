"""房屋台账 on 走访 in real Chromium: a worker on a phone corrects a building's households; the
grid total and the supervisor's 户数变动 show it, with the rebalance proposal to make."""

from __future__ import annotations

import pytest

from tests.factories import COMMUNITY, G1, X0, Y0
from tests.webapp.sessions import PASSWORD, browser_login
from tests.webapp.test_household_visits_web import use_ledger_band

CENTRE_OF_B0 = (Y0 + 0.0002, X0 + 0.0002)  # lat, lon


@pytest.mark.slow
def test_worker_corrects_households_on_a_phone_and_supervisor_sees_it(app, open_page):
    use_ledger_band(app)  # G1 holds 120 households, the band is 100–150
    rp = open_page(viewport=(390, 844), is_mobile=True, has_touch=True)
    browser_login(rp, "worker", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + "/buildings")
    page.wait_for_function(
        "() => window.buildingsPage && document.querySelectorAll('#bmap path.leaflet-interactive')"
        ".length >= 4"
    )
    rp.screenshot("buildings-phone-map")
    # by address or name: 2号楼 (B1), confirmed as it is
    page.fill("#building-search", "2号楼")
    page.wait_for_selector("#search-results li[data-id=B1]")
    page.tap("#search-results li[data-id=B1]")
    page.wait_for_selector("#building-card:not([hidden])")
    assert page.inner_text("#b-id") == "B1" and page.inner_text("#b-households") == "30"
    assert page.inner_text("#b-source") == "台账"
    page.tap("#v-confirm")
    page.wait_for_selector("#v-result:not([hidden])")
    assert "已确认" in page.inner_text("#v-result")
    assert page.inner_text("#b-source") == "走访核实"
    # by a tap on the map: B0, corrected from 30 to 70 households with a note
    xy = page.evaluate(
        f"(() => {{ const p = window.buildingsPage.map.latLngToContainerPoint({list(CENTRE_OF_B0)});"
        " return {x: p.x, y: p.y}; })()"
    )
    page.locator("#bmap").tap(position=xy)
    page.wait_for_function("() => document.getElementById('b-id').textContent === 'B0'")
    page.fill("#v-households", "70")
    page.fill("#v-population", "150")
    page.tap("#v-submit")  # without a note: refused on the phone, nothing sent
    assert "请填写说明" in page.inner_text("#v-status")
    page.fill("#v-note", "3单元新入住<b>四十户</b>")
    rp.screenshot("buildings-phone-filled")
    page.tap("#v-submit")
    page.wait_for_function("() => document.getElementById('b-households').textContent === '70'")
    result = page.inner_text("#v-result")
    assert "30 → 70" in result and G1 in result and "160" in result and "超出范围" in result
    history = page.locator("#b-history li").first.inner_text()
    assert "<b>四十户</b>" in history  # shown as text, not markup
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    rp.screenshot("buildings-phone-done")
    card = page.evaluate(f"fetch('/api/v1/grids/{G1}').then(r => r.json())")
    assert card["households"] == 160 and card["flag"] == "out_of_band"
    assert rp.foreign_requests() == []

    sp = open_page(viewport=(1280, 860))
    browser_login(sp, "supervisor", PASSWORD)
    page = sp.page
    page.goto(sp.base_url + "/households/changes")
    grid = page.locator(f"#grid-{G1}")
    text = grid.inner_text()
    assert "160" in text and "超出范围" in text and "30 → 70" in text
    assert "3单元新入住<b>四十户</b>" in text and "worker" in text
    assert "nan" not in text.lower().split()  # B1's confirmation has no note: an empty cell
    sp.screenshot("household-changes-supervisor")
    grid.locator("button.make-proposal").click()
    page.wait_for_load_state("networkidle")
    assert f"community={COMMUNITY}" in page.url and "proposal=" in page.url
    assert "已生成调整方案" in page.inner_text("body")


@pytest.mark.slow
def test_household_correction_made_offline_reaches_the_grid_and_the_supervisor(app, open_page):
    """Open /buildings online, lose the signal, reload, correct B0 with a note, reconnect:
    exactly one change is stored (even when the outbox sends it again) and every view shows it."""
    from gridmgmt.store.household_visits import HouseholdVisitStore
    from tests.webapp.test_browser_offline import field_app, pending, send_everything_again

    use_ledger_band(app)  # G1 holds 120 households, the band is 100–150
    ledger = HouseholdVisitStore(app.extensions["gridmgmt_store"])
    rp = field_app(open_page, "/buildings")
    page = rp.page
    layers_drawn = (
        "() => window.buildingsPage && document.querySelectorAll('#bmap path.leaflet-interactive')"
        ".length >= 4"
    )
    page.wait_for_function(layers_drawn)
    assert page.locator("#bottomnav a[aria-current=page]").inner_text().strip().endswith("房屋")

    page.context.set_offline(True)
    page.reload()  # no signal: the service worker answers with the page, its script and the layers
    page.wait_for_function(layers_drawn)
    page.wait_for_function("() => window.outboxUI")
    xy = page.evaluate(
        f"(() => {{ const p = window.buildingsPage.map.latLngToContainerPoint({list(CENTRE_OF_B0)});"
        " return {x: p.x, y: p.y}; })()"
    )
    page.locator("#bmap").tap(position=xy)
    page.wait_for_function("() => document.getElementById('b-id').textContent === 'B0'")
    assert page.inner_text("#b-households") == "30"
    page.fill("#v-households", "70")
    page.fill("#v-note", "离线走访：3单元新入住四十户")
    page.tap("#v-submit")
    page.wait_for_function(
        "() => document.getElementById('v-status').textContent.includes('待发送')"
    )
    assert pending(page) == 1
    assert "房屋台账" in page.inner_text("#outbox")
    rp.screenshot("buildings-offline-queued")
    assert ledger.changes().empty

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.querySelector('#outbox .outbox-count').textContent === '0'", timeout=20_000
    )
    # the answer reaches the open card: the building, its grid's total and band
    page.wait_for_function("() => document.getElementById('b-households').textContent === '70'")
    result = page.inner_text("#v-result")
    assert "30 → 70" in result and G1 in result and "160" in result and "超出范围" in result
    assert "已发送" in page.inner_text("#outbox")
    rp.screenshot("buildings-offline-sent")
    send_everything_again(page)  # the same Idempotency-Key: the server keeps the one change

    (change,) = ledger.changes().to_dict("records")
    assert change["building_id"] == "B0" and change["households"] == 70
    assert change["username"] == "worker" and change["note"] == "离线走访：3单元新入住四十户"
    building = page.evaluate("fetch('/api/v1/buildings/B0').then(r => r.json())")
    assert building["households"] == 70 and building["households_source"] == "visit"
    card = page.evaluate(f"fetch('/api/v1/grids/{G1}').then(r => r.json())")
    assert card["households"] == 160 and card["flag"] == "out_of_band"
    assert rp.foreign_requests() == []

    sp = open_page(viewport=(1280, 860))
    browser_login(sp, "supervisor", PASSWORD)
    sp.page.goto(sp.base_url + "/households/changes")
    text = sp.page.locator(f"#grid-{G1}").inner_text()
    assert "160" in text and "超出范围" in text and "30 → 70" in text
    assert text.count("离线走访：3单元新入住四十户") == 1 and "worker" in text
