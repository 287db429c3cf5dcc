"""GeoJSON endpoints for the map: layers by bbox, simplified to the zoom.

The map never receives one giant inline page: it asks for what is in view,
with geometries simplified to about half a screen pixel at the requested
zoom and coordinates rounded accordingly. Buildings come only from zoom 15
on, roads and facilities from zoom 13. Grid workers get buildings and
facilities of their own grids only.

Drawn layers (all but incidents) are kept in a bounded cache
(:mod:`webapp.caching`) under the layer, zoom, bbox, the store's data
revision of the layer (a new grid version, an import, new household counts
change it), the grids' incident counts and the asking principal's grid
visibility; every answer carries an ETag, and a client holding the current
one gets 304.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely
from flask import Blueprint, abort, current_app, jsonify, request

from webapp.caching import LAYER_MAX_AGE, BodyCache, KeptDrawings, conditional, etag_of
from webapp.extensions import store
from webapp.feature_json import DrawnFeatures, draw_features, feature_collection_bytes
from webapp.paging import PagingError, add_page_headers, parse_page
from webapp.policy import (
    area_scope,
    grid_allowed,
    grid_mask,
    grid_scope,
    grid_visibility_key,
    incident_scope,
    outline_mask,
    requires,
    visible_points,
)

bp = Blueprint("geo", __name__, url_prefix="/api/v1")

MIN_ZOOM = {
    "grids": 0,
    "communities": 0,
    "roads": 13,
    "facilities": 13,
    "buildings": 15,
    "incidents": 13,
}
PROPERTIES = {
    "grids": ["code", "kind", "households", "n_buildings", "flag", "community_code"],
    "communities": ["code", "name"],
    "roads": ["name", "road_class"],
    "facilities": ["facility_id", "name", "category", "grid_code"],
    "buildings": ["building_id", "name", "building_type", "households", "floors", "grid_code"],
    "incidents": ["id", "number", "state", "category", "grid_code", "overdue"],
    "grids_extra": ["open_incidents", "overdue_incidents"],
}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` in lon/lat, or None; 400 on anything else."""
    if not text:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in text.split(","))
    except ValueError:
        abort(400, description="bbox must be minx,miny,maxx,maxy")
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        abort(400, description="bbox out of range or reversed")
    return minx, miny, maxx, maxy


def parse_zoom(text: str | None) -> int:
    try:
        zoom = int(text) if text is not None else 16
    except ValueError:
        abort(400, description="zoom must be an integer")
    return max(0, min(zoom, 22))


def tolerance_deg(zoom: int) -> float:
    """About half a screen pixel at ``zoom``, in degrees."""
    return 360.0 / (256 * 2**zoom) / 2


def simplified(geometries, zoom: int):
    """Geometries simplified to about half a pixel at ``zoom``, coordinates rounded to match."""
    tol = tolerance_deg(zoom)
    geoms = shapely.simplify(geometries, tol, preserve_topology=True)
    grid = 10 ** math.floor(math.log10(tol / 4)) if tol > 0 else 1e-7
    return shapely.set_precision(geoms, max(grid, 1e-7))


def feature_collection(frame: gpd.GeoDataFrame, columns: list[str], zoom: int) -> dict:
    """A GeoJSON FeatureCollection with only ``columns``, simplified to ``zoom``."""
    geoms = simplified(frame.geometry.values, zoom)
    features = []
    props = frame[[c for c in columns if c in frame.columns]]
    for geom, (_, row) in zip(geoms, props.iterrows(), strict=True):
        if geom is None or geom.is_empty:
            continue
        properties = {k: (None if _missing(v) else _plain(v)) for k, v in row.items()}
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _missing(value) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def layer_frame(
    layer: str, bbox, zoom: int, *, with_counts: bool = True
) -> gpd.GeoDataFrame | None:
    """The rows of ``layer`` visible to the current user in ``bbox`` at ``zoom``
    (grids with their open and overdue incident counts unless ``with_counts`` is off)."""
    if zoom < MIN_ZOOM[layer]:
        return None
    if layer == "grids":
        grids = store().current_grids(bbox=bbox)
        grids = grids[outline_mask(grids["code"])]
        if not with_counts:
            return grids
        counts = incident_counts()
        grids["open_incidents"] = grids["code"].map(counts["open"]).fillna(0).astype(int)
        grids["overdue_incidents"] = grids["code"].map(counts["overdue"]).fillna(0).astype(int)
        return grids
    if layer == "incidents":
        points = store().incident_points(bbox=bbox)
        points = visible_points(points[points.geometry.notna()])
        names = category_names()
        now = datetime.now(UTC)
        points["category"] = points["category_code"].map(names)
        points["overdue"] = [d is not None and d == d and d < now for d in points["deadline_at"]]
        return points
    if layer == "communities":
        frame = store().admin_areas("community")
        frame = frame[[grid_allowed(c) for c in frame["code"]]] if len(frame) else frame
        return frame[frame.intersects(shapely.box(*bbox))] if bbox else frame
    if layer == "roads":  # roads belong to no grid: shown as the map's background
        return store().read_layer(layer, bbox=bbox)
    frame = store().read_layer(layer, bbox=bbox, grid_codes=grid_scope())
    return frame[grid_mask(frame["grid_code"])] if len(frame) else frame


@bp.get("/geo/<layer>")
@requires("map.view")
def layer(layer: str):
    if layer not in MIN_ZOOM:
        abort(404)
    bbox = parse_bbox(request.args.get("bbox"))
    zoom = parse_zoom(request.args.get("zoom"))
    if zoom < MIN_ZOOM[layer]:
        body = {"type": "FeatureCollection", "features": [], "min_zoom": MIN_ZOOM[layer]}
        return conditional(jsonify(body), max_age=LAYER_MAX_AGE)
    if layer == "incidents":  # changes by the minute: drawn afresh, still revalidated by ETag
        frame = layer_frame(layer, bbox, zoom)
        return conditional(jsonify(feature_collection(frame, PROPERTIES[layer], zoom)))
    counts = incident_counts() if layer == "grids" else None
    drawing = (
        str(store().engine.url),
        layer,
        zoom,
        bbox,
        grid_visibility_key(),
        store().layer_revision(layer),
    )
    key = (*drawing, _fingerprint(counts))
    cache = layer_cache()
    entry = cache.get(key)
    if entry is None:  # the geometries are drawn once per revision; counts are added now
        drawn = layer_drawings().get(drawing)
        if drawn is None:
            frame = layer_frame(layer, bbox, zoom, with_counts=False)
            drawn = layer_drawings().put(drawing, draw_layer(frame, layer, zoom))
        late = None
        if counts is not None:
            open_now, overdue = counts["open"].to_dict(), counts["overdue"].to_dict()

            def late(code):
                return {
                    "open_incidents": int(open_now.get(code, 0)),
                    "overdue_incidents": int(overdue.get(code, 0)),
                }

        entry = cache.put(key, feature_collection_bytes(drawn, current_app.json.dumps, late=late))
    body, etag = entry
    response = current_app.response_class(body, mimetype="application/json")
    return conditional(response, max_age=LAYER_MAX_AGE, etag=etag)


def layer_cache() -> BodyCache:
    """This app's cache of map layer answers."""
    return current_app.extensions.setdefault("gridmgmt_layer_cache", BodyCache())


def layer_drawings() -> KeptDrawings:
    """This app's cache of drawn map layers (geometries written, counts still to add)."""
    return current_app.extensions.setdefault("gridmgmt_layer_drawings", KeptDrawings())


def draw_layer(frame: gpd.GeoDataFrame, layer: str, zoom: int) -> DrawnFeatures:
    """``frame``'s features simplified to ``zoom``, written once with the layer's properties."""
    geoms = simplified(frame.geometry.values, zoom)
    shown = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))  # nothing left to draw
    frame, geoms = frame[shown], geoms[shown]
    columns = [c for c in PROPERTIES[layer] if c in frame.columns]
    rows = frame[columns].to_dict("records")
    keys = frame["code"].tolist() if "code" in frame.columns else None
    return draw_features(geoms, rows, current_app.json.dumps, keys=keys)


def _fingerprint(counts: dict[str, pd.Series] | None) -> str | None:
    """A short hash of per-grid incident counts (part of the grids layer's cache key)."""
    if counts is None:
        return None
    text = json.dumps(
        {name: {str(k): int(v) for k, v in series.items()} for name, series in counts.items()},
        sort_keys=True,
    )
    return etag_of(text.encode())


@bp.get("/areas")
@requires("map.view")
def areas():
    """The 区 → 街道 → 社区 tree with bounding boxes and grid counts, for drill-down."""
    grids = store().current_grids()
    per = grids.groupby("community_code").agg(
        grids=("code", "size"), households=("households", "sum")
    )
    tree = []
    districts = store().admin_areas("district")
    streets = store().admin_areas("street")
    communities = store().admin_areas("community")
    for d in districts.itertuples():
        if not grid_allowed(d.code):
            continue
        d_node = {
            "level": "district",
            "code": d.code,
            "name": d.name,
            "bbox": _bbox(d.geometry),
            "children": [],
        }
        for s in streets[streets["parent_code"] == d.code].itertuples():
            if not grid_allowed(s.code):
                continue
            s_node = {
                "level": "street",
                "code": s.code,
                "name": s.name,
                "bbox": _bbox(s.geometry),
                "children": [],
            }
            for c in communities[communities["parent_code"] == s.code].itertuples():
                if not grid_allowed(c.code):
                    continue
                stats = per.loc[c.code] if c.code in per.index else None
                s_node["children"].append(
                    {
                        "level": "community",
                        "code": c.code,
                        "name": c.name,
                        "bbox": _bbox(c.geometry),
                        "grids": int(stats["grids"]) if stats is not None else 0,
                        "households": int(stats["households"]) if stats is not None else 0,
                    }
                )
            d_node["children"].append(s_node)
        tree.append(d_node)
    return jsonify(tree)


def incident_counts() -> dict[str, pd.Series]:
    """Open and overdue incidents per grid code, of the incidents the current user may see
    (counted in one grouped query)."""
    counts = store().open_counts_by_grid(incident_scope(), datetime.now(UTC))
    return {"open": counts["open"], "overdue": counts["overdue"]}


def category_names() -> dict[str, str]:
    from gridmgmt.domain.incidents import load_categories

    return {c.code: c.name for c in load_categories()}


def _bbox(geom) -> list[float] | None:
    return None if geom is None else [round(v, 6) for v in geom.bounds]


@bp.get("/grids/<code>")
@requires("map.view")
def grid_card(code: str):
    """The card shown when a grid is clicked (404 for a grid outside the user's reach)."""
    if not outline_mask([code])[0]:
        abort(404)
    grids = store().current_grids()
    row = grids[grids["code"] == code]
    if row.empty:
        abort(404)
    r = row.iloc[0]
    workers = store().users()
    names = [
        u.display_name or u.username
        for u in workers.itertuples()
        if u.role == "worker" and code in u.grid_codes
    ]
    if not grid_allowed(code):  # a neighbour's grid: its outline, not who works it
        names = []
    card = {
        "code": code,
        "kind": r["kind"],
        "households": int(r["households"]),
        "n_buildings": int(r["n_buildings"]),
        "flag": r["flag"] if isinstance(r["flag"], str) else None,
        "community_code": r["community_code"],
        "version": int(r["version"]),
        "workers": names,
        "bbox": _bbox(r.geometry),
    }
    counts = incident_counts()
    card["open_incidents"] = int(counts["open"].get(code, 0))
    card["overdue_incidents"] = int(counts["overdue"].get(code, 0))
    return jsonify(card)


#: search results per page when the client does not say, and at most
SEARCH_LIMIT, SEARCH_MAX = 30, 100


@bp.get("/search")
@requires("map.view")
def search():
    """Grids by code, communities by name, buildings and facilities by name or id.

    A JSON array (the map's search box reads it), paged by ``limit``
    (default 30, at most 100) and ``offset``; the total and the next page
    are in the ``X-Total-Count`` and ``Link`` headers.
    """
    try:
        page = parse_page(request.args, default=SEARCH_LIMIT, maximum=SEARCH_MAX)
    except PagingError as err:
        abort(400, description=str(err))
    q = (request.args.get("q") or "").strip()
    found, total = [], 0
    if len(q) >= 2:
        found, total = store().search(
            q, area=area_scope(), grid_codes=grid_scope(), limit=page.limit, offset=page.offset
        )
    results = [
        {"type": hit["type"], "label": hit["label"], "bbox": _bbox(hit["geometry"])}
        for hit in found
    ]
    return conditional(add_page_headers(jsonify(results), total, page))
