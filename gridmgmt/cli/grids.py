"""Grid versions, change proposals and rollback of stored 社区: ``gridmgmt grids ...``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command


def _proposals(obj: Context):
    from gridmgmt.store.proposals import ProposalStore

    return ProposalStore(obj.store)


@click.group()
def grids():
    """Grid versions, change proposals and rollback of stored 社区."""


@command("history", grids)
@click.option("--community", required=True, help="社区 name or 12-digit code.")
def grids_history(obj: Context, community):
    """Every grid version of a 社区 and the proposal that produced it."""
    code = obj.store.community(community)["code"]
    for v in _proposals(obj).grid_versions(code):
        source = (
            f"proposal {v['proposal_id']} ({v['proposal_kind']}, by {v['author']}, "
            f"approved by {v['decided_by']})"
            if v["proposal_id"]
            else "partition"
        )
        state = "current" if v["valid_to"] is None else f"until {v['valid_to']:%Y-%m-%d %H:%M} UTC"
        click.echo(
            f"v{v['version']}: {v['grids']} grids, {v['households']} households, "
            f"from {v['valid_from']:%Y-%m-%d %H:%M} UTC, {state}; {source}"
        )


@command("proposals", grids)
@click.option("--community", default=None, help="社区 name or code; default all.")
@click.option(
    "--status",
    default=None,
    type=click.Choice(["pending", "approved", "rejected", "superseded"]),
)
def grids_proposals(obj: Context, community, status):
    """List grid change proposals, newest first."""
    code = obj.store.community(community)["code"] if community else None
    rows = _proposals(obj).proposals(code, status=status)
    if not rows:
        click.echo("no proposals")
    for p in rows:
        made = f" -> v{p['result_version']}" if p["result_version"] else ""
        click.echo(
            f"#{p['id']} {p['community_name']} ({p['community_code']}) {p['kind']} {p['status']}{made}: "
            f"base v{p['base_version']}, {p['buildings_moved']} buildings / "
            f"{p['households_moved']} households, by {p['author']}"
        )


@command("approve", grids)
@click.argument("proposal_id", type=int)
@click.option("--by", "decided_by", default="cli", show_default=True, help="Who approves.")
def grids_approve(obj: Context, proposal_id, decided_by):
    """Approve a pending proposal: it becomes the 社区's next grid version."""
    from gridmgmt.domain.rebalancing import approve_proposal, retired_grid_workers

    version = approve_proposal(obj.store, _proposals(obj), proposal_id, decided_by=decided_by)
    click.echo(f"proposal {proposal_id} approved: grid version {version}")
    for grid, users in retired_grid_workers(obj.store, _proposals(obj), proposal_id).items():
        click.echo(f"warning: retired grid {grid} is still bound to {', '.join(users)}", err=True)


@command("reject", grids)
@click.argument("proposal_id", type=int)
@click.option("--by", "decided_by", default="cli", show_default=True, help="Who rejects.")
@click.option("--note", default=None, help="Why.")
def grids_reject(obj: Context, proposal_id, decided_by, note):
    """Reject a pending proposal (it is kept)."""
    from gridmgmt.domain.rebalancing import reject_proposal

    reject_proposal(_proposals(obj), proposal_id, decided_by=decided_by, note=note)
    click.echo(f"proposal {proposal_id} rejected")


@command("rollback", grids)
@click.option("--community", required=True, help="社区 name or 12-digit code.")
@click.option(
    "--to-version", type=int, default=None, help="Version to restore; default the previous one."
)
@click.option("--by", "author", default="cli", show_default=True, help="Who rolls back.")
def grids_rollback(obj: Context, community, to_version, author):
    """Restore an earlier grid version as a new version (history is kept)."""
    from gridmgmt.domain.rebalancing import rollback

    pid, version = rollback(
        obj.store, _proposals(obj), community, author=author, to_version=to_version
    )
    click.echo(f"rolled back by proposal {pid}: grid version {version}")
