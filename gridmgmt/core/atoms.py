"""Atoms: the indivisible units the partitioner groups into grids.

An atom is a set of buildings that stays together, with a *region* (a
polygon) so that the regions of all atoms, plus regions with no buildings,
tile the 社区:

1. the 社区 is cut into street blocks by its road centre lines;
2. within a block, the buildings of one compound (小区/单位 enclosure) form
   a group, and buildings outside any compound another;
3. a group whose households fit under the ceiling is one atom; a larger one
   is split along its internal roads and paths, then between buildings
   (household-balanced cuts across the longer side) into pieces of at most
   a third of the ceiling, which gives the partitioner room to meet the band;
   a single building over the ceiling is an atom of its own, flagged
   ``indivisible_building``;
4. a large non-residential enclosure (a 单位 compound of at least
   ``unit_min_area_m2``) is never split: its atoms are marked ``unit`` and
   later form one 单位网格, with or without households in it. Residential
   compounds inside it are compounds of their own (residential atoms); its
   other buildings with households leave the unit only as clusters (gaps of
   at most ``RESIDENTIAL_CLUSTER_GAP`` m) holding ``min_households`` or
   more, which become residential atoms;
5. each block is shared among its atoms by the Voronoi cells of points on
   their buildings' outlines and on their compound walls, so boundaries
   between atoms run along walls and between buildings, and the space of
   roads and open ground is divided among neighbours; inside a 单位
   enclosure, near its rim, a housing cluster keeps only its buildings and
   a yard around them, and (``fence_nested``) a nested 小区 its own wall:
   the campus ground beyond goes to the unit;
6. the regions of all atoms are cleaned into one exact coverage, so
   neighbours (also across a road, from different blocks) share identical
   edges: :func:`adjacency` matches them segment by segment and grid
   polygons are exact unions.

All geometry is in a metric CRS.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridmgmt.core.atom_regions import Piece, hold_whole_footprints, settle_block
from gridmgmt.core.barriers import HARD_BARRIER_CLASSES
from gridmgmt.core.tessellation import (
    BLOCK_ROAD_CLASSES,
    clean_coverage,
    densify_points,
    segments,
    street_blocks,
    voronoi_shares,
)
from gridmgmt.core.unit_grids import unit_enclosures

WALL_SPACING = 20.0
#: a group over the ceiling is split into pieces of at most ceiling / SPLIT_FRACTION
#: households: once a compound must be divided, finer pieces let grids meet the band
SPLIT_FRACTION = 3
#: metres between buildings with households that still make one residential
#: cluster inside a 单位 enclosure (staff housing, dormitory blocks)
RESIDENTIAL_CLUSTER_GAP = 40.0
#: metres of ground around the buildings of a residential cluster inside a 单位
#: enclosure that its grid holds; the rest of the campus (lawns, sports grounds,
#: teaching buildings' yards) stays in the unit grid
CLUSTER_YARD_M = 10.0
#: metres from a 单位 enclosure's outline within which residential ground inside it
#: is fenced to its yard (it keeps the rim beside it, its way out of the enclosure)
RIM_M = 20.0


@dataclass
class Atoms:
    """Atoms of one 社区 (metric CRS)."""

    region: np.ndarray  # polygon per atom
    households: np.ndarray  # int per atom
    n_buildings: np.ndarray
    kind: np.ndarray  # "residential" | "unit"
    unit_id: np.ndarray  # compound id of a unit atom, else None
    compound_id: np.ndarray  # compound the atom lies in (None outside compounds)
    flag: np.ndarray  # "" or "indivisible_building"
    building_atom: np.ndarray  # atom index per building (-1: outside the boundary)
    empty_regions: np.ndarray  # polygons of blocks without any atom
    compounds_split: int
    #: 小区 nested in a 单位 held to their walls (``fence_nested``), most ground given up first
    fenced_compounds: tuple = ()

    def __len__(self) -> int:
        return len(self.region)

    @property
    def centroid_xy(self) -> np.ndarray:
        c = shapely.centroid(self.region)
        return np.column_stack([shapely.get_x(c), shapely.get_y(c)])


def _bisect(idx: np.ndarray, hh: np.ndarray, xy: np.ndarray, ceiling: int) -> list[np.ndarray]:
    """Split building indices into household-balanced pieces of at most ``ceiling``."""
    if hh[idx].sum() <= ceiling or len(idx) == 1:
        return [idx]
    pts = xy[idx]
    axis = int(np.ptp(pts[:, 0]) < np.ptp(pts[:, 1]))
    order = idx[np.argsort(pts[:, axis], kind="stable")]
    cum = np.cumsum(hh[order])
    cut = int(np.searchsorted(cum, cum[-1] / 2.0)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    return _bisect(order[:cut], hh, xy, ceiling) + _bisect(order[cut:], hh, xy, ceiling)


def _split_group(members, hh, xy, rep, poly, internal_tree, ceiling) -> list[np.ndarray]:
    """Pieces of a group over the ceiling: by internal roads first, then by buildings.

    ``internal_tree`` is an STRtree over the internal roads and paths (or None).
    """
    pieces = [members]
    if internal_tree is not None and poly is not None:
        near = internal_tree.geometries.take(internal_tree.query(poly, predicate="intersects"))
        lines = shapely.intersection(near, poly)
        lines = [
            g for g in shapely.get_parts(lines) if g.geom_type == "LineString" and g.length > 1
        ]
        if lines:
            faces = shapely.get_parts(
                shapely.polygonize(shapely.get_parts(shapely.union_all([poly.boundary, *lines])))
            )
            if len(faces) > 1:
                tree = shapely.STRtree(faces)
                hit_b, hit_f = tree.query(rep[members], predicate="within")
                face_of = np.full(len(members), -1)
                face_of[hit_b] = hit_f
                pieces = [members[face_of == f] for f in np.unique(face_of)]
    out = []
    for piece in pieces:
        out.extend(_bisect(piece, hh, xy, ceiling) if hh[piece].sum() > ceiling else [piece])
    return [p for p in out if len(p)]


def _wall_seeds(comp_geom, atom_comp, atom_members, building_atom, buildings_geom):
    """Points just inside every compound wall, labelled with the atom of the nearest member building.

    One nearest-building query for all points; where the nearest building
    lies outside the point's compound, distances to the compound's members
    decide, in one vectorised call.
    """
    comp_atoms: dict = {}
    for a, cid in enumerate(atom_comp):
        if cid is not None:
            comp_atoms.setdefault(cid, []).append(a)
    cids = [cid for cid in comp_geom if cid in comp_atoms]
    if not cids:
        return np.zeros((0, 2)), np.zeros(0, dtype=int)
    walls = shapely.buffer(np.asarray([comp_geom[c] for c in cids], dtype=object), -0.5)
    xy, which = densify_points(walls, WALL_SPACING)
    if len(xy) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=int)
    members = [np.concatenate([atom_members[a] for a in comp_atoms[c]]) for c in cids]
    label = np.asarray([comp_atoms[c][0] for c in cids])[which]  # compounds without buildings
    sizes = np.asarray([len(m) for m in members])
    points = shapely.points(xy)
    # the nearest building, kept when it is a member of the point's compound ...
    building_comp = np.full(len(buildings_geom), -1)
    for k, m in enumerate(members):
        building_comp[m] = k
    nearest = shapely.STRtree(buildings_geom).nearest(points)
    own = building_comp[nearest] == which
    label[own] = building_atom[nearest[own]]
    # ... else the nearest member, by distances to every member of the compound
    rest = np.flatnonzero(~own & (sizes[which] > 0))
    if len(rest):
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        counts = sizes[which[rest]]
        point_of = np.repeat(np.arange(len(rest)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = np.concatenate(members)[np.repeat(starts[which[rest]], counts) + offsets]
        dist = shapely.distance(points[rest][point_of], buildings_geom[cand])
        order = np.lexsort((dist, point_of))
        first = np.r_[0, np.flatnonzero(np.diff(point_of[order])) + 1]
        label[rest] = building_atom[cand[order[first]]]
    return xy, label


def _residential_yards(
    atom_members,
    atom_kind,
    atom_comp,
    atom_unit,
    atom_block,
    comp_geom,
    buildings_geom,
    *,
    fence_nested: bool | frozenset = False,
) -> dict:
    """The ground residential atoms inside a 单位 enclosure may hold, and the unit atom.

    For the residential atoms of a cluster of staff housing (buildings with
    households directly in the enclosure) in the same block as the
    enclosure's unit atom: its buildings and :data:`CLUSTER_YARD_M` around
    them; with ``fence_nested`` (True, or the ids to leave out), for a
    compound nested in the enclosure: its outline (and footprints over its wall). Both with the
    enclosure's rim next to them (:func:`_on_rim`). The rest of their
    Voronoi share (campus ground nearer to their buildings or walls than to
    the unit's) goes to the unit atom.

    Returns
    -------
    dict
        Atom -> (polygon it may hold, unit atom of its block).
    """
    unit_atom = {
        (atom_block[a], atom_unit[a]): a
        for a in range(len(atom_members))
        if atom_kind[a] == "unit" and atom_unit[a] is not None
    }
    if not unit_atom:
        return {}
    nested = {}  # residential compound -> the enclosure holding it
    unfenced = fence_nested if isinstance(fence_nested, frozenset) else frozenset()
    unit_ids = sorted({cid for _, cid in unit_atom})
    others = [cid for cid in comp_geom if cid not in set(unit_ids)]
    if fence_nested and others:
        enclosures = np.asarray([comp_geom[cid] for cid in unit_ids], dtype=object)
        inner = shapely.point_on_surface(np.asarray([comp_geom[c] for c in others], dtype=object))
        ci, ui = shapely.STRtree(enclosures).query(inner, predicate="within")
        nested = {others[c]: unit_ids[u] for c, u in zip(ci, ui, strict=True)}
    fenced: dict = {}  # (block, enclosure, ground) -> atoms that share that ground
    for a, (kind, cid) in enumerate(zip(atom_kind, atom_comp, strict=True)):
        if kind != "residential" or not len(atom_members[a]):
            continue
        if (atom_block[a], cid) in unit_atom:  # a cluster: its pieces share one yard
            fenced.setdefault((atom_block[a], cid, None), []).append(a)
        elif cid in nested and (atom_block[a], nested[cid]) in unit_atom and cid not in unfenced:
            fenced.setdefault((atom_block[a], nested[cid], cid), []).append(a)
    yards = {}
    for (block, enclosure, compound), atoms in fenced.items():
        housing = np.concatenate([atom_members[a] for a in atoms])
        if compound is None:
            ground = shapely.buffer(shapely.union_all(buildings_geom[housing]), CLUSTER_YARD_M)
        else:  # its outline, and the footprints reaching over its wall
            ground = shapely.union_all([comp_geom[compound], *buildings_geom[housing]])
        held = _on_rim(ground, comp_geom[enclosure])
        if held is not None:
            yards.update({a: (held, unit_atom[(block, enclosure)]) for a in atoms})
    return yards


def _on_rim(yard, enclosure):
    """``yard`` and the enclosure's rim next to it, or None when it lies inside, off the rim.

    Fenced in away from the rim, housing would be an island in the unit grid
    (a ring grid around a grid too small for the band); it keeps its Voronoi
    share then, which reaches out through the campus.
    """
    outline = shapely.union_all(shapely.get_exterior_ring(shapely.get_parts(enclosure)))
    if not shapely.distance(yard, outline) <= RIM_M:
        return None
    near = shapely.intersection(shapely.buffer(outline, RIM_M), shapely.buffer(yard, 2 * RIM_M))
    return shapely.union(yard, near)


def _fence_in(shares: dict, yards: dict, fenced_off: dict) -> dict:
    """``shares`` with each fenced atom's ground beyond its yard handed to its unit atom.

    ``fenced_off`` (atom -> m²) is increased by the ground each atom gave up.
    """
    for a, (yard, unit) in yards.items():
        if a not in shares or unit not in shares:
            continue
        beyond = shapely.difference(shares[a], yard)
        if beyond.is_empty or beyond.area < 1.0:
            continue
        shares[a] = shapely.intersection(shares[a], yard)
        shares[unit] = shapely.union(shares[unit], beyond)
        fenced_off[a] = fenced_off.get(a, 0.0) + beyond.area
    return shares


def residential_clusters(
    buildings_geom: np.ndarray,
    households: np.ndarray,
    building_compound: np.ndarray,
    comp_is_unit: dict,
    min_households: int,
) -> np.ndarray:
    """Whether each building is in a residential cluster of a 单位 enclosure.

    A cluster is a set of buildings with households lying directly in one
    unit enclosure (not in a compound nested in it), each within
    ``RESIDENTIAL_CLUSTER_GAP`` m of another; only clusters holding at least
    ``min_households`` households count.

    Returns
    -------
    ndarray of bool
    """
    hh = np.asarray(households)
    units = {cid for cid, unit in comp_is_unit.items() if unit}
    candidate = np.flatnonzero(
        (hh > 0) & np.asarray([c in units for c in building_compound], dtype=bool)
    )
    housed = np.zeros(len(hh), dtype=bool)
    if len(candidate) == 0:
        return housed
    geoms = np.asarray(buildings_geom, dtype=object)[candidate]
    comp = np.asarray(building_compound, dtype=object)[candidate]
    i, j = shapely.STRtree(geoms).query(
        geoms, predicate="dwithin", distance=RESIDENTIAL_CLUSTER_GAP
    )
    same = comp[i] == comp[j]
    n = len(candidate)
    link = coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(n, n))
    _, label = connected_components(link, directed=False)
    total = np.bincount(label, weights=hh[candidate])
    housed[candidate[total[label] >= min_households]] = True
    return housed


def _enclosed_empty_blocks(blocks, occupied: set, comp_geom: dict, comp_is_unit: dict):
    """(block, unit compound id) for each block without atoms lying mostly in a 单位 enclosure."""
    units = [cid for cid, unit in comp_is_unit.items() if unit]
    empty = np.asarray([b for b in range(len(blocks)) if b not in occupied], dtype=int)
    if not units or not len(empty):
        return []
    enclosures = np.asarray([comp_geom[cid] for cid in units], dtype=object)
    bi, ui = shapely.STRtree(enclosures).query(blocks[empty], predicate="intersects")
    if not len(bi):
        return []
    shared = shapely.area(shapely.intersection(blocks[empty][bi], enclosures[ui]))
    share = shared / np.maximum(shapely.area(blocks[empty][bi]), 1e-9)
    best: dict[int, tuple[float, str]] = {}
    for b, u, s in zip(bi, ui, share, strict=True):
        if s >= 0.5 and s > best.get(int(b), (0.0, ""))[0]:
            best[int(b)] = (float(s), units[u])
    return [(int(empty[b]), cid) for b, (_, cid) in sorted(best.items())]


def block_of_footprints(btree, blocks, footprints, rep) -> np.ndarray:
    """The block holding most of each footprint (by its point on surface where it lies in one)."""
    bi, blk = btree.query(footprints, predicate="intersects")
    building_block = np.full(len(rep), -1)
    several = np.bincount(bi, minlength=len(rep)) > 1
    single = ~several[bi]
    building_block[bi[single]] = blk[single]
    multi = ~single
    if multi.any():
        overlap = shapely.area(shapely.intersection(footprints[bi[multi]], blocks[blk[multi]]))
        order = np.lexsort((-overlap, bi[multi]))
        first = np.r_[True, np.diff(bi[multi][order]) != 0]
        building_block[bi[multi][order][first]] = blk[multi][order][first]
    lost = np.flatnonzero(building_block < 0)
    if len(lost):  # outside every block: the nearest one
        building_block[lost] = btree.nearest(rep[lost])
    return building_block


def road_classes(roads) -> np.ndarray | None:
    """``road_class`` of each road (``residential`` where the layer has none), or None."""
    if roads is None:
        return None
    if "road_class" in roads.columns:
        return roads["road_class"].to_numpy(dtype=object)
    return np.full(len(roads), "residential", dtype=object)


def build_atoms(
    boundary,
    buildings_geom: np.ndarray,
    households: np.ndarray,
    building_compound: np.ndarray,
    *,
    roads_geom: np.ndarray | None = None,
    road_class: np.ndarray | None = None,
    compounds: pd.DataFrame | None = None,
    min_households: int = 250,
    max_households: int = 500,
    unit_min_area_m2: float = 50_000.0,
    cut_lines: np.ndarray | None = None,
    loose_ceiling: int | None = None,
    divisible: frozenset = frozenset(),
    fence_nested: bool | frozenset = False,
) -> Atoms:
    """Build the atoms of one 社区 (see the module docstring).

    Parameters
    ----------
    boundary : Polygon
        The 社区 (metric CRS).
    buildings_geom : array of Polygon
        Footprints (metric CRS), all inside ``boundary``.
    households : array of int
    building_compound : array of object
        Compound id per building (None outside compounds).
    roads_geom, road_class : arrays, optional
        Road centre lines and their classes.
    compounds : DataFrame, optional
        ``compound_id``, ``compound_kind``, ``landuse``, ``geometry`` (metric).
    cut_lines : array of LineString, optional
        Extra lines that bound blocks like roads (zone boundaries), so no
        atom straddles them.
    loose_ceiling : int, optional
        Buildings outside any compound are grouped in pieces of at most this
        many households (default: like compounds, whole up to the ceiling).
        Rebalancing uses it to move loose buildings in small steps.
    divisible : frozenset, optional
        Compound ids divided like loose buildings (pieces of at most
        ``loose_ceiling``, else a third of the ceiling) although they fit
        under the ceiling: rebalancing's last resort when no arrangement of
        whole compounds brings a grid into the band.
    fence_nested : bool or frozenset
        Also hold a residential compound nested in a 单位 enclosure, near its
        rim, to its wall (with the rim beside it): the campus ground its
        Voronoi share would take beyond the wall stays with the unit. True
        for every such compound, or a set of the compound ids to leave
        unfenced. Off by default: it can cut the residential ground around
        a campus apart (the partition tries it and keeps it where no grid
        loses its band).
    """
    hh = np.asarray(households, dtype=np.int64)
    rep = shapely.point_on_surface(buildings_geom)
    xy = np.column_stack([shapely.get_x(rep), shapely.get_y(rep)])
    roads_geom = np.asarray(roads_geom if roads_geom is not None else [], dtype=object)
    classes = np.asarray(road_class if road_class is not None else [], dtype=object)
    bounding = np.isin(classes, list(BLOCK_ROAD_CLASSES | HARD_BARRIER_CLASSES))
    block_roads = roads_geom[bounding] if len(roads_geom) else roads_geom
    internal = roads_geom[~bounding] if len(roads_geom) else roads_geom

    if cut_lines is not None and len(cut_lines):
        block_roads = np.concatenate([block_roads, np.asarray(cut_lines, dtype=object)])
    blocks = street_blocks(boundary, block_roads)
    btree = shapely.STRtree(blocks)
    building_block = block_of_footprints(btree, blocks, buildings_geom, rep)

    comp_geom, comp_is_unit = {}, {}
    if compounds is not None and len(compounds):
        unit = unit_enclosures(compounds, unit_min_area_m2)
        for cid, geom, is_unit in zip(
            compounds["compound_id"], compounds.geometry.values, unit, strict=True
        ):
            comp_geom[cid] = geom
            comp_is_unit[cid] = bool(is_unit)
    housed = residential_clusters(
        buildings_geom, hh, building_compound, comp_is_unit, min_households
    )

    internal_tree = shapely.STRtree(internal) if len(internal) else None
    atom_members: list[np.ndarray] = []
    atom_block, atom_kind, atom_unit, atom_comp, atom_flag = [], [], [], [], []
    compounds_split = 0
    groups = pd.DataFrame(
        {"block": building_block, "compound": pd.Series(building_compound, dtype=object)}
    )
    groups["compound"] = groups["compound"].where(groups["compound"].isin(comp_geom.keys()), None)
    # residential clusters inside 单位 enclosures: groups of their own, residential
    groups["housed"] = housed
    for (block, cid, in_cluster), frame in groups.groupby(
        ["block", "compound", "housed"], dropna=False, sort=True
    ):
        cid = None if cid is None or (isinstance(cid, float) and np.isnan(cid)) else cid
        members = frame.index.to_numpy()
        is_unit = bool(cid is not None and comp_is_unit.get(cid, False) and not in_cluster)
        if loose_ceiling is not None and cid is None and hh[members].sum() > loose_ceiling:
            pieces = _split_group(
                members, hh, xy, rep, blocks[block], internal_tree, max(1, loose_ceiling)
            )
        elif cid in divisible and not is_unit and len(members) > 1:
            poly = shapely.intersection(comp_geom[cid], blocks[block])
            ceiling = loose_ceiling or max_households // SPLIT_FRACTION
            pieces = _split_group(members, hh, xy, rep, poly, internal_tree, max(1, ceiling))
            compounds_split += len(pieces) > 1
        elif is_unit or hh[members].sum() <= max_households:
            pieces = [members]
        elif in_cluster:
            poly = shapely.intersection(comp_geom[cid], blocks[block])
            ceiling = max(1, max_households // SPLIT_FRACTION)
            pieces = _split_group(members, hh, xy, rep, poly, internal_tree, ceiling)
        else:
            poly = comp_geom.get(cid, blocks[block]) if cid else blocks[block]
            poly = shapely.intersection(poly, blocks[block])
            pieces = _split_group(
                members, hh, xy, rep, poly, internal_tree, max(1, max_households // SPLIT_FRACTION)
            )
            if cid is not None and len(pieces) > 1:
                compounds_split += 1
        for piece in pieces:
            atom_members.append(piece)
            atom_block.append(block)
            atom_kind.append("unit" if is_unit else "residential")
            atom_unit.append(cid if is_unit else None)
            atom_comp.append(cid)
            atom_flag.append(
                "indivisible_building" if len(piece) == 1 and hh[piece[0]] > max_households else ""
            )

    # unit atoms without buildings: blocks lying mostly in a 单位 enclosure (sports
    # grounds, lawns, car parks behind an internal road) belong to its grid, and a
    # unit compound without buildings still becomes a 单位网格
    landless = _enclosed_empty_blocks(blocks, set(atom_block), comp_geom, comp_is_unit)
    for cid, unit in comp_is_unit.items():
        if unit and cid not in set(atom_unit) and cid not in {c for _, c in landless}:
            part = shapely.intersection(comp_geom[cid], boundary)
            if part.is_empty or part.area < unit_min_area_m2 / 2:
                continue
            landless.append((int(btree.nearest(shapely.point_on_surface(part))), cid))
    for block, cid in landless:
        atom_members.append(np.zeros(0, dtype=int))
        atom_block.append(block)
        atom_kind.append("unit")
        atom_unit.append(cid)
        atom_comp.append(cid)
        atom_flag.append("")

    n = len(atom_members)
    building_atom = np.full(len(hh), -1)
    for a, members in enumerate(atom_members):
        building_atom[members] = a
    atom_block = np.asarray(atom_block, dtype=int)

    # Voronoi seeds: building outlines labelled by atom, compound walls by nearest atom
    b_coords, b_index = densify_points(buildings_geom, 40.0)
    # a building's outline seeds make a point inside it redundant; points (no outline) need it
    bare = np.bincount(b_index, minlength=len(xy)) == 0
    seed_xy = [b_coords, xy[bare]]
    seed_atom = [building_atom[b_index], building_atom[bare]]
    # a 单位 enclosure's wall belongs to its unit atoms, not to the residential
    # clusters inside it (else they take the land along the wall, around the unit)
    wall_comp = [
        None if cid is not None and comp_is_unit.get(cid) and kind != "unit" else cid
        for cid, kind in zip(atom_comp, atom_kind, strict=True)
    ]
    wall_xy, wall_atom = _wall_seeds(
        comp_geom, wall_comp, atom_members, building_atom, buildings_geom
    )
    seed_xy.append(wall_xy)
    seed_atom.append(wall_atom)
    for a in range(n):  # building-less unit atoms: seed with their enclosure
        if len(atom_members[a]) == 0:
            pts, _ = densify_points([comp_geom[atom_unit[a]]], WALL_SPACING)
            seed_xy.append(pts)
            seed_atom.append(np.full(len(pts), a))
    seed_xy = np.vstack(seed_xy)
    seed_atom = np.concatenate(seed_atom)
    # seeds by the block of their atom (stable: duplicates keep their first label)
    labelled = seed_atom >= 0
    seed_xy, seed_atom = seed_xy[labelled], seed_atom[labelled]
    order = np.argsort(atom_block[seed_atom], kind="stable")
    seed_xy, seed_atom = seed_xy[order], seed_atom[order]
    block_start = np.searchsorted(atom_block[seed_atom], np.arange(len(blocks) + 1))

    yards = _residential_yards(
        atom_members,
        atom_kind,
        atom_comp,
        atom_unit,
        atom_block,
        comp_geom,
        buildings_geom,
        fence_nested=fence_nested,
    )
    fenced_off: dict = {}  # atom -> ground it gave up to its unit (m²)
    pieces, empty = [], []
    atoms_by_block = pd.Series(np.arange(n)).groupby(atom_block).apply(list).to_dict() if n else {}
    for block in range(len(blocks)):
        atoms_here = atoms_by_block.get(block, [])
        if not atoms_here:
            empty.append(blocks[block])
            continue
        if len(atoms_here) == 1:
            a = atoms_here[0]
            pieces.append(Piece(a, blocks[block], atom_members[a]))
            continue
        here = slice(block_start[block], block_start[block + 1])
        xy_here, atom_here = seed_xy[here], seed_atom[here]
        shapely.prepare(blocks[block])
        inside = shapely.intersects_xy(blocks[block], xy_here[:, 0], xy_here[:, 1])
        shares = voronoi_shares(blocks[block], xy_here[inside], atom_here[inside], reattach=False)
        shares = _fence_in(shares, {a: yards[a] for a in atoms_here if a in yards}, fenced_off)
        members_here = {a: atom_members[a] for a in atoms_here}
        settled = settle_block(blocks[block], shares, members_here, buildings_geom)
        pieces_per_atom = Counter(p.atom for p in settled)
        split = {a for a, count in pieces_per_atom.items() if count > 1}
        compounds_split += len({atom_comp[a] for a in split if atom_comp[a] is not None})
        pieces.extend(settled)

    # nested 小区 fenced in, the one that gave up most ground first
    given_up: dict = {}
    for a, area in fenced_off.items():
        if not comp_is_unit[atom_comp[a]]:
            given_up[atom_comp[a]] = given_up.get(atom_comp[a], 0.0) + area
    fenced_compounds = tuple(sorted(given_up, key=lambda cid: (-given_up[cid], cid)))
    # the atoms are the pieces: an atom whose share fell apart is one atom per part
    n = len(pieces)
    region = np.asarray([p.region for p in pieces], dtype=object)
    atom_members = [p.members for p in pieces]
    atom_kind = [atom_kind[p.atom] for p in pieces]
    atom_unit = [atom_unit[p.atom] for p in pieces]
    atom_comp = [atom_comp[p.atom] for p in pieces]
    atom_flag = [
        "indivisible_building" if len(m) == 1 and hh[m[0]] > max_households else ""
        for m in atom_members
    ]
    building_atom = np.full(len(hh), -1)
    for a, members in enumerate(atom_members):
        building_atom[members] = a

    cleaned = clean_coverage(np.concatenate([region, np.asarray(empty, dtype=object)]))
    # a building spanning blocks is carved whole into its atom's region, unless a
    # major road, railway or zone boundary runs through it
    keep_out = roads_geom[np.isin(classes, list(HARD_BARRIER_CLASSES))] if len(roads_geom) else []
    if cut_lines is not None and len(cut_lines):
        keep_out = np.concatenate([np.asarray(keep_out, dtype=object), cut_lines])
    carved, moved = hold_whole_footprints(cleaned, building_atom, buildings_geom, keep_out)
    if moved:
        cleaned = clean_coverage(carved)
    region, empty = cleaned[:n], cleaned[n:]
    return Atoms(
        region=region,
        households=np.asarray([hh[m].sum() for m in atom_members], dtype=np.int64),
        n_buildings=np.asarray([len(m) for m in atom_members], dtype=np.int64),
        kind=np.asarray(atom_kind, dtype=object),
        unit_id=np.asarray(atom_unit, dtype=object),
        compound_id=np.asarray(atom_comp, dtype=object),
        flag=np.asarray(atom_flag, dtype=object),
        building_atom=building_atom,
        empty_regions=empty,
        compounds_split=compounds_split,
        fenced_compounds=fenced_compounds,
    )


def adjacency(
    regions: np.ndarray, min_shared: float = 0.5, grid_size: float | None = 0.01
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` (i < j) of regions sharing a boundary longer than ``min_shared`` m, and its length.

    Neighbouring regions often share edges whose vertices differ by
    nanometres (Voronoi shares add vertices along a block edge that the
    block across the road does not have); a plain intersection of such
    boundaries is a few points, not a line, and the contact would be lost.
    So the regions are first cleaned into an exact coverage
    (:func:`~gridmgmt.core.tessellation.clean_coverage`) and shared ring
    segments are matched, with no overlay at all; where GEOS cannot clean
    them, boundaries are intersected on a ``grid_size`` m precision grid.
    ``grid_size=None`` skips the cleaning, for regions that already are a
    clean coverage (atoms).
    """
    regions = np.asarray(regions, dtype=object)
    if grid_size is None:
        return _shared_segments(regions, min_shared)
    try:  # cleaned into an exact coverage, neighbours share identical segments
        return _shared_segments(clean_coverage(regions), min_shared)
    except shapely.errors.GEOSException:  # not a coverage GEOS can clean: compare on a grid
        pass
    tree = shapely.STRtree(regions)
    i, j = tree.query(regions, predicate="dwithin", distance=grid_size)
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return i, j, np.zeros(0)
    bounds = shapely.boundary(regions)
    shared = shapely.length(shapely.intersection(bounds[i], bounds[j], grid_size=grid_size))
    ok = shared > min_shared
    return i[ok], j[ok], shared[ok]


def _shared_segments(regions: np.ndarray, min_shared: float):
    """:func:`adjacency` of a clean coverage: ring segments found in exactly two regions."""
    empty = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0))
    rings, owner = shapely.get_rings(regions, return_index=True)
    if len(rings) == 0:
        return empty
    a, b, ring = segments(rings)
    region = owner[ring]
    # a segment and its reverse are the same edge: order its ends
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo = np.where(flip[:, None], b, a)
    hi = np.where(flip[:, None], a, b)
    key = np.column_stack([lo, hi])
    order = np.lexsort(key.T[::-1])
    key, region = key[order], region[order]
    twin = np.flatnonzero((key[1:] == key[:-1]).all(axis=1) & (region[1:] != region[:-1]))
    if len(twin) == 0:
        return empty
    i = np.minimum(region[twin], region[twin + 1])
    j = np.maximum(region[twin], region[twin + 1])
    length = np.hypot(key[twin, 2] - key[twin, 0], key[twin, 3] - key[twin, 1])
    pair, inverse = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    shared = np.bincount(inverse.ravel(), weights=length, minlength=len(pair))
    ok = shared > min_shared
    return pair[ok, 0], pair[ok, 1], shared[ok]
