"""Grid proposals on SQLite and PostGIS: approve, history, rollback, codes, concurrency."""

from __future__ import annotations

import threading

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmgmt.domain import rebalancing as rb
from gridmgmt.domain.accounts import create_user
from gridmgmt.domain.errors import ConflictError
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import report_incident, transition_incident
from gridmgmt.domain.proposal_values import ProposalContent
from gridmgmt.store.proposals import ProposalStore
from tests.factories import (
    COMMUNITY,
    CRS,
    G1,
    G2,
    G3,
    LABELS,
    X0,
    Y0,
    add_move_proposal,
    boundaries,
    buildings,
    move_proposal_grids,
    small_grids,
)


def facilities():
    return gpd.GeoDataFrame(
        {
            "facility_id": ["F_moves", "F_stays", "F_other"],
            "category": ["school", "market", "clinic"],
            "name": ["小学", "菜市场", "诊所"],
        },
        geometry=[
            shapely.Point(X0 + 0.0006, Y0 + 0.0015),
            shapely.Point(X0 + 0.0002, Y0 + 0.0015),
            shapely.Point(X0 + 0.0025, Y0 + 0.0015),
        ],
        crs=CRS,
    )


@pytest.fixture
def stocked(store):
    """Two 社区 with grids (version 1), 8 buildings, 3 facilities, 3 incidents."""
    store.write_layers(
        {"boundaries": boundaries(), "buildings": buildings(8), "facilities": facilities()},
        source="t",
    )
    grids = small_grids()
    store.write_grid_version(COMMUNITY, grids.iloc[:2], LABELS)
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    from gridmgmt.domain.partitioning import assign_facilities

    assign_facilities(store)
    store.sync_categories(load_categories())
    kw = dict(category_code="11001", description="垃圾堆放", reporter="worker", photo_ids=["p"])
    open_moves, _ = report_incident(store, lon=X0 + 0.0006, lat=Y0 + 0.0015, **kw)
    closed, _ = report_incident(store, lon=X0 + 0.0006, lat=Y0 + 0.0012, **kw)
    transition_incident(store, closed["id"], "cancel", actor="s", role="supervisor", note="重复")
    open_stays, _ = report_incident(store, lon=X0 + 0.0002, lat=Y0 + 0.0012, **kw)
    return store, {"moves": open_moves["id"], "closed": closed["id"], "stays": open_stays["id"]}


def building_codes(store):
    b = store.read_layer("buildings")
    return dict(zip(b["building_id"], b["grid_code"], strict=True))


def test_proposal_round_trip(stocked):
    store, _ = stocked
    proposals = ProposalStore(store)
    pid = add_move_proposal(proposals)
    p = proposals.proposal(pid)
    assert p["status"] == "pending" and p["kind"] == "move" and p["base_version"] == 1
    assert p["community_name"] == "翠湖社区" and p["author"] == "supervisor"
    assert list(p["grids"]["code"]) == [G1, G2]
    assert p["grids"].geometry.iloc[0].equals(move_proposal_grids().geometry.iloc[0])
    assert list(p["moves"]["building_id"]) == ["B1", "B5"]
    assert p["report"]["violations"] == ["below_min"]
    assert p["totals"][0] == {"code": G1, "before": 120, "after": 60}
    listed = proposals.proposals(COMMUNITY)
    assert [x["id"] for x in listed] == [pid]
    assert listed[0]["buildings_moved"] == 2 and listed[0]["households_moved"] == 60
    # nothing changed in the grids by proposing
    assert store.current_grids(COMMUNITY)["version"].tolist() == [1, 1]
    assert building_codes(store)["B1"] == G1


def test_approve_writes_a_version_and_moves_only_affected_objects(stocked):
    store, incidents = stocked
    proposals = ProposalStore(store)
    before_v1 = store.current_grids(COMMUNITY)
    pid = add_move_proposal(proposals)

    version = rb.approve_proposal(store, proposals, pid, decided_by="supervisor")

    assert version == 2
    current = store.current_grids(COMMUNITY)
    assert current["version"].tolist() == [2, 2]
    assert current.geometry.iloc[0].equals(move_proposal_grids().geometry.iloc[0])
    # the old version stays queryable
    old = proposals.grids_of_version(COMMUNITY, 1)
    assert old.geometry.iloc[0].equals(before_v1.geometry.iloc[0])
    then = before_v1["valid_from"].iloc[0]
    assert store.grids_at(then, COMMUNITY)["version"].tolist() == [1, 1]
    # buildings, facilities, open incidents follow; closed incidents keep their grid
    codes = building_codes(store)
    assert codes["B1"] == G2 and codes["B5"] == G2 and codes["B0"] == G1 and codes["B2"] == G2
    f = store.read_layer("facilities").set_index("facility_id")["grid_code"]
    assert f["F_moves"] == G2 and f["F_stays"] == G1 and f["F_other"] == G3
    assert store.incident(incidents["moves"])["grid_code"] == G2
    assert store.incident(incidents["stays"])["grid_code"] == G1
    assert store.incident(incidents["closed"])["grid_code"] == G1
    # the proposal records the version it produced; history names it
    p = proposals.proposal(pid)
    assert p["status"] == "approved" and p["result_version"] == 2
    assert p["decided_by"] == "supervisor" and p["decided_at"] is not None
    history = proposals.grid_versions(COMMUNITY)
    assert [(h["version"], h["proposal_id"]) for h in history] == [(1, None), (2, pid)]
    assert history[0]["valid_to"] is not None and history[1]["valid_to"] is None
    # a decided proposal is not approved twice
    with pytest.raises(ConflictError, match="approved, not pending"):
        rb.approve_proposal(store, proposals, pid, decided_by="supervisor")


def test_reject_keeps_the_proposal(stocked):
    store, _ = stocked
    proposals = ProposalStore(store)
    pid = add_move_proposal(proposals)
    rb.reject_proposal(proposals, pid, decided_by="admin", note="户数不足")
    p = proposals.proposal(pid)
    assert p["status"] == "rejected" and p["decision_note"] == "户数不足"
    assert store.current_grids(COMMUNITY)["version"].tolist() == [1, 1]
    with pytest.raises(ConflictError, match="rejected"):
        rb.approve_proposal(store, proposals, pid, decided_by="supervisor")


def test_rollback_restores_the_previous_version_as_a_new_one(stocked):
    store, incidents = stocked
    proposals = ProposalStore(store)
    v1 = proposals.grids_of_version(COMMUNITY, 1)
    rb.approve_proposal(store, proposals, add_move_proposal(proposals), decided_by="supervisor")

    pid, version = rb.rollback(store, proposals, "翠湖社区", author="admin")

    assert version == 3
    current = store.current_grids(COMMUNITY)
    assert current["version"].tolist() == [3, 3]
    assert all(a.equals(b) for a, b in zip(current.geometry, v1.geometry, strict=True))
    assert building_codes(store) == LABELS  # every building back where it was
    f = store.read_layer("facilities").set_index("facility_id")["grid_code"]
    assert f["F_moves"] == G1
    assert store.incident(incidents["moves"])["grid_code"] == G1
    history = proposals.grid_versions(COMMUNITY)
    assert [h["version"] for h in history] == [1, 2, 3]  # never rewritten
    assert history[2]["proposal_kind"] == "rollback" and history[2]["author"] == "admin"
    assert proposals.proposal(pid)["moves"].set_index("building_id")["to_code"].to_dict() == {
        "B1": G1,
        "B5": G1,
    }
    with pytest.raises(ValueError, match="cannot roll back to version 7"):
        rb.rollback(store, proposals, COMMUNITY, author="admin", to_version=7)


def test_codes_are_stable_and_never_reused(stocked):
    store, _ = stocked
    proposals = ProposalStore(store)
    assert proposals.used_codes(COMMUNITY) == [G1, G2]
    # a merge retires G2 ...
    merged = small_grids().iloc[:1].copy()
    merged["geometry"] = [shapely.box(X0, Y0, X0 + 0.002, Y0 + 0.002)]
    merged["households"], merged["n_buildings"] = [240], [8]
    pid = proposals.add_proposal(
        ProposalContent(
            COMMUNITY,
            base_version=1,
            author="supervisor",
            kind="merge",
            grids=merged,
            moves=pd.DataFrame(
                {
                    "building_id": ["B2", "B3", "B6", "B7"],
                    "households": [30] * 4,
                    "from_code": [G2] * 4,
                    "to_code": [G1] * 4,
                }
            ),
            totals=[{"code": G1, "before": 120, "after": 240}, {"code": G2, "before": 120}],
            report={},
        )
    )
    create_user(store, "w2", "test-pass-1", "worker", grid_codes=[G2])
    create_user(store, "w1", "test-pass-1", "worker", grid_codes=[G1])
    rb.approve_proposal(store, proposals, pid, decided_by="supervisor")
    assert store.current_grids(COMMUNITY)["code"].tolist() == [G1]
    assert rb.retired_grid_workers(store, proposals, pid) == {G2: ["w2"]}
    # ... and stays among the used codes the engine must not hand out again
    assert proposals.used_codes(COMMUNITY) == [G1, G2]
    state = rb.load_community(store, proposals, COMMUNITY)
    assert state.used_codes == (G1, G2) and state.version == 2
    assert sorted(state.buildings["building_id"]) == [f"B{i}" for i in range(8)]


def test_second_approval_on_the_same_base_conflicts_and_keeps_the_proposal(stocked):
    store, _ = stocked
    proposals = ProposalStore(store)
    first = add_move_proposal(proposals, author="supervisor")
    second = add_move_proposal(proposals, author="admin")
    assert rb.approve_proposal(store, proposals, first, decided_by="supervisor") == 2
    with pytest.raises(ConflictError, match="now at grid version 2"):
        rb.approve_proposal(store, proposals, second, decided_by="admin")
    p = proposals.proposal(second)
    assert p["status"] == "superseded" and "version 2" in p["decision_note"]
    assert len(p["moves"]) == 2 and len(p["grids"]) == 2  # nothing lost
    assert [h["version"] for h in proposals.grid_versions(COMMUNITY)] == [1, 2]


def test_simultaneous_approvals_one_wins(stocked):
    """Two supervisors press approve at the same time: exactly one version is written."""
    store, _ = stocked
    proposals = ProposalStore(store)
    ids = [add_move_proposal(proposals, author=a) for a in ("supervisor", "admin")]
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(2)

    def run(pid):
        barrier.wait()
        try:
            outcomes[pid] = rb.approve_proposal(store, proposals, pid, decided_by=f"u{pid}")
        except ConflictError as exc:
            outcomes[pid] = exc

    threads = [threading.Thread(target=run, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    versions = [o for o in outcomes.values() if isinstance(o, int)]
    conflicts = [o for o in outcomes.values() if isinstance(o, ConflictError)]
    assert versions == [2] and len(conflicts) == 1
    assert "grid version 2" in str(conflicts[0])
    assert [h["version"] for h in proposals.grid_versions(COMMUNITY)] == [1, 2]
    assert store.current_grids(COMMUNITY)["version"].tolist() == [2, 2]
    statuses = sorted(proposals.proposal(pid)["status"] for pid in ids)
    assert statuses == ["approved", "superseded"]


def test_history_times_are_utc_aware(stocked):
    store, _ = stocked
    history = ProposalStore(store).grid_versions(COMMUNITY)
    assert history[0]["valid_from"].tzinfo is not None
    assert history[0]["valid_to"] is None


def test_a_superseded_proposal_is_redone_on_the_new_version(stocked):
    store, _ = stocked
    proposals = ProposalStore(store)
    state = rb.load_community(store, proposals, COMMUNITY)
    split = rb.propose(proposals, rb.draft_manual(state, "split", code=G1), author="admin")
    move = rb.propose(
        proposals,
        rb.draft_manual(state, "move", building_ids=["B2"], to_code=G1),
        author="supervisor",
    )
    assert rb.approve_proposal(store, proposals, move, decided_by="supervisor") == 2
    assert proposals.proposal(split)["status"] == "superseded"
    with pytest.raises(ValueError, match="only superseded"):
        rb.redo_proposal(store, proposals, move, author="admin")

    again = rb.redo_proposal(store, proposals, split, author="admin")

    redone = proposals.proposal(again)
    assert redone["kind"] == "split" and redone["base_version"] == 2
    assert redone["status"] == "pending"
    assert proposals.proposal(split)["status"] == "superseded"  # the old one is kept as it was
    assert rb.approve_proposal(store, proposals, again, decided_by="admin") == 3
    current = store.current_grids(COMMUNITY)
    assert len(current) == 3 and G1 in set(current["code"]) and G2 in set(current["code"])
    assert set(current["code"]) - {G1, G2} <= {"340705001001003"}  # new code after all used
    # the split was of G1 as it is now, holding B2 since version 2
    assert building_codes(store)["B2"] != G2


def test_propose_and_approve_is_one_transaction(stocked):
    store, incidents = stocked
    proposals = ProposalStore(store)
    state = rb.load_community(store, proposals, COMMUNITY)
    stale = rb.draft_manual(state, "split", code=G1)
    move = rb.draft_manual(state, "move", building_ids=["B1", "B5"], to_code=G2)

    pid, version = rb.propose_and_approve(store, proposals, move, author="cli")

    assert version == 2
    p = proposals.proposal(pid)
    assert p["status"] == "approved" and p["result_version"] == 2 and p["decided_by"] == "cli"
    assert building_codes(store)["B1"] == G2
    assert store.incident(incidents["moves"])["grid_code"] == G2  # affected objects follow
    # made on version 1, now at 2: refused, and neither a proposal nor a version is left
    with pytest.raises(ConflictError, match="now at grid version 2"):
        rb.propose_and_approve(store, proposals, stale, author="cli")
    assert [x["id"] for x in proposals.proposals(COMMUNITY)] == [pid]
    assert [h["version"] for h in proposals.grid_versions(COMMUNITY)] == [1, 2]
