"""JSON REST API for incidents under ``/api/v1`` (sessions with CSRF header, or API keys).

- ``POST /api/v1/photos``: upload a JPEG/PNG (≤ 10 MB) -> ``{"id": ...}``
- ``GET  /api/v1/incidents?state=&grid=&unassigned=1&limit=&offset=``: one
  page (:mod:`webapp.paging`: default 50, at most 500) as ``{"items",
  "total", "limit", "offset", "next", "prev"}``, oldest first, with a
  short-lived ETag (:mod:`webapp.caching`)
- ``POST /api/v1/incidents``: report (JSON: category_code, description, lon,
  lat, address, urgent, photo_ids, idempotency_key) -> 201 (200 when the
  idempotency key was seen already)
- ``GET  /api/v1/incidents/<id>``: the incident and its history
- ``POST /api/v1/incidents/<id>/transitions``: ``{"transition", "note",
  "photo_ids", "expected_version", "lon", "lat"}`` -> 200, 409 on a
  concurrent change, 422 when the workflow refuses

Who may call what, which incidents and which of their fields are returned
is decided by :mod:`gridmgmt.domain.access` (through :mod:`webapp.policy`):
an incident the caller may not see is a 404, so ids cannot be probed.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from gridmgmt.domain.errors import ConflictError
from gridmgmt.domain.incidents import TransitionError
from gridmgmt.domain.incidents.service import SOURCES, report_incident, transition_incident
from webapp.caching import conditional
from webapp.extensions import store
from webapp.paging import PagingError, add_page_headers, page_envelope, parse_page
from webapp.photos import MAX_PHOTO_BYTES, photo_suffix, photos_exist, write_photo
from webapp.policy import (
    incident_json,
    incident_rows,
    incident_scope,
    requires,
    visible_incident,
)

bp = Blueprint("incidents_api", __name__, url_prefix="/api/v1")


def error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.post("/photos")
@requires("photo.upload")
def upload_photo():
    file = request.files.get("photo")
    if file is None:
        return error(400, "no file in field 'photo'")
    data = file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        return error(413, "photo larger than 10 MB")
    suffix = photo_suffix(data)
    if suffix is None:
        return error(415, "not a JPEG or PNG image")
    return jsonify({"id": write_photo(data, suffix)}), 201


@bp.get("/incidents")
@requires("incident.read")
def list_incidents():
    try:
        page = parse_page(request.args)
    except PagingError as err:
        return error(400, str(err))
    unassigned = request.args.get("unassigned")
    rows, total = store().incident_records(
        incident_scope(),
        limit=page.limit,
        offset=page.offset,
        state=request.args.get("state") or None,
        grid_codes=[request.args["grid"]] if request.args.get("grid") else None,
        unassigned=None if unassigned is None else unassigned in ("1", "true"),
    )
    response = jsonify(page_envelope(incident_rows(rows), total, page))
    return conditional(add_page_headers(response, total, page))


@bp.post("/incidents")
@requires("incident.report")
def create_incident():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "expected a JSON object")
    photo_ids = body.get("photo_ids") or []
    if not isinstance(photo_ids, list) or not photos_exist(photo_ids):
        return error(400, "photo_ids must name uploaded photos")
    source = body.get("source") or ("网格员巡查" if current_user.role == "worker" else "其他")
    if source not in SOURCES:
        return error(400, f"unknown source {source!r}")
    try:
        incident, created = report_incident(
            store(),
            category_code=str(body.get("category_code", "")),
            description=str(body.get("description", "")),
            lon=body.get("lon"),
            lat=body.get("lat"),
            reporter=current_user.username,
            role=current_user.role,
            source=source,
            urgent=bool(body.get("urgent", False)),
            address=body.get("address"),
            photo_ids=photo_ids,
            idempotency_key=body.get("idempotency_key"),
        )
    except ValueError as err:
        return error(400, str(err))
    return jsonify(incident_json(incident)), 201 if created else 200


@bp.get("/incidents/<int:incident_id>")
@requires("incident.read")
def get_incident(incident_id: int):
    return jsonify(incident_json(visible_incident(incident_id), with_history=True))


@bp.post("/incidents/<int:incident_id>/transitions")
@requires("incident.transition")
def post_transition(incident_id: int):
    visible_incident(incident_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "transition" not in body:
        return error(400, "expected a JSON object with 'transition'")
    photo_ids = body.get("photo_ids") or []
    if not isinstance(photo_ids, list) or not photos_exist(photo_ids):
        return error(400, "photo_ids must name uploaded photos")
    try:
        incident = transition_incident(
            store(),
            incident_id,
            str(body["transition"]),
            actor=current_user.username,
            role=current_user.role,
            expected_version=body.get("expected_version"),
            note=body.get("note"),
            photo_ids=photo_ids,
            lon=body.get("lon"),
            lat=body.get("lat"),
        )
    except ConflictError as err:
        return error(409, str(err))
    except TransitionError as err:
        return error(403 if err.reason == "role" else 422, str(err))
    except ValueError as err:
        return error(400, str(err))
    return jsonify(incident_json(incident, with_history=True))
