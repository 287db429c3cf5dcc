"""The grid worker's field app as an installable PWA: the web app manifest and the service worker.

- ``GET /manifest.webmanifest``: name 网格员 (zh-CN), ``start_url`` /report,
  ``display: standalone``, the icons in ``static/icons/`` (``icon.svg`` is
  hand-written; the PNGs draw the same picture).
- ``GET /sw.js``: ``static/js/sw.js`` with the app shell to precache in
  front of it (the worker pages, their JS/CSS, Leaflet from xstatic, the
  icons) and a version that changes with those files, so an updated app
  replaces the old shell. Served from the root so its scope covers every
  page; the outbox it replays is ``static/js/outbox.js``.

Both are public: they hold no data (the pages the worker opens are cached
by the browser under the worker's own session, and dropped on 退出).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, url_for

from webapp.policy import public

bp = Blueprint("pwa", __name__)

#: pages the field app opens offline (network first, the cached copy without signal)
OFFLINE_PAGES = ("/report", "/patrol", "/tasks", "/buildings")
#: the worker's data cached at runtime: grid outlines and buildings by bbox, and the 房屋台账
#: cards of the buildings opened (not the search: another query's answer would mislead offline)
RUNTIME_DATA = ("/api/v1/geo/grids", "/api/v1/geo/buildings", "/api/v1/buildings/")
STATIC_SHELL = (
    "css/app.css",
    "css/work.css",
    "js/work_i18n.js",
    "js/report.js",
    "js/patrol.js",
    "js/buildings.js",
    "css/buildings.css",
    "js/outbox.js",
    "js/outbox_ui.js",
    "js/pwa.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
LEAFLET_SHELL = (
    "leaflet.js",
    "leaflet.css",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
    "images/layers.png",
    "images/layers-2x.png",
)


def manifest() -> dict:
    """The web app manifest of the field app (zh-CN)."""
    icon = lambda name: url_for("static", filename=f"icons/{name}")  # noqa: E731
    return {
        "name": "网格化管理 · 网格员",
        "short_name": "网格员",
        "description": "网格员上报事件、巡查与民情日记，无信号时也能用",
        "lang": "zh-CN",
        "dir": "ltr",
        "id": "/report",
        "start_url": "/report",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#8e1b12",
        "icons": [
            {"src": icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": icon("maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": icon("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
        "shortcuts": [
            {"name": "上报事件", "url": "/report"},
            {"name": "巡查", "url": "/patrol"},
            {"name": "房屋台账", "url": "/buildings"},
        ],
    }


@bp.get("/manifest.webmanifest")
@public
def manifest_file():
    body = json.dumps(manifest(), ensure_ascii=False)
    return Response(body, mimetype="application/manifest+json")


def shell_urls() -> list[str]:
    """The URLs the service worker precaches: pages, static files, Leaflet."""
    static = [url_for("static", filename=name) for name in STATIC_SHELL]
    leaflet = [url_for("mapview.vendor", package="leaflet", filename=f) for f in LEAFLET_SHELL]
    return [*OFFLINE_PAGES, *static, *leaflet]


def shell_version() -> str:
    """A hash of the shell's static files and the worker script: it changes when any of them does."""
    cached = current_app.extensions.get("gridmgmt_shell_version")
    if cached:
        return cached
    folder = Path(current_app.static_folder)
    digest = hashlib.sha256()
    for name in (*STATIC_SHELL, "js/sw.js"):
        digest.update((folder / name).read_bytes())
    version = digest.hexdigest()[:12]
    current_app.extensions["gridmgmt_shell_version"] = version
    return version


@bp.get("/sw.js")
@public
def service_worker():
    settings = {
        "GM_VERSION": shell_version(),
        "GM_PRECACHE": shell_urls(),
        "GM_PAGES": list(OFFLINE_PAGES),
        "GM_DATA": list(RUNTIME_DATA),
        "GM_OUTBOX": url_for("static", filename="js/outbox.js"),
    }
    head = "".join(f"self.{k} = {json.dumps(v)};\n" for k, v in settings.items())
    script = (Path(current_app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
    response = Response(head + script, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response
