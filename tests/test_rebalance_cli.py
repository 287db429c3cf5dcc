"""``gridmgmt rebalance`` on files: partition output + updated buildings -> new GeoPackage."""

from __future__ import annotations

import pyogrio
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.synthetic import generate_blocks
from tests.factories import changed_households, partitioned_layout


def invoke(*args, workdir):
    return CliRunner().invoke(main, ["--workdir", str(workdir), *map(str, args)])


def test_rebalance_files_round_trip(tmp_path):
    s = generate_blocks(300, seed=5)
    src = tmp_path / "buildings.gpkg"
    s.buildings.to_file(src, driver="GPKG")
    s.roads.to_file(tmp_path / "roads.gpkg", driver="GPKG")
    s.compounds.to_file(tmp_path / "compounds.gpkg", driver="GPKG")
    extra = ["--roads", tmp_path / "roads.gpkg", "--compounds", tmp_path / "compounds.gpkg"]
    grids = tmp_path / "grids.gpkg"
    done = invoke(
        "partition", src, "--prefix", "340705001001", "--out", grids, *extra, workdir=tmp_path
    )
    assert done.exit_code == 0, done.output

    before = pyogrio.read_dataframe(grids, layer="buildings")
    hh = before.groupby("grid_code")["households"].sum()
    full = hh.idxmax()
    updated = s.buildings.copy()
    first = before.index[before["grid_code"] == full][0]  # a new wing on one building
    updated.loc[first, "households"] += 520 - int(hh[full])
    upd = tmp_path / "updated.gpkg"
    updated.to_file(upd, driver="GPKG")

    out = tmp_path / "new.gpkg"
    done = invoke(
        "rebalance",
        grids,
        "--buildings",
        upd,
        "--out",
        out,
        "--used-code",
        "340705001001050",
        *extra,
        workdir=tmp_path,
    )
    assert done.exit_code == 0, done.output
    assert "households moved" in done.output and f"{full}: " in done.output
    layers = {str(n) for n, _ in pyogrio.list_layers(out)}
    assert layers == {"grids", "buildings", "moves"}
    new = pyogrio.read_dataframe(out, layer="grids")
    assert new["households"].between(250, 500).all()
    assert new["households"].sum() == updated["households"].sum()
    moves = pyogrio.read_dataframe(out, layer="moves")
    assert len(moves) >= 1 and set(moves["from_code"]) <= set(hh.index)
    added = set(new["code"]) - set(hh.index)
    assert all(int(c[-3:]) > 50 for c in added)


def test_rebalance_usage(tmp_path):
    done = invoke("rebalance", workdir=tmp_path)
    assert done.exit_code == 2 and "--community" in done.output
    done = invoke(
        "rebalance",
        tmp_path / "none.gpkg",
        "--buildings",
        __file__,
        "--out",
        tmp_path / "o.gpkg",
        workdir=tmp_path,
    )
    assert done.exit_code != 0 and "does not exist" in done.output


def test_keep_compounds_flag(tmp_path):
    """A change only a divided compound can fix: divided by default, kept whole on request."""
    s, part, b = partitioned_layout(24)  # the layout test_rebalance calls ``stuck``
    grids = tmp_path / "grids.gpkg"  # as ``gridmgmt partition`` writes it
    part.grids.to_file(grids, layer="grids", driver="GPKG")
    b[["id", "households", "grid_code", "geometry"]].to_file(grids, layer="buildings")
    s.roads.to_file(tmp_path / "roads.gpkg", driver="GPKG")
    s.compounds.to_file(tmp_path / "compounds.gpkg", driver="GPKG")
    extra = ["--roads", tmp_path / "roads.gpkg", "--compounds", tmp_path / "compounds.gpkg"]
    updated = changed_households(b).rename(columns={"id": "building_id"})
    upd = tmp_path / "updated.gpkg"
    updated.drop(columns=["grid_code"]).to_file(upd, driver="GPKG")

    outputs = {}
    for flag in ([], ["--keep-compounds"]):
        out = tmp_path / f"new{len(flag)}.gpkg"
        done = invoke(
            "rebalance", grids, "--buildings", upd, "--out", out, *flag, *extra, workdir=tmp_path
        )
        assert done.exit_code == 0, done.output
        outputs[bool(flag)] = (done.output, pyogrio.read_dataframe(out, layer="grids"))
    text, new = outputs[False]
    assert new["households"].between(250, 500).all()
    kept_text, kept = outputs[True]
    assert "may be divided" not in kept_text
    assert (~kept["households"].between(250, 500)).sum() == 1, kept_text
