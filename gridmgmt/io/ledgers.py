"""Reading household ledgers (户数台账) from CSV (UTF-8, GBK, UTF-16) or XLSX.

Three kinds, told apart by their columns (case-insensitive, Chinese or English):

============  ==========================================================  =====================
kind          key columns                                                 households column
============  ==========================================================  =====================
building      building_id / 建筑编号 / 楼栋编号 (or id / 编号 alone)        households / 户数
compound      小区 / 小区名称 / 小区编号 / compound / compound_name / 楼盘  总户数 / 户数 / households
address       street / 路名 / 街路巷 + housenumber / 门牌号, or 地址 alone   户数 / households;
                                                                          without it each row is
                                                                          one household
============  ==========================================================  =====================

A population column (population / 人口) is optional for building ledgers.
:func:`read_household_ledger` returns the rows with their spreadsheet row
numbers; :mod:`gridmgmt.core.household_ledgers` matches them to buildings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gridmgmt.core.addresses import split_address
from gridmgmt.io.attributes import parse_numbers
from gridmgmt.io.errors import InputError
from gridmgmt.io.layer_vocabulary import ALIASES
from gridmgmt.io.tabular import FIRST_ROW, find_column, read_table

#: columns that name a building id without doubt
BUILDING_ID_NAMES = ("building_id", "建筑编号", "楼栋编号", "osm_id")
#: columns that name a 小区 (by name or id)
COMPOUND_NAMES = (
    "compound",
    "compound_name",
    "compound_id",
    "小区",
    "小区名称",
    "小区名",
    "小区编号",
    "楼盘",
    "楼盘名称",
    "项目名称",
)
STREET_NAMES = ("street", "addr_street", "addr:street", "路名", "街路巷", "街巷", "道路名称")
NUMBER_NAMES = (
    "housenumber",
    "house_number",
    "addr_housenumber",
    "addr:housenumber",
    "门牌号",
    "门牌",
    "门牌号码",
)
ADDRESS_NAMES = ("address", "地址", "门牌地址", "住址")
HOUSEHOLD_NAMES = (*ALIASES["buildings"]["households"], "总户数", "户数合计", "total_households")


@dataclass(frozen=True)
class HouseholdLedger:
    """The rows of one ledger file.

    ``rows`` holds ``households``, ``row`` (spreadsheet row number) and the
    key: ``building_id`` (and ``population`` if given); ``compound``; or
    ``street`` and ``housenumber``.
    """

    path: Path
    kind: str  # "building" | "compound" | "address"
    rows: pd.DataFrame
    encoding: str

    def describe(self) -> str:
        """``台账.csv: compound ledger, 12 rows (gb18030)``."""
        return f"{self.path.name}: {self.kind} ledger, {len(self.rows)} rows ({self.encoding})"


def read_household_ledger(path: str | Path) -> HouseholdLedger:
    """A ledger of any kind, its kind told from its columns.

    Raises
    ------
    InputError
        Missing file; no key or households column (the columns expected are
        named); counts missing, not numbers, negative or fractional (rows
        named); duplicate building ids or 小区.
    """
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "ledger file not found")
    table = read_table(path)
    encoding = str(table.attrs.get("encoding", ""))
    table["_row"] = np.arange(len(table)) + FIRST_ROW
    building_col = find_column(table, BUILDING_ID_NAMES)
    compound_col = find_column(table, COMPOUND_NAMES)
    street_col, number_col = find_column(table, STREET_NAMES), find_column(table, NUMBER_NAMES)
    address_col = find_column(table, ADDRESS_NAMES)
    hh_col = find_column(table, HOUSEHOLD_NAMES)
    no_other_key = compound_col is None and not (street_col and number_col) and not address_col
    if building_col is None and no_other_key:
        building_col = find_column(table, ALIASES["buildings"]["building_id"])
    if building_col:
        kind, keys = "building", {"building_id": _text(table[building_col])}
    elif compound_col:
        kind, keys = "compound", {"compound": _text(table[compound_col])}
    elif street_col and number_col:
        kind = "address"
        keys = {"street": _text(table[street_col]), "housenumber": _text(table[number_col])}
    elif address_col:
        kind = "address"
        split = [split_address(a) for a in table[address_col]]
        keys = {"street": [s for s, _ in split], "housenumber": [n for _, n in split]}
    else:
        raise InputError.single(
            path,
            "a ledger needs a key column: building id (id/编号/楼栋编号), 小区 (小区名称/小区编号) "
            "or address (路名 + 门牌号, or 地址); columns found: " + ", ".join(table.columns[:-1]),
        )
    rows = pd.DataFrame(keys)
    rows.insert(0, "_row", table["_row"].to_numpy())
    if hh_col is None and kind == "address":
        rows["households"] = 1
    elif hh_col is None:
        raise InputError.single(
            path,
            f"a {kind} ledger needs a households column (households/户数/总户数); "
            "columns found: " + ", ".join(table.columns[:-1]),
        )
    else:
        rows["households"] = table[hh_col].to_numpy()
    rows = rows[[c for c in rows.columns if c != "households"] + ["households"]]
    first = rows.columns[1]
    ordered = rows[[first, *[c for c in rows.columns if c != first]]]
    households = parse_numbers(ordered, "households", path, integer=True)
    if households.isna().any():
        shown = ", ".join(str(r) for r in rows.loc[households.isna(), "_row"][:10])
        raise InputError.single(path, f"households missing in row(s) {shown}")
    rows["households"] = households.astype(np.int64)
    if kind in ("building", "compound"):
        key = rows[first]
        dup = key.duplicated(keep=False)
        if dup.any():
            what = "building id(s)" if kind == "building" else "小区"
            raise InputError.single(
                path, f"duplicate {what} in the ledger: {', '.join(sorted(set(key[dup])))}"
            )
    if kind == "building":
        pop_col = find_column(table, ALIASES["buildings"]["population"])
        if pop_col:
            ordered = ordered.assign(population=table[pop_col].to_numpy())
            rows["population"] = parse_numbers(ordered, "population", path, integer=True)
    rows = rows.rename(columns={"_row": "row"}).reset_index(drop=True)
    return HouseholdLedger(path, kind, rows, encoding)


def _text(column: pd.Series) -> list[str]:
    out = []
    for v in column:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append("" if pd.isna(v) else str(v).strip())
    return out
