"""What a grid map shows, read from a partition file or from the stored data.

:func:`layers_from_file` reads a GeoPackage written by ``gridmgmt partition
--out`` (its ``grids`` and ``buildings`` layers), optionally with buildings
and roads from other files; :func:`layers_from_store` reads the current
grids of a stored 社区 or 街道 with the buildings and roads around them.
Both give a :class:`MapLayers` in WGS84 with the columns the map builders
expect, whatever the source lacked filled in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.layers import GRID_COLUMNS, WGS84

#: what the map shows of each layer (missing columns are filled with None)
BUILDING_SHOWN = ("name", "building_type", "households", "grid_code")
ROAD_SHOWN = ("name", "road_class")
#: share of the map's extent added around the grids when other layers are cut to it
MARGIN = 0.25
#: polygon layers never taken for grids unless named with ``--layer``
NOT_GRIDS = ("buildings", "compounds", "boundaries")
PARTITION_HINT = "give the GeoPackage `gridmgmt partition ... --out FILE.gpkg` wrote"


@dataclass
class MapLayers:
    """The layers of one grid map, in WGS84.

    Attributes
    ----------
    title : str
        Name of the area (社区, 街道 or file).
    grids : GeoDataFrame
        ``code``, ``kind``, ``households``, ``n_buildings``, ``flag``.
    buildings, roads, communities : GeoDataFrame or None
        Drawn when present; communities with ``code`` and ``name``.
    source : str
        Where the data came from, for the map's footnote.
    """

    title: str
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    source: str = ""


class StoredMapData(Protocol):
    """The store's read functions a map of stored data uses."""

    def admin_areas(self, level: str) -> gpd.GeoDataFrame: ...

    def community(self, name_or_code: str) -> dict: ...

    def current_grids(self, community_code: str | None = None) -> gpd.GeoDataFrame: ...

    def read_layer(self, layer: str, *, bbox=None) -> gpd.GeoDataFrame: ...


# ------------------------------------------------------------------ columns
def _with_columns(frame: gpd.GeoDataFrame, columns) -> gpd.GeoDataFrame:
    frame = frame.copy()
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame


def _in_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame.to_crs(WGS84)


def grid_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grids with every column of :data:`GRID_COLUMNS`, codes as text, in WGS84.

    A layer without ``code`` takes ``grid_code`` or else its row numbers
    (``001``, ``002``...); without ``kind`` every grid is residential.
    """
    frame = _in_wgs84(frame)
    frame = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    frame = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    if "code" not in frame.columns:
        if "grid_code" in frame.columns:
            frame["code"] = frame["grid_code"]
        else:
            frame["code"] = [f"{i:03d}" for i in range(1, len(frame) + 1)]
    if "kind" not in frame.columns:
        frame["kind"] = "residential"
    frame = _with_columns(frame, GRID_COLUMNS)
    frame["code"] = frame["code"].astype(str)
    frame["households"] = pd.to_numeric(frame["households"], errors="coerce")
    return frame.sort_values("code").reset_index(drop=True)


def _building_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = _with_columns(_in_wgs84(frame), BUILDING_SHOWN)
    frame["households"] = pd.to_numeric(frame["households"], errors="coerce")
    return frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)


def _road_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = _with_columns(_in_wgs84(frame), ROAD_SHOWN)
    return frame[frame.geom_type.isin(["LineString", "MultiLineString"])].reset_index(drop=True)


def _around(extent: gpd.GeoDataFrame) -> shapely.Polygon:
    """The extent's bounding box with :data:`MARGIN` added on each side."""
    minx, miny, maxx, maxy = extent.total_bounds
    pad = MARGIN * max(maxx - minx, maxy - miny)
    return shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)


def _cut(frame: gpd.GeoDataFrame | None, box: shapely.Polygon, *, clip: bool):
    """Objects of ``frame`` touching ``box``; lines clipped to it when ``clip``."""
    if frame is None or len(frame) == 0:
        return frame
    frame = frame[frame.intersects(box)]
    if clip and len(frame):
        frame = frame.copy()
        frame["geometry"] = frame.geometry.intersection(box)
        frame = frame[~frame.geometry.is_empty]
    return frame.reset_index(drop=True)


# -------------------------------------------------------------------- files
def _layer_list(path: Path) -> list[tuple[str, str]]:
    import pyogrio

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; {PARTITION_HINT}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; {PARTITION_HINT}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(str(n), str(t)) for n, t in pyogrio.list_layers(str(path))]
    except Exception as err:
        raise ValueError(f"{path}: not a readable GeoPackage ({err}); {PARTITION_HINT}") from err


def _read(path: Path, layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(str(path), layer=layer)
    except Exception as err:
        raise ValueError(f"{path}: layer {layer!r} is not readable ({err})") from err


def _describe(layers: list[tuple[str, str]]) -> str:
    return ", ".join(f"{n} ({t})" for n, t in layers) or "none"


def _grid_layer(path: Path, layers: list[tuple[str, str]], layer: str | None) -> str:
    """The polygon layer holding the grids: ``layer``, else ``grids``, else the only other one."""
    types = dict(layers)
    polygonal = [n for n, t in layers if "polygon" in t.lower()]
    if layer is not None:
        if layer not in types:
            raise ValueError(f"{path}: no layer {layer!r} (--layer); layers: {_describe(layers)}")
        if layer not in polygonal and types[layer].lower() not in ("unknown", "geometry"):
            raise ValueError(
                f"{path}: layer {layer!r} (--layer) holds {types[layer]} features, not grid "
                f"polygons; polygon layers: {', '.join(polygonal) or 'none'}"
            )
        return layer
    if not polygonal:
        raise ValueError(
            f"{path}: no polygon layer to draw as grids (layers: {_describe(layers)}); "
            + PARTITION_HINT
        )
    if "grids" in polygonal:
        return "grids"
    others = [n for n in polygonal if n not in NOT_GRIDS]
    if len(others) == 1 or (len(polygonal) == 1 and polygonal[0] not in ("buildings",)):
        return (others or polygonal)[0]
    raise ValueError(
        f"{path}: no layer named 'grids' (polygon layers: {', '.join(polygonal)}); "
        "choose the grid layer with --layer"
    )


def _extra_layer(
    path: str | Path, kind: str, layer: str | None, coords: str, option: str
) -> gpd.GeoDataFrame:
    """Buildings or roads from another file (OSM, GeoPackage, GeoJSON...), read like an import."""
    from gridmgmt.io import read_layers

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} (--{option}): no such file")
    if layer is None and path.suffix.lower() == ".gpkg":
        layers = _layer_list(path)
        names = [n for n, _ in layers]
        if kind in names:
            layer = kind
        elif len(names) > 1:
            raise ValueError(
                f"{path} (--{option}): several layers and none named {kind!r} "
                f"({_describe(layers)}); choose one with --{option}-layer"
            )
    return getattr(read_layers(path, kind=kind, layer=layer, coords=coords, china=False), kind)


def layers_from_file(
    path: str | Path,
    *,
    layer: str | None = None,
    buildings: str | Path | None = None,
    buildings_layer: str | None = None,
    roads: str | Path | None = None,
    roads_layer: str | None = None,
    coords: str = "wgs84",
) -> MapLayers:
    """The layers of a map of a partition file.

    Parameters
    ----------
    path : str or Path
        A GeoPackage (or any vector file) holding the grids.
    layer : str, optional
        The grid layer; default ``grids``, else the first polygon layer.
    buildings, roads : str or Path, optional
        Other files to take buildings/roads from (OSM, GeoPackage, GeoJSON,
        Shapefile...); default: the ``buildings``/``roads`` layers of ``path``
        when it has them.
    buildings_layer, roads_layer : str, optional
        The layer to read in ``buildings``/``roads``, or in ``path`` when
        that file is not given.
    coords : str
        Coordinate system of the ``buildings``/``roads`` files.

    Returns
    -------
    MapLayers
        Titled with the file's name; buildings and roads cut to the grids'
        surroundings.

    Raises
    ------
    FileNotFoundError
        A file does not exist.
    ValueError
        A file is not readable, has no polygon layer, lacks a named layer,
        or its grid layer is empty.
    """
    path = Path(path)
    layers = _layer_list(path)
    names = [n for n, _ in layers]
    chosen = _grid_layer(path, layers, layer)
    grids = grid_frame(_read(path, chosen))
    if len(grids) == 0:
        raise ValueError(f"{path}: layer {chosen!r} has no polygons to draw; {PARTITION_HINT}")

    def own(kind: str, name: str | None) -> gpd.GeoDataFrame | None:
        if name is not None and name not in names:
            raise ValueError(
                f"{path}: no layer {name!r} (--{kind}-layer); layers: {', '.join(names)}"
            )
        name = name or (kind if kind in names else None)
        return _read(path, name) if name is not None else None

    building_frame = (
        _extra_layer(buildings, "buildings", buildings_layer, coords, "buildings")
        if buildings is not None
        else own("buildings", buildings_layer)
    )
    road_frame = (
        _extra_layer(roads, "roads", roads_layer, coords, "roads")
        if roads is not None
        else own("roads", roads_layer)
    )
    box = _around(grids)
    return MapLayers(
        title=path.stem,
        grids=grids,
        buildings=_cut(_building_frame(building_frame), box, clip=False)
        if building_frame is not None
        else None,
        roads=_cut(_road_frame(road_frame), box, clip=True) if road_frame is not None else None,
        source=str(path.name) if chosen == "grids" else f"{path.name}, layer {chosen}",
    )


# ------------------------------------------------------------- stored data
def _stored_surroundings(store: StoredMapData, area: shapely.Geometry, box: shapely.Polygon):
    """Stored buildings inside ``area`` and roads clipped to ``box``."""
    bbox = tuple(float(v) for v in box.bounds)
    buildings = _building_frame(store.read_layer("buildings", bbox=bbox))
    if len(buildings):
        inside = buildings.geometry.representative_point().intersects(area)
        buildings = buildings[np.asarray(inside)].reset_index(drop=True)
    roads = _cut(_road_frame(store.read_layer("roads", bbox=bbox)), box, clip=True)
    return buildings, roads


def layers_from_store(
    store: StoredMapData, *, community: str | None = None, street: str | None = None
) -> MapLayers:
    """The layers of a map of a stored 社区 or 街道: current grids, buildings, roads, 社区 outlines.

    Parameters
    ----------
    store : StoredMapData
        The store (its public read functions).
    community : str, optional
        社区 name or 12-digit code.
    street : str, optional
        街道 name or 9-digit code (exactly one of ``community``/``street``).

    Returns
    -------
    MapLayers

    Raises
    ------
    NotFoundError
        An unknown 社区 or 街道 (the known ones named).
    ValueError
        Both or neither of ``community``/``street``, or the area has no
        current grids yet.
    """
    from gridmgmt.domain.errors import NotFoundError

    if (community is None) == (street is None):
        raise ValueError("give one of --community or --street")
    every = store.admin_areas("community")
    if community is not None:
        found = store.community(community)
        code, name = str(found["code"]), str(found["name"])
        communities = every[every["code"] == code]
        grids = store.current_grids(code)
        label, hint = f"社区 {name} ({code})", f"--community {code}"
    else:
        streets = store.admin_areas("street")
        hit = streets[(streets["code"] == street) | (streets["name"] == street)]
        if hit.empty:
            known = ", ".join(f"{r.name} ({r.code})" for r in streets.itertuples())
            raise NotFoundError(f"no 街道 named {street!r}; known: {known or 'none'}")
        code, name = str(hit.iloc[0]["code"]), str(hit.iloc[0]["name"])
        communities = every[every["parent_code"] == code]
        grids = store.current_grids()
        grids = grids[grids["community_code"].isin(communities["code"])]
        label, hint = f"街道 {name} ({code})", "--all"
    if len(grids) == 0:
        raise ValueError(f"{label} has no grids yet; partition it first: gridmgmt partition {hint}")
    grids = grid_frame(grids)
    communities = _in_wgs84(communities).reset_index(drop=True)
    area = shapely.union_all([*communities.geometry, *grids.geometry])
    box = _around(gpd.GeoDataFrame(geometry=[area], crs=WGS84))
    buildings, roads = _stored_surroundings(store, area, box)
    return MapLayers(
        title=name,
        grids=grids,
        buildings=buildings,
        roads=roads,
        communities=communities,
        source=label,
    )
