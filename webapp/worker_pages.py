"""Grid worker pages, mobile first: 上报事件 (report an incident) and 我的任务 (verification tasks).

The report page is a form driven by ``static/js/report.js``: location from
the phone's GPS or a tap on the map, 大类 → 小类 from the stored categories,
a camera photo sent to ``POST /api/v1/photos``, then ``POST
/api/v1/incidents`` with an idempotency key so a retried submission is not
duplicated. 我的任务 lists incidents awaiting 核查 in the worker's grids with
one-tap 核查通过 / 核查不通过 (photo and note where the workflow asks).
我的上报 lists only the user's own reports, :data:`MINE_PER_PAGE` a page
(``?page=N``). Offline, the report waits in the outbox (``static/js/outbox.js``).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from gridmgmt.domain.incidents import desk as work
from gridmgmt.domain.incidents import load_categories
from webapp.auth import current_principal
from webapp.casework import transition_from_form
from webapp.extensions import store
from webapp.i18n import current_language
from webapp.policy import grid_mask, grid_scope, requires, visible_incident

bp = Blueprint("report", __name__)

#: 我的上报: the worker's own reports, this many per page
MINE_PER_PAGE = 20


def category_tree(lang: str) -> list[dict]:
    """大类 with their 小类 for the picker (names in ``lang``)."""
    catalog = load_categories()
    tree = []
    for code, name in catalog.majors().items():
        minors = catalog.minors(code)
        tree.append(
            {
                "code": code,
                "name": name,
                "family": minors[0].family,
                "minors": [
                    {
                        "code": c.code,
                        "name": c.name_en if lang == "en" else c.name,
                        "photo": c.photo_required,
                    }
                    for c in minors
                ],
            }
        )
    return tree


@bp.get("/report")
@requires("incident.report")
def report_page():
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(400, description="page counts from 1")
    rows, total = work.reported_page(
        store(), current_user.username, page, MINE_PER_PAGE, principal=current_principal()
    )
    mine = rows.to_dict("records")
    grids = store().current_grids()
    if grid_mask(grids["code"]).any():  # the map opens on the grids the reporter may see
        grids = grids[grid_mask(grids["code"])]
    bbox = [round(float(v), 6) for v in grids.total_bounds] if len(grids) else None
    return render_template(
        "report.html",
        bbox=bbox,
        categories=category_tree(current_language()),
        mine=mine,
        page=page,
        pages=max(1, -(-total // MINE_PER_PAGE)),
        total=total,
        state_label=work.state_label,
    )


@bp.get("/tasks")
@requires("tasks.view")
def tasks():
    rows = work.verification_tasks(store(), grid_scope(), principal=current_principal())
    rows = rows.to_dict("records")
    names = {c.code: c.name for c in load_categories()}
    verify = {t.name: t for t in work.actions("handled", current_user.role)}
    return render_template(
        "tasks.html", rows=rows, names=names, verify=verify, state_label=work.state_label
    )


@bp.post("/tasks/<int:incident_id>")
@requires("incident.transition")
def verify(incident_id: int):
    visible_incident(incident_id)
    if request.form.get("transition") not in ("verify_pass", "verify_fail"):
        return {"error": "only 核查通过 / 核查不通过 here"}, 400
    transition_from_form(incident_id, request.form, request.files)
    return redirect(url_for("report.tasks"))
