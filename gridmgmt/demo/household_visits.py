"""Demo 走访: each demo grid worker confirms or corrects a few buildings' households.

Over the last week every worker visits four residential buildings of its
grids: two counts are confirmed as they stand, two corrected by a few
households with a note, through the same use case as the phone page
(:func:`gridmgmt.domain.household_visits.record_visit`), so the 房屋台账 and
the supervisor's 户数变动 page have something to show.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from gridmgmt.config import household_band
from gridmgmt.domain.access import Principal
from gridmgmt.domain.household_visits import record_visit
from gridmgmt.store.household_visits import HouseholdVisitStore

VISITS_PER_WORKER = 4
CORRECTION_NOTES = (
    "走访核实：新入住{n}户",
    "走访核实：{n}户已搬离，房屋空置",
)


def generate_visits(store, *, seed: int = 0, now: datetime | None = None) -> int:
    """Record the demo workers' visits; how many changes were written."""
    rng = np.random.default_rng(seed + 21)
    repo = HouseholdVisitStore(store)
    band = household_band()
    now = now or datetime.now(UTC)
    users = store.users()
    made = 0
    for user in users[users["role"] == "worker"].sort_values("username").itertuples():
        codes = list(user.grid_codes)
        if not codes:
            continue
        principal = Principal("worker", user.username, grid_codes=tuple(codes))
        homes = store.read_layer("buildings", grid_codes=codes)
        homes = homes[homes["households"] > 6].sort_values("building_id")
        if not len(homes):
            continue
        picks = rng.choice(len(homes), size=min(VISITS_PER_WORKER, len(homes)), replace=False)
        for k, i in enumerate(sorted(picks)):
            building = homes.iloc[int(i)]
            households, note = int(building["households"]), None
            if k % 2:  # a correction: a few households more or fewer
                n = int(rng.integers(2, 6))
                gained = bool(rng.integers(2))
                households += n if gained else -n
                note = CORRECTION_NOTES[0 if gained else 1].format(n=n)
            record_visit(
                repo,
                principal,
                str(building["building_id"]),
                households=households,
                note=note,
                idempotency_key=f"demo-{user.username}-{k}",
                band=band,
                now=now - timedelta(days=int(rng.integers(0, 7)), hours=int(rng.integers(0, 8))),
            )
            made += 1
    return made
