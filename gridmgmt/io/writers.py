"""One analysis layer written to a file chosen by its suffix: GeoPackage, GeoJSON, GeoParquet or CSV.

Unlike :mod:`gridmgmt.io.exports` (office exports with Chinese headers and
Asia/Shanghai times), the layer is written as it is: English column names,
GeoPackage/GeoJSON through OGR (pyogrio with Arrow), GeoParquet through
pyarrow, CSV (UTF-8 with BOM) without the geometry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

LAYER_SUFFIXES = (".gpkg", ".geojson", ".parquet", ".geoparquet", ".csv")


def write_layer(frame: gpd.GeoDataFrame, path: str | Path, *, layer: str) -> Path:
    """Write ``frame`` to ``path`` in the format its suffix names.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer.
    path : str or Path
        A ``.gpkg``, ``.geojson``, ``.parquet``/``.geoparquet`` or ``.csv`` file; missing parent
        directories are created.
    layer : str
        The layer name inside a GeoPackage.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        Any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LAYER_SUFFIXES:
        raise ValueError(f"{path}: expected one of {', '.join(LAYER_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.drop(columns="geometry").to_csv(path, index=False, encoding="utf-8-sig")
        return path
    from gridmgmt.io.fast_io import write_vector

    if suffix == ".gpkg":
        write_vector(frame, path, driver="GPKG", layer=layer)
    elif suffix == ".geojson":
        if path.exists():
            path.unlink()  # OGR's GeoJSON driver does not overwrite
        write_vector(frame, path, driver="GeoJSON")
    else:
        write_vector(frame, path)
    return path
