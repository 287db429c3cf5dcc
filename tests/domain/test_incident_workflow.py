"""Incident categories and the state machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmgmt.domain.incidents import TransitionError, load_categories, load_workflow

WF = load_workflow()
ROLES = ("worker", "supervisor", "dept", "admin", "analyst")


def test_categories_cover_both_families_and_required_classes():
    cats = load_categories()
    assert len(cats) >= 60
    assert cats.majors("部件") == {
        "01": "市政公用设施",
        "02": "交通设施",
        "03": "市容环境设施",
        "04": "园林绿化设施",
        "05": "其他设施",
    }
    events = set(cats.majors("事件").values())
    assert {
        "市容环境",
        "宣传广告",
        "施工管理",
        "突发事件",
        "街面秩序",
        "矛盾纠纷",
        "治安隐患",
        "民生服务",
        "特殊人群",
        "安全生产/消防",
    } <= events
    bikes = cats.get("15003")
    assert bikes.name == "共享单车乱停放" and bikes.handle_deadline() == (90, "minutes")
    assert cats.get("14003").handle_deadline(urgent=True) == (30, "minutes")
    with pytest.raises(KeyError, match="unknown incident category '99999'"):
        cats.get("99999")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "0100,部件,市政公用设施,x,x,d,30,30,1,working_days,1,working_days,30,no",
            "must be 5 digits",
        ),
        (
            "11001,部件,市容环境,x,x,d,30,30,1,working_days,1,working_days,30,no",
            "部件 大类 are 01–10",
        ),
        (
            "01001,部件,市政公用设施,x,x,d,30,30,0,working_days,1,working_days,30,no",
            "must be positive",
        ),
        (
            "01001,部件,市政公用设施,x,x,d,30,30,1,fortnights,1,working_days,30,no",
            "handle_unit must be one of",
        ),
        (
            "01001,其他,市政公用设施,x,x,d,30,30,1,working_days,1,working_days,30,no",
            "family must be",
        ),
    ],
)
def test_bad_category_rows_name_the_row(tmp_path, row, message):
    header = "code,family,major_name,name,name_en,department,register_min,dispatch_min,handle_limit,handle_unit,urgent_handle_limit,urgent_handle_unit,verify_min,photo_required"
    path = tmp_path / "cats.csv"
    path.write_text(header + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"cats.csv, row 2: .*{message}"):
        load_categories(path)


def run(steps):
    state = WF.initial
    for transition, role, kw in steps:
        state = WF.apply(state, transition, role, **kw)
    return state


def test_full_loop_with_rework_extension_return_and_suspension():
    note, photo = {"note": "说明"}, {"photos": 1}
    assert (
        run(
            [
                ("register", "supervisor", {}),
                ("dispatch", "supervisor", {}),
                ("return", "dept", note),  # 回退: wrongly dispatched
                ("dispatch", "supervisor", {}),
                ("accept", "dept", {}),
                ("request_extension", "dept", note),
                ("approve_extension", "supervisor", note),
                ("handle", "dept", {**note, **photo}),
                ("verify_fail", "worker", {**note, **photo}),  # 返工
                ("handle", "dept", {**note, **photo}),
                ("verify_pass", "worker", photo),
                ("close", "supervisor", {}),
            ]
        )
        == "closed"
    )
    assert (
        run(
            [
                ("register", "supervisor", {}),
                ("suspend", "supervisor", note),
                ("resume", "supervisor", note),
            ]
        )
        == "registered"
    )
    assert run([("reject", "supervisor", note)]) == "rejected"
    assert WF.is_closed("closed") and WF.states["closed"].open311_status == "closed"
    assert WF.states["suspended"].open311_status == "open"


def test_refusals_say_why():
    with pytest.raises(TransitionError, match="不能结案") as err:
        WF.apply("reported", "close", "supervisor")
    assert err.value.reason == "state"
    with pytest.raises(TransitionError, match="role worker may not register") as err:
        WF.apply("reported", "register", "worker")
    assert err.value.reason == "role"
    with pytest.raises(TransitionError, match=r"requires note") as err:
        WF.apply("reported", "reject", "supervisor")
    assert err.value.reason == "missing"
    with pytest.raises(TransitionError, match="requires photo, note|requires note, photo"):
        WF.apply("in_progress", "handle", "dept")
    with pytest.raises(TransitionError, match="unknown transition"):
        WF.apply("reported", "teleport", "admin")
    assert (
        WF.apply("reported", "register", "admin") == "registered"
    )  # admin may do anything allowed from the state


def test_available_lists_only_permitted():
    names = {t.name for t in WF.available("handled", "worker")}
    assert names == {"verify_pass", "verify_fail"}
    assert WF.available("closed", "admin") == []
    assert WF.available("reported", "analyst") == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(WF.transitions)),
            st.sampled_from(ROLES),
            st.booleans(),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_random_sequences_never_reach_an_invalid_state(steps):
    state = WF.initial
    history = [state]
    for transition, role, with_note, with_photo in steps:
        try:
            new = WF.apply(
                state, transition, role, note="n" if with_note else None, photos=int(with_photo)
            )
        except TransitionError:
            continue
        t = WF.transitions[transition]
        assert state in t.sources and (role in t.roles or role == "admin")
        assert new == t.target and new in WF.states
        assert not WF.is_closed(state)  # nothing leaves a closed state
        state = new
        history.append(state)
    # replaying the accepted history reaches the same state
    assert history[-1] == state
