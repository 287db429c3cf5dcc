"""Demo residents' reports with 回访 ratings, and a 信息员's 零报告, so 满意率 and the roll show."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.demo.incidents import DEMO_PHOTO
from gridmgmt.domain.incidents.service import transition_incident
from gridmgmt.domain.residents import rate_case, submit_report
from gridmgmt.domain.volunteers import send_zero_report
from gridmgmt.store.residents import ResidentStore

#: the share of each rating among the demo's rated cases
RATING_SHARES = {"satisfied": 0.6, "basic": 0.3, "unsatisfied": 0.1}
STEPS = (
    ("register", "supervisor", {}),
    ("dispatch", "supervisor", {}),
    ("accept", "dept", {}),
    ("handle", "dept", {"note": "已处理", "photo_ids": [DEMO_PHOTO]}),
    ("verify_pass", "worker", {"photo_ids": [DEMO_PHOTO]}),
    ("close", "supervisor", {"note": "问题已处理，感谢您的反映"}),
)


def generate_resident_reports(
    store, *, seed: int = 0, count: int = 24, end: datetime | None = None
) -> dict:
    """``count`` residents' reports over the last 3 weeks: most closed and rated, a few open.

    Returns ``{"reports": n, "rated": n}``; the follow codes are random, so
    the demo prints none (staff see the cases on the desk).
    """
    rng = np.random.default_rng(seed)
    end = end or datetime.now(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    grids = store.current_grids()
    grids = grids[grids["kind"] == "residential"]
    if len(grids) == 0:
        return {"reports": 0, "rated": 0}
    points = grids.geometry.representative_point()
    residents = ResidentStore(store)
    ratings = list(RATING_SHARES)
    shares = np.asarray([RATING_SHARES[r] for r in ratings])
    rated = 0
    for n in range(count):
        t = end - timedelta(days=float(rng.uniform(2, 21)))
        p = points.iloc[int(rng.integers(len(points)))]
        done = submit_report(
            store,
            residents,
            category_code=str(rng.choice(["11001", "11002", "15003"])),
            description="居民反映：示例问题",
            lon=p.x,
            lat=p.y,
            phone=f"139{int(rng.integers(10**7, 10**8)):08d}" if rng.random() < 0.7 else None,
            device=f"demo-device-{n}",
            now=t,
        )
        incident = done.incident
        if rng.random() < 0.2:
            continue  # still being handled
        for transition, role, extras in STEPS:
            t += timedelta(hours=float(rng.uniform(0.5, 6)))
            incident = transition_incident(
                store, incident["id"], transition, actor=role, role=role, now=t, **extras
            )
        rating = str(rng.choice(ratings, p=shares))
        rate_case(store, residents, incident, rating, None, now=t + timedelta(hours=12))
        rated += 1
    return {"reports": count, "rated": rated}


def generate_zero_reports(store, username: str, *, days: int = 14, end=None) -> int:
    """A 零报告 of ``username`` on every other day of the last ``days`` days; how many."""
    end = end or datetime.now(SHANGHAI)
    user = store.user(username=username)
    codes = user.get("grid_codes", ()) if user else ()
    sent = 0
    for d in range(days, 0, -2):
        sent += send_zero_report(ResidentStore(store), username, codes, now=end - timedelta(days=d))
    return sent
