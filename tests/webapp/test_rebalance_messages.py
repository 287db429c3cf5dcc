"""Engine and store messages in the page's language; the move-target endpoint and its guards."""

from __future__ import annotations

import re

import pytest

from gridmgmt.domain import rebalancing as rb
from gridmgmt.store.proposals import ProposalStore
from tests.factories import COMMUNITY, G1, G2
from webapp.messages import anomaly_labels, translate, translate_lines


@pytest.mark.parametrize(
    ("message", "zh"),
    [
        (f"building(s) B0 not adjacent to grid {G2}", f"建筑 B0 与网格 {G2} 不相邻"),
        ("superseded by grid version 2 (proposal 7)", "已被网格版本 2 取代（方案 #7）"),
        ("superseded by grid version 2", "已被网格版本 2 取代"),
        (f"{G1}: 240 households, below the band 250–500", f"{G1}：240 户，低于范围 250–500"),
        (f"{G1}: not contiguous (2 parts)", f"{G1}：不连通（2 块）"),
        ("move: 2 buildings, 60 households moved", "移动：移动 2 栋建筑、60 户"),
        ("grid proposal 3 is rejected, not pending", "方案 #3 已驳回，不是待审批"),
        ("restores version 1", "恢复网格版本 1"),
    ],
)
def test_known_messages_are_chinese_and_stay_english_when_chosen(message, zh):
    assert translate(message, "zh") == zh
    assert not re.search(r"[\u4e00-\u9fff]", translate(message, "en").replace("社区", ""))


def test_unknown_messages_are_kept_and_reports_translated_line_by_line():
    assert translate("something new happened", "zh") == "something new happened"
    assert translate(None, "zh") == ""
    text = f"manual: 1 building(s), 30 households, moved to {G2} from {G1}\n! {G1}: not contiguous (2 parts)"
    assert translate_lines(text, "zh") == (
        f"手动：1 栋建筑、30 户由 {G1} 移入 {G2}\n! {G1}：不连通（2 块）"
    )


def test_patrol_anomaly_codes_become_labels():
    assert anomaly_labels("jumps,mostly_outside", "zh") == "轨迹跳变、多在网格外"
    assert anomaly_labels(["jumps"], "en") == "track jumps"
    assert anomaly_labels("", "zh") == ""


def test_move_targets_are_the_grids_the_move_accepts(app):
    store = app.extensions["gridmgmt_store"]
    state = rb.load_community(store, ProposalStore(store), COMMUNITY)
    assert rb.move_targets(state, ["B1"], min_households=1, max_households=1000) == [G2]
    assert rb.move_targets(state, ["B0"], min_households=1, max_households=1000) == []
    with pytest.raises(ValueError, match="B99"):
        rb.move_targets(state, ["B99"])


def _token(client) -> str:
    html = client.get("/rebalance/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_targets_endpoint_answers_and_refuses_bad_input(app, as_role):
    client = as_role("supervisor")
    headers = {"X-CSRFToken": _token(client)}
    url = f"/rebalance/api/{COMMUNITY}/targets"
    answer = client.post(url, json={"building_ids": ["B1"]}, headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"targets": [G2]}
    for body in ({}, {"building_ids": []}, {"building_ids": "B1"}, {"building_ids": ["B99"]}):
        bad = client.post(url, json=body, headers=headers)
        assert bad.status_code == 400, body
        assert re.search(r"[\u4e00-\u9fff]", bad.get_json()["error"]), bad.get_json()
    assert (
        client.post(url, data="[1]", headers=headers, content_type="application/json").status_code
        == 400
    )
    # the preview of a move without a target names what is missing, in Chinese
    preview = client.post(
        f"/rebalance/api/{COMMUNITY}/preview",
        json={"op": "move", "building_ids": ["B1"]},
        headers=headers,
    )
    assert preview.status_code == 400 and "地图上选择" in preview.get_json()["error"]
    far = client.post(
        f"/rebalance/api/{COMMUNITY}/preview",
        json={"op": "move", "building_ids": ["B0"], "to_code": G2},
        headers=headers,
    )
    assert far.status_code == 400 and far.get_json()["error"] == f"建筑 B0 与网格 {G2} 不相邻"


def test_targets_endpoint_is_for_supervisors_only(app, client):
    from tests.webapp.sessions import login

    url = f"/rebalance/api/{COMMUNITY}/targets"
    assert client.post(url, json={"building_ids": ["B1"]}).status_code in (400, 401)
    login(client, "worker")
    html = client.get("/map").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    answer = client.post(url, json={"building_ids": ["B1"]}, headers={"X-CSRFToken": token})
    assert answer.status_code == 403
