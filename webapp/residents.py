"""Residents' public pages: report a problem without an account, follow it, rate it.

- ``GET /r``: the report page (phone first): the place on the map or by
  GPS, 大类 → 小类, description, a photo, an optional phone number or
  e-mail address for updates (``static/js/resident.js``).
- ``GET /r/challenge``: a signed proof-of-work challenge; ``POST /r``
  takes the report (CSRF token, solved challenge, per-device and
  per-address budgets: :mod:`gridmgmt.domain.public_guard`) and answers
  its number and follow code.
- ``GET /r/<number>?c=<code>``: the follow page; ``POST /r/<number>/rate``
  the 回访 rating of a closed case.
- ``GET /r/map`` and ``GET /r/api/grids``: open problems counted per grid.

Every route asks the access policy (``resident.*`` actions are public);
what the pages show is :func:`gridmgmt.domain.residents.public_case`.
"""

from __future__ import annotations

import hashlib
import os
import re

from flask import (
    Blueprint,
    abort,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from gridmgmt.domain import access
from gridmgmt.domain.public_guard import ChallengeError, PublicGuard
from gridmgmt.domain.residents import (
    RATINGS,
    announce_transition,
    find_case,
    open_counts_by_grid,
    public_case,
    rate_case,
    submit_report,
)
from gridmgmt.io.images import reencode_photo
from gridmgmt.io.notifiers import notifier_from_env
from gridmgmt.store.login_failures import LoginFailureStore
from gridmgmt.store.residents import ResidentStore
from webapp.auth import current_principal
from webapp.extensions import store
from webapp.geo import feature_collection, parse_bbox, parse_zoom
from webapp.i18n import current_language
from webapp.i18n import gettext as _
from webapp.photos import MAX_PHOTO_BYTES, write_photo
from webapp.policy import requires
from webapp.worker_pages import category_tree

bp = Blueprint("residents", __name__)
DEVICE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PHONE_LIKE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")


# ------------------------------------------------------------------ wiring
def guard() -> PublicGuard:
    """The abuse limits over the store's counters, challenges signed with the app's secret."""
    bits = current_app.config.get("GRIDMGMT_CHALLENGE_BITS")
    secret = current_app.secret_key
    repo = LoginFailureStore(store())
    return PublicGuard(repo, secret, bits=int(bits)) if bits else PublicGuard(repo, secret)


def residents_store() -> ResidentStore:
    return ResidentStore(store())


def follow_link(app, number: str, code: str) -> str:
    """The follow page's address for messages (``GRIDMGMT_PUBLIC_URL`` or the request's host)."""
    base = app.config.get("GRIDMGMT_PUBLIC_URL") or ""
    if not base and has_request_context():
        base = request.host_url
    return f"{base.rstrip('/')}/r/{number}?c={code}"


def attach(app, repo) -> None:
    """Let ``repo`` tell residents about their cases' transitions (派遣, 结案) through the notifier."""
    notifier = app.extensions["gridmgmt_notifier"]

    def on_transition(incident: dict, transition: str) -> None:
        announce_transition(
            repo,
            ResidentStore(repo),
            incident,
            transition,
            lambda number, code: follow_link(app, number, code),
            notifier,
            notifier.log,
        )

    repo.on_transition = on_transition


def init_app(app) -> None:
    """Configure the notifier (environment) and register the pages."""
    app.config.setdefault("GRIDMGMT_PUBLIC_URL", os.environ.get("GRIDMGMT_PUBLIC_URL", ""))
    instance = app.config["GRIDMGMT_SETTINGS"].instance_dir
    app.extensions["gridmgmt_notifier"] = notifier_from_env(os.environ, instance)
    attach(app, app.extensions["gridmgmt_store"])

    @app.before_request
    def _listen_on_the_current_store():  # a store swapped in later hears transitions too
        repo = app.extensions["gridmgmt_store"]
        if getattr(repo, "on_transition", None) is None:
            attach(app, repo)

    @app.template_global()
    def resident_contact(incident: dict) -> dict | None:
        """The resident contact of a case, for staff who may see personal fields; else None."""
        if not access.incident_fields(current_principal()).personal:
            return None
        return residents_store().resident_report(incident["id"])

    app.register_blueprint(bp)


def _refused(status: int, message: str, retry_after: int | None = None):
    response = jsonify({"error": message})
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _device() -> str | None:
    raw = (request.form.get("device") or "").strip()
    if not DEVICE.match(raw):
        return None
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def masked(text: str | None) -> str:
    """``text`` with anything that looks like a mobile number masked."""
    return PHONE_LIKE.sub(lambda m: m.group(0)[:3] + "********", text or "")


# ------------------------------------------------------------------ report
@bp.get("/r")
@requires("resident.report")
def report_page():
    grids = store().current_grids()
    bbox = [round(float(v), 6) for v in grids.total_bounds] if len(grids) else None
    return render_template(
        "residents/report.html", bbox=bbox, categories=category_tree(current_language())
    )


@bp.get("/r/challenge")
@requires("resident.report")
def challenge():
    g = guard()
    response = jsonify({"token": g.challenge(), "bits": g.bits})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/r")
@requires("resident.report")
def submit():
    form = request.form
    device, address = _device(), request.remote_addr
    if device is None:
        return _refused(400, _("设备标识缺失，请刷新页面后重试"))
    g = guard()
    wait = g.report_retry_after(device, address)
    if wait is not None:
        return _refused(429, _("提交过于频繁，请稍后再试"), wait)
    try:
        g.check_challenge(form.get("challenge"), form.get("answer"))
    except ChallengeError as err:
        return _refused(400, _("验证未通过，请重试") + f" ({err})")
    photo_ids = []
    upload = request.files.get("photo")
    try:
        if upload is not None and upload.filename:
            data = upload.read(MAX_PHOTO_BYTES + 1)
            if len(data) > MAX_PHOTO_BYTES:
                return _refused(413, _("照片不能超过 10 MB"))
            photo_ids.append(write_photo(reencode_photo(data), ".jpg"))
        g.count_report(device, address)
        app = current_app._get_current_object()
        notifier = app.extensions["gridmgmt_notifier"]
        done = submit_report(
            store(),
            residents_store(),
            category_code=form.get("category_code", ""),
            description=form.get("description", ""),
            lon=form.get("lon") or None,
            lat=form.get("lat") or None,
            phone=form.get("phone"),
            email=form.get("email"),
            device=device,
            photo_ids=photo_ids,
            idempotency_key=(form.get("idempotency_key") or "")[:60] or None,
            link=lambda number, code: follow_link(app, number, code),
            notifier=notifier,
            fallback=notifier.log,
        )
    except ValueError as err:
        return _refused(400, str(err))
    incident = done.incident
    return jsonify(
        {
            "number": incident["number"],
            "code": done.code,
            "state": "已受理",
            "follow": url_for("residents.follow", number=incident["number"], c=done.code),
            "located": incident["grid_code"] is not None,
        }
    ), (201 if done.created else 200)


# ------------------------------------------------------------------ follow
def _case_or_none(number: str, code: str | None):
    """The case behind number and code; counts wrong codes, aborts 429 when too many."""
    g = guard()
    address = request.remote_addr
    wait = g.follow_retry_after(address)
    if wait is not None:
        abort(429, description=_("尝试次数过多，请稍后再试"))
    found = find_case(store(), residents_store(), number, code)
    if found is None and code:
        g.count_wrong_code(address)
    return found


@bp.get("/r/<number>")
@requires("resident.follow")
def follow(number: str):
    code = (request.args.get("c") or "").strip()
    found = _case_or_none(number, code) if code else None
    if found is None:
        error = _("编号或查询码不正确") if code else None
        html = render_template("residents/lookup.html", number=number, error=error)
        return html, (404 if code else 200)
    incident, resident = found
    lang = current_language()
    case = public_case(incident, resident, store().category(incident["category_code"]), lang)
    case["description"] = masked(case["description"])
    return render_template(
        "residents/follow.html", case=case, code=code.upper(), ratings=RATINGS, lang=lang
    )


@bp.post("/r/<number>/rate")
@requires("resident.follow")
def rate(number: str):
    code = (request.form.get("code") or "").strip()
    found = _case_or_none(number, code) if code else None
    if found is None:
        abort(404)
    incident, _resident = found
    try:
        rate_case(
            store(),
            residents_store(),
            incident,
            request.form.get("rating", ""),
            request.form.get("comment"),
        )
    except ValueError as err:
        abort(400, description=str(err))
    return redirect(url_for("residents.follow", number=number, c=code.upper(), rated=1))


# ------------------------------------------------------------------ public map
@bp.get("/r/map")
@requires("resident.map")
def open_map():
    grids = store().current_grids()
    bbox = [round(float(v), 6) for v in grids.total_bounds] if len(grids) else None
    counts = open_counts_by_grid(store().incidents())
    return render_template(
        "residents/map.html",
        bbox=bbox,
        total=sum(counts.values()),
        unplaced=counts.get(None, 0),
    )


@bp.get("/r/api/grids")
@requires("resident.map")
def open_grids():
    """Grid outlines with their count of open problems (no text, no points)."""
    bbox = parse_bbox(request.args.get("bbox"))
    zoom = parse_zoom(request.args.get("zoom"))
    grids = store().current_grids(bbox=bbox)
    counts = open_counts_by_grid(store().incidents())
    grids = grids.assign(open=[counts.get(c, 0) for c in grids["code"]])
    return jsonify(feature_collection(grids, ["code", "open"], zoom))
