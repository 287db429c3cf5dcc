"""Household changes (户数变动): a ledger update of stored buildings, and the grids it moves out of band.

Households change (new towers occupied, demolitions, families moving); the
ledger (户籍台账) records it. Applying it updates the buildings and the
current grids' totals and flags, and names the grids now out of band, which
the rebalancer (:mod:`gridmgmt.domain.rebalancing`) then brings back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmgmt.core.households import estimate_population
from gridmgmt.domain.repositories import GridRepository


@dataclass(frozen=True)
class LedgerOutcome:
    """What a ledger update changed."""

    buildings: int
    grids: pd.DataFrame  # code, community_code, kind, before, after, flag

    @property
    def out_of_band(self) -> pd.DataFrame:
        """Changed grids now flagged ``out_of_band``."""
        return self.grids[self.grids["flag"] == "out_of_band"]


def apply_ledger(
    repo: GridRepository,
    ledger: pd.DataFrame,
    *,
    min_households: int = 250,
    max_households: int = 500,
) -> LedgerOutcome:
    """Write a household ledger onto the stored buildings and their grids.

    Parameters
    ----------
    repo : GridRepository
        The store.
    ledger : DataFrame
        ``building_id`` and ``households``, optionally ``population``
        (estimated from households where missing), e.g. from
        :func:`gridmgmt.io.households.read_ledger`.
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
        Ids that match no stored building; nothing is written.
    """
    if min_households > max_households:
        raise ValueError(f"min households {min_households} > max households {max_households}")
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
    grids = repo.update_households(
        records[["building_id", "households", "population"]],
        min_households=min_households,
        max_households=max_households,
    )
    return LedgerOutcome(buildings=len(records), grids=grids)
