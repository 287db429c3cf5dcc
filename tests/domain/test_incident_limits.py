"""Text limits and per-reporter idempotency keys of the incident loop, on SQLite and PostGIS."""

from __future__ import annotations

import pytest

from gridmgmt.domain.incidents.service import TEXT_LIMITS, report_incident, transition_incident


def report(store, **kw):
    point = store.current_grids().geometry.iloc[0].representative_point()
    args = dict(
        category_code="11001",
        description="垃圾堆放",
        lon=point.x,
        lat=point.y,
        reporter="worker",
        photo_ids=["p1"],
    )
    args.update(kw)
    return report_incident(store, **args)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"description": "很长" * 1001}, "description is 2,002 characters long; at most 2,000"),
        ({"address": "路" * 5000}, "address is 5,000 characters long; at most 200"),
        ({"address": 12345}, "address must be text"),
        ({"idempotency_key": "k" * 101}, "idempotency_key is 101 characters"),
    ],
)
def test_text_longer_than_its_column_is_refused(loop_store, kw, message):
    with pytest.raises(ValueError, match=message):
        report(loop_store, **kw)
    assert len(loop_store.incidents()) == 0  # nothing stored


def test_text_at_the_limit_is_kept_whole(loop_store):
    incident, _ = report(
        loop_store, description="述" * TEXT_LIMITS["description"], address="址" * 200
    )
    stored = loop_store.incident(incident["id"])
    assert len(stored["description"]) == 2000 and len(stored["address"]) == 200


def test_a_note_longer_than_its_limit_is_refused(loop_store):
    incident, _ = report(loop_store)
    with pytest.raises(ValueError, match="note is 1,001 characters"):
        transition_incident(
            loop_store, incident["id"], "register", actor="sup", role="supervisor", note="注" * 1001
        )
    assert loop_store.incident(incident["id"])["state"] == "reported"


def test_idempotency_keys_belong_to_their_reporter(loop_store):
    mine, created = report(loop_store, reporter="worker", idempotency_key="phone-1")
    replay, created_again = report(loop_store, reporter="worker", idempotency_key="phone-1")
    assert created and not created_again and replay["id"] == mine["id"]
    # another account replaying the same key gets its own incident, never the first one
    theirs, created_theirs = report(loop_store, reporter="worker2", idempotency_key="phone-1")
    assert created_theirs and theirs["id"] != mine["id"] and theirs["reporter"] == "worker2"
    assert len(loop_store.incidents()) == 2


def test_dispatch_goes_only_to_a_stored_department(loop_store):
    incident, _ = report(loop_store)
    incident = transition_incident(
        loop_store, incident["id"], "register", actor="sup", role="supervisor"
    )
    assert "城管执法中队" in loop_store.departments()
    with pytest.raises(ValueError, match="unknown department '随便一个科'; dispatch to one of"):
        transition_incident(
            loop_store,
            incident["id"],
            "dispatch",
            actor="sup",
            role="supervisor",
            department="随便一个科",
        )
    assert loop_store.incident(incident["id"])["state"] == "registered"
    done = transition_incident(
        loop_store,
        incident["id"],
        "dispatch",
        actor="sup",
        role="supervisor",
        department="城管执法中队",
    )
    assert done["department"] == "城管执法中队"
