"""The incident loop (事件闭环): ``gridmgmt incidents import|overdue|kpi``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import (
    PERIOD_START_LOCAL_HELP,
    coords_option,
    period_from_options,
    period_options,
)
from gridmgmt.cli.tables import kpi_table

KPI_COLUMNS = [
    "reported",
    "registered",
    "register_rate",
    "due",
    "closed",
    "close_rate",
    "closed_on_time",
    "on_time_rate",
    "rework_rate",
    "mean_handling_hours",
    "overdue",
    "suspended",
]


@click.group()
def incidents():
    """The incident loop (事件闭环)."""


@command("import", incidents)
@click.argument("path", type=click.Path(dir_okay=False))
@coords_option()
def incidents_import(obj: Context, path, coords):
    """Import a hotline (12345) export: CSV or XLSX with category code, description, lon/lat."""
    from gridmgmt.domain.incidents import load_categories
    from gridmgmt.domain.incidents.importing import import_incidents

    obj.store.sync_categories(load_categories())
    made = import_incidents(obj.store, path, coords=coords)
    unassigned = sum(1 for i in made if i["grid_code"] is None)
    click.echo(
        f"{len(made)} incident(s) recorded; {unassigned} outside every grid (unassigned queue)"
    )


@command("overdue", incidents)
def incidents_overdue(obj: Context):
    """Open incidents past the deadline of their running stage."""
    from datetime import UTC, datetime

    from gridmgmt.core.periods import SHANGHAI

    table = obj.store.incidents()
    now = datetime.now(UTC)
    late = table[table["deadline_at"].notna()]
    late = late[[d < now for d in late["deadline_at"]]]
    if late.empty:
        click.echo("no overdue incidents")
        return
    for r in late.itertuples():
        due = r.deadline_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{r.number}  {r.state:<12} {r.deadline_stage:<8} due {due}  grid {r.grid_code or '-'}  {r.description[:30]}"
        )
    click.echo(f"{len(late)} overdue")


@command("kpi", incidents)
@period_options(start_help=PERIOD_START_LOCAL_HELP)
@click.option(
    "--by",
    default="all",
    show_default=True,
    type=click.Choice(["all", "street", "community", "grid", "worker", "department", "category"]),
)
def incidents_kpi(obj: Context, start, end, by):
    """KPIs of the incident loop for a period (formulas: gridmgmt.domain.incidents.kpi)."""
    from gridmgmt.domain.incidents.kpi import kpis

    t0, t1 = period_from_options(start, end)
    table = kpis(obj.store.incidents(), obj.store.incident_history(), t0, t1, by=by)
    if table.empty:
        click.echo("no incidents in the period")
        return
    click.echo(kpi_table(table[KPI_COLUMNS]).to_string())
