"""``gridmgmt grids`` (history, proposals, approve, reject, rollback) on a stored 社区."""

from __future__ import annotations

from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.store.proposals import ProposalStore
from gridmgmt.store.repository import Store
from tests.factories import (
    COMMUNITY,
    LABELS,
    add_move_proposal,
    boundaries,
    buildings,
    partition_stored_blocks,
    small_grids,
)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stored(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    store.write_layers({"boundaries": boundaries(), "buildings": buildings(8)}, source="t")
    store.write_grid_version(COMMUNITY, small_grids().iloc[:2], LABELS)
    return store


def test_proposals_approve_history_rollback(tmp_path):
    store = stored(tmp_path)
    proposals = ProposalStore(store)
    first, second = add_move_proposal(proposals), add_move_proposal(proposals)
    w = ("--workdir", str(tmp_path))

    listed = run("grids", "proposals", "--community", "翠湖社区", *w)
    assert listed.exit_code == 0
    assert f"#{second} 翠湖社区 ({COMMUNITY}) move pending" in listed.output
    assert "2 buildings / 60 households" in listed.output

    ok = run("grids", "approve", str(first), "--by", "wang", *w)
    assert ok.exit_code == 0 and "grid version 2" in ok.output
    late = run("grids", "approve", str(second), *w)
    assert late.exit_code == 1 and "now at grid version 2" in late.output
    assert "superseded" in run("grids", "proposals", "--status", "superseded", *w).output

    back = run("grids", "rollback", "--community", COMMUNITY, *w)
    assert back.exit_code == 0 and "grid version 3" in back.output
    history = run("grids", "history", "--community", "翠湖社区", *w).output
    assert "v1: 2 grids" in history and "partition" in history
    assert "v2: 2 grids" in history and f"proposal {first} (move, by supervisor" in history
    assert "v3:" in history and "(rollback, by cli" in history and "current" in history
    assert store.current_grids(COMMUNITY)["version"].tolist() == [3, 3]

    third = add_move_proposal(proposals, base_version=3)
    assert run("grids", "reject", str(third), "--note", "no", *w).exit_code == 0
    assert proposals.proposal(third)["status"] == "rejected"
    unknown = run("grids", "history", "--community", "无此社区", *w)
    assert unknown.exit_code == 1 and "no 社区 named" in unknown.output
    store.dispose()


def test_rebalance_community_prints_report_and_proposal_then_approves(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    outcome = partition_stored_blocks(store)
    w = ("--workdir", str(tmp_path))
    band = ("--min", "300", "--max", "450")

    result = CliRunner().invoke(main, ["rebalance", "--community", outcome.name, *band, *w])
    assert result.exit_code == 0, result.output
    assert "households moved" in result.output and "out of band" in result.output
    assert "proposal 1:" in result.output and "pending; approve with" in result.output
    assert store.current_grids(outcome.code)["version"].unique().tolist() == [1]

    result = CliRunner().invoke(
        main, ["rebalance", "--community", outcome.code, "--approve", *band, *w]
    )
    assert result.exit_code == 0, result.output
    assert "proposal 2:" in result.output and "grid version 2" in result.output
    assert store.current_grids(outcome.code)["version"].unique().tolist() == [2]
    assert ProposalStore(store).proposal(2)["status"] == "approved"
    store.dispose()
