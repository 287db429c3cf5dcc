"""Spatial statistics over grids: incident rates, contiguity, Gi* hot spots, Moran's I.

Pure functions over GeoDataFrames (no storage, no web). Built on libpysal
(contiguity weights) and esda (Getis-Ord Gi*, Moran's I); permutation
inference is seeded so every run gives the same p-values.

Rates are incidents per 1,000 households. A grid without households (a
``kind=unit`` 单位网格: campus, hospital, factory) has no meaningful rate:
it is kept in the output with ``rate`` NaN and class ``no_households`` and
left out of the weights, Gi* and Moran's I (its neighbours are then compared
only with residential grids).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

HOTSPOT_CLASSES = (
    "hot_99",
    "hot_95",
    "hot_90",
    "not_significant",
    "cold_90",
    "cold_95",
    "cold_99",
    "no_households",
)
"""Gi* classes from hottest to coldest; ``no_households`` grids are not tested."""

HOTSPOT_LABELS_ZH = {
    "hot_99": "热点 (99%)",
    "hot_95": "热点 (95%)",
    "hot_90": "热点 (90%)",
    "not_significant": "不显著",
    "cold_90": "冷点 (90%)",
    "cold_95": "冷点 (95%)",
    "cold_99": "冷点 (99%)",
    "no_households": "无住户 (单位网格)",
}


def incident_rates(
    grids: gpd.GeoDataFrame, incident_grid_codes: pd.Series | list, *, code: str = "code"
) -> gpd.GeoDataFrame:
    """Incidents and incidents per 1,000 households per grid.

    Parameters
    ----------
    grids : GeoDataFrame
        One row per grid with ``code`` and ``households``.
    incident_grid_codes : Series or list of str
        The grid code of each incident in the period (unassigned ones, None,
        are ignored).
    code : str
        The grid code column.

    Returns
    -------
    GeoDataFrame
        ``grids`` with ``incidents`` (int) and ``rate`` (float; NaN where
        households is 0 or missing).
    """
    if code not in grids.columns or "households" not in grids.columns:
        raise ValueError(f"grids need columns {code!r} and 'households'")
    counts = pd.Series(list(incident_grid_codes), dtype=object).dropna().value_counts()
    out = grids.copy()
    out["incidents"] = out[code].map(counts).fillna(0).astype(int)
    households = pd.to_numeric(out["households"], errors="coerce").fillna(0)
    if (households < 0).any():
        raise ValueError("households must not be negative")
    out["rate"] = np.where(
        households > 0, out["incidents"] / households.where(households > 0) * 1000, np.nan
    )
    return out


def contiguity_weights(grids: gpd.GeoDataFrame, kind: str = "queen", *, ids: str = "code"):
    """Contiguity weights from grid polygons.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons; they should tile (share edges), as partitioned grids do.
    kind : {"queen", "rook"}
        Queen: a shared edge or vertex makes neighbours; rook: a shared edge.
    ids : str
        Column whose values name the observations.

    Returns
    -------
    libpysal.weights.W
        Binary weights; grids without neighbours are islands.
    """
    from libpysal import weights

    builders = {"queen": weights.Queen, "rook": weights.Rook}
    if kind not in builders:
        raise ValueError(f"unknown contiguity {kind!r}; expected queen or rook")
    if len(grids) == 0:
        raise ValueError("no grids to build weights from")
    frame = grids.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = builders[kind].from_dataframe(
            frame, ids=list(frame[ids]), use_index=False, silence_warnings=True
        )
    return w


def _gi_class(z: float, p: float) -> str:
    if not np.isfinite(z) or not np.isfinite(p):
        return "not_significant"
    for level, cut in ((99, 0.01), (95, 0.05), (90, 0.10)):
        if p <= cut:
            return f"{'hot' if z > 0 else 'cold'}_{level}"
    return "not_significant"


@dataclass(frozen=True)
class MoranResult:
    """Global Moran's I of the rates, with its expectation and permutation p-value."""

    I: float  # noqa: E741 - the statistic's name
    expected: float
    z: float
    p_sim: float
    p_norm: float
    n: int
    permutations: int


def hotspots(
    rates: gpd.GeoDataFrame,
    *,
    value: str = "rate",
    contiguity: str = "queen",
    permutations: int = 999,
    seed: int = 0,
    ids: str = "code",
) -> tuple[gpd.GeoDataFrame, MoranResult | None]:
    """Getis-Ord Gi* hot and cold spots and global Moran's I of ``value``.

    Parameters
    ----------
    rates : GeoDataFrame
        Output of :func:`incident_rates` (or any frame with ``value``).
    value : str
        The column to analyse; rows where it is NaN get ``no_households``.
    contiguity : {"queen", "rook"}
        Neighbourhood definition (:func:`contiguity_weights`).
    permutations : int
        Conditional permutations for the pseudo p-values (≥ 99).
    seed : int
        Seed of the permutations; the same seed gives the same p-values.
    ids : str
        The grid code column.

    Returns
    -------
    (GeoDataFrame, MoranResult or None)
        ``rates`` with ``gi_z`` (Gi* z-score), ``gi_p`` (pseudo p-value,
        one-sided in the direction of z), ``hotspot`` (one of
        :data:`HOTSPOT_CLASSES`); Moran's I is None with fewer than 3
        tested grids or a constant value.
    """
    import esda

    if permutations < 99:
        raise ValueError("permutations must be at least 99")
    out = rates.copy()
    out["gi_z"] = np.nan
    out["gi_p"] = np.nan
    out["hotspot"] = "no_households"
    tested = out[value].notna().to_numpy()
    sub = out[tested].reset_index(drop=True)
    y = sub[value].to_numpy(dtype=float)
    if len(sub) < 3 or np.allclose(y, y[0]):
        out.loc[tested, "hotspot"] = "not_significant"
        return out, None
    w = contiguity_weights(sub, contiguity, ids=ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            y, w, transform="B", permutations=permutations, star=True, seed=seed, n_jobs=1
        )
        moran = _moran(y, w, permutations, seed)
    classes = [_gi_class(z, p) for z, p in zip(gi.Zs, gi.p_sim, strict=True)]
    idx = np.flatnonzero(tested)
    out.iloc[idx, out.columns.get_loc("gi_z")] = gi.Zs
    out.iloc[idx, out.columns.get_loc("gi_p")] = np.round(gi.p_sim.astype(float), 6)
    out.iloc[idx, out.columns.get_loc("hotspot")] = classes
    return out, moran


def _moran(y: np.ndarray, w, permutations: int, seed: int) -> MoranResult:
    """esda's Moran's I (row-standardised) with a seeded permutation test of our own."""
    import esda

    mi = esda.Moran(y, w, transformation="r", permutations=0)
    sparse = mi.w.sparse
    rng = np.random.default_rng(seed)
    z = y - y.mean()
    scale = len(y) / sparse.sum()
    sims = np.empty(permutations)
    for k in range(permutations):
        zp = rng.permutation(z)
        sims[k] = scale * (zp @ (sparse @ zp)) / (zp @ zp)
    larger = int((sims >= mi.I).sum())
    extreme = min(larger, permutations - larger)
    return MoranResult(
        I=float(mi.I),
        expected=float(mi.EI),
        z=float((mi.I - sims.mean()) / sims.std()),
        p_sim=(extreme + 1) / (permutations + 1),
        p_norm=float(mi.p_norm),
        n=int(mi.n),
        permutations=permutations,
    )


def compare_periods(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, *, ids: str = "code"
) -> gpd.GeoDataFrame:
    """Change between two :func:`hotspots` results of the same grids.

    Returns the ``after`` geometry with ``rate_before``, ``rate_after``,
    ``rate_change``, ``hotspot_before``, ``hotspot_after`` and ``class_change``
    (``"hot_95 → not_significant"``, or ``"unchanged"``). Grids present in
    only one period get None for the other.
    """
    keep = [c for c in (ids, "incidents", "rate", "hotspot") if c in after.columns]
    a = pd.DataFrame(before[keep]).rename(columns=lambda c: c if c == ids else f"{c}_before")
    b = after[keep + ["geometry"]].rename(
        columns=lambda c: c if c in (ids, "geometry") else f"{c}_after"
    )
    merged = b.merge(a, on=ids, how="outer")
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=after.crs)
    merged["rate_change"] = merged["rate_after"] - merged["rate_before"]
    merged["class_change"] = [
        "unchanged" if x == y else f"{x} → {y}"
        for x, y in zip(merged["hotspot_before"], merged["hotspot_after"], strict=True)
    ]
    return merged.sort_values(ids).reset_index(drop=True)
