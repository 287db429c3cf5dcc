"""The 街道 centre's dispatch desk, the case page, and the department handlers' page.

- ``/desk``: queues (待立案, 待派遣, 延期申请, 待结案, 超期, 临期) and filters by
  社区, grid, category, state, department and date (supervisor, admin);
- ``/cases/<id>``: the case with its full history and photos, and the
  actions the user's role may take now (every role but analysts, in scope);
  who may open what is :mod:`gridmgmt.domain.access`'s answer;
- ``/dept``: cases held by departments, 接收 / 处置完毕 / 回退 / 申请延期
  as the workflow allows (dept, admin);
- ``POST /cases/<id>/transition``: a form transition (CSRF token required);
- ``GET /api/v1/desk/updates``: the queue counts and the cases new since the
  page loaded (the desk polls it every 30 s and shows a badge);
- ``POST /api/v1/desk/dispatch``: 批量派遣, several cases to one department,
  each through the single-case service and its checks, one result per case.

The lists and rules come from :mod:`gridmgmt.domain.incidents.desk`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from gridmgmt.domain.accounts import ROLES
from gridmgmt.domain.incidents import bulk, load_categories
from gridmgmt.domain.incidents import desk as work
from webapp.auth import current_principal
from webapp.casework import transition_from_form
from webapp.extensions import store
from webapp.i18n import current_language
from webapp.i18n import gettext as _
from webapp.photos import incident_photo_ids, photos_dir
from webapp.policy import requires, visible_incident

bp = Blueprint("desk", __name__)


def _names() -> dict[str, str]:
    lang = current_language()
    return {c.code: (c.name_en if lang == "en" else c.name) for c in load_categories()}


def _departments() -> list[str]:
    return store().departments()


def _desk_rows():
    """The desk's rows and counts for the request's queue, filter and order; 400 on bad values."""
    try:
        f = work.IncidentFilter.from_args(request.args)
        queue = request.args.get("queue") or None
        sort = request.args.get("sort") or "created"
        rows, counts = work.desk_view(store(), f, queue, principal=current_principal())
        rows = work.sort_rows(rows, sort)
    except ValueError as err:
        abort(400, description=str(err))
    return f, queue, sort, rows, counts


@bp.get("/desk")
@requires("desk.view")
def desk():
    f, queue, sort, rows, counts = _desk_rows()
    catalog = load_categories()
    return render_template(
        "desk.html",
        rows=rows.head(300).to_dict("records"),
        total=len(rows),
        newest_id=int(rows["id"].max()) if len(rows) else 0,
        counts=counts,
        queue=queue,
        sort=sort,
        dispatchable=work.WORKFLOW.transitions["dispatch"].sources,
        closed_states=work.CLOSED_STATES,
        queues=work.QUEUES,
        f=f,
        names=_names(),
        majors=catalog.majors(),
        states=work.WORKFLOW.states,
        communities=store().admin_areas("community")[["code", "name"]].to_dict("records"),
        departments=_departments(),
        state_label=work.state_label,
    )


@bp.get("/api/v1/desk/updates")
@requires("desk.view")
def updates():
    """Queue counts and the cases of the desk's view newer than ``since`` (an incident id)."""
    since = request.args.get("since", "0")
    if not since.isdigit():
        abort(400, description=f"since must be an incident id (a whole number), got {since!r}")
    _f, _queue, _sort, rows, counts = _desk_rows()
    fresh = rows[rows["id"] > int(since)].sort_values("id", ascending=False)
    return jsonify(
        counts=counts,
        total=len(rows),
        newest_id=int(rows["id"].max()) if len(rows) else int(since),
        new=[
            {"id": int(r["id"]), "number": r["number"], "state": r["state"]}
            for _i, r in fresh.head(20).iterrows()
        ],
        new_count=len(fresh),
    )


@bp.post("/api/v1/desk/dispatch")
@requires("desk.dispatch")
def dispatch_many():
    """批量派遣: ``{"cases": [{"id", "version"}], "department"}`` -> one result per case."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object with cases and department")
    try:
        cases = bulk.parse_cases(body.get("cases"))
        department = body.get("department")
        if not isinstance(department, str) or not department.strip():
            raise ValueError("department: choose the department the cases go to")
        results = bulk.dispatch_many(store(), cases, department, principal=current_principal())
    except ValueError as err:
        return jsonify(error=str(err)), 400
    out = []
    for r in results:
        row = r.to_dict()
        row["text"] = _(BULK_REASONS.get(r.reason, "已完成") if not r.ok else "已完成")
        out.append(row)
    return jsonify(
        department=department.strip(),
        dispatched=sum(r.ok for r in results),
        refused=sum(not r.ok for r in results),
        results=out,
    )


#: why a case of a 批量派遣 was not dispatched, as the desk shows it
BULK_REASONS = {
    "state": "当前状态不能派遣",
    "role": "无权派遣",
    "conflict": "该事件已被他人处理，请刷新后重试",
    "not_found": "未找到",
    "missing": "缺少必填项",
    "invalid": "操作未完成",
}


@bp.get("/dept")
@requires("dept.view")
def dept():
    principal = current_principal()
    bound = principal.department
    department = bound or request.args.get("department") or None
    rows = work.department_cases(store(), department, principal=principal).to_dict("records")
    return render_template(
        "dept.html",
        rows=rows,
        department=department,
        bound=bound,
        departments=_departments(),
        names=_names(),
        state_label=work.state_label,
    )


@bp.get("/cases/<int:incident_id>")
@requires("case.view")
def case(incident_id: int):
    incident = visible_incident(incident_id)
    incident = work.with_flags(incident)
    category = store().category(incident["category_code"]) or {}
    return render_template(
        "case.html",
        i=incident,
        category=category,
        history=incident["history"],
        photos=incident_photo_ids(incident),
        actions=work.actions(incident["state"], current_user.role),
        limit=work.handle_limit_text(category, incident["urgent"], current_language()),
        departments=_departments(),
        names=_names(),
        state_label=work.state_label,
        transition_label=work.transition_label,
        roles=ROLES,
    )


@bp.post("/cases/<int:incident_id>/transition")
@requires("incident.transition")
def transition(incident_id: int):
    transition_from_form(incident_id, request.form, request.files)
    back = request.form.get("back") or ""
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return redirect(back)
    return redirect(url_for("desk.case", incident_id=incident_id))


@bp.get("/cases/<int:incident_id>/photos/<photo_id>")
@requires("photo.view")
def photo(incident_id: int, photo_id: str):
    incident = visible_incident(incident_id)
    if photo_id not in incident_photo_ids(incident):
        abort(404)
    return send_from_directory(photos_dir(), photo_id, max_age=3600)
