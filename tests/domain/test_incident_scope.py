"""The access scope a store query applies is the same rule as one record's visibility."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from gridmgmt.domain import access

GRIDS = ("340705001001001", "340705001001002", "340705002001001", None)
STATES = ("reported", "dispatched", "closed")
DEPARTMENTS = ("环卫所", "城管中队", None)
REPORTERS = ("worker", "key-hotline")

TABLE = pd.DataFrame(
    [
        {"id": n, "grid_code": g, "state": s, "department": d, "reporter": r}
        for n, (g, s, d, r) in enumerate(itertools.product(GRIDS, STATES, DEPARTMENTS, REPORTERS))
    ]
)

PRINCIPALS = [
    access.Principal("admin", "admin"),
    access.Principal("admin", "a2", area="340705001"),
    access.Principal("supervisor", "s", area="340705001001"),
    access.Principal("dept", "d"),
    access.Principal("dept", "d2", department="环卫所"),
    access.Principal("dept", "d3", department="环卫所", area="340705002"),
    access.Principal("worker", "worker", grid_codes=("340705001001001",)),
    access.Principal("worker", "w0"),
    access.Principal("analyst", "an"),
    access.Principal("hotline", "key-hotline"),
    access.ANONYMOUS,
]


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.role}-{p.username}")
def test_scope_mask_agrees_with_one_record_visibility(principal):
    scope = access.incident_scope(principal)
    by_record = [access.incident_visible(principal, r) for r in TABLE.to_dict("records")]
    assert list(scope.mask(TABLE)) == by_record
    assert list(access.visible_incidents(principal, TABLE)["id"]) == list(TABLE["id"][by_record])
