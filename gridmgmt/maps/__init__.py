"""Map builders: offline HTML maps (folium) and printable pictures (matplotlib).

- :mod:`~gridmgmt.maps.overview`: the self-contained HTML map of a 街道
  (Leaflet embedded, no tiles);
- :mod:`~gridmgmt.maps.picture`: the PNG of 责任网格 for printing;
- :mod:`~gridmgmt.maps.styling`: the colours and labels both share;
- :mod:`~gridmgmt.maps.sources`: the layers of a grid map, read from a
  partition file or the store; :mod:`~gridmgmt.maps.render` writes them by
  suffix (``gridmgmt map``);
- :mod:`~gridmgmt.maps.charts` and :mod:`~gridmgmt.maps.fonts`: PNG charts
  and the CJK font they draw Chinese with.

The generated files live in the instance directory's ``maps/`` folder
(``gridmgmt demo`` writes ``<instance>/maps/demo.html``); the repository's
top-level ``maps/`` folder is where maps generated from a checkout go. The
builders live here rather than in a top-level ``maps`` package because an
installed top-level module named ``maps`` would collide with other
distributions'.
"""

from gridmgmt.maps.overview import grid_overview_map, save_map

__all__ = ["grid_overview_map", "save_map"]
