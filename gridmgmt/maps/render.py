"""Write a grid map in the format its file name asks for: ``.html`` or ``.png``."""

from __future__ import annotations

from pathlib import Path

from gridmgmt.maps.sources import MapLayers

#: suffix -> what is written
MAP_FORMATS = {
    ".html": "an interactive map that opens offline in a browser",
    ".png": "a printable picture",
}


def check_map_path(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if its suffix is a map format.

    Raises
    ------
    ValueError
        Any other suffix (the supported ones named).
    """
    path = Path(path)
    if path.suffix.lower() not in MAP_FORMATS:
        formats = "; ".join(f"{s} for {what}" for s, what in MAP_FORMATS.items())
        raise ValueError(
            f"--out {path}: unsupported suffix {path.suffix or '(none)'!r}; use {formats}"
        )
    return path


def write_map(
    layers: MapLayers, path: str | Path, *, min_households: int = 250, max_households: int = 500
) -> Path:
    """Draw ``layers`` into ``path``: an offline HTML map or a PNG picture, by suffix.

    Parameters
    ----------
    layers : MapLayers
        What to draw (see :mod:`gridmgmt.maps.sources`).
    path : str or Path
        ``.html`` or ``.png``; parent folders are created.
    min_households, max_households : int
        The household band of the grid colouring.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        An unsupported suffix (nothing written).
    """
    path = check_map_path(path)
    title = f"{layers.title} 责任网格"
    if path.suffix.lower() == ".png":
        from gridmgmt.maps.picture import grid_picture_png

        return grid_picture_png(
            path,
            grids=layers.grids,
            buildings=layers.buildings,
            roads=layers.roads,
            communities=layers.communities,
            title=layers.title,
            source=layers.source,
            min_households=min_households,
            max_households=max_households,
        )
    from gridmgmt.maps.overview import grid_overview_map, save_map

    fmap = grid_overview_map(
        communities=layers.communities,
        grids=layers.grids,
        buildings=layers.buildings,
        roads=layers.roads,
        title=title,
        min_households=min_households,
        max_households=max_households,
        label_grids=True,
    )
    fmap.get_root().header.add_child(_page_title(title))
    return save_map(fmap, path)


def _page_title(title: str):
    import html

    import folium

    return folium.Element(f"<title>{html.escape(title)}</title>")
