"""Options several commands share, and the reading of the period they give.

Each ``*_option(s)`` function returns a decorator adding the options in the
order they appear in ``--help``:

- :func:`coords_option`: ``--coords`` (coordinate system of input files);
- :func:`seed_option`: ``--seed``;
- :func:`band_options`: ``--min``/``--max``, the household band of a grid;
- :func:`constraint_layer_options`: ``--roads``/``--compounds``/``--zones``,
  the files a partition must follow;
- :func:`area_options`: ``--street``/``--community``/``--grid``, the area of
  a report or export (read with :func:`area_scope`);
- :func:`period_options`: ``--from``/``--to`` (read with
  :func:`period_from_options`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

import click

COORDINATE_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
PERIOD_START_HELP = "Period start, e.g. 2026-11-01."
PERIOD_START_LOCAL_HELP = "Period start, e.g. 2026-11-01 (Asia/Shanghai)."
PERIOD_HINT = "--from/--to"

F = TypeVar("F", bound=Callable)


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying ``decorators`` so that the first is the topmost."""

    def decorate(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


def coords_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--coords``: the coordinate system of an input file (default wgs84)."""
    return click.option(
        "--coords",
        type=click.Choice(COORDINATE_SYSTEMS),
        default="wgs84",
        show_default=True,
        help=help_text,
    )


def crs_option() -> Callable[[F], F]:
    """``--crs``: the CRS of an input file that declares none (a GeoParquet with crs: null)."""
    return click.option(
        "--crs",
        default=None,
        help="CRS of a file that declares none (a GeoParquet file with crs: null), e.g. EPSG:4326.",
    )


def seed_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--seed``: the random seed (default 0)."""
    return click.option("--seed", default=0, show_default=True, type=int, help=help_text)


def executor_options() -> Callable[[F], F]:
    """``--workers N`` / ``--scheduler ADDRESS``: run per-社区 work on Dask (default: serial)."""
    return _stack(
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Run each 社区 as a task on a Dask LocalCluster of N processes "
            "(needs the 'dask' extra; default: one 社区 after another in this process).",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Use a running Dask scheduler (e.g. tcp://host:8786) instead of a local cluster.",
        ),
    )


def band_options() -> Callable[[F], F]:
    """``--min``/``--max``: the household band of a grid, as ``min_households``/``max_households``."""
    return _stack(
        click.option("--min", "min_households", default=250, show_default=True, type=int),
        click.option("--max", "max_households", default=500, show_default=True, type=int),
    )


def constraint_layer_options() -> Callable[[F], F]:
    """``--roads``/``--compounds``/``--zones``: files whose lines and polygons grids follow."""
    return _stack(
        click.option(
            "--roads", type=click.Path(exists=True, dir_okay=False), help="Road centre lines file."
        ),
        click.option(
            "--compounds",
            type=click.Path(exists=True, dir_okay=False),
            help="小区/单位 enclosures file.",
        ),
        click.option(
            "--zones",
            type=click.Path(exists=True, dir_okay=False),
            help="Zones grids must not cross.",
        ),
    )


def area_options() -> Callable[[F], F]:
    """``--street``/``--community``/``--grid``: the area of a report or export."""
    return _stack(
        click.option("--street", default=None, help="街道 name or 9-digit code."),
        click.option("--community", default=None, help="社区 name or 12-digit code."),
        click.option(
            "--grid",
            "grid_codes",
            multiple=True,
            help="Grid code; repeatable (default: all grids).",
        ),
    )


def area_scope(street: str | None, community: str | None, grid_codes: Iterable[str]) -> dict:
    """The keyword arguments ``street``/``community``/``grids`` of an area use case."""
    return {"street": street, "community": community, "grids": list(grid_codes) or None}


def period_options(
    *, required: bool = True, start_help: str = PERIOD_START_HELP
) -> Callable[[F], F]:
    """``--from``/``--to`` as ``start``/``end`` (the end exclusive).

    Parameters
    ----------
    required : bool
        Whether both must be given; otherwise both or neither.
    start_help : str
        Help text of ``--from``.
    """
    return _stack(
        click.option("--from", "start", required=required, default=None, help=start_help),
        click.option(
            "--to", "end", required=required, default=None, help="Period end (exclusive)."
        ),
    )


def period_from_options(
    start: str | None, end: str | None
) -> tuple[datetime, datetime] | tuple[None, None]:
    """The aware Asia/Shanghai period of ``--from``/``--to``; ``(None, None)`` when both are absent.

    Raises
    ------
    click.BadParameter
        Only one of the two given, a date that cannot be read, or a start
        not before the end (see :func:`gridmgmt.core.periods.parse_period`).
    """
    from gridmgmt.core.periods import PeriodError, parse_period

    try:
        return parse_period(start, end)
    except PeriodError as err:
        raise click.BadParameter(str(err), param_hint=PERIOD_HINT) from err
