"""The access policy on its own: actions, records and fields per principal."""

from __future__ import annotations

import pandas as pd
import pytest

from gridmgmt.domain.access import (
    ACTIONS,
    ANONYMOUS,
    PUBLIC_ACTIONS,
    Principal,
    grid_visible,
    incident_visible,
    may,
    redact_incident,
    redact_incident_records,
    redact_incidents,
    visible_grids,
    visible_incidents,
)

G1, G2, OTHER_STREET = "340705001001001", "340705001002001", "340705002001001"

INCIDENTS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "grid_code": [G1, G2, OTHER_STREET, None, G1],
        "state": ["reported", "dispatched", "closed", "registered", "in_progress"],
        "department": ["环卫所", "环卫所", "城管中队", "环卫所", "城管中队"],
        "reporter": ["worker", "hotline-12345", "worker", "hotline-12345", "supervisor"],
        "description": ["垃圾", "占道", "噪音", "井盖", "广告"],
        "address": ["长江路1号"] * 5,
        "lon": [118.123456] * 5,
        "lat": [31.654321] * 5,
    }
)

PRINCIPALS = {
    "admin": Principal("admin", "admin"),
    "supervisor": Principal("supervisor", "supervisor"),
    "supervisor@001": Principal("supervisor", "sup1", area="340705001"),
    "dept": Principal("dept", "dept"),
    "dept@环卫所": Principal("dept", "dept2", department="环卫所"),
    "worker": Principal("worker", "worker", grid_codes=(G1,)),
    "worker-without-grids": Principal("worker", "worker9"),
    "analyst": Principal("analyst", "analyst"),
    "hotline": Principal("hotline", "hotline-12345"),
    "anonymous": ANONYMOUS,
}

#: principal -> ids of INCIDENTS it sees
EXPECTED = {
    "admin": [1, 2, 3, 4, 5],
    "supervisor": [1, 2, 3, 4, 5],
    "supervisor@001": [1, 2, 5],  # not the other 街道's, not the unlocated one
    "dept": [2, 3, 5],  # only cases that reached the departments
    "dept@环卫所": [2],
    "worker": [1, 5],
    "worker-without-grids": [],
    "analyst": [1, 2, 3, 4, 5],
    "hotline": [2, 4],  # its own submissions, wherever they are
    "anonymous": [],
}


@pytest.mark.parametrize("name", PRINCIPALS)
def test_table_and_record_rules_agree(name):
    p = PRINCIPALS[name]
    assert visible_incidents(p, INCIDENTS)["id"].tolist() == EXPECTED[name]
    one_by_one = [r["id"] for r in INCIDENTS.to_dict("records") if incident_visible(p, r)]
    assert one_by_one == EXPECTED[name]


def test_analyst_sees_no_personal_data_and_rounded_places():
    p = PRINCIPALS["analyst"]
    record = dict(INCIDENTS.iloc[0], history=[{"actor": "worker", "note": "电话 138", "seq": 1}])
    shown = redact_incident(p, record)
    assert not {"description", "address", "reporter", "department"} & set(shown)
    assert shown["lon"] == 118.123 and shown["lat"] == 31.654
    assert shown["history"] == [{"actor": None, "note": None, "photo_ids": [], "seq": 1}]
    table = redact_incidents(p, INCIDENTS)
    assert not {"description", "address", "reporter", "department"} & set(table.columns)
    assert table["lon"].tolist() == [118.123] * 5


def test_supervisor_sees_everything_of_a_visible_incident():
    record = dict(INCIDENTS.iloc[0])
    assert redact_incident(PRINCIPALS["supervisor"], record) == record


def test_grids_by_role_and_area():
    codes = [G1, G2, OTHER_STREET]
    assert visible_grids(PRINCIPALS["worker"], codes).tolist() == [True, False, False]
    assert visible_grids(PRINCIPALS["supervisor@001"], codes).tolist() == [True, True, False]
    assert visible_grids(PRINCIPALS["supervisor"], codes).all()
    assert not visible_grids(PRINCIPALS["hotline"], codes).any()
    assert not visible_grids(ANONYMOUS, codes).any()
    assert [grid_visible(PRINCIPALS["worker"], c) for c in codes] == [True, False, False]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("analyst", {"map.view", "incident.read", "open311.read", "reports.view", "stats.view"}),
        ("hotline", {"incident.read", "open311.submit", "open311.read"}),
    ],
)
def test_least_privilege_roles(role, allowed):
    p = PRINCIPALS[role]
    granted = {a for a in ACTIONS if may(p, a)}
    assert allowed <= granted
    assert "photo.upload" not in granted and "desk.view" not in granted
    if role == "hotline":  # and what everyone may: the residents' public pages
        assert granted == allowed | PUBLIC_ACTIONS


def test_anonymous_and_volunteers_get_only_their_doors():
    assert {a for a in ACTIONS if may(ANONYMOUS, a)} == PUBLIC_ACTIONS
    assert {"resident.report", "resident.follow", "resident.map"} == PUBLIC_ACTIONS
    for role in ("informant", "building_head"):
        granted = {a for a in ACTIONS if may(Principal(role, "v", grid_codes=(G1,)), a)}
        assert granted == {"volunteer.report"} | PUBLIC_ACTIONS
    assert may(PRINCIPALS["worker"], "volunteer.roll") and not may(
        PRINCIPALS["analyst"], "volunteer.roll"
    )


def test_unknown_action_and_bad_principal_are_errors():
    with pytest.raises(KeyError):
        may(PRINCIPALS["admin"], "launch.missiles")
    with pytest.raises(ValueError, match="unknown role"):
        Principal("mayor")
    with pytest.raises(ValueError, match="6-, 9- or 12-digit"):
        Principal("supervisor", area="34070")


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_records_are_redacted_as_tables_are(role):
    """Lists answered from records hide exactly what table answers hide."""
    principal = PRINCIPALS[role]
    records = INCIDENTS.to_dict("records")
    assert redact_incident_records(principal, records) == redact_incidents(
        principal, INCIDENTS
    ).to_dict("records")
    assert records == INCIDENTS.to_dict("records")  # the caller's records are left as they were
