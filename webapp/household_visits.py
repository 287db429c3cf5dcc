"""房屋台账 on 走访: the worker's phone page for confirming households, its API, the supervisor's review.

- ``GET /buildings`` (worker, supervisor, admin): the phone page. The worker
  opens a building by tapping it on the map (its own grids' buildings) or
  by searching its address or name, sees its households, population and
  where they come from, and confirms or corrects them with a note.
  ``static/js/buildings.js`` submits through ``window.Outbox.submit`` when
  the offline outbox is on the page (it queues the change with its
  idempotency key when there is no signal), else with ``fetch``.
- ``GET /api/v1/buildings?q=`` search; ``GET /api/v1/buildings/<id>`` the
  card; ``GET /api/v1/buildings/<id>/households`` its changes (analysts
  without names and notes).
- ``POST /api/v1/buildings/<id>/households``: JSON or form fields
  ``households``, ``population`` (optional), ``note``; the key in the
  ``Idempotency-Key`` header (or ``idempotency_key``). 201 with the change,
  the building and its grid's new total; 200 with ``replayed: true`` for a
  key stored before; 400 with the reason in Chinese, 403 outside the
  worker's grids, 404 for an unknown building.
- ``GET /households/changes`` (supervisor, admin) and its JSON twin
  ``/api/v1/households/changes``: the changes per grid with each grid's
  total and band status; a grid out of band offers the rebalance proposal
  (the existing ``rebalance.auto`` service) and a link to the editor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from flask import Blueprint, abort, current_app, jsonify, render_template, request

from gridmgmt.domain import household_visits as hv
from gridmgmt.domain.errors import ConflictError, ForbiddenError, NotFoundError
from gridmgmt.store.household_visits import HouseholdVisitStore
from webapp.auth import current_principal
from webapp.extensions import store
from webapp.i18n import current_language
from webapp.i18n import gettext as _
from webapp.json_provider import iso
from webapp.policy import grid_allowed, requires

bp = Blueprint("household_visits", __name__)

#: households_source -> (Chinese, English) label
SOURCE_LABELS = {
    "visit": ("走访核实", "confirmed on a visit"),
    "ledger": ("台账", "ledger"),
    "address_ledger": ("门牌台账", "address ledger"),
    "compound_ledger": ("小区台账", "compound ledger"),
    "levels": ("按层数估算", "estimate from floors"),
    "height": ("按高度估算", "estimate from height"),
    "default": ("默认估算", "default estimate"),
    "estimated": ("估算", "estimate"),
}
CONFIDENCE_LABELS = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}
BAND_LABELS = {
    "in_band": ("在范围内", "in band"),
    "under": ("低于范围", "below the band"),
    "over": ("超出范围", "above the band"),
    "unit": ("单位网格", "unit grid"),
    "retired": ("网格已调整", "grid redrawn since"),
}
#: review periods offered, in days
REVIEW_DAYS = (7, 30, 90)
SEARCH_LIMIT = 20


def repo() -> HouseholdVisitStore:
    return HouseholdVisitStore(store())


def _band() -> tuple[int, int]:
    return current_app.config["GRIDMGMT_SETTINGS"].band


def label(table: dict, key) -> str:
    """``key``'s label in the request's language (the key itself when unknown)."""
    pair = table.get(key)
    if pair is None:
        return "" if key is None else str(key)
    return pair[1] if current_language() == "en" else pair[0]


def _error(message: str, status: int):
    return jsonify(error=_(message)), status


def card_json(building: dict) -> dict:
    """A building's card for the page: counts with their source and confidence labelled."""
    out = {k: v for k, v in building.items() if k != "geom"}
    out["source_label"] = label(SOURCE_LABELS, building.get("households_source"))
    out["confidence_label"] = label(CONFIDENCE_LABELS, building.get("households_confidence"))
    street = building.get("addr_street") or ""
    number = building.get("addr_housenumber") or ""
    out["address"] = f"{street}{number}" or None
    return out


def changes_json(changes: pd.DataFrame, *, iso_times: bool = True) -> list[dict]:
    """Changes as JSON records (the client's idempotency key is never shown back); times as
    ISO 8601 text, or kept as datetimes for a template (``iso_times=False``)."""
    rows = changes.drop(columns=["idempotency_key"], errors="ignore").to_dict("records")
    for row in rows:
        if iso_times:
            row["created_at"] = iso(row["created_at"])
        row["confirmed"] = hv.is_confirmation(row)
        for key in ("population", "patrol_id", "grid_households_before", "grid_households_after"):
            if key in row and row[key] is not None and row[key] == row[key]:
                row[key] = int(row[key])
            elif key in row:
                row[key] = None
        if "note" in row and not isinstance(row["note"], str):
            row["note"] = None  # a missing note reads NaN from the table
        row["source_before_label"] = label(SOURCE_LABELS, row.get("source_before"))
    return rows


def grid_json(grid: dict | None) -> dict | None:
    if grid is None:
        return None
    return grid | {"band_label": label(BAND_LABELS, grid["band_status"])}


# ------------------------------------------------------------------ worker page
@bp.get("/buildings")
@requires("households.confirm")
def page():
    principal = current_principal()
    grids = store().current_grids()
    if principal.role == "worker":
        grids = grids[grids["code"].isin(principal.grid_codes)]
    else:
        grids = grids[[grid_allowed(c) for c in grids["code"]]]
    bbox = [round(float(v), 6) for v in grids.total_bounds] if len(grids) else None
    return render_template(
        "buildings.html",
        bbox=bbox,
        mine=list(principal.grid_codes) if principal.role == "worker" else [],
        band=_band(),
    )


# ------------------------------------------------------------------ API
@bp.get("/api/v1/buildings")
@requires("households.read")
def search():
    text = (request.args.get("q") or "").strip()
    if len(text) < 1:
        return jsonify([])
    if len(text) > 100:
        return _error("搜索内容过长", 400)
    found = hv.find_buildings(repo(), current_principal(), text, limit=SEARCH_LIMIT)
    return jsonify([card_json(b) for b in found])


@bp.get("/api/v1/buildings/<building_id>")
@requires("households.read")
def building(building_id: str):
    try:
        card = hv.readable_building(repo(), current_principal(), building_id)
        history = hv.building_history(repo(), current_principal(), building_id, limit=10)
    except NotFoundError:
        abort(404)
    return jsonify(card_json(card) | {"changes": changes_json(history)})


@bp.get("/api/v1/buildings/<building_id>/households")
@requires("households.read")
def history(building_id: str):
    try:
        changes = hv.building_history(repo(), current_principal(), building_id)
    except NotFoundError:
        abort(404)
    return jsonify(changes_json(changes))


@bp.post("/api/v1/buildings/<building_id>/households")
@requires("households.confirm")
def confirm(building_id: str):
    body = request.get_json(silent=True) if request.is_json else request.form
    if request.is_json and not isinstance(body, dict):
        return _error("请求内容须为 JSON 对象或表单", 400)
    key = request.headers.get("Idempotency-Key") or body.get("idempotency_key")
    try:
        outcome = hv.record_visit(
            repo(),
            current_principal(),
            building_id,
            households=body.get("households"),
            population=body.get("population"),
            note=body.get("note"),
            idempotency_key=key,
            band=_band(),
        )
    except NotFoundError:
        return _error("未找到该建筑", 404)
    except ForbiddenError as err:
        return _error(str(err), 403)
    except hv.VisitInputError as err:
        return _error(str(err), 400)
    except ConflictError as err:
        return _error(str(err), 409)
    answer = {
        "change": changes_json(_one(outcome.change))[0],
        "replayed": outcome.replayed,
        "confirmed": outcome.confirmed,
        "building": card_json(outcome.building),
        "grid": grid_json(outcome.grid),
    }
    return jsonify(answer), 200 if outcome.replayed else 201


def _one(change: dict) -> pd.DataFrame:
    return pd.DataFrame([change])


# ------------------------------------------------------------------ supervisor review
def _review():
    days = request.args.get("days", type=int) or 30
    if days not in REVIEW_DAYS:
        abort(400, description=_("时间范围") + ": " + " / ".join(map(str, REVIEW_DAYS)))
    community = request.args.get("community") or None
    if community is not None and not grid_allowed(community):
        abort(404)
    since = datetime.now(UTC) - timedelta(days=days)
    reviews = hv.review_changes(
        repo(), current_principal(), since=since, band=_band(), community_code=community
    )
    return days, community, reviews


@bp.get("/households/changes")
@requires("households.review")
def review_page():
    days, community, reviews = _review()
    communities = store().admin_areas("community")
    communities = communities[[grid_allowed(c) for c in communities["code"]]]
    return render_template(
        "household_changes.html",
        days=days,
        day_choices=REVIEW_DAYS,
        community=community,
        communities=communities[["code", "name"]].to_dict("records"),
        reviews=[
            {
                "grid": grid_json(r.grid),
                "left_band": r.left_band,
                "changes": changes_json(r.changes, iso_times=False),
            }
            for r in reviews
        ],
        band=_band(),
    )


@bp.get("/api/v1/households/changes")
@requires("households.review")
def review_json():
    days, community, reviews = _review()
    return jsonify(
        days=days,
        band=list(_band()),
        grids=[
            {
                "grid": grid_json(r.grid),
                "left_band": r.left_band,
                "changes": changes_json(r.changes),
            }
            for r in reviews
        ],
    )
