"""What a rebalancing or a manual edit returns: the new grids, labels, moves and the report."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd


@dataclass(frozen=True)
class RebalanceReport:
    """What a rebalancing (or a manual edit) changed, and why.

    ``households_moved`` counts families whose grid (and so 网格员) changes;
    ``share_moved`` is that share of all households now. New buildings
    (given without a grid) are *placed*, not moved: ``households_placed``.
    """

    households_moved: int
    share_moved: float
    buildings_moved: int
    households_placed: int
    buildings_placed: int
    grids_changed: tuple[str, ...]
    grids_added: tuple[str, ...]
    grids_retired: tuple[str, ...]
    out_of_band_before: tuple[str, ...]
    out_of_band_after: tuple[str, ...]
    reasons: tuple[str, ...]
    violations: tuple[str, ...]
    runtime_s: float

    def __str__(self) -> str:
        lines = [
            f"households moved {self.households_moved} ({self.share_moved:.1%}) "
            f"in {self.buildings_moved} building(s)"
            + (
                f"; new buildings placed {self.buildings_placed} "
                f"({self.households_placed} households)"
                if self.buildings_placed
                else ""
            )
            + f"; runtime {self.runtime_s:.2f} s",
            f"out of band: {len(self.out_of_band_before)} before, {len(self.out_of_band_after)} after"
            + (f" ({', '.join(self.out_of_band_after)})" if self.out_of_band_after else ""),
            f"grids changed {len(self.grids_changed)}, added {len(self.grids_added)}"
            + (f" ({', '.join(self.grids_added)})" if self.grids_added else "")
            + f", retired {len(self.grids_retired)}"
            + (f" ({', '.join(self.grids_retired)})" if self.grids_retired else ""),
        ]
        lines.extend(f"- {r}" for r in self.reasons)
        lines.extend(f"! {v}" for v in self.violations)
        return "\n".join(lines)


@dataclass(frozen=True)
class RebalanceResult:
    """New grids (EPSG:4326), building labels, the buildings that moved, and the report."""

    grids: gpd.GeoDataFrame
    labels: pd.Series
    moves: gpd.GeoDataFrame
    report: RebalanceReport
