"""The supervisor's rebalance page in real Chromium: confirmations, target picking, live labels."""

from __future__ import annotations

from gridmgmt.store.proposals import ProposalStore
from tests.factories import COMMUNITY, G1, G2, add_move_proposal
from tests.webapp.sessions import PASSWORD, browser_login


def _open(open_page):
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    rp.page.goto(rp.base_url + f"/rebalance/?community={COMMUNITY}")
    rp.page.wait_for_selector("#rb-map[data-loaded]")
    return rp


def _label(page, code: str) -> str:
    return page.get_attribute(f"span[data-label='{code}']", "data-households")


def test_confirmations_guard_approve_reject_and_rollback(app, open_page):
    store = app.extensions["gridmgmt_store"]
    proposals = ProposalStore(store)
    first = add_move_proposal(proposals)
    rejected = add_move_proposal(proposals)
    stale = add_move_proposal(proposals)
    rp = _open(open_page)
    page = rp.page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # newest first
    ids = [
        int(x)
        for x in page.eval_on_selector_all("tr.rb-proposal", "rs => rs.map(r => r.dataset.id)")
    ]
    assert ids == sorted(ids, reverse=True) == [stale, rejected, first]

    # 驳回: dismissing (Escape) does nothing; accepting rejects, with the note typed in the dialog
    page.click(f"tr.rb-proposal[data-id='{rejected}'] button.rb-reject")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    body = page.inner_text("#rb-confirm-dialog")
    assert f"方案 #{rejected}" in body and "60 户改换网格员" in body, body
    assert f"{G1} → {G2}" in body and "不写入新的网格版本" in body, body
    page.keyboard.press("Escape")
    page.wait_for_selector("#rb-confirm-dialog", state="hidden")
    page.wait_for_timeout(300)
    assert proposals.proposal(rejected)["status"] == "pending"
    page.click(f"tr.rb-proposal[data-id='{rejected}'] button.rb-reject")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    page.fill("#rb-confirm-note", "户数不合适")
    with page.expect_navigation():  # the decision's own flash, not the one of the step before
        page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    assert proposals.proposal(rejected)["status"] == "rejected"
    assert proposals.proposal(rejected)["decision_note"] == "户数不合适"

    # 批准: the dialog names the proposal, who changes 网格员 and the version to be written
    page.wait_for_selector("#rb-map[data-loaded]")
    page.click(f"tr.rb-proposal[data-id='{first}'] button.rb-approve")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    body = page.inner_text("#rb-confirm-dialog")
    assert f"批准 方案 #{first}" in body and "60 户改换网格员 (2 栋)" in body, body
    assert f"{G1} → {G2}: 2 栋 / 60户" in body and "将写入网格版本 v2" in body, body
    rp.screenshot("rebalance-confirm-approve")
    page.click("#rb-confirm-cancel")
    page.wait_for_timeout(300)
    assert proposals.proposal(first)["status"] == "pending"
    assert store.current_grids(COMMUNITY)["version"].tolist() == [1, 1]
    page.click(f"tr.rb-proposal[data-id='{first}'] button.rb-approve")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    with page.expect_navigation():  # the decision's own flash, not the one of the step before
        page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    assert "新网格版本 2" in page.inner_text(".flash")
    assert store.current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    # the other pending one is superseded, marked so, its note in Chinese
    row = page.inner_text(f"tr.rb-proposal[data-id='{stale}']")
    assert "已被取代" in row
    assert page.locator(f"tr.rb-proposal[data-id='{stale}'] .rb-superseded").count() == 1
    assert f"已被网格版本 2 取代（方案 #{first}）" in page.inner_text("#rb-proposals")
    assert "superseded by" not in page.inner_text("#rb-proposals")

    # 回退: names both versions, the households that move back, the version written
    page.wait_for_selector("#rb-map[data-loaded]")
    page.click("#rb-rollback")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    body = page.inner_text("#rb-confirm-dialog")
    assert "v2 → v1" in body and f"{G2} → {G1}: 2 栋 / 60户" in body, body
    assert "将写入网格版本 v3" in body, body
    page.click("#rb-confirm-cancel")
    page.wait_for_timeout(300)
    assert store.current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    page.click("#rb-rollback")
    page.wait_for_selector("#rb-confirm-dialog[open]")
    with page.expect_navigation():  # the decision's own flash, not the one of the step before
        page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    assert store.current_grids(COMMUNITY)["version"].tolist() == [3, 3]
    codes = store.read_layer("buildings").set_index("building_id")["grid_code"]
    assert codes["B1"] == G1 and codes["B5"] == G1
    assert errors == []
    assert rp.foreign_requests() == []


def test_target_is_picked_on_the_map_among_adjacent_grids_and_labels_follow(app, open_page):
    rp = _open(open_page)
    page = rp.page
    assert _label(page, G1) == "120" and _label(page, G2) == "120"
    page.click(".rb-op[data-op=move]")
    # B0 lies west of B1: no grid borders it, so none is offered and nothing can be saved
    page.click("path[data-building='B0']")
    page.wait_for_selector("#rb-target-hint:has-text('没有可移入的相邻网格')")
    assert page.eval_on_selector("#rb-target", "s => [...s.options].map(o => o.value)") == [""]
    assert page.locator("path.rb-offered").count() == 0
    assert _label(page, G1) == "90"  # the label follows the selection at once
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    assert page.eval_on_selector("#rb-target", "s => s.value") == ""
    assert page.is_disabled("#rb-save")
    page.click("#rb-clear")
    assert _label(page, G1) == "120"

    page.click("path[data-building='B1']")
    page.wait_for_selector(f"path[data-grid='{G2}'].rb-offered")
    assert page.eval_on_selector("#rb-target", "s => s.value") == ""  # no preselection
    assert _label(page, G1) == "90" and _label(page, G2) == "120"
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    assert _label(page, G2) == "150"
    page.wait_for_selector(f"#rb-check tr.rb-total[data-code='{G2}']")
    assert page.inner_text(f"span[data-label='{G1}']").endswith("120 → 90户")
    assert page.inner_text(f"span[data-label='{G2}']").endswith("120 → 150户")
    page.click("path[data-building='B5']")  # a second building: labels follow again
    page.wait_for_selector(f"path[data-grid='{G2}'].rb-offered")
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    assert _label(page, G1) == "60" and _label(page, G2) == "180"
    rp.screenshot("rebalance-live-labels")


def test_messages_follow_the_page_language(app, open_page):
    rp = _open(open_page)
    page = rp.page
    page.click(".rb-op[data-op=merge]")
    page.click(f"path[data-grid='{G1}']", position={"x": 20, "y": 20})
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    page.wait_for_selector("#rb-check .rb-violations")
    text = page.inner_text("#rb-check .rb-violations")
    assert "户，低于范围" in text and "households" not in text, text
    page.goto(rp.base_url + f"/rebalance/?community={COMMUNITY}&lang=en")
    page.wait_for_selector("#rb-map[data-loaded]")
    page.click(".rb-op[data-op=merge]")
    page.click(f"path[data-grid='{G1}']", position={"x": 20, "y": 20})
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    page.wait_for_selector("#rb-check .rb-violations")
    assert "households, below the band" in page.inner_text("#rb-check .rb-violations")
