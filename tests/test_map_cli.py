"""``gridmgmt map``: a partition file or the stored grids drawn as offline HTML or a PNG."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from gridmgmt.cli import main
from tests.conftest import require

COMMUNITY_CODE = "340705001001"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    """A small generated 街道 and its partition, both written through the CLI."""
    folder = tmp_path_factory.mktemp("street")
    gpkg, grids = folder / "street.gpkg", folder / "grids.gpkg"
    made = run("generate", "--households", 3000, "--communities", 1, "--out", gpkg)
    assert made.exit_code == 0, made.output
    cut = run("partition", gpkg, "--prefix", COMMUNITY_CODE, "--out", grids)
    assert cut.exit_code == 0, cut.output
    return gpkg, grids


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, street):
    """An instance whose database holds the street, imported and partitioned through the CLI."""
    gpkg, _ = street
    folder = tmp_path_factory.mktemp("instance")
    for layer in ("boundaries", "compounds", "buildings", "roads"):
        done = run("import", layer, gpkg, "--layer", layer, "--workdir", folder)
        assert done.exit_code == 0, done.output
    cut = run("partition", "--all", "--workdir", folder)
    assert cut.exit_code == 0, cut.output
    return folder


def grid_codes(path) -> list[str]:
    return pyogrio.read_dataframe(path, layer="grids", read_geometry=False)["code"].tolist()


def unescaped(html: str) -> str:
    """The page with the ``\\uXXXX`` escapes of its embedded JSON decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def grid_labels(html: str) -> list[str]:
    """The texts of the grid labels (Leaflet div icons of class grid-label)."""
    icons = re.findall(r'"html": "([^"]*)",[^}]*"className": "grid-label"', unescaped(html))
    return [re.sub(r"<[^>]*>", "", icon) for icon in icons]


def external_urls(html: str) -> list[str]:
    """URLs the page would fetch: scripts, styles, images, tiles."""
    attributes = re.findall(r"""(?:src|href)\s*=\s*["'](https?://[^"']*)""", html)
    tiles = re.findall(r"""tileLayer\(\s*["'](https?://[^"']*)""", html)
    imports = re.findall(r"""@import\s+(?:url\()?["']?(https?://[^"')]*)""", html)
    return attributes + tiles + imports


def read_png(path) -> np.ndarray:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path)


def assert_drawn(pixels: np.ndarray) -> None:
    """A page of sensible size with a real drawing on it (not blank, not one colour)."""
    height, width = pixels.shape[:2]
    assert 1000 <= width <= 5000 and 1000 <= height <= 5000, pixels.shape
    rgb = pixels[..., :3]
    assert rgb.std() > 0.1
    not_white = (rgb < 0.95).any(axis=-1).mean()
    assert 0.2 < not_white < 0.95, not_white
    colours = np.unique((rgb[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50


# ------------------------------------------------------------------ files
def test_html_from_partition_file_shows_every_grid_offline(street, tmp_path):
    gpkg, grids = street
    out = tmp_path / "grids.html"
    result = run("map", grids, "--roads", gpkg, "--out", out)
    assert result.exit_code == 0, result.output
    codes = grid_codes(grids)
    assert f"written: {out} ({len(codes)} grids" in result.output
    assert "buildings" in result.output and "roads" in result.output
    html = out.read_text(encoding="utf-8")
    assert codes and all(code in html for code in codes)
    assert sorted(grid_labels(html)) == sorted(code[-3:] for code in codes)
    assert external_urls(html) == []
    assert "data:text/javascript;base64," in html  # Leaflet itself is embedded
    assert "<title>grids 责任网格</title>" in html


def test_png_from_partition_file_is_a_drawn_page(street, tmp_path):
    gpkg, grids = street
    out = tmp_path / "grids.png"
    result = run("map", grids, "--roads", gpkg, "--out", out)
    assert result.exit_code == 0, result.output
    assert_drawn(read_png(out))


def test_chinese_title_renders_without_missing_glyphs(street, tmp_path):
    from gridmgmt.maps.fonts import FontNotFoundError, cjk_font

    try:
        cjk_font()
    except FontNotFoundError as err:
        require(False, str(err))
    _, grids = street
    out = tmp_path / "title.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run("map", grids, "--title", "幸福街道翠湖社区", "--out", out)
    assert result.exit_code == 0, result.output
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages
    assert "warning" not in result.output
    assert_drawn(read_png(out))


def test_without_a_cjk_font_the_png_is_drawn_with_a_warning(street, tmp_path, monkeypatch):
    import gridmgmt.maps.fonts as fonts

    def no_font():
        raise fonts.FontNotFoundError("no installed font can draw Chinese text")

    monkeypatch.setattr(fonts, "cjk_font", no_font)
    _, grids = street
    out = tmp_path / "boxes.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run("map", grids, "--out", out)
    assert result.exit_code == 0, result.output
    assert "warning: no installed font can draw Chinese text" in result.stderr
    assert "Chinese labels of the map will not be readable" in result.stderr
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert_drawn(read_png(out))


def test_buildings_from_another_file_and_band_options(street, tmp_path):
    gpkg, grids = street
    out = tmp_path / "band.png"
    result = run("map", grids, "--buildings", gpkg, "--min", 300, "--max", 400, "--out", out)
    assert result.exit_code == 0, result.output
    assert "buildings" in result.output and "roads" not in result.output
    assert_drawn(read_png(out))


# ----------------------------------------------------------- stored data
def test_stored_community_as_html_and_png(workdir, tmp_path):
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{workdir / 'gridmgmt.db'}")
    codes = store.current_grids(COMMUNITY_CODE)["code"].tolist()
    name = store.community(COMMUNITY_CODE)["name"]
    store.dispose()
    assert codes

    page = tmp_path / "community.html"
    result = run("map", "--community", name, "--out", page, "--workdir", workdir)
    assert result.exit_code == 0, result.output
    html = unescaped(page.read_text(encoding="utf-8"))
    assert all(code in html for code in codes)
    assert f"{name} 责任网格" in html and "社区 communities" in html
    assert external_urls(html) == []

    picture = tmp_path / "community.png"
    result = run("map", "--community", COMMUNITY_CODE, "--out", picture, "--workdir", workdir)
    assert result.exit_code == 0, result.output
    assert f"({len(codes)} grids" in result.output
    assert_drawn(read_png(picture))


def test_stored_street_by_code(workdir, tmp_path):
    out = tmp_path / "street.html"
    result = run("map", "--street", COMMUNITY_CODE[:9], "--out", out, "--workdir", workdir)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000


# ---------------------------------------------------------------- errors
def error_of(*args, out):
    result = run("map", *args, "--out", out)
    assert not out.exists(), "nothing is written on an error"
    return result


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.gpkg"
    result = error_of(missing, out=tmp_path / "m.png")
    assert result.exit_code == 1
    assert f"{missing}: no such file" in result.output
    assert "gridmgmt partition" in result.output  # what to do


def test_geopackage_without_polygon_layer(street, tmp_path):
    gpkg, _ = street
    points = tmp_path / "points.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(gpkg, layer="facilities"), points, layer="pois")
    result = error_of(points, out=tmp_path / "m.html")
    assert result.exit_code == 1
    assert "points.gpkg: no polygon layer to draw as grids" in result.output
    assert "pois (Point)" in result.output and "gridmgmt partition" in result.output


def test_unknown_or_wrong_layer(street, tmp_path):
    gpkg, grids = street
    unknown = error_of(grids, "--layer", "zones", out=tmp_path / "m.png")
    assert unknown.exit_code == 1
    assert "no layer 'zones' (--layer); layers: grids (Polygon), buildings (Polygon)" in (
        unknown.output
    )
    lines = error_of(gpkg, "--layer", "roads", out=tmp_path / "m.png")
    assert lines.exit_code == 1 and "holds LineString features, not grid polygons" in lines.output
    plain = error_of(gpkg, out=tmp_path / "m.png")
    assert plain.exit_code == 1 and "no layer named 'grids'" in plain.output
    assert "--layer" in plain.output


def test_unknown_community_and_street(workdir, tmp_path):
    community = error_of("--community", "无此社区", "--workdir", workdir, out=tmp_path / "m.png")
    assert community.exit_code == 1
    assert "no 社区 named '无此社区'; known: " in community.output
    street = error_of("--street", "无此街道", "--workdir", workdir, out=tmp_path / "m.html")
    assert street.exit_code == 1 and "no 街道 named '无此街道'" in street.output


def test_unsupported_suffix(street, tmp_path):
    _, grids = street
    result = error_of(grids, out=tmp_path / "m.pdf")
    assert result.exit_code == 1
    assert "--out" in result.output and "unsupported suffix '.pdf'" in result.output
    assert ".html" in result.output and ".png" in result.output


def test_one_source_exactly(street, tmp_path):
    _, grids = street
    neither = error_of(out=tmp_path / "m.png")
    assert neither.exit_code == 2 and "give one of GRIDS.gpkg" in neither.output
    both = error_of(grids, "--community", "翠湖社区", out=tmp_path / "m.png")
    assert both.exit_code == 2
    stray = error_of("--community", "翠湖社区", "--roads", grids, out=tmp_path / "m.png")
    assert stray.exit_code == 2 and "--roads apply to a GRIDS.gpkg file only" in stray.output
