"""Partition benchmark: ours vs GerryChain recursive_tree_part and spopt MaxPHeuristic, same run, same data.

    python benchmarks/bench_partition.py [--sizes 500 2000 10000 50000] [--peer-limit 60]

Synthetic street-block layouts (gridmgmt.synthetic.generate_blocks, mean ~30
households per building) and the real OSM extracts in ../shared/realdata/osm.
Peers work on the same buildings with a rook adjacency of their Voronoi cells
clipped to the 社区 (the graph the peers need; its construction is not timed).
GerryChain runs with epsilon chosen so its balance window is 250–500; MaxP
with floor 250 (it has no ceiling) and only up to N = 1,000. A peer that took
more than --peer-limit seconds at some size is skipped at larger sizes.
Ours and GerryChain first run once, untimed, on a small layout (imports and
first calls are not counted for either). Printed: time, ratio of the peer's
time to ours, share of grids in band, mean Polsby-Popper, share of internal
boundary along roads/compound walls.
"""

from __future__ import annotations

import argparse
import math
import warnings

import geopandas as gpd
import numpy as np
import shapely
from _common import REALDATA, table, timed

from gridmgmt.core.crs import metric_crs
from gridmgmt.core.partition import partition
from gridmgmt.core.quality import polsby_popper, road_aligned_share
from gridmgmt.synthetic import generate_blocks

LO, HI = 250, 500


def voronoi_units(buildings: gpd.GeoDataFrame, boundary) -> gpd.GeoDataFrame:
    """Buildings as Voronoi cells of their centroids clipped to the boundary (metric CRS)."""
    pts = shapely.point_on_surface(buildings.geometry.values)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=boundary, ordered=True)
    )
    cells = shapely.intersection(cells, boundary)
    return gpd.GeoDataFrame(
        {"households": buildings["households"].to_numpy()}, geometry=cells, crs=buildings.crs
    )


def evaluate(units: gpd.GeoDataFrame, labels: np.ndarray, edges) -> dict:
    dissolved = units.assign(part=labels).dissolve("part", aggfunc={"households": "sum"})
    hh = dissolved["households"].to_numpy()
    return {
        "grids": len(dissolved),
        "in_band": f"{((hh >= LO) & (hh <= HI)).mean():.1%}",
        "pp": f"{polsby_popper(dissolved.geometry.values).mean():.3f}",
        "roads": f"{road_aligned_share(dissolved.geometry.values, edges):.0%}",
    }


def run_gerrychain(units):
    import networkx as nx
    from gerrychain import Graph

    try:
        from gerrychain.partition import recursive_tree_part
    except ImportError:  # GerryChain < 1.0
        from gerrychain.tree import recursive_tree_part

    nxg = nx.Graph(_rook(units))
    nxg.add_nodes_from(range(len(units)))
    for node in nxg.nodes:
        nxg.nodes[node]["households"] = int(units["households"].iloc[node])
    graph = Graph.from_networkx(nxg)
    total = units["households"].sum()
    k = max(1, round(total / ((LO + HI) / 2)))
    target = total / k
    eps = max(0.01, min(target - LO, HI - target) / target)
    assignment = recursive_tree_part(graph, range(k), target, "households", eps)
    return np.asarray([assignment[n] for n in range(len(units))])


def run_maxp(units):
    from spopt.region import MaxPHeuristic

    w = _libpysal_w(units)
    units = units.assign(attr=units.geometry.centroid.x)
    model = MaxPHeuristic(units, w, ["attr"], "households", LO, top_n=2)
    model.solve()
    return np.asarray(model.labels_)


def _rook(units) -> dict:
    tree = shapely.STRtree(units.geometry.values)
    i, j = tree.query(units.geometry.values, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(units.geometry.values[i], units.geometry.values[j])
    )
    adj = {n: [] for n in range(len(units))}
    for a, b in zip(i[shared > 0.1], j[shared > 0.1], strict=True):
        adj[int(a)].append(int(b))
        adj[int(b)].append(int(a))
    return adj


def _libpysal_w(units):
    from libpysal.weights import W

    return W(_rook(units), silence_warnings=True)


def warm_up(peers) -> None:
    """One untimed run of ours and of ``peers`` on a small layout: imports and first calls."""
    s = generate_blocks(150, seed=1)
    area = s.boundaries[s.boundaries["level"] == "community"]
    partition(s.buildings, boundary=area, roads=s.roads, compounds=s.compounds, code_prefix=None)
    crs = metric_crs(s.buildings)
    units = voronoi_units(s.buildings.to_crs(crs), area.to_crs(crs).union_all())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _peer, func, _max_n in peers:
            func(units)


def case(name, buildings, boundary_frame, roads, compounds, peers, limits, rows):
    result, t_ours = timed(
        partition,
        buildings,
        boundary=boundary_frame,
        roads=roads,
        compounds=compounds,
        code_prefix=None,
    )
    rep = result.report
    rows.append(
        {
            "data": name,
            "N": len(buildings),
            "method": "gridmgmt",
            "time_s": f"{t_ours:.2f}",
            "grids": rep.grids,
            "in_band": f"{rep.share_in_band:.1%}",
            "pp": f"{rep.mean_polsby_popper:.3f}",
            "roads": f"{rep.road_aligned_share:.0%}",
        }
    )
    crs = metric_crs(buildings)
    b = buildings.to_crs(crs)
    boundary = (
        shapely.union_all(boundary_frame.to_crs(crs).geometry.values)
        if boundary_frame is not None
        else result.grids.to_crs(crs).union_all()
    )
    units = voronoi_units(b, boundary)
    edges = []
    if roads is not None:
        edges.extend(roads.to_crs(crs).geometry.values)
    if compounds is not None:
        edges.extend(shapely.boundary(compounds.to_crs(crs).geometry.values))
    for peer, func, max_n in peers:
        too_slow = any(
            n <= len(buildings) and t > limits["budget"] for n, t in limits.get(peer, [])
        )
        if len(buildings) > max_n or too_slow:
            rows.append({"data": name, "N": len(buildings), "method": peer, "time_s": "skipped"})
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels, t_peer = timed(func, units)
        except Exception as err:  # noqa: BLE001 - report the peer's failure and go on
            rows.append(
                {
                    "data": name,
                    "N": len(buildings),
                    "method": peer,
                    "time_s": f"failed: {type(err).__name__}",
                }
            )
            continue
        limits.setdefault(peer, []).append((len(buildings), t_peer))
        row = {
            "data": name,
            "N": len(buildings),
            "method": peer,
            "time_s": f"{t_peer:.2f}",
            "ratio": f"{t_peer / t_ours:.1f}x",
        }
        row.update(evaluate(units, labels, edges))
        rows.append(row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 2000, 10000, 50000])
    parser.add_argument("--peer-limit", type=float, default=60.0)
    parser.add_argument("--no-real", action="store_true")
    args = parser.parse_args()
    peers = [("gerrychain", run_gerrychain, math.inf), ("spopt-maxp", run_maxp, 1000)]
    limits = {"budget": args.peer_limit}
    warm_up(peers[:1])
    rows: list[dict] = []
    for n in args.sizes:
        s = generate_blocks(n, seed=0)
        area = s.boundaries[s.boundaries["level"] == "community"]
        case(f"blocks-{n}", s.buildings, area, s.roads, s.compounds, peers, limits, rows)
        print(
            table(
                rows[-3:],
                ["data", "N", "method", "time_s", "ratio", "grids", "in_band", "pp", "roads"],
            ),
            flush=True,
        )
    if not args.no_real and (REALDATA / "osm").is_dir():
        from gridmgmt.io import read_layers

        for path in sorted((REALDATA / "osm").glob("*.osm")):
            layers = read_layers(path)
            if len(layers.buildings) == 0 or layers.buildings["households"].sum() == 0:
                continue
            # MaxP's run time on these small, irregular sets is erratic (586 s measured on
            # bj_bupt, 111 buildings), so real extracts are compared with GerryChain only
            case(
                path.stem,
                layers.buildings,
                None,
                layers.roads,
                layers.compounds,
                peers[:1],
                limits,
                rows,
            )
    print()
    print(
        table(rows, ["data", "N", "method", "time_s", "ratio", "grids", "in_band", "pp", "roads"])
    )


if __name__ == "__main__":
    main()
