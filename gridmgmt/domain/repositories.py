"""The small interfaces through which the domain reaches storage.

Use-case services take objects that satisfy these protocols;
:class:`gridmgmt.store.repository.Store` is the production implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import geopandas as gpd
import pandas as pd


class LayerRepository(Protocol):
    """Imported map layers (buildings, roads, compounds, facilities, admin areas)."""

    def write_layers(
        self,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        source: str,
        summary: Mapping | None = None,
        replace: bool = False,
    ) -> dict[str, int]: ...

    def import_session(self, *, source: str, replace: bool = False):
        """A context manager yielding a writer (``write(layers)``, ``summary``, ``counts``)
        whose parts land in one transaction, with the import run, on leaving."""
        ...

    def read_layer(self, layer: str, *, bbox=None) -> gpd.GeoDataFrame: ...

    def admin_areas(self, level: str) -> gpd.GeoDataFrame: ...

    def community(self, name_or_code: str) -> dict: ...


class GridRepository(Protocol):
    """Versioned grids and the grid codes kept on buildings and facilities."""

    def write_grid_version(
        self,
        community_code: str,
        grids: gpd.GeoDataFrame,
        building_grid: Mapping[str, str] | pd.Series,
        *,
        expected_version: int | None = None,
    ) -> int: ...

    def current_grids(self, community_code: str | None = None) -> gpd.GeoDataFrame: ...

    def set_grid_codes(self, layer: str, mapping: Mapping[str, str] | pd.Series) -> None: ...

    def set_grid_codes_of_layers(self, mappings: Mapping[str, pd.Series]) -> None: ...

    def update_households(
        self, ledger: pd.DataFrame, *, min_households: int = 250, max_households: int = 500
    ) -> pd.DataFrame: ...


class UserRepository(Protocol):
    """Accounts and their grid responsibilities."""

    def add_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        *,
        display_name=None,
        grid_codes=(),
        area: str | None = None,
    ) -> int: ...

    def users(self) -> pd.DataFrame: ...
