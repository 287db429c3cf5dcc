"""``gridmgmt map``: draw grids as an offline HTML map or a printable PNG.

From a partition file (``gridmgmt partition ... --out grids.gpkg``) or from
the stored grids of a 社区 (``--community``) or 街道 (``--street``).
"""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import band_options, coords_option


@command("map")
@click.argument("grids_file", metavar="[GRIDS.gpkg]", required=False, type=click.Path())
@click.option(
    "--layer", help="Grid layer of GRIDS.gpkg (default: grids, else its only grid-like polygons)."
)
@click.option(
    "--buildings",
    type=click.Path(dir_okay=False),
    help="Buildings from another file (OSM, GeoPackage...); default: GRIDS.gpkg's buildings layer.",
)
@click.option("--buildings-layer", help="Buildings layer of --buildings (or of GRIDS.gpkg).")
@click.option(
    "--roads",
    type=click.Path(dir_okay=False),
    help="Roads from another file (OSM, GeoPackage...); default: GRIDS.gpkg's roads layer, if any.",
)
@click.option("--roads-layer", help="Roads layer of --roads (or of GRIDS.gpkg).")
@coords_option("Coordinate system of the --buildings/--roads files.")
@click.option("--community", default=None, help="Draw a stored 社区 (name or 12-digit code).")
@click.option("--street", default=None, help="Draw a stored 街道 (name or 9-digit code).")
@band_options()
@click.option(
    "--title", default=None, help="Area name in the title (default: 社区/街道 or file name)."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="map.html (interactive, works offline) or map.png (printable picture).",
)
def map_cmd(
    obj: Context,
    grids_file,
    layer,
    buildings,
    buildings_layer,
    roads,
    roads_layer,
    coords,
    community,
    street,
    min_households,
    max_households,
    title,
    out,
):
    """Draw grids coloured by kind and households, with buildings, roads, labels and a legend.

    \b
    gridmgmt map grids.gpkg --roads street.osm --out grids.png
    gridmgmt map --community 翠湖社区 --out cuihu.html
    """
    import warnings

    from gridmgmt.maps.picture import MapFontWarning
    from gridmgmt.maps.render import check_map_path, write_map

    given = [grids_file is not None, community is not None, street is not None]
    if sum(given) != 1:
        raise click.UsageError("give one of GRIDS.gpkg, --community NAME or --street NAME")
    file_only = {"--layer": layer, "--buildings": buildings, "--buildings-layer": buildings_layer}
    file_only |= {"--roads": roads, "--roads-layer": roads_layer}
    misplaced = [name for name, value in file_only.items() if value is not None]
    if grids_file is None and misplaced:
        raise click.UsageError(f"{', '.join(misplaced)} apply to a GRIDS.gpkg file only")
    if min_households > max_households:
        raise click.BadParameter("--min is above --max", param_hint="--min/--max")
    path = check_map_path(out)

    if grids_file is not None:
        from gridmgmt.maps.sources import layers_from_file

        layers = layers_from_file(
            grids_file,
            layer=layer,
            buildings=buildings,
            buildings_layer=buildings_layer,
            roads=roads,
            roads_layer=roads_layer,
            coords=coords,
        )
    else:
        from gridmgmt.maps.sources import layers_from_store

        layers = layers_from_store(obj.store, community=community, street=street)
    if title:
        layers.title = title

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MapFontWarning)
        written = write_map(
            layers, path, min_households=min_households, max_households=max_households
        )
    for w in caught:
        if issubclass(w.category, MapFontWarning):
            click.echo(f"warning: {w.message}", err=True)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    parts = [f"{len(layers.grids)} grids"]
    for name in ("buildings", "roads"):
        frame = getattr(layers, name)
        if frame is not None and len(frame):
            parts.append(f"{len(frame)} {name}")
    click.echo(f"written: {written} ({', '.join(parts)})")
