"""Reading any supported file into the normalised layers of :mod:`gridmgmt.core.layers`.

``read_layers`` validates, converts and normalises; it writes nothing. The
store writes its result in one transaction (:mod:`gridmgmt.domain.importing`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import coords as cc
from gridmgmt.core.crs import to_metric
from gridmgmt.core.households import (
    MIXED_RESIDENTIAL_SHARE,
    RESIDENTIAL_SHARE,
    estimate_households,
    estimate_population,
)
from gridmgmt.core.layers import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    BUILDING_TYPES,
    COMPOUND_COLUMNS,
    FACILITY_CATEGORIES,
    FACILITY_COLUMNS,
    ROAD_COLUMNS,
    WGS84,
)
from gridmgmt.io import osm
from gridmgmt.io.errors import InputError, Problem
from gridmgmt.io.report import ImportReport
from gridmgmt.io.tabular import FIRST_ROW, find_column, read_table, table_to_frame

LAYER_KINDS = ("buildings", "roads", "compounds", "facilities", "boundaries")
LAYER_COLUMNS = {
    "buildings": BUILDING_COLUMNS,
    "roads": ROAD_COLUMNS,
    "compounds": COMPOUND_COLUMNS,
    "facilities": FACILITY_COLUMNS,
    "boundaries": BOUNDARY_COLUMNS,
}
ID_COLUMN = {
    "buildings": "building_id",
    "roads": "road_id",
    "compounds": "compound_id",
    "facilities": "facility_id",
    "boundaries": "code",
}
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
}
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: our column <- names found in users' files (case-insensitive), per layer
ALIASES = {
    "buildings": {
        "building_id": ("building_id", "id", "fid", "osm_id", "编号", "建筑编号", "楼栋编号"),
        "building_type": ("building_type", "type", "类型", "建筑类型", "building"),
        "floors": ("floors", "层数", "楼层", "levels", "building:levels"),
        "households": ("households", "户数", "住户数", "hh"),
        "population": ("population", "人口", "人口数"),
        "compound_id": ("compound_id", "小区编号"),
        "name": ("name", "名称", "楼栋名称", "建筑名称"),
    },
    "roads": {
        "road_id": ("road_id", "id", "osm_id", "编号"),
        "road_class": ("road_class", "highway", "class", "等级", "道路等级"),
        "name": ("name", "名称", "道路名称"),
    },
    "compounds": {
        "compound_id": ("compound_id", "id", "编号"),
        "compound_kind": ("compound_kind", "kind", "类别"),
        "landuse": ("landuse", "用地类型", "用地", "type", "类型"),
        "name": ("name", "名称", "小区名称"),
    },
    "facilities": {
        "facility_id": ("facility_id", "id", "编号", "poi_id"),
        "category": ("category", "类别", "type", "类型", "amenity"),
        "name": ("name", "名称"),
    },
    "boundaries": {
        "level": ("level", "级别", "层级"),
        "code": ("code", "编码", "代码", "adcode", "区划代码"),
        "name": ("name", "名称"),
        "parent_code": ("parent_code", "上级编码", "上级代码"),
    },
}

#: Chinese or AMap-style category words -> facility category (first match wins)
CATEGORY_WORDS = (
    ("幼儿园", "kindergarten"),
    ("大学", "university"),
    ("高等院校", "university"),
    ("学院", "university"),
    ("学校", "school"),
    ("中学", "school"),
    ("小学", "school"),
    ("医院", "hospital"),
    ("诊所", "clinic"),
    ("卫生服务", "clinic"),
    ("卫生室", "clinic"),
    ("菜市场", "market"),
    ("农贸市场", "market"),
    ("超市", "market"),
    ("市场", "market"),
    ("派出所", "police"),
    ("公安", "police"),
    ("公园", "park"),
    ("街道办", "government"),
    ("政府", "government"),
    ("居委会", "community_centre"),
    ("社区服务", "community_centre"),
    ("养老", "elderly_care"),
    ("敬老", "elderly_care"),
    ("体育", "sports"),
    ("图书馆", "culture"),
    ("文化", "culture"),
    ("物业", "property_management"),
)

#: Chinese building type words -> our type
BUILDING_WORDS = {
    "住宅": "residential",
    "居民楼": "residential",
    "高层住宅": "apartments",
    "多层住宅": "apartments",
    "别墅": "villa",
    "平房": "house",
    "宿舍": "dormitory",
    "商业": "commercial",
    "办公": "office",
    "学校": "school",
    "医院": "hospital",
    "工业": "industrial",
    "厂房": "industrial",
    "公共": "public",
}

POLYGONAL = ("buildings", "compounds", "boundaries")
LEVEL_CODE_LENGTH = {"district": 6, "street": 9, "community": 12}


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
) -> ImportResult:
    """Read ``path`` into normalised layers.

    Parameters
    ----------
    path : path-like
        OSM (``.osm``/``.pbf``), GeoJSON, GeoPackage, Shapefile (``.shp`` or
        ``.zip``), CSV (UTF-8 or GBK) or XLSX with lon/lat or WKT columns.
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
    report = ImportReport(str(path))
    raw = _read_raw(path, fmt, kind, layer, report)
    out = {k: empty_layer(k) for k in LAYER_KINDS}
    for name in ("compounds", "boundaries", "roads", "facilities", "buildings"):
        if name not in raw:
            continue
        frame = raw[name]
        report.layer(name).read += len(frame)
        frame = _prepare_geometries(frame, path, name, coords, strict, china, report)
        if len(frame) == 0:
            continue
        frame = _normalise(frame, path, name, report)
        if name == "buildings":
            frame = _finish_buildings(
                frame, out["compounds"], path, dwelling_size_m2, ledger, report
            )
        out[name] = frame
        report.layer(name).imported = len(frame)
    if not any(len(f) for f in out.values()) and not any(r.read for r in report.layers.values()):
        raise InputError.single(path, "no features found")
    return ImportResult(**out, report=report)


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


def _read_raw(path: Path, fmt: str, kind, layer, report) -> dict[str, gpd.GeoDataFrame]:
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
    return _read_vector(path, kind, layer, report)


def _read_vector(path: Path, kind, layer, report) -> dict[str, gpd.GeoDataFrame]:
    import pyogrio

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
                frame = pyogrio.read_dataframe(source, layer=name)
        except Exception as err:
            raise InputError.single(path, f"layer {name!r} is not readable ({err})") from err
        frame["_row"] = np.arange(len(frame)) + 1
        target = kind or (name if name in LAYER_KINDS else _infer_kind(frame, name, report, path))
        if target in out:
            out[target] = pd.concat([out[target], frame], ignore_index=True)
        else:
            out[target] = frame
    return out


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


# --------------------------------------------------------------- geometries
def _row_label(frame: pd.DataFrame, i: int, id_col: str | None) -> tuple[int | None, str | None]:
    row = int(frame["_row"].iloc[i]) if "_row" in frame.columns else None
    fid = None
    if id_col and id_col in frame.columns:
        value = frame[id_col].iloc[i]
        fid = None if pd.isna(value) else str(value)
    return row, fid


def _source_id_column(frame: pd.DataFrame, kind: str) -> str | None:
    return find_column(frame, ALIASES[kind][ID_COLUMN[kind]])


def _prepare_geometries(
    frame, path: Path, kind: str, coords: str, strict: bool, china: bool, report
) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputError.single(
            path, "has no coordinate reference system (CRS); save it with one, e.g. EPSG:4326"
        )
    system = coords.lower().replace("-", "")
    if frame.crs.is_projected:
        if system not in ("wgs84", "cgcs2000"):
            raise InputError.single(
                path,
                f"--coords {coords} applies to lon/lat data, but the file is projected ({frame.crs.name})",
            )
        frame = frame.to_crs(WGS84)
    elif frame.crs.to_epsg() not in (4326, 4490):
        frame = frame.to_crs(WGS84)
    frame = frame.set_crs(WGS84, allow_override=True).reset_index(drop=True)
    if "_row" not in frame.columns:
        frame["_row"] = np.arange(len(frame)) + FIRST_ROW
    id_col = _source_id_column(frame, kind)
    layer_report = report.layer(kind)

    geoms = frame.geometry.values
    empty = shapely.is_missing(np.asarray(geoms, dtype=object)) | shapely.is_empty(
        np.asarray(geoms, dtype=object)
    )
    if empty.any():
        idx = np.flatnonzero(empty)
        if strict:
            raise InputError(
                [Problem(str(path), "empty geometry", *_row_label(frame, i, id_col)) for i in idx]
            )
        for i in idx:
            row, fid = _row_label(frame, i, id_col)
            layer_report.skipped.append((fid or f"row {row}", "empty geometry"))
        frame = frame[~empty].reset_index(drop=True)
    if len(frame) == 0:
        return frame

    _check_type(frame, path, kind, id_col)
    _check_coordinates(frame, path, id_col, china, system)
    if system in ("gcj02", "bd09"):
        func = cc.gcj02_to_wgs84 if system == "gcj02" else cc.bd09_to_wgs84
        frame = frame.set_geometry(
            list(cc.transform_geometries(frame.geometry.values, func)), crs=WGS84
        )

    invalid = ~shapely.is_valid(np.asarray(frame.geometry.values, dtype=object))
    if invalid.any():
        idx = np.flatnonzero(invalid)
        reasons = shapely.is_valid_reason(np.asarray(frame.geometry.values, dtype=object)[idx])
        if strict:
            raise InputError(
                [
                    Problem(str(path), f"invalid geometry ({why})", *_row_label(frame, i, id_col))
                    for i, why in zip(idx, reasons, strict=True)
                ]
            )
        repaired = list(frame.geometry.values)
        for i, why in zip(idx, reasons, strict=True):
            fixed = _repair(repaired[i], kind)
            row, fid = _row_label(frame, i, id_col)
            label = fid or f"row {row}"
            if fixed is None:
                layer_report.skipped.append(
                    (label, f"invalid geometry that cannot be repaired ({why})")
                )
            else:
                layer_report.repaired.append((label, f"{why}; repaired with make_valid"))
            repaired[i] = fixed
        frame = frame.set_geometry(repaired, crs=WGS84)
        frame = frame[frame.geometry.notna()].reset_index(drop=True)
    return frame


def _repair(geom, kind: str):
    fixed = shapely.make_valid(geom)
    if kind in POLYGONAL:
        parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            return None
        fixed = shapely.union_all(parts)
    return None if fixed.is_empty else fixed


def _check_type(frame, path: Path, kind: str, id_col) -> None:
    types = frame.geometry.geom_type.to_numpy()
    allowed = {
        "buildings": ("Polygon", "MultiPolygon"),
        "compounds": ("Polygon", "MultiPolygon"),
        "boundaries": ("Polygon", "MultiPolygon"),
        "roads": ("LineString", "MultiLineString"),
        "facilities": ("Point", "MultiPoint", "Polygon", "MultiPolygon"),
    }[kind]
    bad = np.flatnonzero(~np.isin(types, allowed))
    if len(bad):
        raise InputError(
            [
                Problem(
                    str(path),
                    f"{types[i]} geometry where {kind} need {' or '.join(allowed)}",
                    *_row_label(frame, i, id_col),
                )
                for i in bad
            ]
        )


def _check_coordinates(frame, path: Path, id_col, china: bool, system: str) -> None:
    b = frame.geometry.bounds.to_numpy()
    minx, miny, maxx, maxy = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    lonb = (cc.CHINA_BBOX[0], cc.CHINA_BBOX[2])
    latb = (cc.CHINA_BBOX[1], cc.CHINA_BBOX[3])
    swapped_china = (cy >= lonb[0]) & (cy <= lonb[1]) & (cx >= latb[0]) & (cx <= latb[1])
    impossible = (
        (np.abs(miny) > 90) | (np.abs(maxy) > 90) | (np.abs(minx) > 180) | (np.abs(maxx) > 180)
    )
    swapped = impossible | (swapped_china if china else np.zeros(len(frame), bool))
    if swapped.any():
        problems = []
        for i in np.flatnonzero(swapped):
            problems.append(
                Problem(
                    str(path),
                    f"latitude/longitude look swapped (lon {cx[i]:.5f}, lat {cy[i]:.5f}); check which column is which",
                    *_row_label(frame, i, id_col),
                )
            )
        raise InputError(problems)
    if china:
        outside = (minx < lonb[0]) | (maxx > lonb[1]) | (miny < latb[0]) | (maxy > latb[1])
        if outside.any():
            raise InputError(
                [
                    Problem(
                        str(path),
                        f"coordinates outside China's extent (lon {cx[i]:.5f}, lat {cy[i]:.5f}); "
                        "use --outside-china for data elsewhere",
                        *_row_label(frame, i, id_col),
                    )
                    for i in np.flatnonzero(outside)
                ]
            )


# ------------------------------------------------------------- attributes
def _normalise(frame: gpd.GeoDataFrame, path: Path, kind: str, report) -> gpd.GeoDataFrame:
    aliases = ALIASES[kind]
    data = {}
    for ours, names in aliases.items():
        col = ours if ours in frame.columns else find_column(frame, names)
        data[ours] = (
            frame[col].to_numpy(dtype=object) if col else np.full(len(frame), None, dtype=object)
        )
    for extra in ("osm_building",):
        if extra in frame.columns:
            data[extra] = frame[extra].to_numpy(dtype=object)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=WGS84)
    out["_row"] = frame["_row"].to_numpy()
    id_col = ID_COLUMN[kind]
    missing_id = pd.isna(out[id_col])
    if missing_id.any():
        out.loc[missing_id, id_col] = [f"{path.stem}:{r}" for r in out.loc[missing_id, "_row"]]
    out[id_col] = [str(v).strip() for v in out[id_col]]
    dup = out[id_col].duplicated(keep=False)
    if dup.any():
        ids = sorted(set(out.loc[dup, id_col]))
        raise InputError(
            [
                Problem(
                    str(path),
                    f"duplicate id {i!r} (rows {', '.join(str(r) for r in out.loc[out[id_col] == i, '_row'])})",
                )
                for i in ids
            ]
        )
    normalise = {
        "buildings": _normalise_buildings,
        "roads": _normalise_roads,
        "compounds": _normalise_compounds,
        "facilities": _normalise_facilities,
        "boundaries": _normalise_boundaries,
    }[kind]
    return normalise(out, path)


def _numbers(out, column: str, path: Path, *, integer: bool) -> pd.Series:
    raw = out[column]
    values = pd.to_numeric(raw, errors="coerce")
    problems = []
    for i in np.flatnonzero(
        (raw.notna() & (raw.astype(str).str.strip() != "") & values.isna()).to_numpy()
    ):
        problems.append(
            Problem(
                str(path),
                f"{column} is not a number ({raw.iloc[i]!r})",
                int(out["_row"].iloc[i]),
                out.iloc[i, 0],
            )
        )
    for i in np.flatnonzero((values < 0).to_numpy()):
        problems.append(
            Problem(
                str(path),
                f"{column} is negative ({raw.iloc[i]})",
                int(out["_row"].iloc[i]),
                out.iloc[i, 0],
            )
        )
    if integer:
        frac = values.notna() & (values >= 0) & (values != np.floor(values.fillna(0)))
        for i in np.flatnonzero(frac.to_numpy()):
            problems.append(
                Problem(
                    str(path),
                    f"{column} is not a whole number ({raw.iloc[i]})",
                    int(out["_row"].iloc[i]),
                    out.iloc[i, 0],
                )
            )
    if problems:
        raise InputError(problems)
    return values


def _building_type(value, osm_value) -> str | None:
    for v in (value, osm_value):
        if not isinstance(v, str) or not v.strip():
            continue
        v = v.strip()
        if v in BUILDING_TYPES:
            return v
        if v in osm.BUILDING_TYPES:
            return osm.BUILDING_TYPES[v]
        for word, ours in BUILDING_WORDS.items():
            if word in v:
                return ours
    return None


def _normalise_buildings(out, path: Path):
    out["floors"] = _numbers(out, "floors", path, integer=False).to_numpy(dtype=float)
    out["_households_given"] = _numbers(out, "households", path, integer=True)
    out["_population_given"] = _numbers(out, "population", path, integer=True)
    osm_col = out["osm_building"] if "osm_building" in out.columns else pd.Series([None] * len(out))
    out["building_type"] = [
        _building_type(v, o) for v, o in zip(out["building_type"], osm_col, strict=True)
    ]
    out["name"] = out["name"].where(out["name"].notna(), None)
    return out


def _normalise_roads(out, path: Path):
    out["road_class"] = out["road_class"].fillna("unclassified").astype(str)
    return out.drop(columns=["_row"])


def _normalise_compounds(out, path: Path):
    landuse = out["landuse"].fillna("residential").astype(str).str.strip()
    out["landuse"] = landuse
    kind = out["compound_kind"]
    derived = np.where(landuse.isin(["residential", "住宅", "居住"]), "residential", "unit")
    out["compound_kind"] = [
        k if k in ("residential", "unit") else d for k, d in zip(kind, derived, strict=True)
    ]
    return out.drop(columns=["_row"])


def _facility_category(value) -> str:
    if not isinstance(value, str) or not value.strip():
        return "other"
    v = value.strip()
    if v in FACILITY_CATEGORIES:
        return v
    for (_key, tag), cat in osm.FACILITY_TAGS.items():
        if v == tag:
            return cat
    for word, cat in CATEGORY_WORDS:
        if word in v:
            return cat
    return "other"


def _normalise_facilities(out, path: Path):
    out["category"] = [_facility_category(v) for v in out["category"]]
    return out.drop(columns=["_row"])


def _normalise_boundaries(out, path: Path):
    problems = []
    levels, parents = [], []
    for i, (code, level, parent) in enumerate(
        zip(out["code"], out["level"], out["parent_code"], strict=True)
    ):
        row = int(out["_row"].iloc[i])
        code = str(code).strip()
        if not isinstance(level, str) or not level.strip():
            level = {6: "district", 9: "street", 12: "community"}.get(len(code))
        level = {"区": "district", "街道": "street", "社区": "community"}.get(level, level)
        if level not in LEVEL_CODE_LENGTH:
            problems.append(
                Problem(
                    str(path),
                    f"unknown level {level!r}: expected district/street/community (区/街道/社区)",
                    row,
                    code,
                )
            )
        elif not (code.isdigit() and len(code) == LEVEL_CODE_LENGTH[level]):
            problems.append(
                Problem(
                    str(path),
                    f"a {level} code must be {LEVEL_CODE_LENGTH[level]} digits, got {code!r}",
                    row,
                    code,
                )
            )
        levels.append(level)
        if not isinstance(parent, str) or not parent.strip():
            parent = {"street": code[:6], "community": code[:9]}.get(level)
        parents.append(parent)
    if problems:
        raise InputError(problems)
    out["level"], out["parent_code"] = levels, parents
    return out.drop(columns=["_row"])


# ------------------------------------------------------- buildings: finish
def _finish_buildings(
    out, compounds, path: Path, dwelling_size_m2, ledger, report
) -> gpd.GeoDataFrame:
    points = out.geometry.representative_point()
    inside = None
    if len(compounds):
        hits = gpd.sjoin(
            gpd.GeoDataFrame(geometry=points, crs=WGS84),
            compounds[["compound_id", "landuse", "geometry"]],
            predicate="within",
        )
        if len(hits):
            metric_area = to_metric(compounds).area
            hits["_area"] = metric_area.reindex(hits["index_right"]).to_numpy()
            inside = hits.sort_values("_area").groupby(level=0).first()
    context = pd.Series([None] * len(out), dtype=object)
    if inside is not None:
        context.iloc[inside.index] = inside["landuse"].to_numpy()
        given = out["compound_id"].isna()
        cid = pd.Series(out["compound_id"].to_numpy(dtype=object))
        cid.iloc[inside.index] = np.where(
            given.iloc[inside.index], inside["compound_id"].to_numpy(), cid.iloc[inside.index]
        )
        out["compound_id"] = cid.to_numpy()

    osm_raw = out["osm_building"] if "osm_building" in out.columns else pd.Series([None] * len(out))
    share = np.zeros(len(out))
    types = []
    for i, (t, raw, land) in enumerate(zip(out["building_type"], osm_raw, context, strict=True)):
        if not isinstance(t, str):
            if (not isinstance(raw, str) or raw == "yes") and isinstance(land, str):
                t = osm.LANDUSE_BUILDING_TYPE.get(land, "other")
                if t == "residential":
                    share[i] = MIXED_RESIDENTIAL_SHARE
            else:
                t = "other"
        if share[i] == 0:
            share[i] = RESIDENTIAL_SHARE.get(t, 0.0)
        types.append(t)
    out["building_type"] = types

    area = to_metric(out).area.to_numpy()
    estimated = estimate_households(
        area,
        out["floors"],
        out["building_type"],
        residential_share=share,
        dwelling_size_m2=dwelling_size_m2,
    )
    given = out["_households_given"]
    households = np.where(given.notna(), given.fillna(0).to_numpy(), estimated).astype(np.int64)
    source = np.where(given.notna(), "ledger", "estimated").astype(object)
    population = out["_population_given"].to_numpy(dtype=float)
    out["households"], out["households_source"] = households, source
    out["population"] = np.where(
        np.isnan(population), estimate_population(households), population
    ).astype(np.int64)

    if ledger is not None:
        _apply_ledger(out, Path(ledger), report)
    report.households_estimated = int((out["households_source"] == "estimated").sum())
    report.households_from_ledger = int((out["households_source"] == "ledger").sum())
    keep = [*BUILDING_COLUMNS, "geometry"]
    return gpd.GeoDataFrame(out[keep], geometry="geometry", crs=WGS84)


def read_ledger(path: str | Path) -> pd.DataFrame:
    """A household ledger (户籍台账): building id, households and, if given, population.

    CSV (UTF-8 or GBK), XLSX or any table :func:`gridmgmt.io.tabular.read_table`
    reads, with a building id column (id/编号) and a households column
    (households/户数); a population column (population/人口) is optional.

    Raises
    ------
    InputError
        Missing file or columns, missing or negative counts (row numbers
        given), duplicate ids.
    """
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "ledger file not found")
    table = read_table(path)
    id_col = find_column(table, ALIASES["buildings"]["building_id"])
    hh_col = find_column(table, ALIASES["buildings"]["households"])
    if id_col is None or hh_col is None:
        raise InputError.single(
            path,
            "a ledger needs a building id column (id/编号) and a households column (households/户数)",
        )
    table["_row"] = np.arange(len(table)) + FIRST_ROW
    ledger = pd.DataFrame(
        {
            "building_id": table[id_col].astype(str).str.strip(),
            "households": table[hh_col],
            "_row": table["_row"],
        }
    )
    households = _numbers(ledger, "households", path, integer=True)
    if households.isna().any():
        rows = ", ".join(str(r) for r in ledger.loc[households.isna(), "_row"][:10])
        raise InputError.single(path, f"households missing in row(s) {rows}")
    dup = ledger["building_id"].duplicated(keep=False)
    if dup.any():
        raise InputError.single(
            path,
            f"duplicate building id(s) in the ledger: {', '.join(sorted(set(ledger.loc[dup, 'building_id'])))}",
        )
    out = pd.DataFrame({"building_id": ledger["building_id"], "households": households})
    pop_col = find_column(table, ALIASES["buildings"]["population"])
    if pop_col:
        ledger["population"] = table[pop_col]
        out["population"] = _numbers(ledger, "population", path, integer=True)
    return out.reset_index(drop=True)


def _apply_ledger(out: gpd.GeoDataFrame, path: Path, report) -> None:
    """Replace estimates by the ledger's counts, matching on building id."""
    ledger = read_ledger(path)
    households = ledger["households"]
    population = ledger["population"] if "population" in ledger.columns else None
    by_id = pd.Series(households.to_numpy(), index=ledger["building_id"])
    hit = out["building_id"].isin(by_id.index).to_numpy()
    out.loc[hit, "households"] = (
        by_id.reindex(out.loc[hit, "building_id"]).to_numpy().astype(np.int64)
    )
    out.loc[hit, "households_source"] = "ledger"
    if population is not None:
        pop = pd.Series(population.to_numpy(), index=ledger["building_id"]).reindex(
            out.loc[hit, "building_id"]
        )
        out.loc[hit, "population"] = np.where(
            pop.isna(), estimate_population(out.loc[hit, "households"]), pop
        ).astype(np.int64)
    else:
        out.loc[hit, "population"] = estimate_population(out.loc[hit, "households"])
    unmatched = sorted(set(by_id.index) - set(out["building_id"]))
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (
            f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else ""
        )
        report.warn(f"ledger {path.name}: {len(unmatched)} id(s) match no building: {shown}")
