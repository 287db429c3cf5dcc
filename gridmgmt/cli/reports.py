"""Reports and exports of an area and period: ``gridmgmt export`` and ``gridmgmt report ...``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import area_options, area_scope, period_from_options, period_options
from gridmgmt.cli.tables import format_columns, kpi_table
from gridmgmt.domain.report_labels import ASSESSMENT_COLUMNS, LEVELS

WORKLOAD_FORMATS = {
    "compliance": ".0%",
    "diary_entries": ".0f",
    "incidents_per_1000": ".1f",
    "mean_handling_hours": ".1f",
    "volunteer_report_rate": ".0%",
}
ASSESSMENT_FORMATS = {"score": ".1f", "score_change": "+.1f"}
GRID_KINDS = {"residential": "居民区", "unit": "单位"}


@command("export")
@click.option(
    "--what",
    required=True,
    type=click.Choice(["grids", "buildings", "facilities", "incidents", "workload", "kpi", "all"]),
)
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["gpkg", "geojson", "shp", "csv", "xlsx"]),
    help="Default: from the suffix of --out (.zip means shp).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@period_options(required=False)
@click.option(
    "--by",
    default="grid",
    show_default=True,
    type=click.Choice(LEVELS),
    help="Level of the KPI table (--what kpi).",
)
@area_options()
def export_cmd(obj: Context, what, fmt, out, start, end, by, street, community, grid_codes):
    """Export layers, the workload report or the 考核 KPIs for GIS tools and offices."""
    from tqdm import tqdm

    from gridmgmt.domain.exporting import export_data
    from gridmgmt.store.patrols import PatrolStore

    t0, t1 = period_from_options(start, end)
    with tqdm(unit=" rows", desc=f"export {what}", disable=None) as bar:

        def progress(n):
            bar.update(n - bar.n)

        outcome = export_data(
            obj.store,
            what,
            out,
            fmt,
            start=t0,
            end=t1,
            by=by,
            progress=progress,
            patrols=PatrolStore(obj.store),
            **area_scope(street, community, grid_codes),
        )
    rows = ", ".join(f"{name} {n}" for name, n in outcome.rows.items())
    click.echo(f"written: {outcome.path} ({outcome.area.label}: {rows})")
    if outcome.empty:
        click.echo("note: nothing in this area and period; the file is valid but empty", err=True)


@click.group()
def report():
    """Reports printed as tables: per-grid workload, 考核 assessment."""


def _weights(items: tuple[str, ...]) -> dict[str, float] | None:
    """``MEASURE=W`` items of ``--weight`` as a dict; None when none are given."""
    if not items:
        return None
    chosen = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            chosen[key.strip()] = float(value)
        except ValueError as err:
            raise click.BadParameter(f"--weight {item}: expected MEASURE=NUMBER") from err
    return chosen


@command("workload", report)
@period_options()
@click.option(
    "--weight",
    "weights",
    multiple=True,
    help="Index weight MEASURE=W (e.g. incidents=0.5); repeatable; replaces the defaults.",
)
@area_options()
def report_workload(obj: Context, start, end, weights, street, community, grid_codes):
    """Per-grid workload: households, facilities, incidents, overdue, the workload index."""
    from gridmgmt.domain.report_labels import WORKLOAD_COLUMNS, label
    from gridmgmt.domain.workload import area_workload
    from gridmgmt.store.patrols import PatrolStore

    t0, t1 = period_from_options(start, end)
    rep = area_workload(
        obj.store,
        t0,
        t1,
        weights=_weights(weights),
        patrols=PatrolStore(obj.store),
        **area_scope(street, community, grid_codes),
    )
    table = rep.table
    if table.empty:
        click.echo(f"{rep.area.label}: no grids")
        return
    shown = format_columns(table[list(WORKLOAD_COLUMNS)], WORKLOAD_FORMATS)
    shown["kind"] = shown["kind"].map(GRID_KINDS)
    shown["far_above_neighbours"] = shown["far_above_neighbours"].map({True: "是", False: ""})
    click.echo(f"{rep.area.label}, {start} – {end} (exclusive); weights {rep.weights}")
    click.echo(shown.rename(columns=label).to_string(index=False))


@command("assessment", report)
@period_options()
@click.option("--by", default="grid", show_default=True, type=click.Choice(LEVELS))
@click.option(
    "--satisfaction-weight",
    type=float,
    default=None,
    help="Weight of 满意率 in the score (default 0.2, or GRIDMGMT_SATISFACTION_WEIGHT; 0: left out).",
)
@area_options()
def report_assessment(
    obj: Context, start, end, by, satisfaction_weight, street, community, grid_codes
):
    """考核: KPIs ranked by score (满意率 included), with the change against the previous period."""
    import os

    from gridmgmt.domain.assessment import area_assessment, score_weights
    from gridmgmt.domain.report_labels import label

    t0, t1 = period_from_options(start, end)
    weights = score_weights(os.environ, satisfaction_weight)
    scope = area_scope(street, community, grid_codes)
    rep = area_assessment(obj.store, t0, t1, by=by, weights=weights, **scope)
    if rep.table.empty:
        click.echo(f"{rep.area.label}: no incidents in the period")
        return
    shown = kpi_table(format_columns(rep.table[list(ASSESSMENT_COLUMNS)], ASSESSMENT_FORMATS))
    shown.index.name = label(by)
    click.echo(
        f"{rep.area.label}, {start} – {end} (exclusive), 环比 against "
        f"{rep.previous_start:%Y-%m-%d} – {start}"
    )
    click.echo(shown.to_string())
