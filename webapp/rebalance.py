"""The supervisor's grid rebalancing page: manual moves, splits, merges, proposals, history.

Supervisors and admins only (403 for everyone else). On the map of one 社区
the supervisor selects buildings (or a whole 小区) and moves them to an
adjacent grid, splits a grid or merges two adjacent grids. Every change is
checked live (``POST /rebalance/api/<社区>/preview`` runs the manual
operation and returns per-grid totals and band/contiguity violations) and
saved as a proposal; proposals are listed with their diff (moved buildings,
households before/after, old and new boundaries on the map) and approved or
rejected; the version history offers rollback. Every POST carries the CSRF
token (form field or ``X-CSRFToken`` header).
"""

from __future__ import annotations

import shapely
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from gridmgmt.domain import rebalancing as rb
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store.proposals import ProposalStore
from webapp.extensions import store
from webapp.geo import feature_collection
from webapp.i18n import gettext as _
from webapp.json_provider import iso
from webapp.messages import anomaly_labels, translate, translate_lines
from webapp.policy import grid_allowed, requires

bp = Blueprint("rebalance", __name__, url_prefix="/rebalance")
# messages of the engine and store, in the page's language, for every template
bp.add_app_template_filter(translate, "translate")
bp.add_app_template_filter(anomaly_labels, "anomalies")

ZOOM = 19  # geometries simplified to about half a pixel at zoom 19: visually exact
GRID_COLUMNS = ["code", "kind", "households", "n_buildings", "flag"]
BUILDING_COLUMNS = ["building_id", "name", "households", "grid_code", "compound_id"]


def proposals() -> ProposalStore:
    return ProposalStore(store())


def _band() -> tuple[int, int]:
    return current_app.config["GRIDMGMT_SETTINGS"].band


def _in_reach(code: str) -> str:
    """``code`` if the 社区 is in the user's area; 404 otherwise (as if it did not exist)."""
    if not grid_allowed(code):
        abort(404)
    return code


def _state(code: str) -> rb.CommunityState:
    _in_reach(code)
    try:
        return rb.load_community(store(), proposals(), code)
    except NotFoundError:
        abort(404)
    except ValueError as err:
        abort(409, description=translate(str(err)))


def neighbours(grids) -> dict[str, list[str]]:
    """Grid code -> codes of the grids sharing a boundary with it (not just a corner)."""
    geoms = grids.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    out: dict[str, list[str]] = {c: [] for c in grids["code"]}
    codes = grids["code"].to_numpy()
    for i, j in zip(left, right, strict=True):
        if i == j:
            continue
        shared = shapely.intersection(geoms[i].boundary, geoms[j].boundary)
        if shared.length > 0:
            out[codes[i]].append(str(codes[j]))
    return {k: sorted(v) for k, v in out.items()}


@bp.get("/")
@requires("rebalance.edit")
def index():
    communities = store().admin_areas("community")
    if len(communities):
        communities = communities[[grid_allowed(c) for c in communities["code"]]]
    code = request.args.get("community") or (
        communities["code"].iloc[0] if len(communities) else None
    )
    if code:
        _in_reach(code)
    context = {"communities": communities.to_dict("records"), "community": None}
    if code:
        try:
            community = store().community(code)
        except NotFoundError:
            abort(404)
        p = proposals()
        listed = sorted(
            p.proposals(community["code"]),
            key=lambda r: (r["created_at"] is not None, r["created_at"], r["id"]),
            reverse=True,
        )  # newest first
        versions = list(reversed(p.grid_versions(community["code"])))
        context.update(
            community={"code": community["code"], "name": community["name"]},
            proposals=listed,
            versions=versions,
            current_version=p.current_version(community["code"]),
            next_version=max((v["version"] for v in versions), default=0) + 1,
            undone=versions[0] if versions else None,
            restored=versions[1] if len(versions) > 1 else None,
            shown=request.args.get("proposal", type=int),
        )
    return render_template("rebalance.html", band=_band(), **context)


@bp.get("/api/<code>/state")
@requires("rebalance.edit")
def state(code: str):
    s = _state(code)
    return jsonify(
        community={"code": s.code, "name": s.name},
        version=s.version,
        band=_band(),
        grids=feature_collection(s.grids, GRID_COLUMNS, ZOOM),
        buildings=feature_collection(s.buildings, BUILDING_COLUMNS, ZOOM),
        neighbours=neighbours(s.grids),
    )


def _draft(s: rb.CommunityState, body: dict) -> rb.Draft:
    op = body.get("op")
    if op not in rb.MANUAL_KINDS:
        abort(400, description=translate(f"op must be one of {', '.join(rb.MANUAL_KINDS)}"))
    base = body.get("base_version")
    if base is not None and int(base) != s.version:
        raise ConflictError(
            f"社区 {s.name} is now at grid version {s.version}, not {base}; reload the page"
        )
    if op == "move" and not body.get("to_code"):
        raise ValueError("move: choose the grid to move into on the map")
    lo, hi = _band()
    return rb.draft_manual(
        s,
        op,
        building_ids=[str(b) for b in body.get("building_ids") or []],
        to_code=body.get("to_code"),
        code=body.get("code"),
        codes=[str(c) for c in body.get("codes") or []],
        min_households=lo,
        max_households=hi,
    )


def _draft_json(draft: rb.Draft) -> dict:
    return {
        "version": draft.state.version,
        "violations": [translate(v) for v in draft.violations],
        "totals": draft.totals,
        "moves": draft.moves.to_dict("records"),
        "report": translate_lines(draft.report.get("text", "")),
        "grids": feature_collection(draft.result.grids, GRID_COLUMNS, ZOOM),
    }


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description=translate("expected a JSON object"))
    return body


@bp.post("/api/<code>/targets")
@requires("rebalance.edit")
def targets(code: str):
    """The grids the chosen buildings may move into (adjacent to them), for picking on the map."""
    s = _state(code)
    ids = _json_body().get("building_ids")
    if not isinstance(ids, list) or not ids:
        return jsonify(error=translate("move: choose at least one building")), 400
    lo, hi = _band()
    try:
        codes = rb.move_targets(s, [str(i) for i in ids], min_households=lo, max_households=hi)
    except ValueError as err:
        return jsonify(error=translate(str(err))), 400
    return jsonify(targets=codes)


@bp.post("/api/<code>/preview")
@requires("rebalance.edit")
def preview(code: str):
    """Run a manual operation without storing it: totals, violations, proposed grids."""
    s = _state(code)
    try:
        return jsonify(_draft_json(_draft(s, _json_body())))
    except ConflictError as err:
        return jsonify(error=translate(str(err))), 409
    except ValueError as err:
        return jsonify(error=translate(str(err))), 400


@bp.post("/api/<code>/proposals")
@requires("rebalance.edit")
def create_proposal(code: str):
    """Store a manual operation (recomputed here, never taken from the client) as a proposal."""
    s = _state(code)
    try:
        draft = _draft(s, _json_body())
    except ConflictError as err:
        return jsonify(error=translate(str(err))), 409
    except ValueError as err:
        return jsonify(error=translate(str(err))), 400
    pid = rb.propose(proposals(), draft, author=current_user.username)
    return jsonify(id=pid, url=url_for(".index", community=s.code, proposal=pid)), 201


@bp.post("/<code>/auto")
@requires("rebalance.edit")
def auto(code: str):
    """Run the automatic rebalance into a pending proposal."""
    s = _state(code)
    lo, hi = _band()
    try:
        draft = rb.draft_auto(
            s,
            min_households=lo,
            max_households=hi,
            split_compounds=not request.form.get("keep_compounds"),
        )
    except ValueError as err:
        flash(translate(str(err)))
        return redirect(url_for(".index", community=s.code))
    pid = rb.propose(proposals(), draft, author=current_user.username)
    flash(_("已生成调整方案") + f" #{pid}")
    return redirect(url_for(".index", community=s.code, proposal=pid))


@bp.get("/api/proposals/<int:pid>")
@requires("rebalance.edit")
def proposal(pid: int):
    """A proposal's diff: moves, totals, and its base and proposed grids."""
    try:
        p = proposals().proposal(pid)
        base = proposals().grids_of_version(_in_reach(p["community_code"]), p["base_version"])
    except NotFoundError:
        abort(404)
    meta = {
        k: (iso(v) if hasattr(v, "isoformat") else v)
        for k, v in p.items()
        if k not in ("grids", "moves")
    }
    meta["summary"] = translate(meta.get("summary"))
    meta["decision_note"] = translate(meta.get("decision_note"))
    report = dict(meta.get("report") or {})
    report["violations"] = [translate(v) for v in report.get("violations") or []]
    report["text"] = translate_lines(report.get("text"))
    meta["report"] = report
    changed = changed_codes(base, p["grids"])
    return jsonify(
        proposal=meta,
        moves=p["moves"].to_dict("records"),
        changed=changed,
        grids=feature_collection(p["grids"][p["grids"]["code"].isin(changed)], GRID_COLUMNS, ZOOM),
        base_grids=feature_collection(base[base["code"].isin(changed)], GRID_COLUMNS, ZOOM),
    )


def changed_codes(old, new) -> list[str]:
    """Codes of grids added, retired or reshaped between two versions (only these are drawn)."""
    before = dict(zip(old["code"], old.geometry, strict=True))
    after = dict(zip(new["code"], new.geometry, strict=True))
    return sorted(
        c
        for c in set(before) | set(after)
        if c not in before or c not in after or not shapely.equals(before[c], after[c])
    )


def _community_of(pid: int) -> str:
    try:
        return _in_reach(proposals().proposal(pid)["community_code"])
    except NotFoundError:
        abort(404)


@bp.post("/proposals/<int:pid>/approve")
@requires("rebalance.edit")
def approve(pid: int):
    code = _community_of(pid)
    try:
        version = rb.approve_proposal(store(), proposals(), pid, decided_by=current_user.username)
    except ConflictError as err:
        flash(_("无法批准") + f": {translate(str(err))}")
        return redirect(url_for(".index", community=code, proposal=pid))
    flash(_("已批准，新网格版本") + f" {version}")
    for grid, users in rb.retired_grid_workers(store(), proposals(), pid).items():
        flash(_("以下账号仍绑定已撤销的网格") + f" {grid}: {', '.join(users)}")
    return redirect(url_for(".index", community=code))


@bp.post("/proposals/<int:pid>/reject")
@requires("rebalance.edit")
def reject(pid: int):
    code = _community_of(pid)
    try:
        rb.reject_proposal(
            proposals(), pid, decided_by=current_user.username, note=request.form.get("note")
        )
    except ConflictError as err:
        flash(translate(str(err)))
        return redirect(url_for(".index", community=code))
    flash(_("已驳回方案") + f" #{pid}")
    return redirect(url_for(".index", community=code))


@bp.post("/proposals/<int:pid>/redo")
@requires("rebalance.edit")
def redo(pid: int):
    """Make a superseded proposal again on the current grid version."""
    code = _community_of(pid)
    lo, hi = _band()
    try:
        new = rb.redo_proposal(
            store(),
            proposals(),
            pid,
            author=current_user.username,
            min_households=lo,
            max_households=hi,
        )
    except ValueError as err:
        flash(translate(str(err)))
        return redirect(url_for(".index", community=code))
    flash(_("已按当前版本重做方案") + f" #{new}")
    return redirect(url_for(".index", community=code, proposal=new))


@bp.post("/<code>/rollback")
@requires("rebalance.edit")
def rollback(code: str):
    _in_reach(code)
    to_version = request.form.get("to_version", type=int)
    try:
        _pid, version = rb.rollback(
            store(), proposals(), code, author=current_user.username, to_version=to_version
        )
    except NotFoundError:
        abort(404)
    except (ConflictError, ValueError) as err:
        flash(translate(str(err)))
        return redirect(url_for(".index", community=code))
    flash(_("已回退，新网格版本") + f" {version}")
    return redirect(url_for(".index", community=code))
