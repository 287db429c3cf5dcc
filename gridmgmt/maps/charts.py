"""PNG charts with Chinese text: the Gi* hot-spot map and a bar chart of incident rates.

matplotlib renders CJK only with a font that has the glyphs; the charts take
it from :func:`gridmgmt.maps.fonts.cjk_font` and fail with a clear message
when there is none, rather than drawing boxes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from gridmgmt.core.spatial_stats import HOTSPOT_CLASSES, HOTSPOT_LABELS_ZH
from gridmgmt.maps.fonts import CJK_FAMILIES, FontNotFoundError, cjk_font, has_glyphs

__all__ = [
    "CJK_FAMILIES",
    "HOTSPOT_COLOURS",
    "FontNotFoundError",
    "cjk_font",
    "has_glyphs",
    "hotspot_map_png",
    "rate_bar_chart_png",
]

HOTSPOT_COLOURS = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "not_significant": "#f0f0f0",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
    "no_households": "#bdbdbd",
}


def _figure(size):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=120)


def hotspot_map_png(
    grids: gpd.GeoDataFrame, path: str | Path, *, title: str = "事件热点分析 (Getis-Ord Gi*)"
) -> Path:
    """Draw grids coloured by their Gi* class with a Chinese legend and write a PNG.

    Parameters
    ----------
    grids : GeoDataFrame
        Output of :func:`gridmgmt.core.spatial_stats.hotspots` (``hotspot`` column).
    path : str or Path
        The PNG to write.
    title : str
        The map title.
    """
    from matplotlib.patches import Patch

    if "hotspot" not in grids.columns:
        raise ValueError("grids need a 'hotspot' column (run spatial_stats.hotspots first)")
    font = cjk_font()
    fig = _figure((8, 7))
    ax = fig.add_subplot()
    frame = (
        grids.to_crs(grids.estimate_utm_crs()) if grids.crs and grids.crs.is_geographic else grids
    )
    colours = frame["hotspot"].map(HOTSPOT_COLOURS).fillna("#ffffff")
    frame.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.6)
    present = [c for c in HOTSPOT_CLASSES if (frame["hotspot"] == c).any()]
    handles = [
        Patch(facecolor=HOTSPOT_COLOURS[c], edgecolor="#555555", label=HOTSPOT_LABELS_ZH[c])
        for c in present
    ]
    ax.legend(handles=handles, prop=font, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title, fontproperties=font, fontsize=14)
    ax.set_axis_off()
    ax.set_aspect("equal")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    return out


def rate_bar_chart_png(
    grids: gpd.GeoDataFrame,
    path: str | Path,
    *,
    top: int = 15,
    title: str = "事件率最高的网格 (每千户)",
) -> Path:
    """Bar chart of the ``top`` grids by incident rate, bars coloured by Gi* class."""
    if "rate" not in grids.columns:
        raise ValueError("grids need a 'rate' column (run spatial_stats.incident_rates first)")
    font = cjk_font()
    ranked = grids[grids["rate"].notna()].sort_values("rate", ascending=False).head(top)
    fig = _figure((9, 5))
    ax = fig.add_subplot()
    colours = (
        ranked["hotspot"].map(HOTSPOT_COLOURS).fillna("#888888")
        if "hotspot" in ranked
        else "#4c72b0"
    )
    ax.bar(range(len(ranked)), ranked["rate"], color=colours, edgecolor="#555555")
    ax.set_xticks(range(len(ranked)))
    ax.set_xticklabels([str(c)[-6:] for c in ranked["code"]], rotation=60, fontsize=8)
    ax.set_xlabel("网格编码 (后6位)", fontproperties=font)
    ax.set_ylabel("事件数 / 千户", fontproperties=font)
    ax.set_title(title, fontproperties=font, fontsize=13)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    return out
