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
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridmgmt.io.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".geoparquet")
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

    GeoParquet is read by row batches; OGR files by ``skip_features`` /
    ``max_features`` windows (fast in GeoPackage, FlatGeobuf and Shapefile).
    Each part has a fresh ``RangeIndex``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk size must be positive, got {chunk_size}")
    if is_parquet(source):
        yield from _parquet_batches(source, chunk_size, crs, path or source)
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
def write_vector(
    frame: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layer: str | None = None,
    driver: str | None = None,
    append: bool = False,
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
