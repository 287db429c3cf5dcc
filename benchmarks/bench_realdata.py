"""Real-data benchmark: the partition on OSM extracts we did not make, judged as a 街道 office would.

    python benchmarks/bench_realdata.py [--no-peer] [--peer-limit 120]

Every extract in ../shared/realdata/osm with buildings, and the Huangpu
building tiles with their land use, is read through gridmgmt's readers and
partitioned with the defaults (250–500 households). An extract with roads
only (sh_jingan's dense street network) gets about 5,000 generated flats in
its street blocks (``+generated``): real streets, our buildings. Printed
per extract:

- ``N``: buildings; ``res``/``unit``: residential and unit grids;
- ``in_band``: share of residential grids within 250–500;
- ``unit_area``: share of the large non-residential enclosures' area
  (campus, hospital, school, industrial …, ≥ 5 ha, minus residential
  compounds inside them) that lies in unit grids, over all of them and for
  the enclosure with the least (goal ≥ 90% for each);
- ``major_in``: grids with more than 50 m of motorway/trunk/primary road or
  railway inside them (not on their edge): a road median, an interchange
  island or a verge strip in a grid counts here;
- ``major_x``: grids that straddle such a road for more than 50 m (they
  hold land 20 and 40 m away on both sides of it, in parts of the grid
  between major roads that hold buildings, not in water), and how many of
  those carry no ``crosses_major_road`` flag (goal: 0 unflagged);
- ``ring``/``multi``: grids with holes or of several parts (goal 0);
- ``pp``: mean and minimum Polsby-Popper;
- ``roads``: share of internal grid boundary along roads or compound walls
  (goal ≥ 70%);
- ``outside``: buildings labelled with a grid other than the one holding
  most of their footprint (goal 0); ``cut``: buildings no grid holds whole
  (99%), which only a major road or railway through them should cause;
  ``defaults``: share of households estimated from default floors;
- ``time_s``: the partition call.

GerryChain's recursive_tree_part on the buildings' Voronoi cells (the same
peer as bench_partition.py) runs on each extract for scale, unless
``--no-peer``, in a child process stopped after ``--peer-limit`` seconds:
its tree bipartition retries up to 100,000 spanning trees when no edge
gives a balanced cut (a building holding more households than the
tolerance allows), which is hours on a few thousand units.
"""

from __future__ import annotations

import argparse
import queue
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _common import REALDATA, table, timed

from gridmgmt.core.crs import metric_crs
from gridmgmt.core.partition import partition
from gridmgmt.core.quality import polsby_popper, road_aligned_share
from gridmgmt.synthetic.real_streets import flats_in_street_blocks

LO, HI = 250, 500
MAJOR = {
    "motorway",
    "trunk",
    "primary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "rail",
    "railway",
}
UNIT_MIN_AREA = 50_000.0  # m², the 单位网格 size criterion
CROSSING_M = 50.0


def extracts():
    """(name, layers) of every real extract with buildings."""
    from gridmgmt.io import read_layers

    for path in sorted((REALDATA / "osm").glob("*.osm")):
        layers = read_layers(path)
        if len(layers.buildings):
            yield path.stem, layers
        elif len(layers.roads):  # a real street network: our buildings in its blocks
            flats = flats_in_street_blocks(layers.roads, seed=0)
            yield f"{path.stem}+generated", replace(layers, buildings=flats)
    tiles = REALDATA / "buildings" / "sh_huangpu_buildings.geojson"
    landuse = REALDATA / "landuse" / "sh_huangpu_landuse.geojson"
    if tiles.exists():
        with tempfile.TemporaryDirectory() as tmp:
            # vector-tile pieces of one feature share its id: whole features again
            buildings = Path(tmp) / "buildings.geojson"
            merged_tiles(tiles).to_file(buildings, driver="GeoJSON")
            kwargs = {}
            if landuse.exists():
                kwargs["compounds"] = Path(tmp) / "landuse.geojson"
                merged_tiles(landuse).to_file(kwargs["compounds"], driver="GeoJSON")
            layers = read_layers(buildings, **kwargs)
        yield "sh_huangpu", layers


def merged_tiles(path: Path) -> gpd.GeoDataFrame:
    """The features of a tiled GeoJSON with the pieces sharing an ``id`` dissolved into one."""
    return gpd.read_file(path).dissolve("id", aggfunc="first").reset_index()


def probed_straddle(
    polygons, lines, step: float = 5.0, probes=(20.0, 40.0), water=None, buildings=None
) -> list[float]:
    """Length of ``lines`` along which each polygon holds land on both sides, by probing.

    Every ``step`` m along the lines inside a polygon, points ``probes`` m
    away on both sides are tested; where all lie in the polygon, none in
    ``water`` (a polygon, or None) and, given ``buildings`` (points), all in
    faces of the polygon cut by the lines that hold a building, it holds
    land across the line (a road median or a verge is narrower; an
    interchange island without buildings is not land).
    """
    out = []
    for poly in polygons:
        inside = shapely.intersection(poly, lines)
        if buildings is not None:
            faces = shapely.get_parts(
                shapely.polygonize(shapely.get_parts(shapely.union_all([poly.boundary, inside])))
            )
            housed = [f for f in faces if shapely.contains(f, buildings).any()]
            poly = shapely.union_all(housed) if housed else shapely.Polygon()
        total = 0.0
        for part in shapely.get_parts(shapely.segmentize(inside, step)):
            xy = shapely.get_coordinates(part)
            if len(xy) < 2:
                continue
            a, b = xy[:-1], xy[1:]
            d = b - a
            length = np.hypot(d[:, 0], d[:, 1])
            ok = length > 0
            a, d, length = a[ok], d[ok], length[ok]
            mid = a + d / 2
            normal = np.column_stack([-d[:, 1], d[:, 0]]) / length[:, None]
            held = np.ones(len(mid), bool)
            for off in (*probes, *(-p for p in probes)):
                pts = mid + normal * off
                held &= shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
                if water is not None:
                    held &= ~shapely.contains_xy(water, pts[:, 0], pts[:, 1])
            total += float(length[held].sum())
        out.append(total)
    return np.asarray(out)


def judge(result, layers, crs) -> dict:
    grids = result.grids.to_crs(crs)
    geoms = grids.geometry.values
    kind = grids["kind"].to_numpy()
    hh = grids["households"].to_numpy()
    res = kind == "residential"
    roads = layers.roads.to_crs(crs) if len(layers.roads) else layers.roads
    compounds = layers.compounds.to_crs(crs) if len(layers.compounds) else layers.compounds
    edges = list(roads.geometry.values) if len(roads) else []
    if len(compounds):
        edges += list(shapely.boundary(compounds.geometry.values))
    # major roads inside grids (their edges excluded), and those the grid straddles
    major = roads[roads["road_class"].isin(MAJOR)].geometry.union_all() if len(roads) else None
    flags = grids["flag"].fillna("").astype(str).to_numpy()
    inside_n, crossing, unflagged = 0, 0, 0
    if major is not None and not major.is_empty:
        inner = shapely.difference(geoms, shapely.buffer(shapely.boundary(geoms), 1.0))
        inside_n = int((shapely.length(shapely.intersection(inner, major)) > CROSSING_M).sum())
        # rivers drawn as areas come as their banks (road_id "…:banks"): water is not land
        banks = roads[roads["road_id"].astype(str).str.endswith(":banks")].geometry.values
        water = (
            shapely.union_all(shapely.get_parts(shapely.polygonize(banks))) if len(banks) else None
        )
        points = shapely.point_on_surface(layers.buildings.to_crs(crs).geometry.values)
        over = probed_straddle(geoms, major, water=water, buildings=points) > CROSSING_M
        crossing = int(over.sum())
        unflagged = sum(
            o and "crosses_major_road" not in f for o, f in zip(over, flags, strict=True)
        )
    # enclosures' non-residential area in unit grids
    unit_share = "-"
    if len(compounds):
        areas = shapely.area(compounds.geometry.values)
        big = compounds[
            (compounds["compound_kind"] == "unit").to_numpy() & (areas >= UNIT_MIN_AREA)
        ]
        homes = compounds[compounds["compound_kind"] == "residential"]
        if len(big):
            regions = big.geometry.values
            if len(homes):
                regions = shapely.difference(regions, homes.geometry.union_all())
            unit_union = (
                shapely.union_all(geoms[kind == "unit"])
                if (kind == "unit").any()
                else shapely.Polygon()
            )
            inside = shapely.area(shapely.intersection(regions, unit_union))
            whole = shapely.area(regions)
            if whole.sum():
                least = (inside[whole > 0] / whole[whole > 0]).min()
                unit_share = f"{inside.sum() / whole.sum():.0%}/{least:.0%}"
    # buildings labelled with a grid other than the one holding most of their footprint,
    # and buildings that no grid holds whole (a grid boundary cuts them)
    b = layers.buildings.to_crs(crs)
    labels = result.labels.reindex(b.index)
    by_code = {c: k for k, c in enumerate(grids["code"])}
    outside, cut = 0, 0
    for geom, code in zip(b.geometry.values, labels.to_numpy(), strict=True):
        whole = shapely.area(geom)
        if code not in by_code or whole == 0:
            continue
        held = shapely.area(shapely.intersection(geom, geoms))
        outside += held[by_code[code]] < held.max() - 1e-6 * whole
        cut += held.max() < 0.99 * whole
    total_hh = b["households"].sum()
    defaults = (
        b.loc[b["households_source"] == "default", "households"].sum() / total_hh
        if "households_source" in b and total_hh
        else float("nan")
    )
    pp = polsby_popper(geoms)
    return {
        "N": len(b),
        "res": int(res.sum()),
        "unit": int((kind == "unit").sum()),
        "in_band": f"{((hh[res] >= LO) & (hh[res] <= HI)).mean():.0%}" if res.any() else "-",
        "unit_area": unit_share,
        "major_in": inside_n,
        "major_x": f"{crossing}/{unflagged}",
        "ring": int(sum(len(shapely.get_rings(g)) > 1 for g in geoms)),
        "multi": int(sum(shapely.get_num_geometries(g) > 1 for g in geoms)),
        "pp": f"{pp.mean():.2f}/{pp.min():.2f}",
        "roads": f"{road_aligned_share(geoms, edges):.0%}" if edges else "-",
        "outside": int(outside),
        "cut": int(cut),
        "defaults": "-" if defaults != defaults else f"{defaults:.0%}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-peer", action="store_true", help="skip GerryChain")
    parser.add_argument(
        "--peer-limit", type=float, default=120.0, help="seconds GerryChain gets per extract"
    )
    args = parser.parse_args()
    if not (REALDATA / "osm").is_dir():
        raise SystemExit(f"no real data at {REALDATA}")
    warnings.filterwarnings("ignore")
    rows = []
    for name, layers in extracts():
        crs = metric_crs(layers.buildings)
        kwargs = {"roads": layers.roads, "compounds": layers.compounds}
        try:
            result, seconds = timed(
                partition, layers.buildings, min_households=LO, max_households=HI, seed=0, **kwargs
            )
        except ValueError as err:  # a run that aborts is a finding, reported as such
            rows.append({"data": name, "N": len(layers.buildings), "time_s": f"aborted: {err}"})
            continue
        row = {"data": name, "method": "gridmgmt", "time_s": f"{seconds:.2f}"}
        row.update(judge(result, layers, crs))
        extract_rows = [row]
        if not args.no_peer and layers.buildings["households"].sum() >= LO:
            extract_rows.append(peer_row(name, layers, crs, seconds, args.peer_limit))
        rows.extend(extract_rows)
        print(table(extract_rows, COLUMNS), flush=True)
    print()
    print(table(rows, COLUMNS))


def peer_row(name, layers, crs, ours: float, limit: float) -> dict:
    """GerryChain on the buildings' Voronoi cells, as bench_partition.py runs it."""
    from bench_partition import evaluate, voronoi_units

    b = layers.buildings.to_crs(crs)
    boundary = shapely.convex_hull(b.geometry.union_all()).buffer(50)
    edges = list(layers.roads.to_crs(crs).geometry.values) if len(layers.roads) else []
    try:
        units = voronoi_units(b, boundary)
    except Exception as err:  # a peer that fails (e.g. on coincident buildings) is reported
        return {"data": name, "method": "gerrychain", "time_s": f"failed: {type(err).__name__}"}
    labels, seconds = peer_in_child(units, limit)
    if isinstance(labels, str):
        return {"data": name, "method": "gerrychain", "N": len(units), "time_s": labels}
    figures = evaluate(units, labels, edges or [shapely.LineString([(0, 0), (1, 1)])])
    return {
        "data": name,
        "method": "gerrychain",
        "time_s": f"{seconds:.2f} ({seconds / ours:.0f}x)",
        "N": len(units),
        "res": figures["grids"],
        "in_band": figures["in_band"].replace(".0%", "%"),
        "pp": figures["pp"],
        "roads": figures["roads"],
    }


def peer_in_child(units, limit: float):
    """(labels, seconds) of GerryChain run in a child process, or (why, None) if it failed
    or gave no answer within ``limit`` seconds (the child is then stopped)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    child = context.Process(target=_peer_child, args=(units, answer), daemon=True)
    child.start()
    try:
        outcome = answer.get(timeout=limit)
    except queue.Empty:
        outcome = (f"no answer in {limit:.0f} s (stopped)", None)
    child.terminate()
    child.join()
    return outcome


def _peer_child(units, answer) -> None:
    from bench_partition import run_gerrychain

    try:
        answer.put(timed(run_gerrychain, units))
    except Exception as err:  # reported by the parent as the peer's failure
        answer.put((f"failed: {type(err).__name__}", None))


COLUMNS = [
    "data",
    "method",
    "N",
    "res",
    "unit",
    "in_band",
    "unit_area",
    "major_in",
    "major_x",
    "ring",
    "multi",
    "pp",
    "roads",
    "outside",
    "cut",
    "defaults",
    "time_s",
]

if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
