"""A printable picture of 责任网格: grids by household band, buildings, roads, labels, legend.

Drawn with matplotlib's Agg canvas (no display, no pyplot) in the local UTM
zone so distances and shapes are true, on a page an office can print: the
title above, the map with a scale bar and north arrow, and a column at the
right with the legend and a summary of the grids. Chinese text uses the CJK
font of :func:`gridmgmt.maps.fonts.cjk_font`; without one the picture is
still drawn and a :class:`MapFontWarning` says what to install.
"""

from __future__ import annotations

import math
import warnings
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.maps.styling import (
    BUILDING_EDGE,
    COMMUNITY_EDGE,
    GRID_EDGE,
    NO_COUNT,
    NO_COUNT_LABEL,
    band_legend,
    grid_colour,
    grid_label,
    has_count,
    label_anchors,
    mix_colours,
    road_width,
)

#: longest side of the map itself, inches (the page adds title and legend)
MAP_INCHES = 9.0
#: shortest side of the map, inches (long thin areas stay readable)
MIN_MAP_INCHES = 6.0
LEGEND_INCHES = 2.7
#: longest scale bar, inches
SCALE_BAR_INCHES = 1.5
TITLE_INCHES = 0.9
DPI = 200
#: grid label sizes, points
LABEL_MAX_PT = 14.0
LABEL_MIN_PT = 5.0
#: households are written under the label when it is at least this big
HOUSEHOLDS_MIN_PT = 8.0
#: ... and the grid's free radius is this many times the label size
HOUSEHOLDS_ROOM = 1.3
ROAD_CASING = "#8c8c8c"
ROAD_FILL = "#ffffff"
BUILDING_FACE = "#d9d9d9"
GRID_ALPHA = 0.7
#: road classes whose names are written along them
NAMED_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
FALLBACK_FAMILY = "DejaVu Sans"


class MapFontWarning(UserWarning):
    """No CJK font is installed: Chinese text of the picture shows as boxes."""


def picture_font():
    """The font of the picture's text and whether it draws Chinese.

    Returns
    -------
    (FontProperties, bool)
        The CJK font and ``True``; without one, matplotlib's default family
        and ``False``, after a :class:`MapFontWarning`.
    """
    from matplotlib.font_manager import FontProperties

    from gridmgmt.maps.fonts import FontNotFoundError, cjk_font

    try:
        return cjk_font(), True
    except FontNotFoundError as err:
        warnings.warn(
            f"{err}; Chinese labels of the map will not be readable", MapFontWarning, stacklevel=2
        )
        return FontProperties(family=FALLBACK_FAMILY), False


# ------------------------------------------------------------------ geometry
def _rings(geom) -> list[np.ndarray]:
    parts = getattr(geom, "geoms", [geom])
    rings = []
    for poly in parts:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings.append(np.asarray(poly.exterior.coords)[:, :2])
        rings.extend(np.asarray(r.coords)[:, :2] for r in poly.interiors)
    return rings


def _polygon_paths(geoms) -> list:
    from matplotlib.path import Path as MplPath

    paths = []
    for geom in geoms:
        rings = _rings(geom)
        if rings:
            paths.append(MplPath.make_compound_path(*(MplPath(r, closed=True) for r in rings)))
    return paths


def _line_parts(geom) -> list[np.ndarray]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [np.asarray(geom.coords)[:, :2]]
    return [p for g in getattr(geom, "geoms", []) for p in _line_parts(g)]


def _polygons(ax, geoms, **style) -> None:
    from matplotlib.collections import PathCollection

    paths = _polygon_paths(geoms)
    if paths:
        ax.add_collection(PathCollection(paths, **style))


# ------------------------------------------------------------------- layers
def _draw_roads(ax, roads: gpd.GeoDataFrame, points_per_metre: float) -> None:
    """Roads as white lines with grey casing, wider for bigger roads."""
    from matplotlib.collections import LineCollection

    base = min(max(6.0 * points_per_metre, 0.4), 2.5)  # a 6 m carriageway, kept visible
    segments, widths = [], []
    for geom, road_class in zip(roads.geometry, roads["road_class"], strict=True):
        parts = _line_parts(geom)
        segments.extend(parts)
        widths.extend([base * road_width(road_class)] * len(parts))
    if not segments:
        return
    widths = np.asarray(widths)
    ax.add_collection(
        LineCollection(segments, linewidths=widths + 0.8, colors=ROAD_CASING, capstyle="round")
    )
    ax.add_collection(
        LineCollection(segments, linewidths=widths, colors=ROAD_FILL, capstyle="round")
    )


def _label_size(radius_m: float, points_per_metre: float) -> float:
    """Font size (points) whose 3 digits fit in a circle of ``radius_m``."""
    return float(min(max(radius_m * points_per_metre * 0.95, LABEL_MIN_PT), LABEL_MAX_PT))


def _draw_grid_labels(ax, grids: gpd.GeoDataFrame, font, points_per_metre: float) -> list:
    """The last digits of each code (and households when there is room) at the grid's pole."""
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    artists = []
    centres, radii = label_anchors(grids.geometry.values, 0.5)
    rows = zip(grids["code"], grids["kind"], grids["households"], centres, radii, strict=True)
    for code, kind, households, centre, radius in rows:
        size = _label_size(radius, points_per_metre)
        style = {
            "fontproperties": font,
            "ha": "center",
            "color": "#111111",
            "path_effects": halo,
            "zorder": 6,
            "textcoords": "offset points",
        }
        room = radius * points_per_metre >= HOUSEHOLDS_ROOM * size
        two_lines = size >= HOUSEHOLDS_MIN_PT and room and kind != "unit" and has_count(households)
        xy = (centre.x, centre.y)
        code_at = (0, 0.05 * size) if two_lines else (0, 0)
        artists.append(
            ax.annotate(
                grid_label(code),
                xy,
                xytext=code_at,
                fontsize=size,
                fontweight="bold",
                va="bottom" if two_lines else "center",
                **style,
            )
        )
        if two_lines:
            artists.append(
                ax.annotate(
                    f"{int(households)}户",
                    xy,
                    xytext=(0, -0.05 * size),
                    fontsize=0.7 * size,
                    va="top",
                    **style,
                )
            )
    return artists


def _road_name_anchors(roads: gpd.GeoDataFrame, min_length: float) -> list[tuple]:
    """One ``(name, x, y, angle)`` per named main road: the middle of its longest piece."""
    named = roads[roads["road_class"].isin(NAMED_ROADS) & roads["name"].notna()]
    named = named[named["name"].astype(str).str.strip() != ""]
    anchors = []
    for name, group in named.groupby("name", sort=True):
        merged = shapely.line_merge(shapely.union_all(group.geometry.values))
        pieces = [shapely.LineString(p) for p in _line_parts(merged) if len(p) > 1]
        if not pieces:
            continue
        longest = max(pieces, key=lambda p: p.length)
        if longest.length < min_length:
            continue
        mid = longest.interpolate(0.5, normalized=True)
        ahead = longest.interpolate(min(0.5 + 0.02, 1.0), normalized=True)
        behind = longest.interpolate(max(0.5 - 0.02, 0.0), normalized=True)
        angle = math.degrees(math.atan2(ahead.y - behind.y, ahead.x - behind.x))
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        anchors.append((str(name), mid.x, mid.y, angle))
    return anchors


def _draw_road_names(ax, roads, font, points_per_metre: float, taken: list) -> None:
    """Names of main roads along them, left out where they would cover another label or the frame."""
    from matplotlib import patheffects

    size = 6.5
    halo = [patheffects.withStroke(linewidth=2, foreground="white")]
    renderer = ax.figure.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in taken]
    frame = ax.get_window_extent(renderer)
    min_length = 8 * size / points_per_metre  # a piece about as long as a 4-character name
    for name, x, y, angle in _road_name_anchors(roads, min_length):
        artist = ax.text(
            x,
            y,
            name,
            fontproperties=font,
            fontsize=size,
            color="#404040",
            rotation=angle,
            rotation_mode="anchor",
            ha="center",
            va="center",
            path_effects=halo,
            zorder=5,
        )
        box = artist.get_window_extent(renderer)
        inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
        if not inside or any(box.overlaps(b) for b in boxes):
            artist.remove()
        else:
            boxes.append(box)


def _nice_length(target: float) -> float:
    """The largest 1/2/5 × 10ⁿ not over ``target``."""
    exponent = 10 ** math.floor(math.log10(max(target, 1e-9)))
    return max(m * exponent for m in (1, 2, 5) if m * exponent <= target)


def _scale_bar_and_north(ax, top: float, points_per_metre: float, font) -> None:
    """A scale bar (metres, at most :data:`SCALE_BAR_INCHES` long) and a north arrow.

    Drawn in the legend column ``ax``, their top at ``top`` (axes fraction).
    """
    from matplotlib.patches import Rectangle

    width_in, height_in = (ax.get_position().size * ax.figure.get_size_inches()).tolist()
    length = _nice_length(SCALE_BAR_INCHES * 72 / points_per_metre)
    bar_w = length * points_per_metre / 72 / width_in
    bar_h = 0.07 / height_in
    bottom = top - 0.3 / height_in
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (i * bar_w / 2, bottom),
                bar_w / 2,
                bar_h,
                transform=ax.transAxes,
                facecolor="#000000" if i == 0 else "#ffffff",
                edgecolor="#000000",
                linewidth=0.8,
                clip_on=False,
            )
        )
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, label in ((0.0, "0"), (bar_w, text)):
        ax.text(
            x,
            bottom + bar_h + 0.05 / height_in,
            label,
            transform=ax.transAxes,
            fontsize=8,
            ha="center",
            va="bottom",
        )
    ax.text(
        0.0,
        bottom - 0.08 / height_in,
        "比例尺",
        transform=ax.transAxes,
        fontproperties=font,
        fontsize=8,
        va="top",
        color="#404040",
    )
    north_x = 1 - 0.3 / width_in
    ax.annotate(
        "",
        xy=(north_x, top),
        xytext=(north_x, top - 0.4 / height_in),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_width=0.4,head_length=0.8",
            "color": "#000000",
            "lw": 1.5,
        },
    )
    ax.text(
        north_x,
        top - 0.45 / height_in,
        "北",
        transform=ax.transAxes,
        fontproperties=font,
        fontsize=10,
        ha="center",
        va="top",
    )


def _frame(ax):
    """The neat line around the map ``ax``."""
    from matplotlib.patches import Rectangle

    return Rectangle(
        (0, 0),
        1,
        1,
        transform=ax.transAxes,
        fill=False,
        edgecolor="#606060",
        linewidth=0.8,
        clip_on=False,
        zorder=8,
    )


# ------------------------------------------------------------------- legend
def _gradient_handler(colours: tuple[str, str]):
    """A legend handler drawing its key as a light-to-dark strip of ``colours``."""
    from matplotlib.legend_handler import HandlerBase
    from matplotlib.patches import Rectangle

    class GradientHandler(HandlerBase):
        def create_artists(
            self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans
        ):
            steps = 8
            return [
                Rectangle(
                    (-xdescent + i * width / steps, -ydescent),
                    width / steps,
                    height,
                    facecolor=mix_colours(*colours, i / (steps - 1)),
                    edgecolor="none",
                    transform=trans,
                )
                for i in range(steps)
            ]

    return GradientHandler()


def _legend(
    fig, rect, font, layers: dict, grids: gpd.GeoDataFrame, band: tuple[int, int], note: str
):
    """The legend column: legend at the top, summary at the bottom.

    Returns the column's axes and the bottom of the legend (axes fraction).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax = fig.add_axes(rect)
    ax.set_axis_off()
    handles, handler_map = [], {}
    for label, colour in band_legend(*band):
        if isinstance(colour, tuple):
            handle = Patch(label=label)
            handler_map[handle] = _gradient_handler(colour)
        else:
            handle = Patch(facecolor=colour, edgecolor=GRID_EDGE, linewidth=0.6, label=label)
        handles.append(handle)
    if not grids["households"].map(has_count).all():
        handles.append(
            Patch(facecolor=NO_COUNT, edgecolor=GRID_EDGE, linewidth=0.6, label=NO_COUNT_LABEL)
        )
    handles.append(Line2D([], [], color=GRID_EDGE, linewidth=1.2, label="网格界线"))
    if layers.get("communities"):
        handles.append(Line2D([], [], color=COMMUNITY_EDGE, linewidth=2.4, label="社区界线"))
    if layers.get("buildings"):
        handles.append(
            Patch(facecolor=BUILDING_FACE, edgecolor=BUILDING_EDGE, linewidth=0.5, label="建筑")
        )
    if layers.get("roads"):
        handles.append(Line2D([], [], color=ROAD_CASING, linewidth=3, label="道路"))
    legend = ax.legend(
        handles=handles,
        handler_map=handler_map,
        loc="upper left",
        prop=font.copy(),
        title="图例",
        title_fontproperties=font.copy(),
        frameon=False,
        handlelength=2.2,
        borderaxespad=0.0,
    )
    legend.get_title().set_fontsize(12)
    for text in legend.get_texts():
        text.set_fontsize(9)
    renderer = fig.canvas.get_renderer()
    legend_box = legend.get_window_extent(renderer).transformed(ax.transAxes.inverted())
    ax.text(
        0.0,
        0.0,
        note,
        transform=ax.transAxes,
        fontproperties=font,
        fontsize=8.5,
        va="bottom",
        linespacing=1.6,
    )
    return ax, float(legend_box.y0)


def _summary(grids: gpd.GeoDataFrame, band: tuple[int, int], source: str) -> str:
    lo, hi = band
    units = int((grids["kind"] == "unit").sum())
    residential = grids[grids["kind"] != "unit"]
    counted = residential["households"].dropna()
    lines = [f"网格 {len(grids)} 个 (住宅 {len(grids) - units}, 单位 {units})"]
    if len(counted):
        inside = int(counted.between(lo, hi).sum())
        lines += [
            f"住宅网格户数 {int(counted.sum()):,} 户",
            f"每格 {int(counted.min())}–{int(counted.max())} 户, 中位 {int(counted.median())}",
            f"{lo}–{hi} 户之内: {inside} / {len(counted)} 个",
        ]
    lines += [
        "",
        "网格上的数字为网格编码后三位",
        f"数据: {source}",
        f"制图: {date.today():%Y-%m-%d}",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------- page
def _page(extent: tuple[float, float, float, float]):
    """Figure and map axes sized to the extent's shape, room for title and legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    minx, miny, maxx, maxy = extent
    dx, dy = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    if dx >= dy:
        width, height = MAP_INCHES, max(MAP_INCHES * dy / dx, MIN_MAP_INCHES)
    else:
        width, height = max(MAP_INCHES * dx / dy, MIN_MAP_INCHES), MAP_INCHES
    page_w, page_h = width + LEGEND_INCHES + 0.4, height + TITLE_INCHES + 0.3
    fig = Figure(figsize=(page_w, page_h), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.2 / page_w, 0.2 / page_h, width / page_w, height / page_h))
    legend_rect = (
        (width + 0.4) / page_w,
        0.2 / page_h,
        (LEGEND_INCHES - 0.2) / page_w,
        height / page_h,
    )
    return fig, ax, legend_rect, width


def _extent(grids: gpd.GeoDataFrame, outline: gpd.GeoDataFrame) -> tuple[float, ...]:
    """Bounds of grids and outline with a small margin."""
    bounds = np.vstack([grids.total_bounds, outline.total_bounds])
    minx, miny = bounds[:, :2].min(axis=0)
    maxx, maxy = bounds[:, 2:].max(axis=0)
    pad = 0.03 * max(maxx - minx, maxy - miny)
    return (minx - pad, miny - pad, maxx + pad, maxy + pad)


def _draw_layers(ax, grids, buildings, roads, outline, band, points_per_metre) -> dict:
    """Grid fills, roads, buildings, grid and 社区 lines; which optional layers were drawn."""
    colours = [
        grid_colour(h, k, *band) for h, k in zip(grids["households"], grids["kind"], strict=True)
    ]
    _polygons(ax, grids.geometry, facecolors=colours, edgecolors="none", alpha=GRID_ALPHA, zorder=1)
    drawn = {"communities": outline is not None, "roads": False, "buildings": False}
    if roads is not None and len(roads):
        _draw_roads(ax, roads, points_per_metre)
        drawn["roads"] = True
    if buildings is not None and len(buildings):
        _polygons(
            ax,
            buildings.geometry,
            facecolors=BUILDING_FACE,
            edgecolors=BUILDING_EDGE,
            linewidths=0.25,
            zorder=3,
        )
        drawn["buildings"] = True
    _polygons(ax, grids.geometry, facecolors="none", edgecolors=GRID_EDGE, linewidths=1.1, zorder=4)
    if outline is not None:
        _polygons(
            ax,
            outline.geometry,
            facecolors="none",
            edgecolors=COMMUNITY_EDGE,
            linewidths=2.4,
            linestyles="--",
            zorder=4,
        )
    return drawn


def _headings(fig, font, title: str, band: tuple[int, int]) -> None:
    """The page title and the line under it."""
    left = 0.2 / fig.get_figwidth()
    fig.text(
        left,
        1 - 0.25 / fig.get_figheight(),
        f"{title} 责任网格图" if title else "责任网格图",
        fontproperties=font,
        fontsize=18,
        fontweight="bold",
        va="top",
    )
    fig.text(
        left,
        1 - 0.62 / fig.get_figheight(),
        f"网格按户数着色 (户数区间 {band[0]}–{band[1]} 户), 单位网格为灰色",
        fontproperties=font,
        fontsize=10,
        color="#404040",
        va="top",
    )


def grid_picture_png(
    path: str | Path,
    *,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    title: str = "",
    source: str = "",
    min_households: int = 250,
    max_households: int = 500,
) -> Path:
    """Draw grids coloured by kind and household band, with labels and legend, as a PNG.

    Parameters
    ----------
    path : str or Path
        The PNG to write (parent folders created).
    grids : GeoDataFrame
        ``code``, ``kind``, ``households`` (see :func:`gridmgmt.maps.sources.grid_frame`).
    buildings, roads, communities : GeoDataFrame, optional
        Drawn when given; roads need ``road_class`` and ``name``.
    title : str
        The area's name; the page title reads ``<title> 责任网格图``.
    source : str
        Where the data came from, printed under the legend.
    min_households, max_households : int
        The household band of the colouring.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        No grids.

    Warns
    -----
    MapFontWarning
        No CJK font is installed (the picture is drawn anyway).
    """
    if grids is None or len(grids) == 0:
        raise ValueError("no grids to draw")
    font, readable = picture_font()
    crs = grids.estimate_utm_crs() if grids.crs and grids.crs.is_geographic else grids.crs
    grids = grids.to_crs(crs)
    outline = None if communities is None or len(communities) == 0 else communities.to_crs(crs)
    roads = roads.to_crs(crs) if roads is not None and len(roads) else None
    buildings = buildings.to_crs(crs) if buildings is not None and len(buildings) else None
    extent = _extent(grids, grids if outline is None else outline)
    band = (min_households, max_households)

    with warnings.catch_warnings():
        if not readable:  # warned once already, not once per character
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig, ax, legend_rect, map_width = _page(extent)
        ax.set_xlim(extent[0], extent[2])
        ax.set_ylim(extent[1], extent[3])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_axis_off()
        ax.apply_aspect()
        x0, x1 = ax.get_xlim()
        points_per_metre = map_width * 72 / (x1 - x0)

        drawn = _draw_layers(ax, grids, buildings, roads, outline, band, points_per_metre)
        labels = _draw_grid_labels(ax, grids, font, points_per_metre)
        if roads is not None:
            _draw_road_names(ax, roads, font, points_per_metre, labels)
        ax.add_patch(_frame(ax))
        _headings(fig, font, title, band)
        column, legend_bottom = _legend(
            fig, legend_rect, font, drawn, grids, band, _summary(grids, band, source)
        )
        _scale_bar_and_north(column, legend_bottom - 0.04, points_per_metre, font)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=DPI, facecolor="white", bbox_inches="tight", pad_inches=0.15)
    return out
