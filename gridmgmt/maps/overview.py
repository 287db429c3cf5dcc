"""A self-contained overview map of a 街道: 社区, 责任网格, buildings, roads, facilities.

The HTML embeds Leaflet itself (from the ``xstatic-leaflet`` package) and uses
no base-map tiles by default, so it opens on an intranet with no internet.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import folium
import geopandas as gpd
import shapely

from gridmgmt.maps.styling import (
    ABOVE_BAND,
    BELOW_BAND,
    BUILDING_EDGE,
    BUILDING_FILL,
    COMMUNITY_EDGE,
    GRID_EDGE,
    IN_BAND,
    MAJOR_ROADS,
    ROAD_COLOUR,
    UNIT_GRID,
    grid_colour,
    grid_label,
    label_anchors,
)

FACILITY_COLOURS = {
    "school": "#1f78b4",
    "kindergarten": "#a6cee3",
    "university": "#1f78b4",
    "hospital": "#e31a1c",
    "clinic": "#fb9a99",
    "market": "#ff7f00",
    "government": "#6a3d9a",
    "police": "#333399",
    "park": "#33a02c",
}


def _data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _embedded_assets() -> tuple[list, list]:
    import xstatic.pkg.leaflet as leaflet

    base = Path(leaflet.BASE_DIR)
    js = [("leaflet", _data_url(base / "leaflet.js", "text/javascript"))]
    css = [("leaflet_css", _data_url(base / "leaflet.css", "text/css"))]
    return js, css


def _lean(
    frame: gpd.GeoDataFrame, columns: list[str], tolerance_deg: float = 0.0
) -> gpd.GeoDataFrame:
    """Only the columns shown, coordinates rounded to ~0.1 m, optionally simplified."""
    frame = frame.to_crs(4326)
    keep = [c for c in columns if c in frame.columns]
    geoms = frame.geometry.values
    if tolerance_deg:
        geoms = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 1e-6)
    out = gpd.GeoDataFrame(frame[keep].copy(), geometry=geoms, crs=4326)
    for c in keep:
        if out[c].dtype == object or str(out[c].dtype).startswith("str"):
            out[c] = out[c].map(lambda v: html.escape(str(v)) if v is not None else "")
    return out


#: tooltip fields of each layer and their Chinese names (fields a frame lacks are left out)
GRID_FIELDS = {
    "code": "网格编码",
    "kind": "类型",
    "households": "户数",
    "n_buildings": "建筑数",
    "flag": "标记",
}
BUILDING_FIELDS = {
    "name": "名称",
    "building_type": "类型",
    "households": "户数",
    "grid_code": "网格编码",
}
#: a label's box on the HTML map, in pixels
LABEL_SIZE = (36, 16)


def _tooltip(frame: gpd.GeoDataFrame, fields: dict[str, str]) -> folium.GeoJsonTooltip | None:
    shown = [f for f in fields if f in frame.columns]
    if not shown:
        return None
    return folium.GeoJsonTooltip(shown, aliases=[fields[f] for f in shown])


def _grid_labels(grids: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """The last digits of each grid code at a point inside the grid."""
    group = folium.FeatureGroup(name="网格编号 labels")
    metric = grids.to_crs(grids.estimate_utm_crs())
    centres, _ = label_anchors(metric.geometry.values, 0.5)
    points = gpd.GeoSeries(centres, crs=metric.crs).to_crs(4326)
    width, height = LABEL_SIZE
    for code, point in zip(grids["code"], points, strict=True):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=(
                    "<div style='font:bold 12px sans-serif;color:#111;text-align:center;"
                    "text-shadow:0 0 3px #fff,0 0 3px #fff'>"
                    f"{html.escape(grid_label(code))}</div>"
                ),
                icon_size=(width, height),
                icon_anchor=(width // 2, height // 2),
                class_name="grid-label",
            ),
        ).add_to(group)
    return group


def _legend(title: str, min_households: int, max_households: int) -> folium.Element:
    swatch = "<span style='background:{}'>&nbsp;&nbsp;&nbsp;</span>"
    return folium.Element(
        "<div style='position:absolute;bottom:24px;right:10px;z-index:1000;background:#fff;"
        "padding:6px 8px;border:1px solid #999;font:12px sans-serif'>"
        f"<b>{html.escape(title)}</b><br>"
        f"{swatch.format(BELOW_BAND)} &lt; {min_households} 户<br>"
        f"{swatch.format(IN_BAND[1])} {min_households}–{max_households} 户<br>"
        f"{swatch.format(ABOVE_BAND)} &gt; {max_households} 户<br>"
        f"{swatch.format(UNIT_GRID)} 单位网格</div>"
    )


def grid_overview_map(
    *,
    communities: gpd.GeoDataFrame | None,
    grids: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    title: str = "",
    min_households: int = 250,
    max_households: int = 500,
    tiles: str | None = None,
    label_grids: bool = False,
) -> folium.Map:
    """Build the overview map of one 街道 (or of grids alone).

    Parameters
    ----------
    communities : GeoDataFrame or None
        社区 polygons with ``code`` and ``name``; may be ``None`` or empty
        when ``grids`` are given (a map of a partition file).
    grids : GeoDataFrame, optional
        Grids with ``code``, ``kind``, ``households``, ``n_buildings``, ``flag``;
        coloured by households against the band (below: blue, in band: green,
        above: red, 单位网格: grey), see :func:`gridmgmt.maps.styling.grid_colour`.
    buildings, roads, facilities : GeoDataFrame, optional
        Layers shown, each toggled in the layer control.
    title : str
        Shown in the legend.
    min_households, max_households : int
        The household band of the colouring.
    tiles : str, optional
        A folium tiles name or URL; default none (works offline).
    label_grids : bool
        Write the last digits of each grid code on the grid.

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        Neither 社区 nor grids to show.
    """
    has_communities = communities is not None and len(communities) > 0
    has_grids = grids is not None and len(grids) > 0
    if not has_communities and not has_grids:
        raise ValueError("no 社区 to show: import or generate data first")
    extent = communities if has_communities else grids
    minx, miny, maxx, maxy = extent.to_crs(4326).total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = _embedded_assets()
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    if roads is not None and len(roads):
        folium.GeoJson(
            _lean(roads, ["name", "road_class"], 2e-6),
            name="道路 roads",
            style_function=lambda f: {
                "color": ROAD_COLOUR,
                "weight": 2 if f["properties"].get("road_class") in MAJOR_ROADS else 1,
            },
            tooltip=folium.GeoJsonTooltip(["name"], labels=False) if "name" in roads else None,
        ).add_to(fmap)
    if has_grids:
        folium.GeoJson(
            _lean(grids, list(GRID_FIELDS), 2e-6),
            name="责任网格 grids",
            style_function=lambda f: {
                "fillColor": grid_colour(
                    f["properties"].get("households"),
                    f["properties"].get("kind"),
                    min_households,
                    max_households,
                ),
                "color": GRID_EDGE,
                "weight": 1.2,
                "fillOpacity": 0.55,
            },
            tooltip=_tooltip(grids, GRID_FIELDS),
        ).add_to(fmap)
    if buildings is not None and len(buildings):
        folium.GeoJson(
            _lean(buildings, list(BUILDING_FIELDS), 1e-6),
            name="建筑 buildings",
            style_function=lambda f: {
                "color": BUILDING_EDGE,
                "weight": 0.5,
                "fillColor": BUILDING_FILL,
                "fillOpacity": 0.8,
            },
            tooltip=_tooltip(buildings, BUILDING_FIELDS),
        ).add_to(fmap)
    if facilities is not None and len(facilities):
        f = facilities.to_crs(4326).copy()
        f["geometry"] = f.geometry.representative_point()
        folium.GeoJson(
            _lean(f, ["name", "category"]),
            name="设施 facilities",
            marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9, weight=1),
            style_function=lambda x: {
                "color": "#000",
                "fillColor": FACILITY_COLOURS.get(x["properties"]["category"], "#ffff33"),
            },
            tooltip=folium.GeoJsonTooltip(["name", "category"], aliases=["名称", "类别"]),
        ).add_to(fmap)
    if has_communities:
        folium.GeoJson(
            _lean(communities, ["code", "name"], 2e-6),
            name="社区 communities",
            style_function=lambda f: {"color": COMMUNITY_EDGE, "weight": 3, "fill": False},
            tooltip=folium.GeoJsonTooltip(["name", "code"], aliases=["社区", "编码"]),
        ).add_to(fmap)
    if label_grids and has_grids and "code" in grids.columns:
        _grid_labels(grids).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(_legend(title, min_households, max_households))
    return fmap


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Write the map as one HTML file (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmap.save(str(path))
    return path
