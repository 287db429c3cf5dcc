"""Reporting and moving incidents through the store, on SQLite and PostGIS."""

from __future__ import annotations

import pytest

from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.domain.incidents import TransitionError
from gridmgmt.domain.incidents.service import replay, report_incident, transition_incident
from tests.factories import G1, G2, X0, Y0


def report(store, **kw):
    args = dict(
        category_code="11001",
        description="垃圾堆放",
        lon=X0 + 0.0005,
        lat=Y0 + 0.0005,
        reporter="worker",
        photo_ids=["p1"],
    )
    args.update(kw)
    return report_incident(store, **args)


def test_report_lands_in_its_grid_with_a_number(loop_store):
    incident, created = report(loop_store)
    assert created and incident["grid_code"] == G1 and incident["unassigned_reason"] is None
    assert incident["state"] == "reported" and incident["number"].endswith("-000001")
    assert incident["department"] == "环卫所"
    second, _ = report(loop_store, lon=X0 + 0.001, lat=Y0 + 0.0005)  # on the G1|G2 edge
    assert second["grid_code"] == G1 and second["number"].endswith("-000002")
    third, _ = report(loop_store, lon=X0 + 0.0015, lat=Y0 + 0.0005)
    assert third["grid_code"] == G2


def test_outside_every_grid_goes_to_the_unassigned_queue(loop_store):
    incident, _ = report(loop_store, lon=X0 + 0.05, lat=Y0 + 0.05)
    assert incident["grid_code"] is None and incident["unassigned_reason"] == "outside_all_grids"
    queue = loop_store.incidents(unassigned=True)
    assert queue["number"].tolist() == [incident["number"]]


def test_retried_submission_is_not_duplicated(loop_store):
    first, created = report(loop_store, idempotency_key="phone-123-abc")
    again, created_again = report(loop_store, idempotency_key="phone-123-abc")
    assert created and not created_again and again["id"] == first["id"]
    assert len(loop_store.incidents()) == 1


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"category_code": "99999"}, "unknown incident category"),
        ({"description": "  "}, "description must not be empty"),
        ({"source": "微博"}, "unknown source"),
        ({"photo_ids": []}, "a photo is required"),
        ({"lon": "东经", "lat": 30}, "location must be numbers"),
        ({"lon": 300.0}, "not a lon/lat position"),
    ],
)
def test_bad_reports_refused_and_nothing_written(loop_store, kw, message):
    with pytest.raises(ValueError, match=message):
        report(loop_store, **kw)
    assert len(loop_store.incidents()) == 0


def test_full_loop_history_and_replay(loop_store):
    incident, _ = report(loop_store)
    i = incident["id"]
    steps = [
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("return", "dept", {"note": "非本部门职责"}),  # 回退
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("request_extension", "dept", {"note": "需要设备"}),  # 延期
        ("approve_extension", "supervisor", {"note": "同意"}),
        ("handle", "dept", {"note": "已清运", "photo_ids": ["p2"]}),
        ("verify_fail", "worker", {"note": "仍有垃圾", "photo_ids": ["p3"]}),
        ("handle", "dept", {"note": "再次清运", "photo_ids": ["p4"]}),
        ("verify_pass", "worker", {"photo_ids": ["p5"]}),
        ("close", "supervisor", {}),
    ]
    for transition, role, kw in steps:
        incident = transition_incident(loop_store, i, transition, actor=role, role=role, **kw)
    assert incident["state"] == "closed" and incident["version"] == len(steps) + 1
    history = incident["history"]
    assert [h["transition"] for h in history] == ["report"] + [s[0] for s in steps]
    assert history[8]["photo_ids"] == ["p2"] and history[9]["note"] == "仍有垃圾"
    assert replay(history) == incident["state"]
    with pytest.raises(TransitionError, match="不能"):
        transition_incident(loop_store, i, "dispatch", actor="s", role="supervisor")


def test_concurrent_second_transition_is_refused(loop_store):
    incident, _ = report(loop_store)
    version = incident["version"]
    transition_incident(
        loop_store,
        incident["id"],
        "register",
        actor="a",
        role="supervisor",
        expected_version=version,
    )
    with pytest.raises(ConflictError, match="changed meanwhile"):
        transition_incident(
            loop_store,
            incident["id"],
            "reject",
            actor="b",
            role="supervisor",
            expected_version=version,
            note="重复",
        )
    stored = loop_store.incident(incident["id"])
    assert stored["state"] == "registered" and len(stored["history"]) == 2


def test_unknown_incident(loop_store):
    with pytest.raises(NotFoundError):
        transition_incident(loop_store, 999, "register", actor="a", role="supervisor")


def test_store_refuses_a_racing_update_with_the_same_version(loop_store):
    from datetime import UTC, datetime

    incident, _ = report(loop_store)
    now = datetime.now(UTC)
    row = {
        "at": now,
        "actor": "a",
        "role": "supervisor",
        "transition": "register",
        "from_state": "reported",
        "to_state": "registered",
        "note": None,
        "photo_ids": [],
        "geom": None,
    }
    loop_store.apply_transition(incident["id"], 1, {"state": "registered", "updated_at": now}, row)
    with pytest.raises(ConflictError, match="version 2, expected 1"):
        loop_store.apply_transition(
            incident["id"], 1, {"state": "rejected", "updated_at": now}, row
        )
    assert len(loop_store.incident(incident["id"])["history"]) == 2


def test_deadlines_follow_the_stages_and_survive_the_store(loop_store):
    from datetime import datetime

    from gridmgmt.core.periods import SHANGHAI
    from gridmgmt.domain.incidents.calendar import is_overdue

    monday = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    incident, _ = report(
        loop_store, now=monday
    )  # 暴露垃圾: register 30 min, handle 2 working hours
    assert incident["deadline_stage"] == "register"
    assert incident["deadline_at"] == datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
    i = incident["id"]
    transition_incident(loop_store, i, "register", actor="s", role="supervisor", now=monday)
    dispatched = transition_incident(
        loop_store,
        i,
        "dispatch",
        actor="s",
        role="supervisor",
        now=datetime(2026, 11, 23, 11, 0, tzinfo=SHANGHAI),
    )
    assert dispatched["deadline_stage"] == "handle"
    assert dispatched["deadline_at"] == datetime(
        2026, 11, 23, 14, 30, tzinfo=SHANGHAI
    )  # lunch break skipped
    assert is_overdue(dispatched["deadline_at"], datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI))
    transition_incident(
        loop_store,
        i,
        "accept",
        actor="d",
        role="dept",
        now=datetime(2026, 11, 23, 11, 5, tzinfo=SHANGHAI),
    )
    transition_incident(
        loop_store,
        i,
        "request_extension",
        actor="d",
        role="dept",
        note="需要吊车",
        now=datetime(2026, 11, 23, 13, 40, tzinfo=SHANGHAI),
    )
    extended = transition_incident(
        loop_store,
        i,
        "approve_extension",
        actor="s",
        role="supervisor",
        note="同意",
        now=datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI),
    )
    assert extended["deadline_at"] == datetime(
        2026, 11, 23, 16, 30, tzinfo=SHANGHAI
    )  # one more 处置 period
    suspended = transition_incident(
        loop_store, i, "suspend", actor="s", role="supervisor", note="需市级协调"
    )
    assert suspended["deadline_at"] is None and suspended["deadline_stage"] is None
    assert suspended["history"][-2]["deadline_at"] == extended["deadline_at"]


def test_open_incidents_follow_a_new_grid_version(loop_store):
    from gridmgmt.domain.partitioning import reassign_incidents
    from tests.factories import small_grids

    incident, _ = report(loop_store, lon=X0 + 0.0015, lat=Y0 + 0.0005)
    assert incident["grid_code"] == G2
    merged = small_grids().iloc[[0]].copy()
    merged["geometry"] = [small_grids().geometry.iloc[0].union(small_grids().geometry.iloc[1])]
    merged["code"] = "340705001001005"
    loop_store.write_grid_version("340705001001", merged, {})
    assert reassign_incidents(loop_store, bbox=tuple(merged.total_bounds)) == 1
    assert loop_store.incident(incident["id"])["grid_code"] == "340705001001005"
