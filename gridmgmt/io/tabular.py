"""CSV and XLSX tables: encodings, lon/lat columns, row numbers for messages.

CSV files are read as UTF-8 (with or without BOM) or, failing that,
GB18030 (a superset of GBK, what Excel on Chinese Windows writes). Row
numbers in messages are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

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


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or XLSX file as a DataFrame of strings/numbers, columns stripped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, engine="openpyxl")
        except Exception as err:  # openpyxl raises many kinds
            raise InputError.single(path, f"not a readable XLSX workbook ({err})") from err
    else:
        raw = path.read_bytes()
        text = None
        for encoding in ENCODINGS:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise InputError.single(
                path, "unreadable encoding: the file is neither UTF-8 nor GBK/GB18030"
            )
        from io import StringIO

        try:
            frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
        except pd.errors.ParserError as err:
            raise InputError.single(path, f"not a readable CSV table ({err})") from err
        except pd.errors.EmptyDataError as err:
            raise InputError.single(path, "the file is empty") from err
    frame.columns = [str(c).strip() for c in frame.columns]
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
