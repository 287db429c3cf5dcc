"""Incident categories as data (``gridmgmt/data/categories.csv``).

A category code has 5 digits: a 2-digit 大类 and a 3-digit 小类. Two
families: 部件 (city components, 大类 01–05 after CJ/T 214: 市政公用设施,
交通设施, 市容环境设施, 园林绿化设施, 其他设施) and 事件 (events, 大类 numbered
from 11 so the two families never share a 大类 code: 市容环境, 宣传广告,
施工管理, 突发事件, 街面秩序, and the community-governance classes
矛盾纠纷, 治安隐患, 民生服务, 特殊人群, 安全生产/消防). Each row names the
default responsible department and the time limits of the stages: 立案
(register) and 派遣 (dispatch) in minutes, 处置 (handle) in minutes,
working hours or working days (normal and urgent), 核查 (verify) in minutes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

UNITS = ("minutes", "working_hours", "working_days")
FAMILIES = ("部件", "事件")


@dataclass(frozen=True)
class Category:
    """One 小类 with its department and stage time limits."""

    code: str
    family: str
    major_code: str
    major_name: str
    name: str
    name_en: str
    department: str
    register_min: int
    dispatch_min: int
    handle_limit: int
    handle_unit: str
    urgent_handle_limit: int
    urgent_handle_unit: str
    verify_min: int
    photo_required: bool

    def handle_deadline(self, urgent: bool = False) -> tuple[int, str]:
        """(amount, unit) allowed for 处置 at this urgency."""
        return (
            (self.urgent_handle_limit, self.urgent_handle_unit)
            if urgent
            else (self.handle_limit, self.handle_unit)
        )


class CategoryCatalog:
    """All categories, looked up by code, family or 大类."""

    def __init__(self, categories: list[Category]):
        self._by_code = {c.code: c for c in categories}

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self):
        return iter(self._by_code.values())

    def get(self, code: str) -> Category:
        """The category with ``code``; ``KeyError`` with a clear message otherwise."""
        try:
            return self._by_code[str(code)]
        except KeyError:
            raise KeyError(f"unknown incident category {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return str(code) in self._by_code

    def family(self, family: str) -> list[Category]:
        return [c for c in self if c.family == family]

    def majors(self, family: str | None = None) -> dict[str, str]:
        """大类 code -> name (optionally of one family), in code order."""
        out = {}
        for c in sorted(self, key=lambda c: c.code):
            if family is None or c.family == family:
                out.setdefault(c.major_code, c.major_name)
        return out

    def minors(self, major_code: str) -> list[Category]:
        return sorted((c for c in self if c.major_code == major_code), key=lambda c: c.code)


def load_categories(path: str | Path | None = None) -> CategoryCatalog:
    """Read and validate the category table (default: the packaged CSV).

    Raises ``ValueError`` naming the CSV row for a malformed code, a 小类 that
    does not start with its 大类's digits, an unknown family or unit,
    non-positive limits, or a duplicate code.
    """
    if path is None:  # the packaged table never changes while the program runs: read once
        return packaged_categories()
    return parse_categories(Path(path).read_text(encoding="utf-8-sig"), Path(path).name)


@lru_cache(maxsize=1)
def packaged_categories() -> CategoryCatalog:
    """The packaged category table (``gridmgmt/data/categories.csv``), read and checked once."""
    text = resources.files("gridmgmt").joinpath("data/categories.csv").read_text(encoding="utf-8")
    return parse_categories(text, "categories.csv")


def parse_categories(text: str, name: str) -> CategoryCatalog:
    """A category table's CSV ``text`` (from a file called ``name``) read and checked
    (see :func:`load_categories`)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    categories, seen, majors = [], set(), {}
    for n, row in enumerate(rows, start=2):
        where = f"{name}, row {n}"
        code = (row.get("code") or "").strip()
        if not (code.isdigit() and len(code) == 5):
            raise ValueError(f"{where}: category code must be 5 digits, got {code!r}")
        if code in seen:
            raise ValueError(f"{where}: duplicate category code {code}")
        seen.add(code)
        family = row["family"].strip()
        if family not in FAMILIES:
            raise ValueError(f"{where}: family must be 部件 or 事件, got {family!r}")
        major = code[:2]
        if (family == "部件") != (int(major) <= 10):
            raise ValueError(
                f"{where}: 部件 大类 are 01–10 and 事件 大类 11 and above, got {major} for {family}"
            )
        if majors.setdefault(major, row["major_name"].strip()) != row["major_name"].strip():
            raise ValueError(f"{where}: 大类 {major} is named {majors[major]!r} elsewhere")
        try:
            limits = {
                k: int(row[k])
                for k in (
                    "register_min",
                    "dispatch_min",
                    "handle_limit",
                    "urgent_handle_limit",
                    "verify_min",
                )
            }
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: time limits must be whole numbers ({err})") from err
        if any(v <= 0 for v in limits.values()):
            raise ValueError(f"{where}: time limits must be positive")
        for unit_col in ("handle_unit", "urgent_handle_unit"):
            if row[unit_col].strip() not in UNITS:
                raise ValueError(f"{where}: {unit_col} must be one of {', '.join(UNITS)}")
        categories.append(
            Category(
                code=code,
                family=family,
                major_code=major,
                major_name=row["major_name"].strip(),
                name=row["name"].strip(),
                name_en=row["name_en"].strip(),
                department=row["department"].strip(),
                handle_unit=row["handle_unit"].strip(),
                urgent_handle_unit=row["urgent_handle_unit"].strip(),
                photo_required=row["photo_required"].strip().lower() in ("yes", "true", "1", "是"),
                **limits,
            )
        )
    return CategoryCatalog(categories)
