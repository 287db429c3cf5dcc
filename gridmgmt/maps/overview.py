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

#: colours for grid household counts relative to the band
BELOW_BAND = "#6baed6"
IN_BAND = ("#c7e9c0", "#31a354")
ABOVE_BAND = "#de2d26"
UNIT_GRID = "#969696"

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


def _grid_colour(households: float, kind: str, lo: int, hi: int) -> str:
    if kind == "unit":
        return UNIT_GRID
    if households < lo:
        return BELOW_BAND
    if households > hi:
        return ABOVE_BAND
    t = (households - lo) / max(hi - lo, 1)
    a, b = IN_BAND
    mix = [round(int(a[i : i + 2], 16) * (1 - t) + int(b[i : i + 2], 16) * t) for i in (1, 3, 5)]
    return "#" + "".join(f"{v:02x}" for v in mix)


def grid_overview_map(
    *,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    title: str = "",
    min_households: int = 250,
    max_households: int = 500,
    tiles: str | None = None,
) -> folium.Map:
    """Build the overview map of one 街道.

    Parameters
    ----------
    communities : GeoDataFrame
        社区 polygons with ``code`` and ``name``.
    grids : GeoDataFrame, optional
        Grids with ``code``, ``kind``, ``households``, ``n_buildings``, ``flag``;
        coloured by households against the band (below: blue, in band: green,
        above: red, 单位网格: grey).
    buildings, roads, facilities : GeoDataFrame, optional
        Layers shown, each toggled in the layer control.
    title : str
        Shown in the top-left corner.
    tiles : str, optional
        A folium tiles name or URL; default none (works offline).

    Returns
    -------
    folium.Map
    """
    if communities is None or len(communities) == 0:
        raise ValueError("no 社区 to show: import or generate data first")
    minx, miny, maxx, maxy = communities.to_crs(4326).total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    fmap.default_js, fmap.default_css = _embedded_assets()
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    if roads is not None and len(roads):
        folium.GeoJson(
            _lean(roads, ["name", "road_class"], 2e-6),
            name="道路 roads",
            style_function=lambda f: {
                "color": "#bdbdbd",
                "weight": 2 if f["properties"]["road_class"] in ("primary", "secondary") else 1,
            },
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(fmap)
    if grids is not None and len(grids):
        g = _lean(grids, ["code", "kind", "households", "n_buildings", "flag"], 2e-6)
        folium.GeoJson(
            g,
            name="责任网格 grids",
            style_function=lambda f: {
                "fillColor": _grid_colour(
                    f["properties"]["households"],
                    f["properties"]["kind"],
                    min_households,
                    max_households,
                ),
                "color": "#252525",
                "weight": 1.2,
                "fillOpacity": 0.55,
            },
            tooltip=folium.GeoJsonTooltip(
                ["code", "kind", "households", "n_buildings", "flag"],
                aliases=["网格编码", "类型", "户数", "建筑数", "标记"],
            ),
        ).add_to(fmap)
    if buildings is not None and len(buildings):
        folium.GeoJson(
            _lean(buildings, ["name", "building_type", "households"], 1e-6),
            name="建筑 buildings",
            style_function=lambda f: {
                "color": "#525252",
                "weight": 0.5,
                "fillColor": "#f0f0f0",
                "fillOpacity": 0.8,
            },
            tooltip=folium.GeoJsonTooltip(
                ["name", "building_type", "households"], aliases=["名称", "类型", "户数"]
            ),
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
    folium.GeoJson(
        _lean(communities, ["code", "name"], 2e-6),
        name="社区 communities",
        style_function=lambda f: {"color": "#08306b", "weight": 3, "fill": False},
        tooltip=folium.GeoJsonTooltip(["name", "code"], aliases=["社区", "编码"]),
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    legend = (
        "<div style='position:absolute;bottom:24px;right:10px;z-index:1000;background:#fff;"
        "padding:6px 8px;border:1px solid #999;font:12px sans-serif'>"
        f"<b>{html.escape(title)}</b><br>"
        f"<span style='background:{BELOW_BAND}'>&nbsp;&nbsp;&nbsp;</span> &lt; {min_households} 户<br>"
        f"<span style='background:{IN_BAND[1]}'>&nbsp;&nbsp;&nbsp;</span> {min_households}–{max_households} 户<br>"
        f"<span style='background:{ABOVE_BAND}'>&nbsp;&nbsp;&nbsp;</span> &gt; {max_households} 户<br>"
        f"<span style='background:{UNIT_GRID}'>&nbsp;&nbsp;&nbsp;</span> 单位网格</div>"
    )
    fmap.get_root().html.add_child(folium.Element(legend))
    return fmap


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Write the map as one HTML file (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmap.save(str(path))
    return path
