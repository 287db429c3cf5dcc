"""CSV and XLSX tables: encodings, lon/lat columns, row numbers for messages.

CSV files are read as UTF-16 (with its byte-order mark), UTF-8 (with or
without BOM) or, failing that, GB18030 (a superset of GBK, what Excel on
Chinese Windows writes). Row
numbers in messages are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.io.errors import InputError, Problem

LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "wgs84_lng", "gcj_lng")
LAT_NAMES = ("lat", "latitude", "纬度", "y", "wgs84_lat", "gcj_lat")
WKT_NAMES = ("wkt", "geometry", "geom", "几何")
ENCODINGS = ("utf-8-sig", "gb18030")

#: first data row's number as a spreadsheet shows it
FIRST_ROW = 2


def detect_encoding(raw: bytes) -> str | None:
    """The encoding of a CSV file's bytes: ``utf-16``, ``utf-8`` or ``gb18030``; None if neither.

    A UTF-16 byte-order mark (Excel's "Unicode text") wins; then UTF-8 (with
    or without BOM); then GB18030, the superset of GBK and GB2312 that Excel
    on Chinese Windows writes.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "utf-8" if encoding == "utf-8-sig" else encoding
    return None


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or XLSX file as a DataFrame of strings/numbers, columns stripped.

    The CSV encoding found (:func:`detect_encoding`) is in
    ``frame.attrs["encoding"]`` (``"xlsx"`` for workbooks); tab-separated
    text (Excel's "Unicode text") is read too.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, engine="openpyxl")
        except Exception as err:  # openpyxl raises many kinds
            raise InputError.single(path, f"not a readable XLSX workbook ({err})") from err
        encoding = "xlsx"
    else:
        raw = path.read_bytes()
        encoding = detect_encoding(raw)
        if encoding is None:
            raise InputError.single(
                path, "unreadable encoding: the file is neither UTF-8 nor GBK/GB18030"
            )
        text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
        header = text.split("\n", 1)[0]
        sep = "\t" if "\t" in header and "," not in header else ","
        try:
            frame = pd.read_csv(
                StringIO(text), dtype=str, keep_default_na=False, na_values=[""], sep=sep
            )
        except pd.errors.ParserError as err:
            raise InputError.single(path, f"not a readable CSV table ({err})") from err
        except pd.errors.EmptyDataError as err:
            raise InputError.single(path, "the file is empty") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["encoding"] = encoding
    return frame


def find_column(frame: pd.DataFrame, names) -> str | None:
    """The first column whose lower-cased name is in ``names``."""
    lowered = {c.lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def table_to_frame(path: str | Path, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Points from lon/lat columns (or geometries from a WKT column), EPSG:4326 as given.

    Raises :class:`InputError` for missing coordinate columns and for rows
    whose coordinates are not numbers.
    """
    lon_col, lat_col = find_column(frame, LON_NAMES), find_column(frame, LAT_NAMES)
    wkt_col = find_column(frame, WKT_NAMES)
    rows = np.arange(len(frame)) + FIRST_ROW
    if lon_col and lat_col:
        lon = pd.to_numeric(frame[lon_col], errors="coerce")
        lat = pd.to_numeric(frame[lat_col], errors="coerce")
        present = frame[lon_col].notna() & frame[lat_col].notna()
        bad = present & (lon.isna() | lat.isna())
        if bad.any():
            raise InputError(
                [
                    Problem(
                        str(path),
                        f"coordinates are not numbers ({frame[lon_col][i]!r}, {frame[lat_col][i]!r})",
                        int(rows[i]),
                    )
                    for i in np.flatnonzero(bad.to_numpy())
                ]
            )
        geoms = shapely.points(lon.to_numpy(dtype=float), lat.to_numpy(dtype=float))
        geoms = np.where(present.to_numpy(), geoms, None)
        rest = frame.drop(columns=[lon_col, lat_col])
    elif wkt_col:
        try:
            geoms = shapely.from_wkt(
                frame[wkt_col].fillna("").to_numpy(dtype=object), on_invalid="raise"
            )
        except shapely.errors.GEOSException as err:
            raise InputError.single(
                path, f"column {wkt_col!r} holds text that is not WKT ({err})"
            ) from err
        rest = frame.drop(columns=[wkt_col])
    else:
        raise InputError.single(
            path,
            "no coordinate columns: expected lon/lat (经度/纬度, lng/lat, longitude/latitude) or a WKT column",
        )
    out = gpd.GeoDataFrame(rest.reset_index(drop=True), geometry=list(geoms), crs="EPSG:4326")
    out["_row"] = rows
    return out
