"""The partition engine: cut a 社区 into 责任网格 of ``min``–``max`` households.

    result = partition(buildings, boundary=community, roads=roads, compounds=compounds)
    result.grids    # GeoDataFrame: code, kind, households, n_buildings, flag, geometry
    result.labels   # building index -> grid code
    result.report   # QualityReport

How (see :mod:`gridmgmt.core.atoms` for the atoms):

1. **Atoms** are built from street blocks, compounds and buildings; their
   regions tile the 社区. Large non-residential enclosures become
   单位网格 (``kind="unit"``, outside the household band).
2. The other atoms (and regions without buildings, as zero-household
   atoms) form a graph whose edges are shared boundaries. ``zones`` cut
   the edges that cross a zone boundary, so no grid straddles one.
3. Each connected part gets ``k`` grids, the count nearest to an average of
   (min + max) / 2 households that keeps every grid feasible, and is
   split by **recursive balanced bisection** (:mod:`gridmgmt.core.bisection`
   on the graph of :mod:`gridmgmt.core.atom_graph`): for a dozen directions,
   atoms are ordered along the direction and the household-feasible prefix
   nearest the target is tried; cuts that leave either side disconnected are
   rejected, and among the rest the shortest cut (the most compact halves)
   wins. A region-growing fallback covers awkward shapes.
4. Grids still outside the band (atoms are coarse) are repaired
   (:mod:`gridmgmt.core.band_repair`): each is re-split together with one
   to three neighbours (a few atoms are split by enumerating every
   assignment, so exchanges are found); what is left goes to the
   rebalancer (:mod:`gridmgmt.core.rebalance`), whose chains of boundary
   moves reach grids two steps away. Compounds stay whole unless no
   arrangement of whole ones brings every grid into band: then the repair
   may divide one that fits a grid (``compounds_divided``, in a report
   note); a grid it cannot fix stays out of band, flagged ``out_of_band``.
   A grid left wrapped around others is cut open (:mod:`gridmgmt.core.rings`).
5. Grid polygons are the unions of their atoms' regions, so they tile the
   社区 exactly; codes run west→east, north→south (:mod:`gridmgmt.core.codes`).

Deterministic: ties are broken by ``seed`` only through a fixed rotation of
the directions tried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import codes as gc
from gridmgmt.core import crossings
from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.atoms import Atoms, adjacency, build_atoms, road_classes
from gridmgmt.core.band_repair import repair_band
from gridmgmt.core.barrier_moves import pull_back
from gridmgmt.core.barriers import (
    ALONG_SHARE,
    PREFERRED_WEIGHT,
    barrier_contact,
    cut_at_barriers,
    hard_barriers,
    preferred_lines,
)
from gridmgmt.core.bisection import Bisector
from gridmgmt.core.boundary_sides import keep_inside
from gridmgmt.core.boundary_smoothing import (
    cut_length,
    enclosed_count,
    regrow_household_free,
    smooth_boundaries,
)
from gridmgmt.core.compounds import building_compounds
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.flags import count_flags, join_flags
from gridmgmt.core.households import DEFAULT_SHARE_WARNING, default_share
from gridmgmt.core.layers import WGS84
from gridmgmt.core.quality import (
    QualityReport,
    buildings_outside_own_grid,
    compactness_reasons,
    footprint_owner,
    polsby_popper,
    road_aligned_share,
    shape_flags,
)
from gridmgmt.core.rings import open_rings
from gridmgmt.core.tessellation import grid_polygon, polygonal_part
from gridmgmt.core.unit_grids import claim_empty_regions, default_area, unit_groups
from gridmgmt.core.voids import attach_strays, attach_voids

#: how many runs leaving one fenced 小区 out the partition tries when fencing them all
#: costs a grid its band
FENCE_TRIES = 2


@dataclass
class PartitionResult:
    """Grids (EPSG:4326), building labels and the quality report of one run."""

    grids: gpd.GeoDataFrame
    labels: pd.Series
    report: QualityReport
    atoms: Atoms
    metric_crs: str
    #: buildings cut by the boundary or left outside it (id, share_inside, status);
    #: left-out buildings have no label
    boundary_buildings: pd.DataFrame | None = None
    #: compounds that fit one grid but were divided between grids by the band repair,
    #: as no arrangement of whole compounds brought every grid into the band
    compounds_divided: tuple = ()


# ----------------------------------------------------------------- validate
def _as_polygon(boundary, crs, target_crs):
    if boundary is None:
        return None
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise ValueError("boundary has no CRS")
        geoms = boundary.to_crs(target_crs).geometry.values
    else:
        geoms = gpd.GeoSeries([boundary], crs=crs).to_crs(target_crs).values
    geom = shapely.make_valid(shapely.union_all(np.asarray(geoms, dtype=object)))
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    geom = shapely.union_all(polys) if polys else shapely.Polygon()
    if geom.is_empty or geom.area <= 0:
        raise ValueError("boundary is empty")
    return geom


def _metric_layer(frame, crs, name):
    if frame is None or len(frame) == 0:
        return None
    if frame.crs is None:
        raise ValueError(f"{name} have no CRS")
    return frame.to_crs(crs)


def _validate(buildings, boundary, min_households, max_households, code_prefix):
    if min_households > max_households:
        raise ValueError(
            f"min households ({min_households}) is greater than max ({max_households})"
        )
    if min_households < 0 or max_households <= 0:
        raise ValueError("household bounds must be positive")
    if code_prefix is not None:
        gc.validate_prefix(code_prefix)
    if buildings is None or len(buildings) == 0:
        raise ValueError("no buildings to partition")
    if "households" not in buildings.columns:
        raise ValueError("buildings: missing column households")
    if buildings.crs is None:
        raise ValueError("buildings have no CRS")
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    if hh.isna().any() or (hh < 0).any():
        bad = buildings.index[hh.isna() | (hh < 0)][:10].tolist()
        raise ValueError(f"buildings: households missing or negative for {bad}")
    return hh.to_numpy(dtype=np.int64)


def _ids(buildings) -> np.ndarray:
    return (
        (
            buildings["building_id"]
            if "building_id" in buildings.columns
            else buildings.index.to_series()
        )
        .astype(str)
        .to_numpy()
    )


# ------------------------------------------------------------------ public
def partition(
    buildings: gpd.GeoDataFrame,
    *,
    boundary=None,
    roads: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    min_households: int = 250,
    max_households: int = 500,
    unit_min_area_m2: float = 50_000,
    code_prefix: str | None = "000000000000",
    seed: int = 0,
    repair: bool = True,
    barriers: bool = True,
) -> PartitionResult:
    """Partition one 社区 into 责任网格.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with ``households`` (and optionally ``building_id``,
        ``compound_id``), any CRS.
    boundary : Polygon, GeoSeries or GeoDataFrame, optional
        The 社区. Default: the buildings' convex hull buffered by 30 m.
        A bare shapely geometry is taken to be in the buildings' CRS.
    roads : GeoDataFrame, optional
        Centre lines with ``road_class``; arterial to residential classes
        bound street blocks, service roads and paths split large compounds.
    compounds : GeoDataFrame, optional
        Enclosures with ``compound_id``, ``compound_kind``, ``landuse``.
    zones : GeoDataFrame, optional
        Polygons (school catchments, property or police areas) whose
        boundaries grids must not cross.
    min_households, max_households : int
        The band for residential grids (inclusive).
    unit_min_area_m2 : float
        Smallest non-residential enclosure that becomes a 单位网格.
    code_prefix : str or None
        12-digit 社区 code; grid codes append a 3-digit sequence. ``None``
        numbers grids with bare 6-digit sequences (for areas larger than a
        社区, e.g. benchmarks; such codes cannot be stored).
    seed : int
        Makes tie-breaking reproducible.
    repair : bool
        Hand grids still out of band to the rebalancer's boundary moves
        (default). ``False`` returns the bisection's grids as they are.
    barriers : bool
        Treat motorways, trunk and primary roads, railways and rivers as
        hard boundaries (default): grouping joins atoms across one only
        where a part between them holds too few households for a grid;
        grids holding land on both sides of one get ``crossed_m`` (the
        length straddled) and the flag ``crosses_major_road``. Every grid's flag also says
        ``encloses_grid`` (it has holes) or ``not_compact`` (Polsby-Popper
        under 0.15) where that holds; flags are comma-separated.

    Returns
    -------
    PartitionResult

    Raises
    ------
    ValueError
        Bad bounds, an empty boundary, no building inside the boundary,
        missing columns. Buildings with most of their footprint outside the
        boundary are left out (unlabelled) and listed with the ones it cuts
        in ``boundary_buildings``; an area without households gives unit
        grids and a note.
    """
    started = time.perf_counter()
    hh_all = _validate(buildings, boundary, min_households, max_households, code_prefix)
    crs = metric_crs(buildings)
    b = buildings.to_crs(crs)
    ids = _ids(buildings)
    geom = np.asarray(b.geometry.values, dtype=object)
    area = _as_polygon(boundary, buildings.crs, crs)
    c = _metric_layer(compounds, crs, "compounds")
    if area is None:
        area = default_area(geom, c, unit_min_area_m2)
    given = buildings
    buildings, b, geom, kept = keep_inside(buildings, b, geom, area, ids)
    ids, hh_all = ids[kept.kept], hh_all[kept.kept]
    rep = shapely.point_on_surface(geom)

    r = _metric_layer(roads, crs, "roads")
    if c is not None:
        for col, default in (("compound_kind", "residential"), ("landuse", "residential")):
            if col not in c.columns:
                c[col] = default
        if "compound_id" not in c.columns:
            c["compound_id"] = [f"compound:{i}" for i in range(len(c))]
        c = c[c.intersects(area)]
    building_compound = building_compounds(b, rep, c)

    roads_geom, classes = (None if r is None else r.geometry.values), road_classes(r)
    cut_lines = (
        None
        if zones is None or len(zones) == 0
        else shapely.boundary(zones.to_crs(crs).geometry.values)
    )
    lines = hard_barriers(roads_geom, classes) if barriers else None
    preferred = preferred_lines(roads_geom, classes)

    def run(fence_nested: bool | frozenset) -> PartitionResult:
        atoms = build_atoms(
            area,
            geom,
            hh_all,
            building_compound,
            roads_geom=roads_geom,
            road_class=classes,
            compounds=c,
            min_households=min_households,
            max_households=max_households,
            unit_min_area_m2=unit_min_area_m2,
            cut_lines=cut_lines,
            fence_nested=fence_nested,
        )
        groups, kinds, flags = _group(
            atoms,
            area,
            zones,
            crs,
            min_households,
            max_households,
            seed,
            barriers=lines,
            preferred=preferred,
            unit_min_area_m2=unit_min_area_m2,
        )
        grids_metric = _assemble_polygons(atoms, groups)
        needs_repair = repair and "out_of_band" in flags
        result = _assemble(
            buildings,
            ids,
            atoms,
            groups,
            kinds,
            flags,
            grids_metric,
            crs,
            (r, c, area),
            code_prefix,
            min_households,
            max_households,
            started,
            with_report=not needs_repair,  # else reported once, after the repair
            footprints=geom,
            flag_crossings=barriers and not needs_repair,  # else flagged once, after the repair
        )
        if needs_repair:
            result = _rebalanced(
                result,
                buildings,
                ids,
                (r, c, zones, area),
                (min_households, max_households),
                code_prefix,
                seed,
                started,
                footprints=geom,
                flag_crossings=barriers,
            )
        return result

    result = run(fence_nested=True)
    fenced = result.atoms.fenced_compounds
    if fenced and _band_misses(result):
        # 小区 held to their walls can cut the residential ground around a campus apart.
        # When none fenced does better, fence all but the one that gave up most ground
        # (then the next); keep the most fenced run with as few grids out of band or
        # enclosing another as none fenced. Misses fencing does not cause cost one run.
        loose = run(fence_nested=False)
        if _band_misses(loose) < _band_misses(result):
            result = loose
            for cid in fenced[:FENCE_TRIES] if len(fenced) > 1 else ():
                some = run(fence_nested=frozenset({cid}))
                if _band_misses(some) <= _band_misses(loose):
                    result = some
                    break
    result.compounds_divided = _divided_by_repair(result, building_compound)
    if result.compounds_divided:
        result.report = replace(
            result.report,
            compounds_split=result.report.compounds_split + len(result.compounds_divided),
            notes=(
                *result.report.notes,
                f"compound(s) {', '.join(result.compounds_divided)} divided between grids: "
                "no arrangement of whole compounds brought every grid into the band",
            ),
        )
    if len(buildings) < len(given):
        result.labels = result.labels.reindex(given.index)
    result.boundary_buildings = kept.table
    _report_default_estimates(result, buildings)
    return result


def _divided_by_repair(result: PartitionResult, building_compound: np.ndarray) -> tuple:
    """Compounds whose buildings the band repair put in several grids (atoms held them whole)."""
    known = np.asarray([c is not None for c in building_compound])
    if not known.any():
        return ()
    grids = pd.Series(result.labels.to_numpy()[known]).groupby(building_compound[known]).nunique()
    per_atoms = pd.Series(result.atoms.compound_id).dropna().value_counts()
    whole_in_atoms = set(grids.index) - set(per_atoms[per_atoms > 1].index)
    return tuple(sorted(c for c in grids[grids > 1].index if c in whole_in_atoms))


def _band_misses(result: PartitionResult) -> int:
    """Grids of a run out of band (not for an indivisible building) or enclosing another grid."""
    counts = count_flags(result.grids["flag"])
    return counts.get("out_of_band", 0) + counts.get("encloses_grid", 0)


def _report_default_estimates(result: PartitionResult, buildings: gpd.GeoDataFrame) -> None:
    """Each grid's share of households estimated from default floors, with a note per grid over half.

    A grid drawn on guessed households is only as good as the guess: the
    supervisor sees where a ledger (台账) or floor counts are needed.
    """
    share = default_share(buildings, result.labels.reindex(buildings.index).to_numpy())
    result.grids["default_share"] = result.grids["code"].map(share).fillna(0.0).round(3)
    over = share[share > DEFAULT_SHARE_WARNING].sort_index()
    if result.report is not None and len(over):
        shown = ", ".join(str(c)[-3:] for c in over.index[:12]) + (" …" if len(over) > 12 else "")
        result.report.notes = (
            *result.report.notes,
            f"{len(over)} of {len(result.grids)} grid(s) have more than "
            f"{DEFAULT_SHARE_WARNING:.0%} of their households from default estimates (no "
            f"ledger, floors or height): {shown}; check them with the 社区's ledger (台账)",
        )


def _rebalanced(
    result: PartitionResult,
    buildings,
    ids,
    layers,
    band,
    prefix,
    seed,
    started,
    *,
    footprints,
    flag_crossings: bool = False,
):
    """The partition with its out-of-band grids rebalanced, renumbered in reading order.

    ``layers`` are the metric (roads, compounds, zones, 社区 polygon), ``band`` is (min, max).
    Kept only when fewer grids end out of band.
    """
    from gridmgmt.core.rebalance import rebalance  # it builds on this module

    roads, compounds, zones, area = layers
    lo, hi = band
    frame = gpd.GeoDataFrame(
        {"id": ids, "households": buildings["households"].to_numpy(), "grid_code": result.labels},
        geometry=buildings.geometry.values,
        crs=buildings.crs,
    )
    for col in ("compound_id",):
        if col in buildings.columns:
            frame[col] = buildings[col].to_numpy()
    fixed = rebalance(
        result.grids,
        frame,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=lo,
        max_households=hi,
        seed=seed,
        local_repartition=False,
        # whole compounds first; a compound that fits one grid is divided only
        # where no arrangement of whole ones brings every grid into band
        split_compounds=True,
    )
    if len(fixed.report.out_of_band_after) >= len(fixed.report.out_of_band_before):
        grids = result.grids.to_crs(result.metric_crs)
        if flag_crossings:  # the partition's own grids, flagged now
            crossings.flag_crossings(
                grids, roads, footprints, buildings["households"].to_numpy(), lo
            )
            flagged = result.grids.drop(columns="geometry")
            for col in ("flag", "crossed_m", "crossed_why"):
                flagged[col] = grids[col].to_numpy()
            result.grids = gpd.GeoDataFrame(
                flagged, geometry=result.grids.geometry.values, crs=result.grids.crs
            )
        placed = (footprints, result.labels.to_numpy())
        result.report = _quality(
            grids, (roads, compounds, area), lo, hi, result.atoms, started, placed
        )
        return result
    grids = fixed.grids.to_crs(result.metric_crs)
    c = shapely.centroid(grids.geometry.values)
    codes = gc.assign_codes(
        prefix, shapely.get_x(c), shapely.get_y(c), shapely.area(grids.geometry.values)
    )
    renumber = dict(zip(grids["code"], codes, strict=True))
    grids["code"] = codes
    grids = grids.sort_values("code", kind="stable").reset_index(drop=True)
    if flag_crossings:
        crossings.flag_crossings(grids, roads, footprints, buildings["households"].to_numpy(), lo)
    _flag_shapes(grids, area, compounds)
    labels = pd.Series(
        fixed.labels.reindex(ids).map(renumber).to_numpy(),
        index=buildings.index,
        name="grid_code",
    )
    placed = (footprints, labels.to_numpy())
    report = _quality(grids, (roads, compounds, area), lo, hi, result.atoms, started, placed)
    return PartitionResult(
        grids=_to_wgs84(grids),
        labels=labels,
        report=report,
        atoms=result.atoms,
        metric_crs=result.metric_crs,
    )


# ------------------------------------------------------------------ compute
def _group(
    atoms: Atoms,
    area,
    zones,
    crs,
    lo,
    hi,
    seed,
    *,
    barriers=None,
    preferred=None,
    unit_min_area_m2=50_000.0,
):
    """Atom index groups, one per grid, with kind and flag.

    Contacts along ``barriers`` (lines) are cut unless a part between them
    is too small for a grid of its own. Contacts along ``preferred`` lines
    (secondary roads) weigh :data:`~gridmgmt.core.barriers.PREFERRED_WEIGHT`
    of their length where cuts are chosen and boundaries smoothed, so grids
    rather end at them.
    """
    empty = atoms.empty_regions
    regions = np.concatenate([atoms.region, empty]) if len(empty) else atoms.region
    total_n = len(regions)
    hh = np.concatenate([atoms.households, np.zeros(len(empty), dtype=np.int64)])
    kind = np.concatenate([atoms.kind, np.full(len(empty), "residential", dtype=object)])
    flag = np.concatenate([atoms.flag, np.full(len(empty), "", dtype=object)])
    c = shapely.centroid(regions)
    # to the millimetre: regular layouts have exact ties, which float noise must not decide
    xy = np.round(np.column_stack([shapely.get_x(c), shapely.get_y(c)]), 3)
    i, j, w = adjacency(regions, grid_size=None)  # atoms' regions are a clean coverage
    full_graph = AtomGraph(total_n, i, j, w)
    # the weight of each contact where cuts are chosen: cheaper along secondary roads
    along_preferred = np.minimum(barrier_contact(regions, i, j, preferred), w)
    weight = w - (1.0 - PREFERRED_WEIGHT) * along_preferred

    unit_id = np.concatenate([atoms.unit_id, np.full(len(empty), None, dtype=object)])
    kind, unit_id = claim_empty_regions(kind, unit_id, len(atoms), full_graph)
    if hh.sum() == 0:  # no households anywhere: unit grids only
        return _unit_grids_only(regions, kind, unit_id, full_graph, unit_min_area_m2)
    if hh.sum() < lo and not (kind == "unit").any():  # the whole 社区 is one grid
        return [np.arange(total_n)], ["residential"], ["community_below_min"]

    groups, kinds, flags, unit_leftovers = unit_groups(
        unit_id, kind, full_graph, shapely.area(regions), unit_min_area_m2
    )
    indivisible = np.flatnonzero(flag == "indivisible_building")
    for a in indivisible:
        groups.append(np.asarray([a]))
        kinds.append("residential")
        flags.append("indivisible_building")

    residential = (kind == "residential") & (flag != "indivisible_building")
    keep_edge = residential[i] & residential[j]
    same_zone = np.ones(len(i), dtype=bool)
    if zones is not None and len(zones):
        z = zones.to_crs(crs)
        tree = shapely.STRtree(z.geometry.values)
        pi, zi = tree.query(shapely.point_on_surface(regions), predicate="within")
        zone_of = np.full(total_n, -1)
        zone_of[pi] = zi
        same_zone = zone_of[i] == zone_of[j]
        keep_edge &= same_zone
    along = barrier_contact(regions, i, j, barriers)
    open_edge = keep_edge & (along < ALONG_SHARE * w)  # contacts not along a barrier
    keep_edge, _ = cut_at_barriers(
        total_n, i, j, w, keep_edge, along, hh, np.flatnonzero(residential), lo
    )
    graph = AtomGraph(total_n, i[keep_edge], j[keep_edge], weight[keep_edge])
    bis = Bisector(graph, hh, xy, lo, hi, seed)
    voids = list(unit_leftovers)
    for part in graph.components(np.flatnonzero(residential)):
        total = hh[part].sum()
        if total == 0:
            voids.append(part)
            continue
        k, _ = bis.count(total)
        pieces = bis.split(part, k)
        pieces = repair_band(pieces, graph, bis) if len(pieces) > 1 else pieces
        for p in pieces:
            if len(p) == 0:
                continue
            groups.append(p)
            kinds.append("residential")
            flags.append(
                "" if lo <= hh[p].sum() <= hi else "part_below_min" if total < lo else "out_of_band"
            )
    if (along > 0).any():  # voids join grids within barriers first, then across them
        open_edge |= (kind[i] == "unit") | (kind[j] == "unit")
        attach_voids(voids, groups, AtomGraph(total_n, i[open_edge], j[open_edge], w[open_edge]))
    attach_voids(voids, groups, full_graph)
    attach_strays(groups, regions)
    smooth = same_zone & (along < ALONG_SHARE * w)  # never across a zone or barrier
    smooth_graph = AtomGraph(total_n, i[smooth], j[smooth], weight[smooth])
    on_outline = (
        shapely.length(shapely.intersection(shapely.boundary(regions), shapely.boundary(area)))
        > 1.0
    )
    regrown = smooth_boundaries(
        regrow_household_free(groups, kinds, hh, smooth_graph, xy), kinds, hh, smooth_graph
    )
    groups = smooth_boundaries(groups, kinds, hh, smooth_graph)
    weighed = AtomGraph(total_n, i, j, weight)
    if cut_length(regrown, weighed) < cut_length(groups, weighed) and enclosed_count(
        regrown, full_graph, on_outline
    ) <= enclosed_count(groups, full_graph, on_outline):
        groups = regrown
    groups = open_rings(groups, kinds, hh, full_graph, on_outline, shapely.area(regions))
    if (along > 0).any():  # atoms held across a barrier go back to their side where the band allows
        across = np.where(along >= ALONG_SHARE * w, along, 0.0)
        groups = pull_back(groups, kinds, hh, full_graph, across, smooth, (lo, hi))
        flags = [
            ("" if lo <= hh[g].sum() <= hi else "out_of_band")
            if k == "residential" and f in ("", "out_of_band")
            else f
            for g, f, k in zip(groups, flags, kinds, strict=True)
        ]
    return groups, kinds, flags


def _unit_grids_only(regions, kind, unit_id, graph: AtomGraph, unit_min_area_m2: float):
    """Grids of a 社区 without households: its enclosures, then each connected rest, all units."""
    groups, kinds, flags, leftovers = unit_groups(
        unit_id, kind, graph, shapely.area(regions), unit_min_area_m2
    )
    rest = kind != "unit"
    keep = rest[graph.i] & rest[graph.j]
    rest_graph = AtomGraph(graph.n, graph.i[keep], graph.j[keep], graph.w[keep])
    for part in rest_graph.components(np.flatnonzero(rest)):
        groups.append(np.asarray(part))
        kinds.append("unit")
        flags.append("no_households")
    attach_voids(leftovers, groups, graph)
    attach_strays(groups, regions)
    return groups, kinds, flags


# ----------------------------------------------------------------- assemble
def _assemble_polygons(atoms: Atoms, groups) -> list:
    regions = (
        np.concatenate([atoms.region, atoms.empty_regions])
        if len(atoms.empty_regions)
        else atoms.region
    )
    return [grid_polygon(regions[nodes]) for nodes in groups]


def _assemble(
    buildings,
    ids,
    atoms,
    groups,
    kinds,
    flags,
    polys,
    crs,
    layers,
    prefix,
    lo,
    hi,
    started,
    *,
    with_report: bool = True,
    footprints=None,
    flag_crossings: bool = False,
):
    """The result of a run; ``layers`` are the metric (roads, compounds, 社区 polygon).

    ``with_report=False`` leaves the report None, for a caller that reports later.
    """
    n_atoms = len(atoms)
    hh_atoms = np.concatenate(
        [atoms.households, np.zeros(len(atoms.empty_regions), dtype=np.int64)]
    )
    nb_atoms = np.concatenate(
        [atoms.n_buildings, np.zeros(len(atoms.empty_regions), dtype=np.int64)]
    )
    households = [int(hh_atoms[g].sum()) for g in groups]
    n_buildings = [int(nb_atoms[g].sum()) for g in groups]
    poly_arr = np.asarray(polys, dtype=object)
    c = shapely.centroid(poly_arr)
    codes = gc.assign_codes(prefix, shapely.get_x(c), shapely.get_y(c), shapely.area(poly_arr))
    multipart = [p.geom_type != "Polygon" for p in polys]
    flags = [f or ("multipart" if m else "") for f, m in zip(flags, multipart, strict=True)]
    grids = gpd.GeoDataFrame(
        {
            "code": codes,
            "kind": kinds,
            "households": households,
            "n_buildings": n_buildings,
            "flag": [f or None for f in flags],
        },
        geometry=list(polys),
        crs=crs,
    )
    if flag_crossings:
        households = buildings["households"].to_numpy()
        crossings.flag_crossings(grids, layers[0], footprints, households, lo)
    _flag_shapes(grids, layers[2], layers[1])
    order = np.argsort(codes)
    grids = grids.iloc[order].reset_index(drop=True)

    atom_grid = np.full(n_atoms + len(atoms.empty_regions), "", dtype=object)
    for code, nodes in zip(codes, groups, strict=True):
        atom_grid[nodes] = code
    labels = pd.Series(atom_grid[atoms.building_atom], index=buildings.index, name="grid_code")
    if footprints is not None:  # a building spread over blocks: the grid holding most of it
        owner = footprint_owner(footprints, labels, grids.geometry.values, grids["code"])
        if (owner != labels.to_numpy()).any():
            labels[:] = owner
            hh = pd.Series(buildings["households"].to_numpy()).groupby(owner).sum()
            grids["households"] = hh.reindex(grids["code"], fill_value=0).to_numpy()
            count = pd.Series(owner).value_counts()
            grids["n_buildings"] = count.reindex(grids["code"], fill_value=0).to_numpy()

    placed = None if footprints is None else (footprints, labels.to_numpy())
    report = _quality(grids, layers, lo, hi, atoms, started, placed) if with_report else None
    return PartitionResult(
        grids=_to_wgs84(grids), labels=labels, report=report, atoms=atoms, metric_crs=crs
    )


def _quality(
    grids, layers, lo, hi, atoms: Atoms, started: float, placed=None, notes=()
) -> QualityReport:
    """The quality report of grids in a metric CRS; ``layers`` as for :func:`_assemble`.

    ``placed`` is (metric footprints, grid code per building): the report
    counts buildings labelled with a grid that holds less of them than another.
    """
    roads, compounds, area = layers
    if grids["households"].sum() == 0:
        notes = (
            *notes,
            "no households anywhere: unit grids only; estimate or import households "
            "for residential grids",
        )
    res = grids[grids["kind"] == "residential"]
    hh = res["households"].to_numpy()
    edges = []
    if roads is not None:
        edges.extend(roads.geometry.values)
    if compounds is not None:
        edges.extend(shapely.boundary(compounds.geometry.values))
    return QualityReport(
        grids=len(grids),
        residential_grids=len(res),
        unit_grids=int((grids["kind"] == "unit").sum()),
        households_min=int(hh.min()) if len(hh) else 0,
        households_median=float(np.median(hh)) if len(hh) else 0.0,
        households_max=int(hh.max()) if len(hh) else 0,
        share_in_band=float(((hh >= lo) & (hh <= hi)).mean()) if len(hh) else 1.0,
        mean_polsby_popper=float(polsby_popper(grids.geometry.values).mean()),
        road_aligned_share=road_aligned_share(grids.geometry.values, edges, outline=area),
        compounds_split=atoms.compounds_split,
        atoms=len(atoms),
        runtime_s=time.perf_counter() - started,
        flags=count_flags(grids["flag"]),
        buildings_outside_own_grid=0
        if placed is None
        else buildings_outside_own_grid(
            placed[0], placed[1], grids.geometry.values, grids["code"].to_numpy()
        ),
        notes=tuple(notes),
    )


def _flag_shapes(grids: gpd.GeoDataFrame, area=None, compounds=None) -> None:
    """Add the shape flags (holes, low compactness) to each grid's flag, and ``compact_why``."""
    grids["flag"] = [
        join_flags(flag, shape)
        for flag, shape in zip(grids["flag"], shape_flags(grids.geometry.values), strict=True)
    ]
    grids["compact_why"] = compactness_reasons(
        grids.geometry.values,
        grids["kind"].tolist(),
        area,
        None if compounds is None or not len(compounds) else compounds.geometry.values,
    )


def _to_wgs84(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = grids.to_crs(WGS84)
    invalid = ~out.is_valid
    if invalid.any():  # reprojection can make a ring touch itself
        out.loc[invalid, "geometry"] = [
            polygonal_part(shapely.make_valid(g)) for g in out.geometry[invalid]
        ]
    return out
