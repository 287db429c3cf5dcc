"""JSON REST API for incidents under ``/api/v1`` (sessions with CSRF header, or API keys).

- ``POST /api/v1/photos``: upload a JPEG/PNG (≤ 10 MB) -> ``{"id": ...}``
- ``GET  /api/v1/incidents?state=&grid=&unassigned=1``
- ``POST /api/v1/incidents``: report (JSON: category_code, description, lon,
  lat, address, urgent, photo_ids, idempotency_key) -> 201 (200 when the
  idempotency key was seen already)
- ``GET  /api/v1/incidents/<id>``: the incident and its history
- ``POST /api/v1/incidents/<id>/transitions``: ``{"transition", "note",
  "photo_ids", "expected_version", "lon", "lat"}`` -> 200, 409 on a
  concurrent change, 422 when the workflow refuses

Grid workers see and act on incidents of their own grids only (404 for
others, so ids cannot be probed), department handlers bound to a department
on that department's; analysts get no reporter names.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required

from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.domain.incidents import TransitionError
from gridmgmt.domain.incidents.service import SOURCES, report_incident, transition_incident
from webapp.auth import bound_department
from webapp.extensions import store
from webapp.json_provider import iso
from webapp.photos import MAX_PHOTO_BYTES, photo_suffix, photos_exist, write_photo

bp = Blueprint("incidents_api", __name__, url_prefix="/api/v1")

REPORTERS = {"worker", "supervisor", "admin"}


def error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


def public(incident: dict, *, with_history: bool = False) -> dict:
    """An incident as JSON; analysts see no personal data."""
    out = {k: v for k, v in incident.items() if k not in ("geom", "history", "idempotency_key")}
    geom = incident.get("geom")
    out["lon"], out["lat"] = (geom.x, geom.y) if geom is not None else (None, None)
    for key in ("created_at", "updated_at", "deadline_at"):
        out[key] = iso(out.get(key))
    if current_user.role == "analyst":
        out.pop("reporter", None)
    if with_history:
        out["history"] = [
            {
                "seq": h["seq"],
                "at": iso(h["at"]),
                "actor": None if current_user.role == "analyst" else h["actor"],
                "role": h["role"],
                "transition": h["transition"],
                "from_state": h["from_state"],
                "to_state": h["to_state"],
                "note": h["note"],
                "photo_ids": h["photo_ids"],
                "deadline_at": iso(h.get("deadline_at")),
            }
            for h in incident["history"]
        ]
    return out


def visible(incident: dict) -> dict:
    """The incident if the current user may see it, else 404."""
    if not current_user.can_see_grid(incident["grid_code"]):
        abort(404)
    if (bound := bound_department()) and incident["department"] != bound:
        abort(404)
    return incident


@bp.post("/photos")
@login_required
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
@login_required
def list_incidents():
    grid_scope = current_user.grid_codes if current_user.role == "worker" else None
    unassigned = request.args.get("unassigned")
    table = store().incidents(
        state=request.args.get("state") or None,
        grid_codes=[request.args["grid"]] if request.args.get("grid") else grid_scope,
        unassigned=None if unassigned is None else unassigned in ("1", "true"),
    )
    if grid_scope is not None:
        table = table[table["grid_code"].isin(grid_scope)]
    if bound := bound_department():
        table = table[table["department"] == bound]
    rows = []
    for r in table.to_dict("records"):
        r.pop("idempotency_key", None)
        if current_user.role == "analyst":
            r.pop("reporter", None)
        for key in ("created_at", "updated_at", "deadline_at"):
            r[key] = iso(r.get(key))
        rows.append(r)
    return jsonify(rows)


@bp.post("/incidents")
@login_required
def create_incident():
    if current_user.role not in REPORTERS:
        abort(403)
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
    return jsonify(public(incident)), 201 if created else 200


@bp.get("/incidents/<int:incident_id>")
@login_required
def get_incident(incident_id: int):
    try:
        incident = store().incident(incident_id)
    except NotFoundError:
        abort(404)
    return jsonify(public(visible(incident), with_history=True))


@bp.post("/incidents/<int:incident_id>/transitions")
@login_required
def post_transition(incident_id: int):
    try:
        visible(store().incident(incident_id))
    except NotFoundError:
        abort(404)
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
    return jsonify(public(incident, with_history=True))
