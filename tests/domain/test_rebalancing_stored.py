"""The automatic rebalance on a stored 社区, through a proposal, on SQLite and PostGIS."""

from __future__ import annotations

import shapely

from gridmgmt.domain.rebalancing import rebalance_stored
from gridmgmt.store.proposals import ProposalStore


def test_rebalance_stored_proposes_then_approves_a_new_version(partitioned):
    store, code = partitioned
    proposals = ProposalStore(store)
    before = store.current_grids(code)
    # a narrower band than the partition's puts grids out of band
    pending = rebalance_stored(store, proposals, code, min_households=300, max_households=450)
    assert pending.version is None
    p = proposals.proposal(pending.proposal_id)
    assert p["status"] == "pending" and p["kind"] == "auto" and p["base_version"] == 1
    assert len(p["moves"]) > 0
    assert store.current_grids(code)["version"].unique().tolist() == [1]

    done = rebalance_stored(
        store, proposals, code, approve=True, min_households=300, max_households=450
    )
    assert done.version == 2
    assert proposals.proposal(pending.proposal_id)["status"] == "superseded"
    after = store.current_grids(code)
    assert after["version"].unique().tolist() == [2]
    stored = store.read_layer("buildings").set_index("building_id")["grid_code"]
    moves = done.draft.moves.set_index("building_id")
    assert (stored[moves.index] == moves["to_code"]).all()
    # unchanged grids keep code and outline; codes of new grids were never used before
    old = dict(zip(before["code"], before.geometry, strict=True))
    added = set(after["code"]) - set(old)
    assert added.isdisjoint(old)
    kept = [c for c in after["code"] if c in old]
    assert kept, "the rebalance kept no grid"
    changed = set(done.draft.report["grids_changed"]) | added
    for c, geom in zip(after["code"], after.geometry, strict=True):
        if c not in changed:
            assert shapely.equals(geom, old[c]), c
    # every building still lies in a current grid of the 社区
    assert set(stored.dropna()) <= set(after["code"]) | set(store.current_grids()["code"])
    history = proposals.grid_versions(code)
    assert [h["version"] for h in history] == [1, 2]
    assert history[1]["proposal_id"] == done.proposal_id
