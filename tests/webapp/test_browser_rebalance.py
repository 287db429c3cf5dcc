"""A supervisor moves a building to the neighbouring grid and approves it, in real Chromium."""

from __future__ import annotations

from gridmgmt.store.proposals import ProposalStore
from tests.factories import G1, G2
from tests.webapp.sessions import PASSWORD, browser_login

COMMUNITY = "340705001001"


def test_supervisor_moves_a_building_and_approves(app, open_page):
    store = app.extensions["gridmgmt_store"]
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    page.click("a[href='/rebalance/']")
    page.wait_for_selector("#rb-map[data-loaded]")
    assert page.locator("path[data-grid]").count() == 2
    assert page.locator("path[data-building]").count() == 8

    page.click(".rb-op[data-op=move]")
    page.click("path[data-building='B1']")
    assert "30" in page.inner_text("#rb-selection") and G1 in page.inner_text("#rb-selection")
    # the target is picked on the map among the grids adjacent to the building; none preselected
    page.wait_for_selector(f"path[data-grid='{G2}'].rb-offered")
    assert page.eval_on_selector("#rb-target", "s => [...s.options].map(o => o.value)") == ["", G2]
    assert page.eval_on_selector("#rb-target", "s => s.value") == ""
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    assert page.eval_on_selector("#rb-target", "s => s.value") == G2
    # the live check: per-grid totals before/after from the server
    page.wait_for_selector(f"#rb-check tr.rb-total[data-code='{G1}']")
    g1 = page.inner_text(f"#rb-check tr.rb-total[data-code='{G1}']")
    g2 = page.inner_text(f"#rb-check tr.rb-total[data-code='{G2}']")
    assert "120" in g1 and "90" in g1, g1  # 4 buildings of 30 households, one leaves
    assert "120" in g2 and "150" in g2, g2
    assert page.is_enabled("#rb-save")
    rp.screenshot("rebalance-move-checked")

    page.click("#rb-save")
    page.wait_for_url("**proposal=*")
    page.wait_for_selector("#rb-diff tr.rb-move")
    assert [c.strip() for c in page.inner_text("#rb-diff tr.rb-move").split("\t")] == [
        "B1",
        "30",
        G1,
        G2,
    ]
    (pending,) = ProposalStore(store).proposals(COMMUNITY, status="pending")
    assert pending["kind"] == "move" and pending["author"] == "supervisor"
    assert store.current_grids(COMMUNITY)["version"].tolist() == [1, 1]  # nothing written yet
    rp.screenshot("rebalance-proposal-diff")

    page.click(f"tr.rb-proposal[data-id='{pending['id']}'] button.rb-approve")
    page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    assert "新网格版本 2" in page.inner_text(".flash")
    assert store.current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    codes = store.read_layer("buildings").set_index("building_id")["grid_code"]
    assert codes["B1"] == G2 and codes["B0"] == G1
    assert ProposalStore(store).proposal(pending["id"])["result_version"] == 2
    assert "v2" in page.inner_text("#rb-history")
    rp.screenshot("rebalance-approved")
    assert rp.foreign_requests() == []


def test_supervisor_merges_two_grids_and_approves(app, open_page):
    store = app.extensions["gridmgmt_store"]
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + f"/rebalance/?community={COMMUNITY}")
    page.wait_for_selector("#rb-map[data-loaded]")
    page.click(".rb-op[data-op=merge]")
    page.click(f"path[data-grid='{G1}']", position={"x": 20, "y": 20})
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    page.wait_for_selector(f"#rb-check tr.rb-total[data-code='{G2}']")
    assert "240" in page.inner_text(f"#rb-check tr.rb-total[data-code='{G1}']")
    assert "撤销" in page.inner_text(f"#rb-check tr.rb-total[data-code='{G2}']")
    assert "240" in page.inner_text("#rb-check .rb-violations")  # below the band: shown, not hidden
    rp.screenshot("rebalance-merge-checked")
    page.click("#rb-save")
    page.wait_for_url("**proposal=*")
    page.wait_for_selector("#rb-diff tr.rb-move")
    assert page.locator("#rb-diff tr.rb-move").count() == 4
    (pending,) = ProposalStore(store).proposals(COMMUNITY, status="pending")
    page.click(f"tr.rb-proposal[data-id='{pending['id']}'] button.rb-approve")
    page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    assert store.current_grids(COMMUNITY)["code"].tolist() == [G1]
    assert set(store.read_layer("buildings")["grid_code"]) == {G1}
    assert rp.foreign_requests() == []


def test_supervisor_moves_a_whole_compound(app, open_page):
    store = app.extensions["gridmgmt_store"]
    b = store.read_layer("buildings")
    b.loc[b["building_id"].isin(["B1", "B5"]), "compound_id"] = "C2"  # a 小区 of two buildings
    store.write_layers({"buildings": b.drop(columns="id")}, source="t", replace=True)
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    page.goto(rp.base_url + f"/rebalance/?community={COMMUNITY}")
    page.wait_for_selector("#rb-map[data-loaded]")
    page.click(".rb-op[data-op=move]")
    page.check("#rb-whole-compound")
    page.click("path[data-building='B1']")
    assert "已选建筑 2 · 60 户" in page.inner_text("#rb-selection")
    page.wait_for_selector(f"path[data-grid='{G2}'].rb-offered")
    page.click(f"path[data-grid='{G2}']", position={"x": 20, "y": 20})
    page.wait_for_selector(f"#rb-check tr.rb-total[data-code='{G2}']")
    assert "180" in page.inner_text(f"#rb-check tr.rb-total[data-code='{G2}']")
    rp.screenshot("rebalance-compound-checked")
    page.click("#rb-save")
    page.wait_for_url("**proposal=*")
    page.wait_for_selector("#rb-diff tr.rb-move")
    (pending,) = ProposalStore(store).proposals(COMMUNITY, status="pending")
    assert sorted(ProposalStore(store).proposal(pending["id"])["moves"]["building_id"]) == [
        "B1",
        "B5",
    ]
    page.click(f"tr.rb-proposal[data-id='{pending['id']}'] button.rb-approve")
    page.click("#rb-confirm-ok")
    page.wait_for_selector(".flash")
    codes = store.read_layer("buildings").set_index("building_id")["grid_code"]
    assert codes["B1"] == G2 and codes["B5"] == G2 and codes["B0"] == G1
    assert store.current_grids(COMMUNITY)["version"].tolist() == [2, 2]
