"""The gridmgmt web app (Flask app factory; one blueprint per feature)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, request


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def _trusted_proxies(value) -> int:
    """How many reverse proxies in front of the app to trust ``X-Forwarded-For`` from."""
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdigit():
        raise ValueError(f"GRIDMGMT_TRUSTED_PROXIES must be a number of proxies, not {value!r}")
    return int(text)


def create_app(workdir: str | None = None, **overrides) -> Flask:
    """Create the app for the instance directory ``workdir``.

    Configuration comes from :func:`gridmgmt.config.resolve_settings` (the
    ``GRIDMGMT_HOME`` and ``GRIDMGMT_DATABASE_URL`` environment variables with
    embedded defaults), ``GRIDMGMT_SECRET_KEY`` (random per start when unset:
    sessions then end with the process), ``GRIDMGMT_SECURE_COOKIES`` (set
    it behind HTTPS) and ``GRIDMGMT_TRUSTED_PROXIES`` (the number of reverse
    proxies in front of the app: the client address, which log-in
    throttling counts by, is then taken from that many ``X-Forwarded-For``
    entries; unset or 0, the header is ignored) and ``GRIDMGMT_RATE_LIMIT``
    (requests one client address may make to the app, e.g. ``600 per
    minute``, counted in the store so every process shares them; unset: no
    limit). Keyword arguments override any config key.
    """
    from gridmgmt.config import resolve_settings
    from gridmgmt.store.rate_limits import STORAGE_URI  # registers the gridmgmt:// storage
    from gridmgmt.store.repository import Store
    from webapp import (
        auth,
        compression,
        desk,
        errors,
        geo,
        household_visits,
        i18n,
        incidents_api,
        mapview,
        ogcapi,
        open311,
        overview,
        patrol,
        policy,
        pwa,
        report_tables,
        residents,
        stats_api,
        tiles,
        volunteers,
        worker_pages,
    )
    from webapp.extensions import csrf, limiter, login_manager
    from webapp.json_provider import StrictJSONProvider
    from webapp.rebalance import bp as rebalance_bp

    settings = resolve_settings(workdir)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.json = StrictJSONProvider(app)  # null for NaN/NaT, never NaN or Infinity
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("GRIDMGMT_SECRET_KEY") or os.urandom(32),
        GRIDMGMT_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_env_flag("GRIDMGMT_SECURE_COOKIES"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=_env_flag("GRIDMGMT_SECURE_COOKIES"),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in auth.csrf_unless_api_key
        GRIDMGMT_TRUSTED_PROXIES=os.environ.get("GRIDMGMT_TRUSTED_PROXIES"),
        GRIDMGMT_RATE_LIMIT=os.environ.get("GRIDMGMT_RATE_LIMIT", ""),
        RATELIMIT_STORAGE_URI=STORAGE_URI,  # counters in the store, shared by every process
    )
    app.config.update(overrides)
    proxies = _trusted_proxies(app.config["GRIDMGMT_TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)
    store = Store(app.config["GRIDMGMT_SETTINGS"].database_url)
    app.extensions["gridmgmt_store"] = store
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"store": store})
    from gridmgmt.domain.incidents import load_categories

    store.sync_categories(load_categories())

    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    app.jinja_env.globals["may"] = policy.may  # menus ask the policy the pages ask
    errors.init_app(app)  # 4xx/5xx inside the app's frame, JSON for the APIs
    app.before_request(auth.refuse_queued_for_someone_else)  # before CSRF: a clearer answer
    app.before_request(auth.csrf_unless_api_key)
    for blueprint in (auth.bp, mapview.bp, geo.bp, overview.bp, incidents_api.bp, open311.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(worker_pages.bp)  # grid worker: 上报事件, 我的任务
    app.register_blueprint(desk.bp)  # 调度台, case pages, 部门处置
    app.register_blueprint(rebalance_bp)  # grid rebalancing: proposals, approval, history
    app.register_blueprint(ogcapi.bp)  # OGC API - Features
    app.register_blueprint(report_tables.bp)  # 报表: workload, 考核, downloads
    app.register_blueprint(stats_api.bp)  # hot spots
    app.register_blueprint(patrol.bp)  # 巡查, 民情日记, patrol report
    app.register_blueprint(household_visits.bp)  # 房屋台账 on 走访, 户数变动
    app.register_blueprint(pwa.bp)  # the worker's field app: manifest, service worker
    _favicon(app)
    residents.init_app(app)  # residents' public pages (/r), notifications of their cases
    app.register_blueprint(volunteers.bp)  # 楼栋长/信息员: report, 零报告, the daily roll
    app.register_blueprint(tiles.bp)  # vector tiles for city-scale maps
    _security_headers(app)
    compression.init_app(app)  # gzip: the map's initial view stays small on phones
    return app


def _favicon(app: Flask) -> None:
    """``/favicon.ico`` (browsers ask for it on every site): the app's own icon, for everyone."""
    from webapp.policy import public

    @public
    def favicon():
        return app.send_static_file("favicon.ico")

    app.add_url_rule("/favicon.ico", "favicon", favicon, methods=["GET"])


def _security_headers(app: Flask) -> None:
    tile_host = urlsplit(os.environ.get("GRIDMGMT_TILE_URL", "").replace("{s}", "a")).netloc

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/maps/"):  # folium exports carry inline scripts
            img = "'self' data: blob:" + (
                f" https://{tile_host} http://{tile_host}" if tile_host else ""
            )
            response.headers.setdefault(
                "Content-Security-Policy",
                f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; connect-src 'self'; frame-ancestors 'self'",
            )
        return response
