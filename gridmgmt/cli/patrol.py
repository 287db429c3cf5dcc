"""Patrols (巡查): ``gridmgmt patrol import`` (a GPS track) and ``gridmgmt patrol report``."""

from __future__ import annotations

from pathlib import Path

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import PERIOD_HINT
from gridmgmt.cli.tables import format_columns

REPORT_FORMATS = {
    "compliance": ".0%",
    "mean_building_share": ".0%",
    "mean_road_share": ".0%",
    "volunteer_report_rate": ".0%",
}
REPORT_SUFFIXES = (".csv", ".xlsx")


@click.group()
def patrol():
    """Patrols (巡查): import tracks, the patrol report."""


@command("import", patrol)
@click.argument("track", type=click.Path(dir_okay=False))
@click.option("--worker", required=True, help="The grid worker's username.")
def patrol_import(obj: Context, track, worker):
    """Import a GPX or GeoJSON track as a finished patrol of WORKER, and print its measures."""
    from gridmgmt.domain.patrols import import_track
    from gridmgmt.store.patrols import PatrolStore

    pid, m = import_track(obj.store, PatrolStore(obj.store), track, worker)
    click.echo(
        f"patrol {pid} of {worker}: {m['points']} points, {m['duration_min']:.0f} min, "
        f"{m['length_m'] / 1000:.2f} km, {m['inside_share']:.0%} of the time in own grids, "
        f"buildings passed {m['buildings_passed']}/{m['buildings_total']}, "
        f"roads covered {(m['road_share'] or 0):.0%}"
    )
    if m["anomalies"]:
        click.echo(f"anomalies: {m['anomalies']}")


@command("report", patrol)
@click.option("--grid", default=None, help="Grid code (default: every residential grid).")
@click.option("--from", "start", required=True, help="First day, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Last day (included).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write .csv (UTF-8 BOM) or .xlsx (grids, patrols, daily compliance).",
)
def patrol_report_cmd(obj: Context, grid, start, end, out):
    """Per grid: patrol days, compliance, coverage, anomalies, diary entries, incidents found."""
    from gridmgmt.core.periods import PeriodError, parse_day
    from gridmgmt.domain.patrols import patrol_report
    from gridmgmt.domain.report_labels import PATROL_REPORT_COLUMNS, label
    from gridmgmt.io.exports import export_tables
    from gridmgmt.store.patrols import PatrolStore

    try:
        first, last = parse_day(start), parse_day(end)
    except PeriodError as err:
        raise click.BadParameter(str(err), param_hint=PERIOD_HINT) from err
    if out and Path(out).suffix.lower() not in REPORT_SUFFIXES:
        raise click.BadParameter(f"--out {out}: expected a .csv or .xlsx file")
    repo = PatrolStore(obj.store)
    rep = patrol_report(obj.store, repo, first, last, grid=grid)
    table = rep.table
    if out:
        tables = {"grids": table}
        if Path(out).suffix.lower() == ".xlsx":
            tables["patrols"] = rep.patrol_rows()
            tables["daily"] = rep.daily_rows()
        path = export_tables(tables, out, labels=label)
        click.echo(f"written: {path}")
    if table.empty:
        click.echo("no grids")
        return
    shown = format_columns(table[list(PATROL_REPORT_COLUMNS)], REPORT_FORMATS)
    click.echo(f"{first} – {last}")
    click.echo(shown.rename(columns=label).to_string(index=False))
