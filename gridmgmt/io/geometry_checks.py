"""Geometries of a read layer: CRS, emptiness, type, coordinate sanity, repair.

:func:`prepare_geometries` brings a layer to EPSG:4326 (converting GCJ-02
and BD-09), refuses wrong geometry types and swapped or out-of-China
coordinates with the rows named, and repairs or skips invalid and empty
geometries (or refuses them in strict mode), noting each in the report.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import coords as cc
from gridmgmt.core.layers import WGS84
from gridmgmt.io.errors import InputError, Problem
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.layer_vocabulary import ALIASES, ID_COLUMN, POLYGONAL
from gridmgmt.io.tabular import FIRST_ROW, find_column


def row_label(frame: pd.DataFrame, i: int, id_col: str | None) -> tuple[int | None, str | None]:
    """The file row number and feature id of row ``i``, to name it in a problem.

    Parameters
    ----------
    frame : DataFrame
        A layer being read, with its file row numbers in ``_row`` if known.
    i : int
        Position of the row.
    id_col : str or None
        The column holding feature ids, if any.

    Returns
    -------
    tuple
        ``(row, id)``; either is None when unknown.
    """
    row = int(frame["_row"].iloc[i]) if "_row" in frame.columns else None
    fid = None
    if id_col and id_col in frame.columns:
        value = frame[id_col].iloc[i]
        fid = None if pd.isna(value) else str(value)
    return row, fid


def source_id_column(frame: pd.DataFrame, kind: str) -> str | None:
    """The column of ``frame`` holding the feature ids of a ``kind`` layer (by its aliases), or None."""
    return find_column(frame, ALIASES[kind][ID_COLUMN[kind]])


def prepare_geometries(
    frame: gpd.GeoDataFrame,
    path: Path,
    kind: str,
    coords: str,
    strict: bool,
    china: bool,
    report: ImportReport,
) -> gpd.GeoDataFrame:
    """The layer in EPSG:4326 with checked, converted and repaired geometries.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read, with its CRS.
    path : Path
        The file, named in problems.
    kind : str
        The layer kind (``buildings``, ``roads``...).
    coords : str
        Coordinate system of lon/lat input (GCJ-02 and BD-09 are converted).
    strict : bool
        Refuse empty and invalid geometries instead of skipping/repairing them.
    china : bool
        Refuse coordinates outside China's extent.
    report : ImportReport
        Where skipped and repaired features are noted.

    Raises
    ------
    InputError
        No CRS, wrong geometry types, swapped or out-of-extent coordinates,
        or (strict) empty or invalid geometries; every row concerned named.
    """
    if frame.crs is None:
        raise InputError.single(
            path,
            "has no coordinate reference system (CRS); say which with --crs (e.g. --crs EPSG:4326) "
            "or save it with one",
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
    id_col = source_id_column(frame, kind)
    layer_report = report.layer(kind)

    geoms = frame.geometry.values
    empty = shapely.is_missing(np.asarray(geoms, dtype=object)) | shapely.is_empty(
        np.asarray(geoms, dtype=object)
    )
    if empty.any():
        idx = np.flatnonzero(empty)
        if strict:
            raise InputError(
                [Problem(str(path), "empty geometry", *row_label(frame, i, id_col)) for i in idx]
            )
        for i in idx:
            row, fid = row_label(frame, i, id_col)
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
                    Problem(str(path), f"invalid geometry ({why})", *row_label(frame, i, id_col))
                    for i, why in zip(idx, reasons, strict=True)
                ]
            )
        repaired = list(frame.geometry.values)
        for i, why in zip(idx, reasons, strict=True):
            fixed = _repair(repaired[i], kind)
            row, fid = row_label(frame, i, id_col)
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
                    *row_label(frame, i, id_col),
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
                    *row_label(frame, i, id_col),
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
                        *row_label(frame, i, id_col),
                    )
                    for i in np.flatnonzero(outside)
                ]
            )
