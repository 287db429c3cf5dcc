"""What a grid proposal holds and what approving it changes: values passed to the store.

:class:`ProposalContent` is a proposal as made (the proposed grids, the
buildings that move, the report); :class:`Approval` is a supervisor's
decision with the objects whose grid it changes. The proposal store
(:mod:`gridmgmt.store.proposals`) takes them whole, so a proposal's fields are
named once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd


@dataclass(frozen=True)
class ProposalContent:
    """A proposed change of one 社区's grids.

    Attributes
    ----------
    community_code : str
        12-digit 社区 code.
    base_version : int
        The grid version the proposal was computed from.
    author : str
        Username of whoever (or whatever) made it.
    kind : str
        ``auto``, ``move``, ``split``, ``merge`` or ``rollback``.
    grids : GeoDataFrame
        The proposed grids of the whole 社区 (code, kind, households,
        n_buildings, flag, geometry).
    moves : DataFrame
        building_id, households, from_code, to_code of every building whose
        grid changes.
    totals : list of dict
        ``{"code", "before", "after"}`` households per grid.
    report : mapping
        The engine's report (JSON-serialisable).
    summary : str, optional
        One line for lists.
    """

    community_code: str
    base_version: int
    author: str
    kind: str
    grids: gpd.GeoDataFrame
    moves: pd.DataFrame
    totals: list[dict]
    report: Mapping
    summary: str | None = None


@dataclass(frozen=True)
class Approval:
    """A supervisor's approval and the objects whose grid it changes.

    Attributes
    ----------
    decided_by : str
        Username of the approver.
    building_grid : mapping or Series
        Building id -> new grid code (only the buildings that change).
    facility_grid : mapping or Series
        Facility id -> new grid code or None (only those that change).
    incident_grid : DataFrame
        Index incident id; ``grid_code`` and ``reason`` (only those that change).
    note : str, optional
        The decision's note.
    """

    decided_by: str
    building_grid: Mapping[str, str] | pd.Series
    facility_grid: Mapping[str, str | None] | pd.Series
    incident_grid: pd.DataFrame
    note: str | None = None
