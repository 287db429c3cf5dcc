"""A month of demo incidents run through the real workflow (seeded), so maps and KPIs have data."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from gridmgmt.config import uploads_dir
from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.incidents.service import report_incident, transition_incident
from gridmgmt.domain.residents import RESIDENT_REPORTER

#: the photo id every demo step that needs a photo carries (written by :func:`write_demo_photo`)
DEMO_PHOTO = "demo.jpg"

#: frequent categories of a residential 街道 and their weights
COMMON = {
    "11001": 8,
    "11002": 6,
    "15001": 6,
    "15003": 7,
    "15004": 5,
    "12001": 5,
    "20002": 4,
    "20001": 2,
    "02001": 4,
    "01001": 2,
    "16001": 3,
    "17004": 2,
    "13001": 2,
    "04001": 1,
    "18002": 2,
}

#: shares of incidents left open mid-loop, so the map, the desk and the overdue
#: list have work on them (the rest close unless the period ends first)
STALLED_SHARE = 0.08
AWAITING_VERIFY_SHARE = 0.04

#: every open state of the workflow and the steps (transition, role, extra) that reach it, so
#: each queue of the desk, the department page and 我的任务 has a case to try
EVERY_QUEUE: dict[str, tuple[tuple[str, str, dict], ...]] = {
    "reported": (),
    "registered": (("register", "supervisor", {}),),
    "dispatched": (("register", "supervisor", {}), ("dispatch", "supervisor", {})),
    "in_progress": (
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
    ),
    "extension_requested": (
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("request_extension", "dept", {"note": "需要专业设备"}),
    ),
    "handled": (
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("handle", "dept", {"note": "已处理", "photo_ids": [DEMO_PHOTO]}),
    ),
    "verified": (
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("handle", "dept", {"note": "已处理", "photo_ids": [DEMO_PHOTO]}),
        ("verify_pass", "worker", {"photo_ids": [DEMO_PHOTO]}),
    ),
    "suspended": (
        ("register", "supervisor", {}),
        ("suspend", "supervisor", {"note": "需上级协调"}),
    ),
    "rework_requested": (  # 返工申请: the resident's 不满意 after 结案, made as 居民
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("handle", "dept", {"note": "已处理", "photo_ids": [DEMO_PHOTO]}),
        ("verify_pass", "worker", {"photo_ids": [DEMO_PHOTO]}),
        ("close", "supervisor", {}),
        ("request_rework", "resident", {"note": "居民评价不满意", "actor": RESIDENT_REPORTER}),
    ),
}


def generate_incident_month(
    store, *, seed: int = 0, end: datetime | None = None, days: int = 30, per_day: float = 10.0
) -> int:
    """Report and process about ``per_day`` incidents a day over ``days`` days up to ``end``.

    Locations are building positions of the stored 街道 (a few fall outside
    every grid); fates: mostly closed (some late, ~10 % with 返工), some
    rejected, suspended, extended or still open. Returns how many were made.
    """
    rng = np.random.default_rng(seed)
    end = end or datetime.now(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    buildings = store.read_layer("buildings")
    if len(buildings) == 0:
        return 0
    points = buildings.geometry.representative_point()
    codes = list(COMMON)
    weights = np.asarray([COMMON[c] for c in codes], dtype=float)
    weights /= weights.sum()
    made = 0
    for day in range(days):
        date = (end - timedelta(days=days - day)).date()
        for _ in range(rng.poisson(per_day)):
            t = datetime.combine(date, datetime.min.time(), SHANGHAI) + timedelta(
                minutes=int(rng.integers(8 * 60, 19 * 60))
            )
            if t > end:
                continue
            p = points.iloc[int(rng.integers(len(points)))]
            lon, lat = (p.x + rng.normal(0, 0.0002), p.y + rng.normal(0, 0.0002))
            if rng.random() < 0.02:
                lon += 0.05  # a hotline address that geocoded outside the 街道
            source = "网格员巡查" if rng.random() < 0.6 else "12345热线"
            incident, _ = report_incident(
                store,
                category_code=str(rng.choice(codes, p=weights)),
                description="示例事件",
                lon=lon,
                lat=lat,
                reporter="worker" if source == "网格员巡查" else "hotline",
                source=source,
                photo_ids=[DEMO_PHOTO],
                now=t,
            )
            made += 1
            _run_fate(store, incident, t, end, rng)
    return made + seed_every_queue(store, end=end, seed=seed)


def seed_every_queue(
    store, *, end: datetime | None = None, seed: int = 0, per_state: int = 2
) -> int:
    """Top up every open state of :data:`EVERY_QUEUE` to ``per_state`` cases reported in the
    last hours before ``end`` (so their deadlines still run); returns how many were made.

    The month's random fates leave some queues empty (a case is 立案 and 派遣 within
    the hour); these cases are run through the real workflow like the others.
    """
    rng = np.random.default_rng(seed + 1)
    end = end or datetime.now(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    buildings = store.read_layer("buildings")
    if len(buildings) == 0:
        return 0
    points = buildings.geometry.representative_point()
    present = store.incidents()["state"].value_counts()
    codes = list(COMMON)
    made = 0
    for k, (state, steps) in enumerate(EVERY_QUEUE.items()):
        for n in range(max(0, per_state - int(present.get(state, 0)))):
            # reported 1–5 hours before ``end``, a step every few minutes after that
            t = end - timedelta(hours=5) + timedelta(minutes=25 * k + 7 * n)
            p = points.iloc[int(rng.integers(len(points)))]
            incident, _ = report_incident(
                store,
                category_code=codes[(k + n) % len(codes)],
                description="示例事件",
                lon=p.x,
                lat=p.y,
                reporter="worker",
                source="网格员巡查",
                photo_ids=[DEMO_PHOTO],
                now=t,
            )
            for i, (transition, role, extra) in enumerate(steps, start=1):
                options = {"actor": role} | extra  # the actor is the role unless a step names it
                transition_incident(
                    store,
                    incident["id"],
                    transition,
                    role=role,
                    now=t + timedelta(minutes=3 * i),
                    **options,
                )
            made += 1
    return made


def _run_fate(store, incident, t, end, rng) -> None:
    i = incident["id"]

    def step(transition, role, minutes, **kw):
        nonlocal t
        t = t + timedelta(minutes=float(minutes))
        if t > end:
            raise StopIteration
        transition_incident(store, i, transition, actor=role, role=role, now=t, **kw)

    photo = {"photo_ids": [DEMO_PHOTO]}
    try:
        if rng.random() < 0.05:
            step("reject", "supervisor", rng.integers(5, 40), note="不属于受理范围")
            return
        step("register", "supervisor", rng.integers(5, 40))
        if rng.random() < 0.03:
            step("suspend", "supervisor", rng.integers(30, 300), note="需上级协调")
            return
        step("dispatch", "supervisor", rng.integers(5, 60))
        if rng.random() < 0.04:
            step("return", "dept", rng.integers(10, 120), note="非本部门职责")
            step("dispatch", "supervisor", rng.integers(5, 30))
        step("accept", "dept", rng.integers(5, 60))
        if rng.random() < STALLED_SHARE:
            return  # the department is still at it: open, overdue once its deadline passes
        if rng.random() < 0.05:
            step("request_extension", "dept", rng.integers(30, 200), note="需要专业设备")
            step("approve_extension", "supervisor", rng.integers(10, 60), note="同意")
        step("handle", "dept", rng.gamma(2.0, 90.0), note="已处理", **photo)
        if rng.random() < AWAITING_VERIFY_SHARE:
            return  # waiting for the grid worker's 核查 (shows in 我的任务)
        if rng.random() < 0.1:
            step("verify_fail", "worker", rng.integers(20, 180), note="整改不到位", **photo)
            step("handle", "dept", rng.gamma(2.0, 60.0), note="已返工", **photo)
        step("verify_pass", "worker", rng.integers(20, 240), **photo)
        step("close", "supervisor", rng.integers(10, 120))
    except StopIteration:
        return  # still open at the end of the period


def write_demo_photo(instance_dir: Path) -> Path:
    """Draw the demo cases' photo into the instance's photo folder, so case pages show it.

    A plain JPEG (a street scene in flat colours, seeded by nothing): the
    demo's cases name it as the photo of their reports, handling and checks.
    """
    from PIL import Image, ImageDraw

    path = uploads_dir(instance_dir) / "photos" / DEMO_PHOTO
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (480, 360), (186, 212, 232))  # sky
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 250, 480, 360), fill=(120, 120, 120))  # street
    for x, h in ((20, 150), (140, 190), (270, 120), (370, 170)):  # buildings
        draw.rectangle((x, 250 - h, x + 90, 250), fill=(214, 196, 170), outline=(90, 80, 70))
    draw.ellipse((300, 280, 360, 330), fill=(60, 130, 60))  # the problem: a fallen shrub
    image.save(path, "JPEG", quality=80)
    return path
