"""Quality report of a partition run."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely

from gridmgmt.core.tessellation import segments


@dataclass
class QualityReport:
    """Figures a supervisor checks before accepting a set of grids."""

    grids: int
    residential_grids: int
    unit_grids: int
    households_min: int
    households_median: float
    households_max: int
    share_in_band: float  # of residential grids
    mean_polsby_popper: float
    road_aligned_share: float  # internal boundary length within 5 m of a road or compound edge
    compounds_split: int
    atoms: int
    runtime_s: float
    flags: dict
    #: buildings labelled with a grid other than the one holding most of their footprint
    buildings_outside_own_grid: int = 0
    notes: tuple = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        flags = ", ".join(f"{k} {v}" for k, v in self.flags.items()) or "none"
        return (
            f"grids {self.grids} ({self.residential_grids} residential, {self.unit_grids} unit) from {self.atoms} atoms\n"
            f"households per residential grid: min {self.households_min}, median {self.households_median:g}, "
            f"max {self.households_max}; in band {self.share_in_band:.1%}\n"
            f"mean Polsby-Popper {self.mean_polsby_popper:.3f}; boundaries along roads/walls {self.road_aligned_share:.1%}\n"
            f"compounds split {self.compounds_split}; flags: {flags}; runtime {self.runtime_s:.2f} s\n"
            f"buildings outside the grid holding most of their footprint: "
            f"{self.buildings_outside_own_grid}" + "".join(f"\nnote: {n}" for n in self.notes)
        )


def polsby_popper(polygons) -> np.ndarray:
    """4πA/P² per polygon (1 for a circle)."""
    area = shapely.area(polygons)
    perimeter = shapely.length(polygons)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


def road_aligned_share(
    polygons, edges, tolerance: float = 5.0, spacing: float = 5.0, outline=None
) -> float:
    """Share of internal grid boundary length lying within ``tolerance`` m of ``edges`` (lines).

    Internal boundaries (shared by two grids, not on the outer edge of their
    union) are cut into pieces of at most ``spacing`` m; a piece counts with
    its length when its midpoint lies within ``tolerance`` of a road centre
    line or compound wall. ``outline``, the polygon the grids tile when it
    is known, finds the internal pieces by one point-in-polygon test
    instead of a query per grid.
    """
    polygons = np.asarray(polygons, dtype=object)
    if len(polygons) < 2:
        return 1.0
    rings = shapely.segmentize(shapely.get_rings(polygons), spacing)
    a, b, _ = segments(rings)
    mid = (a + b) / 2.0
    length = np.hypot(*(b - a).T)
    if outline is not None:
        rim = shapely.buffer(shapely.boundary(outline), 0.05)
        shapely.prepare(rim)
        inner = ~shapely.intersects_xy(rim, mid[:, 0], mid[:, 1])
    else:  # a piece of an internal boundary touches two grids, one on the outer edge its own
        touching = shapely.STRtree(polygons).query(
            shapely.points(mid), predicate="dwithin", distance=0.05
        )[0]
        inner = np.bincount(touching, minlength=len(mid)) >= 2
    mid, length = mid[inner], length[inner]
    if length.sum() <= 0:
        return 1.0
    if edges is None or len(edges) == 0:
        return 0.0
    tree = shapely.STRtree(np.asarray(edges, dtype=object))
    near = np.zeros(len(mid), bool)
    near[tree.query(shapely.points(mid), predicate="dwithin", distance=tolerance)[0]] = True
    return float(length[near].sum() / length.sum())


def footprint_grid(footprints, polygons) -> np.ndarray:
    """Index of the polygon holding most of each footprint (-1 where none touches it).

    Points and lines (no area) go to a polygon they touch.
    """
    footprints = np.asarray(footprints, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    out = np.full(len(footprints), -1)
    if len(footprints) == 0 or len(polygons) == 0:
        return out
    bi, gi = shapely.STRtree(polygons).query(footprints, predicate="intersects")
    if len(bi) == 0:
        return out
    several = np.bincount(bi, minlength=len(footprints))[bi] > 1
    overlap = np.zeros(len(bi))
    overlap[several] = shapely.area(
        shapely.intersection(footprints[bi[several]], polygons[gi[several]])
    )
    order = np.lexsort((gi, -overlap, bi))
    first = np.r_[True, np.diff(bi[order]) != 0]
    out[bi[order][first]] = gi[order][first]
    return out


def footprint_owner(footprints, labels, polygons, codes) -> np.ndarray:
    """The grid code each building belongs to: its label unless another grid holds more of it.

    A building in no grid at all (outside the 社区) keeps its label; one split
    evenly between its grid and another too.
    """
    footprints = np.asarray(footprints, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    codes = np.asarray(codes, dtype=object)
    labels = np.asarray(labels, dtype=object)
    where = footprint_grid(footprints, polygons)
    position = {c: i for i, c in enumerate(codes)}
    own = np.asarray([position.get(c, -1) for c in labels], dtype=int)
    out = labels.copy()
    suspect = np.flatnonzero((where >= 0) & (where != own))
    if len(suspect) == 0:
        return out
    fp = footprints[suspect]
    best = shapely.area(shapely.intersection(fp, polygons[where[suspect]]))
    mine = np.where(
        own[suspect] >= 0,
        shapely.area(shapely.intersection(fp, polygons[np.maximum(own[suspect], 0)])),
        -1.0,
    )
    moved = mine < best - 1e-6 * np.maximum(shapely.area(fp), 1.0)
    out[suspect[moved]] = codes[where[suspect[moved]]]
    return out


def buildings_outside_own_grid(footprints, labels, polygons, codes) -> int:
    """How many buildings are labelled with a grid holding less of their footprint than another."""
    owner = footprint_owner(footprints, labels, polygons, codes)
    return int((owner != np.asarray(labels, dtype=object)).sum())


#: Polsby-Popper below which a grid is flagged ``not_compact``
PP_FLOOR = 0.15


def shape_flags(polygons) -> list[str | None]:
    """Flags on a grid's shape: ``encloses_grid`` (it has holes: other grids inside it) and
    ``not_compact`` (Polsby-Popper under :data:`PP_FLOOR`), comma-separated; None when fine.
    """
    polygons = np.asarray(polygons, dtype=object)
    pp = polsby_popper(polygons)
    holes = shapely.get_num_interior_rings(polygons)
    flags = []
    for n_holes, score in zip(holes, pp, strict=True):
        codes = [
            c for c, on in (("encloses_grid", n_holes > 0), ("not_compact", score < PP_FLOOR)) if on
        ]
        flags.append(",".join(codes) or None)
    return flags


#: why a grid is not compact, by what shapes it
COMPACTNESS_REASONS = {
    "unit_enclosure": "a 单位网格: it follows its enclosure's outline",
    "community_outline": "most of its edge is the 社区 outline, which is that shape",
    "compound_shape": "most of it is one compound (小区/单位) of that shape",
    "band": "its households reach the band only in this shape",
}


def compactness_reasons(polygons, kinds, outline=None, compounds=None) -> list[str | None]:
    """Why each grid under :data:`PP_FLOOR` is not compact (a :data:`COMPACTNESS_REASONS` code).

    Parameters
    ----------
    polygons : array of Polygon
        Grids (metric CRS).
    kinds : sequence of str
        ``"residential"`` or ``"unit"`` per grid.
    outline : Polygon, optional
        The area partitioned (the 社区), same CRS.
    compounds : array of Polygon, optional
        Compound outlines, same CRS.

    Returns
    -------
    list of str or None
        None for a compact grid.
    """
    polygons = np.asarray(polygons, dtype=object)
    pp = polsby_popper(polygons)
    edge = None if outline is None else shapely.buffer(shapely.boundary(outline), 1.0)
    shapes = np.asarray([] if compounds is None else compounds, dtype=object)
    tree = shapely.STRtree(shapes) if len(shapes) else None
    out: list[str | None] = []
    for polygon, kind, score in zip(polygons, kinds, pp, strict=True):
        if score >= PP_FLOOR:
            out.append(None)
        elif kind == "unit":
            out.append("unit_enclosure")
        elif edge is not None and shapely.length(
            shapely.intersection(shapely.boundary(polygon), edge)
        ) >= 0.5 * shapely.length(shapely.boundary(polygon)):
            out.append("community_outline")
        elif tree is not None and _mostly_thin_compound(polygon, shapes, tree):
            out.append("compound_shape")
        else:
            out.append("band")
    return out


def _mostly_thin_compound(polygon, shapes, tree) -> bool:
    """Whether half of ``polygon`` or more is one compound that is itself not compact."""
    near = tree.query(polygon, predicate="intersects")
    if not len(near):
        return False
    shared = shapely.area(shapely.intersection(shapes[near], polygon))
    best = int(np.argmax(shared))
    thin = polsby_popper(np.asarray([shapes[near][best]], dtype=object))[0] < PP_FLOOR
    return bool(thin and shared[best] >= 0.5 * shapely.area(polygon))


def combine_reports(reports, residential_households, notes_prefix=()) -> QualityReport:
    """One report for several areas partitioned separately (the 社区 of one boundary file).

    Parameters
    ----------
    reports : list of QualityReport
        One per area.
    residential_households : array of int
        Households of every residential grid of all areas (for min, median, max).
    notes_prefix : list of str
        A label per area put before its notes.

    Returns
    -------
    QualityReport
        Counts summed; the band share over all residential grids; Polsby-Popper
        and the share along roads averaged with each area weighted by its grids.
    """
    hh = np.asarray(residential_households)
    weights = np.asarray([r.grids for r in reports], dtype=float)
    total = weights.sum() or 1.0
    flags: dict = {}
    for r in reports:
        for code, count in r.flags.items():
            flags[code] = flags.get(code, 0) + count
    labels = list(notes_prefix) or [""] * len(reports)
    notes = tuple(
        f"{label}: {note}" if label else note
        for label, r in zip(labels, reports, strict=True)
        for note in r.notes
    )
    in_band = sum(r.share_in_band * r.residential_grids for r in reports)
    residential = sum(r.residential_grids for r in reports)
    return QualityReport(
        grids=int(weights.sum()),
        residential_grids=residential,
        unit_grids=sum(r.unit_grids for r in reports),
        households_min=int(hh.min()) if len(hh) else 0,
        households_median=float(np.median(hh)) if len(hh) else 0.0,
        households_max=int(hh.max()) if len(hh) else 0,
        share_in_band=in_band / residential if residential else 1.0,
        mean_polsby_popper=float(
            sum(r.mean_polsby_popper * w for r, w in zip(reports, weights, strict=True)) / total
        ),
        road_aligned_share=float(
            sum(r.road_aligned_share * w for r, w in zip(reports, weights, strict=True)) / total
        ),
        compounds_split=sum(r.compounds_split for r in reports),
        atoms=sum(r.atoms for r in reports),
        runtime_s=sum(r.runtime_s for r in reports),
        flags=flags,
        buildings_outside_own_grid=sum(r.buildings_outside_own_grid for r in reports),
        notes=notes,
    )
