"""Static map builders (folium).

The generated files live in the instance directory's ``maps/`` folder
(``gridmgmt demo`` writes ``<instance>/maps/demo.html``); the repository's
top-level ``maps/`` folder is where maps generated from a checkout go. The
builders live here rather than in a top-level ``maps`` package because an
installed top-level module named ``maps`` would collide with other
distributions'.
"""

from gridmgmt.maps.overview import grid_overview_map, save_map

__all__ = ["grid_overview_map", "save_map"]
