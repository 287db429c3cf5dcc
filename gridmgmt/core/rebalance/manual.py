"""The manual edits behind the supervisor's editor: :func:`move_buildings`,
:func:`split_grid`, :func:`merge_grids`. They never refuse a result that breaks the band
(``report.violations`` says what is wrong); they raise ``ValueError`` for impossible input.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.rebalance.assemble import assemble_result, result_from_state
from gridmgmt.core.rebalance.inputs import Problem
from gridmgmt.core.rebalance.nodes import Nodes
from gridmgmt.core.rebalance.results import RebalanceResult
from gridmgmt.core.rebalance.state import State, bisector
from gridmgmt.core.tessellation import grid_polygon


def _manual_problem(grids, buildings, kw) -> Problem:
    """The inputs of a manual edit; ``kw`` are the keywords of the rebalancer."""
    allowed = {
        "boundary",
        "roads",
        "compounds",
        "zones",
        "min_households",
        "max_households",
        "locked",
        "workload",
        "used_codes",
        "seed",
    }
    unknown = set(kw) - allowed
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {sorted(unknown)}")
    kw = dict(kw)
    kw.pop("boundary", None)
    return Problem(grids, buildings, **kw)


def _editable_grid(p: Problem, code) -> int:
    """The grid with ``code``; ValueError when unknown or locked."""
    code = str(code)
    if code not in p.code_index:
        raise ValueError(f"unknown grid code {code}")
    g = p.code_index[code]
    if g in p.locked:
        raise ValueError(f"grid {code} is locked")
    return g


def move_buildings(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    building_ids: Iterable,
    to_code: str,
    **kw,
) -> RebalanceResult:
    """Move buildings to an adjacent grid (a manual edit).

    Parameters
    ----------
    grids, buildings
        As for :func:`~gridmgmt.core.rebalance.rebalance`.
    building_ids : iterable
        Ids of the buildings to move; together with the target grid they
        must form a connected area.
    to_code : str
        The receiving grid.
    **kw
        The keywords of :func:`~gridmgmt.core.rebalance.rebalance` (band, roads,
        compounds, locked...).

    Returns
    -------
    RebalanceResult
        ``report.violations`` lists band, contiguity and compound problems.

    Raises
    ------
    ValueError
        Unknown grid or building, a locked grid, a building not adjacent to
        the target grid.
    """
    p = _manual_problem(grids, buildings, kw)
    to = _editable_grid(p, to_code)
    wanted = [str(b) for b in building_ids]
    if not wanted:
        raise ValueError("no buildings to move")
    unknown = [b for b in wanted if b not in p.id_index]
    if unknown:
        raise ValueError(f"unknown building id(s): {unknown[:10]}")
    idx = np.asarray([p.id_index[b] for b in wanted], dtype=np.int64)
    sources = sorted(set(p.building_grid[idx].tolist()) - {to})
    for g in sources:
        if g in p.locked:
            raise ValueError(f"grid {p.codes[g]} is locked")
    if not sources:
        raise ValueError(f"the buildings are already in grid {p.codes[to]}")
    nodes = Nodes(p, [to, *sources], fine=True)
    state = State(p, nodes)
    pos = {b: k for k, b in enumerate(nodes.building_rows.tolist())}
    moving = sorted({int(nodes.building_node[pos[b]]) for b in idx.tolist()} - state.members[to])
    # every moved atom must connect to the target through the target or other moved atoms
    reached = set(state.members[to])
    pending = set(moving)
    grew = True
    while grew and pending:
        grew = False
        for u in sorted(pending):
            if any(x in reached for x in nodes.contacts[u]):
                reached.add(u)
                pending.discard(u)
                grew = True
    if pending:
        far = sorted(
            p.ids[nodes.building_rows[b]]
            for b in range(len(nodes.building_rows))
            if nodes.building_node[b] in pending
        )
        far = [b for b in far if b in set(wanted)]
        raise ValueError(f"building(s) {', '.join(far[:10])} not adjacent to grid {p.codes[to]}")
    hh = sum(int(nodes.households[u]) for u in moving)
    for u in moving:
        state.move(u, to)
    reasons = [
        f"manual: {len(wanted)} building(s), {hh} households, moved to {p.codes[to]} "
        f"from {', '.join(p.codes[g] for g in sources)}"
    ]
    return result_from_state(p, state, reasons)


def split_grid(
    grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, code: str, **kw
) -> RebalanceResult:
    """Split a grid in two by balanced bisection; the larger half keeps the code (a manual edit).

    Parameters
    ----------
    grids, buildings
        As for :func:`~gridmgmt.core.rebalance.rebalance`.
    code : str
        The grid to split.
    **kw
        The keywords of :func:`~gridmgmt.core.rebalance.rebalance`.

    Returns
    -------
    RebalanceResult
        ``report.violations`` lists band, contiguity and compound problems.

    Raises
    ------
    ValueError
        Unknown or locked grid, or a grid with fewer than two buildings.
    """
    p = _manual_problem(grids, buildings, kw)
    g = _editable_grid(p, code)
    if int((p.building_grid == g).sum()) < 2:
        raise ValueError(f"grid {p.codes[g]} has fewer than two buildings: nothing to split")
    best = None
    for fine in (False, True):
        nodes = Nodes(p, [g], fine=fine)
        state = State(p, nodes)
        members = np.asarray(sorted(state.members[g]), dtype=np.int64)
        if int((nodes.households[members] > 0).sum()) < 2:
            continue
        bis = bisector(state)
        pieces = bis.split(members, 2)
        if len(pieces) != 2:
            continue
        sizes = [int(nodes.households[q].sum()) for q in pieces]
        off = sum(max(0, p.lo - s) + max(0, s - p.hi) for s in sizes)
        key = (off, abs(sizes[0] - sizes[1]))
        if best is None or key < best[0]:
            best = (key, state, pieces, sizes)
        if off == 0:
            break
    if best is None:
        raise ValueError(f"grid {p.codes[g]} cannot be split: its buildings form one atom")
    _, state, pieces, sizes = best
    small = int(np.argmin(sizes)) if sizes[0] != sizes[1] else 1
    new = state.new_grid()
    for u in pieces[small].tolist():
        state.move(u, new)
    reasons = [
        f"manual: {p.codes[g]} ({sum(sizes)} households) split into {max(sizes)} + {min(sizes)}"
    ]
    return result_from_state(p, state, reasons)


def merge_grids(
    grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, codes: Iterable[str], **kw
) -> RebalanceResult:
    """Merge adjacent grids; the smallest code stays, the others are retired (a manual edit).

    Parameters
    ----------
    grids, buildings
        As for :func:`~gridmgmt.core.rebalance.rebalance`.
    codes : iterable of str
        The grids to merge.
    **kw
        The keywords of :func:`~gridmgmt.core.rebalance.rebalance`.

    Returns
    -------
    RebalanceResult
        ``report.violations`` lists band and contiguity problems.

    Raises
    ------
    ValueError
        Fewer than two grids, unknown or locked grids, grids that do not
        form one connected area.
    """
    p = _manual_problem(grids, buildings, kw)
    wanted = sorted({str(c) for c in codes})
    if len(wanted) < 2:
        raise ValueError("a merge needs at least two grid codes")
    idx = [_editable_grid(p, c) for c in wanted]
    kinds = {p.grid_kind[g] for g in idx}
    if len(kinds) > 1:
        raise ValueError(f"cannot merge grids of different kinds ({sorted(kinds)})")
    # connected in the grid adjacency
    reached, frontier = {idx[0]}, [idx[0]]
    while frontier:
        g = frontier.pop()
        for h in p.grid_neighbours(g):
            if h in idx and h not in reached:
                reached.add(h)
                frontier.append(h)
    if len(reached) != len(idx):
        apart = [p.codes[g] for g in idx if g not in reached]
        raise ValueError(f"grids not adjacent: {', '.join(apart)} do not border {p.codes[idx[0]]}")
    keep = idx[0]  # wanted is sorted: the smallest code
    label = p.building_grid.copy()
    label[np.isin(label, idx)] = keep
    geoms = {
        keep: grid_polygon(p.grid_geoms[idx], coverage=False),
        **{g: shapely.Polygon() for g in idx[1:]},
    }
    total = int(p.households[label == keep].sum())
    reasons = [f"manual: {', '.join(wanted)} merged into {p.codes[keep]} ({total} households)"]
    return assemble_result(p, {keep}, label, geoms, p.n_grids, reasons, [])
