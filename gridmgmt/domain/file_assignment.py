"""Use case: put every feature of a file into the grids of another, file in, file out.

``gridmgmt assign POINTS --grids G --out OUT``: the output is the input, every
column and the geometry as they were, with three columns added (see
:func:`gridmgmt.core.assignment.assign` for the rules):

- ``grid_code``: the grid holding the feature (empty when none does);
- ``reason``: why it has no grid (``outside_all_grids``,
  ``missing_location``), empty when it has one;
- ``distance_m``: metres to the nearest grid (0 inside one).

Reading and writing go through :mod:`gridmgmt.io.fast_io` (pyogrio with
Arrow, GeoParquet), and only the columns of the input plus these three are
written, so a million points take seconds, not minutes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.io.errors import InputError

#: what ``--out`` may name, by suffix
OUTPUT_SUFFIXES = (".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".csv")
ADDED_COLUMNS = ("grid_code", "reason", "distance_m")


def assign_file(
    objects_path: str | Path,
    grids_path: str | Path,
    out_path: str | Path,
    *,
    coords: str = "wgs84",
    crs=None,
) -> dict[str, int]:
    """Assign every feature of ``objects_path`` to the grids of ``grids_path``; write ``out_path``.

    Parameters
    ----------
    objects_path : path-like
        Points (or lines, polygons): GeoPackage, GeoJSON, Shapefile,
        GeoParquet, FlatGeobuf, or a CSV/XLSX with lon/lat or WKT columns.
    grids_path : path-like
        Grids with a ``code`` column (the layer ``grids`` of a GeoPackage,
        else its first layer; GeoParquet too).
    out_path : path-like
        ``.gpkg``, ``.geojson``, ``.parquet``/``.geoparquet`` or ``.csv``
        (without geometry; a table's own coordinate columns are kept, a
        geodata file's features get ``lon``/``lat`` of a point on each);
        replaced whole, never left half-written.
    coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Coordinate system of lon/lat input: GCJ-02 and BD-09 are converted
        for the assignment; the written geometry is the input's.
    crs : optional
        The CRS of an input that declares none (a GeoParquet with ``crs: null``).

    Returns
    -------
    dict
        ``total``, ``assigned`` and ``unassigned`` features.

    Raises
    ------
    InputError
        A missing or unreadable file, an unknown format, a file without CRS,
        grids without a ``code`` column or with invalid polygons; the file named.
    """
    objects_path, grids_path, out = Path(objects_path), Path(grids_path), Path(out_path)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError.single(
            out,
            f"unknown output format {out.suffix or '(no suffix)'!r}; use one of "
            + ", ".join(OUTPUT_SUFFIXES),
        )
    grids = read_grids(grids_path)
    if _arrow_path(objects_path, out):
        return _assign_arrow(objects_path, grids, out, coords=coords, crs=crs)
    return _assign_frame(objects_path, grids, out, coords=coords, crs=crs)


def _assign_frame(objects_path: Path, grids, out: Path, *, coords: str, crs) -> dict[str, int]:
    """The pandas path: tables (CSV/XLSX) in, CSV out, or no pyarrow."""
    from gridmgmt.core.assignment import assign, prepare_grids

    frame = read_objects(objects_path, coords=coords, crs=crs)
    where = _for_assignment(frame.geometry, coords)
    try:
        placed = assign(where, prepare_grids(grids, validate=False))  # read_grids validated
    except ValueError as err:
        raise InputError.single(objects_path, str(err)) from err
    result = frame.drop(columns=[c for c in ADDED_COLUMNS if c in frame.columns])
    geometry = result.geometry.name
    for column in ADDED_COLUMNS:
        result[column] = placed[column].to_numpy()
    result = result[[c for c in result.columns if c != geometry] + [geometry]]
    write_assigned(result, out)
    return _summary(placed)


def _arrow_path(objects_path: Path, out: Path) -> bool:
    """Arrow all the way (no pandas) for geodata files in and out, when pyarrow is present."""
    from gridmgmt.io.fast_io import arrow_available
    from gridmgmt.io.readers import FORMATS

    _exists(objects_path)
    suffix = objects_path.suffix.lower()
    return (
        arrow_available()
        and FORMATS.get(suffix) in ("vector", "parquet")
        and suffix != ".zip"
        and out.suffix.lower() != ".csv"
    )


def _assign_arrow(objects_path: Path, grids, out: Path, *, coords: str, crs) -> dict[str, int]:
    """The input's Arrow table, untouched, with the three columns added before the geometry."""
    import pyarrow as pa

    from gridmgmt.core.assignment import assign, assign_xy, prepare_grids
    from gridmgmt.io import fast_io

    check_coords(objects_path, coords)
    try:
        table, geometry_name, layer_crs = fast_io.read_arrow_table(objects_path, crs=crs)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's
        if "UTF-8" in str(err):  # e.g. a GBK Shapefile: the pandas path decodes it
            return _assign_frame(objects_path, grids, out, coords=coords, crs=crs)
        raise InputError.single(objects_path, f"not a readable geodata file ({err})") from err
    prepared = prepare_grids(grids, validate=False)  # read_grids validated them
    xy = fast_io.points_xy_from_wkb(table[geometry_name])
    converted = coords.lower().replace("-", "") in ("gcj02", "bd09")
    try:
        if xy is not None and not converted:  # plain points: coordinates, no geometry objects
            placed, kind = assign_xy(*xy, layer_crs, prepared), "Point"
        else:
            geoms = fast_io.geometries_from_wkb(table[geometry_name])
            where = _for_assignment(gpd.GeoSeries(geoms, crs=layer_crs), coords)
            placed, kind = assign(where, prepared), geometry_type(geoms)
    except ValueError as err:
        raise InputError.single(objects_path, str(err)) from err
    kept = [c for c in table.column_names if c not in ADDED_COLUMNS and c != geometry_name]
    result = pa.table(
        {c: table[c] for c in kept}
        | {
            "grid_code": pa.array(placed["grid_code"].to_numpy(), type=pa.string()),
            "reason": pa.array(placed["reason"].to_numpy(), type=pa.string()),
            "distance_m": pa.array(placed["distance_m"].to_numpy(), type=pa.float64()),
            geometry_name: table[geometry_name],
        }
    )
    tmp = _partial(out)
    try:
        fast_io.write_arrow_table(
            result,
            tmp,
            geometry_name=geometry_name,
            crs=layer_crs,
            geometry_type=kind,
            layer=out.stem if out.suffix.lower() == ".gpkg" else None,
            scratch=True,
        )
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return _summary(placed)


def _summary(placed) -> dict[str, int]:
    assigned = int(placed["grid_code"].notna().sum())
    return {"total": len(placed), "assigned": assigned, "unassigned": len(placed) - assigned}


def _partial(out: Path) -> Path:
    """A file next to ``out`` to write first (moved into place when complete)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    if tmp.exists():
        tmp.unlink()
    return tmp


def geometry_type(geoms) -> str:
    """The OGR geometry type name of a layer holding ``geoms`` (``Unknown`` when mixed)."""
    names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString"}
    names |= {6: "MultiPolygon"}
    kinds = set(np.unique(shapely.get_type_id(geoms)).tolist()) - {-1}
    if len(kinds) == 1:
        return names.get(kinds.pop(), "Unknown")
    for single, multi in ((0, 4), (1, 5), (3, 6)):
        if kinds == {single, multi}:
            return names[multi]
    return "Unknown"


def check_coords(path: Path, coords: str) -> None:
    """Refuse an unknown coordinate system name, naming the file."""
    from gridmgmt.io.readers import COORD_SYSTEMS

    if coords.lower().replace("-", "") not in COORD_SYSTEMS:
        raise InputError.single(
            path,
            f"unknown coordinate system {coords!r}; expected one of {', '.join(COORD_SYSTEMS)}",
        )


def read_grids(path: Path) -> gpd.GeoDataFrame:
    """The grids file: layer ``grids`` of a GeoPackage (else the first), with a ``code`` column."""
    from gridmgmt.core.assignment import validate_grids
    from gridmgmt.io.fast_io import is_parquet, read_vector

    _exists(path)
    try:
        layer = None
        if not is_parquet(path):
            import pyogrio

            names = [str(n) for n, _ in pyogrio.list_layers(str(path))]
            layer = "grids" if "grids" in names else names[0]
        grids = read_vector(path, layer=layer, path=path)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's
        raise InputError.single(path, f"not a readable grids file ({err})") from err
    if grids.crs is None:
        raise InputError.single(
            path, "the grids have no coordinate reference system (CRS); save them with one"
        )
    try:
        validate_grids(grids)
    except ValueError as err:
        raise InputError.single(path, str(err)) from err
    return grids


def read_objects(path: Path, *, coords: str = "wgs84", crs=None) -> gpd.GeoDataFrame:
    """The features to assign with every column of the file (tables: with lon/lat or WKT)."""
    from gridmgmt.io.fast_io import read_vector
    from gridmgmt.io.readers import FORMATS
    from gridmgmt.io.tabular import read_table, table_to_frame

    _exists(path)
    check_coords(path, coords)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt in ("vector", "parquet") and path.suffix.lower() != ".zip":
        try:
            frame = read_vector(path, crs=crs, path=path)
        except InputError:
            raise
        except Exception as err:  # noqa: BLE001 - any reader failure is the file's
            raise InputError.single(path, f"not a readable geodata file ({err})") from err
    elif fmt == "table":
        table = read_table(path)
        located = table_to_frame(path, table)  # row by row, the table's own columns kept below
        frame = gpd.GeoDataFrame(
            table.reset_index(drop=True), geometry=located.geometry.values, crs=located.crs
        )
    else:
        known = ", ".join(s for s, f in FORMATS.items() if f in ("vector", "parquet", "table"))
        raise InputError.single(
            path, f"unsupported format {path.suffix or '(no suffix)'!r} for assign; use {known}"
        )
    if frame.crs is None:
        raise InputError.single(
            path,
            "has no coordinate reference system (CRS); say which with --crs (e.g. --crs EPSG:4326) "
            "or save it with one",
        )
    return frame


def _exists(path: Path) -> None:
    if not path.exists():
        raise InputError.single(path, "file not found")
    if path.is_dir():
        raise InputError.single(path, "is a directory, not a file")


def _for_assignment(geoms: gpd.GeoSeries, coords: str) -> gpd.GeoSeries:
    """The geometries in WGS84 when the input is GCJ-02 or BD-09 lon/lat; else as given."""
    from gridmgmt.core import coords as cc

    system = coords.lower().replace("-", "")
    if system not in ("gcj02", "bd09"):
        return geoms
    func = cc.gcj02_to_wgs84 if system == "gcj02" else cc.bd09_to_wgs84
    lonlat = geoms.to_crs(4326) if not geoms.crs.equals("EPSG:4326") else geoms
    points = shapely.get_type_id(lonlat.values) == 0
    out = np.asarray(lonlat.values, dtype=object).copy()
    if points.all():
        lon, lat = func(shapely.get_x(out), shapely.get_y(out))
        out = shapely.points(lon, lat)
    else:
        out = np.asarray(list(cc.transform_geometries(out, func)), dtype=object)
    return gpd.GeoSeries(out, index=geoms.index, crs=4326)


def write_assigned(frame: gpd.GeoDataFrame, out: Path) -> Path:
    """Write the assigned features next to ``out`` first, then move the file into place."""
    from gridmgmt.io.fast_io import write_vector

    tmp = _partial(out)
    try:
        if out.suffix.lower() == ".csv":
            table = frame.drop(columns=frame.geometry.name)
            if not {"lon", "lat"} & set(table.columns):  # a table read keeps its own columns
                spot = frame.geometry.to_crs(4326).representative_point()
                table["lon"], table["lat"] = spot.x.to_numpy(), spot.y.to_numpy()
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
        elif out.suffix.lower() in (".geojson", ".json"):
            write_vector(frame, tmp, driver="GeoJSON", scratch=True)
        elif out.suffix.lower() == ".gpkg":
            write_vector(frame, tmp, driver="GPKG", layer=out.stem, scratch=True)
        else:
            write_vector(frame, tmp, scratch=True)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
