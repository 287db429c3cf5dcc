"""Open311 GeoReport v2 at ``/open311/v2/`` for hotline systems and third-party reporting apps.

Clients authenticate with an API key (``gridmgmt apikey add CLIENT``), sent as
``X-API-Key`` or, as Open311 clients do, the ``api_key`` parameter. Our
states map to Open311's two: closed (结案, 不予立案, 撤销) or open. Only the
``.json`` format is served. Which requests a client reads back, and which of
their fields, is the access policy's answer (:mod:`gridmgmt.domain.access`):
a hotline key reads the requests it submitted, a worker's key those of its
grids, an analyst's without personal text.

``GET requests.json`` pages with ``page`` (from 1) and ``page_size``
(default 50, at most 500; :mod:`webapp.paging`), oldest request first. The
body stays GeoReport's plain array; the total and the neighbouring pages
are in the ``X-Total-Count`` and ``Link`` headers. A page past the end is
an empty array. Filters (``service_request_id``, ``service_code``,
``status``, ``start_date``, ``end_date``) and the caller's access scope
are applied in the query, so one page costs two queries.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify, request
from flask_login import current_user

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain import access
from gridmgmt.domain.incidents import load_categories, load_workflow
from gridmgmt.domain.incidents.service import report_incident
from webapp.auth import current_principal
from webapp.caching import conditional
from webapp.extensions import store
from webapp.json_provider import is_missing, iso
from webapp.paging import PagingError, add_page_headers, parse_numbered_page
from webapp.policy import incident_scope, requires, rounded_location, visible_incident

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
_WORKFLOW = load_workflow()


def _error(status: int, code: int, description: str):
    response = jsonify([{"code": code, "description": description}])
    response.status_code = status
    return response


def _request_json(incident: dict, services: dict) -> dict:
    """One request in GeoReport v2 form, with only the fields the caller may see.

    ``incident`` carries ``lon``/``lat`` (a listed row) or ``geom`` (one loaded incident).
    """
    state = _WORKFLOW.states[incident["state"]]
    if "geom" in incident:
        geom = incident["geom"]
        lon, lat = (geom.x, geom.y) if geom is not None else (None, None)
    else:
        lon, lat = incident.get("lon"), incident.get("lat")
    lon, lat = rounded_location(None if is_missing(lon) else lon, None if is_missing(lat) else lat)
    fields = access.incident_fields(current_principal())
    return {
        "service_request_id": str(incident["id"]),
        "token": incident["number"],
        "status": state.open311_status,
        "status_notes": f"{state.label_zh} ({state.label_en})",
        "service_name": services.get(incident["category_code"], ""),
        "service_code": incident["category_code"],
        "description": incident["description"] if fields.personal else None,
        "agency_responsible": incident.get("department") if fields.department else None,
        "requested_datetime": iso(incident["created_at"]),
        "updated_datetime": iso(incident["updated_at"]),
        "expected_datetime": iso(incident.get("deadline_at")),
        "address": incident.get("address") if fields.personal else None,
        "lat": lat,
        "long": lon,
    }


def _services() -> dict[str, str]:
    return {c.code: c.name for c in load_categories()}


@bp.get("/services.json")
@requires("open311.read")
def services():
    return jsonify(
        [
            {
                "service_code": c.code,
                "service_name": c.name,
                "description": f"{c.family} · {c.major_name} · {c.name} ({c.name_en})",
                "metadata": False,
                "type": "realtime",
                "keywords": c.name_en,
                "group": c.major_name,
            }
            for c in load_categories()
        ]
    )


@bp.get("/services/<code>.json")
@requires("open311.read")
def service_definition(code: str):
    if store().category(code) is None:
        return _error(404, 404, f"unknown service_code {code}")
    return jsonify({"service_code": code, "attributes": []})


#: the source an Open311 submission is recorded with, by the submitting principal's role
OPEN311_SOURCES = {"worker": "网格员巡查", "hotline": "12345热线", "supervisor": "12345热线"}


@bp.post("/requests.json")
@requires("open311.submit")
def post_request():
    form = request.form if request.form else (request.get_json(silent=True) or {})
    code = form.get("service_code", "")
    try:
        incident, _ = report_incident(
            store(),
            category_code=code,
            description=form.get("description", ""),
            lon=form.get("long"),
            lat=form.get("lat"),
            reporter=current_user.username,
            role=current_user.role,
            # the same category rules as /api/v1: a worker's report needs its photo
            source=OPEN311_SOURCES.get(current_user.role, "12345热线"),
            address=form.get("address_string"),
            idempotency_key=f"open311:{current_user.username}:{form['token']}"
            if form.get("token")
            else None,
        )
    except ValueError as err:
        return _error(400, 400, str(err))
    return jsonify(
        [
            {
                "service_request_id": str(incident["id"]),
                "token": incident["number"],
                "service_notice": "已受理",
                "account_id": None,
            }
        ]
    ), 201


#: states Open311 calls closed, and open
CLOSED_STATES = tuple(name for name, st in _WORKFLOW.states.items() if st.closed)
OPEN_STATES = tuple(name for name, st in _WORKFLOW.states.items() if not st.closed)


@bp.get("/requests.json")
@requires("open311.read")
def get_requests():
    try:
        _, page = parse_numbered_page(request.args)
    except PagingError as err:
        return _error(400, 400, str(err))
    bounds = {}
    for arg in ("start_date", "end_date"):
        if request.args.get(arg):
            try:
                bound = datetime.fromisoformat(request.args[arg].replace("Z", "+00:00"))
            except ValueError:
                return _error(400, 400, f"{arg} must be ISO 8601")
            # without a zone: the deployment's (Asia/Shanghai), as every date of the platform
            bounds[arg] = bound if bound.tzinfo else bound.replace(tzinfo=SHANGHAI)
    ids = request.args.get("service_request_id")
    try:
        wanted = [int(v) for v in ids.split(",")] if ids else None
    except ValueError:
        return _error(400, 400, "service_request_id must be comma-separated numbers")
    status = request.args.get("status")
    if status not in (None, "", "open", "closed"):
        return _error(400, 400, "status must be open or closed")
    codes = request.args.get("service_code")
    rows, total = store().incident_records(
        incident_scope(),
        limit=page.limit,
        offset=page.offset,
        ids=wanted,
        category_codes=codes.split(",") if codes else None,
        states={"open": OPEN_STATES, "closed": CLOSED_STATES}.get(status or ""),
        created_from=bounds.get("start_date"),
        created_to=bounds.get("end_date"),
        with_location=True,
    )
    services = _services()
    response = jsonify([_request_json(r, services) for r in rows])
    return conditional(add_page_headers(response, total, page, numbered=True))


@bp.get("/requests/<int:request_id>.json")
@requires("open311.read")
def get_request(request_id: int):
    return jsonify([_request_json(visible_incident(request_id), _services())])
