"""Atom regions inside one street block, built so that each holds its buildings' footprints.

The Voronoi shares of a block (see :mod:`gridmgmt.core.atoms`) follow the
gaps between buildings, but nothing in a Voronoi diagram of outline points
makes a share contain its buildings: a long building next to another, a
piece of a split group whose buildings are not side by side, or a wall point
nearer to a neighbour's building can give part or all of a footprint to
another atom. :func:`settle_block` turns the shares into pieces that hold
them:

1. where some building's footprint lies mostly outside its atom's share,
   every footprint in the block is given to its own atom (and taken from
   the others; a footprint overlapping another goes to the first);
2. a share in several parts becomes one piece per part holding buildings;
   parts holding none (strays) go to the piece sharing most boundary;
3. each building then belongs to the piece holding most of its footprint.

So every building lies in the region of its atom, by footprint, and every
region is one polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: share of a footprint (within its block) that its atom's region must hold
HELD_SHARE = 0.5


@dataclass
class Piece:
    """One atom region of a block: the atom it came from, its polygon and its buildings."""

    atom: int
    region: object
    members: np.ndarray


def settle_block(block, shares: dict, members: dict, footprints: np.ndarray) -> list[Piece]:
    """Pieces of one block from its atoms' Voronoi shares (see the module docstring).

    Parameters
    ----------
    block : Polygon
        The street block (metric CRS).
    shares : dict
        Atom -> its share of the block (the shares tile the block; strays not reattached).
    members : dict
        Atom -> indices of its buildings (every atom of the block, possibly none).
    footprints : ndarray of geometry
        All building footprints, indexed like ``members``.

    Returns
    -------
    list of Piece
        Single polygons tiling the block; an atom may give several pieces.
    """
    atoms = list(members)
    empty = shapely.Polygon()
    region = np.asarray([shares.get(a) or empty for a in atoms], dtype=object)
    counts = np.asarray([len(members[a]) for a in atoms])
    idx = np.concatenate([np.asarray(members[a], dtype=int) for a in atoms])
    owner = np.repeat(np.arange(len(atoms)), counts)
    fp = shapely.intersection(footprints[idx], block) if len(idx) else np.zeros(0, dtype=object)
    if len(idx):
        whole = shapely.area(fp)
        held = shapely.area(shapely.intersection(fp, region[owner]))
        if (held < HELD_SHARE * whole - 1e-9).any():
            region = _with_footprints(region, fp, owner)

    pieces: list[Piece] = []
    strays = []
    for k, a in enumerate(atoms):
        parts = [p for p in shapely.get_parts(region[k]) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            continue
        mine = idx[owner == k]
        if len(mine) == 0:  # an atom of no buildings (an empty enclosure): its largest part
            parts.sort(key=lambda p: -p.area)
            pieces.append(Piece(a, parts[0], mine))
            strays.extend(parts[1:])
            continue
        if len(parts) == 1:
            pieces.append(Piece(a, parts[0], mine))
            continue
        best = _best_part(fp[owner == k], np.asarray(parts, dtype=object))
        for p, part in enumerate(parts):
            held_here = mine[best == p]
            if len(held_here):
                pieces.append(Piece(a, part, held_here))
            else:
                strays.append(part)
    if not pieces:  # nothing kept (degenerate shares): the block to its first atom
        return [Piece(atoms[0], block, idx)]
    _reattach(pieces, strays)
    _reassign_by_footprint(pieces, idx, fp)
    return pieces


def _with_footprints(region: np.ndarray, fp: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """The shares with every footprint given to its own atom (the first one where they overlap)."""
    taken = shapely.Polygon()
    own = []
    for k in range(len(region)):
        mine = fp[owner == k]
        f = shapely.union_all(mine) if len(mine) else shapely.Polygon()
        own.append(shapely.difference(f, taken) if not taken.is_empty else f)
        taken = shapely.union(taken, f) if not f.is_empty else taken
    out = shapely.difference(region, taken) if not taken.is_empty else region.copy()
    out = shapely.union(out, np.asarray(own, dtype=object))
    return np.asarray([shapely.make_valid(g) for g in out], dtype=object)


def _best_part(fp: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Index of the part holding most of each footprint (the nearest one for zero-area shapes)."""
    if len(fp) == 0:
        return np.zeros(0, dtype=int)
    tree = shapely.STRtree(parts)
    fi, pi = tree.query(fp, predicate="intersects")
    overlap = shapely.area(shapely.intersection(fp[fi], parts[pi]))
    best = np.full(len(fp), -1)
    held = overlap > 0
    if held.any():  # per footprint: most overlap, ties to the first part
        fi, pi, overlap = fi[held], pi[held], overlap[held]
        order = np.lexsort((pi, -overlap, fi))
        first = np.r_[True, np.diff(fi[order]) != 0]
        best[fi[order][first]] = pi[order][first]
    missing = np.flatnonzero(best < 0)
    if len(missing):  # no overlap (points, lines): the nearest part, ties to the first
        mi, pj = tree.query_nearest(fp[missing], all_matches=True)
        order = np.lexsort((pj, mi))
        first = np.r_[True, np.diff(mi[order]) != 0]
        best[missing[mi[order][first]]] = pj[order][first]
    return np.maximum(best, 0)


def _reattach(pieces: list[Piece], strays: list) -> None:
    """Give each stray part to the piece sharing most boundary with it (if any touches it)."""
    pending = list(strays)
    while pending:
        left = []
        for part in pending:
            regions = np.asarray([p.region for p in pieces], dtype=object)
            shared = shapely.length(shapely.intersection(shapely.boundary(regions), part.boundary))
            best = int(np.argmax(shared))
            if shared[best] > 0:
                pieces[best].region = _largest_polygon(shapely.union(pieces[best].region, part))
            else:
                left.append(part)
        if len(left) == len(pending):  # touching no piece (only each other): left out
            break
        pending = left


def _largest_polygon(geom):
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type == "Polygon"]
    if len(parts) == 1:
        return parts[0]
    return shapely.union_all(parts)


def _reassign_by_footprint(pieces: list[Piece], idx: np.ndarray, fp: np.ndarray) -> None:
    """Each building to the piece holding most of its footprint (ties: its own piece)."""
    if len(idx) == 0 or len(pieces) == 1:
        if len(pieces) == 1:
            pieces[0].members = idx
        return
    regions = np.asarray([p.region for p in pieces], dtype=object)
    current = np.full(len(idx), -1)
    pos = {b: i for i, b in enumerate(idx)}
    for k, p in enumerate(pieces):
        current[[pos[b] for b in p.members]] = k
    best = _best_part(fp, regions)
    overlap = shapely.area(shapely.intersection(fp, regions[best]))
    own = np.where(
        current >= 0, shapely.area(shapely.intersection(fp, regions[np.maximum(current, 0)])), -1
    )
    moved = (current < 0) | (overlap > own + 1e-9)
    target = np.where(moved, best, current)
    for k, p in enumerate(pieces):
        p.members = idx[target == k]


#: footprint parts (m²) in another atom's region smaller than this are left where they are
CARVE_MIN_M2 = 0.5


def hold_whole_footprints(
    regions: np.ndarray,
    building_atom: np.ndarray,
    footprints: np.ndarray,
    keep_out=None,
) -> tuple[np.ndarray, int]:
    """The regions with each building's footprint carved whole into its atom's region.

    A building spanning street blocks (a road or path mapped through it, a
    footprint over a compound wall) keeps the parts of its footprint that lie
    in other blocks in other atoms' regions, so a grid boundary would cut it.
    Each such part moves to the building's own region, except:

    - a building that a line of ``keep_out`` crosses (a major road or railway
      over or under it, a zone boundary): its grid boundary stays on the line;
    - where the part overlaps another building of the region holding it;
    - where taking the part would leave either region in pieces.

    Parameters
    ----------
    regions : ndarray of Polygon
        A clean coverage; the first ones are the atoms of ``building_atom``.
    building_atom : ndarray of int
        Region index per building (-1 for none).
    footprints : ndarray of geometry
        Building footprints (metric CRS), indexed like ``building_atom``.
    keep_out : ndarray of LineString, optional
        Lines that a carved footprint must not cross.

    Returns
    -------
    (ndarray, int)
        The regions (a copy; to be cleaned into a coverage again) and the
        number of footprint parts moved.
    """
    regions = np.asarray(regions, dtype=object).copy()
    footprints = np.asarray(footprints, dtype=object)
    placed = np.flatnonzero(np.asarray(building_atom) >= 0)
    if len(placed) == 0 or len(regions) < 2:
        return regions, 0
    bi, ri = shapely.STRtree(regions).query(footprints[placed], predicate="intersects")
    bi = placed[bi]
    foreign = ri != building_atom[bi]
    bi, ri = bi[foreign], ri[foreign]
    if len(bi) == 0:
        return regions, 0
    part_area = shapely.area(shapely.intersection(footprints[bi], regions[ri]))
    big = part_area > CARVE_MIN_M2
    bi, ri = bi[big], ri[big]
    if len(bi) and keep_out is not None and len(keep_out):
        lines = shapely.union_all(np.asarray(keep_out, dtype=object))
        shapely.prepare(lines)
        crossed = shapely.intersects(lines, footprints[bi])
        bi, ri = bi[~crossed], ri[~crossed]
    if len(bi) == 0:
        return regions, 0
    members: dict[int, list[int]] = {}
    for b, a in enumerate(building_atom):
        if a >= 0:
            members.setdefault(int(a), []).append(b)
    moved = 0
    for b, r in zip(bi.tolist(), ri.tolist(), strict=True):
        own = int(building_atom[b])
        piece = shapely.intersection(footprints[b], regions[r])
        theirs = [footprints[k] for k in members.get(r, ())]
        if theirs:  # never take another building's footprint
            piece = shapely.difference(piece, shapely.union_all(theirs))
        for part in shapely.get_parts(shapely.make_valid(piece)):
            if part.geom_type != "Polygon" or part.area <= CARVE_MIN_M2:
                continue
            giver = shapely.make_valid(shapely.difference(regions[r], part))
            taker = shapely.make_valid(shapely.union(regions[own], part))
            if _single(giver) and _single(taker):
                regions[r], regions[own] = giver, taker
                moved += 1
    return regions, moved


def _single(geom):
    """``geom`` when it is one non-empty polygon, else None."""
    return geom if geom.geom_type == "Polygon" and not geom.is_empty else None
