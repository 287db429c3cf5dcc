"""Tables printed by the commands: numbers written with a format, missing values as "-".

:func:`format_columns` writes chosen columns with a format specification
(``".1%"``, ``".1f"``, ``"+.1f"``...), a missing value (NaN) as ``"-"``;
:func:`kpi_table` does so for the KPI columns of the incident loop (rates as
percentages, hours to one decimal) and gives the Chinese headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MISSING = "-"
HOURS_FORMAT = ".1f"
RATE_FORMAT = ".1%"


def formatted(value, spec: str) -> str:
    """``value`` written with the format ``spec``; ``"-"`` for NaN."""
    return MISSING if value != value else format(value, spec)


def format_columns(table: pd.DataFrame, specs: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``table`` with each column named in ``specs`` written with its format.

    Parameters
    ----------
    table : pandas.DataFrame
        The numbers.
    specs : mapping
        Column -> format specification, e.g. ``{"compliance": ".0%"}``;
        columns ``table`` lacks are skipped.

    Returns
    -------
    pandas.DataFrame
        The table with those columns as strings, NaN as ``"-"``.
    """
    shown = table.copy()
    for col, spec in specs.items():
        if col in shown.columns:
            shown[col] = shown[col].map(lambda v, s=spec: formatted(v, s))
    return shown


def kpi_table(table: pd.DataFrame) -> pd.DataFrame:
    """A KPI-like table with rates as percentages, hours to one decimal and Chinese headers."""
    from gridmgmt.domain.report_labels import RATES, label

    specs = dict.fromkeys(RATES, RATE_FORMAT) | {"mean_handling_hours": HOURS_FORMAT}
    return format_columns(table, specs).rename(columns=label)
