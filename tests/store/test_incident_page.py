"""Paged incident queries: the access scope in SQL selects what the policy's rule selects,
on SQLite and PostGIS, and pages are stable and complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely

from gridmgmt.domain import access
from gridmgmt.domain.incidents import load_categories
from gridmgmt.store import models as m
from tests.domain.test_incident_scope import PRINCIPALS, TABLE


@pytest.fixture
def stored(store):
    store.sync_categories(load_categories())
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    with store.session() as s:
        for r in TABLE.to_dict("records"):
            s.add(
                m.Incident(
                    number=f"2026-{r['id'] + 1:06d}",
                    source="12345热线",
                    category_code="11001",
                    description="x",
                    state=r["state"],
                    grid_code=r["grid_code"],
                    reporter=r["reporter"],
                    department=r["department"],
                    created_at=t0 + timedelta(minutes=r["id"] % 7),
                    updated_at=t0,
                    geom=shapely.Point(117.81 + r["id"] * 1e-4, 30.94),
                    version=1,
                )
            )
    return store


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.role}-{p.username}")
def test_scope_in_sql_is_the_policys_rule(stored, principal):
    everything = stored.incidents()
    expected = set(access.visible_incidents(principal, everything)["id"])
    scope = access.incident_scope(principal)
    seen, total = [], None
    for offset in range(0, 80, 7):
        page, total = stored.incident_page(scope, limit=7, offset=offset, order="-created")
        seen += list(page["id"])
    assert total == len(expected) and len(seen) == len(set(seen)) and set(seen) == expected
    assert set(stored.incidents(scope=scope)["id"]) == expected


def test_bbox_pages_on_each_backend(stored):
    scope = access.incident_scope(access.Principal("admin", "admin"))
    box = (117.81 - 1e-5, 30.93, 117.81 + 9.5e-4, 30.95)  # ids 0..9
    page, total = stored.incident_page(scope, limit=4, offset=8, bbox=box, with_location=True)
    assert total == 10 and len(page) == 2
    assert page["lon"].between(box[0], box[2]).all()
    counts = stored.open_counts_by_grid(scope, datetime(2026, 12, 1, tzinfo=UTC))
    everything = stored.incidents()
    open_in_grids = everything["grid_code"].notna() & (everything["state"] != "closed")
    assert counts["open"].sum() == open_in_grids.sum()
