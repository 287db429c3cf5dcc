"""OpenStreetMap extracts (``.osm`` XML, ``.pbf``) to our raw layers.

GDAL's OSM driver (bundled with pyogrio) gives layers ``points``, ``lines``
and ``multipolygons``; tags it does not promote to columns sit in
``other_tags`` as ``"key"=>"value",...``, which :func:`parse_other_tags`
unpacks.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')

#: OSM ``building=*`` -> our building type (``yes`` is resolved from land use)
BUILDING_TYPES = {
    "apartments": "apartments",
    "residential": "residential",
    "house": "house",
    "detached": "house",
    "semidetached_house": "house",
    "terrace": "house",
    "bungalow": "house",
    "villa": "villa",
    "dormitory": "dormitory",
    "commercial": "commercial",
    "office": "office",
    "retail": "retail",
    "hotel": "commercial",
    "supermarket": "retail",
    "kiosk": "retail",
    "school": "school",
    "kindergarten": "school",
    "university": "university",
    "college": "university",
    "hospital": "hospital",
    "clinic": "hospital",
    "industrial": "industrial",
    "warehouse": "industrial",
    "factory": "industrial",
    "public": "public",
    "government": "public",
    "civic": "public",
    "townhall": "public",
    "police": "public",
    "fire_station": "public",
}

#: (key, value) -> facility category
FACILITY_TAGS = {
    ("amenity", "school"): "school",
    ("amenity", "kindergarten"): "kindergarten",
    ("amenity", "university"): "university",
    ("amenity", "college"): "university",
    ("amenity", "hospital"): "hospital",
    ("healthcare", "hospital"): "hospital",
    ("amenity", "clinic"): "clinic",
    ("amenity", "doctors"): "clinic",
    ("healthcare", "clinic"): "clinic",
    ("amenity", "marketplace"): "market",
    ("shop", "supermarket"): "market",
    ("amenity", "townhall"): "government",
    ("office", "government"): "government",
    ("amenity", "police"): "police",
    ("leisure", "park"): "park",
    ("amenity", "community_centre"): "community_centre",
    ("amenity", "social_facility"): "elderly_care",
    ("amenity", "nursing_home"): "elderly_care",
    ("leisure", "sports_centre"): "sports",
    ("leisure", "stadium"): "sports",
    ("amenity", "library"): "culture",
    ("amenity", "theatre"): "culture",
    ("amenity", "arts_centre"): "culture",
}

#: (key, value) -> (compound kind, land use) for enclosure polygons
COMPOUND_TAGS = {
    ("landuse", "residential"): ("residential", "residential"),
    ("amenity", "university"): ("unit", "university"),
    ("amenity", "college"): ("unit", "university"),
    ("amenity", "school"): ("unit", "school"),
    ("amenity", "kindergarten"): ("unit", "kindergarten"),
    ("amenity", "hospital"): ("unit", "hospital"),
    ("landuse", "education"): ("unit", "school"),
    ("landuse", "industrial"): ("unit", "industrial"),
    ("landuse", "military"): ("unit", "military"),
    ("office", "government"): ("unit", "government"),
    ("amenity", "townhall"): ("unit", "government"),
}

#: highway values that are not roads people walk or drive along
NON_ROADS = {"platform", "proposed", "construction", "abandoned", "raceway", "bus_stop", "elevator"}

#: railway=* values of tracks that bound grids (trams run in streets, subways under them)
RAIL_LINES = {"rail", "light_rail", "narrow_gauge", "monorail"}
#: waterway=* values of lines that bound grids
WATER_LINES = {"river", "canal"}

#: land use of a compound -> building type given to ``building=yes`` inside it
LANDUSE_BUILDING_TYPE = {
    "residential": "residential",
    "university": "university",
    "school": "school",
    "kindergarten": "school",
    "hospital": "hospital",
    "industrial": "industrial",
    "government": "public",
    "military": "public",
}


def parse_other_tags(text) -> dict[str, str]:
    """``"a"=>"b","c"=>"d"`` -> ``{"a": "b", "c": "d"}`` (None/NaN -> ``{}``)."""
    if not isinstance(text, str) or not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _TAG.findall(text)}


def _tags(frame: pd.DataFrame) -> list[dict[str, str]]:
    fixed = [
        c for c in frame.columns if c not in ("geometry", "other_tags", "osm_id", "osm_way_id")
    ]
    out = []
    others = frame["other_tags"] if "other_tags" in frame.columns else [None] * len(frame)
    for values, extra in zip(frame[fixed].itertuples(index=False), others, strict=True):
        tags = {k: v for k, v in zip(fixed, values, strict=True) if isinstance(v, str) and v}
        tags.update(parse_other_tags(extra))
        out.append(tags)
    return out


def _osm_id(frame: pd.DataFrame) -> list[str]:
    ids = []
    way = frame["osm_way_id"] if "osm_way_id" in frame.columns else [None] * len(frame)
    for rel, w in zip(frame["osm_id"], way, strict=True):
        ids.append(
            f"osm:w{w}"
            if isinstance(w, str) and w
            else f"osm:r{rel}"
            if isinstance(rel, str) and rel
            else ""
        )
    return ids


def _number(text) -> float:
    try:
        return float(re.findall(r"\d+(?:\.\d+)?", text)[0])
    except (IndexError, ValueError, TypeError):
        return float("nan")


def _floors(tags: dict[str, str]) -> float:
    """Floors above ground from ``building:levels`` (or ``levels``); NaN if untagged."""
    for key in ("building:levels", "levels"):
        if key in tags:
            value = _number(tags[key])
            if value == value:
                return value
    return float("nan")


def _height(tags: dict[str, str]) -> float:
    """Height in metres from ``height`` (or ``building:height``); NaN if untagged."""
    for key in ("height", "building:height"):
        if key in tags:
            value = _number(tags[key])
            if value == value:
                return value
    return float("nan")


def _name(tags: dict[str, str]) -> str | None:
    return tags.get("name") or tags.get("name:zh") or tags.get("name:zh-Hans")


def read_osm(path: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Raw layers from an OSM file: ``buildings``, ``roads``, ``compounds``, ``facilities``.

    Roads include railways (``road_class="railway"``) and rivers and canals
    (``river``/``canal``): grids end at them like at trunk roads.

    Buildings carry ``osm_building`` (the raw tag), ``floors`` (levels),
    ``height`` (metres) and ``addr_street``/``addr_housenumber``; their type
    is finalised by the reader once compounds are known (``building=yes``
    takes the land use around it).
    """
    from gridmgmt.io.fast_io import read_vector  # pyogrio with Arrow where available

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        polys = read_vector(path, layer="multipolygons")
        lines = read_vector(path, layer="lines")
        points = read_vector(path, layer="points")
    crs = polys.crs or "EPSG:4326"

    poly_tags = _tags(polys)
    poly_ids = _osm_id(polys)
    b_rows, c_rows, f_rows = [], [], []
    for fid, tags, geom in zip(poly_ids, poly_tags, polys.geometry.values, strict=True):
        building = tags.get("building")
        if building and building != "no":
            b_rows.append(
                {
                    "building_id": fid,
                    "osm_building": building,
                    "building_type": BUILDING_TYPES.get(building),
                    "floors": _floors(tags),
                    "height": _height(tags),
                    "addr_street": tags.get("addr:street"),
                    "addr_housenumber": tags.get("addr:housenumber"),
                    "name": _name(tags),
                    "geometry": geom,
                }
            )
            continue
        for (k, v), (kind, landuse) in COMPOUND_TAGS.items():
            if tags.get(k) == v:
                c_rows.append(
                    {
                        "compound_id": fid,
                        "compound_kind": kind,
                        "landuse": landuse,
                        "name": _name(tags),
                        "geometry": geom,
                    }
                )
                break
        for (k, v), category in FACILITY_TAGS.items():
            if tags.get(k) == v:
                f_rows.append(
                    {
                        "facility_id": fid,
                        "category": category,
                        "name": _name(tags),
                        "geometry": geom,
                    }
                )
                break

    road_rows = []
    for osm_id, tags, geom in zip(
        lines["osm_id"], _tags(lines), lines.geometry.values, strict=True
    ):
        hw = tags.get("highway")
        if hw and hw not in NON_ROADS:
            road_class = hw
        elif tags.get("railway") in RAIL_LINES and tags.get("tunnel") != "yes":
            road_class = "railway"
        elif tags.get("waterway") in WATER_LINES and tags.get("tunnel") != "culvert":
            road_class = tags["waterway"]
        else:
            continue
        road_rows.append(
            {
                "road_id": f"osm:w{osm_id}",
                "road_class": road_class,
                "name": _name(tags),
                "geometry": geom,
            }
        )

    for osm_id, tags, geom in zip(
        points["osm_id"], _tags(points), points.geometry.values, strict=True
    ):
        for (k, v), category in FACILITY_TAGS.items():
            if tags.get(k) == v:
                f_rows.append(
                    {
                        "facility_id": f"osm:n{osm_id}",
                        "category": category,
                        "name": _name(tags),
                        "geometry": geom,
                    }
                )
                break

    def frame(rows, columns):
        return gpd.GeoDataFrame(
            pd.DataFrame(rows, columns=[*columns, "geometry"]), geometry="geometry", crs=crs
        )

    return {
        "buildings": frame(
            b_rows,
            [
                "building_id",
                "osm_building",
                "building_type",
                "floors",
                "height",
                "addr_street",
                "addr_housenumber",
                "name",
            ],
        ),
        "roads": frame(road_rows, ["road_id", "road_class", "name"]),
        "compounds": frame(c_rows, ["compound_id", "compound_kind", "landuse", "name"]),
        "facilities": frame(f_rows, ["facility_id", "category", "name"]),
    }
