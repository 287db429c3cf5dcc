"""Map payload benchmark: bytes of the web map's initial view vs a naive folium map, same run.

    python benchmarks/bench_map_payload.py [--seed 0] [--workdir DIR] [--budget 1000000]

Builds the demo 街道 into a temporary instance (``build_demo``, what
``gridmgmt demo --no-serve --workdir DIR`` runs), serves the app with
waitress on 127.0.0.1, logs in as the demo supervisor in headless Chromium
and opens ``/map``. Every request of the initial view (the HTML, Leaflet and
our JS/CSS, ``/api/v1/areas`` and the GeoJSON layers fetched at the initial
bbox and zoom) is counted with the bytes Chromium transferred (headers and
bodies; the app gzips text). The peer is the naive way: one folium HTML
page with every grid polygon and every building inline, at full precision,
plus the Leaflet JS/CSS it loads (its other CDN assets are not counted, so
the peer's figure is a lower bound). Prints both totals, the ratio, and whether the initial
view stays within the budget (1 MB by default); exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from _common import table, timed

CHROMIUM = os.environ.get("GRIDMGMT_CHROMIUM", "/usr/bin/chromium")


def build(workdir: Path, seed: int):
    from gridmgmt.config import resolve_settings
    from gridmgmt.demo import build_demo
    from gridmgmt.store.repository import Store

    settings = resolve_settings(str(workdir))
    store = Store(settings.database_url)
    build_demo(store, instance_dir=settings.instance_dir, seed=seed, progress=lambda m: None)
    return store


def naive_folium(store, path: Path) -> int:
    """Bytes of a folium page with every grid and building inline (no simplification)."""
    import folium

    grids = store.current_grids()
    buildings = store.read_layer("buildings")
    centre = grids.geometry.union_all().centroid
    fmap = folium.Map(location=[centre.y, centre.x], zoom_start=15, tiles=None)
    folium.GeoJson(grids[["code", "households", "geometry"]], name="grids").add_to(fmap)
    keep = [c for c in ("building_id", "name", "households", "geometry") if c in buildings]
    folium.GeoJson(buildings[keep], name="buildings").add_to(fmap)
    fmap.save(str(path))
    return path.stat().st_size


def leaflet_bytes() -> int:
    """Leaflet's JS and CSS, which a folium page also loads (from a CDN)."""
    import xstatic.pkg.leaflet as leaflet

    base = Path(leaflet.BASE_DIR)
    return (base / "leaflet.js").stat().st_size + (base / "leaflet.css").stat().st_size


def serve(app) -> tuple[str, object]:
    from waitress.server import create_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{port}", server


def initial_view(base: str) -> list[dict]:
    """Requests of the map's initial view as Chromium made them, with transferred bytes."""
    from playwright.sync_api import sync_playwright

    from gridmgmt.demo import DEMO_PASSWORD

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        state = context.storage_state()  # the session cookie, then a cold cache for the map
        context.close()
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN", storage_state=state
        )
        page = context.new_page()
        seen: list = []
        page.on("requestfinished", lambda request: seen.append(request))
        page.goto(base + "/map", wait_until="networkidle")
        page.wait_for_function("window.gridmap && window.gridmap.layers.grids.getLayers().length")
        page.wait_for_load_state("networkidle")
        zoom = page.evaluate("window.gridmap.map.getZoom()")
        rows = []
        for request in seen:
            sizes = request.sizes()
            body = sizes["responseBodySize"]
            if body <= 0:  # served from memory cache or unknown: count the body itself
                response = request.response()
                body = len(response.body()) if response else 0
            rows.append(
                {
                    "url": request.url.replace(base, "")[:70],
                    "bytes": body + sizes["responseHeadersSize"] + sizes["requestHeadersSize"],
                }
            )
        browser.close()
    return rows, zoom


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", help="instance directory (default: a temporary one)")
    parser.add_argument("--budget", type=int, default=1_000_000, help="bytes allowed")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    tmp = tempfile.TemporaryDirectory(prefix="gm-payload-")
    workdir = Path(args.workdir or tmp.name)
    print(f"[1/4] building the demo 街道 into {workdir}")
    store, seconds = timed(build, workdir, args.seed)
    counts = store.counts()
    print(f"      {counts['grids']} grids, {counts['buildings']} buildings ({seconds:.1f} s)")
    print("[2/4] naive folium page with every grid and building inline")
    folium_bytes = naive_folium(store, workdir / "naive_folium.html")
    folium_total = folium_bytes + leaflet_bytes()
    print("[3/4] serving the app and opening the map in headless Chromium")
    from webapp import create_app

    base, server = serve(create_app(str(workdir)))
    try:
        rows, zoom = initial_view(base)
    finally:
        server.close()
    ours = sum(r["bytes"] for r in rows)
    print(f"[4/4] initial view at zoom {zoom}: {len(rows)} requests")
    print(table(rows, ["url", "bytes"]))
    print()
    print(
        table(
            [
                {"page": "gridmgmt /map initial view", "bytes": f"{ours:,}"},
                {"page": "naive folium, HTML only", "bytes": f"{folium_bytes:,}"},
                {"page": "naive folium, HTML + Leaflet JS/CSS", "bytes": f"{folium_total:,}"},
            ],
            ["page", "bytes"],
        )
    )
    print("(folium's other CDN assets, jQuery, Bootstrap, Font Awesome, are not counted)")
    print(f"ratio folium (HTML + Leaflet) / ours: {folium_total / ours:.2f}x")
    ok = ours <= args.budget
    print(f"budget {args.budget:,} bytes: {'within' if ok else 'OVER'}")
    store.dispose()
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
