"""Households of the buildings read: estimated from footprint and floors, or from a ledger.

:func:`finish_buildings` places buildings in the compounds around them (for
their land use and compound id), types untyped buildings from that land use,
takes floors from levels, else height, else the default table, estimates
households and population where the file gives none, records where each
count comes from (``households_source``, ``households_confidence``, see
:mod:`gridmgmt.core.households`), and applies a household ledger (台账) read
with :func:`gridmgmt.io.ledgers.read_household_ledger`, whose counts replace
the estimates. The import report says how many households rest on defaults,
which untyped buildings count none, and which counts are implausible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmgmt.core.crs import to_metric
from gridmgmt.core.household_ledgers import (
    LEDGER_SOURCES,
    LedgerMatch,
    match_ledger,
    nothing_matched_message,
    unmatched_summary,
)
from gridmgmt.core.households import (
    ANCILLARY_FOOTPRINT_M2,
    DEFAULT_SOURCES,
    MIXED_RESIDENTIAL_SHARE,
    RESIDENTIAL_SHARE,
    confidence_of,
    estimate_households,
    estimate_population,
    plausibility_flags,
    resolve_floors,
)
from gridmgmt.core.layers import BUILDING_COLUMNS, WGS84
from gridmgmt.io import osm
from gridmgmt.io.attributes import parse_numbers
from gridmgmt.io.errors import InputError
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.ledgers import HouseholdLedger, read_household_ledger

#: how many unmatched ledger rows or flagged buildings a report spells out
SHOWN = 10


def finish_buildings(
    out: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    path: Path,
    dwelling_size_m2: float,
    ledger: str | Path | None,
    report: ImportReport,
    tally: HouseholdTally | None = None,
) -> gpd.GeoDataFrame:
    """Buildings with compound ids, types, households and population: the final layer.

    Parameters
    ----------
    out : GeoDataFrame
        Buildings with normalised attributes (and the counts the file gave).
    compounds : GeoDataFrame
        Compounds and land use to place the buildings in (may be empty).
    path : Path
        The file read.
    dwelling_size_m2 : float
        Floor area per household for estimates.
    ledger : path-like or None
        A household ledger (per building, per 小区 or per address) whose
        counts replace estimates.
    report : ImportReport
        Receives the counts per households source and the warnings.
    tally : HouseholdTally, optional
        For a file read in parts: the households counts are added here and
        written into the report once, after the last part, by the caller.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`gridmgmt.core.layers.BUILDING_COLUMNS`.
    """
    context = place_in_compounds(out, compounds)
    area = to_metric(out).area.to_numpy()
    osm_raw = out["osm_building"] if "osm_building" in out.columns else pd.Series([None] * len(out))
    types, share, untyped_outside = type_buildings(out["building_type"], osm_raw, context, area)
    out["building_type"] = types

    height = (
        parse_numbers(out, "height", path, integer=False).to_numpy(dtype=float)
        if "height" in out.columns
        else np.full(len(out), np.nan)
    )
    floors, floor_source = resolve_floors(out["floors"], height, out["building_type"], area)
    out["floors"] = np.where(floor_source == "default", np.nan, floors)
    estimated = estimate_households(
        area,
        floors,
        out["building_type"],
        residential_share=share,
        dwelling_size_m2=dwelling_size_m2,
    )
    given = out["_households_given"]
    out["households"] = np.where(given.notna(), given.fillna(0).to_numpy(), estimated).astype(
        np.int64
    )
    out["households_source"] = np.where(given.notna(), "ledger", floor_source).astype(object)
    population = out["_population_given"].to_numpy(dtype=float)
    out["population"] = np.where(
        np.isnan(population), estimate_population(out["households"]), population
    ).astype(np.int64)
    for column in ("addr_street", "addr_housenumber"):
        if column not in out.columns:
            out[column] = None
        out[column] = out[column].where(out[column].notna(), None)

    if ledger is not None:
        apply_ledger(out, Path(ledger), report, compounds=compounds)
    out["households_confidence"] = confidence_of(out["households_source"])
    if tally is None:
        whole = HouseholdTally()
        whole.add(out, area, untyped_outside)
        whole.report(report)
    else:
        tally.add(out, area, untyped_outside)
    keep = [*BUILDING_COLUMNS, "geometry"]
    return gpd.GeoDataFrame(out[keep], geometry="geometry", crs=WGS84)


def place_in_compounds(out: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> pd.Series:
    """The land use around each building (None outside every compound).

    Sets ``compound_id`` (the smallest compound holding the building's
    representative point) where the file gave none; a compound of kind
    ``residential`` counts as residential land whatever its ``landuse``.
    """
    context = pd.Series([None] * len(out), dtype=object)
    if not len(compounds) or not len(out):
        return context
    points = out.geometry.representative_point()
    land = compounds[["compound_id", "landuse", "geometry"]].copy()
    if "compound_kind" in compounds.columns:
        land["landuse"] = np.where(
            compounds["compound_kind"] == "residential", "residential", compounds["landuse"]
        )
    hits = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=WGS84), land, predicate="within")
    if not len(hits):
        return context
    metric_area = to_metric(compounds).area
    hits["_area"] = metric_area.reindex(hits["index_right"]).to_numpy()
    inside = hits.sort_values("_area").groupby(level=0).first()
    at = out.index.get_indexer(inside.index)
    context.iloc[at] = inside["landuse"].to_numpy()
    cid = pd.Series(out["compound_id"].to_numpy(dtype=object))
    missing = cid.iloc[at].isna().to_numpy()
    cid.iloc[at] = np.where(missing, inside["compound_id"].to_numpy(), cid.iloc[at])
    out["compound_id"] = cid.to_numpy()
    return context


def type_buildings(
    building_type: pd.Series, osm_raw: pd.Series, context: pd.Series, area_m2: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Final types, residential shares and the untyped buildings outside residential land.

    An untyped building (no type, or OSM ``building=yes``) takes the type of
    the land use around it: in residential land ``residential`` with a 0.9
    share, or no households below 50 m² (an ancillary building); elsewhere
    ``other``, with no households.

    Returns
    -------
    types : list of str
    share : ndarray
        Residential share of the floor area.
    untyped_outside : ndarray of bool
        Untyped buildings outside residential land (counted 0).
    """
    share = np.zeros(len(building_type))
    untyped_outside = np.zeros(len(building_type), dtype=bool)
    types = []
    columns = (pd.Series(c).tolist() for c in (building_type, osm_raw, context))  # no boxing
    rows = zip(*columns, np.asarray(area_m2).tolist(), strict=True)
    for i, (t, raw, land, area) in enumerate(rows):
        if not isinstance(t, str):
            untyped = not isinstance(raw, str) or raw == "yes"
            if untyped and isinstance(land, str):
                t = osm.LANDUSE_BUILDING_TYPE.get(land, "other")
                if t == "residential":
                    share[i] = MIXED_RESIDENTIAL_SHARE if area >= ANCILLARY_FOOTPRINT_M2 else -1
            else:
                t = "other"
                untyped_outside[i] = untyped
        if share[i] == 0:
            share[i] = RESIDENTIAL_SHARE.get(t, 0.0)
        types.append(t)
    return types, np.maximum(share, 0.0), untyped_outside


@dataclass
class HouseholdTally:
    """The households part of an import report, summed over the parts of a file read in chunks.

    :meth:`add` takes the buildings of one part, :meth:`report` writes the
    counts and warnings once, as if the whole file had been read at once.
    """

    by_source: Counter = field(default_factory=Counter)
    total: int = 0
    from_defaults: float = 0.0
    untyped_outside: int = 0
    untyped_area_m2: float = 0.0
    flagged: int = 0
    flagged_shown: list[str] = field(default_factory=list)

    def add(self, out: pd.DataFrame, area: np.ndarray, untyped_outside: np.ndarray) -> None:
        """Count one part's finished buildings (with their footprint areas in m²)."""
        sources = out["households_source"]
        self.by_source.update({str(k): int(v) for k, v in sources.value_counts().items()})
        households = np.asarray(out["households"], dtype=float)
        self.total += int(households.sum())
        self.from_defaults += float(households[sources.isin(DEFAULT_SOURCES).to_numpy()].sum())
        self.untyped_outside += int(untyped_outside.sum())
        self.untyped_area_m2 += float(area[untyped_outside].sum())
        flags = plausibility_flags(out["households"], area, out["floors"], out["building_type"])
        flagged = np.flatnonzero(pd.notna(flags))
        self.flagged += len(flagged)
        room = SHOWN - len(self.flagged_shown)
        self.flagged_shown += [f"{out['building_id'].iloc[i]}: {flags[i]}" for i in flagged[:room]]

    def report(self, report: ImportReport) -> None:
        """Write the counts and the warnings into ``report``."""
        counts = sorted(self.by_source.items(), key=lambda kv: -kv[1])
        report.households_by_source = dict(counts)
        from_ledger = sum(v for k, v in counts if k in set(LEDGER_SOURCES.values()))
        report.households_estimated = sum(self.by_source.values()) - from_ledger
        report.households_from_ledger = from_ledger
        total = self.total
        shared = self.from_defaults / total if total > 0 else 0.0
        report.households_total = total
        report.households_default_share = shared
        if total and shared > 0.5:
            report.warn(
                f"{shared:.0%} of the {total:,} households are default estimates: no ledger, no "
                "building:levels or height for their buildings (floors taken by footprint); "
                "give a ledger (--ledger) to replace them"
            )
        if self.untyped_outside:
            report.warn(
                f"{self.untyped_outside} untyped building(s) (building=yes, "
                f"{self.untyped_area_m2:,.0f} m² of footprint) lie outside mapped residential "
                "land and count 0 households; add land use or 小区 outlines "
                "(landuse=residential) or a ledger if people live there"
            )
        if self.flagged:
            shown = "; ".join(self.flagged_shown)
            more = f"; and {self.flagged - SHOWN} more" if self.flagged > SHOWN else ""
            report.warn(f"{self.flagged} building(s) with implausible households: {shown}{more}")


def read_ledger(path: str | Path) -> pd.DataFrame:
    """A building-id household ledger (户籍台账): building id, households and, if given, population.

    CSV (UTF-8 or GBK), XLSX or any table :func:`gridmgmt.io.tabular.read_table`
    reads, with a building id column (id/编号) and a households column
    (households/户数); a population column (population/人口) is optional.
    For ledgers per 小区 or per address use
    :func:`gridmgmt.io.ledgers.read_household_ledger`.

    Raises
    ------
    InputError
        Missing file or columns, missing or negative counts (row numbers
        given), duplicate ids, a ledger of another kind.
    """
    ledger = read_household_ledger(path)
    if ledger.kind != "building":
        raise InputError.single(
            ledger.path,
            f"a {ledger.kind} ledger, not one per building id; read it with read_household_ledger",
        )
    return ledger.rows.drop(columns="row")


def apply_ledger(
    out: gpd.GeoDataFrame,
    path: Path | HouseholdLedger,
    report: ImportReport,
    *,
    compounds: pd.DataFrame | None = None,
) -> LedgerMatch:
    """Replace estimates by a ledger's counts (per building id, 小区 or address).

    Parameters
    ----------
    out : GeoDataFrame
        Buildings with ``building_id``, ``building_type``, ``floors``,
        ``households``, ``households_source``, ``population`` and, for
        compound and address ledgers, ``compound_id`` and
        ``addr_street``/``addr_housenumber``; changed in place.
    path : Path or HouseholdLedger
        The ledger (see :func:`gridmgmt.io.ledgers.read_household_ledger`).
    report : ImportReport
        Warned about ledger rows that match no building, listed.
    compounds : DataFrame, optional
        ``compound_id`` and ``name`` of the 小区, for compound ledgers.

    Returns
    -------
    LedgerMatch

    Raises
    ------
    InputError
        A compound or address ledger none of whose rows matches.
    """
    ledger = path if isinstance(path, HouseholdLedger) else read_household_ledger(path)
    match = match_ledger(ledger.kind, ledger.rows, out, compounds)
    if ledger.kind != "building" and len(ledger.rows) and match.matched_rows == 0:
        raise InputError.single(ledger.path, nothing_matched_message(ledger.kind, len(ledger.rows)))
    records = match.records.set_index("building_id")
    hit = out["building_id"].isin(records.index).to_numpy()
    ids = out.loc[hit, "building_id"]
    out.loc[hit, "households"] = records["households"].reindex(ids).to_numpy(dtype=np.int64)
    out.loc[hit, "households_source"] = records["households_source"].reindex(ids).to_numpy()
    estimate = estimate_population(out.loc[hit, "households"])
    if "population" in ledger.rows.columns:
        given = pd.Series(
            ledger.rows["population"].to_numpy(), index=ledger.rows["building_id"]
        ).reindex(ids)
        out.loc[hit, "population"] = np.where(given.isna(), estimate, given).astype(np.int64)
    else:
        out.loc[hit, "population"] = estimate
    if len(match.unmatched):
        report.warn(f"ledger {ledger.path.name}: {unmatched_summary(match)}")
    return match
