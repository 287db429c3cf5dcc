"""A month of demo patrols: tracks along the roads of each worker's grids, diary entries, one spoof.

Each demo grid worker walks most working days (about one day in eight is
missed), at ~1.2 m/s with a fix every 15 s and a few metres of GPS noise,
along the road centre lines inside their grids (chained nearest-first,
walked back and forth until the patrol's 30–60 minutes are up). One track
is spoofed: fixes that jump kilometres away and back. Some patrol days get
a 民情日记 entry, and incidents the worker reported during a patrol are
linked to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.crs import metric_crs
from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.incidents.calendar import WorkingCalendar
from gridmgmt.domain.patrols import DIARY_KINDS, add_diary_entry, finish_patrols

SPEED = 1.2  # m/s
STEP_S = 15
DIARY_TEXTS = {
    "走访": "走访独居老人，身体状况良好",
    "调解": "调解楼上漏水邻里纠纷，双方达成一致",
    "宣传": "张贴防诈骗宣传海报",
    "信息收集": "登记新入住住户信息",
    "应急": "协助处置电梯困人",
    "其他": "清点消防通道堆放物",
}


def route(grid, roads: gpd.GeoDataFrame, length: float, rng: np.random.Generator) -> np.ndarray:
    """Metric (x, y) points every ``SPEED * STEP_S`` m along the roads inside ``grid``."""
    step = SPEED * STEP_S
    lines = shapely.get_parts(shapely.intersection(roads.geometry.values, grid))
    lines = [g for g in lines if g.geom_type == "LineString" and g.length > step]
    if not lines:  # no road inside: walk the grid's outline
        lines = [shapely.LineString(shapely.get_coordinates(grid.exterior))]
    order, rest = [lines[int(rng.integers(len(lines)))]], [g for g in lines]
    rest.remove(order[0])
    while rest:  # nearest next road from where the last one ends
        end = shapely.Point(order[-1].coords[-1])
        k = int(np.argmin([g.distance(end) for g in rest]))
        nxt = rest.pop(k)
        if shapely.Point(nxt.coords[-1]).distance(end) < shapely.Point(nxt.coords[0]).distance(end):
            nxt = shapely.LineString(nxt.coords[::-1])
        order.append(nxt)
    path = shapely.LineString([c for g in order for c in g.coords])
    walked, pts, forward = 0.0, [], True
    while walked < length:
        line = path if forward else shapely.LineString(path.coords[::-1])
        d = np.arange(0, line.length, step)
        pts.append(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))
        walked += line.length
        forward = not forward
    xy = np.vstack(pts)[: max(2, int(length / step))]
    return xy + rng.normal(0, 3.0, xy.shape)


def generate_patrol_month(
    store, repo, *, seed: int = 0, end: datetime | None = None, days: int = 30
) -> dict[str, int]:
    """Patrols of every grid worker over ``days`` days before ``end``; counts of what was made."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(SHANGHAI)
    calendar = WorkingCalendar()
    users = store.users()
    workers = users[(users["role"] == "worker") & users["active"]]
    grids = store.current_grids()
    if grids.empty or workers.empty:
        return {"patrols": 0, "diary": 0, "linked": 0}
    crs = metric_crs(grids)
    g = grids.to_crs(crs).set_index("code")
    roads = store.read_layer("roads", bbox=tuple(grids.total_bounds)).to_crs(crs)
    incidents = store.incidents()
    made = {"patrols": 0, "diary": 0, "linked": 0, "missed_days": 0}
    spoof_day = None
    ends: dict[int, datetime] = {}
    for w in workers.itertuples():
        area = shapely.union_all(g.geometry.reindex(w.grid_codes).dropna().values)
        if area.is_empty:
            continue
        for k in range(days, 0, -1):
            day = (end - timedelta(days=k)).date()
            if not calendar.is_working_day(day):
                continue
            if rng.random() < 0.12:
                made["missed_days"] += 1
                continue
            start = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(
                minutes=int(rng.integers(8 * 60 + 30, 16 * 60))
            )
            minutes = float(rng.uniform(30, 60))
            code = w.grid_codes[int(rng.integers(len(w.grid_codes)))]
            xy = route(g.geometry[code], roads, minutes * 60 * SPEED, rng)
            if spoof_day is None and k < days // 2:  # one spoofed track: jumps away and back
                spoof_day = day
                xy[len(xy) // 3 : len(xy) // 3 + 5] += 4000.0
            lonlat = gpd.GeoSeries(shapely.points(xy), crs=crs).to_crs(4326)
            t = [start + timedelta(seconds=STEP_S * i) for i in range(len(xy))]
            pid = repo.start(w.username, list(w.grid_codes), t[0], "demo")
            fixes = pd.DataFrame(
                {"seq": range(len(t)), "t": t, "lon": lonlat.x, "lat": lonlat.y, "accuracy": 5.0}
            )
            repo.add_points(pid, fixes)
            ends[pid] = t[-1]
            made["patrols"] += 1
            if len(incidents):
                during = incidents[
                    (incidents["reporter"] == w.username)
                    & (incidents["created_at"] >= pd.Timestamp(t[0]))
                    & (incidents["created_at"] <= pd.Timestamp(t[-1]))
                ]
                for incident_id in during["id"]:
                    repo.link_incident(pid, int(incident_id))
                    made["linked"] += 1
            if rng.random() < 0.5:
                kind = DIARY_KINDS[int(rng.integers(len(DIARY_KINDS)))]
                add_diary_entry(
                    store,
                    repo,
                    w.username,
                    day=day,
                    grid_code=code,
                    kind=kind,
                    text=DIARY_TEXTS[kind],
                    patrol_id=pid,
                )
                made["diary"] += 1
    finish_patrols(store, repo, ends)
    return made
