"""The Dask path gives the in-memory answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core.assignment import assign
from tests.environment import require
from tests.factories import CELL as D
from tests.factories import X0, Y0, holed_grids


def test_dask_equals_in_memory():
    try:
        import dask_geopandas  # noqa: F401
    except ImportError:
        require(False, "dask-geopandas is not installed (pip install 'gridmgmt[dask]')")
    from gridmgmt.core.assignment_dask import assign_dask

    rng = np.random.default_rng(3)
    lon = X0 + rng.uniform(-D, 5 * D, 5000)
    lat = Y0 + rng.uniform(-D, 3 * D, 5000)
    pts = gpd.GeoDataFrame({"n": np.arange(5000)}, geometry=shapely.points(lon, lat), crs=4326)
    pts.loc[7, "geometry"] = None
    expected = assign(pts, holed_grids())
    got = assign_dask(pts, holed_grids(), npartitions=4).compute().sort_index()
    assert got["grid_code"].tolist() == expected["grid_code"].tolist()
    assert got["reason"].tolist() == expected["reason"].tolist()
    np.testing.assert_allclose(got["distance_m"], expected["distance_m"])


def test_dask_with_a_local_cluster():
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        require(False, "dask.distributed is not installed")
    from gridmgmt.core.assignment_dask import assign_dask

    pts = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 0.5 * D, Y0 + 0.5 * D)] * 10, crs=4326)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        got = assign_dask(pts, holed_grids(), npartitions=2).compute()
    assert set(got["grid_code"]) == {"340705001001001"}
    with pytest.raises(ValueError, match="overlapping grids"):
        bad = holed_grids()
        bad.loc[1, "geometry"] = shapely.box(X0, Y0, X0 + 1.5 * D, Y0 + D)
        assign_dask(pts, bad)
