"""Household changes (户数变动) of stored buildings: ``gridmgmt households update``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import band_options
from gridmgmt.core.flags import has_flag

#: unmatched ledger rows and implausible buildings spelled out
LISTED = 20


@click.group()
def households():
    """Household changes (户数变动) of stored buildings."""


@command("update", households)
@click.argument("ledger", type=click.Path(dir_okay=False))
@band_options()
def households_update(obj: Context, ledger, min_households, max_households):
    """Write a household ledger (CSV in UTF-8/GBK, or XLSX) onto the stored buildings.

    The ledger gives households per building id (编号, 户数[, 人口]), per
    小区 (小区名称 or 小区编号, 总户数: split over the 小区's buildings by
    floor area) or per address (路名 + 门牌号, or 地址, with 户数; a ledger
    without 户数 counts one household per row). Updates the buildings and
    their grids' totals, lists the ledger rows that matched no building,
    the grids whose totals changed and those now out of band, with the
    command that rebalances their 社区.
    """
    from gridmgmt.domain.households import apply_ledger
    from gridmgmt.io.ledgers import read_household_ledger

    read = read_household_ledger(ledger)
    click.echo(read.describe())
    outcome = apply_ledger(
        obj.store, read, min_households=min_households, max_households=max_households
    )
    click.echo(f"{outcome.buildings} buildings updated; {len(outcome.grids)} grids changed")
    if len(outcome.unmatched):
        click.echo(f"{len(outcome.unmatched)} ledger row(s) matched no building:")
        for r in outcome.unmatched.head(LISTED).itertuples():
            click.echo(f"  row {r.row}: {r.key} ({r.households} households): {r.reason}")
        if len(outcome.unmatched) > LISTED:
            click.echo(f"  ... and {len(outcome.unmatched) - LISTED} more")
    for r in outcome.implausible.head(LISTED).itertuples():
        click.echo(f"  check {r.building_id}: {r.reason}")
    for r in outcome.grids.itertuples():
        mark = "  out of band" if has_flag(r.flag, "out_of_band") else ""
        click.echo(f"  {r.code}: {r.before} -> {r.after} households{mark}")
    for community in sorted(set(outcome.out_of_band["community_code"])):
        click.echo(f"rebalance with: gridmgmt rebalance --community {community}")
