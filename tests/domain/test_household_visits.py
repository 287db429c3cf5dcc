"""房屋台账 on 走访 on SQLite and PostGIS: changes kept as a ledger, building and grid updated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gridmgmt.domain import access
from gridmgmt.domain.errors import ConflictError, ForbiddenError, NotFoundError
from gridmgmt.domain.household_visits import (
    VisitInputError,
    building_history,
    find_buildings,
    parse_count,
    record_visit,
    review_changes,
)
from gridmgmt.store import models as m
from gridmgmt.store.household_visits import HouseholdVisitStore
from gridmgmt.store.patrols import PatrolStore
from tests.factories import COMMUNITY, G1, G2, LABELS, boundaries, buildings, small_grids

BAND = (100, 150)  # G1 and G2 hold 4 buildings x 30 = 120 households: in band
WORKER = access.Principal("worker", "wang", grid_codes=(G1,))
SUPERVISOR = access.Principal("supervisor", "li")
ANALYST = access.Principal("analyst", "zhao")


@pytest.fixture
def visits(store):
    b = buildings(8)
    b["addr_street"] = "长江路"
    b["addr_housenumber"] = [f"{i + 1}号" for i in range(8)]
    grids = small_grids()
    grids.loc[:1, "households"] = 120
    store.write_layers({"boundaries": boundaries(), "buildings": b}, source="t")
    store.write_grid_version(COMMUNITY, grids.iloc[:2], LABELS)
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    return HouseholdVisitStore(store)


def _grid(store, code):
    grids = store.current_grids()
    return grids[grids["code"] == code].iloc[0]


def test_a_correction_is_a_ledger_row_and_updates_building_and_grid(visits):
    store = visits.store
    out = record_visit(
        visits, WORKER, "B0", households=60, note="新入住两个单元", idempotency_key="k1", band=BAND
    )
    assert not out.replayed and not out.confirmed
    change = out.change
    assert (change["households_before"], change["households"]) == (30, 60)
    assert change["population_before"] == 90 and change["population"] is None
    assert change["source_before"] == "ledger" and change["source"] == "visit"
    assert change["username"] == "wang" and change["grid_code"] == G1
    assert (change["grid_households_before"], change["grid_households_after"]) == (120, 150)
    assert out.building["households"] == 60
    assert out.building["population"] == 157  # estimated from households: 60 x 2.62
    assert (out.building["households_source"], out.building["households_confidence"]) == (
        "visit",
        "high",
    )
    assert out.grid["households"] == 150 and out.grid["band_status"] == "in_band"
    # a second correction: a new row, the first one kept as it was
    out2 = record_visit(
        visits,
        WORKER,
        "B0",
        households=90,
        population=200,
        note="再核",
        idempotency_key="k2",
        band=BAND,
    )
    assert out2.grid["households"] == 180 and out2.grid["band_status"] == "over"
    assert _grid(store, G1)["flag"] == "out_of_band"
    history = visits.changes(building_id="B0")
    assert history["households"].tolist() == [90, 60]  # newest first
    assert history["households_before"].tolist() == [60, 30]
    assert history["population"].tolist()[0] == 200
    assert out2.building["population"] == 200
    # back into the band clears the flag
    record_visit(visits, WORKER, "B0", households=40, note="搬走", idempotency_key="k3", band=BAND)
    assert _grid(store, G1)["households"] == 130 and _grid(store, G1)["flag"] is None


def test_a_confirmation_needs_no_note_and_keeps_the_population(visits):
    out = record_visit(visits, WORKER, "B1", households="30", idempotency_key="c1", band=BAND)
    assert out.confirmed and out.building["population"] == 90
    assert out.building["households_source"] == "visit"
    assert out.grid["households"] == 120


def test_replay_with_the_same_key_writes_once(visits):
    first = record_visit(
        visits, WORKER, "B0", households=50, note="x", idempotency_key="same", band=BAND
    )
    again = record_visit(
        visits, WORKER, "B0", households=50, note="x", idempotency_key="same", band=BAND
    )
    assert again.replayed and again.change["id"] == first.change["id"]
    assert len(visits.changes(building_id="B0")) == 1
    assert again.grid["households"] == 140  # counted once
    with pytest.raises(ConflictError, match="幂等键"):
        record_visit(
            visits, WORKER, "B1", households=50, note="x", idempotency_key="same", band=BAND
        )
    # keys are per user: the supervisor's "same" is another change
    other = record_visit(visits, SUPERVISOR, "B0", households=50, idempotency_key="same", band=BAND)
    assert not other.replayed and len(visits.changes(building_id="B0")) == 2


def test_store_returns_the_stored_change_when_the_key_races(visits):
    kwargs = dict(
        building_id="B4",
        username="wang",
        households=33,
        population=None,
        new_population=99,
        note="n",
        idempotency_key="race",
        patrol_id=None,
        min_households=100,
        max_households=150,
    )
    first, replayed = visits.record(**kwargs)
    assert not replayed
    # a second writer that did not see the first (it skips the pre-check): the unique key decides
    with visits.store.session() as s:
        count = len(s.scalars(select(m.HouseholdChange.id)).all())
    original = visits.change_by_key
    visits.change_by_key = _miss_once(original)
    try:
        second, replayed = visits.record(**kwargs)
    finally:
        visits.change_by_key = original
    assert replayed and second["id"] == first["id"]
    with visits.store.session() as s:
        assert len(s.scalars(select(m.HouseholdChange.id)).all()) == count
    assert visits.building("B4")["households"] == 33


def _miss_once(lookup):
    calls = []

    def wrapped(*args):
        calls.append(args)
        return None if len(calls) == 1 else lookup(*args)

    return wrapped


def test_access_worker_own_grids_supervisor_area_analyst_reads(visits):
    with pytest.raises(ForbiddenError, match="本人网格"):
        record_visit(visits, WORKER, "B2", households=10, note="x", idempotency_key="f", band=BAND)
    with pytest.raises(ForbiddenError):
        record_visit(visits, ANALYST, "B0", households=10, note="x", idempotency_key="f", band=BAND)
    bound_elsewhere = access.Principal("supervisor", "s2", area="340705001002")
    with pytest.raises(ForbiddenError):
        record_visit(
            visits, bound_elsewhere, "B0", households=10, note="x", idempotency_key="f", band=BAND
        )
    with pytest.raises(NotFoundError):
        record_visit(visits, WORKER, "nope", households=1, idempotency_key="f", band=BAND)
    record_visit(
        visits, SUPERVISOR, "B2", households=40, note="核实", idempotency_key="s", band=BAND
    )
    assert visits.changes()["building_id"].tolist() == ["B2"]
    # the analyst reads the history without who and what they wrote
    history = building_history(visits, ANALYST, "B2")
    assert len(history) == 1 and not {"username", "note", "patrol_id"} & set(history.columns)
    assert building_history(visits, SUPERVISOR, "B2")["note"].tolist() == ["核实"]
    with pytest.raises(NotFoundError):  # outside the worker's grids: as if it did not exist
        building_history(visits, WORKER, "B2")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"households": -1}, "户数须为不小于 0 的整数"),
        ({"households": "3.5"}, "户数须为不小于 0 的整数"),
        ({"households": "abc"}, "户数须为不小于 0 的整数"),
        ({"households": True}, "户数须为不小于 0 的整数"),
        ({"households": None}, "请填写户数"),
        ({"households": 5001}, "户数超出合理范围"),
        ({"households": 40, "population": 10}, "人口少于户数"),
        ({"households": 40}, "请填写说明"),
        ({"households": 40, "note": "x" * 1001}, "说明不超过"),
        ({"households": 30, "idempotency_key": ""}, "幂等键"),
        ({"households": 30, "idempotency_key": "k" * 101}, "幂等键"),
    ],
)
def test_bad_values_are_refused_in_chinese_and_nothing_is_written(visits, fields, message):
    kwargs = {"note": None, "idempotency_key": "bad"} | fields
    with pytest.raises(VisitInputError, match=message):
        record_visit(visits, WORKER, "B0", band=BAND, **kwargs)
    assert visits.changes().empty
    assert visits.building("B0")["households"] == 30


def test_parse_count_takes_json_numbers_and_form_text():
    assert parse_count(12, "户数", 100, required=True) == 12
    assert parse_count(12.0, "户数", 100, required=True) == 12
    assert parse_count(" 7 ", "户数", 100, required=True) == 7
    assert parse_count("", "人口", 100, required=False) is None
    with pytest.raises(VisitInputError):
        parse_count("１２", "户数", 100, required=True)  # full-width digits: typed by mistake


def test_a_change_on_a_running_patrol_names_it(visits):
    patrols = PatrolStore(visits.store)
    old = patrols.start("wang", [G1], datetime.now(UTC) - timedelta(days=2))  # left open
    assert old
    out = record_visit(visits, WORKER, "B0", households=30, idempotency_key="p0", band=BAND)
    assert out.change["patrol_id"] is None
    running = patrols.start("wang", [G1], datetime.now(UTC) - timedelta(minutes=20))
    out = record_visit(visits, WORKER, "B0", households=30, idempotency_key="p1", band=BAND)
    assert out.change["patrol_id"] == running
    patrols.finish(running, datetime.now(UTC), {}, None)
    out = record_visit(visits, WORKER, "B0", households=30, idempotency_key="p2", band=BAND)
    assert out.change["patrol_id"] is None


def test_search_by_address_or_name_within_reach(visits):
    assert [b["building_id"] for b in find_buildings(visits, WORKER, "长江路 3号")] == []  # B2: G2
    assert [b["building_id"] for b in find_buildings(visits, WORKER, "长江路 1号")] == ["B0"]
    assert [b["building_id"] for b in find_buildings(visits, SUPERVISOR, "3号楼")] == ["B2"]
    assert [b["building_id"] for b in find_buildings(visits, WORKER, "B5")] == ["B5"]
    card = find_buildings(visits, WORKER, "1号楼")[0]
    assert card["grid_code"] == G1 and card["lon"] and card["lat"]


def test_review_lists_changes_per_grid_out_of_band_first(visits):
    since = datetime.now(UTC) - timedelta(hours=1)
    record_visit(visits, SUPERVISOR, "B2", households=35, note="a", idempotency_key="1", band=BAND)
    record_visit(visits, WORKER, "B0", households=90, note="b", idempotency_key="2", band=BAND)
    reviews = review_changes(visits, SUPERVISOR, since=since, band=BAND)
    assert [r.grid["code"] for r in reviews] == [G1, G2]
    assert reviews[0].left_band and reviews[0].grid["band_status"] == "over"
    assert reviews[0].grid["households"] == 180 and reviews[0].grid["community_code"] == COMMUNITY
    assert reviews[0].changes["username"].tolist() == ["wang"]
    assert not reviews[1].left_band and reviews[1].grid["households"] == 125
    assert [r.grid["code"] for r in review_changes(visits, WORKER, since=since, band=BAND)] == [G1]
    elsewhere = access.Principal("supervisor", "s2", area="340705001002")
    assert review_changes(visits, elsewhere, since=since, band=BAND) == []
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert review_changes(visits, SUPERVISOR, since=later, band=BAND) == []
