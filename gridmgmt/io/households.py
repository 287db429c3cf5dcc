"""Households of the buildings read: estimated from footprint and floors, or from a ledger.

:func:`finish_buildings` places buildings in the compounds around them (for
their land use and compound id), estimates households and population where
the file gives none, and applies a household ledger (台账) read with
:func:`read_ledger`, whose counts replace the estimates.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmgmt.core.crs import to_metric
from gridmgmt.core.households import (
    MIXED_RESIDENTIAL_SHARE,
    RESIDENTIAL_SHARE,
    estimate_households,
    estimate_population,
)
from gridmgmt.core.layers import BUILDING_COLUMNS, WGS84
from gridmgmt.io import osm
from gridmgmt.io.attributes import parse_numbers
from gridmgmt.io.errors import InputError
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.layer_vocabulary import ALIASES
from gridmgmt.io.tabular import FIRST_ROW, find_column, read_table


def finish_buildings(
    out: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    path: Path,
    dwelling_size_m2: float,
    ledger: str | Path | None,
    report: ImportReport,
) -> gpd.GeoDataFrame:
    """Buildings with compound ids, types, households and population: the final layer.

    Parameters
    ----------
    out : GeoDataFrame
        Buildings with normalised attributes (and the counts the file gave).
    compounds : GeoDataFrame
        The compounds read from the same file (may be empty).
    path : Path
        The file read.
    dwelling_size_m2 : float
        Floor area per household for estimates.
    ledger : path-like or None
        A household ledger whose counts replace estimates.
    report : ImportReport
        Receives the counts of estimated and ledger households.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`gridmgmt.core.layers.BUILDING_COLUMNS`.
    """
    points = out.geometry.representative_point()
    inside = None
    if len(compounds):
        hits = gpd.sjoin(
            gpd.GeoDataFrame(geometry=points, crs=WGS84),
            compounds[["compound_id", "landuse", "geometry"]],
            predicate="within",
        )
        if len(hits):
            metric_area = to_metric(compounds).area
            hits["_area"] = metric_area.reindex(hits["index_right"]).to_numpy()
            inside = hits.sort_values("_area").groupby(level=0).first()
    context = pd.Series([None] * len(out), dtype=object)
    if inside is not None:
        context.iloc[inside.index] = inside["landuse"].to_numpy()
        given = out["compound_id"].isna()
        cid = pd.Series(out["compound_id"].to_numpy(dtype=object))
        cid.iloc[inside.index] = np.where(
            given.iloc[inside.index], inside["compound_id"].to_numpy(), cid.iloc[inside.index]
        )
        out["compound_id"] = cid.to_numpy()

    osm_raw = out["osm_building"] if "osm_building" in out.columns else pd.Series([None] * len(out))
    share = np.zeros(len(out))
    types = []
    for i, (t, raw, land) in enumerate(zip(out["building_type"], osm_raw, context, strict=True)):
        if not isinstance(t, str):
            if (not isinstance(raw, str) or raw == "yes") and isinstance(land, str):
                t = osm.LANDUSE_BUILDING_TYPE.get(land, "other")
                if t == "residential":
                    share[i] = MIXED_RESIDENTIAL_SHARE
            else:
                t = "other"
        if share[i] == 0:
            share[i] = RESIDENTIAL_SHARE.get(t, 0.0)
        types.append(t)
    out["building_type"] = types

    area = to_metric(out).area.to_numpy()
    estimated = estimate_households(
        area,
        out["floors"],
        out["building_type"],
        residential_share=share,
        dwelling_size_m2=dwelling_size_m2,
    )
    given = out["_households_given"]
    households = np.where(given.notna(), given.fillna(0).to_numpy(), estimated).astype(np.int64)
    source = np.where(given.notna(), "ledger", "estimated").astype(object)
    population = out["_population_given"].to_numpy(dtype=float)
    out["households"], out["households_source"] = households, source
    out["population"] = np.where(
        np.isnan(population), estimate_population(households), population
    ).astype(np.int64)

    if ledger is not None:
        apply_ledger(out, Path(ledger), report)
    report.households_estimated = int((out["households_source"] == "estimated").sum())
    report.households_from_ledger = int((out["households_source"] == "ledger").sum())
    keep = [*BUILDING_COLUMNS, "geometry"]
    return gpd.GeoDataFrame(out[keep], geometry="geometry", crs=WGS84)


def read_ledger(path: str | Path) -> pd.DataFrame:
    """A household ledger (户籍台账): building id, households and, if given, population.

    CSV (UTF-8 or GBK), XLSX or any table :func:`gridmgmt.io.tabular.read_table`
    reads, with a building id column (id/编号) and a households column
    (households/户数); a population column (population/人口) is optional.

    Raises
    ------
    InputError
        Missing file or columns, missing or negative counts (row numbers
        given), duplicate ids.
    """
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "ledger file not found")
    table = read_table(path)
    id_col = find_column(table, ALIASES["buildings"]["building_id"])
    hh_col = find_column(table, ALIASES["buildings"]["households"])
    if id_col is None or hh_col is None:
        raise InputError.single(
            path,
            "a ledger needs a building id column (id/编号) and a households column (households/户数)",
        )
    table["_row"] = np.arange(len(table)) + FIRST_ROW
    ledger = pd.DataFrame(
        {
            "building_id": table[id_col].astype(str).str.strip(),
            "households": table[hh_col],
            "_row": table["_row"],
        }
    )
    households = parse_numbers(ledger, "households", path, integer=True)
    if households.isna().any():
        rows = ", ".join(str(r) for r in ledger.loc[households.isna(), "_row"][:10])
        raise InputError.single(path, f"households missing in row(s) {rows}")
    dup = ledger["building_id"].duplicated(keep=False)
    if dup.any():
        raise InputError.single(
            path,
            f"duplicate building id(s) in the ledger: {', '.join(sorted(set(ledger.loc[dup, 'building_id'])))}",
        )
    out = pd.DataFrame({"building_id": ledger["building_id"], "households": households})
    pop_col = find_column(table, ALIASES["buildings"]["population"])
    if pop_col:
        ledger["population"] = table[pop_col]
        out["population"] = parse_numbers(ledger, "population", path, integer=True)
    return out.reset_index(drop=True)


def apply_ledger(out: gpd.GeoDataFrame, path: Path, report: ImportReport) -> None:
    """Replace estimates by the ledger's counts, matching on building id.

    Parameters
    ----------
    out : GeoDataFrame
        Buildings with ``building_id``, ``households``, ``households_source``
        and ``population``; changed in place.
    path : Path
        The ledger (see :func:`read_ledger`).
    report : ImportReport
        Warned about ledger ids that match no building.
    """
    ledger = read_ledger(path)
    households = ledger["households"]
    population = ledger["population"] if "population" in ledger.columns else None
    by_id = pd.Series(households.to_numpy(), index=ledger["building_id"])
    hit = out["building_id"].isin(by_id.index).to_numpy()
    out.loc[hit, "households"] = (
        by_id.reindex(out.loc[hit, "building_id"]).to_numpy().astype(np.int64)
    )
    out.loc[hit, "households_source"] = "ledger"
    if population is not None:
        pop = pd.Series(population.to_numpy(), index=ledger["building_id"]).reindex(
            out.loc[hit, "building_id"]
        )
        out.loc[hit, "population"] = np.where(
            pop.isna(), estimate_population(out.loc[hit, "households"]), pop
        ).astype(np.int64)
    else:
        out.loc[hit, "population"] = estimate_population(out.loc[hit, "households"])
    unmatched = sorted(set(by_id.index) - set(out["building_id"]))
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (
            f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else ""
        )
        report.warn(f"ledger {path.name}: {len(unmatched)} id(s) match no building: {shown}")
