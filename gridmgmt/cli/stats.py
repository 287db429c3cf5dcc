"""Spatial statistics of incidents over grids: ``gridmgmt stats hotspots``."""

from __future__ import annotations

from pathlib import Path

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import (
    PERIOD_START_LOCAL_HELP,
    period_from_options,
    period_options,
    seed_option,
)

VERSION_COLUMNS = ["valid_from", "valid_to"]


@click.group()
def stats():
    """Spatial statistics of incidents over grids (hot spots, Moran's I)."""


@command("hotspots", stats)
@period_options(start_help=PERIOD_START_LOCAL_HELP)
@click.option("--community", default=None, help="社区 name or code (default: all grids).")
@click.option(
    "--contiguity", default="queen", show_default=True, type=click.Choice(["queen", "rook"])
)
@click.option("--permutations", default=999, show_default=True, type=int)
@seed_option()
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write per-grid results: .gpkg, .geojson or .csv.",
)
@click.option("--png", type=click.Path(dir_okay=False), help="Draw the hot-spot map to this PNG.")
def stats_hotspots(obj: Context, start, end, community, contiguity, permutations, seed, out, png):
    """Getis-Ord Gi* hot/cold spots of incidents per 1,000 households, and Moran's I."""
    from gridmgmt.domain.hotspots import area_hotspots
    from gridmgmt.io.writers import LAYER_SUFFIXES, write_layer

    t0, t1 = period_from_options(start, end)
    if out and Path(out).suffix.lower() not in LAYER_SUFFIXES:
        raise click.BadParameter(f"--out {out}: expected one of {', '.join(LAYER_SUFFIXES)}")
    click.echo(f"[1/3] reading grids and incidents {start} → {end}")
    report = area_hotspots(
        obj.store,
        t0,
        t1,
        community=community,
        contiguity=contiguity,
        permutations=permutations,
        seed=seed,
    )
    grids = report.grids
    click.echo(
        f"[2/3] {len(grids)} grids, {report.incidents} incidents; Gi* ({contiguity}, "
        f"{permutations} permutations, seed {seed})"
    )
    counts = grids["hotspot"].value_counts()
    click.echo("      " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if report.moran is not None:
        m = report.moran
        click.echo(
            f"      Moran's I = {m.I:.4f} (E[I] = {m.expected:.4f}, p_sim = {m.p_sim:.3f}, n = {m.n})"
        )
    else:
        click.echo(
            "      Moran's I: not defined (fewer than 3 grids with households or constant rates)"
        )
    click.echo("[3/3] writing")
    if out:
        table = grids.drop(columns=VERSION_COLUMNS, errors="ignore")
        click.echo(f"      {write_layer(table, out, layer='hotspots')}")
    if png:
        from gridmgmt.maps.charts import hotspot_map_png

        click.echo(f"      {hotspot_map_png(grids, png, title=f'事件热点 {start} 至 {end}')}")
