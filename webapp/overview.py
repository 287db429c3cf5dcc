"""Overview: the landing page with what the database holds, and generated maps."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from flask_login import login_required

from webapp.extensions import store

bp = Blueprint("overview", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "backend": store().backend}


@bp.get("/overview")
@login_required
def index():
    settings = current_app.config["GRIDMGMT_SETTINGS"]
    maps = (
        sorted(p.name for p in settings.maps_dir.glob("*.html"))
        if settings.maps_dir.is_dir()
        else []
    )
    communities = store().admin_areas("community")
    grids = store().current_grids()
    per_community = (
        grids.groupby("community_code").agg(
            grids=("code", "size"), households=("households", "sum")
        )
        if len(grids)
        else None
    )
    rows = []
    for c in communities.itertuples():
        stats = (
            per_community.loc[c.code]
            if per_community is not None and c.code in per_community.index
            else None
        )
        rows.append(
            {
                "code": c.code,
                "name": c.name,
                "grids": int(stats["grids"]) if stats is not None else 0,
                "households": int(stats["households"]) if stats is not None else 0,
            }
        )
    return render_template("overview.html", counts=store().counts(), communities=rows, maps=maps)


@bp.get("/maps/<path:name>")
@login_required
def generated_map(name: str):
    settings = current_app.config["GRIDMGMT_SETTINGS"]
    if not name.endswith(".html"):
        abort(404)
    return send_from_directory(settings.maps_dir, name)
