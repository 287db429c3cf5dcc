"""``gridmgmt import KIND PATH``: buildings, roads, compounds, facilities, boundaries, OSM."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import COORDINATE_SYSTEMS, coords_option, crs_option

IMPORT_KINDS = ("osm", "auto", "buildings", "roads", "compounds", "facilities", "boundaries")


@command("import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("path", type=click.Path(dir_okay=False))
@coords_option("Coordinate system of the input; converted to WGS84.")
@click.option(
    "--boundary-coords",
    type=click.Choice(COORDINATE_SYSTEMS),
    help="Coordinate system of the boundaries (default: --coords, and boundaries that fit the "
    "buildings only once moved by the GCJ-02 offset are refused); converted to WGS84.",
)
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option(
    "--ledger",
    type=click.Path(exists=True, dir_okay=False),
    help="台账 (CSV/XLSX): households per building id, per 小区 or per address.",
)
@click.option("--strict", is_flag=True, help="Reject invalid geometries instead of repairing them.")
@click.option("--replace", is_flag=True, help="Overwrite objects whose ids are stored already.")
@click.option(
    "--dwelling-size", type=float, default=90.0, show_default=True, help="m² per household."
)
@click.option("--outside-china", is_flag=True, help="Allow coordinates outside China's extent.")
@crs_option()
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Features per part when a large single-layer file is imported in parts (default 50000).",
)
def import_(
    obj: Context,
    kind,
    path,
    coords,
    boundary_coords,
    layer,
    ledger,
    strict,
    replace,
    dwelling_size,
    outside_china,
    crs,
    chunk_size,
):
    """Import KIND of data from PATH (OSM, GeoJSON, GeoPackage, Shapefile/.zip, GeoParquet, CSV, XLSX).

    Nothing is written unless the whole file is accepted. A large file is
    read and written in parts, with a progress bar on stderr.
    """
    from tqdm import tqdm

    from gridmgmt.domain.importing import import_file

    with tqdm(unit=" features", desc=f"import {Path(path).name}", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        outcome = import_file(
            obj.store,
            Path(path),
            kind=None if kind in ("osm", "auto") else kind,
            coords=coords,
            layer=layer,
            ledger=ledger,
            strict=strict,
            replace=replace,
            dwelling_size_m2=dwelling_size,
            china=not outside_china,
            boundary_coords=boundary_coords,
            crs=crs,
            chunk_size=chunk_size,
            progress=progress,
        )
    click.echo(str(outcome.report))
    written = ", ".join(f"{n} {k}" for k, n in outcome.written.items()) or "nothing"
    click.echo(f"written: {written}")
