"""JSON in and out: missing values as null, hostile nesting refused with a 400."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from webapp.json_provider import MAX_DEPTH, StrictJSONProvider, iso, nesting_depth


@pytest.fixture
def provider(app):
    return StrictJSONProvider(app)


def test_missing_values_are_written_as_null(provider):
    text = provider.dumps(
        {
            "address": math.nan,
            "deadline_at": pd.NaT,
            "score": float("inf"),
            "rows": [{"x": math.nan}, (1.5, -math.inf)],
            "created_at": pd.Timestamp("2026-11-01T08:00:00+08:00"),
        }
    )
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} written")) == {
        "address": None,
        "deadline_at": None,
        "score": None,
        "rows": [{"x": None}, [1.5, None]],
        "created_at": "2026-11-01T08:00:00+08:00",
    }


def test_iso_is_none_for_missing_times():
    assert iso(pd.NaT) is None and iso(None) is None
    assert iso(pd.Timestamp("2026-11-01T08:00:00+08:00")) == "2026-11-01T08:00:00+08:00"


def test_nesting_depth_counts_without_recursion():
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    assert nesting_depth(deep) == 5001
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3
    assert nesting_depth(7) == 0


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 50_000])
def test_deeply_nested_body_is_a_400_not_a_500(app, as_role, depth):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = as_role("worker")
    html = client.get("/map").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    body = "[" * depth + "]" * depth
    answer = client.post(
        "/api/v1/incidents",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 400
    assert "嵌套" in answer.get_json()["error"]
