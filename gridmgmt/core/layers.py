"""Column conventions of the layers every part of gridmgmt exchanges.

Layers travel between importers, algorithms, the store and the web app as
GeoDataFrames in WGS84 (EPSG:4326). Each constant below lists the columns a
layer carries besides ``geometry``; :func:`require_columns` checks them.
Metric work (areas, distances, compactness) projects first, see
:mod:`gridmgmt.core.crs`.
"""

from __future__ import annotations

from collections.abc import Iterable

WGS84 = "EPSG:4326"

#: 建筑 buildings: polygons (footprints).
BUILDING_COLUMNS = (
    "building_id",  # str, unique within the source
    "building_type",  # str, see BUILDING_TYPES
    "floors",  # float, may be NaN before estimation
    "households",  # int >= 0
    "households_source",  # see gridmgmt.core.households.SOURCE_CONFIDENCE
    "households_confidence",  # "high" | "medium" | "low"
    "population",  # int >= 0
    "compound_id",  # str | None: enclosing 小区/单位
    "name",  # str | None
    "addr_street",  # str | None: OSM addr:street, for address ledgers
    "addr_housenumber",  # str | None: OSM addr:housenumber (门牌号)
)

#: 道路 roads: lines.
ROAD_COLUMNS = ("road_id", "road_class", "name")

#: 小区/单位 compounds: enclosure polygons (walls, fences, land-use areas).
COMPOUND_COLUMNS = (
    "compound_id",
    "compound_kind",  # "residential" | "unit"
    "landuse",  # residential, university, school, hospital, industrial, ...
    "name",
)

#: 设施 facilities: points or polygons.
FACILITY_COLUMNS = ("facility_id", "category", "name")

#: 行政区划 admin boundaries (区 district / 街道 street / 社区 community).
BOUNDARY_COLUMNS = ("level", "code", "name", "parent_code")

#: 网格 grids produced by the partitioner.
GRID_COLUMNS = ("code", "kind", "households", "n_buildings", "flag")

BUILDING_TYPES = (
    "residential",  # generic residential building (OSM building=residential/yes in housing)
    "apartments",  # 多层/高层住宅
    "house",  # 平房/低层
    "villa",  # 别墅
    "dormitory",  # 宿舍
    "commercial",
    "office",
    "retail",
    "school",
    "university",
    "hospital",
    "industrial",
    "public",  # government, civic
    "other",
)

RESIDENTIAL_BUILDING_TYPES = frozenset({"residential", "apartments", "house", "villa", "dormitory"})

FACILITY_CATEGORIES = (
    "school",
    "kindergarten",
    "university",
    "hospital",
    "clinic",
    "market",
    "government",
    "police",
    "park",
    "community_centre",
    "elderly_care",
    "sports",
    "culture",
    "property_management",
    "other",
)

ADMIN_LEVELS = ("district", "street", "community")

GRID_KINDS = ("residential", "unit")


def require_columns(frame, columns: Iterable[str], layer: str) -> None:
    """Raise ``ValueError`` naming the layer and every missing column.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The layer to check.
    columns : iterable of str
        Columns that must be present.
    layer : str
        Layer name used in the message, e.g. ``"buildings"``.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{layer}: missing column(s) {', '.join(missing)}")
