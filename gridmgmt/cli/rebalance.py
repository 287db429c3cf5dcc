"""``gridmgmt rebalance``: grids back into the household band with minimal change.

On files (GRIDS ``--buildings`` ``--out``) or on a stored 社区
(``--community``), where the result is a proposal (see ``gridmgmt grids``).
"""

from __future__ import annotations

from pathlib import Path

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import (
    band_options,
    constraint_layer_options,
    coords_option,
    executor_options,
    seed_option,
)


def run_stored_rebalance(
    obj: Context,
    community: str,
    *,
    approve: bool = False,
    locked=(),
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    balance_workload: int | None = None,
    keep_compounds: bool = False,
) -> None:
    """Rebalance a stored 社区 into a proposal; print its report and id (approve with ``approve``).

    Parameters
    ----------
    obj : Context
        The invocation's context (its store).
    community : str
        社区 name or code.
    approve : bool
        Approve the proposal at once.
    locked : iterable of str
        Grid codes that must not change.
    min_households, max_households : int
        The household band.
    seed : int
        Random seed of the partitioner.
    balance_workload : int, optional
        Also even out the workload of the last that many days.
    keep_compounds : bool
        Never divide a compound that fits one grid.
    """
    from datetime import datetime, timedelta

    from gridmgmt.core.periods import SHANGHAI
    from gridmgmt.domain.rebalancing import rebalance_stored
    from gridmgmt.store.proposals import ProposalStore

    steps = iter(range(1, 10))
    now = datetime.now(SHANGHAI)
    outcome = rebalance_stored(
        obj.store,
        ProposalStore(obj.store),
        community,
        author="cli",
        approve=approve,
        locked=tuple(locked),
        min_households=min_households,
        max_households=max_households,
        seed=seed,
        balance_workload=None if not balance_workload else (now - timedelta(balance_workload), now),
        progress=lambda msg: click.echo(f"[{next(steps)}] {msg}", err=True),
        split_compounds=not keep_compounds,
    )
    click.echo(outcome.draft.report.get("text", ""))
    moved = outcome.draft.moves
    click.echo(
        f"proposal {outcome.proposal_id}: {len(moved)} buildings, "
        f"{int(moved['households'].sum()) if len(moved) else 0} households move"
    )
    if outcome.version is not None:
        click.echo(
            f"approved: 社区 {outcome.draft.state.code} is now at grid version {outcome.version}"
        )
    else:
        click.echo(f"pending; approve with: gridmgmt grids approve {outcome.proposal_id}")


def run_all_rebalance(
    obj: Context,
    *,
    approve: bool,
    locked,
    min_households: int,
    max_households: int,
    seed: int,
    balance_workload: int | None,
    keep_compounds: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Rebalance every 社区 with grids (``rebalance --all``); exit 1 when any failed."""
    from datetime import datetime, timedelta

    from gridmgmt.cli.partitioning import finish_batch
    from gridmgmt.core.periods import SHANGHAI
    from gridmgmt.domain.rebalance_all import rebalance_all
    from gridmgmt.store.proposals import ProposalStore

    now = datetime.now(SHANGHAI)
    run = rebalance_all(
        obj.store,
        ProposalStore(obj.store),
        approve=approve,
        locked=tuple(locked),
        min_households=min_households,
        max_households=max_households,
        seed=seed,
        balance_workload=None if not balance_workload else (now - timedelta(balance_workload), now),
        split_compounds=not keep_compounds,
        workers=workers,
        scheduler=scheduler,
    )
    for code, outcome in run.outcomes.items():
        moved = outcome.draft.moves
        state = "approved: version " + str(outcome.version) if outcome.version else "pending"
        click.echo(
            f"{outcome.draft.state.name} ({code}): proposal {outcome.proposal_id}, "
            f"{len(moved)} buildings move; {state}"
        )
    finish_batch(run.summary(), failed=bool(run.failures))


@command("rebalance")
@click.argument("grids_path", metavar="GRIDS", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--buildings",
    "buildings_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Updated buildings (any importable format).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="GeoPackage to write (grids, buildings, moves)."
)
@constraint_layer_options()
@band_options()
@click.option("--lock", "locked", multiple=True, help="Grid code that must not change; repeatable.")
@click.option(
    "--used-code",
    "used_codes",
    multiple=True,
    help="A code used before in the 社区 (never reused); repeatable.",
)
@seed_option()
@coords_option()
@click.option("--community", default=None, help="Rebalance a stored 社区 (name or code).")
@click.option(
    "--all",
    "all_communities",
    is_flag=True,
    help="Rebalance every 社区 that has grids, each as one task (see --workers).",
)
@click.option(
    "--approve", is_flag=True, help="With --community/--all: approve the proposal(s) at once."
)
@click.option(
    "--balance-workload",
    "balance_workload",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    help="With --community: also even out the workload of the last DAYS days between neighbours.",
)
@click.option(
    "--keep-compounds",
    is_flag=True,
    help="Never divide a compound that fits one grid, even if a grid then stays out of band "
    "(default: divided as the last resort, listed in the report).",
)
@executor_options()
def rebalance_cmd(
    obj: Context,
    grids_path,
    buildings_path,
    out,
    roads,
    compounds,
    zones,
    min_households,
    max_households,
    locked,
    used_codes,
    seed,
    coords,
    community,
    all_communities,
    approve,
    balance_workload,
    keep_compounds,
    workers,
    scheduler,
):
    """Bring grids back into the household band with minimal change: files (GRIDS --buildings
    --out) or a stored 社区 (--community, as a proposal) or all of them (--all)."""
    if all_communities:
        run_all_rebalance(
            obj,
            approve=approve,
            locked=locked,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            balance_workload=balance_workload,
            keep_compounds=keep_compounds,
            workers=workers,
            scheduler=scheduler,
        )
        return
    if workers or scheduler:
        raise click.UsageError("--workers/--scheduler work with --all")
    if community:
        run_stored_rebalance(
            obj,
            community,
            approve=approve,
            locked=locked,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            balance_workload=balance_workload,
            keep_compounds=keep_compounds,
        )
        return
    if balance_workload:
        raise click.UsageError("--balance-workload works on a stored 社区: give --community")
    if not (grids_path and buildings_path and out):
        raise click.UsageError("give GRIDS, --buildings and --out, or --community NAME")
    if not Path(grids_path).exists():
        raise click.BadParameter(f"{grids_path} does not exist", param_hint="GRIDS")
    from gridmgmt.domain.rebalance_files import rebalance_files

    click.echo(f"rebalancing {grids_path} for {buildings_path} ...", err=True)
    result = rebalance_files(
        grids_path,
        buildings_path,
        out,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
        used_codes=used_codes,
        seed=seed,
        coords=coords,
        split_compounds=not keep_compounds,
    )
    click.echo(str(result.report))
    click.echo(f"written: {out} (layers grids, buildings, moves)")
