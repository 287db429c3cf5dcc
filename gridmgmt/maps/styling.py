"""How grids, buildings and roads look on every map: colours, labels, legend entries.

The HTML overview (:mod:`gridmgmt.maps.overview`) and the printed picture
(:mod:`gridmgmt.maps.picture`) both colour a grid by its kind and its
household count against the band, and label it with the last digits of its
code, through the functions here.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

#: colours for grid household counts relative to the band
BELOW_BAND = "#6baed6"
IN_BAND = ("#c7e9c0", "#31a354")
ABOVE_BAND = "#de2d26"
UNIT_GRID = "#969696"
NO_COUNT = "#f7f7f7"

GRID_EDGE = "#252525"
COMMUNITY_EDGE = "#08306b"
BUILDING_FILL = "#f0f0f0"
BUILDING_EDGE = "#525252"
ROAD_COLOUR = "#bdbdbd"

#: road classes drawn wide (OSM ``highway`` values and the normalised classes)
MAJOR_ROADS = frozenset({"motorway", "trunk", "primary", "secondary"})
#: road classes drawn thin and light (paths, service ways)
MINOR_ROADS = frozenset(
    {"service", "footway", "path", "cycleway", "pedestrian", "steps", "track", "living_street"}
)

#: digits of the grid code shown as its label (the grid's number within its 社区)
LABEL_DIGITS = 3

UNIT_LABEL = "单位网格"
NO_COUNT_LABEL = "户数未知"


def mix_colours(a: str, b: str, t: float) -> str:
    """The colour ``t`` of the way from ``a`` to ``b`` (``#rrggbb``)."""
    t = min(max(t, 0.0), 1.0)
    mix = [round(int(a[i : i + 2], 16) * (1 - t) + int(b[i : i + 2], 16) * t) for i in (1, 3, 5)]
    return "#" + "".join(f"{v:02x}" for v in mix)


def has_count(households) -> bool:
    """Whether ``households`` is a usable number (not ``None``/NaN)."""
    if households is None:
        return False
    try:
        return not math.isnan(float(households))
    except (TypeError, ValueError):
        return False


def grid_colour(households, kind: str | None, lo: int, hi: int) -> str:
    """The fill colour of a grid.

    Parameters
    ----------
    households : number or None
        Households of the grid; ``None``/NaN when unknown.
    kind : str or None
        ``"unit"`` for a 单位网格 (grey whatever its households).
    lo, hi : int
        The household band.

    Returns
    -------
    str
        ``#rrggbb``: blue below the band, a light-to-dark green gradient in
        it, red above it, grey for 单位网格, near-white when unknown.
    """
    if kind == "unit":
        return UNIT_GRID
    if not has_count(households):
        return NO_COUNT
    households = float(households)
    if households < lo:
        return BELOW_BAND
    if households > hi:
        return ABOVE_BAND
    return mix_colours(*IN_BAND, (households - lo) / max(hi - lo, 1))


def grid_label(code) -> str:
    """The short label of a grid: the last :data:`LABEL_DIGITS` characters of its code."""
    text = "" if code is None else str(code)
    return text[-LABEL_DIGITS:]


def label_anchors(geoms, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Where a grid's label goes: the centre of the largest circle inside it, and its radius.

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygons in a metric coordinate system.
    tolerance : float
        Precision of the centre, in the geometries' units.

    Returns
    -------
    (points, radii) : tuple of ndarray
        Label points and the radius free around each.
    """
    circles = shapely.maximum_inscribed_circle(np.asarray(geoms), tolerance)
    return shapely.get_point(circles, 0), shapely.length(circles)


def band_legend(lo: int, hi: int) -> list[tuple[str, str | tuple[str, str]]]:
    """Legend entries of the grid colouring, as ``(label, colour)``.

    The in-band entry's colour is the ``(light, dark)`` pair of its gradient.
    """
    return [
        (f"少于 {lo} 户", BELOW_BAND),
        (f"{lo}–{hi} 户 (越深户数越多)", IN_BAND),
        (f"多于 {hi} 户", ABOVE_BAND),
        (UNIT_LABEL, UNIT_GRID),
    ]


def road_width(road_class) -> float:
    """Relative line width of a road: 2 for major roads, 1 for streets, 0.5 for paths."""
    if road_class in MAJOR_ROADS:
        return 2.0
    if road_class in MINOR_ROADS:
        return 0.5
    return 1.0
