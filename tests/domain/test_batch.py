"""City-scale batches: every 社区 as a task, serially or on Dask, with per-社区 errors."""

from __future__ import annotations

import sys
import time

import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.domain.batch import BatchItem, BatchSetupError, run_batch
from gridmgmt.domain.partitioning import partition_stored, reassign_stored
from gridmgmt.domain.rebalance_all import rebalance_all
from gridmgmt.store.proposals import ProposalStore
from gridmgmt.store.repository import Store
from gridmgmt.synthetic import generate_street

LAYERS = ("boundaries", "compounds", "buildings", "roads", "facilities")
CLOSED_PORT = "tcp://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(scope="module")
def street():
    """A small generated 街道 of four 社区 (about 3,000 households each)."""
    return generate_street(2, n_communities=4, target_households=12_000)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two worker processes, shared by the tests that use --scheduler."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def fill(store, street):
    store.write_layers({name: getattr(street, name) for name in LAYERS}, source="street")
    return store


def sqlite_store(path, street):
    return fill(Store(f"sqlite:///{path}"), street)


def grid_table(store):
    grids = store.current_grids().sort_values("code")
    return grids[["code", "kind", "households", "n_buildings"]].to_numpy().tolist(), list(
        grids.geometry.values
    )


def building_codes(store):
    b = store.read_layer("buildings").sort_values("building_id")
    return b[["building_id", "grid_code"]].to_numpy().tolist()


def same_geometries(a, b, tolerance=0.0):
    return len(a) == len(b) and all(
        shapely.equals_exact(x, y, tolerance=tolerance) for x, y in zip(a, b, strict=True)
    )


def test_dask_runs_give_the_serial_grids_proposals_and_codes(tmp_path, street, cluster):
    serial = sqlite_store(tmp_path / "serial.db", street)
    on_dask = sqlite_store(tmp_path / "dask.db", street)
    address = cluster.scheduler_address

    one = partition_stored(serial, show_bar=False)
    two = partition_stored(on_dask, scheduler=address, show_bar=False)
    assert not one.failures and not two.failures and len(one.outcomes) == 4
    assert [o.code for o in one.outcomes] == [o.code for o in two.outcomes]
    (rows1, geoms1), (rows2, geoms2) = grid_table(serial), grid_table(on_dask)
    assert rows1 == rows2 and same_geometries(geoms1, geoms2)
    assert building_codes(serial) == building_codes(on_dask)

    band = {"min_households": 300, "max_households": 420}
    r1 = rebalance_all(serial, ProposalStore(serial), approve=True, show_bar=False, **band)
    r2 = rebalance_all(
        on_dask, ProposalStore(on_dask), approve=True, scheduler=address, show_bar=False, **band
    )
    assert not r1.failures and not r2.failures and list(r1.outcomes) == list(r2.outcomes)
    for code, done in r1.outcomes.items():
        other = r2.outcomes[code]
        assert done.version == other.version
        assert done.draft.moves.equals(other.draft.moves)
    (rows1, geoms1), (rows2, geoms2) = grid_table(serial), grid_table(on_dask)
    assert rows1 == rows2 and same_geometries(geoms1, geoms2)

    # stale codes are recomputed from the grids, the same on both paths
    for store in (serial, on_dask):
        ids = store.read_layer("buildings")["building_id"].head(40)
        store.set_grid_codes("buildings", {i: None for i in ids})
    a1 = reassign_stored(serial, show_bar=False)
    a2 = reassign_stored(on_dask, scheduler=address, show_bar=False)
    assert a1.placed == a2.placed and a1.placed["buildings"] > 0
    assert building_codes(serial) == building_codes(on_dask)
    assert all(code is not None for _, code in building_codes(serial))


def test_dask_on_postgis_matches_serial_on_sqlite(tmp_path, street, cluster, postgis_url):
    serial = sqlite_store(tmp_path / "serial.db", street)
    on_dask = fill(Store(postgis_url), street)
    try:
        partition_stored(serial, show_bar=False)
        run = partition_stored(on_dask, scheduler=cluster.scheduler_address, show_bar=False)
        assert not run.failures
        (rows1, geoms1), (rows2, geoms2) = grid_table(serial), grid_table(on_dask)
        assert rows1 == rows2 and same_geometries(geoms1, geoms2, tolerance=1e-9)
        assert building_codes(serial) == building_codes(on_dask)
    finally:
        on_dask.dispose()


def break_community(store, street, position: int) -> str:
    """Store a self-intersecting footprint (no import would take it) in a 社区; its code."""
    community = street.boundaries[street.boundaries["level"] == "community"].iloc[position]
    x, y = community.geometry.representative_point().coords[0]
    d = 0.0003
    bowtie = shapely.Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d)])
    bad = street.buildings.iloc[:1].copy()
    bad["building_id"] = "BROKEN1"
    store.write_layers({"buildings": bad.set_geometry([bowtie], crs=4326)}, source="bad edit")
    return community["code"]


def test_a_broken_community_is_reported_and_the_others_are_written(tmp_path, street, cluster):
    store = sqlite_store(tmp_path / "s.db", street)
    broken = break_community(store, street, 1)
    run = partition_stored(store, scheduler=cluster.scheduler_address, show_bar=False)
    assert [f.item.key for f in run.failures] == [broken]
    assert run.failures[0].step == "compute"
    assert "TopologyException" in run.failures[0].error
    assert broken in run.summary() and "3 社区 partitioned, 1 failed" in run.summary()
    codes = set(store.admin_areas("community")["code"])
    written = set(store.current_grids()["community_code"])
    assert written == codes - {broken}  # nothing of the broken one
    assert len(written) == 3


def test_cli_partition_all_on_a_local_cluster_exits_nonzero_on_a_failure(tmp_path, street):
    pytest.importorskip("dask.distributed")
    workdir = tmp_path / "w"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--workdir", str(workdir)]).exit_code == 0
    store = fill(Store(f"sqlite:///{workdir / 'gridmgmt.db'}"), street)
    code = break_community(store, street, 0)
    result = runner.invoke(
        main, ["partition", "--all", "--workers", "2", "--workdir", str(workdir)]
    )
    assert result.exit_code == 1, result.output
    assert "3 社区 partitioned, 1 failed" in result.output
    assert f"({code}): compute failed" in result.output
    assert code not in set(store.current_grids()["community_code"])
    assert len(set(store.current_grids()["community_code"])) == 3


def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path, street):
    pytest.importorskip("dask.distributed")
    store = sqlite_store(tmp_path / "s.db", street)
    started = time.monotonic()
    with pytest.raises(BatchSetupError, match="no Dask scheduler answered at tcp://127.0.0.1:9"):
        partition_stored(store, scheduler=CLOSED_PORT, show_bar=False)
    assert time.monotonic() - started < 20
    assert len(store.current_grids()) == 0


def test_cli_unreachable_scheduler_and_missing_dask(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    workdir = str(tmp_path / "w")
    runner = CliRunner()
    started = time.monotonic()
    result = runner.invoke(
        main, ["partition", "--all", "--scheduler", CLOSED_PORT, "--workdir", workdir]
    )
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert f"no Dask scheduler answered at {CLOSED_PORT} within 5 s" in result.output
    assert "Nothing was written" in result.output

    for name in ("dask", "dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import dask.distributed -> ImportError
    with pytest.raises(BatchSetupError, match=r"pip install 'gridmgmt\[dask\]'"):
        run_batch([BatchItem("a", "a")], lambda k: (), lambda: 1, lambda k, r: r, workers=2)
    for command in (["partition", "--all"], ["rebalance", "--all"], ["assign", "--stored"]):
        result = runner.invoke(main, [*command, "--workers", "2", "--workdir", workdir])
        assert result.exit_code == 1
        assert "Dask is not installed: install the extra with" in result.output


def test_serial_batch_collects_errors_of_each_step():
    def prepare(key):
        if key == "read":
            raise ValueError("bad input")
        return (key,)

    def compute(key):
        if key == "compute":
            raise ZeroDivisionError("division by zero")
        return key.upper()

    def write(key, result):
        if key == "write":
            raise RuntimeError("disk full")
        return result

    items = [BatchItem(k, f"社区 {k}") for k in ("ok", "read", "compute", "write", "fine")]
    outcome = run_batch(items, prepare, compute, write, progress=False)
    assert outcome.written == {"ok": "OK", "fine": "FINE"}
    assert [(f.item.key, f.step) for f in outcome.failures] == [
        ("read", "read"),
        ("compute", "compute"),
        ("write", "write"),
    ]
    assert "社区 compute: compute failed: ZeroDivisionError: division by zero" in outcome.summary()
    assert not outcome.ok


def test_cli_serial_partition_rebalance_and_assign_all(tmp_path, street):
    workdir = tmp_path / "w"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--workdir", str(workdir)]).exit_code == 0
    store = fill(Store(f"sqlite:///{workdir / 'gridmgmt.db'}"), street)
    result = runner.invoke(main, ["partition", "--all", "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    assert "4 社区 partitioned, 0 failed" in result.output
    result = runner.invoke(
        main,
        ["rebalance", "--all", "--approve", "--min", "300", "--workdir", str(workdir)],
    )
    assert result.exit_code == 0, result.output
    assert "4 社区 rebalanced (4 approved), 0 failed" in result.output
    assert set(store.current_grids()["version"]) == {2}
    result = runner.invoke(main, ["assign", "--stored", "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    assert f"buildings: {len(store.read_layer('buildings'))} placed in a grid" in result.output
    wrong = runner.invoke(main, ["rebalance", "--workers", "2", "--workdir", str(workdir)])
    assert wrong.exit_code == 2 and "--workers/--scheduler work with --all" in wrong.output


def test_rebalance_all_approve_leaves_nothing_of_a_community_that_fails_mid_approval(
    tmp_path, street, monkeypatch
):
    import gridmgmt.store.proposals as proposal_store

    store = sqlite_store(tmp_path / "s.db", street)
    assert not partition_stored(store, show_bar=False).failures
    proposals = ProposalStore(store)
    codes = sorted(set(store.current_grids()["community_code"]))
    doomed = codes[1]
    write_version = proposal_store.write_grid_version_in

    def fails_after_writing_the_grids(session, community_code, *args, **kwargs):
        version = write_version(session, community_code, *args, **kwargs)
        if community_code == doomed:  # the grids are in the session: fail before the commit
            raise OSError("disk I/O error")
        return version

    monkeypatch.setattr(proposal_store, "write_grid_version_in", fails_after_writing_the_grids)
    band = {"min_households": 300, "max_households": 420}
    run = rebalance_all(store, proposals, approve=True, show_bar=False, **band)

    assert [(f.item.key, f.step) for f in run.failures] == [(doomed, "write")]
    assert "disk I/O error" in run.failures[0].error
    assert sorted(run.outcomes) == [c for c in codes if c != doomed]
    assert proposals.proposals(doomed) == []  # no pending proposal left behind
    grids = store.current_grids()
    versions = grids.groupby("community_code")["version"].agg(set).to_dict()
    assert versions == {c: ({1} if c == doomed else {2}) for c in codes}
