"""Household ledger updates of stored buildings: grid totals, flags, errors (SQLite and PostGIS)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.domain.errors import NotFoundError
from gridmgmt.domain.households import apply_ledger
from gridmgmt.io.errors import InputError
from gridmgmt.io.readers import read_ledger
from tests.factories import partition_stored_blocks


def _fullest(store, code):
    grids = store.current_grids(code)
    grid = grids.sort_values("households").iloc[-1]
    buildings = store.read_layer("buildings", grid_codes=[grid["code"]])
    return grid, buildings.sort_values("households").tail(2)


def test_ledger_updates_buildings_grid_totals_and_flags(partitioned):
    store, code = partitioned
    grid, top = _fullest(store, code)
    others = store.current_grids(code).set_index("code")["households"].drop(grid["code"])
    ledger = pd.DataFrame(
        {"building_id": top["building_id"], "households": top["households"] + [30, 40]}
    )
    out = apply_ledger(store, ledger)
    assert out.buildings == 2
    assert out.grids[["code", "before", "after"]].values.tolist() == [
        [grid["code"], grid["households"], grid["households"] + 70]
    ]
    now = store.current_grids(code).set_index("code")
    assert now.loc[grid["code"], "households"] == grid["households"] + 70
    assert now["households"].drop(grid["code"]).equals(others)  # no other grid touched
    flagged = grid["households"] + 70 > 500
    assert (now.loc[grid["code"], "flag"] == "out_of_band") == flagged
    assert list(out.out_of_band["code"]) == ([grid["code"]] if flagged else [])
    stored = store.read_layer("buildings").set_index("building_id")
    assert stored.loc[top["building_id"], "households_source"].eq("ledger").all()
    assert stored.loc[top["building_id"], "population"].gt(0).all()

    back = apply_ledger(store, ledger.assign(households=top["households"].to_numpy()))
    assert back.grids["after"].tolist() == [grid["households"]]
    assert store.current_grids(code).set_index("code").loc[grid["code"], "flag"] is None


def test_unknown_ids_write_nothing(partitioned):
    store, code = partitioned
    grid, top = _fullest(store, code)
    ledger = pd.DataFrame(
        {"building_id": [top["building_id"].iloc[0], "无此楼"], "households": [999, 5]}
    )
    with pytest.raises(NotFoundError, match="1 building id.* not stored: 无此楼"):
        apply_ledger(store, ledger)
    now = store.read_layer("buildings").set_index("building_id")
    assert now.loc[top["building_id"].iloc[0], "households"] == top["households"].iloc[0]
    with pytest.raises(ValueError, match="whole numbers"):
        apply_ledger(store, pd.DataFrame({"building_id": ["a"], "households": [-1]}))
    with pytest.raises(ValueError, match="duplicate"):
        apply_ledger(store, pd.DataFrame({"building_id": ["a", "a"], "households": [1, 2]}))


def test_cli_reads_a_gbk_ledger_and_names_the_rebalance(tmp_path):
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    outcome = partition_stored_blocks(store)
    grid, top = _fullest(store, outcome.code)
    path = tmp_path / "台账.csv"
    rows = [f"{b},{h + 300}" for b, h in zip(top["building_id"], top["households"], strict=True)]
    path.write_bytes(("编号,户数\n" + "\n".join(rows) + "\n").encode("gbk"))
    result = CliRunner().invoke(
        main, ["households", "update", str(path), "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "2 buildings updated; 1 grids changed" in result.output
    assert f"{grid['code']}: {grid['households']} -> {grid['households'] + 600}" in result.output
    assert f"rebalance with: gridmgmt rebalance --community {outcome.code}" in result.output

    bad = tmp_path / "bad.csv"
    bad.write_text("编号,户数\nB1,x\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["households", "update", str(bad), "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 1 and "households is not a number" in result.output
    with pytest.raises(InputError, match="ledger file not found"):
        read_ledger(tmp_path / "missing.csv")
    store.dispose()


def test_compound_ledger_splits_totals_over_stored_buildings(partitioned):
    from gridmgmt.io.ledgers import HouseholdLedger

    store, code = partitioned
    before = store.read_layer("buildings")
    compounds = store.read_layer("compounds").set_index("compound_id")["name"]
    name = compounds.iloc[0]
    members = before[before["compound_id"] == compounds.index[0]]
    rows = pd.DataFrame({"row": [2, 3], "compound": [name, "无此小区"], "households": [900, 10]})
    ledger = HouseholdLedger(Path("物业.csv"), "compound", rows, "utf-8")
    out = apply_ledger(store, ledger)
    assert out.kind == "compound" and out.unmatched["key"].tolist() == ["无此小区"]
    after = store.read_layer("buildings").set_index("building_id")
    assert after.loc[members["building_id"], "households"].sum() == 900
    changed = after.loc[members["building_id"]]
    assert set(changed["households_source"]) <= {"ledger", "compound_ledger"}
    assert (changed["households_confidence"] == "high").all()
    assert out.grids["after"].sum() - out.grids["before"].sum() == 900 - members["households"].sum()

    nothing = HouseholdLedger(Path("物业.csv"), "compound", rows.iloc[1:], "utf-8")
    with pytest.raises(NotFoundError, match=r"物业.csv: compound ledger.*Import the 小区 outlines"):
        apply_ledger(store, nothing)


def test_cli_compound_ledger_lists_unmatched_rows_and_refuses_a_ledger_matching_nothing(tmp_path):
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    partition_stored_blocks(store)
    compounds = store.read_layer("compounds")["name"].tolist()
    path = tmp_path / "小区台账.csv"
    path.write_bytes(f"小区名称,总户数\n{compounds[0]},400\n未知家园,50\n".encode("gbk"))
    result = CliRunner().invoke(
        main, ["households", "update", str(path), "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "小区台账.csv: compound ledger, 2 rows (gb18030)" in result.output
    assert "1 ledger row(s) matched no building:" in result.output
    assert "row 3: 未知家园 (50 households): no 小区 with this name or id" in result.output

    before = store.read_layer("buildings")["households"].sum()
    none = tmp_path / "none.csv"
    none.write_text("小区,户数\n未知家园,50\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["households", "update", str(none), "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "none.csv: compound ledger, 1 rows" in result.output
    assert "nothing written" in result.output
    assert store.read_layer("buildings")["households"].sum() == before
    store.dispose()
