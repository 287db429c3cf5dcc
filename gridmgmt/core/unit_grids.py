"""单位网格: the large non-residential enclosures that become unit grids, and their reach.

A 单位 enclosure (campus, hospital, factory, military or government
compound of at least ``unit_min_area_m2``) is a unit grid for its
non-residential part, with or without households in it (see
:mod:`gridmgmt.core.atoms` for what leaves it as residential atoms). This
module holds the two rules the partition applies around that:

- :func:`default_area`: without a given 社区 boundary the area partitioned is
  the buildings' hull and every unit enclosure it reaches or faces across a
  street, whole, so a campus whose buildings are only partly in an extract,
  or a compound without mapped buildings, is still one complete unit grid;
- :func:`unit_groups`: one grid per connected part of an enclosure's atoms,
  never a multipart grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.atom_graph import AtomGraph

#: metres around the buildings' hull that the default area adds
HULL_MARGIN_M = 30.0
#: share of a unit enclosure inside the buildings' hull from which the default
#: area takes the whole enclosure although none of the buildings lies in it
REACHED_SHARE = 0.1
#: metres between the buildings' hull and a unit enclosure across which the default
#: area still takes it whole (a street between the data and a compound without
#: mapped buildings, such as a military or railway area), with the strip between
NEIGHBOUR_M = 60.0

#: land uses whose enclosures are 单位 (with ``compound_kind == "unit"``)
UNIT_LANDUSE = frozenset(
    {
        "university",
        "college",
        "school",
        "kindergarten",
        "hospital",
        "industrial",
        "commercial",
        "military",
        "railway",
        "government",
        "police",
        "campus",
    }
)


def unit_enclosures(compounds, unit_min_area_m2: float) -> np.ndarray:
    """Whether each compound is a 单位 enclosure large enough for a unit grid.

    Parameters
    ----------
    compounds : GeoDataFrame
        ``compound_kind``, ``landuse`` and geometry in a metric CRS.
    unit_min_area_m2 : float
        The size criterion.

    Returns
    -------
    ndarray of bool
    """
    if compounds is None or len(compounds) == 0:
        return np.zeros(0, dtype=bool)
    kind = compounds["compound_kind"].to_numpy(dtype=object)
    landuse = compounds["landuse"].to_numpy(dtype=object)
    unit = (kind == "unit") | np.isin(landuse, list(UNIT_LANDUSE))
    return unit & (shapely.area(compounds.geometry.values) >= unit_min_area_m2)


def default_area(footprints: np.ndarray, compounds, unit_min_area_m2: float):
    """The area partitioned when no 社区 boundary is given.

    Parameters
    ----------
    footprints : array of Polygon
        Building footprints, metric CRS.
    compounds : GeoDataFrame or None
        Compounds in the same CRS (``compound_kind``, ``landuse``).
    unit_min_area_m2 : float
        Smallest enclosure that is a unit grid.

    Returns
    -------
    Polygon
        The buildings' convex hull buffered by :data:`HULL_MARGIN_M`, joined
        with every unit enclosure holding a building's representative point,
        lying at least :data:`REACHED_SHARE` inside the hull or apart from it
        by at most :data:`NEIGHBOUR_M` (with the strip between them), so
        that enclosure is partitioned whole. Enclosures merely touching the
        hull, or farther away, are left out.
    """
    corners = shapely.multipoints(shapely.get_coordinates(np.asarray(footprints, dtype=object)))
    hull = shapely.buffer(shapely.convex_hull(corners), HULL_MARGIN_M)
    big = unit_enclosures(compounds, unit_min_area_m2)
    if not big.any():
        return hull
    enclosures = compounds.geometry.values[big]
    rep = shapely.point_on_surface(np.asarray(footprints, dtype=object))
    _, holding = shapely.STRtree(enclosures).query(rep, predicate="within")
    reached = shapely.area(shapely.intersection(enclosures, hull)) >= REACHED_SHARE * shapely.area(
        enclosures
    )
    reached[holding] = True
    gap = shapely.distance(enclosures, hull)
    across = (gap > 0) & (gap <= NEIGHBOUR_M)
    reached |= across
    if not reached.any():
        return hull
    # the strip between the hull and an enclosure across a street: the part of
    # their joint convex hull no farther from the enclosure than the hull is
    strips = [
        shapely.intersection(
            shapely.convex_hull(shapely.union(hull, e)), shapely.buffer(e, d + HULL_MARGIN_M)
        )
        for e, d in zip(enclosures[across], gap[across], strict=True)
    ]
    area = shapely.union_all([hull, *enclosures[reached], *strips])
    if area.geom_type != "Polygon":  # an enclosure touching the hull at a point
        area = max(shapely.get_parts(area), key=shapely.area)
    return area


def claim_empty_regions(kind, unit_id, n_atoms: int, graph: AtomGraph):
    """Regions without buildings that share most of their boundary with a 单位 go to it.

    A strip between an enclosure's wall and the 社区 outline, or a block of
    lawn next to a campus, would otherwise join a residential grid and wrap
    around the unit.

    Parameters
    ----------
    kind, unit_id : arrays of object
        Per region (atoms first, then the ``len - n_atoms`` empty regions).
    n_atoms : int
        Number of atoms; the regions after them are empty.
    graph : AtomGraph
        Adjacency of all regions, weighted by shared boundary length.

    Returns
    -------
    kind, unit_id : ndarrays
        Copies where the claimed empty regions are unit regions.
    """
    kind = np.asarray(kind, dtype=object).copy()
    unit_id = np.asarray(unit_id, dtype=object).copy()
    i, j, w = graph.i, graph.j, graph.w
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    length = np.concatenate([w, w])
    mine = (src >= n_atoms) & (dst < n_atoms)
    if not mine.any():
        return kind, unit_id
    owner = np.where(kind[dst[mine]] == "unit", unit_id[dst[mine]], "")
    shared = pd.DataFrame({"region": src[mine], "owner": owner, "w": length[mine]})
    best = shared.groupby(["region", "owner"], sort=True)["w"].sum().reset_index()
    best = best.sort_values(["region", "w"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("region")
    claimed = best[best["owner"] != ""]
    kind[claimed["region"].to_numpy()] = "unit"
    unit_id[claimed["region"].to_numpy()] = claimed["owner"].to_numpy()
    return kind, unit_id


def unit_groups(unit_id, kind, graph: AtomGraph, areas, min_part_m2: float):
    """One group of atoms per connected part of each 单位 enclosure.

    Parameters
    ----------
    unit_id : array of object
        The enclosure of each unit region (None for the others).
    kind : array of str
        ``"unit"`` or ``"residential"`` per region.
    graph : AtomGraph
        Adjacency of all regions.
    areas : array of float
        Area of each region (m²).
    min_part_m2 : float
        A part of an enclosure cut off from its main part that is smaller
        than this is not a grid of its own.

    Returns
    -------
    groups, kinds, flags : lists
        Region index arrays, ``"unit"`` each, and ``"unit_in_parts"`` for the
        second and later parts of an enclosure that residential grids or
        roads cut apart.
    leftovers : list of ndarray
        The small cut-off parts, to join a neighbouring grid.
    """
    groups, kinds, flags, leftovers = [], [], [], []
    unit_id = np.asarray(unit_id, dtype=object)
    areas = np.asarray(areas, dtype=float)
    is_unit = np.asarray(kind, dtype=object) == "unit"
    for unit in pd.unique(unit_id[is_unit]):
        members = np.flatnonzero(is_unit & (unit_id == unit))
        parts = sorted(graph.components(members), key=lambda p: -areas[p].sum())
        for k, part in enumerate(parts):
            if k and areas[part].sum() < min_part_m2:
                leftovers.append(np.sort(np.asarray(part)))
                continue
            groups.append(np.sort(np.asarray(part)))
            kinds.append("unit")
            flags.append("unit_in_parts" if k else "")
    return groups, kinds, flags, leftovers
