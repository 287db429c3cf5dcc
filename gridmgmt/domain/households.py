"""Household changes (户数变动): a ledger update of stored buildings, and the grids it moves out of band.

Households change (new towers occupied, demolitions, families moving); the
ledger (户籍台账) records it, per building id, per 小区 (总户数, split over
the 小区's buildings by floor area) or per address (路名 + 门牌号). Applying
it updates the buildings and the current grids' totals and flags, lists the
ledger rows that matched nothing, and names the grids now out of band,
which the rebalancer (:mod:`gridmgmt.domain.rebalancing`) then brings back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from gridmgmt.core.crs import to_metric
from gridmgmt.core.flags import has_flag
from gridmgmt.core.household_ledgers import (
    UNMATCHED_COLUMNS,
    match_ledger,
    nothing_matched_message,
)
from gridmgmt.core.households import estimate_population, plausibility_flags
from gridmgmt.domain.errors import NotFoundError
from gridmgmt.domain.repositories import GridRepository


class KeyedLedger(Protocol):
    """A ledger of any kind (:class:`gridmgmt.io.ledgers.HouseholdLedger`)."""

    kind: str
    rows: pd.DataFrame

    def describe(self) -> str: ...


@dataclass(frozen=True)
class LedgerOutcome:
    """What a ledger update changed."""

    buildings: int
    grids: pd.DataFrame  # code, community_code, kind, before, after, flag
    kind: str = "building"
    #: ledger rows that matched no building: row, key, households, reason
    unmatched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMATCHED_COLUMNS))
    #: updated buildings whose households are implausible: building_id, reason
    implausible: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["building_id", "reason"])
    )

    @property
    def out_of_band(self) -> pd.DataFrame:
        """Changed grids now flagged ``out_of_band``."""
        return self.grids[[has_flag(f, "out_of_band") for f in self.grids["flag"]]]


def apply_ledger(
    repo: GridRepository,
    ledger: pd.DataFrame | KeyedLedger,
    *,
    min_households: int = 250,
    max_households: int = 500,
) -> LedgerOutcome:
    """Write a household ledger onto the stored buildings and their grids.

    Parameters
    ----------
    repo : GridRepository
        The store (it must also read layers, as :class:`gridmgmt.store.Store` does,
        for 小区 and address ledgers).
    ledger : DataFrame or HouseholdLedger
        ``building_id`` and ``households``, optionally ``population``
        (estimated from households where missing), e.g. from
        :func:`gridmgmt.io.households.read_ledger`; or a ledger of any kind
        from :func:`gridmgmt.io.ledgers.read_household_ledger`: 小区 totals
        are split over the 小区's stored buildings by floor area, address
        rows go to the buildings with that address, and rows that match
        nothing are listed in :attr:`LedgerOutcome.unmatched`.
    min_households, max_households : int
        The band the grids' new totals are checked against.

    Returns
    -------
    LedgerOutcome

    Raises
    ------
    ValueError
        Missing columns, negative or missing counts, duplicate ids, a bad band.
    NotFoundError
        Ids that match no stored building, or a 小区/address ledger none of
        whose rows matches; nothing is written.
    """
    if min_households > max_households:
        raise ValueError(f"min households {min_households} > max households {max_households}")
    kind, unmatched, stored = "building", None, None
    if not isinstance(ledger, pd.DataFrame):
        kind = ledger.kind
        if kind == "building":
            ledger = ledger.rows.drop(columns="row")
        else:
            stored = repo.read_layer("buildings")
            match = match_ledger(kind, ledger.rows, stored, repo.read_layer("compounds"))
            if len(ledger.rows) and match.matched_rows == 0:
                raise NotFoundError(
                    f"{ledger.describe()}: {nothing_matched_message(kind, len(ledger.rows))}"
                )
            unmatched, ledger = match.unmatched, match.records
    for col in ("building_id", "households"):
        if col not in ledger.columns:
            raise ValueError(f"ledger: missing column {col}")
    records = ledger.copy()
    records["building_id"] = records["building_id"].astype(str).str.strip()
    dup = records["building_id"].duplicated(keep=False)
    if dup.any():
        raise ValueError(
            f"ledger: duplicate building ids {sorted(set(records['building_id'][dup]))}"
        )
    households = pd.to_numeric(records["households"], errors="coerce")
    if households.isna().any() or (households < 0).any() or (households % 1 != 0).any():
        bad = records["building_id"][households.isna() | (households < 0) | (households % 1 != 0)]
        raise ValueError(f"ledger: households must be whole numbers >= 0 (ids {bad.tolist()[:10]})")
    population = (
        pd.to_numeric(records["population"], errors="coerce")
        if "population" in records.columns
        else pd.Series(np.nan, index=records.index)
    )
    estimate = pd.Series(estimate_population(households.to_numpy()), index=records.index)
    records["households"] = households.astype(np.int64)
    records["population"] = population.fillna(estimate).astype(np.int64)
    columns = ["building_id", "households", "population"]
    if "households_source" in records.columns:
        columns.append("households_source")
    grids = repo.update_households(
        records[columns], min_households=min_households, max_households=max_households
    )
    return LedgerOutcome(
        buildings=len(records),
        grids=grids,
        kind=kind,
        implausible=_implausible(repo, records, stored),
        **({"unmatched": unmatched} if unmatched is not None else {}),
    )


def _implausible(repo, records: pd.DataFrame, stored) -> pd.DataFrame:
    """Updated buildings whose new households are implausible for their floor area."""
    columns = ["building_id", "reason"]
    read_layer = getattr(repo, "read_layer", None)
    if read_layer is None or not len(records):
        return pd.DataFrame(columns=columns)
    stored = read_layer("buildings") if stored is None else stored
    mine = stored[stored["building_id"].isin(records["building_id"])].reset_index(drop=True)
    if not len(mine):
        return pd.DataFrame(columns=columns)
    new = records.set_index("building_id")["households"].reindex(mine["building_id"])
    flags = plausibility_flags(
        new.to_numpy(), to_metric(mine).area.to_numpy(), mine["floors"], mine["building_type"]
    )
    hit = pd.notna(flags)
    return pd.DataFrame({"building_id": mine["building_id"][hit], "reason": flags[hit]})
