"""Fast reading and writing of vector files: pyogrio with Arrow, GeoParquet, reading in chunks.

Every file the importers, ``assign`` and the exports read or write goes
through here:

- OGR formats (GeoPackage, GeoJSON, Shapefile, FlatGeobuf) through pyogrio
  with ``use_arrow=True`` when pyarrow is installed (columns move as Arrow
  arrays, no Python object per feature); without pyarrow, or for a file
  Arrow cannot decode (a Shapefile in GBK), the plain pyogrio path;
- GeoParquet (``.parquet``, ``.geoparquet``) through pyarrow, in and out.
  A GeoParquet file whose metadata gives no CRS (``"crs": null``) is
  refused unless the caller says which CRS it is in (``crs=``): nothing is
  assumed. (A file that omits the key is OGC:CRS84 by the GeoParquet
  specification and is read as such.)

:func:`iter_chunks` reads a layer in parts of ``chunk_size`` features so
that a large file never sits whole in memory.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.io.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: OGR formats that seek to the n-th feature (read in windows; others in one stream)
SEEKABLE_SUFFIXES = (".gpkg", ".shp", ".fgb", ".zip")
#: the GeoParquet default when the metadata has no ``crs`` key (the specification's)
GEOPARQUET_DEFAULT_CRS = "OGC:CRS84"


def arrow_available() -> bool:
    """Whether pyarrow can be imported (the Arrow paths of pyogrio need it)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def is_parquet(path: str | Path) -> bool:
    """Whether ``path`` names a GeoParquet file (by its suffix)."""
    return Path(str(path)).suffix.lower() in PARQUET_SUFFIXES


def no_crs_message(what: str = "a GeoParquet file") -> str:
    """The message for a file without CRS: say which CRS it is in; nothing is assumed."""
    return (
        f"is {what} without a coordinate reference system (its metadata says crs: null); "
        "say which CRS it is in with --crs (e.g. --crs EPSG:4326 for lon/lat), or save it "
        "with one. Nothing is assumed and nothing was written."
    )


# -------------------------------------------------------------------- reading
def read_vector(
    source: str | Path,
    *,
    layer: str | None = None,
    columns: list[str] | None = None,
    skip_features: int = 0,
    max_features: int | None = None,
    crs=None,
    path: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer (or part of one) of an OGR file or a GeoParquet file.

    Parameters
    ----------
    source : path-like
        The file, or an OGR source such as ``/vsizip/...``.
    layer : str, optional
        Layer of a multi-layer OGR file.
    columns : list of str, optional
        Only these attribute columns (the geometry is always read).
    skip_features, max_features : int
        Read ``max_features`` features after the first ``skip_features``.
    crs : optional
        The CRS of a file that declares none (GeoParquet with ``crs: null``).
    path : path-like, optional
        The file named in errors (default ``source``).

    Raises
    ------
    InputError
        A GeoParquet file without CRS and no ``crs`` given, or one that is not
        GeoParquet.
    """
    if is_parquet(source):
        return _read_parquet(source, columns, skip_features, max_features, crs, path or source)
    import pyogrio

    kwargs = {"layer": layer, "columns": columns, "skip_features": skip_features}
    if max_features is not None:
        kwargs["max_features"] = max_features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if arrow_available():
            try:
                frame = pyogrio.read_dataframe(source, use_arrow=True, **kwargs)
            except pyogrio.errors.DataSourceError as err:
                if "UTF-8" not in str(err):
                    raise
                frame = pyogrio.read_dataframe(source, **kwargs)  # e.g. a GBK Shapefile
        else:
            frame = pyogrio.read_dataframe(source, **kwargs)
    if frame.crs is None and crs is not None:
        frame = frame.set_crs(crs)
    return frame


def count_features(source: str | Path, layer: str | None = None) -> int:
    """Number of features of a layer (a GeoParquet file: its rows)."""
    if is_parquet(source):
        import pyarrow.parquet as pq

        return pq.ParquetFile(source).metadata.num_rows
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(pyogrio.read_info(source, layer=layer, force_feature_count=True)["features"])


def iter_chunks(
    source: str | Path,
    chunk_size: int,
    *,
    layer: str | None = None,
    crs=None,
    path: str | Path | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """The features of a layer in parts of at most ``chunk_size``, in file order.

    GeoParquet is read by row batches; GeoPackage, FlatGeobuf and Shapefile
    by ``skip_features`` / ``max_features`` windows (they seek to a feature);
    other formats (GeoJSON), which would be parsed from the start for every
    window, as one Arrow stream in batches. Each part has a fresh
    ``RangeIndex``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk size must be positive, got {chunk_size}")
    if is_parquet(source):
        yield from _parquet_batches(source, chunk_size, crs, path or source)
        return
    if Path(str(source)).suffix.lower() not in SEEKABLE_SUFFIXES and arrow_available():
        yield from _ogr_batches(source, layer, chunk_size, crs)
        return
    total = count_features(source, layer)
    for start in range(0, total, chunk_size):
        yield read_vector(
            source,
            layer=layer,
            skip_features=start,
            max_features=min(chunk_size, total - start),
            crs=crs,
            path=path,
        )


def _ogr_batches(source, layer, chunk_size: int, crs) -> Iterator[gpd.GeoDataFrame]:
    """A layer read once, as an Arrow stream, in frames of ``chunk_size`` features."""
    import pyarrow as pa
    from pyogrio.raw import open_arrow

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_arrow(source, layer=layer, batch_size=chunk_size, use_pyarrow=True) as (
            meta,
            reader,
        ):
            geometry = meta["geometry_name"] or "wkb_geometry"
            for batch in reader:
                frame = pa.Table.from_batches([batch]).to_pandas()
                geoms = shapely.from_wkb(frame.pop(geometry).to_numpy(dtype=object))
                yield gpd.GeoDataFrame(frame, geometry=geoms, crs=meta["crs"] or crs)


def _geo_metadata(parquet_file, path) -> dict:
    meta = parquet_file.schema_arrow.metadata or {}
    if b"geo" not in meta:
        raise InputError.single(
            path,
            "is a Parquet file without GeoParquet metadata (no geometry column declared); "
            "write it with geopandas' to_parquet or GDAL",
        )
    return json.loads(meta[b"geo"])


def _column_crs(geo: dict, column: str, crs, path):
    spec = geo["columns"][column]
    if "crs" not in spec:
        return GEOPARQUET_DEFAULT_CRS if crs is None else crs
    if spec["crs"] is None:
        if crs is None:
            raise InputError.single(path, no_crs_message())
        return crs
    return spec["crs"]


def _to_frame(table, geo: dict, crs, path) -> gpd.GeoDataFrame:
    column = geo["primary_column"]
    frame = table.to_pandas()
    encoding = geo["columns"][column].get("encoding", "WKB").upper()
    if encoding != "WKB":
        raise InputError.single(
            path, f"GeoParquet geometry encoding {encoding} is not supported (only WKB)"
        )
    geoms = shapely.from_wkb(frame.pop(column).to_numpy(dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=_column_crs(geo, column, crs, path))


def _open_parquet(source, path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's
        raise InputError.single(path, f"not a readable Parquet file ({err})") from err


def _read_parquet(source, columns, skip, limit, crs, path) -> gpd.GeoDataFrame:
    pf = _open_parquet(source, path)
    geo = _geo_metadata(pf, path)
    _column_crs(geo, geo["primary_column"], crs, path)  # refuse a missing CRS before reading
    wanted = None if columns is None else [*columns, geo["primary_column"]]
    table = pf.read(columns=wanted)
    if skip or limit is not None:
        table = table.slice(skip, limit)
    return _to_frame(table, geo, crs, path)


def _parquet_batches(source, chunk_size, crs, path) -> Iterator[gpd.GeoDataFrame]:
    import pyarrow as pa

    pf = _open_parquet(source, path)
    geo = _geo_metadata(pf, path)
    _column_crs(geo, geo["primary_column"], crs, path)
    for batch in pf.iter_batches(batch_size=chunk_size):
        yield _to_frame(pa.Table.from_batches([batch]), geo, crs, path)


# -------------------------------------------------------------------- writing
#: SQLite page cache (MB) while GDAL writes a GeoPackage: its R-tree is built far faster in memory
GPKG_WRITE_CACHE_MB = 512


@contextmanager
def gpkg_write_cache(path: str | Path, *, scratch: bool = False):
    """GDAL's SQLite cache raised to :data:`GPKG_WRITE_CACHE_MB` while a GeoPackage is written.

    ``scratch=True``: the file is a scratch copy moved into place once complete, so
    SQLite need not sync it to disk after each transaction.
    """
    import pyogrio

    if Path(str(path)).suffix.lower() != ".gpkg":
        yield
        return
    options = {"OGR_SQLITE_CACHE": str(GPKG_WRITE_CACHE_MB)}
    if scratch:
        # a file written next to its target and moved into place when complete: no fsync
        # per transaction is needed, a crash leaves only that file
        options["OGR_SQLITE_SYNCHRONOUS"] = "OFF"
    before = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def write_vector(
    frame: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layer: str | None = None,
    driver: str | None = None,
    append: bool = False,
    scratch: bool = False,
    **options,
) -> Path:
    """Write ``frame``: GeoParquet by suffix, else an OGR format through pyogrio (Arrow if present).

    Parameters
    ----------
    frame : GeoDataFrame
        With a CRS (GeoParquet records it; a frame without one is refused).
    path : path-like
        ``.parquet``/``.geoparquet`` or any file pyogrio writes.
    layer, driver, append, options
        Passed to :func:`pyogrio.write_dataframe` (not for GeoParquet).
    scratch : bool
        ``path`` is a scratch file the caller moves into place when complete
        (see :func:`gpkg_write_cache`).
    """
    path = Path(path)
    if is_parquet(path):
        if append:
            raise ValueError("GeoParquet files are written whole, not appended to")
        if frame.crs is None:
            raise ValueError(f"{path}: refusing to write GeoParquet without a CRS")
        frame.to_parquet(path, index=False, compression="snappy")
        return path
    import pyogrio

    kwargs = dict(options, layer=layer, driver=driver, append=append)
    with gpkg_write_cache(path, scratch=scratch):
        if arrow_available() and _arrow_writable(frame):
            import pyarrow as pa

            try:
                pyogrio.write_dataframe(frame, path, use_arrow=True, **kwargs)
                return path
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass  # a column Arrow cannot type (checked on a sample only): the plain path
        pyogrio.write_dataframe(frame, path, **kwargs)
    return path


def _arrow_writable(frame: pd.DataFrame) -> bool:
    """Object columns mixing types (text and numbers) cannot go to Arrow; others can."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for name in frame.columns:
        if name == geometry:
            continue
        s = frame[name]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna().head(1000)}
            if len(kinds) > 1 or (kinds and not kinds <= {str}):
                return False
    return True


# ------------------------------------------------------- Arrow tables, no pandas
def read_arrow_table(source: str | Path, *, crs=None, path: str | Path | None = None):
    """A whole layer as an Arrow table with its WKB geometry column, without pandas.

    Returns
    -------
    table : pyarrow.Table
    geometry_name : str
        The WKB column.
    crs : str
        The layer's CRS (``crs`` where the file declares none).

    Raises
    ------
    InputError
        No CRS and none given; a Parquet file that is not GeoParquet.
    """
    path = path or source
    if is_parquet(source):
        pf = _open_parquet(source, path)
        geo = _geo_metadata(pf, path)
        column = geo["primary_column"]
        layer_crs = _column_crs(geo, column, crs, path)
        if isinstance(layer_crs, dict):
            layer_crs = json.dumps(layer_crs)
        return pf.read(), column, layer_crs
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta, table = pyogrio.read_arrow(source)
    layer_crs = meta["crs"] or crs
    if layer_crs is None:
        raise InputError.single(
            path,
            "has no coordinate reference system (CRS); say which with --crs (e.g. --crs EPSG:4326) "
            "or save it with one",
        )
    return table, meta["geometry_name"] or "wkb_geometry", layer_crs


#: a little-endian 2-D WKB Point: byte order, type, x, y (21 bytes)
WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def points_xy_from_wkb(column) -> tuple[np.ndarray, np.ndarray] | None:
    """``(x, y)`` of a WKB Arrow column holding only little-endian 2-D points, else None.

    Read straight from the column's buffer (no geometry object per point);
    any other content (nulls, other types, big-endian, 3-D) gives None.
    """
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    if array.null_count or not len(array) or not pa.types.is_binary(array.type):
        return None
    _, offsets, data = array.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    if not (np.diff(starts) == WKB_POINT.itemsize).all():
        return None
    records = np.frombuffer(data, dtype=WKB_POINT, count=len(array), offset=int(starts[0]))
    if not ((records["order"] == 1).all() and (records["type"] == 1).all()):
        return None
    return np.ascontiguousarray(records["x"]), np.ascontiguousarray(records["y"])


def geometries_from_wkb(column) -> np.ndarray:
    """Shapely geometries of a WKB Arrow column (None where null)."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    return shapely.from_wkb(array.to_numpy(zero_copy_only=False))


def write_arrow_table(
    table,
    path: str | Path,
    *,
    geometry_name: str,
    crs,
    geometry_type: str,
    layer=None,
    scratch: bool = False,
) -> Path:
    """Write an Arrow table with a WKB geometry column: GeoParquet, or an OGR format via pyogrio."""
    path = Path(path)
    if is_parquet(path):
        import pyarrow.parquet as pq
        from pyproj import CRS

        geo = {
            "version": "1.0.0",
            "primary_column": geometry_name,
            "columns": {
                geometry_name: {
                    "encoding": "WKB",
                    "geometry_types": [] if geometry_type == "Unknown" else [geometry_type],
                    "crs": CRS.from_user_input(crs).to_json_dict(),
                }
            },
        }
        metadata = dict(table.schema.metadata or {}) | {b"geo": json.dumps(geo).encode()}
        pq.write_table(table.replace_schema_metadata(metadata), path, compression="snappy")
        return path
    import pyogrio

    driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
    with gpkg_write_cache(path, scratch=scratch):
        pyogrio.write_arrow(
            table,
            path,
            layer=layer,
            driver=driver,
            geometry_name=geometry_name,
            geometry_type=geometry_type,
            crs=crs,
        )
    return path
