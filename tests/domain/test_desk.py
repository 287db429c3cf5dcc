"""Work lists of the incident loop as pure functions over an incident table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from gridmgmt.domain.incidents import desk

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def table() -> pd.DataFrame:
    rows = [
        ("340705001001001", "11001", "reported", "环卫所", NOW - timedelta(hours=1), NOW + timedelta(hours=1)),
        ("340705001001002", "11001", "dispatched", "环卫所", NOW - timedelta(days=2), NOW - timedelta(hours=3)),
        ("340705001002001", "02001", "registered", "市政管理所", NOW - timedelta(hours=20), NOW + timedelta(days=1)),
        (None, "02001", "closed", "市政管理所", NOW - timedelta(hours=2), None),
    ]  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["grid_code", "category_code", "state", "department", "created_at", "deadline_at"],
    )


def test_flags_and_filters():
    t = desk.annotate(table(), NOW)
    assert t["overdue"].tolist() == [False, True, False, False]
    assert t["near_due"].tolist() == [True, False, False, False]
    f = desk.IncidentFilter.from_args({"community": "340705001001", "category": "11"})
    assert desk.apply_filter(t, f).index.tolist() == [0, 1]
    f = desk.IncidentFilter.from_args({"state": "registered", "department": "市政管理所"})
    assert desk.apply_filter(t, f).index.tolist() == [2]
    # 2026-11-22 in Shanghai: created 20 h and 2 days before 14:00 on the 23rd
    f = desk.IncidentFilter.from_args({"from": "2026-11-22", "to": "2026-11-22"})
    assert desk.apply_filter(t, f).index.tolist() == [2]
    assert desk.apply_filter(t, desk.IncidentFilter()).index.tolist() == [0, 1, 2, 3]


def test_bad_filters_are_named():
    with pytest.raises(ValueError, match="from must be a date"):
        desk.IncidentFilter.from_args({"from": "22/11/2026"})
    with pytest.raises(ValueError, match="unknown state 'open'"):
        desk.IncidentFilter.from_args({"state": "open"})


def test_actions_labels_and_limits():
    assert [t.name for t in desk.actions("reported", "supervisor")] == [
        "register",
        "reject",
        "cancel",
    ]
    assert [t.name for t in desk.actions("in_progress", "dept")] == [
        "return",
        "handle",
        "request_extension",
    ]
    assert desk.actions("handled", "analyst") == []
    assert (
        desk.state_label("dispatched") == "已派遣"
        and desk.state_label("dispatched", "en") == "Dispatched"
    )
    assert desk.transition_label("report") == "上报"
    category = {"handle_limit": 2, "handle_unit": "working_days", "urgent_handle_limit": 4, "urgent_handle_unit": "working_hours"}  # fmt: skip
    assert desk.handle_limit_text(category, False) == "2 工作日"
    assert desk.handle_limit_text(category, True, "en") == "4 working hours"


def test_annotated_rows_carry_none_for_missing_text():
    import numpy as np
    import pandas as pd

    table = pd.DataFrame(
        {
            "grid_code": ["340705001001001", np.nan],
            "state": ["reported", "closed"],
            "deadline_at": [None, None],
        }
    )
    rows = desk.annotate(table).to_dict("records")
    assert rows[1]["grid_code"] is None and rows[0]["grid_code"] == "340705001001001"
