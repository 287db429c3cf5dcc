"""Household estimation for buildings without ledger (台账) counts.

    households = footprint area (m², metric CRS) × floors × residential share ÷ dwelling size

rounded, at least 1 for a residential building with any floor area. Floors
come from the data (OSM ``building:levels``, else ``height`` / 3 m), else the
default for the building type below. Population = households × 2.62, the
average household size of China's 2020 census (第七次全国人口普查: 2.62).

=============  ===============  =================  ============================================
type           default floors   residential share  note
=============  ===============  =================  ============================================
apartments     6                1.0                多层住宅 walk-up default; towers carry levels
residential    6                1.0
house          1                1.0                平房; at least 1 household
villa          3                1.0                one household per villa
dormitory      5                0.0                集体户: counted by the unit, not in the band
commercial …   (see table)      0.0                non-residential: 0 households
=============  ===============  =================  ============================================

A building tagged only ``yes`` is typed from the land use around it by the
importer (inside ``landuse=residential`` it becomes ``residential`` with a
0.9 share: ground-floor shops and service rooms).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AVERAGE_HOUSEHOLD_SIZE = 2.62
DEFAULT_DWELLING_SIZE_M2 = 90.0
METRES_PER_FLOOR = 3.0

DEFAULT_FLOORS = {
    "apartments": 6,
    "residential": 6,
    "house": 1,
    "villa": 3,
    "dormitory": 5,
    "commercial": 3,
    "office": 8,
    "retail": 2,
    "school": 4,
    "university": 5,
    "hospital": 6,
    "industrial": 2,
    "public": 3,
    "other": 2,
}

RESIDENTIAL_SHARE = {
    "apartments": 1.0,
    "residential": 1.0,
    "house": 1.0,
    "villa": 1.0,
}

#: share used for a generic building (OSM ``building=yes``) inside residential land use
MIXED_RESIDENTIAL_SHARE = 0.9


def default_floors(building_type: pd.Series) -> pd.Series:
    """Default floor count per building type (unknown types: ``other``)."""
    return building_type.map(DEFAULT_FLOORS).fillna(DEFAULT_FLOORS["other"]).astype(float)


def estimate_households(
    area_m2: np.ndarray | pd.Series,
    floors: np.ndarray | pd.Series,
    building_type: pd.Series,
    *,
    residential_share: np.ndarray | pd.Series | None = None,
    dwelling_size_m2: float = DEFAULT_DWELLING_SIZE_M2,
) -> np.ndarray:
    """Estimated households per building (integers >= 0).

    Parameters
    ----------
    area_m2 : array-like
        Footprint areas in square metres.
    floors : array-like
        Floors; NaN or non-positive values take :func:`default_floors`.
    building_type : Series
        Our building types (:data:`gridmgmt.core.layers.BUILDING_TYPES`).
    residential_share : array-like, optional
        Share of the floor area that is dwellings; default from the type
        (:data:`RESIDENTIAL_SHARE`, 0 for non-residential types).
    dwelling_size_m2 : float
        Gross floor area per household.
    """
    if dwelling_size_m2 <= 0:
        raise ValueError(f"dwelling size must be positive, got {dwelling_size_m2}")
    types = pd.Series(building_type).reset_index(drop=True).astype(object)
    area = np.asarray(area_m2, dtype=float)
    fl = np.asarray(floors, dtype=float)
    fl = np.where(np.isfinite(fl) & (fl > 0), fl, default_floors(types).to_numpy())
    share = (
        types.map(RESIDENTIAL_SHARE).fillna(0.0).to_numpy(dtype=float)
        if residential_share is None
        else np.asarray(residential_share, dtype=float)
    )
    raw = area * fl * share / dwelling_size_m2
    households = np.rint(raw)
    households = np.where((share > 0) & (area > 0), np.maximum(households, 1), households)
    villa = (types == "villa").to_numpy()
    households = np.where(villa, 1, households)
    return households.astype(np.int64)


def estimate_population(households: np.ndarray | pd.Series) -> np.ndarray:
    """Population from households (× :data:`AVERAGE_HOUSEHOLD_SIZE`), rounded."""
    return np.rint(np.asarray(households, dtype=float) * AVERAGE_HOUSEHOLD_SIZE).astype(np.int64)
