"""Household changes (户数变动) of stored buildings: ``gridmgmt households update``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import band_options


@click.group()
def households():
    """Household changes (户数变动) of stored buildings."""


@command("update", households)
@click.argument("ledger", type=click.Path(dir_okay=False))
@band_options()
def households_update(obj: Context, ledger, min_households, max_households):
    """Write a household ledger (CSV/XLSX: building id, households[, population]).

    Updates the buildings and their grids' totals, lists the grids whose
    totals changed and those now out of band, with the command that
    rebalances their 社区.
    """
    from gridmgmt.domain.households import apply_ledger
    from gridmgmt.io.readers import read_ledger

    outcome = apply_ledger(
        obj.store,
        read_ledger(ledger),
        min_households=min_households,
        max_households=max_households,
    )
    click.echo(f"{outcome.buildings} buildings updated; {len(outcome.grids)} grids changed")
    for r in outcome.grids.itertuples():
        mark = "  out of band" if r.flag == "out_of_band" else ""
        click.echo(f"  {r.code}: {r.before} -> {r.after} households{mark}")
    for community in sorted(set(outcome.out_of_band["community_code"])):
        click.echo(f"rebalance with: gridmgmt rebalance --community {community}")
