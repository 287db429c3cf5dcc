"""Importing hotline (12345) and other incident exports: CSV or XLSX, all rows or none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.incidents.service import SOURCES, report_incident

COLUMNS = {
    "category_code": ("category_code", "类别编码", "小类编码", "category"),
    "description": ("description", "问题描述", "描述", "内容"),
    "address": ("address", "地址", "事发地址"),
    "source": ("source", "来源"),
    "reported_at": ("reported_at", "上报时间", "受理时间", "time"),
    "external_id": ("external_id", "工单号", "编号", "id"),
    "urgent": ("urgent", "紧急"),
}


def import_incidents(
    repo, path: str | Path, *, coords: str = "wgs84", reporter: str = "import"
) -> list[dict]:
    """Report every row of a CSV/XLSX export; any bad row stops the import with all problems listed.

    Rows need a category code, a description and lon/lat (经度/纬度, any of
    the importer's coordinate systems); the work-order number, if present,
    is the idempotency key, so importing the same export twice adds nothing.
    """
    from gridmgmt.core.coords import to_wgs84
    from gridmgmt.io.errors import InputError, Problem
    from gridmgmt.io.tabular import FIRST_ROW, LAT_NAMES, LON_NAMES, find_column, read_table

    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found")
    table = read_table(path)
    cols = {k: find_column(table, names) for k, names in COLUMNS.items()}
    lon_col, lat_col = find_column(table, LON_NAMES), find_column(table, LAT_NAMES)
    missing = [k for k in ("category_code", "description") if cols[k] is None]
    if missing:
        raise InputError.single(path, f"missing column(s): {', '.join(missing)}")
    problems, rows = [], []
    for i, row in table.iterrows():
        n = int(i) + FIRST_ROW
        code = (
            str(row[cols["category_code"]]).strip().zfill(5)
            if pd.notna(row[cols["category_code"]])
            else ""
        )
        if repo.category(code) is None:
            problems.append(Problem(str(path), f"unknown category {code!r}", n))
            continue
        desc = row[cols["description"]]
        if pd.isna(desc) or not str(desc).strip():
            problems.append(Problem(str(path), "description is empty", n))
            continue
        lon = pd.to_numeric(row[lon_col], errors="coerce") if lon_col else float("nan")
        lat = pd.to_numeric(row[lat_col], errors="coerce") if lat_col else float("nan")
        if pd.notna(lon) and pd.notna(lat):
            x, y = to_wgs84(lon, lat, coords)
            lon, lat = float(x), float(y)
        else:
            lon = lat = None
        source = (
            str(row[cols["source"]]).strip()
            if cols["source"] and pd.notna(row[cols["source"]])
            else "12345热线"
        )
        if source not in SOURCES:
            problems.append(Problem(str(path), f"unknown source {source!r}", n))
            continue
        when = None
        if cols["reported_at"] and pd.notna(row[cols["reported_at"]]):
            when = pd.to_datetime(row[cols["reported_at"]], errors="coerce")
            if pd.isna(when):
                problems.append(
                    Problem(str(path), f"unreadable time {row[cols['reported_at']]!r}", n)
                )
                continue
            when = when.to_pydatetime()
            when = when.replace(tzinfo=SHANGHAI) if when.tzinfo is None else when
        key = (
            f"{path.stem}:{row[cols['external_id']]}"
            if cols["external_id"] and pd.notna(row[cols["external_id"]])
            else None
        )
        urgent = bool(
            cols["urgent"]
            and str(row[cols["urgent"]]).strip() in ("1", "是", "true", "True", "紧急")
        )
        rows.append(
            dict(
                category_code=code,
                description=str(desc).strip(),
                lon=lon,
                lat=lat,
                source=source,
                urgent=urgent,
                address=str(row[cols["address"]])
                if cols["address"] and pd.notna(row[cols["address"]])
                else None,
                idempotency_key=key,
                now=when or datetime.now(UTC),
            )
        )
    if problems:
        raise InputError(problems)
    return [report_incident(repo, reporter=reporter, role="supervisor", **r)[0] for r in rows]
