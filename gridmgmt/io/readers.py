"""Reading any supported file into the normalised layers of :mod:`gridmgmt.core.layers`.

``read_layers`` validates, converts and normalises; it writes nothing. The
store writes its result in one transaction (:mod:`gridmgmt.domain.importing`).
This module opens files and tells their layers apart; the steps after it
are :mod:`~gridmgmt.io.geometry_checks` (geometries),
:mod:`~gridmgmt.io.attributes` (columns and values) and
:mod:`~gridmgmt.io.households` (households, ledgers), with the words they
share in :mod:`~gridmgmt.io.layer_vocabulary`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmgmt.core.layers import WGS84
from gridmgmt.io import osm
from gridmgmt.io.attributes import normalise_attributes
from gridmgmt.io.errors import InputError, Problem
from gridmgmt.io.fast_io import count_features, iter_chunks, read_vector
from gridmgmt.io.geometry_checks import prepare_geometries
from gridmgmt.io.households import HouseholdTally, finish_buildings, read_ledger
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.layer_vocabulary import ID_COLUMN, LAYER_COLUMNS, LAYER_KINDS
from gridmgmt.io.tabular import read_table, table_to_frame

__all__ = [
    "COORD_SYSTEMS",
    "FORMATS",
    "LAYER_KINDS",
    "ImportResult",
    "empty_layer",
    "in_parts",
    "read_layer_parts",
    "read_layers",
    "read_ledger",
    "read_polygons",
]

FORMATS = {
    ".osm": "osm",
    ".pbf": "osm",
    ".geojson": "vector",
    ".json": "vector",
    ".gpkg": "vector",
    ".shp": "vector",
    ".zip": "vector",
    ".csv": "table",
    ".txt": None,
    ".xlsx": "table",
    ".xlsm": "table",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
NO_FEATURES = "no features found"
#: the end of a geometry-type problem of a polygon layer (see geometry_checks)
POLYGONS_NEEDED = "need Polygon or MultiPolygon"


@dataclass
class ImportResult:
    """Normalised layers (EPSG:4326, our columns) and the report of the read."""

    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    report: ImportReport = field(repr=False)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        return {k: getattr(self, k) for k in LAYER_KINDS}


def empty_layer(kind: str) -> gpd.GeoDataFrame:
    """An empty layer with the right columns."""
    return gpd.GeoDataFrame({c: [] for c in LAYER_COLUMNS[kind]}, geometry=[], crs=WGS84)


# ----------------------------------------------------------------- public API
def read_layers(
    path: str | Path,
    *,
    kind: str | None = None,
    coords: str = "wgs84",
    strict: bool = False,
    ledger: str | Path | None = None,
    layer: str | None = None,
    dwelling_size_m2: float = 90.0,
    china: bool = True,
    compounds: str | Path | gpd.GeoDataFrame | None = None,
    boundary_coords: str | None = None,
    crs=None,
) -> ImportResult:
    """Read ``path`` into normalised layers.

    Parameters
    ----------
    path : path-like
        OSM (``.osm``/``.pbf``), GeoJSON, GeoPackage, Shapefile (``.shp`` or
        ``.zip``), GeoParquet (``.parquet``/``.geoparquet``), CSV (UTF-8 or
        GBK) or XLSX with lon/lat or WKT columns.
    kind : str, optional
        What a non-OSM file holds (``buildings``, ``roads``, ``compounds``,
        ``facilities``, ``boundaries``); inferred from layer names, geometry
        type and columns when omitted (the report says what was inferred).
        For an OSM file it keeps only that layer.
    coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Coordinate system of lon/lat input; converted to WGS84.
    strict : bool
        Reject invalid or empty geometries instead of repairing/skipping them.
    ledger : path-like, optional
        台账 (CSV/XLSX) of building id -> households (and optionally
        population); its counts replace estimates.
    layer : str, optional
        The layer of a multi-layer file to read.
    dwelling_size_m2 : float
        Floor area per household for estimates.
    china : bool
        Refuse coordinates outside China's extent (default True).
    compounds : path-like or GeoDataFrame, optional
        小区 outlines or land use from another file (a compounds layer or
        a file read as one), in which buildings are placed besides the
        file's own compounds: untyped buildings in residential land count
        households, and 小区 ledgers find their 小区.
    boundary_coords : str, optional
        Coordinate system of the ``boundaries`` layer when it differs from
        ``coords`` (an outline saved from a GCJ-02 web map).
    crs : optional
        The CRS of a file that declares none (e.g. ``"EPSG:4326"`` for a
        GeoParquet file whose metadata says ``crs: null``); such a file is
        refused without it.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputError
        For anything that keeps the file from being imported whole.
    """
    path = Path(path)
    fmt = _validate(path, kind, coords, dwelling_size_m2)
    if boundary_coords is not None:
        _validate(path, kind, boundary_coords, dwelling_size_m2)
    report = ImportReport(str(path))
    raw = _read_raw(path, fmt, kind, layer, report, crs)
    out = {k: empty_layer(k) for k in LAYER_KINDS}
    for name in ("compounds", "boundaries", "roads", "facilities", "buildings"):
        if name not in raw:
            continue
        frame = raw[name]
        report.layer(name).read += len(frame)
        system = boundary_coords if name == "boundaries" and boundary_coords else coords
        frame = prepare_geometries(frame, path, name, system, strict, china, report)
        if len(frame) == 0:
            continue
        frame = normalise_attributes(frame, path, name, report)
        if name == "buildings":
            land = _with_compounds(out["compounds"], compounds, coords)
            frame = finish_buildings(frame, land, path, dwelling_size_m2, ledger, report)
        out[name] = frame
        report.layer(name).imported = len(frame)
    if not any(len(f) for f in out.values()) and not any(r.read for r in report.layers.values()):
        raise InputError.single(path, NO_FEATURES)
    return ImportResult(**out, report=report)


#: features per part when a large file is imported in parts
DEFAULT_CHUNK_SIZE = 50_000
#: the layers a file may be imported in parts (nothing in them depends on other rows)
PART_KINDS = ("buildings", "roads", "facilities")


def in_parts(
    path: str | Path,
    *,
    kind: str | None = None,
    layer: str | None = None,
    ledger=None,
    compounds=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bool:
    """Whether :func:`read_layer_parts` can read ``path``: one large buildings/roads/facilities layer.

    True for a GeoPackage, GeoJSON, Shapefile, FlatGeobuf or GeoParquet
    file with one layer to read (or ``layer`` given), of more than
    ``chunk_size`` features, read as (``kind`` or named, else inferred from
    its first features) buildings, roads or facilities, and no ledger (a
    ledger is matched against all buildings at once). Anything else is read
    whole by :func:`read_layers`.
    """
    path = Path(path)
    if ledger is not None or not path.is_file():
        return False
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("vector", "parquet") or path.suffix.lower() == ".zip":
        return False
    if kind is not None and kind not in PART_KINDS:
        return False
    try:
        name = _single_layer(path, layer)
        if name is False or count_features(path, name) <= chunk_size:
            return False
        if kind is None and name not in LAYER_KINDS:
            sample = read_vector(path, layer=name, max_features=1000, crs="EPSG:4326", path=path)
            kind = _infer_kind(sample, name, ImportReport(str(path)), path)
        return (kind or name) in PART_KINDS
    except Exception:  # noqa: BLE001 - unreadable here: read_layers says why
        return False


def _single_layer(path: Path, layer):
    """The one layer to read (None for GeoParquet), or False when there are several."""
    if FORMATS.get(path.suffix.lower()) == "parquet":
        return None
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = [str(n) for n, _ in pyogrio.list_layers(str(path))]
    if layer is not None:
        return layer if layer in names else False
    return names[0] if len(names) == 1 else False


def read_layer_parts(
    path: str | Path,
    *,
    kind: str | None = None,
    coords: str = "wgs84",
    strict: bool = False,
    layer: str | None = None,
    dwelling_size_m2: float = 90.0,
    china: bool = True,
    compounds: str | Path | gpd.GeoDataFrame | None = None,
    crs=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ImportResult]:
    """Read one layer of ``path`` in parts of ``chunk_size`` features (see :func:`in_parts`).

    Each part goes through the steps of :func:`read_layers` (geometry checks,
    attributes, households) and is yielded as an :class:`ImportResult`
    holding that part's rows. All parts share one report, complete once the
    last part is yielded: its counts, repairs, skips and warnings are those
    :func:`read_layers` gives for the whole file, and ids repeated across
    parts are refused as they are within one. ``progress`` is called with
    the number of features read after each part.

    Raises
    ------
    InputError
        As :func:`read_layers`, at the part where the problem is found.
    """
    path = Path(path)
    _validate(path, kind, coords, dwelling_size_m2)
    name = _single_layer(path, layer)
    if name is False:
        raise InputError.single(path, "holds several layers; choose one with --layer")
    report = ImportReport(str(path))
    tally = HouseholdTally()
    land = None
    seen: dict[str, int] = {}
    start = 0
    for raw in iter_chunks(path, chunk_size, layer=name, crs=crs, path=path):
        raw["_row"] = np.arange(len(raw)) + start + 1
        if kind is None:
            kind = name if name in LAYER_KINDS else _infer_kind(raw, name, report, path)
        report.layer(kind).read += len(raw)
        frame = prepare_geometries(raw, path, kind, coords, strict, china, report)
        out = {k: empty_layer(k) for k in LAYER_KINDS}
        if len(frame):
            rows = frame["_row"].to_numpy()
            frame = normalise_attributes(frame, path, kind, report)
            _refuse_repeated_ids(frame[ID_COLUMN[kind]].tolist(), rows, path, seen)
            if kind == "buildings":
                if land is None:
                    land = _with_compounds(empty_layer("compounds"), compounds, coords)
                frame = finish_buildings(frame, land, path, dwelling_size_m2, None, report, tally)
            out[kind] = frame
            report.layer(kind).imported += len(frame)
        start += len(raw)
        if progress is not None:
            progress(len(raw))
        yield ImportResult(**out, report=report)
    if not any(r.read for r in report.layers.values()):
        raise InputError.single(path, NO_FEATURES)
    if kind == "buildings":
        tally.report(report)  # after the last part, as read_layers does for the whole file


def _refuse_repeated_ids(ids: list[str], rows, path: Path, seen: dict[str, int]) -> None:
    """Refuse ids met in an earlier part (rows named); remember this part's."""
    rows = np.asarray(rows).tolist()
    if not seen.keys().isdisjoint(ids):  # a set operation in C; the rows only when needed
        again = [(i, r) for i, r in zip(ids, rows, strict=True) if i in seen]
        raise InputError(
            [Problem(str(path), f"duplicate id {i!r} (rows {seen[i]}, {r})") for i, r in again]
        )
    seen.update(zip(ids, rows, strict=True))


def read_polygons(
    path: str | Path, coords: str = "wgs84", what: str = "boundary"
) -> gpd.GeoDataFrame:
    """Polygons of a boundary or zones file, any format :func:`read_layers` reads.

    Parameters
    ----------
    path : path-like
        The file; its polygons are read as a compounds layer would be.
    coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Coordinate system of lon/lat input; converted to WGS84.
    what : str
        What the file is for (``boundary``, ``zones``), named in problems.

    Returns
    -------
    GeoDataFrame
        The polygons in EPSG:4326.

    Raises
    ------
    InputError
        The file holds no features, no usable polygons, or other geometry types.
    """
    need = f"a {what} file needs Polygon or MultiPolygon features. Nothing was written."
    try:
        frame = read_layers(path, kind="compounds", coords=coords).compounds
    except InputError as err:
        types = sorted(
            {
                p.reason.split(" geometry where ")[0]
                for p in err.problems
                if POLYGONS_NEEDED in p.reason
            }
        )
        if types:
            raise InputError.single(
                path, f"holds {'/'.join(types)} geometries, not polygons: {need}"
            ) from err
        if err.reason == NO_FEATURES:
            raise InputError.single(path, f"holds no features: {need}") from err
        raise
    if len(frame) == 0:
        raise InputError.single(path, f"holds no polygons (every geometry is empty): {need}")
    return frame


def _with_compounds(own: gpd.GeoDataFrame, extra, coords: str) -> gpd.GeoDataFrame:
    if extra is None:
        return own
    if not isinstance(extra, gpd.GeoDataFrame):
        extra = read_layers(extra, kind="compounds", coords=coords).compounds
    if not len(own):
        return extra
    return gpd.GeoDataFrame(pd.concat([own, extra], ignore_index=True), crs=WGS84)


# ------------------------------------------------------------------ reading
def _validate(path: Path, kind, coords, dwelling_size_m2) -> str:
    if not path.exists():
        raise InputError.single(path, "file not found")
    if path.is_dir():
        raise InputError.single(path, "is a directory, not a file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(s for s, f in FORMATS.items() if f))
        raise InputError.single(
            path, f"unsupported format {path.suffix or '(no suffix)'!r}; supported: {known}"
        )
    if kind is not None and kind not in LAYER_KINDS:
        raise InputError.single(
            path, f"unknown kind {kind!r}; expected one of {', '.join(LAYER_KINDS)}"
        )
    if coords.lower().replace("-", "") not in COORD_SYSTEMS:
        raise InputError.single(
            path,
            f"unknown coordinate system {coords!r}; expected one of {', '.join(COORD_SYSTEMS)}",
        )
    if dwelling_size_m2 <= 0:
        raise InputError.single(path, f"dwelling size must be positive, got {dwelling_size_m2}")
    return fmt


def _read_raw(path: Path, fmt: str, kind, layer, report, crs) -> dict[str, gpd.GeoDataFrame]:
    if fmt == "osm":
        try:
            layers = osm.read_osm(path)
        except Exception as err:
            raise InputError.single(path, f"not a readable OSM file ({err})") from err
        return {kind: layers[kind]} if kind else layers
    if fmt == "table":
        table = read_table(path)
        frame = table_to_frame(path, table)
        name = kind or _infer_kind(frame, None, report, path)
        return {name: frame}
    if fmt == "parquet":
        frame = read_vector(path, crs=crs, path=path)
        frame["_row"] = np.arange(len(frame)) + 1
        return {kind or _infer_kind(frame, None, report, path): frame}
    return _read_vector(path, kind, layer, report, crs)


def _read_vector(path: Path, kind, layer, report, crs=None) -> dict[str, gpd.GeoDataFrame]:
    import pyogrio

    source = _ogr_source(path, layer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            available = [str(n) for n, _ in pyogrio.list_layers(source)]
    except Exception as err:
        raise InputError.single(path, f"not a readable geodata file ({err})") from err
    if layer is not None and path.suffix.lower() != ".zip":
        if layer not in available:
            raise InputError.single(path, f"no layer {layer!r}; layers: {', '.join(available)}")
        names = [layer]
    else:
        names = available if path.suffix.lower() == ".gpkg" else available[:1]
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = read_vector(source, layer=name, crs=crs, path=path)
        except InputError:
            raise
        except Exception as err:
            raise InputError.single(path, f"layer {name!r} is not readable ({err})") from err
        frame["_row"] = np.arange(len(frame)) + 1
        target = kind or (name if name in LAYER_KINDS else _infer_kind(frame, name, report, path))
        if target in out:
            out[target] = pd.concat([out[target], frame], ignore_index=True)
        else:
            out[target] = frame
    return out


def _ogr_source(path: Path, layer) -> str:
    """The OGR source of ``path``: the file, or the Shapefile inside a ZIP archive."""
    source = str(path)
    if path.suffix.lower() == ".zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile as err:
            raise InputError.single(path, "not a readable ZIP archive") from err
        if not shps:
            raise InputError.single(path, "the ZIP archive holds no .shp file")
        if len(shps) > 1 and layer is None:
            raise InputError.single(
                path,
                f"the ZIP archive holds several shapefiles ({', '.join(shps)}); choose one with --layer",
            )
        inner = next((s for s in shps if layer and Path(s).stem == layer), shps[0])
        source = f"/vsizip/{path}/{inner}"
    return source


def _infer_kind(frame: gpd.GeoDataFrame, layer_name, report: ImportReport, path: Path) -> str:
    types = set(frame.geometry.dropna().geom_type) if len(frame) else set()
    cols = {c.lower() for c in frame.columns}
    if types and types <= {"Point", "MultiPoint"}:
        kind = "facilities"
    elif types and types <= {"LineString", "MultiLineString"}:
        kind = "roads"
    elif cols & {"level", "级别", "adcode", "区划代码"}:
        kind = "boundaries"
    elif cols & {"compound_kind", "landuse", "用地类型"} and not cols & {
        "households",
        "户数",
        "floors",
        "层数",
    }:
        kind = "compounds"
    else:
        kind = "buildings"
    where = f"layer {layer_name!r}" if layer_name else path.name
    report.warn(
        f"{where} read as {kind} (inferred from its geometry and columns; pass the kind to choose)"
    )
    return kind
