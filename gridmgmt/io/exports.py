"""Exports for GIS tools and offices: GeoPackage, GeoJSON, zipped Shapefile, CSV, XLSX.

``export_tables({"grids": frame, ...}, path, "gpkg")`` writes each table in
chunks of ``chunk_size`` rows, so a large table is never serialised whole:

- **gpkg**: one layer per table (attribute-only tables too), English field
  names;
- **geojson**: one table, RFC 7946 (EPSG:4326), written feature by feature;
- **shp**: a zip with one Shapefile per spatial table (a table mixing
  points, lines and polygons, as facilities do, gives one Shapefile per
  kind: ``<table>_point.shp``, ``<table>_line.shp``, ``<table>_polygon.shp``,
  since a Shapefile holds one geometry type), ``.cpg`` = UTF-8, field
  names cut to 10 characters (made unique) and a ``<table>_fields.csv``
  giving short name, full name and Chinese header;
- **csv**: one table, UTF-8 with BOM (Excel opens the Chinese correctly),
  Chinese headers;
- **xlsx**: one sheet per table (openpyxl write-only), Chinese headers,
  frozen header row, column widths from the header.

Times are written in Asia/Shanghai. An empty table gives a valid file with
the columns and no rows.

Text that a spreadsheet would run as a formula (a cell beginning with
``=``, ``+``, ``-``, ``@``, tab or carriage return: the OWASP CSV-injection
rule) never runs: CSV cells get a leading apostrophe, XLSX cells are typed
as strings, whatever residents or imported files wrote.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.periods import TIMEZONE_NAME
from gridmgmt.io.fast_io import write_vector

FORMATS = ("gpkg", "geojson", "shp", "csv", "xlsx")
SPATIAL_ONLY = ("geojson", "shp")
SINGLE_TABLE = ("geojson", "csv")
TIMEZONE = TIMEZONE_NAME
#: first characters that make a spreadsheet read a cell as a formula (OWASP)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
SUFFIXES = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx"}

Progress = Callable[[int], None]


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else from the file's suffix.

    Raises
    ------
    ValueError
        An unknown format name or suffix.
    """
    if fmt is None:
        suffix = Path(path).suffix.lower()
        by_suffix = {v: k for k, v in SUFFIXES.items()} | {".json": "geojson"}
        if suffix not in by_suffix:
            raise ValueError(
                f"cannot tell the format from {Path(path).name!r}; give one of {', '.join(FORMATS)}"
            )
        return by_suffix[suffix]
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def export_tables(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    fmt: str | None = None,
    *,
    labels: Callable[[str], str] | None = None,
    chunk_size: int = 5000,
    progress: Progress | None = None,
) -> Path:
    """Write ``tables`` (name -> DataFrame or GeoDataFrame) to ``path`` in ``fmt``.

    Parameters
    ----------
    tables : mapping
        Table name (layer / sheet name) to frame; GeoDataFrames in any CRS
        (written in EPSG:4326).
    path : path-like
        The file to write (replaced if it exists; written next to it first,
        so a failed export leaves no half file).
    fmt : str, optional
        One of :data:`FORMATS`; default from the suffix of ``path``.
    labels : callable, optional
        Column name -> header for CSV and XLSX (e.g. Chinese headers).
    chunk_size : int
        Rows per write.
    progress : callable, optional
        Called with the number of rows written after each chunk.

    Raises
    ------
    ValueError
        Unknown format, a format that holds one table given several, a
        spatial-only format given a table without geometry.
    """
    fmt = format_of(path, fmt)
    path = Path(path)
    if not tables:
        raise ValueError("nothing to export")
    if fmt in SINGLE_TABLE and len(tables) > 1:
        raise ValueError(
            f"{fmt} holds one table; export {', '.join(tables)} separately or as gpkg/xlsx"
        )
    if fmt in SPATIAL_ONLY:
        flat = [name for name, t in tables.items() if not isinstance(t, gpd.GeoDataFrame)]
        if flat:
            raise ValueError(f"{', '.join(flat)} has no geometry: export it as csv, xlsx or gpkg")
    labels = labels or (lambda c: c)
    progress = progress or (lambda n: None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        out = Path(tmp) / f"export{SUFFIXES[fmt]}"
        writer = {
            "gpkg": _gpkg,
            "geojson": _geojson,
            "shp": _shapefile_zip,
            "csv": _csv,
            "xlsx": _xlsx,
        }[fmt]
        writer(tables, out, labels, chunk_size, progress)
        out.replace(path)
    return path


# ------------------------------------------------------------------ helpers
def _chunks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Aware times to Asia/Shanghai wall time, index as a column, objects to text."""
    out = frame.copy()
    if out.index.name is not None:
        out = out.reset_index()
    for col in out.columns:
        if col == "geometry":
            continue
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, datetime)).any():
            out[col] = pd.to_datetime(s, utc=True).dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        elif s.dtype == object:
            out[col] = s.map(_scalar)
    return out


def _scalar(v):
    if isinstance(v, pd.Timestamp | datetime):
        ts = pd.Timestamp(v)
        return (ts.tz_convert(TIMEZONE).tz_localize(None) if ts.tzinfo else ts).isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | dict | tuple):
        return json.dumps(v, ensure_ascii=False)
    return v


def _wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        return frame.set_crs(4326)
    return frame.to_crs(4326) if frame.crs.to_epsg() != 4326 else frame


def _geometry_type(frame: gpd.GeoDataFrame) -> str:
    types = set(frame.geom_type.dropna())
    if not types:
        return "Unknown"
    if types <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon" if "MultiPolygon" in types else "Polygon"
    if types <= {"Point", "MultiPoint"}:
        return "MultiPoint" if "MultiPoint" in types else "Point"
    if types <= {"LineString", "MultiLineString"}:
        return "MultiLineString" if "MultiLineString" in types else "LineString"
    return "Unknown"


#: geometry families a Shapefile can hold, one per file
SHAPEFILE_FAMILIES = {
    "point": ("Point", "MultiPoint"),
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
}


def _by_family(name: str, table: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    """``table`` as one (file name, rows) per geometry family it holds; unmixed tables whole.

    Rows without a geometry go with the first family, so no row is left out.
    """
    kinds = table.geom_type.to_numpy()
    family = np.full(len(table), "", dtype=object)
    for f, types in SHAPEFILE_FAMILIES.items():
        family[np.isin(kinds, types)] = f
    present = [f for f in SHAPEFILE_FAMILIES if (family == f).any()]
    if len(present) <= 1:
        return [(name, table)]
    family[family == ""] = present[0]
    return [(f"{name}_{f}", table[family == f]) for f in present]


def _ogr_chunks(frame, size):
    """Chunks for pyogrio: at least one (an empty table still creates its layer)."""
    return [frame] if len(frame) == 0 else list(_chunks(frame, size))


# ------------------------------------------------------------------ writers
def _gpkg(tables, out: Path, labels, size, progress) -> None:
    written = 0
    for name, frame in tables.items():
        table = _plain(frame)
        spatial = isinstance(frame, gpd.GeoDataFrame)
        if spatial:
            table = _wgs84(gpd.GeoDataFrame(table, geometry="geometry", crs=frame.crs))
        kind = _geometry_type(table) if spatial else None
        for k, chunk in enumerate(_ogr_chunks(table, size)):
            options = {"geometry_type": kind} if spatial else {}
            write_vector(
                chunk, out, layer=name, driver="GPKG", append=k > 0, scratch=True, **options
            )
            written += len(chunk)
            progress(written)


def _geojson(tables, out: Path, labels, size, progress) -> None:
    ((name, frame),) = tables.items()
    table = _wgs84(gpd.GeoDataFrame(_plain(frame), geometry="geometry", crs=frame.crs))
    columns = [c for c in table.columns if c != "geometry"]
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        fh.write('{"type": "FeatureCollection", "name": ' + json.dumps(name) + ', "features": [\n')
        first = True
        for chunk in _chunks(table, size):
            geoms = shapely.to_geojson(chunk.geometry.values)
            records = chunk[columns].to_dict("records")
            for geom, props in zip(geoms, records, strict=True):
                props = {k: _json_value(v) for k, v in props.items()}
                feature = (
                    '{"type": "Feature", "properties": '
                    + json.dumps(props, ensure_ascii=False)
                    + ', "geometry": '
                    + (geom if geom is not None else "null")
                    + "}"
                )
                fh.write(("" if first else ",\n") + feature)
                first = False
            written += len(chunk)
            progress(written)
        fh.write("\n]}\n")


def _json_value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp | datetime | date):
        return _scalar(v)
    return v


def _short_names(columns: list[str]) -> dict[str, str]:
    """Unique field names of at most 10 characters for a Shapefile."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        base = col[:10]
        name, n = base, 1
        while name.lower() in used:
            suffix = str(n)
            name = base[: 10 - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        out[col] = name
    return out


def _shapefile_zip(tables, out: Path, labels, size, progress) -> None:
    written = 0
    with (
        tempfile.TemporaryDirectory(dir=out.parent) as tmp,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for name, frame in tables.items():
            table = _wgs84(gpd.GeoDataFrame(_plain(frame), geometry="geometry", crs=frame.crs))
            for col in table.columns:
                if table[col].dtype == bool:
                    table[col] = table[col].astype(int)
                elif pd.api.types.is_datetime64_any_dtype(table[col]):  # dBASE has dates only
                    table[col] = table[col].dt.strftime("%Y-%m-%d %H:%M:%S")
            names = _short_names([c for c in table.columns if c != "geometry"])
            table = table.rename(columns=names)
            for file_name, part in _by_family(name, table):
                shp = Path(tmp) / f"{file_name}.shp"
                kind = _geometry_type(part)
                for k, chunk in enumerate(_ogr_chunks(part, size)):
                    write_vector(
                        chunk,
                        shp,
                        driver="ESRI Shapefile",
                        encoding="UTF-8",
                        append=k > 0,
                        geometry_type=kind,
                    )
                    written += len(chunk)
                    progress(written)
                for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    if (path := shp.with_suffix(suffix)).exists():
                        zf.write(path, path.name)
            mapping = "\n".join(
                ["short,column,header"] + [f"{s},{c},{labels(c)}" for c, s in names.items()]
            )
            zf.writestr(f"{name}_fields.csv", "\ufeff" + mapping + "\n")


def _csv(tables, out: Path, labels, size, progress) -> None:
    ((name, frame),) = tables.items()
    table = _plain(frame)
    table = table.drop(columns="geometry", errors="ignore")
    written = 0
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([labels(c) for c in table.columns])
        for chunk in _chunks(table, size):
            for row in chunk.itertuples(index=False):
                writer.writerow(["" if _missing(v) else _inert(_cell(v)) for v in row])
            written += len(chunk)
            progress(written)


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _inert(v):
    """A CSV cell a spreadsheet will not run: text that starts like a formula gets a ``'``."""
    if isinstance(v, str) and v.startswith(FORMULA_TRIGGERS):
        return "'" + v
    return v


def _xlsx_row(ws, values: list) -> list:
    """Cells for a write-only sheet: every text cell typed as a string, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for v in values:
        if isinstance(v, str):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise
            row.append(cell)
        else:
            row.append(v)
    return row


def _cell(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() is False:
        return round(v, 6)
    return v


def _xlsx(tables, out: Path, labels, size, progress) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    written = 0
    for name, frame in tables.items():
        table = _plain(frame).drop(columns="geometry", errors="ignore")
        ws = wb.create_sheet(title=str(name)[:31])
        ws.freeze_panes = "A2"
        headers = [labels(c) for c in table.columns]
        for k, header in enumerate(headers, start=1):
            width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(header)) + 2
            ws.column_dimensions[get_column_letter(k)].width = max(10, min(width, 40))
        ws.append(_xlsx_row(ws, headers))
        for chunk in _chunks(table, size):
            for row in chunk.itertuples(index=False):
                ws.append(_xlsx_row(ws, [None if _missing(v) else _cell(v) for v in row]))
            written += len(chunk)
            progress(written)
    wb.save(out)
