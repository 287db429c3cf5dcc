"""Attributes of a read layer: our column names, ids, numbers, types and categories.

:func:`normalise_attributes` maps a file's columns (by their aliases) onto
the layer's columns, gives rows without an id one made of the file name and
row, refuses duplicate ids and bad numbers with the rows named, and turns
building types, road classes, compound kinds, facility categories and
administrative levels into the platform's values.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmgmt.core.layers import BUILDING_TYPES, FACILITY_CATEGORIES, WGS84
from gridmgmt.io import osm
from gridmgmt.io.errors import InputError, Problem
from gridmgmt.io.import_report import ImportReport
from gridmgmt.io.layer_vocabulary import (
    ALIASES,
    BUILDING_WORDS,
    CATEGORY_WORDS,
    ID_COLUMN,
    LEVEL_CODE_LENGTH,
    LEVEL_WORDS,
)
from gridmgmt.io.tabular import find_column


def normalise_attributes(
    frame: gpd.GeoDataFrame, path: Path, kind: str, report: ImportReport
) -> gpd.GeoDataFrame:
    """The layer with the platform's columns and values.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer with prepared geometries and its file row numbers (``_row``).
    path : Path
        The file, named in problems and in ids made for rows without one.
    kind : str
        The layer kind.
    report : ImportReport
        The import's report.

    Raises
    ------
    InputError
        Duplicate ids, numbers that are not numbers, negative or fractional
        counts, unknown administrative levels or malformed codes.
    """
    aliases = ALIASES[kind]
    data = {}
    for ours, names in aliases.items():
        col = ours if ours in frame.columns else find_column(frame, names)
        data[ours] = (
            frame[col].to_numpy(dtype=object) if col else np.full(len(frame), None, dtype=object)
        )
    for extra in ("osm_building",):
        if extra in frame.columns:
            data[extra] = frame[extra].to_numpy(dtype=object)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=WGS84)
    out["_row"] = frame["_row"].to_numpy()
    id_col = ID_COLUMN[kind]
    missing_id = pd.isna(out[id_col])
    if missing_id.any():
        out.loc[missing_id, id_col] = [f"{path.stem}:{r}" for r in out.loc[missing_id, "_row"]]
    out[id_col] = [str(v).strip() for v in out[id_col].tolist()]  # tolist: no per-item boxing
    dup = out[id_col].duplicated(keep=False)
    if dup.any():
        ids = sorted(set(out.loc[dup, id_col]))
        raise InputError(
            [
                Problem(
                    str(path),
                    f"duplicate id {i!r} (rows {', '.join(str(r) for r in out.loc[out[id_col] == i, '_row'])})",
                )
                for i in ids
            ]
        )
    normalise = {
        "buildings": _normalise_buildings,
        "roads": _normalise_roads,
        "compounds": _normalise_compounds,
        "facilities": _normalise_facilities,
        "boundaries": _normalise_boundaries,
    }[kind]
    return normalise(out, path)


def parse_numbers(out: pd.DataFrame, column: str, path: Path, *, integer: bool) -> pd.Series:
    """The numbers of ``out[column]`` (blank cells give NaN).

    Parameters
    ----------
    out : DataFrame
        Rows with their file row numbers in ``_row`` and their id first.
    column : str
        The column to read.
    path : Path
        The file, named in problems.
    integer : bool
        Whether the numbers must be whole.

    Raises
    ------
    InputError
        Cells that are not numbers, negative or (``integer``) not whole, each named.
    """
    raw = out[column]
    values = pd.to_numeric(raw, errors="coerce")
    problems = []
    unread = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
    blank = raw.iloc[unread].astype(str).str.strip() == ""  # only cells that did not parse
    for i in unread[~blank.to_numpy(dtype=bool)]:
        problems.append(
            Problem(
                str(path),
                f"{column} is not a number ({raw.iloc[i]!r})",
                int(out["_row"].iloc[i]),
                out.iloc[i, 0],
            )
        )
    for i in np.flatnonzero((values < 0).to_numpy()):
        problems.append(
            Problem(
                str(path),
                f"{column} is negative ({raw.iloc[i]})",
                int(out["_row"].iloc[i]),
                out.iloc[i, 0],
            )
        )
    if integer:
        frac = values.notna() & (values >= 0) & (values != np.floor(values.fillna(0)))
        for i in np.flatnonzero(frac.to_numpy()):
            problems.append(
                Problem(
                    str(path),
                    f"{column} is not a whole number ({raw.iloc[i]})",
                    int(out["_row"].iloc[i]),
                    out.iloc[i, 0],
                )
            )
    if problems:
        raise InputError(problems)
    return values


@functools.lru_cache(maxsize=4096)  # a file repeats a few words over many buildings
def _building_type(value, osm_value) -> str | None:
    for v in (value, osm_value):
        if not isinstance(v, str) or not v.strip():
            continue
        v = v.strip()
        if v in BUILDING_TYPES:
            return v
        if v in osm.BUILDING_TYPES:
            return osm.BUILDING_TYPES[v]
        for word, ours in BUILDING_WORDS.items():
            if word in v:
                return ours
    return None


def _normalise_buildings(out, path: Path):
    out["floors"] = parse_numbers(out, "floors", path, integer=False).to_numpy(dtype=float)
    out["_households_given"] = parse_numbers(out, "households", path, integer=True)
    out["_population_given"] = parse_numbers(out, "population", path, integer=True)
    osm_col = out["osm_building"] if "osm_building" in out.columns else pd.Series([None] * len(out))
    out["building_type"] = [
        _building_type(v, o)
        for v, o in zip(out["building_type"].tolist(), osm_col.tolist(), strict=True)
    ]
    out["name"] = out["name"].where(out["name"].notna(), None)
    return out


def _normalise_roads(out, path: Path):
    out["road_class"] = out["road_class"].fillna("unclassified").astype(str)
    return out.drop(columns=["_row"])


def _normalise_compounds(out, path: Path):
    kind = out["compound_kind"]
    # a "kind" column holding land use (park, commercial...) rather than residential/unit
    land_words = kind.where(kind.notna() & ~kind.isin(["residential", "unit"]))
    landuse = out["landuse"].fillna(land_words).fillna("residential").astype(str).str.strip()
    out["landuse"] = landuse
    derived = np.where(landuse.isin(["residential", "住宅", "居住"]), "residential", "unit")
    out["compound_kind"] = [
        k if k in ("residential", "unit") else d for k, d in zip(kind, derived, strict=True)
    ]
    return out.drop(columns=["_row"])


def _facility_category(value) -> str:
    if not isinstance(value, str) or not value.strip():
        return "other"
    v = value.strip()
    if v in FACILITY_CATEGORIES:
        return v
    for (_key, tag), cat in osm.FACILITY_TAGS.items():
        if v == tag:
            return cat
    for word, cat in CATEGORY_WORDS:
        if word in v:
            return cat
    return "other"


def _normalise_facilities(out, path: Path):
    out["category"] = [_facility_category(v) for v in out["category"]]
    return out.drop(columns=["_row"])


def _normalise_boundaries(out, path: Path):
    problems = []
    codes, levels, parents = [], [], []
    for i, (code, level, parent) in enumerate(
        zip(out["code"], out["level"], out["parent_code"], strict=True)
    ):
        row = int(out["_row"].iloc[i])
        code = str(code).strip()
        if not isinstance(level, str) or not level.strip():
            level = _level_of_code(code)
        if isinstance(level, str):
            level = LEVEL_WORDS.get(level.strip().lower(), level.strip())
        code = _short_code(code, level)
        if level not in LEVEL_CODE_LENGTH:
            problems.append(
                Problem(
                    str(path),
                    f"unknown level {level!r}: expected district/street/community (区/街道/社区; "
                    "county/town/village as the statistics bureau writes them)",
                    row,
                    code,
                )
            )
        elif not (code.isdigit() and len(code) == LEVEL_CODE_LENGTH[level]):
            problems.append(
                Problem(
                    str(path),
                    f"a {level} code must be {LEVEL_CODE_LENGTH[level]} digits, got {code!r}",
                    row,
                    code,
                )
            )
        levels.append(level)
        above = {"street": "district", "community": "street"}.get(level)
        if not isinstance(parent, str) or not parent.strip():
            parent = code[: LEVEL_CODE_LENGTH[above]] if above else None
        elif above:
            parent = _short_code(parent.strip(), above)
        parents.append(parent)
        codes.append(code)
    if problems:
        raise InputError(problems)
    out["code"], out["level"], out["parent_code"] = codes, levels, parents
    return out.drop(columns=["_row"])


def _level_of_code(code: str) -> str | None:
    """The level a code's length says, or the statistics bureau's 12-digit form's zeros."""
    if len(code) == 12 and code.isdigit():
        return (
            "district" if code[6:] == "000000" else "street" if code[9:] == "000" else "community"
        )
    return {6: "district", 9: "street", 12: "community"}.get(len(code))


def _short_code(code: str, level: str) -> str:
    """``code`` in our length for ``level``: the statistics bureau writes every level in 12
    digits, zero-padded (街道 ``330106001000`` is ``330106001``)."""
    length = LEVEL_CODE_LENGTH.get(level)
    if length and len(code) == 12 and code.isdigit() and set(code[length:]) <= {"0"}:
        return code[:length]
    return code
