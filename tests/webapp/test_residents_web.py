"""Residents' public pages through the test client: report, follow, rate, abuse limits, privacy.

On SQLite and PostGIS (the app fixture's store). Challenges are made easy
(8 bits) so the tests solve them quickly with :func:`gridmgmt.domain.public_guard.solve`.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import transition_incident
from gridmgmt.domain.public_guard import DEVICE_BUDGET, solve
from gridmgmt.store.residents import ResidentStore
from tests.factories import G1, IN_G1

PHONE = "13912345678"
CLOSE_PATH = [
    ("register", "supervisor", {}),
    ("dispatch", "supervisor", {}),
    ("accept", "dept", {}),
    ("handle", "dept", {"note": "已清理，王师傅处理", "photo_ids": ["p.png"]}),
    ("verify_pass", "worker", {"photo_ids": ["p.png"]}),
    ("close", "supervisor", {"note": "已清理完毕，感谢反映"}),
]


@pytest.fixture
def public(app):
    app.config["GRIDMGMT_CHALLENGE_BITS"] = 8
    app.config["GRIDMGMT_PUBLIC_URL"] = "https://grid.example.cn"
    store = app.extensions["gridmgmt_store"]
    store.sync_categories(load_categories())
    return app


def _token(client) -> str:
    html = client.get("/r").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def submit(client, *, device="d" * 20, photo=None, **fields):
    """Post one report the way the page does (challenge solved); the response."""
    csrf = _token(client)
    challenge = client.get("/r/challenge").get_json()
    data = {
        "category_code": "11001",
        "description": "楼下垃圾堆放三天了",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
        "phone": PHONE,
        "device": device,
        "challenge": challenge["token"],
        "answer": str(solve(challenge["token"], challenge["bits"])),
        **fields,
    }
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "p.jpg")
    return client.post(
        "/r", data=data, headers={"X-CSRFToken": csrf}, content_type="multipart/form-data"
    )


def run_to_closed(store, incident_id):
    for transition, role, extras in CLOSE_PATH:
        transition_incident(store, incident_id, transition, actor=f"{role}1", role=role, **extras)


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_a_resident_reports_follows_rates_and_the_supervisor_reopens(public, tmp_path):
    client = public.test_client()
    answer = submit(client)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    number, code = body["number"], body["code"]
    store = public.extensions["gridmgmt_store"]
    incident_id = ResidentStore(store).incident_id_by_number(number)
    incident = store.incident(incident_id)
    assert incident["source"] == "居民上报" and incident["grid_code"] == G1
    assert incident["reporter"] == "居民" and PHONE not in json.dumps(incident, default=str)
    # the number alone shows nothing; a wrong code neither
    alone = client.get(f"/r/{number}").get_data(as_text=True)
    assert "楼下垃圾" not in alone and "查询码" in alone
    assert client.get(f"/r/{number}?c=ZZZZZZ").status_code == 404
    page = client.get(f"/r/{number}?c={code.lower()}")
    assert page.status_code == 200 and "已受理" in page.get_data(as_text=True)
    run_to_closed(store, incident_id)
    html = client.get(f"/r/{number}?c={code}").get_data(as_text=True)
    assert "已办结" in html and "已清理完毕，感谢反映" in html  # the reply
    for hidden in (PHONE, "supervisor1", "dept1", "worker1", "王师傅"):
        assert hidden not in html, hidden
    # 回访: 不满意 once; the case goes to the supervisor as 返工申请
    form = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    rated = client.post(
        f"/r/{number}/rate",
        data={"csrf_token": form, "code": code, "rating": "unsatisfied", "comment": "没清干净"},
    )
    assert rated.status_code == 302
    assert store.incident(incident_id)["state"] == "rework_requested"
    again = client.post(
        f"/r/{number}/rate", data={"csrf_token": form, "code": code, "rating": "satisfied"}
    )
    assert again.status_code == 400
    transition_incident(
        store, incident_id, "reopen", actor="supervisor", role="supervisor", note="返工"
    )
    assert store.incident(incident_id)["state"] == "registered"
    # messages: accepted, dispatched, closed with the 回访 link, in the log adapter's file
    log = (tmp_path / "notifications.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line)["event"] for line in log]
    assert events == ["accepted", "dispatched", "closed"]
    closed = json.loads(log[-1])
    assert (
        closed["phone"] == PHONE
        and f"https://grid.example.cn/r/{number}?c={code}" in closed["text"]
    )


def test_staff_see_the_contact_the_analyst_does_not(public, as_role):
    client = public.test_client()
    number = submit(client).get_json()["number"]
    store = public.extensions["gridmgmt_store"]
    incident_id = ResidentStore(store).incident_id_by_number(number)
    supervisor = as_role("supervisor")
    assert PHONE in supervisor.get(f"/cases/{incident_id}").get_data(as_text=True)
    listed = supervisor.get("/api/v1/incidents").get_data(as_text=True)
    assert PHONE not in listed  # the contact is not part of incident records


def test_abuse_limits(public):
    client = public.test_client()
    for _ in range(DEVICE_BUDGET):
        assert submit(client, device="flood" * 4).status_code == 201
    refused = submit(client, device="flood" * 4)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # no device id, a forged or reused challenge, an unsolved one: refused
    assert submit(client, device="").status_code == 400
    csrf = _token(client)
    token = client.get("/r/challenge").get_json()["token"]
    forged = token[:-4] + "0000"
    base = {"category_code": "11001", "description": "x", "device": "e" * 20}
    for challenge, answer in ((forged, "0"), (token, "999999999999x")):
        r = client.post(
            "/r",
            data={**base, "challenge": challenge, "answer": answer},
            headers={"X-CSRFToken": csrf},
        )
        assert r.status_code == 400
    # without the CSRF token: refused before anything else
    assert client.post("/r", data=base).status_code == 400


def test_reused_challenge_is_refused(public):
    client = public.test_client()
    csrf = _token(client)
    c = client.get("/r/challenge").get_json()
    data = {
        "category_code": "11001",
        "description": "井盖缺失",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
        "device": "f" * 20,
        "challenge": c["token"],
        "answer": str(solve(c["token"], c["bits"])),
    }
    assert client.post("/r", data=data, headers={"X-CSRFToken": csrf}).status_code == 201
    data["idempotency_key"] = "other"
    assert client.post("/r", data=data, headers={"X-CSRFToken": csrf}).status_code == 400


def test_photos_lose_their_exif(public):
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (31.0, 0.0, 0.0), 4: (117.0, 0.0, 0.0)}  # GPS IFD
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    assert b"PhoneMaker" in raw.getvalue()
    client = public.test_client()
    answer = submit(client, photo=raw.getvalue())
    assert answer.status_code == 201, answer.get_data(as_text=True)
    store = public.extensions["gridmgmt_store"]
    incident = store.incident(
        ResidentStore(store).incident_id_by_number(answer.get_json()["number"])
    )
    photo_id = incident["history"][0]["photo_ids"][0]
    stored = (public.config["GRIDMGMT_SETTINGS"].uploads_dir / "photos" / photo_id).read_bytes()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    assert Image.open(io.BytesIO(stored)).size == (64, 48)
    not_a_picture = submit(client, photo=b"\xff\xd8\xff" + b"0" * 100)
    assert not_a_picture.status_code == 400


def test_public_map_counts_open_problems_without_text(public):
    client = public.test_client()
    submit(client, description="我家门口电话13800001111垃圾")
    grids = client.get("/r/api/grids").get_json()
    counts = {f["properties"]["code"]: f["properties"]["open"] for f in grids["features"]}
    assert counts[G1] == 1 and sum(counts.values()) == 1
    assert set(grids["features"][0]["properties"]) == {"code", "open"}
    page = client.get("/r/map").get_data(as_text=True)
    assert "13800001111" not in page and "垃圾" not in page


def test_bad_input_is_a_clear_refusal(public):
    client = public.test_client()
    assert submit(client, phone="12345").status_code == 400
    assert "手机号码" in submit(client, phone="12345").get_json()["error"]
    assert submit(client, category_code="99999").status_code == 400
    assert submit(client, description="x" * 2001).status_code == 400
    outside = submit(client, lon="100.0", lat="20.0")
    assert outside.status_code == 201 and outside.get_json()["located"] is False


def test_the_supervisor_finds_the_rework_request_on_the_desk_and_reopens_it(public, as_role):
    client = public.test_client()
    body = submit(client).get_json()
    store = public.extensions["gridmgmt_store"]
    incident_id = ResidentStore(store).incident_id_by_number(body["number"])
    run_to_closed(store, incident_id)
    html = client.get(f"/r/{body['number']}?c={body['code']}").get_data(as_text=True)
    form = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post(
        f"/r/{body['number']}/rate",
        data={"csrf_token": form, "code": body["code"], "rating": "unsatisfied"},
    )
    supervisor = as_role("supervisor")
    desk = supervisor.get("/desk?queue=rework").get_data(as_text=True)
    assert body["number"] in desk and "返工申请" in desk
    case = supervisor.get(f"/cases/{incident_id}").get_data(as_text=True)
    assert "返工重办" in case and "不满意" in case
    token = re.search(r'name="csrf_token" value="([^"]+)"', case).group(1)
    version = store.incident(incident_id)["version"]
    supervisor.post(
        f"/cases/{incident_id}/transition",
        data={
            "csrf_token": token,
            "transition": "reopen",
            "expected_version": str(version),
            "note": "返工处理",
        },
    )
    assert store.incident(incident_id)["state"] == "registered"
