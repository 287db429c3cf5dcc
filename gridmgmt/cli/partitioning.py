"""Cutting 社区 into grids and placing objects in them: ``gridmgmt partition`` and ``assign``.

Both work on files (read, compute, write a file) or on the stored data.
"""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import (
    COORDINATE_SYSTEMS,
    band_options,
    constraint_layer_options,
    coords_option,
    crs_option,
    executor_options,
    seed_option,
)

BOUNDARY_COORDS_HELP = (
    "Coordinate system of the --boundary file (default: that of --coords, and a boundary "
    "that fits the data only once moved by the GCJ-02 offset is refused); converted to WGS84."
)


@command("partition")
@click.argument("buildings", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--boundary", type=click.Path(exists=True, dir_okay=False), help="社区 polygon(s) file."
)
@constraint_layer_options()
@band_options()
@click.option(
    "--prefix", default="000000000000", show_default=True, help="12-digit 社区 code for grid codes."
)
@seed_option()
@coords_option()
@crs_option()
@click.option("--boundary-coords", type=click.Choice(COORDINATE_SYSTEMS), help=BOUNDARY_COORDS_HELP)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="GeoPackage to write (layers grids, buildings; boundary_buildings if the boundary cuts any).",
)
@click.option(
    "--community",
    "communities",
    multiple=True,
    help="Partition a stored 社区 (name or code); repeatable.",
)
@click.option("--all", "all_communities", is_flag=True, help="Partition every stored 社区.")
@click.option(
    "--ledger",
    type=click.Path(exists=True, dir_okay=False),
    help="台账 (CSV/XLSX): households per building id, per 小区 or per address, for file input.",
)
@executor_options()
def partition_cmd(
    obj: Context,
    buildings,
    boundary,
    roads,
    compounds,
    zones,
    min_households,
    max_households,
    prefix,
    seed,
    coords,
    crs,
    boundary_coords,
    out,
    communities,
    all_communities,
    ledger,
    workers,
    scheduler,
):
    """Cut a 社区 into 250–500-household grids: from files (--out) or stored data (--community/--all)."""
    if communities or all_communities:
        from gridmgmt.domain.partitioning import partition_stored

        run = partition_stored(
            obj.store,
            communities=communities or None,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            progress=click.echo,
            workers=workers,
            scheduler=scheduler,
        )
        for o in run.outcomes:
            click.echo(f"{o.name} ({o.code}): grid version {o.version}\n{o.result.report}")
        finish_batch(run.summary(), failed=bool(run.failures))
        return
    if workers or scheduler:
        raise click.UsageError(
            "--workers/--scheduler work on stored data: give --community or --all"
        )
    if not buildings or not out:
        raise click.UsageError(
            "give BUILDINGS and --out, or --community NAME / --all for stored data"
        )
    from gridmgmt.domain.partitioning import partition_files

    result = partition_files(
        buildings,
        out,
        boundary=boundary,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        code_prefix=prefix,
        seed=seed,
        coords=coords,
        crs=crs,
        boundary_coords=boundary_coords,
        ledger=ledger,
    )
    click.echo(str(result.report))
    listed = result.boundary_buildings
    layers = "grids, buildings"
    if listed is not None and len(listed):
        layers += ", boundary_buildings"
        for line in boundary_lines(listed):
            click.echo(line)
    click.echo(f"written: {out} (layers {layers})")


def finish_batch(summary: str, *, failed: bool) -> None:
    """Print a batch's summary; exit with status 1 when any 社区 failed."""
    click.echo(summary, err=failed)
    if failed:
        raise click.exceptions.Exit(1)


def boundary_lines(listed) -> list[str]:
    """Lines naming the buildings the boundary cuts or leaves out, by status."""
    words = {
        "straddling": "cut by the boundary, kept (most of the footprint inside)",
        "straddling_left_out": "cut by the boundary, left out (most of the footprint outside)",
        "outside": "outside the boundary, left out",
    }
    lines = []
    for status, text in words.items():
        ids = listed.loc[listed["status"] == status, "id"].astype(str).tolist()
        if ids:
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            lines.append(f"{len(ids)} building(s) {text}: {', '.join(ids[:10])}{more}")
    return lines


@command("assign")
@click.argument("points", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--grids",
    "grids_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Grids file (layer 'grids' of a GeoPackage).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Output file (.gpkg, .geojson, .parquet or .csv).",
)
@coords_option()
@crs_option()
@click.option(
    "--stored", is_flag=True, help="Recompute the grid codes of stored buildings and facilities."
)
@executor_options()
def assign_cmd(obj: Context, points, grids_path, out, coords, crs, stored, workers, scheduler):
    """Put objects into grids: a file (adds grid_code, reason for unassigned rows) or the stored layers."""
    if stored:
        from gridmgmt.domain.partitioning import reassign_stored

        run = reassign_stored(obj.store, workers=workers, scheduler=scheduler)
        for layer, n in run.placed.items():
            click.echo(f"{layer}: {n} placed in a grid")
        finish_batch(run.summary(), failed=bool(run.failures))
        return
    if workers or scheduler:
        raise click.UsageError("--workers/--scheduler work with --stored")
    if not (points and grids_path and out):
        raise click.UsageError("give POINTS, --grids and --out, or --stored")
    from gridmgmt.domain.partitioning import assign_file

    summary = assign_file(points, grids_path, out, coords=coords, crs=crs)
    click.echo(
        f"{summary['assigned']} of {summary['total']} assigned; {summary['unassigned']} unassigned -> {out}"
    )
