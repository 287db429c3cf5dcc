"""City-scale assignment on Dask (dask-geopandas): tens of millions of points, partition by partition.

    import dask_geopandas
    from gridmgmt.core.assignment_dask import assign_dask

    points = dask_geopandas.read_parquet("incidents/*.parquet")  # or from_geopandas(...)
    out = assign_dask(points, grids)                              # lazy dask DataFrame
    out.to_parquet("incidents_with_grids/")

The grids are prepared once (validated, indexed) and shipped to every
worker with each task; every partition runs :func:`gridmgmt.core.assignment.assign`,
so answers are those of the in-memory path. Without a ``client`` Dask's
default local scheduler runs it here; with ``dask.distributed.Client`` (a
``LocalCluster`` or a real cluster) the same code runs there unchanged.
Dask is imported only when this function is called.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridmgmt.core.assignment import assign, prepare_grids


def _assign_partition(part: gpd.GeoDataFrame, prepared) -> pd.DataFrame:
    return assign(part, prepared)


def assign_dask(
    points, grids: gpd.GeoDataFrame, *, npartitions: int | None = None, code_column: str = "code"
):
    """Assign a (dask-)GeoDataFrame of points, lines or polygons to grids, lazily.

    Parameters
    ----------
    points : dask_geopandas.GeoDataFrame or geopandas.GeoDataFrame
        A plain GeoDataFrame is split into ``npartitions`` (default: about
        one million rows each).
    grids : GeoDataFrame
        The grids (validated here, once).

    Returns
    -------
    dask.dataframe.DataFrame
        ``grid_code``, ``reason``, ``distance_m`` per input row; call
        ``.compute()`` or write it out.
    """
    import dask_geopandas

    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        frame = (
            points if isinstance(points, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=points)
        )
        npartitions = npartitions or max(1, len(frame) // 1_000_000 + 1)
        points = dask_geopandas.from_geopandas(frame, npartitions=npartitions)
    prepared = prepare_grids(grids, code_column, lattice=True)
    meta = pd.DataFrame(
        {
            "grid_code": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
            "distance_m": pd.Series([], dtype=float),
        }
    )
    return points.map_partitions(_assign_partition, prepared, meta=meta)
