"""Rebalancing grids after households change, and the manual edits, on synthetic and real data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.partition import partition
from gridmgmt.core.rebalance import (
    fewest_moves,
    merge_grids,
    move_buildings,
    rebalance,
    split_grid,
)
from tests.factories import COMMUNITY, changed_households, partitioned_layout

LO, HI = 250, 500
PREFIX = COMMUNITY  # the code prefix of partitioned_layout


@pytest.fixture(scope="module")
def base():
    """A layout where the change below can be fixed with compounds whole.

    Not every layout can: see test_a_grid_no_move_can_fix_is_reported.
    """
    return partitioned_layout(4)


@pytest.fixture(scope="module")
def edits(base):
    """The layout for the workload pass and the manual edits."""
    return base


@pytest.fixture(scope="module")
def stuck():
    """A layout where the change below leaves one grid no move can fix."""
    return partitioned_layout(24)


@pytest.fixture(scope="module")
def changed(base):
    _, _, b = base
    return changed_households(b)


@pytest.fixture(scope="module")
def run(base, changed):
    s, part, _ = base
    return rebalance(
        part.grids, changed, roads=s.roads, compounds=s.compounds, used_codes=[PREFIX + "090"]
    )


def residential(grids):
    return grids[grids["kind"] != "unit"]


def test_households_change_puts_grids_out_of_band(base, changed, run):
    assert len(run.report.out_of_band_before) >= 3
    assert changed["households"].sum() > 1.09 * base[2]["households"].sum()


def test_every_grid_back_in_band(run):
    res = residential(run.grids)
    assert res["households"].between(LO, HI).all(), res[~res["households"].between(LO, HI)]
    assert run.report.out_of_band_after == ()
    assert run.report.violations == ()
    assert run.report.reasons  # each change says why


@pytest.fixture(scope="module")
def stuck_runs(stuck):
    """The stuck layout rebalanced keeping compounds whole, and allowing them divided."""
    s, part, b = stuck
    after = changed_households(b)
    kw = dict(roads=s.roads, compounds=s.compounds)
    whole = rebalance(part.grids, after, split_compounds=False, **kw)
    divided = rebalance(part.grids, after, **kw)
    return after, whole, divided


def test_a_grid_no_move_can_fix_is_reported(stuck_runs):
    """Whole compounds between full grids: one grid left out of band, with why."""
    _, out, _ = stuck_runs
    assert len(out.report.out_of_band_after) == 1
    (left,) = out.report.out_of_band_after
    assert any(r.startswith(left) and "still out of band" in r for r in out.report.reasons)
    assert len(out.report.out_of_band_before) > 1  # the others were fixed
    res = residential(out.grids)
    assert (~res["households"].between(LO, HI)).sum() == 1
    assert not any("split between" in v for v in out.report.violations)


def test_compounds_divided_only_as_the_last_resort(stuck_runs):
    """By default the stuck grid's compounds are divided, said in reasons and violations."""
    after, whole, out = stuck_runs
    res = residential(out.grids)
    assert res["households"].between(LO, HI).all(), res[~res["households"].between(LO, HI)]
    (left,) = whole.report.out_of_band_after
    (note,) = [r for r in out.report.reasons if "may be divided" in r]
    assert note.startswith(left)
    named = set(note.split("compounds ")[1].split(" may")[0].split(", "))
    assert named
    # compounds that were whole and fit one grid stay whole unless named
    before = after.dropna(subset=["grid_code"]).groupby("compound_id")["grid_code"].nunique()
    frame = after.assign(grid=out.labels.loc[after["id"]].to_numpy())
    now = frame.groupby("compound_id")["grid"].nunique()
    size = frame.groupby("compound_id")["households"].sum()
    kept = (before.reindex(now.index) == 1) & (size <= HI) & ~now.index.isin(named)
    assert (now[kept] == 1).all()
    for v in out.report.violations:
        assert "split between" in v and v.split()[1] in named
    # the fix costs little more than keeping compounds whole
    assert out.report.share_moved < whole.report.share_moved + 0.05


def test_opening_grids_wins_when_it_moves_fewer(base, changed, run):
    """Moves alone could do it here, but two new grids move fewer households: the search wins."""
    s, part, _ = base
    floor = fewest_moves(part.grids, changed, roads=s.roads, compounds=s.compounds)
    assert floor.status == "optimal"  # the fewest by moves alone, over every grid
    assert len(run.report.grids_added) == 2
    assert run.report.households_moved < floor.moved


def test_whole_compounds_moved_rather_than_divided(base):
    """One grid a few households over: the search alone would divide a compound to shed
    them; moving whole compounds (exactly, fewest households) is preferred."""
    s, part, b = base
    top = part.grids.sort_values("households").iloc[-1]
    b = b.copy()
    b.loc[b.index[b["grid_code"] == top["code"]][0], "households"] += HI - top["households"] + 5
    out = rebalance(part.grids, b, roads=s.roads, compounds=s.compounds)
    assert out.report.out_of_band_after == ()
    assert not any("split between" in v for v in out.report.violations)
    assert any("moves between the same grids suffice" in r for r in out.report.reasons)
    assert out.report.grids_added == ()
    floor = fewest_moves(part.grids, b, roads=s.roads, compounds=s.compounds)
    assert floor.moved <= out.report.households_moved


def test_new_buildings_are_placed_free(base, changed, run):
    """The same change with the towers on record in the grid they lie in: moving them then
    moves families, so the rebalancer cannot do better than with them new."""
    s, part, _ = base
    recorded = changed.copy()
    new = recorded["grid_code"].isna()
    pts = gpd.GeoDataFrame(geometry=recorded.loc[new].representative_point(), crs=4326)
    hit = gpd.sjoin(pts, part.grids[["code", "geometry"]], predicate="within")
    recorded.loc[hit.index, "grid_code"] = hit["code"]
    assert recorded["grid_code"].notna().all()
    on_record = rebalance(part.grids, recorded, roads=s.roads, compounds=s.compounds)
    assert on_record.report.buildings_placed == 0
    assert run.report.buildings_placed == 2
    assert run.report.households_moved <= on_record.report.households_moved
    # a building moved off its recorded grid is counted; a placed one is not
    towers = on_record.moves[on_record.moves["building_id"].isin(["T1", "T2"])]
    assert towers["from_code"].notna().all()


def test_without_grid_codes_every_building_is_where_it_lies(base, changed):
    """No grid_code column: each building is in the grid it lies in, none is new."""
    s, part, _ = base
    out = rebalance(part.grids, changed.drop(columns="grid_code"), roads=s.roads)
    assert out.report.buildings_placed == 0 and out.report.households_placed == 0
    assert out.moves["from_code"].notna().all()
    assert out.report.households_moved == int(out.moves["households"].sum()) > 0


def _redeveloped(b, n_compounds=2):
    """One of the ``n_compounds`` compounds of a grid rebuilt: its buildings new (no grid yet), 300
    households in all; the other compound alone is in band, so the grid is far over."""
    frame = b.assign(grid=b["grid_code"])
    per = frame.groupby("compound_id").agg(grids=("grid", "nunique"), grid=("grid", "first"))
    totals = frame.groupby("grid")["households"].sum()
    compounds = frame.groupby("grid")["compound_id"].nunique()
    for cid, row in per[per["grids"] == 1].iterrows():
        members = frame["compound_id"] == cid
        rest = int(totals[row["grid"]] - frame.loc[members, "households"].sum())
        if (
            members.sum() >= 2
            and compounds[row["grid"]] == n_compounds
            and LO + 20 <= rest <= HI - 20
        ):
            out = b.copy()
            out.loc[members, "grid_code"] = None
            k = int(members.sum())
            out.loc[members, "households"] = [300 // k + (i < 300 % k) for i in range(k)]
            return out, cid, row["grid"]
    raise AssertionError("no compound to redevelop in this layout")


def test_a_rebuilt_compound_becomes_a_grid_of_its_own(edits):
    """Over 2 x min households with 300 of them new: a new grid around the new buildings
    moves no family, where a balanced split would move dozens."""
    s, part, b = edits
    after, cid, code = _redeveloped(b, n_compounds=4)
    out = rebalance(part.grids, after, roads=s.roads, compounds=s.compounds)
    assert out.report.out_of_band_after == ()
    assert len(out.report.grids_added) == 1
    (added,) = out.report.grids_added
    members = after.loc[after["compound_id"] == cid, "id"]
    assert (out.labels.loc[members] == added).all()
    assert out.report.households_moved == 0
    assert out.report.households_placed == 300
    assert any(r.startswith(code) and "new grid formed around" in r for r in out.report.reasons)
    # the exact program weighed the same new grid against moves alone, and proved it best
    assert any(
        "1 new grid(s) around new buildings suffice: 0 households" in r for r in out.report.reasons
    )
    assert code in set(out.grids["code"])  # the old grid keeps its code


def test_the_exact_floor_says_when_whole_atoms_cannot_do(stuck, stuck_runs):
    s, part, _ = stuck
    after, whole, _ = stuck_runs
    assert whole.report.out_of_band_after  # the search with splits and merges could not either
    floor = fewest_moves(part.grids, after, roads=s.roads, compounds=s.compounds)
    assert floor.status == "infeasible"
    assert floor.labels is None


def test_labels_and_counts_add_up(run, changed):
    assert set(run.labels.index) == set(changed["id"])
    assert run.labels.isin(run.grids["code"]).all()
    per = changed.set_index("id")["households"].groupby(run.labels).sum()
    got = run.grids.set_index("code")["households"]
    assert (per.reindex(got.index, fill_value=0) == got).all()
    assert run.grids.crs.to_epsg() == 4326
    assert list(run.grids.columns) == [
        "code",
        "kind",
        "households",
        "n_buildings",
        "flag",
        "geometry",
    ]


def test_grids_contiguous_and_tile_the_community_exactly(base, run):
    _, part, _ = base
    crs = part.metric_crs
    assert run.grids.is_valid.all()
    g = run.grids.to_crs(crs)
    assert (g.geom_type == "Polygon").all()
    whole = shapely.union_all(part.grids.to_crs(crs).geometry.values)
    union = shapely.union_all(g.geometry.values)
    assert shapely.symmetric_difference(union, whole).area / whole.area < 1e-6
    assert abs(g.area.sum() - union.area) / whole.area < 1e-6  # no overlaps


def test_buildings_lie_in_their_new_grid(run, changed):
    pts = gpd.GeoDataFrame(geometry=changed.representative_point(), crs=4326)
    hit = gpd.sjoin(pts, run.grids[["code", "geometry"]], predicate="within")
    got = run.labels.loc[changed["id"].to_numpy()[hit.index]].to_numpy()
    assert (hit["code"].to_numpy() == got).mean() > 0.98


def test_compounds_that_fit_a_grid_stay_whole(run, changed, base):
    _, _, before = base
    frame = changed.assign(grid=run.labels.loc[changed["id"]].to_numpy())
    whole_before = before.groupby("compound_id")["grid_code"].nunique() == 1
    size = frame.groupby("compound_id")["households"].sum()
    now = frame.groupby("compound_id")["grid"].nunique()
    fits = whole_before.reindex(now.index, fill_value=False) & (size <= HI)
    assert (now[fits] == 1).all()


def test_minimal_change_and_moves_layer(run, changed):
    rep = run.report
    assert 0 < rep.households_moved <= 0.15 * changed["households"].sum()
    assert rep.share_moved == pytest.approx(rep.households_moved / changed["households"].sum())
    moves = run.moves
    assert list(moves.columns) == ["building_id", "households", "from_code", "to_code", "geometry"]
    # the two new towers are listed as placed (no grid before), not as moved
    placed = moves[moves["from_code"].isna()]
    moved = moves[moves["from_code"].notna()]
    assert sorted(placed["building_id"]) == ["T1", "T2"]
    assert rep.buildings_placed == 2 and rep.households_placed == int(placed["households"].sum())
    assert len(moved) == rep.buildings_moved
    assert int(moved["households"].sum()) == rep.households_moved
    assert (moved["from_code"] != moved["to_code"]).all()
    assert (run.labels.loc[moves["building_id"]].to_numpy() == moves["to_code"].to_numpy()).all()
    # most grids are left exactly as they were
    assert len(rep.grids_changed) < 0.6 * len(run.grids)


def test_codes_stable_and_never_reused(base, run):
    _, part, _ = base
    before = part.grids.set_index("code")
    after = run.grids.set_index("code")
    touched = set(run.report.grids_changed) | set(run.report.grids_retired)
    for code in set(before.index) - touched:  # untouched grids keep code and polygon
        assert before.loc[code, "geometry"].equals(after.loc[code, "geometry"])
    used_max = max(int(c[-3:]) for c in [*before.index, PREFIX + "090"])
    for code in run.report.grids_added:
        assert code.startswith(PREFIX) and int(code[-3:]) > used_max
    assert not set(run.report.grids_added) & set(before.index)
    assert set(after.index) == (set(before.index) - set(run.report.grids_retired)) | set(
        run.report.grids_added
    )


def test_deterministic(base, changed, run):
    s, part, _ = base
    again = rebalance(
        part.grids, changed, roads=s.roads, compounds=s.compounds, used_codes=[PREFIX + "090"]
    )
    assert again.labels.equals(run.labels)
    assert again.grids["code"].tolist() == run.grids["code"].tolist()
    assert again.report.reasons == run.report.reasons


def test_locked_grids_untouched(base, changed, run):
    s, part, _ = base
    # lock the grids the free run changed but that were in band: they must stay as they were
    locked = [c for c in run.report.grids_changed if c not in run.report.out_of_band_before][:3]
    assert locked
    out = rebalance(part.grids, changed, roads=s.roads, compounds=s.compounds, locked=locked)
    before = part.grids.set_index("code")
    after = out.grids.set_index("code")
    for code in locked:
        assert before.loc[code, "geometry"].equals(after.loc[code, "geometry"])
        assert set(out.labels[out.labels == code].index) == set(
            changed["id"][changed["grid_code"] == code]
        )
    assert not set(locked) & set(out.moves["from_code"]) | set(out.moves["to_code"]) & set(locked)


def test_nothing_to_do_changes_nothing(edits):
    s, part, b = edits
    hh = b.groupby("grid_code")["households"].sum()
    ok = b[b["grid_code"].isin(hh[hh.between(LO, HI)].index)]
    grids = part.grids[part.grids["code"].isin(ok["grid_code"])]
    out = rebalance(grids, ok, roads=s.roads, compounds=s.compounds)
    assert out.report.households_moved == 0 and out.report.grids_changed == ()
    assert out.grids["code"].tolist() == sorted(grids["code"])
    assert out.labels.to_dict() == dict(zip(ok["id"], ok["grid_code"], strict=True))


def test_workload_evens_neighbours(edits):
    s, part, b = edits
    weight = pd.Series(1.0, index=b["id"])
    # the heavy caseload sits in a mid-band grid of many buildings: it has
    # households and boundary buildings to spare without leaving the band
    mid = part.grids[part.grids["households"].between(350, 450)]
    busy = mid.sort_values(["n_buildings", "code"])["code"].iloc[-1]
    weight[b["id"][b["grid_code"] == busy].to_numpy()] = 6.0
    out = rebalance(part.grids, b, roads=s.roads, compounds=s.compounds, workload=weight)
    res = residential(out.grids)
    assert res["households"].between(LO, HI).all() or out.report.out_of_band_before
    per = weight.groupby(out.labels.reindex(weight.index)).sum()
    per0 = weight.groupby(b.set_index("id")["grid_code"]).sum()
    assert per.get(busy, 0) < per0[busy]
    assert any("workload" in r for r in out.report.reasons)


# ------------------------------------------------------------------ manual edits
def _neighbour_pair(part, b, whole_compound=False):
    """Two adjacent grids and a building of the second on their shared boundary.

    With ``whole_compound``, the building's compound has several buildings,
    all in the second grid.
    """
    per = b.groupby("compound_id").agg(grids=("grid_code", "nunique"), n=("id", "size"))
    whole = set(per.index[(per["grids"] == 1) & (per["n"] >= 2)])
    g = part.grids.to_crs(part.metric_crs).reset_index(drop=True)
    bm = b.to_crs(part.metric_crs)
    for i in range(len(g)):
        for j in range(len(g)):
            if i == j or g.geometry[i].intersection(g.geometry[j]).length < 20:
                continue
            mine = bm[bm["grid_code"] == g["code"][j]]
            d = mine.distance(g.geometry[i])
            near = mine[d < 25]
            if whole_compound:
                near = near[near["compound_id"].isin(whole)]
            if len(near):
                return g["code"][i], g["code"][j], near["id"].iloc[0]
    raise AssertionError("no adjacent grids")


def test_move_buildings_reports_violations(edits):
    s, part, b = edits
    to, frm, bid = _neighbour_pair(part, b)
    out = move_buildings(part.grids, b, [bid], to, roads=s.roads, compounds=s.compounds)
    assert out.labels[bid] == to
    assert out.report.buildings_moved >= 1 and bid in set(out.moves["building_id"])
    assert set(out.report.grids_changed) == {to, frm}
    hh = out.grids.set_index("code")["households"]
    assert hh[to] == b[b["grid_code"] == to]["households"].sum() + out.report.households_moved
    expected = [c for c in (to, frm) if not LO <= hh[c] <= HI]
    assert all(any(c in v for v in out.report.violations) for c in expected)
    g = out.grids.to_crs(part.metric_crs)
    assert abs(g.area.sum() - part.grids.to_crs(part.metric_crs).area.sum()) < 1.0


def test_move_that_splits_a_compound_is_flagged(edits):
    s, part, b = edits
    to, _, bid = _neighbour_pair(part, b, whole_compound=True)
    cid = b.set_index("id").loc[bid, "compound_id"]
    out = move_buildings(part.grids, b, [bid], to, roads=s.roads, compounds=s.compounds)
    assert any(f"compound {cid}" in v for v in out.report.violations)


def test_move_errors(edits):
    s, part, b = edits
    codes = part.grids["code"].tolist()
    with pytest.raises(ValueError, match="unknown grid code"):
        move_buildings(part.grids, b, [b["id"].iloc[0]], PREFIX + "999")
    with pytest.raises(ValueError, match="unknown building"):
        move_buildings(part.grids, b, ["nope"], codes[0])
    # a building far from the target grid
    g = part.grids.to_crs(part.metric_crs)
    bm = b.to_crs(part.metric_crs)
    far = bm.iloc[int(np.argmax(bm.distance(g.geometry.iloc[0])))]
    with pytest.raises(ValueError, match="not adjacent to grid"):
        move_buildings(part.grids, b, [far["id"]], codes[0])
    with pytest.raises(ValueError, match="locked"):
        move_buildings(part.grids, b, [far["id"]], codes[0], locked=[codes[0]])


def test_split_grid_keeps_code_on_larger_half(edits):
    s, part, b = edits
    hh = b.groupby("grid_code")["households"].sum()
    code = hh.idxmax()
    out = split_grid(
        part.grids, b, code, roads=s.roads, compounds=s.compounds, used_codes=[PREFIX + "200"]
    )
    assert out.report.grids_added == (PREFIX + "201",)
    new = out.grids.set_index("code")
    assert new.loc[code, "households"] >= new.loc[PREFIX + "201", "households"]
    assert new.loc[code, "households"] + new.loc[PREFIX + "201", "households"] == hh[code]
    assert (out.grids.to_crs(part.metric_crs).geom_type == "Polygon").all()
    # halves of a grid under 2 x min households are below the band: reported, not refused
    small = hh.idxmin()
    out = split_grid(part.grids, b, small, roads=s.roads, compounds=s.compounds)
    assert any("below the band" in v for v in out.report.violations)
    with pytest.raises(ValueError, match="unknown grid code"):
        split_grid(part.grids, b, "nope")


def test_merge_grids_keeps_smallest_code(edits):
    s, part, b = edits
    a, c, _ = _neighbour_pair(part, b)
    out = merge_grids(part.grids, b, [c, a])
    keep, gone = min(a, c), max(a, c)
    assert out.report.grids_retired == (gone,)
    assert gone not in set(out.grids["code"])
    hh = b.groupby("grid_code")["households"].sum()
    merged = out.grids.set_index("code").loc[keep]
    assert merged["households"] == hh[a] + hh[c]
    assert merged.geometry.geom_type == "Polygon"
    assert (out.labels[b["id"][b["grid_code"].isin([a, c])]] == keep).all()
    assert any("above the band" in v for v in out.report.violations) == (hh[a] + hh[c] > HI)
    g = part.grids.to_crs(part.metric_crs).reset_index(drop=True)
    far = g["code"][int(np.argmax(g.distance(g.geometry[0])))]
    with pytest.raises(ValueError, match="not adjacent"):
        merge_grids(part.grids, b, [g["code"][0], far])
    with pytest.raises(ValueError, match="at least two"):
        merge_grids(part.grids, b, [a])


def test_bad_input(edits):
    s, part, b = edits
    with pytest.raises(ValueError, match="missing column households"):
        rebalance(part.grids, b.drop(columns="households"))
    with pytest.raises(ValueError, match="greater than max"):
        rebalance(part.grids, b, min_households=600)
    bad = b.copy()
    bad.loc[bad.index[0], "grid_code"] = PREFIX + "998"
    with pytest.raises(ValueError, match="grid_code not among the grids"):
        rebalance(part.grids, bad)
    with pytest.raises(ValueError, match="locked: unknown"):
        rebalance(part.grids, b, locked=["123"])
    outside = b.iloc[:1].copy()
    outside["id"] = "X1"
    outside["grid_code"] = None
    outside["geometry"] = outside.translate(1.0, 0.0).geometry
    with pytest.raises(ValueError, match="outside every grid: X1"):
        rebalance(part.grids, pd.concat([b, outside], ignore_index=True))


def test_real_osm_extract(realdata):
    from gridmgmt.io import read_layers

    layers = read_layers(realdata / "osm" / "bj_cau_xueyuanlu.osm")
    part = partition(
        layers.buildings, roads=layers.roads, compounds=layers.compounds, code_prefix=PREFIX
    )
    b = layers.buildings.rename(columns={"building_id": "id"}).copy()
    b["grid_code"] = part.labels.to_numpy()
    b["households"] = (b["households"] * 1.10).round().astype(int)  # everybody grows by 10%
    hh = b.groupby("grid_code")["households"].sum()
    full = b[b["grid_code"] == hh.idxmax()]["households"].idxmax()
    b.loc[full, "households"] += max(0, HI + 60 - int(hh.max()))  # and a block gets a new wing
    out = rebalance(part.grids, b, roads=layers.roads, compounds=layers.compounds)
    res = residential(out.grids)
    assert len(out.report.out_of_band_before) >= 1
    ok = res["households"].between(LO, HI) | (res["flag"] == "indivisible_building")
    assert ok.all(), res[~ok]
    g = out.grids.to_crs(part.metric_crs)
    whole = shapely.union_all(part.grids.to_crs(part.metric_crs).geometry.values)
    assert abs(g.area.sum() - whole.area) / whole.area < 1e-6
    assert (g.geom_type == "Polygon").all()
    assert out.report.share_moved < 0.3


def test_atoms_rebuilt_in_a_few_grids_match_a_full_rebuild(stuck):
    """Splicing re-built atoms into the rest gives the same atoms and contacts as rebuilding all."""
    from gridmgmt.core.rebalance.inputs import Problem
    from gridmgmt.core.rebalance.nodes import Nodes

    s, part, b = stuck
    p = Problem(part.grids, changed_households(b), roads=s.roads, compounds=s.compounds)
    every = list(range(p.n_grids))
    few = every[10:16]
    inside = pd.Series(np.isin(p.building_grid, few)).groupby(pd.Series(p.building_compound)).all()
    divisible = frozenset(inside.index[inside])  # compounds wholly in those grids
    assert divisible
    old = Nodes(p, every)
    spliced = Nodes.spliced(old, Nodes(p, few, divisible=divisible))
    full = Nodes(p, every, divisible=divisible)
    assert spliced is not None
    # the same atoms with buildings, matched by their buildings (building-less
    # specks of ~10 m² along the outline may differ)
    match = np.full(spliced.n, -1)
    match[spliced.building_node] = full.building_node
    built = np.flatnonzero(match >= 0)
    assert sorted(match[built].tolist()) == np.unique(full.building_node).tolist()
    assert (spliced.households[built] == full.households[match[built]]).all()
    assert (spliced.start_grid[built] == full.start_grid[match[built]]).all()
    # tiling the same ground without overlaps
    union = shapely.union_all(full.region)
    assert shapely.symmetric_difference(shapely.union_all(spliced.region), union).area < 1.0
    assert abs(shapely.area(spliced.region).sum() - union.area) < 1.0
    # and the same contacts between them
    g, h = spliced.graph, full.graph
    sb, fb = match >= 0, np.isin(np.arange(full.n), full.building_node)
    pairs = lambda i, j: {tuple(sorted(e)) for e in zip(i.tolist(), j.tolist(), strict=True)}  # noqa: E731
    both = sb[g.i] & sb[g.j]
    assert pairs(match[g.i[both]], match[g.j[both]]) == pairs(
        h.i[fb[h.i] & fb[h.j]], h.j[fb[h.i] & fb[h.j]]
    )
