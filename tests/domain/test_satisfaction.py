"""满意度回访 through the store on SQLite and PostGIS: resident reports, ratings, 返工, 满意率 in 考核."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gridmgmt.domain.assessment import area_assessment, score, score_weights
from gridmgmt.domain.exporting import collect
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.kpi import kpis
from gridmgmt.domain.incidents.service import transition_incident
from gridmgmt.domain.incidents.workflow import TransitionError
from gridmgmt.domain.residents import find_case, public_case, rate_case, submit_report
from gridmgmt.store.residents import ResidentStore
from tests.factories import G1, G2, IN_G1, IN_G2, LABELS, boundaries, buildings, small_grids

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CLOSE_PATH = [
    ("register", "supervisor"),
    ("dispatch", "supervisor"),
    ("accept", "dept"),
    ("handle", "dept"),
    ("verify_pass", "worker"),
    ("close", "supervisor"),
]


@pytest.fixture
def stored(store):
    store.write_layers({"boundaries": boundaries(), "buildings": buildings(8)}, source="t")
    grids = small_grids()
    store.write_grid_version("340705001001", grids.iloc[:2], LABELS)
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    store.sync_categories(load_categories())
    return store


def resident_case(store, at, rating, *, worker="wang", when=T0):
    """A resident's report at ``at``, closed, rated ``rating`` (None: not rated)."""
    residents = ResidentStore(store)
    done = submit_report(
        store,
        residents,
        category_code="11001",
        description="垃圾堆放",
        lon=at[0],
        lat=at[1],
        phone="13912345678",
        device="dev",
        now=when,
    )
    incident = done.incident
    for n, (transition, role) in enumerate(CLOSE_PATH, start=1):
        actor = worker if role == "worker" else role
        extras = {"note": "已处理", "photo_ids": ["p.png"]}
        incident = transition_incident(
            store,
            incident["id"],
            transition,
            actor=actor,
            role=role,
            now=when + timedelta(hours=n),
            **extras,
        )
    if rating:
        incident = rate_case(
            store, residents, incident, rating, "评价", now=when + timedelta(hours=10)
        )
    return incident, done.code


def test_a_case_is_followed_rated_once_and_reopened_after_unsatisfied(stored):
    incident, code = resident_case(stored, IN_G1, None)
    residents = ResidentStore(stored)
    assert find_case(stored, residents, incident["number"], "WRONG1") is None
    assert find_case(stored, residents, "2099-000001", code) is None
    found, resident = find_case(stored, residents, incident["number"], code.lower())
    shown = public_case(found, resident, stored.category("11001"))
    assert shown["state_text"] == "已办结" and shown["can_rate"] and shown["reply"] == "已处理"
    text = repr(shown)
    assert "13912345678" not in text and "supervisor" not in text and "wang" not in text
    with pytest.raises(ValueError, match="unknown rating"):
        rate_case(stored, residents, found, "great")
    after = rate_case(stored, residents, found, "unsatisfied", "没有处理干净")
    assert after["state"] == "rework_requested"
    assert after["history"][-1]["role"] == "resident"
    with pytest.raises(ValueError, match="rated already|closed"):
        rate_case(stored, residents, after, "satisfied")
    with pytest.raises(TransitionError):  # only the supervisor decides
        transition_incident(stored, after["id"], "reopen", actor="w", role="worker", note="x")
    reopened = transition_incident(
        stored, after["id"], "reopen", actor="sup", role="supervisor", note="返工"
    )
    assert reopened["state"] == "registered" and reopened["deadline_stage"] == "dispatch"


def test_satisfaction_rate_per_grid_worker_and_department_joins_the_assessment(stored):
    resident_case(stored, IN_G1, "satisfied", worker="wang")
    resident_case(stored, IN_G1, "basic", worker="wang")
    resident_case(stored, IN_G1, "unsatisfied", worker="wang")
    resident_case(stored, IN_G2, "satisfied", worker="li")
    resident_case(stored, IN_G2, None, worker="li")  # closed, never rated: not counted
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=20)
    ratings = stored.satisfaction_ratings()
    assert len(ratings) == 4
    incidents, history = stored.incidents(), stored.incident_history()
    by_grid = kpis(incidents, history, start, end, by="grid", ratings=ratings)
    assert by_grid.loc[G1, "rated"] == 3 and by_grid.loc[G1, "satisfaction_rate"] == pytest.approx(
        2 / 3
    )
    assert by_grid.loc[G2, "satisfaction_rate"] == 1.0
    by_worker = kpis(incidents, history, start, end, by="worker", ratings=ratings)
    assert by_worker.loc["wang", "satisfaction_rate"] == pytest.approx(2 / 3)
    assert by_worker.loc["li", "rated"] == 1
    by_dept = kpis(incidents, history, start, end, by="department", ratings=ratings)
    assert by_dept["rated"].sum() == 4
    report = area_assessment(stored, start, end, by="grid", community="340705001001")
    table = report.table
    assert table.loc[G1, "satisfaction_rate"] == pytest.approx(2 / 3)
    without = area_assessment(
        stored, start, end, by="grid", community="340705001001", weights=score_weights(None, 0)
    )
    # G1: one of three reopened for rework → closed cases all on time; satisfaction lowers it
    assert table.loc[G1, "score"] < without.table.loc[G1, "score"]
    _area, tables = collect(stored, "kpi", start=start, end=end, community="340705001001")
    exported = next(iter(tables.values()))
    assert "satisfaction_rate" in exported.columns


def test_score_weights_and_the_formula():
    table = pd.DataFrame(
        {
            "due": [2, 2],
            "close_rate": [1.0, 1.0],
            "on_time_rate": [1.0, 1.0],
            "rework_rate": [0.0, 0.0],
            "satisfaction_rate": [0.5, np.nan],
        }
    )
    out = score(table, score_weights(None, 0.2))
    assert out.tolist() == [pytest.approx(round(100 * 1.1 / 1.2, 1)), 100.0]
    assert score(table, score_weights({"GRIDMGMT_SATISFACTION_WEIGHT": "1"}))[0] == 75.0
    with pytest.raises(ValueError):
        score_weights({"GRIDMGMT_SATISFACTION_WEIGHT": "many"})
    with pytest.raises(ValueError):
        score_weights(None, -1)


def test_cli_assessment_shows_the_satisfaction_rate(stored, tmp_path, monkeypatch):
    from gridmgmt.cli import main

    resident_case(stored, IN_G1, "satisfied")
    monkeypatch.setenv("GRIDMGMT_DATABASE_URL", str(stored.engine.url.render_as_string(False)))
    result = CliRunner().invoke(
        main,
        [
            "report",
            "assessment",
            "--workdir",
            str(tmp_path),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-20",
            "--satisfaction-weight",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "满意率" in result.output and "100" in result.output


def test_a_reworked_case_closed_again_asks_for_no_second_rating(stored, tmp_path):
    import json

    from gridmgmt.domain.residents import announce_transition
    from gridmgmt.io.notifiers import LogNotifier

    residents = ResidentStore(stored)
    log = LogNotifier(tmp_path / "n.log")
    stored.on_transition = lambda incident, transition: announce_transition(
        stored, residents, incident, transition, lambda n, c: f"/r/{n}?c={c}", log
    )

    def sent():
        lines = (tmp_path / "n.log").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    incident, code = resident_case(stored, IN_G1, "unsatisfied")
    assert [m["event"] for m in sent()] == ["dispatched", "closed"]
    assert code in sent()[-1]["text"] and "评价" in sent()[-1]["text"]
    transition_incident(
        stored, incident["id"], "keep_closed", actor="s", role="supervisor", note="已核实"
    )
    assert sent()[-1]["event"] == "closed_again" and "评价" not in sent()[-1]["text"]
    assert sent()[-1]["phone"] == "13912345678"
