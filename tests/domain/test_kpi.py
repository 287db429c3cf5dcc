"""KPIs recomputed from stored history."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.incidents.kpi import kpis
from gridmgmt.domain.incidents.service import report_incident, transition_incident
from tests.factories import X0, Y0

MON = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
NOTE = {"note": "n"}
PHOTO = {"photo_ids": ["p"]}


def new(store, minutes=0, **kw):
    args = dict(
        category_code="11001",
        description="垃圾",
        lon=X0 + 0.0005,
        lat=Y0 + 0.0005,
        reporter="w1",
        photo_ids=["p"],
        now=MON + timedelta(minutes=minutes),
    )
    args.update(kw)
    return report_incident(store, **args)[0]["id"]


def step(store, i, transition, role, minutes, **kw):
    return transition_incident(
        store, i, transition, actor=role, role=role, now=MON + timedelta(minutes=minutes), **kw
    )


def close_loop(store, i, t0, handle_after, rework=False):
    step(store, i, "register", "supervisor", t0)
    step(store, i, "dispatch", "supervisor", t0 + 5)
    step(store, i, "accept", "dept", t0 + 10)
    t = t0 + handle_after
    step(store, i, "handle", "dept", t, **NOTE, **PHOTO)
    if rework:
        step(store, i, "verify_fail", "worker", t + 5, **NOTE, **PHOTO)
        t += 20
        step(store, i, "handle", "dept", t, **NOTE, **PHOTO)
    step(store, i, "verify_pass", "worker", t + 5, **PHOTO)
    step(store, i, "close", "supervisor", t + 10)


def test_hand_checked_week(loop_store):
    store = loop_store
    a, b, c, d, e = (new(store, k) for k in range(5))
    close_loop(store, a, 10, 30)  # on time
    close_loop(store, b, 10, 60 * 6, rework=True)  # handled late (2 working-hour limit)
    close_loop(store, c, 10, 60)  # on time
    step(store, d, "reject", "supervisor", 20, note="不属实")  # 不予立案
    step(store, e, "register", "supervisor", 20)
    step(store, e, "suspend", "supervisor", 30, note="挂账")
    table = kpis(
        store.incidents(),
        store.incident_history(),
        MON - timedelta(days=1),
        MON + timedelta(days=7),
    )
    row = table.loc["all"]
    assert row["reported"] == 5 and row["registered"] == 4
    assert row["register_rate"] == pytest.approx(0.8)
    assert row["due"] == 3 and row["closed"] == 3 and row["closed_on_time"] == 2
    assert row["close_rate"] == pytest.approx(1.0) and row["on_time_rate"] == pytest.approx(2 / 3)
    assert (
        row["rework_rate"] == pytest.approx(1 / 3) and row["overdue"] == 1 and row["suspended"] == 1
    )
    assert row["mean_handling_hours"] > 0
    by_grid = kpis(
        store.incidents(),
        store.incident_history(),
        MON - timedelta(days=1),
        MON + timedelta(days=7),
        by="community",
    )
    assert list(by_grid.index) == ["340705001001"]
    with pytest.raises(ValueError, match="unknown grouping"):
        kpis(store.incidents(), store.incident_history(), MON, MON + timedelta(days=1), by="planet")
    with pytest.raises(ValueError, match="end must be after"):
        kpis(store.incidents(), store.incident_history(), MON, MON)


def test_tianmen_style_rates_from_counts():
    """结案率 = 结案数/应结案数, 按期结案率 = 按期结案数/应结案数 on the 天门 month (Dec 2016)."""
    due, closed, on_time = 972, 911, 737
    assert round(closed / due * 100, 2) == 93.72 and round(on_time / due * 100, 2) == 75.82


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(["close", "reject", "suspend", "open"]), min_size=1, max_size=6))
def test_kpis_match_the_stored_states(tmp_path_factory, fates):
    """Whatever happens to a batch of incidents, KPI counts agree with the states replayed from history."""
    from gridmgmt.domain.incidents import load_categories
    from gridmgmt.store.repository import Store
    from tests.factories import boundaries, small_grids

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('kpi') / 'g.db'}")
    store.write_layers({"boundaries": boundaries()}, source="t")
    store.write_grid_version("340705001001", small_grids().iloc[:2], {})
    store.sync_categories(load_categories())
    for k, fate in enumerate(fates):
        i = new(store, k)
        if fate == "close":
            close_loop(store, i, 10 + k, 30)
        elif fate == "reject":
            step(store, i, "reject", "supervisor", 10 + k, note="x")
        elif fate == "suspend":
            step(store, i, "register", "supervisor", 10 + k)
            step(store, i, "suspend", "supervisor", 20 + k, note="x")
    row = kpis(
        store.incidents(),
        store.incident_history(),
        MON - timedelta(days=1),
        MON + timedelta(days=7),
    ).loc["all"]
    states = store.incidents()["state"].value_counts()
    assert row["reported"] == len(fates)
    assert row["closed"] == states.get("closed", 0)
    assert row["suspended"] == states.get("suspended", 0)
    assert row["registered"] == states.get("closed", 0) + states.get("suspended", 0)
    assert np.isnan(row["close_rate"]) or 0 <= row["close_rate"] <= 1
    store.dispose()
