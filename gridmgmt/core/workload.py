"""Per-grid workload: counts, a weighted workload index, grids far above their neighbours.

Pure functions over tables the use case (:mod:`gridmgmt.domain.workload`)
reads from the store.

The **workload index** of a grid is a weighted mean of its measures, each
divided by that measure's mean over the grids of the report::

    index = Σ_k w_k · x_k / mean(x_k)  /  Σ_k w_k

so 1.0 is an average grid of the area and 1.5 a grid with half again the
average work. Default weights (:data:`DEFAULT_WEIGHTS`): households 0.35,
incidents 0.30, overdue incidents 0.15, facilities 0.10, buildings 0.10.
Measures whose mean is 0 (no incidents at all in the period, say) drop out.
Unit grids (单位网格) are included with their own counts.

A grid is flagged ``far_above_neighbours`` when its index is at least
``ratio`` (default 1.5) times the mean index of its contiguous neighbours
and above the area's average; the rebalancer can even such grids out with
:func:`building_weights` as its ``workload``.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

#: weights of the workload index (see the module docstring)
DEFAULT_WEIGHTS: dict[str, float] = {
    "households": 0.35,
    "incidents": 0.30,
    "overdue": 0.15,
    "facilities": 0.10,
    "buildings": 0.10,
}


def grid_counts(
    grids: gpd.GeoDataFrame,
    buildings: pd.DataFrame,
    facilities: pd.DataFrame,
    incidents: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """Households, population, buildings, facilities and incidents per grid.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code`` (and ``kind``, ``geometry``) of the grids reported on.
    buildings : DataFrame
        ``grid_code``, ``households``, ``population``.
    facilities : DataFrame
        ``grid_code``, ``category``.
    incidents : DataFrame
        One row per incident touching the period: ``grid_code``,
        ``category_code``, ``state``, ``overdue`` (bool), optionally
        ``reported`` (bool: created in the period; counts, categories and
        states are of these rows, all rows when the column is missing) and
        ``handling_hours`` (float, NaN when not closed in the period); the
        facts of :func:`gridmgmt.domain.incidents.kpi.incident_facts`.

    Returns
    -------
    GeoDataFrame
        ``grids`` with ``households``, ``population``, ``buildings``,
        ``facilities``, ``facilities_<category>``, ``incidents``,
        ``incidents_<category code>``, ``state_<state>``,
        ``incidents_per_1000``, ``overdue``, ``mean_handling_hours``.
    """
    for name, frame, cols in (
        ("grids", grids, ("code",)),
        ("buildings", buildings, ("grid_code", "households", "population")),
        ("facilities", facilities, ("grid_code", "category")),
        ("incidents", incidents, ("grid_code", "category_code", "state", "overdue")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    codes = pd.Index(grids["code"].astype(str))
    out = grids.drop(columns=["households", "n_buildings"], errors="ignore").copy()

    def per_grid(values: pd.Series) -> np.ndarray:
        return values.reindex(codes).fillna(0).to_numpy()

    b = buildings[buildings["grid_code"].isin(codes)]
    out["households"] = per_grid(b.groupby("grid_code")["households"].sum()).astype(int)
    out["population"] = per_grid(b.groupby("grid_code")["population"].sum()).astype(int)
    out["buildings"] = per_grid(b.groupby("grid_code").size()).astype(int)
    f = facilities[facilities["grid_code"].isin(codes)]
    out["facilities"] = per_grid(f.groupby("grid_code").size()).astype(int)
    for cat, n in _pivot(f, "category", codes).items():
        out[f"facilities_{cat}"] = n
    touching = incidents[incidents["grid_code"].isin(codes)]
    i = touching[touching["reported"].astype(bool)] if "reported" in touching else touching
    out["incidents"] = per_grid(i.groupby("grid_code").size()).astype(int)
    hh = out["households"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["incidents_per_1000"] = np.where(hh > 0, out["incidents"] / hh * 1000, np.nan)
    out["overdue"] = per_grid(touching.groupby("grid_code")["overdue"].sum()).astype(int)
    hours = (
        touching.groupby("grid_code")["handling_hours"].mean()
        if "handling_hours" in touching
        else None
    )
    out["mean_handling_hours"] = (
        hours.reindex(codes).to_numpy() if hours is not None else np.full(len(out), np.nan)
    )
    for cat, n in _pivot(i, "category_code", codes).items():
        out[f"incidents_{cat}"] = n
    for state, n in _pivot(i, "state", codes).items():
        out[f"state_{state}"] = n
    return out


def _pivot(frame: pd.DataFrame, column: str, codes: pd.Index) -> dict[str, np.ndarray]:
    """Counts per grid of each value of ``column``, values in sorted order."""
    if frame.empty:
        return {}
    table = frame.groupby(["grid_code", column]).size().unstack(fill_value=0)
    table = table.reindex(index=codes, fill_value=0)
    return {str(v): table[v].to_numpy(dtype=int) for v in sorted(table.columns, key=str)}


def workload_index(table: pd.DataFrame, weights: Mapping[str, float] | None = None) -> pd.Series:
    """The workload index per row of ``table`` (1.0 = the area's average grid).

    Parameters
    ----------
    table : DataFrame
        The measures named in ``weights`` as columns.
    weights : mapping, optional
        Measure -> weight (>= 0); default :data:`DEFAULT_WEIGHTS`.
    """
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = [k for k in weights if k not in table.columns]
    if unknown:
        raise ValueError(
            f"workload weights name unknown measure(s) {', '.join(unknown)}; "
            f"measures: {', '.join(c for c in table.columns if c != 'geometry')}"
        )
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise ValueError("workload weights must be >= 0 with at least one > 0")
    total = np.zeros(len(table))
    used = 0.0
    for measure, w in weights.items():
        x = pd.to_numeric(table[measure], errors="coerce").fillna(0).to_numpy(dtype=float)
        mean = x.mean() if len(x) else 0.0
        if w == 0 or mean == 0:
            continue
        total += w * x / mean
        used += w
    index = total / used if used else np.zeros(len(table))
    return pd.Series(index, index=table.index, name="workload_index")


def neighbour_outliers(
    grids: gpd.GeoDataFrame, index: pd.Series, *, ratio: float = 1.5
) -> pd.DataFrame:
    """Neighbour mean of the workload index and the ``far_above_neighbours`` flag.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code`` and polygons (contiguity: a shared edge or vertex).
    index : Series
        Workload index aligned with ``grids``' rows.
    ratio : float
        How many times its neighbours' mean a grid's index must reach.

    Returns
    -------
    DataFrame
        ``neighbour_index`` (NaN for a grid without neighbours) and
        ``far_above_neighbours`` (bool), aligned with ``grids``.
    """
    if ratio <= 1:
        raise ValueError(f"ratio must be > 1, got {ratio}")
    values = pd.Series(np.asarray(index, dtype=float), index=grids["code"].to_numpy())
    nbr = np.full(len(grids), np.nan)
    if len(grids) > 1:
        from gridmgmt.core.spatial_stats import contiguity_weights

        w = contiguity_weights(grids.reset_index(drop=True))
        for k, code in enumerate(grids["code"]):
            ids = w.neighbors.get(code, [])
            if ids:  # sorted: the sum's order (and its last digit) must not follow hashing
                nbr[k] = values.loc[sorted(ids)].mean()
    own = values.to_numpy()
    flag = (~np.isnan(nbr)) & (own >= ratio * nbr) & (own > 1.0)
    return pd.DataFrame({"neighbour_index": nbr, "far_above_neighbours": flag}, index=grids.index)


def building_weights(buildings: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Per-building workload for the rebalancer: each grid's index shared by households.

    A building carries its grid's workload index times its share of the
    grid's households (buildings of a grid without households share it
    equally), so moving households moves their part of the work.

    Parameters
    ----------
    buildings : DataFrame
        ``building_id``, ``grid_code``, ``households``.
    table : DataFrame
        ``code`` and ``workload_index`` per grid.
    """
    idx = table.set_index("code")["workload_index"]
    b = buildings[["building_id", "grid_code", "households"]].copy()
    hh = b["households"].astype(float)
    per_grid = hh.groupby(b["grid_code"]).transform("sum")
    count = b.groupby("grid_code")["building_id"].transform("size").astype(float)
    share = np.where(per_grid > 0, hh / per_grid.where(per_grid > 0), 1.0 / count)
    weight = b["grid_code"].map(idx).fillna(0).to_numpy() * share
    return pd.Series(weight, index=b["building_id"].astype(str).to_numpy(), name="workload")
