"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) at ``/ogcapi`` for QGIS, GDAL, ArcGIS.

The API definition is served at ``/ogcapi/api`` (``service-desc``).

Collections: ``grids`` (current 责任网格), ``buildings``, ``facilities``,
``incidents``. Coordinates are CRS84 (lon/lat, WGS84), as the standard's
default. Paging: ``limit`` (default 10, at most 1000, as the standard
suggests; larger values are lowered to 1000 as it allows, 0 or less is a
400; read by :mod:`webapp.paging` like every other list) and ``offset``
(≥ 0) with ``next``/``prev`` links; ``numberMatched`` is the total.
Incidents are filtered, counted and paged in the store's query. ``bbox`` is ``minx,miny,maxx,maxy``
(a 6-number 3D box is accepted, its heights ignored; boxes crossing the
antimeridian are refused). ``datetime`` (an instant or an interval
``start/end``, ``..`` or empty for an open end) filters incidents by their
report time (``created_at``); the other collections have no time and ignore
it. JSON is served (``f=json``, the default); the landing page also comes
as an HTML page in the user's language for people who open it in a browser
(``f=html``, or ``Accept: text/html`` preferred over JSON, as browsers send;
programs asking for ``*/*`` or JSON keep getting JSON). Unknown parameters are
a 400. Errors come as ``{"code": ..., "description": ...}``.

Who sees what: clients send ``X-API-Key`` (``gridmgmt apikey add CLIENT
--role ROLE``) or use their log-in session; the access policy
(:mod:`gridmgmt.domain.access`) decides, as for every other door:

- admin, supervisor: everything (of their area when bound to one);
- dept: grids, buildings and facilities, and the incidents that reached the
  departments (their own department's when bound to one);
- worker: only their own grids and the buildings, facilities and incidents
  in them (a worker key whose client name is a worker's username inherits
  that worker's grids; any other worker key sees nothing);
- analyst: no personal data: incidents without the reporter, description,
  address, department and idempotency key, and with locations rounded to
  0.001° (about 100 m), so a complaint cannot be traced to a door; grids
  carry incident counts.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely
from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from webapp.errors import wants_html
from webapp.extensions import store
from webapp.feature_json import DrawnFeatures, draw_features, feature_collection_bytes
from webapp.geo import layer_drawings
from webapp.i18n import current_language
from webapp.json_provider import is_missing
from webapp.paging import PagingError, parse_page
from webapp.policy import (
    grid_mask,
    grid_query_scope,
    grid_scope,
    grid_visibility_key,
    incident_scope,
    redact_incident_frame,
    requires,
    visible_incident_table,
)

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
COLLECTIONS = {
    "grids": ("责任网格 Responsibility grids", "Current grids with households and incident counts"),
    "buildings": ("建筑 Buildings", "Building footprints with households and their grid"),
    "facilities": ("设施 Facilities", "Schools, hospitals, markets and other facilities"),
    "incidents": ("事件 Incidents", "Reported incidents (事件/部件) with their state"),
}
#: the collections' descriptions on the Chinese HTML landing page
DESCRIPTIONS_ZH = {
    "grids": "当前责任网格，含户数和事件数",
    "buildings": "建筑轮廓，含户数和所属网格",
    "facilities": "学校、医院、市场等设施",
    "incidents": "上报的事件/部件及其状态",
}
ID_COLUMN = {"grids": "code", "buildings": "building_id", "facilities": "facility_id"}
ITEM_PARAMS = {"f", "limit", "offset", "bbox", "datetime", "api_key"}
INCIDENT_FIELDS = (
    "number",
    "category_code",
    "state",
    "grid_code",
    "source",
    "urgent",
    "created_at",
    "updated_at",
    "deadline_at",
    "unassigned_reason",
    # shown where the access policy allows (dropped from the frame otherwise)
    "reporter",
    "description",
    "address",
    "department",
)


class OgcError(Exception):
    """A request the API refuses, with its HTTP status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _json(body, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(_dumps(body), status=status, mimetype=media_type)


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@bp.errorhandler(OgcError)
def _ogc_error(err: OgcError):
    return _json({"code": err.code, "description": err.description}, err.status)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    return _json({"code": err.name.replace(" ", ""), "description": err.description}, err.code)


@bp.before_request
def _only_json():
    fmt = request.args.get("f", "json")
    if fmt == "html" and request.endpoint == "ogcapi.landing":
        return
    if fmt != "json":
        raise OgcError(400, "InvalidParameterValue", f"f={fmt!r}: only f=json is served")


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(href: str, rel: str, media_type: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


# --------------------------------------------------------------- resources
@bp.get("")
@bp.get("/")
@requires("ogcapi.read")
def landing():
    if wants_html():
        return _landing_html()
    response = _json(
        {
            "title": "gridmgmt 网格化管理 OGC API – Features",
            "description": "Grids, buildings, facilities and incidents of this deployment.",
            "links": [
                _link(_url("ogcapi.landing"), "self", "application/json", "This document"),
                _link(
                    _url("ogcapi.landing", f="html"),
                    "alternate",
                    "text/html",
                    "This document as HTML",
                ),
                _link(_url("ogcapi.openapi"), "service-desc", OPENAPI, "The API definition"),
                _link(
                    _url("ogcapi.conformance"),
                    "conformance",
                    "application/json",
                    "Conformance classes",
                ),
                _link(_url("ogcapi.collections"), "data", "application/json", "Collections"),
            ],
        }
    )
    response.vary.add("Accept")  # the same address answers HTML to browsers
    return response


def _landing_html() -> Response:
    """The landing page for a person: what the API offers, its links and how to connect."""
    english = current_language() == "en"
    collections = [
        {
            "id": cid,
            "title": title.split(" ", 1)[1] if english else title.split(" ", 1)[0],
            "description": description if english else DESCRIPTIONS_ZH[cid],
            "items_url": _url("ogcapi.items", collection_id=cid, f="json", limit=10),
            "about": _url("ogcapi.collection", collection_id=cid, f="json"),
        }
        for cid, (title, description) in COLLECTIONS.items()
    ]
    html = render_template(
        "ogcapi_landing.html",
        landing=_url("ogcapi.landing"),
        json_url=_url("ogcapi.landing", f="json"),
        api_url=_url("ogcapi.openapi", f="json"),
        conformance_url=_url("ogcapi.conformance", f="json"),
        collections_url=_url("ogcapi.collections", f="json"),
        collections=collections,
    )
    response = Response(html, mimetype="text/html")
    response.vary.add("Accept")
    return response


@bp.get("/api")
@requires("ogcapi.read")
def openapi():
    return _json(openapi_document(), media_type=OPENAPI)


@bp.get("/conformance")
@requires("ogcapi.read")
def conformance():
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/collections")
@requires("ogcapi.read")
def collections():
    return _json(
        {
            "links": [_link(_url("ogcapi.collections"), "self", "application/json", "Collections")],
            "collections": [_collection(cid) for cid in COLLECTIONS],
        }
    )


@bp.get("/collections/<collection_id>")
@requires("ogcapi.read")
def collection(collection_id: str):
    _known(collection_id)
    return _json(_collection(collection_id))


@bp.get("/collections/<collection_id>/items")
@requires("ogcapi.read")
def items(collection_id: str):
    _known(collection_id)
    unknown = sorted(set(request.args) - ITEM_PARAMS)
    if unknown:
        raise OgcError(400, "InvalidParameterValue", f"unknown parameter(s): {', '.join(unknown)}")
    try:
        paging = parse_page(request.args, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except PagingError as err:
        raise OgcError(400, "InvalidParameterValue", str(err)) from None
    limit, offset = paging.limit, paging.offset
    bbox = parse_bbox(request.args.get("bbox"))
    interval = parse_datetime(request.args.get("datetime"))
    late = None
    if collection_id == "incidents":  # filtered, counted and paged in the store's query
        page, matched = incident_page(limit, offset, bbox, interval)
        drawn = _drawn(collection_id, page)
    else:  # drawn once per data revision and reader's view; incident counts added now
        drawn = drawn_page(collection_id, limit, offset, bbox)
        matched = drawn.matched
        if collection_id == "grids":
            counts = store().counts_by_grid(incident_scope(), drawn.keys)

            def late(code):
                return {"incidents": counts.get(code, 0)}

    links = [_link(_page_url(collection_id, offset, limit), "self", GEOJSON, "This page")]
    if offset + len(drawn) < matched:
        links.append(
            _link(_page_url(collection_id, offset + limit, limit), "next", GEOJSON, "Next page")
        )
    if offset > 0:
        links.append(
            _link(
                _page_url(collection_id, max(0, offset - limit), limit),
                "prev",
                GEOJSON,
                "Previous page",
            )
        )
    links.append(
        _link(
            _url("ogcapi.collection", collection_id=collection_id),
            "collection",
            "application/json",
            "The collection",
        )
    )
    members = {
        "links": links,
        "numberMatched": matched,
        "numberReturned": len(drawn),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    body = feature_collection_bytes(drawn, _dumps, late=late, members=members)
    return Response(body, mimetype=GEOJSON)


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
@requires("ogcapi.read")
def item(collection_id: str, feature_id: str):
    _known(collection_id)
    if collection_id == "incidents":
        wanted = [int(feature_id)] if feature_id.isdigit() else []
        frame, _ = incident_page(1, 0, ids=wanted)
    else:
        frame, _ = visible_page(collection_id, 1, 0, ids=[feature_id])
    column = ID_COLUMN.get(collection_id, "id")
    hit = frame[frame[column].astype(str) == feature_id]
    if hit.empty:
        raise OgcError(404, "NotFound", f"no feature {feature_id!r} in {collection_id}")
    (feature,) = _features(collection_id, hit.iloc[:1])
    feature["links"] = [
        _link(
            _url("ogcapi.item", collection_id=collection_id, feature_id=feature_id),
            "self",
            GEOJSON,
            "This feature",
        ),
        _link(
            _url("ogcapi.collection", collection_id=collection_id),
            "collection",
            "application/json",
            "The collection",
        ),
    ]
    return _json(feature, media_type=GEOJSON)


# ------------------------------------------------------------------ OpenAPI
def openapi_document() -> dict:
    """The OpenAPI 3.0 definition of this service (paths, parameters, responses)."""

    def param(name, description, schema, where="query", required=False):
        return {
            "name": name,
            "in": where,
            "required": required or where == "path",
            "description": description,
            "schema": schema,
            "style": "form" if where == "query" else "simple",
            "explode": False,
        }

    collection_id = param(
        "collectionId", "collection", {"type": "string", "enum": list(COLLECTIONS)}, "path"
    )
    items_params = [
        collection_id,
        param(
            "limit",
            f"page size (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        param("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
        param(
            "bbox",
            "minx,miny,maxx,maxy in CRS84",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        param("datetime", "instant or interval (incidents: report time)", {"type": "string"}),
        param("f", "format", {"type": "string", "enum": ["json"], "default": "json"}),
    ]
    exception = {
        "description": "an exception",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                }
            }
        },
    }

    def ok(media_type, description):
        return {"description": description, "content": {media_type: {"schema": {"type": "object"}}}}

    def get(op_id, summary, responses, parameters=()):
        return {
            "get": {
                "operationId": op_id,
                "summary": summary,
                "parameters": list(parameters),
                "responses": {**responses, "400": exception, "401": exception, "404": exception},
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmgmt OGC API – Features", "version": "1.0.0"},
        "servers": [{"url": _url("ogcapi.landing").rstrip("/")}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/": get("getLandingPage", "landing page", {"200": ok("application/json", "links")}),
            "/conformance": get(
                "getConformance", "conformance classes", {"200": ok("application/json", "classes")}
            ),
            "/collections": get(
                "getCollections", "collections", {"200": ok("application/json", "collections")}
            ),
            "/collections/{collectionId}": get(
                "describeCollection",
                "one collection",
                {"200": ok("application/json", "collection")},
                [collection_id],
            ),
            "/collections/{collectionId}/items": get(
                "getFeatures",
                "features of a collection",
                {"200": ok(GEOJSON, "a FeatureCollection")},
                items_params,
            ),
            "/collections/{collectionId}/items/{featureId}": get(
                "getFeature",
                "one feature",
                {"200": ok(GEOJSON, "a Feature")},
                [collection_id, param("featureId", "feature id", {"type": "string"}, "path")],
            ),
        },
    }


# ----------------------------------------------------------------- helpers
def _known(collection_id: str) -> None:
    if collection_id not in COLLECTIONS:
        raise OgcError(
            404,
            "NotFound",
            f"no collection {collection_id!r}; collections: {', '.join(COLLECTIONS)}",
        )


def _collection(cid: str) -> dict:
    frame = visible_frame(cid)
    bounds = frame.total_bounds if len(frame) and frame.geometry.notna().any() else None
    extent = {
        "spatial": {
            "bbox": [[round(float(v), 7) for v in bounds]]
            if bounds is not None and not any(math.isnan(v) for v in bounds)
            else [[-180.0, -90.0, 180.0, 90.0]],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
    }
    if cid == "incidents" and len(frame):
        created = pd.to_datetime(frame["created_at"], utc=True)
        extent["temporal"] = {
            "interval": [[_iso(created.min()), _iso(created.max())]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    title, description = COLLECTIONS[cid]
    return {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": extent,
        "links": [
            _link(_url("ogcapi.collection", collection_id=cid), "self", "application/json", title),
            _link(_url("ogcapi.items", collection_id=cid), "items", GEOJSON, f"{title} items"),
        ],
    }


def _iso(ts) -> str:
    return ts.to_pydatetime().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _page_url(cid: str, offset: int, limit: int) -> str:
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit", "api_key")}
    return _url("ogcapi.items", collection_id=cid, **args, limit=limit, offset=offset)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (or a 3D ``minx,miny,minz,maxx,maxy,maxz``) in CRS84."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise OgcError(
            400, "InvalidParameterValue", f"bbox must be 4 or 6 numbers, got {text!r}"
        ) from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise OgcError(400, "InvalidParameterValue", f"bbox must be 4 or 6 numbers, got {text!r}")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise OgcError(
            400,
            "InvalidParameterValue",
            f"bbox {text!r} is outside lon/lat range or has miny > maxy",
        )
    if minx > maxx:
        raise OgcError(
            400,
            "InvalidParameterValue",
            f"bbox {text!r}: boxes crossing the antimeridian are not supported",
        )
    return minx, miny, maxx, maxy


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """An RFC 3339 instant or interval (``..``/empty for open ends) as aware UTC bounds."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) > 2:
        raise OgcError(400, "InvalidParameterValue", f"datetime {text!r}: at most one '/'")
    bounds = [_instant(p, text) for p in parts]
    if len(bounds) == 1:
        if bounds[0] is None:
            raise OgcError(400, "InvalidParameterValue", "datetime instant must not be open")
        return bounds[0], bounds[0]
    start, end = bounds
    if start is not None and end is not None and start > end:
        raise OgcError(
            400, "InvalidParameterValue", f"datetime interval {text!r} ends before it starts"
        )
    return start, end


def _instant(part: str, whole: str) -> datetime | None:
    if part in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(part.replace("Z", "+00:00"))
    except ValueError:
        raise OgcError(
            400, "InvalidParameterValue", f"datetime {whole!r}: {part!r} is not RFC 3339"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -------------------------------------------------------------- visibility
def visible_frame(cid: str) -> gpd.GeoDataFrame:
    """The rows of collection ``cid`` the current client may read, in a stable order."""
    if cid == "grids":
        frame = store().current_grids()
        frame = frame[grid_mask(frame["code"])]
        counts = visible_incident_table(store().incidents(grid_codes=list(frame["code"])))
        per = counts.groupby("grid_code").size() if len(counts) else pd.Series(dtype=int)
        frame = frame.assign(incidents=frame["code"].map(per).fillna(0).astype(int))
        return frame.reset_index(drop=True)
    if cid in ("buildings", "facilities"):
        frame = store().read_layer(cid, grid_codes=grid_scope())
        return frame[grid_mask(frame["grid_code"])].reset_index(drop=True)
    return _incidents()


def drawn_page(cid: str, limit: int, offset: int, bbox=None) -> DrawnFeatures:
    """One page of collection ``cid`` (grids, buildings or facilities), written as GeoJSON
    once per data revision and reader's view (grids without their incident counts)."""
    key = (
        str(store().engine.url),
        "ogcapi",
        cid,
        store().layer_revision(cid),
        grid_visibility_key(),
        limit,
        offset,
        bbox,
    )
    drawn = layer_drawings().get(key)
    if drawn is None:
        page, total = visible_page(cid, limit, offset, bbox, with_counts=False)
        drawn = layer_drawings().put(key, _drawn(cid, page, matched=total))
    return drawn


def visible_page(
    cid: str, limit: int, offset: int, bbox=None, ids=None, *, with_counts: bool = True
) -> tuple[gpd.GeoDataFrame, int]:
    """One page of collection ``cid`` (grids, buildings or facilities) as the client may see
    it (in ``bbox``, among ``ids``) and how many there are: paged in the store's query."""
    scope = grid_query_scope()
    if cid == "grids":
        page, total = store().grid_page(scope, limit=limit, offset=offset, bbox=bbox, codes=ids)
        if with_counts:
            counts = store().counts_by_grid(incident_scope(), page["code"])
            page = page.assign(incidents=[counts.get(c, 0) for c in page["code"]])
        return page, total
    return store().layer_page(cid, scope, limit=limit, offset=offset, bbox=bbox, source_ids=ids)


def _incidents() -> gpd.GeoDataFrame:
    table = visible_incident_table(store().incidents(grid_codes=grid_scope()))
    points = store().incident_points(open_only=False)
    geoms = dict(zip(points["id"], points.geometry, strict=True))
    frame = gpd.GeoDataFrame(table, geometry=[geoms.get(i) for i in table["id"]], crs="EPSG:4326")
    frame = redact_incident_frame(frame.drop(columns=["idempotency_key"], errors="ignore"))
    return frame.reset_index(drop=True)


def incident_page(
    limit: int, offset: int, bbox=None, interval=None, ids=None
) -> tuple[gpd.GeoDataFrame, int]:
    """One page of the incidents the client may see (in ``bbox``, reported in ``interval``,
    among ``ids``) and how many there are, redacted for the client."""
    start, end = interval if interval is not None else (None, None)
    table, total = store().incident_page(
        incident_scope(),
        limit=limit,
        offset=offset,
        bbox=bbox,
        ids=ids,
        created_from=start,
        created_to=end,
        with_location=True,
    )
    points = [
        None if is_missing(x) or is_missing(y) else shapely.Point(x, y)
        for x, y in zip(table["lon"], table["lat"], strict=True)
    ]
    frame = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat", "idempotency_key"]), geometry=points, crs="EPSG:4326"
    )
    return redact_incident_frame(frame).reset_index(drop=True), total


def _drawn(cid: str, frame: gpd.GeoDataFrame, matched: int | None = None) -> DrawnFeatures:
    """The rows of ``frame`` written as GeoJSON features (column by column, not row by row)."""
    if cid == "incidents":
        fields = [c for c in INCIDENT_FIELDS if c in frame.columns]
        ids = [int(v) for v in frame["id"]]
    else:
        fields = [c for c in frame.columns if c not in ("geometry", "geom", "valid_to", "id")]
        ids = [str(v) for v in frame[ID_COLUMN[cid]]]
    values = [[_value(v) for v in frame[c].tolist()] for c in fields]
    rows = [dict(zip(fields, row, strict=True)) for row in zip(*values, strict=True)]
    rows = rows if fields else [{} for _ in ids]
    return draw_features(frame.geometry.values, rows, _dumps, keys=ids, ids=ids, matched=matched)


def _features(cid: str, frame: gpd.GeoDataFrame) -> list[dict]:
    """The rows of ``frame`` as GeoJSON feature objects."""
    return json.loads(feature_collection_bytes(_drawn(cid, frame), _dumps))["features"]


def _value(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
