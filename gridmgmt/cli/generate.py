"""``gridmgmt generate``: a seeded synthetic 街道 written as a GeoPackage."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import seed_option


@command("generate")
@seed_option()
@click.option(
    "--households", default=25_000, show_default=True, type=int, help="Target households."
)
@click.option("--communities", default=3, show_default=True, type=int, help="Number of 社区.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="GeoPackage to write.")
def generate(obj: Context, seed, households, communities, out):
    """Generate a demo 街道 (seeded) as a GeoPackage, e.g. data/demo/street.gpkg."""
    from gridmgmt.synthetic import generate_street, save_street

    street = generate_street(seed, n_communities=communities, target_households=households)
    path = save_street(street, out)
    b = street.buildings
    click.echo(
        f"{path}: {len(b)} buildings, {int(b['households'].sum()):,} households, {communities} 社区"
    )
