"""Charts draw Chinese with a real CJK font (never boxes) and write PNGs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core.spatial_stats import hotspots, incident_rates
from gridmgmt.maps.charts import cjk_font, has_glyphs, hotspot_map_png, rate_bar_chart_png
from tests.environment import require


@pytest.fixture(scope="module")
def font():
    from gridmgmt.maps.charts import FontNotFoundError

    try:
        return cjk_font()
    except FontNotFoundError as err:
        require(False, str(err))


def test_font_is_cjk_and_has_the_glyphs(font):
    from fontTools.ttLib import TTCollection, TTFont
    from matplotlib import font_manager

    path = font_manager.findfont(font, fallback_to_default=False)
    name = font.get_name()
    assert any(k in name for k in ("CJK", "Hei", "Han", "Noto Sans SC", "Fallback", "PL")), name
    assert has_glyphs(path, "网格热点冷点")
    fonts = TTCollection(path).fonts if str(path).lower().endswith(".ttc") else [TTFont(path)]
    cmap = fonts[0].getBestCmap()
    assert all(ord(ch) in cmap for ch in "网格员事件")
    assert not has_glyphs(path, "\U000f0000")  # a private-use code point: the check can fail


def _grids():
    codes = [f"G{r}{c}" for r in range(3) for c in range(3)]
    geoms = [shapely.box(c, -r, c + 1, -r + 1) for r in range(3) for c in range(3)]
    frame = gpd.GeoDataFrame(
        {"code": codes, "households": [400] * 8 + [0]},
        geometry=[shapely.affinity.scale(g, 0.001, 0.001, origin=(0, 0)) for g in geoms],
        crs=4326,
    )
    frame = frame.set_geometry(frame.translate(117.8, 30.9))
    rates = incident_rates(frame, ["G00"] * 9 + ["G01"] * 8 + ["G10"] * 7 + ["G22"])
    return hotspots(rates, seed=0)[0]


def test_hotspot_map_and_bar_chart_are_pngs(font, tmp_path):
    from matplotlib.image import imread

    grids = _grids()
    for path in (
        hotspot_map_png(grids, tmp_path / "map.png"),
        rate_bar_chart_png(grids, tmp_path / "bar.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = imread(path)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 300
        assert np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0).shape[0] > 10
    with pytest.raises(ValueError, match="hotspot"):
        hotspot_map_png(grids.drop(columns="hotspot"), tmp_path / "x.png")
