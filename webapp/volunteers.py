"""楼栋长 and 信息员: their phone page (report, 零报告) and the daily roll for workers and supervisors.

- ``GET /v``: the volunteer's page: the report form of the residents' page
  (source 信息员上报, no challenge: the volunteer is logged in), the
  day's 零报告 button and their latest reports.
- ``POST /v/report``: a volunteer's report into the incident loop.
- ``POST /v/zero``: today's 零报告 (one per person per Asia/Shanghai day).
- ``GET /volunteers``: per grid, who reported today, who sent 零报告 and
  who was silent (a grid worker: its own grids; a supervisor: its area).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from gridmgmt.core.periods import PeriodError, parse_day
from gridmgmt.domain.incidents import desk as work
from gridmgmt.domain.incidents.service import report_incident
from gridmgmt.domain.volunteers import SOURCE, STATUSES, local_day, roll, send_zero_report
from gridmgmt.io.images import reencode_photo
from gridmgmt.store.residents import ResidentStore
from webapp.extensions import store
from webapp.i18n import current_language
from webapp.i18n import gettext as _
from webapp.photos import MAX_PHOTO_BYTES, write_photo
from webapp.policy import grid_mask, requires
from webapp.worker_pages import category_tree

bp = Blueprint("volunteers", __name__)


@bp.get("/v")
@requires("volunteer.report")
def page():
    today = local_day()
    zero = ResidentStore(store()).zero_reports(today, today)
    sent = bool(len(zero) and (zero["username"] == current_user.username).any())
    grids = store().current_grids()
    own = grids[grids["code"].isin(current_user.grid_codes)] if len(grids) else grids
    bbox = (
        [round(float(v), 6) for v in (own if len(own) else grids).total_bounds]
        if len(grids)
        else None
    )
    return render_template(
        "residents/volunteer.html",
        bbox=bbox,
        categories=category_tree(current_language()),
        zero_sent=sent,
        mine=work.reported_page(store(), current_user.username, per_page=10)[0].to_dict("records"),
        state_label=work.state_label,
    )


@bp.post("/v/report")
@requires("volunteer.report")
def report():
    form = request.form
    photo_ids = []
    upload = request.files.get("photo")
    try:
        if upload is not None and upload.filename:
            data = upload.read(MAX_PHOTO_BYTES + 1)
            if len(data) > MAX_PHOTO_BYTES:
                return {"error": _("照片不能超过 10 MB")}, 413
            photo_ids.append(write_photo(reencode_photo(data), ".jpg"))
        incident, created = report_incident(
            store(),
            category_code=form.get("category_code", ""),
            description=form.get("description", ""),
            lon=form.get("lon") or None,
            lat=form.get("lat") or None,
            reporter=current_user.username,
            role=current_user.role,
            source=SOURCE,
            photo_ids=photo_ids,
            idempotency_key=(form.get("idempotency_key") or "")[:60] or None,
        )
    except ValueError as err:
        return {"error": str(err)}, 400
    return jsonify(
        {"number": incident["number"], "code": "", "state": incident["state"], "follow": None}
    ), (201 if created else 200)


@bp.post("/v/zero")
@requires("volunteer.report")
def zero():
    if send_zero_report(ResidentStore(store()), current_user.username, current_user.grid_codes):
        flash(_("零报告已发送"))
    else:
        flash(_("今日已发送过零报告"))
    return redirect(url_for("volunteers.page"))


@bp.get("/volunteers")
@requires("volunteer.roll")
def daily_roll():
    text = (request.args.get("day") or "").strip()
    try:
        day = parse_day(text) if text else local_day()
    except PeriodError as err:
        abort(400, description=str(err))
    zero = ResidentStore(store()).zero_reports(day, day)
    table = roll(store().users(), store().incidents(), zero, day)
    if len(table):
        table = table[grid_mask(table["grid_code"])]
    rows = table.to_dict("records")
    counts = {k: sum(1 for r in rows if r["status"] == k) for k in STATUSES}
    return render_template(
        "residents/roll.html",
        rows=rows,
        day=day,
        counts=counts,
        statuses=STATUSES,
        lang=current_language(),
    )
