"""Matching household ledgers (台账) to buildings: per building, per 小区 total, per address.

A 街道 office knows households per 小区 (the property manager's or housing
bureau's 总户数) or per address (门牌), rarely per building id. This module
turns each ledger into per-building counts:

- ``building``: ``building_id`` → households, taken as they are;
- ``compound``: 小区 id or name → total households, split over the
  compound's residential buildings by floor area (largest remainders, so the
  parts add up to the total); buildings that already hold a per-building
  ledger count keep it and the rest of the total is split over the others;
- ``address``: street + house number (normalised by
  :func:`gridmgmt.core.addresses.address_key`) → households, summed over
  rows with the same address and split by floor area when several buildings
  share it.

Rows that match nothing come back in :attr:`LedgerMatch.unmatched` with the
reason, for the caller to list.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmgmt.core.addresses import address_key
from gridmgmt.core.crs import to_metric
from gridmgmt.core.households import (
    RESIDENTIAL_SHARE,
    default_floors,
)

LEDGER_KINDS = ("building", "compound", "address")

#: households_source given to buildings by each kind of ledger
LEDGER_SOURCES = {
    "building": "ledger",
    "compound": "compound_ledger",
    "address": "address_ledger",
}

#: per-building counts a compound total does not overwrite
PER_BUILDING_SOURCES = frozenset({"ledger", "address_ledger"})

UNMATCHED_COLUMNS = ["row", "key", "households", "reason"]

#: how many unmatched rows a summary spells out
LISTED = 10


@dataclass(frozen=True)
class LedgerMatch:
    """Per-building counts from a ledger, and the ledger rows that matched nothing."""

    kind: str
    records: pd.DataFrame  # building_id, households, households_source
    unmatched: pd.DataFrame  # row, key, households, reason
    rows: int  # ledger rows read

    @property
    def matched_rows(self) -> int:
        """Ledger rows that reached at least one building."""
        return self.rows - len(self.unmatched)


def compound_name_key(name) -> str:
    """A 小区 name folded for matching: NFKC, no spaces, no trailing 小区 ('' if blank)."""
    if not isinstance(name, str):
        return ""
    text = "".join(unicodedata.normalize("NFKC", name).split()).lower()
    return text[: -len("小区")] if text.endswith("小区") and len(text) > 2 else text


def floor_area(buildings) -> np.ndarray:
    """Floor area per building (m²): metric footprint × floors (defaults by type and footprint)."""
    if len(buildings) == 0:
        return np.zeros(0)
    area = to_metric(buildings).area.to_numpy()
    floors = np.asarray(buildings["floors"], dtype=float)
    types = pd.Series(np.asarray(buildings["building_type"], dtype=object))
    fallback = default_floors(types, area).to_numpy()
    return area * np.where(np.isfinite(floors) & (floors > 0), floors, fallback)


def split_by_weight(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` into integers that add up to it.

    Largest remainders; equal shares when every weight is 0.
    """
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.isfinite(w).all() or w.sum() <= 0:
        w = np.ones(len(w))
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    left = int(total - parts.sum())
    if left > 0:
        order = np.argsort(-(exact - parts), kind="stable")
        parts[order[:left]] += 1
    return parts


def match_ledger(
    kind: str,
    ledger: pd.DataFrame,
    buildings,
    compounds: pd.DataFrame | None = None,
) -> LedgerMatch:
    """Per-building counts from a ledger.

    Parameters
    ----------
    kind : {"building", "compound", "address"}
        What the ledger's rows name.
    ledger : DataFrame
        ``households`` and ``row`` (its spreadsheet row) and the key:
        ``building_id``; ``compound`` (id or name); or ``street`` and
        ``housenumber``.
    buildings : GeoDataFrame
        With ``building_id``, ``building_type``, ``floors``,
        ``households_source``, ``compound_id``, ``addr_street`` and
        ``addr_housenumber`` (the last three may be absent).
    compounds : DataFrame, optional
        ``compound_id`` and ``name``, for compound ledgers.

    Returns
    -------
    LedgerMatch
    """
    if kind not in LEDGER_KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}; expected one of {', '.join(LEDGER_KINDS)}")
    source = LEDGER_SOURCES[kind]
    if kind == "building":
        known = set(pd.Series(buildings["building_id"], dtype=object).astype(str))
        ids = ledger["building_id"].astype(str)
        hit = ids.isin(known).to_numpy()
        records = pd.DataFrame(
            {
                "building_id": ids[hit].to_numpy(),
                "households": ledger["households"][hit].to_numpy(dtype=np.int64),
                "households_source": source,
            }
        )
        unmatched = _unmatched(ledger[~hit], ids[~hit], "no building with this id")
        return LedgerMatch(kind, records, unmatched, len(ledger))
    weights = floor_area(buildings)
    residential = (
        pd.Series(np.asarray(buildings["building_type"], dtype=object))
        .isin(list(RESIDENTIAL_SHARE))
        .to_numpy()
    )
    if kind == "compound":
        return _match_compounds(ledger, buildings, compounds, weights, residential)
    return _match_addresses(ledger, buildings, weights, residential)


def _unmatched(rows: pd.DataFrame, keys, reason) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": rows["row"].to_numpy(),
            "key": np.asarray(keys, dtype=object),
            "households": rows["households"].to_numpy(),
            "reason": reason,
        },
        columns=UNMATCHED_COLUMNS,
    )


def _column(frame, name) -> np.ndarray:
    if name in frame.columns:
        return np.asarray(frame[name], dtype=object)
    return np.full(len(frame), None, dtype=object)


def _match_compounds(ledger, buildings, compounds, weights, residential) -> LedgerMatch:
    compounds = (
        compounds if compounds is not None else pd.DataFrame(columns=["compound_id", "name"])
    )
    by_id: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    for cid, name in zip(compounds["compound_id"], compounds["name"], strict=True):
        by_id.setdefault(str(cid), []).append(str(cid))
        key = compound_name_key(name)
        if key:
            by_name.setdefault(key, []).append(str(cid))
    members = pd.Series(_column(buildings, "compound_id")).astype(object)
    sources = _column(buildings, "households_source")
    ids = np.asarray(buildings["building_id"], dtype=object)
    parts, missed = [], []
    for i in range(len(ledger)):
        raw = ledger["compound"].iloc[i]
        cids = by_id.get(str(raw).strip()) or by_name.get(compound_name_key(raw))
        if not cids:
            missed.append((i, "no 小区 with this name or id"))
            continue
        inside = members.isin(cids).to_numpy()
        if not inside.any():
            missed.append((i, "the 小区 holds no building"))
            continue
        fixed = inside & np.isin(sources, list(PER_BUILDING_SOURCES))
        open_ = inside & ~fixed
        targets = open_ & residential if (open_ & residential).any() else open_
        total = int(ledger["households"].iloc[i])
        rest = max(total - int(np.asarray(buildings["households"])[fixed].sum()), 0)
        if not targets.any():
            missed.append((i, "every building of the 小区 already has a per-building count"))
            continue
        idx = np.flatnonzero(targets)
        parts.append(
            pd.DataFrame(
                {
                    "building_id": ids[idx],
                    "households": split_by_weight(rest, weights[idx]),
                    "households_source": LEDGER_SOURCES["compound"],
                }
            )
        )
        others = open_ & ~targets
        if others.any():
            parts.append(
                pd.DataFrame(
                    {
                        "building_id": ids[others],
                        "households": 0,
                        "households_source": LEDGER_SOURCES["compound"],
                    }
                )
            )
    return _finish("compound", ledger, parts, missed, lambda i: ledger["compound"].iloc[i])


def _match_addresses(ledger, buildings, weights, residential) -> LedgerMatch:
    keys = pd.Series(
        [
            address_key(s, n)
            for s, n in zip(
                _column(buildings, "addr_street"),
                _column(buildings, "addr_housenumber"),
                strict=True,
            )
        ],
        dtype=object,
    )
    ids = np.asarray(buildings["building_id"], dtype=object)
    row_keys = [
        address_key(s, n) for s, n in zip(ledger["street"], ledger["housenumber"], strict=True)
    ]
    totals: dict[str, int] = {}
    missed = []
    for i, key in enumerate(row_keys):
        if key is None:
            missed.append((i, "street or house number blank"))
        elif not (keys == key).any():
            missed.append((i, "no building with this address (addr:street + addr:housenumber)"))
        else:
            totals[key] = totals.get(key, 0) + int(ledger["households"].iloc[i])
    parts = []
    for key, total in totals.items():
        at = (keys == key).to_numpy()
        targets = at & residential if (at & residential).any() else at
        idx = np.flatnonzero(targets)
        parts.append(
            pd.DataFrame(
                {
                    "building_id": ids[idx],
                    "households": split_by_weight(total, weights[idx]),
                    "households_source": LEDGER_SOURCES["address"],
                }
            )
        )
        rest = np.flatnonzero(at & ~targets)
        if len(rest):
            parts.append(
                pd.DataFrame(
                    {
                        "building_id": ids[rest],
                        "households": 0,
                        "households_source": LEDGER_SOURCES["address"],
                    }
                )
            )

    def shown(i):
        return f"{ledger['street'].iloc[i]} {ledger['housenumber'].iloc[i]}".strip()

    return _finish("address", ledger, parts, missed, shown)


def _finish(kind, ledger, parts, missed, key_of) -> LedgerMatch:
    columns = ["building_id", "households", "households_source"]
    records = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    ).drop_duplicates("building_id", keep="last")
    records["households"] = records["households"].astype(np.int64)
    rows = [i for i, _ in missed]
    unmatched = pd.DataFrame(
        {
            "row": ledger["row"].to_numpy()[rows] if rows else [],
            "key": [key_of(i) for i in rows],
            "households": ledger["households"].to_numpy()[rows] if rows else [],
            "reason": [why for _, why in missed],
        },
        columns=UNMATCHED_COLUMNS,
    )
    return LedgerMatch(kind, records.reset_index(drop=True), unmatched, len(ledger))


def nothing_matched_message(kind: str, rows: int) -> str:
    """Why a ledger of ``rows`` rows changed nothing, and what to do about it."""
    if kind == "compound":
        return (
            f"none of the {rows} 小区 of this ledger matches a compound by name or id; nothing "
            "written. Import the 小区 outlines (landuse=residential with name=, or a compounds "
            "file with 小区名称) first, or write the names as the map has them"
        )
    if kind == "address":
        return (
            f"none of the {rows} addresses of this ledger matches a building's addr:street + "
            "addr:housenumber; nothing written. Check that the buildings carry addresses, or "
            "use a ledger per 小区 or per building id"
        )
    return f"none of the {rows} building ids of this ledger is known; nothing written"


def unmatched_summary(match: LedgerMatch) -> str:
    """``3 row(s) match no building: row 4 (学院路 99): no building with this address; ...``."""
    rows = match.unmatched
    shown = "; ".join(f"row {r.row} ({r.key}): {r.reason}" for r in rows.head(LISTED).itertuples())
    more = f"; and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
    return f"{len(rows)} row(s) match no building: {shown}{more}"
