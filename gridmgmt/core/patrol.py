"""Measures of a patrol track: time, distance, coverage of the grid, anomalies (巡查轨迹分析).

A track is a sequence of time-stamped positions (lon/lat, EPSG:4326); all
work is done in a metric CRS chosen for the data. Per patrol:

- ``duration_min``, ``length_m`` (anomalous jumps left out of the length);
- ``inside_share``: share of the time spent inside the worker's own grid(s)
  (each interval between two fixes counted where it starts);
- ``building_share``: share of the grid's buildings passed within
  ``distance`` m (default 30) of the track;
- ``road_share``: share of the grid's road length within ``distance`` m of
  the track (roads are cut into ``road_step`` m pieces, each counted whole);
- anomalies: ``jumps`` (consecutive fixes implying more than ``max_speed_kmh``,
  GPS jumps or spoofing), ``stationary_min`` (the longest span within
  ``stationary_radius_m`` of one spot) flagged when it exceeds
  ``stationary_limit_min``, and ``mostly_outside`` when under half the time
  is inside the grid.

:func:`patrol_measures` handles many tracks at once (one STRtree query for
all segments), which is what the report and the benchmark use.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.crs import metric_crs


@dataclass(frozen=True)
class PatrolRules:
    """Thresholds of the measures and anomalies."""

    distance: float = 30.0  # m: a building or road piece this close to the track is covered
    road_step: float = 20.0  # m: roads are counted in pieces of this length
    max_speed_kmh: float = 40.0  # faster between two fixes: a jump
    stationary_radius_m: float = 20.0
    stationary_limit_min: float = 30.0
    min_inside_share: float = 0.5


ANOMALIES = ("jumps", "long_stationary", "mostly_outside")


def _validate(points: pd.DataFrame) -> None:
    missing = [c for c in ("patrol_id", "t", "lon", "lat") if c not in points.columns]
    if missing:
        raise ValueError(f"track points: missing column(s) {', '.join(missing)}")
    if points[["lon", "lat"]].isna().any().any():
        raise ValueError("track points: missing coordinates")
    t = pd.to_datetime(points["t"], utc=True)
    if t.isna().any():
        raise ValueError("track points: missing or unreadable times")
    order_ok = t.groupby(points["patrol_id"].to_numpy()).apply(lambda s: s.is_monotonic_increasing)
    if not order_ok.all():
        bad = ", ".join(str(p) for p in order_ok.index[~order_ok.to_numpy()][:5])
        raise ValueError(f"track points: times out of order in patrol(s) {bad}")


@dataclass
class _Track:
    """Fixes of many patrols projected to metres, sorted by patrol and time."""

    pts: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    pid: np.ndarray
    seconds: np.ndarray
    same: np.ndarray  # fix k and k+1 belong to the same patrol
    dist: np.ndarray
    dt: np.ndarray
    speed: np.ndarray  # km/h between fix k and k+1
    jump: np.ndarray

    @classmethod
    def of(cls, points: pd.DataFrame, crs, rules: PatrolRules) -> _Track:
        _validate(points)
        pts = points.copy()
        pts["t"] = pd.to_datetime(pts["t"], utc=True)
        pts = pts.sort_values(["patrol_id", "t"], kind="stable").reset_index(drop=True)
        from pyproj import Transformer

        to_metric = Transformer.from_crs(4326, crs, always_xy=True)
        x, y = to_metric.transform(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
        x, y = np.asarray(x), np.asarray(y)
        pid = pts["patrol_id"].to_numpy()
        seconds = (pts["t"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        same = pid[1:] == pid[:-1]
        dist = np.hypot(np.diff(x), np.diff(y))
        dt = np.diff(seconds)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(dt > 0, dist / dt * 3.6, np.where(dist > 1.0, np.inf, 0.0))
        jump = same & (speed > rules.max_speed_kmh)
        return cls(pts, x, y, pid, seconds, same, dist, dt, speed, jump)

    def segments(self):
        """(walked segments, their patrol, every fix as a point); jumps are not walked."""
        ok = self.same & ~self.jump
        seg = (
            shapely.linestrings(
                np.stack([np.c_[self.x[:-1], self.y[:-1]], np.c_[self.x[1:], self.y[1:]]], axis=1)[
                    ok
                ]
            )
            if ok.any()
            else np.empty(0, dtype=object)
        )
        return seg, self.pid[:-1][ok], shapely.points(self.x, self.y)


def buildings_passed(
    points: pd.DataFrame, buildings: gpd.GeoDataFrame, rules: PatrolRules | None = None
) -> set[str]:
    """Ids (``building_id``) of the buildings within ``rules.distance`` of any of the tracks."""
    rules = rules or PatrolRules()
    if points.empty or buildings.empty:
        return set()
    crs = metric_crs(buildings)
    seg, _, single = _Track.of(points, crs, rules).segments()
    tree = shapely.STRtree(buildings.to_crs(crs).geometry.values)
    near = np.r_[
        tree.query(seg, predicate="dwithin", distance=rules.distance)[1],
        tree.query(single, predicate="dwithin", distance=rules.distance)[1],
    ]
    return set(buildings["building_id"].astype(str).to_numpy()[np.unique(near)])


def patrol_measures(
    points: pd.DataFrame,
    patrols: pd.DataFrame,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    rules: PatrolRules | None = None,
) -> pd.DataFrame:
    """Measures of each patrol against its worker's grid(s).

    Parameters
    ----------
    points : DataFrame
        ``patrol_id``, ``t`` (aware datetimes), ``lon``, ``lat``; sorted by
        time within each patrol.
    patrols : DataFrame
        ``patrol_id`` and ``grid_codes`` (a list of the worker's grid codes
        per patrol).
    grids : GeoDataFrame
        ``code`` and polygons.
    buildings : GeoDataFrame
        ``building_id``, ``grid_code`` and footprints.
    roads : GeoDataFrame, optional
        Centre lines (clipped to each grid for the road share).
    rules : PatrolRules, optional

    Returns
    -------
    DataFrame
        One row per patrol (index ``patrol_id``): ``points``, ``started``,
        ``ended``, ``duration_min``, ``length_m``, ``inside_share``,
        ``buildings_total``, ``buildings_passed``, ``building_share``,
        ``road_m``, ``road_covered_m``, ``road_share``, ``jumps``,
        ``max_speed_kmh``, ``stationary_min``, ``anomalies`` (comma list),
        ``grid_shares`` (own grid code -> its ``building_share`` and
        ``road_share``, None where the grid has no buildings or roads).
    """
    rules = rules or PatrolRules()
    crs = metric_crs(grids if len(grids) else gpd.GeoDataFrame(geometry=[], crs=4326))
    tr = _Track.of(points, crs, rules)
    pts, x, y, pid, seconds = tr.pts, tr.x, tr.y, tr.pid, tr.seconds
    same, dist, dt, speed, jump = tr.same, tr.dist, tr.dt, tr.speed, tr.jump

    g = grids.to_crs(crs).set_index("code")
    own = patrols.set_index("patrol_id")["grid_codes"]
    area = {
        p: shapely.union_all(g.geometry.reindex([c for c in codes if c in g.index]).values)
        for p, codes in own.items()
    }
    # the rows of each patrol (points are sorted by patrol)
    ids, first, count = np.unique(pid, return_index=True, return_counts=True)
    rows_of = {q: np.arange(f, f + c) for q, f, c in zip(ids, first, count, strict=True)}
    # time inside: each interval counted at its start fix
    inside = np.zeros(len(pts), bool)
    for p, poly in area.items():
        sel = rows_of.get(p)
        if sel is not None and not poly.is_empty:
            inside[sel] = shapely.intersects_xy(poly, x[sel], y[sel])  # the edge counts
    interval = np.r_[np.where(same, dt, 0.0), 0.0]

    seg, seg_pid, single = tr.segments()

    rows = []
    b = buildings.to_crs(crs)
    b_geom = np.asarray(b.geometry.values, dtype=object)
    b_grid = b["grid_code"].astype(str).to_numpy()
    b_tree = shapely.STRtree(b_geom)
    pieces, piece_grid = _road_pieces(roads, g, crs, rules.road_step)
    r_tree = shapely.STRtree(pieces) if len(pieces) else None
    # every segment's nearby buildings / road pieces in one query each
    near_b = b_tree.query(seg, predicate="dwithin", distance=rules.distance)
    near_r = (
        r_tree.query(seg, predicate="dwithin", distance=rules.distance)
        if r_tree is not None and len(seg)
        else np.empty((2, 0), dtype=int)
    )
    pt_b = b_tree.query(single, predicate="dwithin", distance=rules.distance)
    b_by_patrol = pd.DataFrame(
        {"p": np.r_[seg_pid[near_b[0]], pid[pt_b[0]]], "b": np.r_[near_b[1], pt_b[1]]}
    ).drop_duplicates()
    r_by_patrol = pd.DataFrame({"p": seg_pid[near_r[0]], "r": near_r[1]}).drop_duplicates()
    piece_len = shapely.length(pieces) if len(pieces) else np.empty(0)
    b_groups = {q: v.to_numpy() for q, v in b_by_patrol.groupby("p")["b"]}
    r_groups = {q: v.to_numpy() for q, v in r_by_patrol.groupby("p")["r"]}
    none = np.empty(0, dtype=int)

    for p, codes in own.items():
        sel = rows_of.get(p, none)
        codes = set(codes)
        if len(sel) == 0:
            rows.append(_empty_row(p))
            continue
        total_time = interval[sel].sum()
        length = dist[sel[:-1]][~jump[sel[:-1]]].sum() if len(sel) > 1 else 0.0
        mine_b = np.flatnonzero(np.isin(b_grid, list(codes)))
        passed_b = np.intersect1d(b_groups.get(p, none), mine_b)
        mine_r = np.flatnonzero(np.isin(piece_grid, list(codes)))
        passed_r = np.intersect1d(r_groups.get(p, none), mine_r)
        road_m = float(piece_len[mine_r].sum()) if len(mine_r) else 0.0
        road_cov = float(piece_len[passed_r].sum()) if len(passed_r) else 0.0
        inside_share = (
            float(interval[sel][inside[sel]].sum() / total_time)
            if total_time > 0
            else float(inside[sel].mean())
        )
        jumps = int(jump[sel[:-1]].sum()) if len(sel) > 1 else 0
        finite = speed[sel[:-1]][np.isfinite(speed[sel[:-1]])] if len(sel) > 1 else np.empty(0)
        stationary = _longest_stationary(x[sel], y[sel], seconds[sel], rules.stationary_radius_m)
        flags = []
        if jumps:
            flags.append("jumps")
        if stationary > rules.stationary_limit_min:
            flags.append("long_stationary")
        if inside_share < rules.min_inside_share:
            flags.append("mostly_outside")
        rows.append(
            {
                "patrol_id": p,
                "points": len(sel),
                "started": pts["t"].iloc[sel[0]],
                "ended": pts["t"].iloc[sel[-1]],
                "duration_min": float(seconds[sel[-1]] - seconds[sel[0]]) / 60,
                "length_m": float(length),
                "inside_share": inside_share,
                "buildings_total": len(mine_b),
                "buildings_passed": len(passed_b),
                "building_share": len(passed_b) / len(mine_b) if len(mine_b) else np.nan,
                "road_m": road_m,
                "road_covered_m": road_cov,
                "road_share": road_cov / road_m if road_m else np.nan,
                "jumps": jumps,
                "max_speed_kmh": float(finite.max()) if len(finite) else 0.0,
                "stationary_min": stationary,
                "anomalies": ",".join(flags),
                "grid_shares": _grid_shares(
                    sorted(codes),
                    b_grid[passed_b],
                    b_grid[mine_b],
                    piece_grid[passed_r],
                    piece_grid[mine_r],
                    piece_len[passed_r],
                    piece_len[mine_r],
                ),
            }
        )
    return pd.DataFrame(rows).set_index("patrol_id").sort_index()


def _grid_shares(codes, passed_b, all_b, passed_r, all_r, passed_len, all_len) -> dict:
    """Per own grid: shares of its buildings passed and of its road length covered."""
    out = {}
    for code in codes:
        nb = int((all_b == code).sum())
        road = float(all_len[all_r == code].sum()) if len(all_r) else 0.0
        out[code] = {
            "building_share": float((passed_b == code).sum()) / nb if nb else None,
            "road_share": float(passed_len[passed_r == code].sum()) / road if road else None,
        }
    return out


def _empty_row(p) -> dict:
    return {"patrol_id": p, "points": 0, "anomalies": "", "duration_min": 0.0, "length_m": 0.0}


def _road_pieces(roads, grids_metric: gpd.GeoDataFrame, crs, step: float):
    """Roads clipped to each grid and cut into ``step`` m pieces; (pieces, grid code of each)."""
    if roads is None or len(roads) == 0 or len(grids_metric) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=object)
    r = roads.to_crs(crs)
    tree = shapely.STRtree(r.geometry.values)
    gi, ri = tree.query(grids_metric.geometry.values, predicate="intersects")
    clipped = shapely.intersection(r.geometry.values[ri], grids_metric.geometry.values[gi])
    codes = grids_metric.index.to_numpy()[gi]
    lines, line_code = shapely.get_parts(clipped, return_index=True)
    keep = shapely.get_type_id(lines) == 1  # LineString
    lines, line_code = lines[keep], codes[line_code[keep]]
    lengths = shapely.length(lines)
    n = np.maximum(1, np.ceil(lengths / step).astype(int))
    owner = np.repeat(np.arange(len(lines)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    frac0, frac1 = k / n[owner], (k + 1) / n[owner]
    pieces = shapely.line_interpolate_point(lines[owner], frac0, normalized=True)
    ends = shapely.line_interpolate_point(lines[owner], frac1, normalized=True)
    segs = shapely.linestrings(
        np.stack(
            [
                np.c_[shapely.get_x(pieces), shapely.get_y(pieces)],
                np.c_[shapely.get_x(ends), shapely.get_y(ends)],
            ],
            axis=1,
        )
    )
    return segs, line_code[owner]


def _longest_stationary(x, y, seconds, radius: float) -> float:
    """Minutes of the longest run of fixes all within ``radius`` m of the run's first fix."""
    xs, ys, ts = x.tolist(), y.tolist(), seconds.tolist()  # plain floats: a fast Python loop
    best, start, r2 = 0.0, 0, radius * radius
    x0, y0 = (xs[0], ys[0]) if xs else (0.0, 0.0)
    for i in range(1, len(xs)):
        dx, dy = xs[i] - x0, ys[i] - y0
        if dx * dx + dy * dy > r2:
            best = max(best, ts[i - 1] - ts[start])
            start, x0, y0 = i, xs[i], ys[i]
    if xs:
        best = max(best, ts[-1] - ts[start])
    return float(best) / 60
