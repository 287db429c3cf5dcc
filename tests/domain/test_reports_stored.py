"""Workload, 考核 and exports from the store (SQLite and PostGIS), and their CLI."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from gridmgmt.cli import main
from gridmgmt.demo.incidents import generate_incident_month
from gridmgmt.domain.assessment import area_assessment
from gridmgmt.domain.errors import ForbiddenError, NotFoundError
from gridmgmt.domain.exporting import collect, export_data
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.calendar import SHANGHAI
from gridmgmt.domain.partitioning import partition_communities
from gridmgmt.domain.workload import area_workload
from gridmgmt.synthetic.street import generate_street

END = datetime(2026, 11, 20, tzinfo=SHANGHAI)
START = datetime(2026, 11, 6, tzinfo=SHANGHAI)


def build(store) -> None:
    street = generate_street(seed=0)
    store.write_layers({layer: getattr(street, layer) for layer in street.LAYERS}, source="t")
    partition_communities(store, seed=0)
    store.sync_categories(load_categories())
    generate_incident_month(store, seed=1, end=END, days=28, per_day=4)


@pytest.fixture
def filled(store):
    build(store)
    return store


def test_workload_counts_agree_with_the_store(filled):
    rep = area_workload(filled, START, END, community="翠湖社区")
    t = rep.table.set_index("code")
    grids = filled.current_grids("340705001001").set_index("code")
    assert sorted(t.index) == sorted(grids.index)
    assert (t["households"] == grids["households"].reindex(t.index)).all()
    incidents = filled.incidents()
    created = incidents["created_at"].dt.tz_convert(SHANGHAI)
    mine = incidents[incidents["grid_code"].isin(t.index) & (created >= START) & (created < END)]
    assert t["incidents"].sum() == len(mine) > 0
    assert t["workload_index"].mean() == pytest.approx(1.0, abs=0.01)
    assert t["far_above_neighbours"].dtype == bool
    with pytest.raises(NotFoundError, match="no 社区 named"):
        area_workload(filled, START, END, community="无此社区")
    with pytest.raises(ValueError, match="not before its end"):
        area_workload(filled, END, START)


def test_assessment_ranks_communities_with_previous_period(filled):
    rep = area_assessment(filled, START, END, by="community")
    t = rep.table
    assert set(t.index) <= {"340705001001", "340705001002", "340705001003"} and len(t) >= 2
    assert t["rank"].iloc[0] == 1 and t["score"].is_monotonic_decreasing
    assert rep.previous_start == datetime(2026, 10, 23, tzinfo=SHANGHAI)
    assert t["reported_prev"].notna().any()  # the month began before the period
    by_worker = area_assessment(filled, START, END, by="worker")
    assert {"worker", "hotline"} >= set(by_worker.table.index)


def test_exports_read_back(filled, tmp_path):
    out = export_data(filled, "all", tmp_path / "all.gpkg", start=START, end=END)
    layers = {name for name, _ in pyogrio.list_layers(out.path)}
    assert layers == {"grids", "buildings", "facilities", "incidents", "workload", "kpi"}
    inc = gpd.read_file(out.path, layer="incidents")
    assert len(inc) == out.rows["incidents"] > 0 and inc.geometry.notna().all()
    assert (inc["description"] == "示例事件").all()
    x = export_data(filled, "workload", tmp_path / "w.xlsx", start=START, end=END)
    ws = load_workbook(x.path)["workload"]
    assert ws["A1"].value == "网格编码" and ws.max_row == x.rows["workload"] + 1
    empty = export_data(
        filled,
        "incidents",
        tmp_path / "e.csv",
        start=datetime(2020, 1, 1, tzinfo=SHANGHAI),
        end=datetime(2020, 2, 1, tzinfo=SHANGHAI),
    )
    assert empty.empty and len(empty.path.read_text(encoding="utf-8-sig").splitlines()) == 1
    # analysts: no names of people
    _, tables = collect(filled, "incidents", analyst=True)
    assert "reporter" not in tables["incidents"] and "description" not in tables["incidents"]
    with pytest.raises(ForbiddenError):
        collect(filled, "kpi", start=START, end=END, by="worker", analyst=True)
    with pytest.raises(ValueError, match="covers a period"):
        collect(filled, "workload")


def test_cli_export_and_reports(tmp_path):
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    build(store)
    store.dispose()
    w = ("--workdir", str(tmp_path))
    period = ("--from", "2026-11-06", "--to", "2026-11-20")
    run = CliRunner().invoke
    r = run(main, ["export", "--what", "grids", "--out", str(tmp_path / "g.zip"), *w])
    assert r.exit_code == 0, r.output
    shp = gpd.read_file(f"zip://{tmp_path / 'g.zip'}!grids.shp")
    assert len(shp) > 10 and "cpg" in " ".join(zipfile.ZipFile(tmp_path / "g.zip").namelist())
    r = run(
        main,
        [
            "export",
            "--what",
            "kpi",
            "--by",
            "community",
            "--out",
            str(tmp_path / "k.csv"),
            *period,
            *w,
        ],
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.reader((tmp_path / "k.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["社区", "上报数", "立案数"] and len(rows) >= 3
    r = run(main, ["export", "--what", "kpi", "--out", str(tmp_path / "k.geojson"), *period, *w])
    assert r.exit_code == 1 and "has no geometry" in r.output
    r = run(
        main,
        ["export", "--what", "grids", "--out", str(tmp_path / "x.gpkg"), "--community", "无此", *w],
    )
    assert r.exit_code == 1 and "no 社区 named" in r.output
    r = run(main, ["export", "--what", "grids", "--format", "pdf", "--out", "x.pdf", *w])
    assert r.exit_code == 2
    r = run(main, ["report", "workload", "--from", "2026-11-20", "--to", "2026-11-06", *w])
    assert r.exit_code == 2 and "not before" in r.output
    r = run(main, ["report", "workload", *period, "--community", "幸福社区", *w])
    assert r.exit_code == 0 and "工作量指数" in r.output and "340705001002001" in r.output
    r = run(main, ["report", "workload", *period, "--weight", "incidents=x", *w])
    assert r.exit_code == 2 and "MEASURE=NUMBER" in r.output
    r = run(main, ["report", "assessment", *period, "--by", "department", *w])
    assert r.exit_code == 0 and "考核得分" in r.output and "环比" in r.output


def test_rebalance_can_even_out_the_workload(filled):
    from gridmgmt.domain.rebalancing import rebalance_stored
    from gridmgmt.store.proposals import ProposalStore

    code = "340705001002"
    done = rebalance_stored(filled, ProposalStore(filled), code, balance_workload=(START, END))
    reasons = done.draft.report["reasons"]
    assert any("even the workload" in r for r in reasons), reasons
    plain = rebalance_stored(filled, ProposalStore(filled), code)
    assert not any("workload" in r for r in plain.draft.report["reasons"])
