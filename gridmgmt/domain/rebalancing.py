"""Use case: rebalance a stored 社区's grids through proposals, approval and rollback.

Every change of a 社区's grids, automatic (:func:`propose_auto`) or manual
(:func:`preview_manual` then :func:`propose`: move buildings, split a grid,
merge grids), is first stored as a *proposal* against the grid version it
was computed from. A supervisor approves it (:func:`approve_proposal`),
which writes the next grid version and moves exactly the affected
buildings, facilities and open incidents to their new grids; or rejects it.
:func:`rollback` restores an earlier version as a new version (history is
never rewritten). Unchanged grids keep their codes and retired codes are
never reused: the engine gets every code ever stored for the 社区.

Storage is reached through :class:`ProposalRepository` and the layer/grid
repository (:class:`gridmgmt.store.repository.Store`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmgmt.domain.proposal_values import Approval, ProposalContent

MANUAL_KINDS = ("move", "split", "merge")


class ProposalRepository(Protocol):
    """Proposals, their decisions and grid version history (see :mod:`gridmgmt.store.proposals`)."""

    def add_proposal(self, content: ProposalContent) -> int: ...

    def proposals(self, community_code: str | None = None, *, status=None) -> list[dict]: ...

    def proposal(self, proposal_id: int) -> dict: ...

    def approve(self, proposal_id: int, approval: Approval) -> int: ...

    def add_approved_proposal(
        self, content: ProposalContent, approval: Approval
    ) -> tuple[int, int]: ...

    def reject(self, proposal_id: int, *, decided_by: str, note: str | None = None) -> None: ...

    def current_version(self, community_code: str) -> int: ...

    def grid_versions(self, community_code: str) -> list[dict]: ...

    def grids_of_version(self, community_code: str, version: int) -> gpd.GeoDataFrame: ...

    def used_codes(self, community_code: str) -> list[str]: ...


@dataclass
class CommunityState:
    """A 社区 as stored now: its current grid version and what the engine needs."""

    code: str
    name: str
    version: int
    boundary: gpd.GeoSeries
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None
    compounds: gpd.GeoDataFrame | None
    used_codes: tuple[str, ...]


@dataclass
class Draft:
    """A computed change not yet stored: the engine's result and its diff against the 社区."""

    kind: str
    state: CommunityState
    result: object  # gridmgmt.core.rebalance.RebalanceResult
    moves: pd.DataFrame  # building_id, households, from_code, to_code
    totals: list[dict]  # {"code", "before", "after"}
    report: dict

    @property
    def violations(self) -> list[str]:
        return list(self.report.get("violations", []))


def load_community(repo, proposals: ProposalRepository, name_or_code: str) -> CommunityState:
    """Read a 社区's current grids, their buildings, roads and compounds.

    Raises
    ------
    NotFoundError
        For an unknown 社区.
    ValueError
        When the 社区 has no grids yet (partition it first).
    """
    import shapely

    community = repo.community(name_or_code)
    code = community["code"]
    grids = repo.current_grids(code)
    if len(grids) == 0:
        raise ValueError(
            f"社区 {community['name']} ({code}) has no grids: run `gridmgmt partition --community` first"
        )
    version = int(grids["version"].max())
    grids = grids[["code", "kind", "households", "n_buildings", "flag", "geometry"]].reset_index(
        drop=True
    )
    buildings = repo.read_layer("buildings", grid_codes=grids["code"].tolist())
    # the engine keys buildings by their first id column: keep only ``building_id``
    buildings = buildings.drop(columns=["id"], errors="ignore").reset_index(drop=True)
    geom = community["geom"]
    if geom is None or geom.is_empty:
        geom = shapely.union_all(grids.geometry.values)
    bbox = tuple(geom.bounds)
    roads = repo.read_layer("roads", bbox=bbox)
    compounds = repo.read_layer("compounds", bbox=bbox)
    return CommunityState(
        code=code,
        name=community["name"],
        version=version,
        boundary=gpd.GeoSeries([geom], crs=grids.crs),
        grids=grids,
        buildings=buildings,
        roads=roads.reset_index(drop=True) if len(roads) else None,
        compounds=compounds.reset_index(drop=True) if len(compounds) else None,
        used_codes=tuple(proposals.used_codes(code)),
    )


def _engine_kwargs(state: CommunityState, min_households: int, max_households: int, locked) -> dict:
    return {
        "boundary": state.boundary,
        "roads": state.roads,
        "compounds": state.compounds,
        "min_households": min_households,
        "max_households": max_households,
        "locked": tuple(locked),
        "used_codes": state.used_codes,
    }


def _labels_by_building(state: CommunityState, labels: pd.Series) -> pd.Series:
    """The engine's labels keyed by building id, whether it keyed them by id or by row."""
    ids = state.buildings["building_id"].astype(str)
    index = pd.Index(labels.index).astype(str)
    if index.isin(ids).all():
        return pd.Series(labels.to_numpy(dtype=object), index=index)
    return pd.Series(labels.to_numpy(dtype=object), index=ids.to_numpy()[labels.index])


def draft_from_result(state: CommunityState, kind: str, result) -> Draft:
    """Diff the engine's result against the stored 社区: moved buildings and per-grid totals."""
    labels = _labels_by_building(state, result.labels)
    b = state.buildings.set_index(state.buildings["building_id"].astype(str))
    new = labels.reindex(b.index)
    old = b["grid_code"]
    changed = new.notna() & (new.astype(object) != old.astype(object))
    moves = pd.DataFrame(
        {
            "building_id": b.index[changed],
            "households": b.loc[changed, "households"].fillna(0).astype(int).to_numpy(),
            "from_code": old[changed].to_numpy(dtype=object),
            "to_code": new[changed].to_numpy(dtype=object),
        }
    )
    # before and after both count the buildings' households (stored grid totals may be stale)
    counted = b["households"].fillna(0).astype(int).groupby(old).sum()
    before = {c: int(counted.get(c, 0)) for c in state.grids["code"]}
    after = dict(zip(result.grids["code"], result.grids["households"].astype(int), strict=True))
    totals = [
        {"code": c, "before": before.get(c), "after": after.get(c)}
        for c in sorted(set(before) | set(after))
    ]
    report = _report_dict(result.report)
    return Draft(kind, state, result, moves, totals, report)


def _report_dict(report) -> dict:
    data = dataclasses.asdict(report) if dataclasses.is_dataclass(report) else dict(report)
    out = {}
    for key, value in data.items():
        if isinstance(value, tuple | list):
            value = [str(v) for v in value]
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    out["text"] = str(report)
    return out


def draft_auto(
    state: CommunityState,
    *,
    min_households: int = 250,
    max_households: int = 500,
    locked: Iterable[str] = (),
    seed: int = 0,
    workload: pd.Series | None = None,
    split_compounds: bool = True,
) -> Draft:
    """Run the automatic rebalance on a loaded 社区 (nothing stored).

    ``workload`` (per building id, e.g. :func:`workload_weights`) makes the
    engine also even out the work between neighbouring grids.
    ``split_compounds=False`` keeps every compound that fits a grid whole,
    even when a grid then stays out of band.
    """
    from gridmgmt.core.rebalance import rebalance

    result = rebalance(
        state.grids,
        state.buildings,
        seed=seed,
        workload=workload,
        split_compounds=split_compounds,
        **_engine_kwargs(state, min_households, max_households, locked),
    )
    return draft_from_result(state, "auto", result)


def draft_manual(
    state: CommunityState,
    kind: str,
    *,
    building_ids: Iterable[str] = (),
    to_code: str | None = None,
    code: str | None = None,
    codes: Iterable[str] = (),
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
) -> Draft:
    """Run a manual operation (``move``, ``split``, ``merge``) on a loaded 社区 (nothing stored).

    Band and contiguity problems do not stop it: they are listed in
    ``draft.violations`` for the supervisor to weigh. Impossible input
    (unknown grid or building, non-adjacent grids...) raises ValueError.
    """
    from gridmgmt.core import rebalance as engine

    kw = _engine_kwargs(state, min_households, max_households, ())
    kw.pop("locked")
    known = set(state.grids["code"])
    if kind == "move":
        ids = [str(i) for i in building_ids]
        if not ids:
            raise ValueError("move: choose at least one building")
        unknown = sorted(set(ids) - set(state.buildings["building_id"].astype(str)))
        if unknown:
            raise ValueError(f"move: building(s) {', '.join(unknown[:10])} are not in {state.name}")
        if to_code not in known:
            raise ValueError(f"move: grid {to_code} is not a current grid of {state.name}")
        result = engine.move_buildings(state.grids, state.buildings, ids, to_code, **kw)
    elif kind == "split":
        if code not in known:
            raise ValueError(f"split: grid {code} is not a current grid of {state.name}")
        result = engine.split_grid(state.grids, state.buildings, code, seed=seed, **kw)
    elif kind == "merge":
        codes = [str(c) for c in codes]
        if len(codes) < 2 or not set(codes) <= known:
            raise ValueError(
                f"merge: choose two or more current grids of {state.name}, got {codes}"
            )
        result = engine.merge_grids(state.grids, state.buildings, codes, **kw)
    else:
        raise ValueError(f"unknown manual operation {kind!r}; expected one of {MANUAL_KINDS}")
    return draft_from_result(state, kind, result)


def move_targets(
    state: CommunityState,
    building_ids: Iterable[str],
    *,
    min_households: int = 250,
    max_households: int = 500,
) -> list[str]:
    """Codes of the grids the buildings may move into: those the engine accepts as adjacent.

    Candidates are the grids sharing a boundary with a grid the buildings are
    in; each is kept when :func:`draft_manual` accepts the move (the same
    adjacency rule the move itself checks), so a page offers nothing the
    move would then refuse. Raises ValueError for unknown buildings.
    """
    import shapely

    ids = sorted({str(i) for i in building_ids})
    buildings = state.buildings.set_index(state.buildings["building_id"].astype(str))
    unknown = sorted(set(ids) - set(buildings.index))
    if not ids or unknown:
        raise ValueError(f"move: building(s) {', '.join(unknown[:10])} are not in {state.name}")
    sources = set(buildings.loc[ids, "grid_code"].dropna().astype(str))
    grids = state.grids.set_index(state.grids["code"].astype(str))
    out = []
    for code, geom in grids.geometry.items():
        if code in sources:
            continue
        touches = any(
            shapely.intersection(geom.boundary, grids.geometry[s].boundary).length > 0
            for s in sources
            if s in grids.index
        )
        if not touches:
            continue
        try:
            draft_manual(
                state,
                "move",
                building_ids=ids,
                to_code=code,
                min_households=min_households,
                max_households=max_households,
            )
        except ValueError:
            continue  # not adjacent to these buildings (or locked): not offered
        out.append(code)
    return sorted(out)


def _proposal_content(draft: Draft, author: str) -> ProposalContent:
    """``draft`` as the store keeps a proposal."""
    moved = int(draft.moves["households"].sum()) if len(draft.moves) else 0
    return ProposalContent(
        community_code=draft.state.code,
        base_version=draft.state.version,
        author=author,
        kind=draft.kind,
        grids=draft.result.grids[["code", "kind", "households", "n_buildings", "flag", "geometry"]],
        moves=draft.moves,
        totals=draft.totals,
        report=draft.report,
        summary=f"{draft.kind}: {len(draft.moves)} buildings, {moved} households moved",
    )


def _approval(repo, community_code: str, grids, moves: pd.DataFrame, *, decided_by, note=None):
    """The :class:`Approval` of new ``grids`` for a 社区: moved buildings, facilities, incidents."""
    building_grid = pd.Series(moves["to_code"].to_numpy(dtype=object), index=moves["building_id"])
    facility_grid, incident_grid = affected_objects(repo, community_code, grids)
    return Approval(decided_by, building_grid, facility_grid, incident_grid, note)


def propose(proposals: ProposalRepository, draft: Draft, *, author: str) -> int:
    """Store a draft as a pending proposal on the version it was computed from; returns its id."""
    return proposals.add_proposal(_proposal_content(draft, author))


def propose_and_approve(
    repo, proposals: ProposalRepository, draft: Draft, *, author: str
) -> tuple[int, int]:
    """Store ``draft`` as a proposal and approve it at once, in one transaction.

    What :func:`propose` then :func:`approve_proposal` do, except that a
    failure anywhere (another version approved meanwhile, a database error)
    leaves nothing: no proposal, no grid version.

    Returns
    -------
    (int, int)
        The proposal id and the 社区's new grid version.

    Raises
    ------
    ConflictError
        The 社区 is no longer at the version the draft was computed from.
    """
    content = _proposal_content(draft, author)
    new_grids = content.grids.to_crs("EPSG:4326")  # as approve_proposal reads them back
    approval = _approval(repo, content.community_code, new_grids, draft.moves, decided_by=author)
    return proposals.add_approved_proposal(content, approval)


def _changed_area(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame):
    """Bounding box of the grids whose outline changed (old and new outlines), or None."""
    import shapely

    old_by = dict(zip(old["code"], old.geometry, strict=True))
    new_by = dict(zip(new["code"], new.geometry, strict=True))
    parts = []
    for code in set(old_by) | set(new_by):
        a, b = old_by.get(code), new_by.get(code)
        if a is None or b is None or not shapely.equals(a, b):
            parts.extend(g for g in (a, b) if g is not None)
    if not parts:
        return None
    return tuple(shapely.union_all(parts).bounds)


def affected_objects(repo, community_code: str, new_grids: gpd.GeoDataFrame):
    """Facilities and open incidents whose grid changes when ``new_grids`` replace the 社区's.

    Only objects in the bounding box of changed grids are read; of those,
    only the ones whose grid code differs are returned.

    Returns
    -------
    (Series, DataFrame)
        Facility id -> new code (None: outside every grid); and, indexed by
        incident id, ``grid_code`` and ``reason``.
    """
    from gridmgmt.core.assignment import assign

    current = repo.current_grids()
    mine = current["community_code"] == community_code
    bbox = _changed_area(current[mine], new_grids)
    none = (pd.Series([], dtype=object), pd.DataFrame(columns=["grid_code", "reason"]))
    if bbox is None:
        return none
    grids = pd.concat(
        [
            current.loc[~mine, ["code", "geometry"]],
            new_grids[["code", "geometry"]].to_crs(current.crs),
        ],
        ignore_index=True,
    )
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=current.crs)
    facility_grid, incident_grid = none
    facilities = repo.read_layer("facilities", bbox=bbox)
    if len(facilities):
        placed = assign(facilities, grids)["grid_code"]
        differs = (
            placed.astype(object).to_numpy() != facilities["grid_code"].astype(object).to_numpy()
        )
        facility_grid = pd.Series(
            placed.to_numpy(dtype=object)[differs],
            index=facilities["facility_id"].to_numpy()[differs],
            dtype=object,
        )
    points = repo.incident_points(bbox=bbox)
    located = points[points.geometry.notna()].set_index("id")
    if len(located):
        placed = assign(located, grids)[["grid_code", "reason"]]
        differs = placed["grid_code"].astype(object) != located["grid_code"].astype(object)
        incident_grid = placed[differs.to_numpy()]
    return facility_grid, incident_grid


def approve_proposal(
    repo, proposals: ProposalRepository, proposal_id: int, *, decided_by: str, note=None
) -> int:
    """Approve a pending proposal: the 社区's next grid version; returns its number.

    Raises
    ------
    ConflictError
        When another proposal was approved since this one's base version (it
        names the newer version; this proposal is kept, marked superseded),
        or when the proposal was decided already.
    """
    p = proposals.proposal(proposal_id)
    empty = pd.DataFrame(columns=["grid_code", "reason"])
    if p["status"] != "pending":  # the store names the reason (superseded / decided)
        return proposals.approve(proposal_id, Approval(decided_by, {}, {}, empty))
    approval = _approval(
        repo, p["community_code"], p["grids"], p["moves"], decided_by=decided_by, note=note
    )
    return proposals.approve(proposal_id, approval)


def redo_proposal(
    repo,
    proposals: ProposalRepository,
    proposal_id: int,
    *,
    author: str,
    min_households: int = 250,
    max_households: int = 500,
) -> int:
    """Make a superseded proposal again on the 社区's current version; returns the new proposal's id.

    The operation is read back from the stored proposal: ``auto`` runs the
    automatic rebalance again; ``move`` moves the same buildings to the same
    grid; ``split`` splits the grid the buildings came from; ``merge`` merges
    the grids involved. The old proposal stays as it was (superseded).

    Raises
    ------
    ValueError
        When the proposal is not superseded, or the operation no longer
        applies (e.g. a grid it used was retired).
    """
    p = proposals.proposal(proposal_id)
    if p["status"] != "superseded":
        raise ValueError(
            f"grid proposal {proposal_id} is {p['status']}; only superseded ones are redone"
        )
    state = load_community(repo, proposals, p["community_code"])
    moves = p["moves"]
    band = {"min_households": min_households, "max_households": max_households}
    kind = p["kind"]
    if kind == "auto":
        draft = draft_auto(state, **band)
    elif kind == "move":
        targets = moves["to_code"].unique().tolist()
        if len(targets) != 1:
            raise ValueError(f"grid proposal {proposal_id} moves buildings to several grids")
        draft = draft_manual(
            state, "move", building_ids=moves["building_id"], to_code=targets[0], **band
        )
    elif kind == "split":
        sources = moves["from_code"].unique().tolist()
        if len(sources) != 1:
            raise ValueError(f"grid proposal {proposal_id} does not split one grid")
        draft = draft_manual(state, "split", code=sources[0], **band)
    elif kind == "merge":
        codes = sorted(set(moves["from_code"]) | set(moves["to_code"]))
        draft = draft_manual(state, "merge", codes=codes, **band)
    else:
        raise ValueError(f"a {kind} proposal is not redone; roll back again instead")
    return propose(proposals, draft, author=author)


def retired_grid_workers(repo, proposals: ProposalRepository, proposal_id: int) -> dict[str, list]:
    """Accounts still bound to grids the proposal retires: ``{code: [username, ...]}``.

    Shown after an approval so the supervisor re-binds those 网格员 to the
    grids that took over (accounts are not changed automatically).
    """
    p = proposals.proposal(proposal_id)
    base = proposals.grids_of_version(p["community_code"], p["base_version"])
    retired = set(base["code"]) - set(p["grids"]["code"])
    if not retired:
        return {}
    out: dict[str, list] = {}
    for user in repo.users().itertuples():
        for code in sorted(retired & set(user.grid_codes)):
            out.setdefault(code, []).append(user.username)
    return out


def reject_proposal(proposals: ProposalRepository, proposal_id: int, *, decided_by: str, note=None):
    """Reject a pending proposal (it is kept, with who rejected it and why)."""
    proposals.reject(proposal_id, decided_by=decided_by, note=note)


def rollback(
    repo,
    proposals: ProposalRepository,
    name_or_code: str,
    *,
    author: str,
    to_version: int | None = None,
) -> tuple[int, int]:
    """Restore an earlier grid version of a 社区 as its next version.

    The restoration is itself a ``rollback`` proposal, approved at once, so
    the history records who did it and which version it produced. When the
    version being undone was produced by a proposal, its building moves are
    reversed exactly; otherwise buildings go to the restored grid holding
    most of their footprint.

    Parameters
    ----------
    to_version : int, optional
        The version to restore; default the one before the current version.

    Returns
    -------
    (int, int)
        The rollback proposal's id and the new version.
    """
    from gridmgmt.core.assignment import assign

    state = load_community(repo, proposals, name_or_code)
    versions = proposals.grid_versions(state.code)
    earlier = [v["version"] for v in versions if v["version"] < state.version]
    if to_version is None:
        if not earlier:
            raise ValueError(f"社区 {state.name} has no grid version before {state.version}")
        to_version = earlier[-1]
    if to_version not in earlier:
        raise ValueError(
            f"社区 {state.name}: cannot roll back to version {to_version}; "
            f"earlier versions are {earlier or 'none'}"
        )
    target = proposals.grids_of_version(state.code, to_version)
    current = next(v for v in versions if v["version"] == state.version)
    b = state.buildings.set_index(state.buildings["building_id"].astype(str))
    if current["proposal_id"] is not None and to_version == earlier[-1]:
        undone = proposals.proposal(current["proposal_id"])["moves"]
        labels = b["grid_code"].astype(object).copy()
        labels.loc[undone["building_id"].astype(str)] = undone["from_code"].to_numpy(dtype=object)
    else:
        labels = pd.Series(
            assign(b, target)["grid_code"].to_numpy(dtype=object), index=b.index, dtype=object
        )
    result = _Restored(target, labels)
    draft = draft_from_result(state, "rollback", result)
    draft.report["text"] = f"rollback of {state.name} to grid version {to_version}"
    proposal_id = propose(proposals, draft, author=author)
    version = approve_proposal(
        repo, proposals, proposal_id, decided_by=author, note=f"restores version {to_version}"
    )
    return proposal_id, version


@dataclass
class _Restored:
    """An earlier version's grids and labels, shaped like the engine's result."""

    grids: gpd.GeoDataFrame
    labels: pd.Series

    @property
    def report(self) -> dict:
        return {"violations": []}


@dataclass
class StoredRebalance:
    """What :func:`rebalance_stored` did."""

    proposal_id: int
    version: int | None
    draft: Draft


def rebalance_stored(
    repo,
    proposals: ProposalRepository,
    name_or_code: str,
    *,
    author: str = "cli",
    approve: bool = False,
    locked: Iterable[str] = (),
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    balance_workload: tuple[datetime, datetime] | None = None,
    progress: Callable[[str], None] | None = None,
    split_compounds: bool = True,
) -> StoredRebalance:
    """Rebalance a stored 社区 into a pending proposal, approved at once with ``approve``.

    Used by ``gridmgmt rebalance --community NAME [--approve] [--locked CODE]``.
    ``balance_workload=(start, end)`` also evens out the workload of that
    period between neighbouring grids (:func:`workload_weights`).
    ``split_compounds=False``: compounds that fit a grid stay whole (see
    :func:`draft_auto`).
    """
    say = progress or (lambda _m: None)
    say(f"reading {name_or_code}")
    state = load_community(repo, proposals, name_or_code)
    unknown = sorted(set(locked) - set(state.grids["code"]))
    if unknown:
        raise ValueError(f"--locked: {', '.join(unknown)} are not current grids of {state.name}")
    say(
        f"{state.name} ({state.code}): version {state.version}, {len(state.grids)} grids, "
        f"{len(state.buildings)} buildings; rebalancing"
    )
    workload = None
    if balance_workload is not None:
        say("workload of {} – {}".format(*(f"{t:%Y-%m-%d}" for t in balance_workload)))
        workload = workload_weights(repo, state, *balance_workload)
    draft = draft_auto(
        state,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
        seed=seed,
        workload=workload,
        split_compounds=split_compounds,
    )
    proposal_id = propose(proposals, draft, author=author)
    say(f"stored as proposal {proposal_id}")
    version = None
    if approve:
        version = approve_proposal(repo, proposals, proposal_id, decided_by=author)
        say(f"approved: grid version {version}")
    return StoredRebalance(proposal_id, version, draft)


def workload_weights(repo, state: CommunityState, start: datetime, end: datetime) -> pd.Series:
    """Per-building workload of a loaded 社区 for a period (the engine's ``workload``).

    Each grid's workload index (:mod:`gridmgmt.domain.workload`) is shared
    among its buildings by households
    (:func:`gridmgmt.core.workload.building_weights`).
    """
    from gridmgmt.core.workload import building_weights
    from gridmgmt.domain.workload import area_workload

    table = area_workload(repo, start, end, community=state.code).table
    return building_weights(state.buildings, table)
