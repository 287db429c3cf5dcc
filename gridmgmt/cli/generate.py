"""``gridmgmt generate``: a seeded synthetic 街道 (or district) written as a GeoPackage."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import seed_option


@command("generate")
@seed_option()
@click.option(
    "--households", default=25_000, show_default=True, type=int, help="Target households."
)
@click.option(
    "--communities",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of 社区 (each with its own name and code).",
)
@click.option(
    "--communities-per-street",
    type=click.IntRange(min=1, max=999),
    default=None,
    help="Group the 社区 into 街道 of this many (default: one 街道, at most 999 社区).",
)
@click.option(
    "--compounds",
    "compounds_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Real compound outlines (GeoJSON, GeoPackage...; residential polygons are used) "
    "to fill with generated buildings instead of a generated street layout.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="GeoPackage to write.")
def generate(
    obj: Context, seed, households, communities, communities_per_street, compounds_path, out
):
    """Generate a demo 街道 (seeded) as a GeoPackage, e.g. data/demo/street.gpkg."""
    from gridmgmt.synthetic import generate_street, save_street

    if compounds_path:
        from gridmgmt.synthetic.real_compounds import fill_compounds

        street = fill_compounds(
            compounds_path,
            seed,
            n_communities=communities,
            communities_per_street=communities_per_street,
        )
    else:
        street = generate_street(
            seed,
            n_communities=communities,
            target_households=households,
            communities_per_street=communities_per_street,
        )
    path = save_street(street, out)
    b = street.buildings
    levels = street.boundaries["level"].value_counts()
    click.echo(
        f"{path}: {len(b)} buildings, {int(b['households'].sum()):,} households, "
        f"{int(levels.get('community', 0))} 社区 in {int(levels.get('street', 0))} 街道"
    )
