"""Load benchmark: locust users against ``gridmgmt serve --workers 2``, and vector tile times.

1. **Load.** For each store (SQLite, PostGIS): a fresh demo database
   (``gridmgmt demo --no-serve``), served by ``gridmgmt serve --workers 2``
   (gunicorn) and, as the peer measured in the same run, by the single
   waitress process of ``gridmgmt serve`` (what the app had before); then
   ``locust --headless`` with 50 users (spawned 10 a second, 30 s) on the
   main reads (incidents list, OGC API grids, Open311 requests, grid
   GeoJSON at zoom 15, vector tiles) and a share of writes (report an
   incident, register it). The users share 5 sessions opened before the
   run, and every endpoint is asked a few times first (warm-up), so the
   30 s measure the app at work, not 50 password hashes or lazy imports. Prints requests, req/s, p50/p95/p99 and failures
   per endpoint (locust's own figures, from its CSV).
2. **Tiles.** A synthetic city of ``--city`` 社区 (1,000 by default;
   :mod:`synthetic_city`) in SQLite (and PostGIS): the time to produce
   each tile (cold, nothing cached) per layer and zoom, its size, and the
   bytes of the map's first view (page, scripts, areas and the tiles in a
   1280×800 view of the first 街道, gzipped as served).

The load client runs on the same machine as the server; on a shared
2-core machine the figures are pessimistic. The CPU time the server's
processes (and a throwaway PostGIS server's) used per request is printed
too, with the req/s two free cores would give at that cost: a figure other
work on the machine does not distort as much.

PostGIS: ``GRIDMGMT_BENCH_POSTGIS_URL`` names an empty PostGIS database to
use; otherwise a throwaway server is started (tests/postgis_server.py),
skipped when PostgreSQL/PostGIS are not installed.

Usage::

    python benchmarks/bench_load.py [--stores sqlite,postgis] [--users 50] [--duration 30s]
                                    [--city 1000] [--no-peer] [--no-load] [--no-tiles]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import REPO, table

PYTHON = sys.executable
CLI = ["-c", "from gridmgmt.cli import main; main()"]
MAIN_READS = (
    "/api/v1/incidents",
    "/ogcapi/collections/grids/items",
    "/open311/v2/requests.json",
    "/api/v1/geo/grids?zoom=15",
    "/tiles/{layer}/z/x/y",
)


def _env(database_url: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("GRIDMGMT_DATABASE_URL", None)
    env.pop("GRIDMGMT_RATE_LIMIT", None)
    if database_url:
        env["GRIDMGMT_DATABASE_URL"] = database_url
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_over(bbox, z: int) -> list[tuple[int, int, int]]:
    x0, y1 = tile_of(bbox[0], bbox[1], z)
    x1, y0 = tile_of(bbox[2], bbox[3], z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


# ---------------------------------------------------------------------------- load
def build_demo(workdir: Path, database_url: str | None) -> None:
    subprocess.run(
        [PYTHON, *CLI, "--workdir", str(workdir), "demo", "--no-serve"],
        env=_env(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def write_plan(workdir: Path, database_url: str | None) -> Path:
    """What the locust users ask for, from the demo data."""
    sys.path.insert(0, str(REPO))
    from gridmgmt.config import resolve_settings
    from gridmgmt.demo import DEMO_PASSWORD
    from gridmgmt.store.repository import Store

    url = database_url or resolve_settings(str(workdir)).database_url
    store = Store(url)
    grids = store.current_grids()
    store.dispose()
    residential = grids[grids["kind"] == "residential"]
    points = [(p.x, p.y) for p in residential.geometry.representative_point()]
    bbox = tuple(grids.total_bounds)
    tiles = [f"grids/{z}/{x}/{y}" for z in (14, 15, 16) for z, x, y in tiles_over(bbox, z)]
    tiles += [f"buildings/{z}/{x}/{y}" for z in (15, 16) for z, x, y in tiles_over(bbox, z)]
    plan = {
        "password": DEMO_PASSWORD,
        "points": points,
        "bbox": ",".join(f"{v:.6f}" for v in bbox),
        "tiles": tiles,
        "category": "15003",
    }
    path = workdir / "plan.json"
    path.write_text(json.dumps(plan))
    return path


class Server:
    """``gridmgmt serve`` in a subprocess."""

    def __init__(self, workdir: Path, database_url: str | None, workers: int):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / f"serve-{workers}.log", "w")  # noqa: SIM115
        args = ["--workdir", str(workdir), "serve", "--port", str(self.port)]
        args += ["--workers", str(workers), "--threads", "8"]
        self.process = subprocess.Popen(
            [PYTHON, *CLI, *args],
            env=_env(database_url),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_until_up()
        except BaseException:
            self.stop()
            raise

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log.name}")
        raise RuntimeError("server did not start in 180 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def open_sessions(base: str, password: str, count: int = 5) -> list[dict]:
    """Log the demo supervisor in ``count`` times; cookies and CSRF token of each session."""
    import requests

    sessions = []
    for _ in range(count):
        client = requests.Session()
        html = client.get(base + "/login", timeout=120).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        form = {"username": "supervisor", "password": password, "csrf_token": token}
        client.post(base + "/login", data=form, allow_redirects=False, timeout=120)
        page = client.get(base + "/map", timeout=120).text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        sessions.append({"cookies": client.cookies.get_dict(), "csrf": csrf})
    return sessions


def warm_up(base: str, session: dict, plan: dict) -> None:
    """Ask every endpoint a few times on new connections, so both workers have loaded
    what they load lazily (the tile index, category names) before the clock runs."""
    import requests

    paths = ["/api/v1/incidents", "/ogcapi/collections/grids/items?limit=50"]
    paths += ["/open311/v2/requests.json", f"/api/v1/geo/grids?zoom=15&bbox={plan['bbox']}"]
    paths += [f"/tiles/{t}.mvt" for t in plan["tiles"][:3]]
    paths += [f"/tiles/{t}.mvt" for t in plan["tiles"] if t.startswith("buildings")][:3]
    for _round in range(4):
        for path in paths:
            requests.get(
                base + path,
                cookies=session["cookies"],
                headers={"Connection": "close"},
                timeout=120,
            )


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by ``pids`` and all their descendants."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def run_locust(base: str, plan: Path, out: Path, users: int, rate: int, duration: str) -> list:
    subprocess.run(
        [PYTHON, "-m", "locust", "-f", str(REPO / "benchmarks" / "locust_gridmgmt.py")]
        + ["--headless", "-u", str(users), "-r", str(rate), "-t", duration]
        + ["--csv", str(out), "--host", base, "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "GRIDMGMT_BENCH_PLAN": str(plan)},
        check=False,  # locust exits 1 when any request failed; the figures say which
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with open(f"{out}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def _row(stats: dict, label: str) -> dict:
    return {
        "endpoint": label,
        "requests": stats["Request Count"],
        "req/s": f"{float(stats['Requests/s']):.1f}",
        "p50 ms": stats["50%"],
        "p95 ms": stats["95%"],
        "p99 ms": stats["99%"],
        "errors": stats["Failure Count"],
    }


def load_benchmark(store_name: str, database_url: str | None, args) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"gridmgmt-load-{store_name}-"))
    print(f"\n== load on {store_name}: building the demo in {workdir} ...", flush=True)
    build_demo(workdir, database_url)
    plan = write_plan(workdir, database_url)
    servers = [("gunicorn --workers 2", 2)]
    if args.peer:
        servers.append(("waitress, 1 process (peer)", 1))
    summary = []
    for label, workers in servers:
        server = Server(workdir, database_url, workers)
        try:
            content = json.loads(plan.read_text())
            content["sessions"] = open_sessions(server.base, content["password"])
            plan.write_text(json.dumps(content))
            warm_up(server.base, content["sessions"][0], content)
            watched = [server.process.pid, *args.database_pids]
            cpu_before = cpu_seconds(watched)
            rows = run_locust(
                server.base, plan, workdir / f"locust-{workers}", args.users, 10, args.duration
            )
            cpu_used = cpu_seconds(watched) - cpu_before
        finally:
            server.stop()
        by_name = {r["Name"]: r for r in rows}
        print(f"\n{store_name}, {label}, {args.users} users, {args.duration}:")
        lines = [_row(r, r["Name"]) for r in rows if r["Name"] != "Aggregated"]
        lines.append(_row(by_name["Aggregated"], "all requests"))
        columns = ["endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
        print(table(lines, columns))
        reads = [by_name[n] for n in MAIN_READS if n in by_name]
        requests_done = max(int(by_name["Aggregated"]["Request Count"]), 1)
        cpu_ms = cpu_used * 1000 / requests_done
        print(
            f"server CPU per request: {cpu_ms:.1f} ms (app processes"
            + (" and the PostGIS server" if args.database_pids else "")
            + f"); 2 free cores would serve about {2000 / cpu_ms:.0f} req/s"
        )
        summary.append(
            {
                "store": store_name,
                "server": label,
                "req/s": f"{float(by_name['Aggregated']['Requests/s']):.1f}",
                "server CPU ms/req": f"{cpu_ms:.1f}",
                "req/s on 2 free cores": f"{2000 / cpu_ms:.0f}",
                "worst p95 of main reads ms": max(float(r["95%"]) for r in reads),
                "errors": int(by_name["Aggregated"]["Failure Count"]),
            }
        )
    if len(summary) == 2:
        ratio = float(summary[0]["req/s"]) / max(float(summary[1]["req/s"]), 1e-9)
        print(f"\n{store_name}: --workers 2 serves {ratio:.1f}× the req/s of one waitress process")
    shutil.rmtree(workdir, ignore_errors=True)
    return summary


# ---------------------------------------------------------------------------- tiles
def tile_benchmark(store_name: str, database_url: str, n_communities: int) -> list[dict]:
    sys.path.insert(0, str(REPO))
    from synthetic_city import build_city

    from gridmgmt.domain.access import Principal
    from gridmgmt.domain.vector_tiles import VectorTiles
    from gridmgmt.store.repository import Store
    from gridmgmt.store.vector_tiles import VectorTileStore

    store = Store(database_url)
    started = time.perf_counter()
    city = build_city(store, n_communities)
    print(
        f"\n== tiles on {store_name}: synthetic city of {city['communities']:,} 社区, "
        f"{city['grids']:,} grids, {city['buildings']:,} buildings "
        f"(stored in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    source = VectorTileStore(store)
    admin = Principal("admin", "admin")
    if not source.in_sql:
        for layer in ("grids", "buildings"):
            started = time.perf_counter()
            source.features(layer, _any_address(city["bbox"]))
            print(
                f"   SQLite: {layer} read and indexed once per data version in "
                f"{time.perf_counter() - started:.2f} s"
            )
    rows = []
    rng = random.Random(0)
    for layer, zooms in (("grids", (12, 13, 14, 15)), ("buildings", (15, 16, 17))):
        for z in zooms:
            tiles = VectorTiles(source, store.incident_points)  # a fresh cache: cold tiles
            addresses = tiles_over(city["bbox"], z)
            sample = rng.sample(addresses, min(40, len(addresses)))
            times, sizes = [], []
            for _z, x, y in sample:
                started = time.perf_counter()
                tile = tiles.tile(admin, layer, z, x, y)
                times.append((time.perf_counter() - started) * 1000)
                sizes.append(len(tile.content))
            started = time.perf_counter()
            for _z, x, y in sample:
                tiles.tile(admin, layer, z, x, y)
            warm = (time.perf_counter() - started) * 1000 / len(sample)
            times.sort()
            rows.append(
                {
                    "store": store_name,
                    "layer": layer,
                    "z": z,
                    "tiles": len(sample),
                    "mean ms": f"{statistics.fmean(times):.1f}",
                    "p95 ms": f"{times[int(0.95 * (len(times) - 1))]:.1f}",
                    "max ms": f"{times[-1]:.1f}",
                    "cached ms": f"{warm:.2f}",
                    "mean KB": f"{statistics.fmean(sizes) / 1024:.1f}",
                    "max KB": f"{max(sizes) / 1024:.1f}",
                }
            )
    columns = ["store", "layer", "z", "tiles", "mean ms", "p95 ms", "max ms", "cached ms"]
    print(table(rows, [*columns, "mean KB", "max KB"]))
    first_view(store, city)
    store.dispose()
    return rows


def _any_address(bbox):
    from gridmgmt.core.vector_tiles import TileAddress

    z, x, y = tiles_over(bbox, 14)[0]
    return TileAddress(z, x, y)


def first_view(store, city) -> None:
    """Bytes of the map's first view of the city (as map.js opens it: the first 街道)."""
    sys.path.insert(0, str(REPO))
    from gridmgmt.domain.accounts import create_user
    from webapp import create_app

    workdir = Path(tempfile.mkdtemp(prefix="gridmgmt-city-"))
    app = create_app(str(workdir), TESTING=True)
    app.extensions["gridmgmt_store"].dispose()
    app.extensions["gridmgmt_store"] = store
    create_user(store, "bench_admin", "bench-pass-1", "admin")
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login",
        data={"username": "bench_admin", "password": "bench-pass-1", "csrf_token": token},
    )
    gz = {"Accept-Encoding": "gzip"}
    page = client.get("/map", headers=gz)
    total = {"page": len(page.get_data())}
    html = page.get_data()
    html = gzip.decompress(html).decode() if page.headers.get("Content-Encoding") else html.decode()
    assets = [a.split('"')[0] for a in html.split('src="')[1:]]
    assets += [a.split('"')[0] for a in html.split('stylesheet" href="')[1:]]
    total["scripts and CSS"] = sum(len(client.get(a, headers=gz).get_data()) for a in assets)
    total["/api/v1/areas"] = len(client.get("/api/v1/areas", headers=gz).get_data())
    west, south, east, north = city["first_street_bbox"]
    # the zoom at which the 街道 fits a 1280×800 map (as fitBounds picks it)
    z = 0
    while z < 18:
        x0, y1 = tile_of(west, south, z + 1)
        x1, y0 = tile_of(east, north, z + 1)
        if (x1 - x0 + 1) * 256 > 1280 or (y1 - y0 + 1) * 256 > 800:
            break
        z += 1
    tile_bytes, n_tiles = 0, 0
    for layer in ("grids", "buildings"):
        for _z, x, y in tiles_over((west, south, east, north), z):
            answer = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=gz)
            tile_bytes += len(answer.get_data())
            n_tiles += answer.status_code == 200
    total[f"{n_tiles} tiles at zoom {z}"] = tile_bytes
    for layer in ("roads", "facilities", "incidents", "communities"):
        bbox = f"{west},{south},{east},{north}"
        answer = client.get(f"/api/v1/geo/{layer}?bbox={bbox}&zoom={z}", headers=gz)
        total[f"GeoJSON {layer}"] = len(answer.get_data())
    print(f"\nfirst view of the city's map (the first 街道, zoom {z}, gzip as served):")
    for name, size in total.items():
        print(f"   {name:32s} {size / 1024:8.1f} KB")
    print(f"   {'total':32s} {sum(total.values()) / 1024:8.1f} KB  (goal: 1,024 KB)")
    shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------- main
class PostgisDatabases:
    """Fresh PostGIS databases: from ``GRIDMGMT_BENCH_POSTGIS_URL`` or one throwaway server."""

    def __init__(self):
        self.server = None
        self.given = os.environ.get("GRIDMGMT_BENCH_POSTGIS_URL")
        self.made = 0

    def new(self) -> str | None:
        """A database URL (the given one every time), or None without PostGIS."""
        if self.given:
            return self.given
        if self.server is None:
            sys.path.insert(0, str(REPO))
            from tests.postgis_server import PostgisServer, why_unavailable

            reason = why_unavailable()
            if reason:
                print(f"PostGIS skipped: {reason}")
                return None
            self.server = PostgisServer().start()
        self.made += 1
        return self.server.create_database(f"bench_{os.getpid()}_{self.made}")

    def pids(self) -> list[int]:
        """The throwaway server's postmaster (its backends are its children), if one runs."""
        if self.server is None:
            return []
        pid_file = self.server.datadir / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgis")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", default="30s")
    parser.add_argument("--city", type=int, default=1000, help="社区 in the synthetic city")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--load", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--tiles", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    postgis = PostgisDatabases()
    summary: list[dict] = []
    try:
        for store_name in stores:
            if args.load:
                url = None if store_name == "sqlite" else postgis.new()
                args.database_pids = [] if url is None else postgis.pids()
                if store_name == "sqlite" or url:
                    summary += load_benchmark(store_name, url, args)
            if args.tiles:
                if store_name == "sqlite":
                    city_dir = Path(tempfile.mkdtemp(prefix="gridmgmt-city-db-"))
                    tile_benchmark("sqlite", f"sqlite:///{city_dir / 'city.db'}", args.city)
                    shutil.rmtree(city_dir, ignore_errors=True)
                elif (url := postgis.new()) is not None:
                    tile_benchmark(store_name, url, args.city)
    finally:
        postgis.stop()
    if summary:
        print("\nsummary (goal: ≥ 100 req/s, p95 ≤ 300 ms on the main reads, 0 errors):")
        columns = ["store", "server", "req/s", "worst p95 of main reads ms", "errors"]
        columns += ["server CPU ms/req", "req/s on 2 free cores"]
        print(table(summary, columns))


if __name__ == "__main__":
    main()
