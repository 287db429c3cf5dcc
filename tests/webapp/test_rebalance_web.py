"""The grid rebalancing pages: roles, CSRF, proposals, approval, history, rollback."""

from __future__ import annotations

import pytest

from gridmgmt.store.proposals import ProposalStore
from tests.factories import G1, G2, add_move_proposal
from tests.webapp.sessions import csrf_token

COMMUNITY = "340705001001"


def store_of(app):
    return app.extensions["gridmgmt_store"]


@pytest.mark.parametrize("role", ["worker", "analyst", "dept"])
def test_other_roles_cannot_see_or_decide(app, as_role, role):
    pid = add_move_proposal(ProposalStore(store_of(app)))
    client = as_role(role)
    token = csrf_token(client, "/map")
    assert client.get("/rebalance/").status_code == 403
    assert client.get(f"/rebalance/api/{COMMUNITY}/state").status_code == 403
    assert client.get(f"/rebalance/api/proposals/{pid}").status_code == 403
    for path in (
        f"/rebalance/proposals/{pid}/approve",
        f"/rebalance/proposals/{pid}/reject",
        f"/rebalance/proposals/{pid}/redo",
        f"/rebalance/{COMMUNITY}/rollback",
        f"/rebalance/{COMMUNITY}/auto",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    response = client.post(
        f"/rebalance/api/{COMMUNITY}/preview",
        json={"op": "split", "code": G1},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 403
    assert ProposalStore(store_of(app)).proposal(pid)["status"] == "pending"
    assert store_of(app).current_grids(COMMUNITY)["version"].tolist() == [1, 1]


def test_anonymous_is_sent_to_login(client):
    response = client.get("/rebalance/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_posts_need_the_csrf_token(app, as_role):
    pid = add_move_proposal(ProposalStore(store_of(app)))
    client = as_role("supervisor")
    assert client.post(f"/rebalance/proposals/{pid}/approve").status_code == 400
    response = client.post(f"/rebalance/api/{COMMUNITY}/preview", json={"op": "split", "code": G1})
    assert response.status_code == 400
    assert ProposalStore(store_of(app)).proposal(pid)["status"] == "pending"


def test_page_lists_proposals_and_state_has_neighbours(app, as_role):
    pid = add_move_proposal(ProposalStore(store_of(app)))
    client = as_role("supervisor")
    html = client.get(f"/rebalance/?community={COMMUNITY}").get_data(as_text=True)
    assert "调整方案" in html and f'data-id="{pid}"' in html and "待审批" in html
    assert "版本历史" in html and 'data-version="1"' in html
    state = client.get(f"/rebalance/api/{COMMUNITY}/state").get_json()
    assert state["version"] == 1
    assert state["neighbours"] == {G1: [G2], G2: [G1]}
    assert len(state["buildings"]["features"]) == 8
    diff = client.get(f"/rebalance/api/proposals/{pid}").get_json()
    assert [m["building_id"] for m in diff["moves"]] == ["B1", "B5"]
    assert len(diff["grids"]["features"]) == 2 and len(diff["base_grids"]["features"]) == 2
    english = client.get(f"/rebalance/?community={COMMUNITY}&lang=en").get_data(as_text=True)
    assert "Proposals" in english and "Version history" in english


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_supervisor_approves_then_admin_rolls_back(app, client, as_role):
    proposals = ProposalStore(store_of(app))
    pid = add_move_proposal(proposals)
    other = add_move_proposal(proposals, author="admin")
    as_role("supervisor")
    token = csrf_token(client, "/map")
    response = client.post(f"/rebalance/proposals/{pid}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    assert store_of(app).current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    assert proposals.proposal(pid)["decided_by"] == "supervisor"
    # the other proposal was made on version 1: approving it names version 2, and it is kept
    response = client.post(
        f"/rebalance/proposals/{other}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert "现为版本 2" in response.get_data(as_text=True)  # in the page's language
    assert proposals.proposal(other)["status"] == "superseded"
    assert store_of(app).current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    page = client.get(f"/rebalance/?community={COMMUNITY}").get_data(as_text=True)
    assert f'action="/rebalance/proposals/{other}/redo"' in page
    # redoing it on version 2 is refused: its buildings are in the target grid already
    response = client.post(
        f"/rebalance/proposals/{other}/redo", data={"csrf_token": token}, follow_redirects=True
    )
    assert "所选建筑已在网格" in response.get_data(as_text=True)  # the engine's words, in Chinese
    assert len(proposals.proposals(COMMUNITY)) == 2

    client.post("/logout", data={"csrf_token": token})
    as_role("admin")
    token = csrf_token(client, "/map")
    response = client.post(f"/rebalance/{COMMUNITY}/rollback", data={"csrf_token": token})
    assert response.status_code == 302
    assert store_of(app).current_grids(COMMUNITY)["version"].tolist() == [3, 3]
    history = proposals.grid_versions(COMMUNITY)
    assert [h["proposal_kind"] for h in history] == [None, "move", "rollback"]
    buildings = store_of(app).read_layer("buildings").set_index("building_id")["grid_code"]
    assert buildings["B1"] == G1 and buildings["B5"] == G1


def test_reject(app, client, as_role):
    proposals = ProposalStore(store_of(app))
    pid = add_move_proposal(proposals)
    as_role("admin")
    token = csrf_token(client, "/map")
    response = client.post(
        f"/rebalance/proposals/{pid}/reject", data={"csrf_token": token, "note": "不合理"}
    )
    assert response.status_code == 302
    p = proposals.proposal(pid)
    assert (
        p["status"] == "rejected" and p["decided_by"] == "admin" and p["decision_note"] == "不合理"
    )


@pytest.mark.parametrize("keep", [False, True])
def test_auto_rebalance_becomes_a_pending_proposal(app, as_role, keep):
    client = as_role("supervisor")
    token = csrf_token(client, "/map")
    page = client.get(f"/rebalance/?community={COMMUNITY}").get_data(as_text=True)
    assert 'name="keep_compounds"' in page and "不拆分小区" in page
    data = {"csrf_token": token, **({"keep_compounds": "1"} if keep else {})}
    response = client.post(f"/rebalance/{COMMUNITY}/auto", data=data, follow_redirects=True)
    assert response.status_code == 200 and "已生成调整方案" in response.get_data(as_text=True)
    (p,) = ProposalStore(store_of(app)).proposals(COMMUNITY)
    assert p["kind"] == "auto" and p["status"] == "pending" and p["author"] == "supervisor"
    assert p["created_at"].tzinfo is not None
    assert store_of(app).current_grids(COMMUNITY)["version"].tolist() == [1, 1]


def test_preview_refuses_bad_input_and_stale_versions(app, as_role):
    client = as_role("supervisor")
    token = csrf_token(client, "/map")
    post = lambda body: client.post(  # noqa: E731
        f"/rebalance/api/{COMMUNITY}/preview", json=body, headers={"X-CSRFToken": token}
    )
    assert post({"op": "explode"}).status_code == 400
    unknown = post({"op": "split", "code": "999"})
    assert unknown.status_code == 400 and "999" in unknown.get_json()["error"]
    stale = post({"op": "split", "code": G1, "base_version": 0})
    assert stale.status_code == 409 and "网格版本 1" in stale.get_json()["error"]
    merged = post({"op": "merge", "codes": [G1, G2], "base_version": 1}).get_json()
    assert merged["totals"] == [
        {"code": G1, "before": 120, "after": 240},
        {"code": G2, "before": 120, "after": None},
    ]
    assert any("240" in v for v in merged["violations"])
    assert not ProposalStore(store_of(app)).proposals(COMMUNITY)  # a preview stores nothing
