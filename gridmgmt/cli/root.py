"""The ``gridmgmt`` group: global options and every command group, assembled.

Each command module declares its commands or group on its own; this module
adds them to :func:`main`. Importing it loads only click and these modules:
the heavy imports (pandas, geopandas, the store) happen inside commands.
"""

from __future__ import annotations

import click

from gridmgmt import __version__
from gridmgmt.cli.accounts import apikey, users
from gridmgmt.cli.context import Context, workdir_option
from gridmgmt.cli.database import db, status
from gridmgmt.cli.generate import generate
from gridmgmt.cli.grids import grids
from gridmgmt.cli.households import households
from gridmgmt.cli.importing import import_
from gridmgmt.cli.incidents import incidents
from gridmgmt.cli.maps import map_cmd
from gridmgmt.cli.partitioning import assign_cmd, partition_cmd
from gridmgmt.cli.patrol import patrol
from gridmgmt.cli.rebalance import rebalance_cmd
from gridmgmt.cli.reports import export_cmd, report
from gridmgmt.cli.serving import demo, serve
from gridmgmt.cli.stats import stats

COMMANDS = (
    db,
    status,
    import_,
    users,
    serve,
    demo,
    apikey,
    generate,
    partition_cmd,
    assign_cmd,
    incidents,
    grids,
    households,
    rebalance_cmd,
    stats,
    export_cmd,
    report,
    patrol,
    map_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridmgmt")
@workdir_option
@click.pass_context
def main(ctx: click.Context):
    """gridmgmt: 网格化管理 (grid-based community management)."""
    ctx.ensure_object(Context)


for _command in COMMANDS:
    main.add_command(_command)
