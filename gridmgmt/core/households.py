"""Household estimation for buildings without ledger (台账) counts, and how sure each count is.

    households = footprint area (m², metric CRS) × floors × residential share ÷ dwelling size

rounded, at least 1 for a residential building with any floor area. Population
= households × 2.62, the average household size of China's 2020 census
(第七次全国人口普查: 2.62).

Where a building's households come from (``households_source``) and how far
to trust them (``households_confidence``), best first:

===============  ==========  ==================================================================
source           confidence  meaning
===============  ==========  ==================================================================
visit            high        confirmed or corrected on the spot by a grid worker (走访), see
                             :mod:`gridmgmt.domain.household_visits`
ledger           high        a count for this building: a building-id ledger or the file itself
address_ledger   high        an address ledger row (street + 门牌号) matched to this building
compound_ledger  high        a 小区 total (物业/房管 总户数) split over its buildings by floor area
levels           medium      estimate; floors from ``building:levels`` / 层数
height           medium      estimate; floors = ``height`` ÷ 3 m
default          low         estimate; floors from the default table below
estimated        low         estimate of unknown basis (stored before sources were recorded)
===============  ==========  ==================================================================

Floors come from the data (levels, else height ÷ 3 m), else the default for
the building type; for the generic residential types (``residential``,
``apartments``) the default depends on the footprint, since OSM rarely
carries levels on Chinese housing:

=================  ==============  ==================================================================
footprint (m²)     default floors  typical building
=================  ==============  ==================================================================
< 50               1               guard room, pump or bike shed; 0 households when untyped
50 – 150           2               平房, self-built low-rise house
150 – 400          4               small or old 多层 block, 3–5 storeys
400 – 5,000        6               多层 walk-up slab (6 storeys, 2–6 stair units)
≥ 5,000            3               an outline of a whole block or lane-house (里弄) complex;
                                   flagged as implausible for one residential building
=================  ==============  ==================================================================

Other types keep one default each:

=============  ===============  =================  ============================================
type           default floors   residential share  note
=============  ===============  =================  ============================================
house          1                1.0                平房; at least 1 household
villa          3                1.0                one household per villa
dormitory      5                0.0                集体户: counted by the unit, not in the band
commercial …   (see table)      0.0                non-residential: 0 households
=============  ===============  =================  ============================================

A building tagged only ``yes`` inside residential land use or a residential
compound is typed ``residential`` with a 0.9 share (ground-floor shops and
service rooms); below 50 m² it is taken as an ancillary building with no
households.

Plausibility: a residential building holds between
:data:`PLAUSIBLE_HOUSEHOLDS_PER_100M2` (0.3 – 4 households per 100 m² of
floor area: 25 – 333 m² per household); counts outside it, and residential
footprints of 5,000 m² and more, are flagged by :func:`plausibility_flags`.
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

#: types whose default floors follow the footprint (:data:`FOOTPRINT_FLOORS`)
FOOTPRINT_TYPES = frozenset({"residential", "apartments"})

#: (upper footprint bound in m², default floors), ascending; the last bound is open
FOOTPRINT_FLOORS = ((50.0, 1), (150.0, 2), (400.0, 4), (5000.0, 6), (np.inf, 3))

#: untyped buildings smaller than this (m²) in residential land are ancillary: 0 households
ANCILLARY_FOOTPRINT_M2 = 50.0

#: residential footprints from this size (m²) up are flagged: probably a block outline
BLOCK_OUTLINE_M2 = 5000.0

RESIDENTIAL_SHARE = {
    "apartments": 1.0,
    "residential": 1.0,
    "house": 1.0,
    "villa": 1.0,
}

#: share used for a generic building (OSM ``building=yes``) inside residential land use
MIXED_RESIDENTIAL_SHARE = 0.9

#: households_source -> households_confidence, best first
SOURCE_CONFIDENCE = {
    "visit": "high",
    "ledger": "high",
    "address_ledger": "high",
    "compound_ledger": "high",
    "levels": "medium",
    "height": "medium",
    "default": "low",
    "estimated": "low",
}
HOUSEHOLD_SOURCES = tuple(SOURCE_CONFIDENCE)
CONFIDENCES = ("high", "medium", "low")

#: sources whose floors (and so households) are the default table's guess
DEFAULT_SOURCES = frozenset({"default", "estimated"})

#: a grid whose share of households from defaults exceeds this gets a warning
DEFAULT_SHARE_WARNING = 0.5

#: plausible households per 100 m² of floor area (inclusive bounds)
PLAUSIBLE_HOUSEHOLDS_PER_100M2 = (0.3, 4.0)
#: more floors than any residential tower in China has: a mistyped ``building:levels``?
MAX_RESIDENTIAL_FLOORS = 100


def floors_from_height(height_m: np.ndarray | pd.Series) -> np.ndarray:
    """Floors from a building height in metres: ``height / 3 m``, rounded, at least 1 (NaN stays)."""
    h = np.asarray(height_m, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(
            np.isfinite(h) & (h > 0), np.maximum(1.0, np.rint(h / METRES_PER_FLOOR)), np.nan
        )


def default_floors(
    building_type: pd.Series, area_m2: np.ndarray | pd.Series | None = None
) -> pd.Series:
    """Default floor count per building type (unknown types: ``other``).

    Parameters
    ----------
    building_type : Series
        Our building types.
    area_m2 : array-like, optional
        Footprints in m²; with them, ``residential`` and ``apartments``
        take their floors from :data:`FOOTPRINT_FLOORS`.

    Returns
    -------
    Series
        Floats, indexed like ``building_type``.
    """
    types = pd.Series(building_type)
    floors = types.map(DEFAULT_FLOORS).fillna(DEFAULT_FLOORS["other"]).astype(float)
    if area_m2 is None:
        return floors
    area = np.asarray(area_m2, dtype=float)
    bounds = np.array([b for b, _ in FOOTPRINT_FLOORS])
    by_footprint = np.array([f for _, f in FOOTPRINT_FLOORS], dtype=float)
    pick = by_footprint[np.minimum(np.searchsorted(bounds, area, side="right"), len(bounds) - 1)]
    footprint_typed = types.isin(FOOTPRINT_TYPES).to_numpy()
    return pd.Series(np.where(footprint_typed, pick, floors.to_numpy()), index=types.index)


def resolve_floors(
    levels: np.ndarray | pd.Series,
    height_m: np.ndarray | pd.Series,
    building_type: pd.Series,
    area_m2: np.ndarray | pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Floors of each building and where they come from: ``levels``, ``height`` or ``default``.

    Parameters
    ----------
    levels : array-like
        Floors given by the data (``building:levels``, 层数); NaN where absent.
    height_m : array-like
        Heights in metres; NaN where absent.
    building_type : Series
        Our building types, for defaults.
    area_m2 : array-like
        Footprints in m², for defaults.

    Returns
    -------
    floors : ndarray of float
    source : ndarray of str
    """
    lv = np.asarray(levels, dtype=float)
    from_height = floors_from_height(height_m)
    fallback = default_floors(
        pd.Series(building_type).reset_index(drop=True), np.asarray(area_m2, dtype=float)
    ).to_numpy()
    has_levels = np.isfinite(lv) & (lv > 0)
    has_height = ~has_levels & np.isfinite(from_height)
    floors = np.where(has_levels, lv, np.where(has_height, from_height, fallback))
    source = np.where(has_levels, "levels", np.where(has_height, "height", "default"))
    return floors.astype(float), source.astype(object)


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
        Floors; NaN or non-positive values take :func:`default_floors` (by
        type and footprint).
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
    fl = np.where(np.isfinite(fl) & (fl > 0), fl, default_floors(types, area).to_numpy())
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


def confidence_of(source: np.ndarray | pd.Series) -> np.ndarray:
    """``households_confidence`` for each ``households_source`` (unknown sources: low)."""
    return (
        pd.Series(np.asarray(source, dtype=object))
        .map(SOURCE_CONFIDENCE)
        .fillna("low")
        .to_numpy(dtype=object)
    )


def default_share(buildings: pd.DataFrame, labels: pd.Series | np.ndarray | None = None):
    """Share of households estimated from default floors, overall or per grid.

    Parameters
    ----------
    buildings : DataFrame
        With ``households`` and ``households_source`` (a frame without
        sources counts all its households as defaults).
    labels : array-like, optional
        Grid code (or any group label) per building, aligned with
        ``buildings`` by position; None or NaN labels are left out.

    Returns
    -------
    float or Series
        Without ``labels``, the share over all buildings (0.0 when there
        are no households); with them, a Series indexed by label. Shares
        above :data:`DEFAULT_SHARE_WARNING` deserve a warning
        (:func:`default_share_warnings`).
    """
    households = pd.Series(np.asarray(buildings["households"], dtype=float))
    if "households_source" in buildings.columns:
        sources = pd.Series(np.asarray(buildings["households_source"], dtype=object))
        from_defaults = households.where(sources.isin(DEFAULT_SOURCES), 0.0)
    else:
        from_defaults = households
    if labels is None:
        total = households.sum()
        return float(from_defaults.sum() / total) if total > 0 else 0.0
    frame = pd.DataFrame(
        {"label": np.asarray(labels, dtype=object), "all": households, "dflt": from_defaults}
    ).dropna(subset=["label"])
    sums = frame.groupby("label")[["all", "dflt"]].sum()
    share = (sums["dflt"] / sums["all"].where(sums["all"] > 0)).fillna(0.0)
    share.name = "default_share"
    share.index.name = None
    return share


def default_share_warnings(share: pd.Series, limit: float = DEFAULT_SHARE_WARNING) -> list[str]:
    """One warning per grid whose share of households from defaults exceeds ``limit``.

    Parameters
    ----------
    share : Series
        From :func:`default_share` with labels.
    limit : float
        The share above which to warn.
    """
    over = share[share > limit].sort_index()
    return [
        f"grid {code}: {value:.0%} of households are default estimates "
        "(no ledger, floors or height); check with the 社区's ledger"
        for code, value in over.items()
    ]


def plausibility_flags(
    households: np.ndarray | pd.Series,
    area_m2: np.ndarray | pd.Series,
    floors: np.ndarray | pd.Series,
    building_type: pd.Series,
) -> np.ndarray:
    """A reason per building whose households are implausible, else None.

    Flags residential buildings with households per 100 m² of floor area
    outside :data:`PLAUSIBLE_HOUSEHOLDS_PER_100M2`, residential footprints
    of :data:`BLOCK_OUTLINE_M2` or more (probably the outline of a block or
    compound, not one building), and more than :data:`MAX_RESIDENTIAL_FLOORS`
    floors (a typo in ``building:levels`` or ``height``, whose households are
    otherwise plausible per floor).

    Parameters
    ----------
    households, area_m2 : array-like
        Households and footprint areas (m²).
    floors : array-like
        Floors; NaN takes :func:`default_floors`.
    building_type : Series
        Our building types.

    Returns
    -------
    ndarray of object
        The reason (str) or None per building.
    """
    types = pd.Series(building_type).reset_index(drop=True).astype(object)
    hh = np.asarray(households, dtype=float)
    area = np.asarray(area_m2, dtype=float)
    fl = np.asarray(floors, dtype=float)
    fl = np.where(np.isfinite(fl) & (fl > 0), fl, default_floors(types, area).to_numpy())
    floor_area = area * fl
    residential = types.isin(list(RESIDENTIAL_SHARE)).to_numpy() & (types != "villa").to_numpy()
    low, high = PLAUSIBLE_HOUSEHOLDS_PER_100M2
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(floor_area > 0, hh * 100.0 / floor_area, np.nan)
    out = np.full(len(hh), None, dtype=object)
    for i in np.flatnonzero(residential & (hh > 0)):
        if fl[i] > MAX_RESIDENTIAL_FLOORS:
            out[i] = (
                f"{fl[i]:.0f} floors: more than any residential building has "
                f"(over {MAX_RESIDENTIAL_FLOORS}); a mistyped floor count or height?"
            )
        elif area[i] >= BLOCK_OUTLINE_M2:
            out[i] = (
                f"footprint {area[i]:,.0f} m² is larger than one residential building: "
                "a block or compound outline?"
            )
        elif not low <= density[i] <= high:
            out[i] = (
                f"{density[i]:.2f} households per 100 m² of floor area "
                f"(plausible {low}–{high}; {hh[i]:.0f} households on {floor_area[i]:,.0f} m²)"
            )
    return out
