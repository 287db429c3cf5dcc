"""Worker, dispatch desk, case and department pages: roles × routes, scope, CSRF, escaping, the loop."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import transition_incident
from tests.factories import G2, IN_G2, X0, Y0, make_incident
from tests.webapp.sessions import csrf_token, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROLES = ("admin", "supervisor", "dept", "worker", "analyst", None)
XSS = "<script>alert('x')</script>"


def store_of(app):
    return app.extensions["gridmgmt_store"]


def make(app, *args, **kwargs):
    """An incident in the app's store, as :func:`tests.factories.make_incident` makes it."""
    return make_incident(store_of(app), *args, **kwargs)


@pytest.fixture
def photo_file(app):
    """A photo on disk named ``p.png``, as an upload would have left it."""
    folder = app.config["GRIDMGMT_SETTINGS"].uploads_dir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.png").write_bytes(PNG)


def client_as(app, role):
    client = app.test_client()
    if role is not None:
        assert login(client, role).status_code == 302
    return client


def token(client):
    return csrf_token(client, "/login")


# ------------------------------------------------------------ authorization
GET_EXPECT = {
    "/report": {"admin": 200, "supervisor": 200, "dept": 403, "worker": 200, "analyst": 403},
    "/tasks": {"admin": 200, "supervisor": 200, "dept": 403, "worker": 200, "analyst": 403},
    "/desk": {"admin": 200, "supervisor": 200, "dept": 403, "worker": 403, "analyst": 403},
    "/dept": {"admin": 200, "supervisor": 403, "dept": 200, "worker": 403, "analyst": 403},
    # a reported incident in G1: dept handlers see only dispatched cases
    "case_g1": {"admin": 200, "supervisor": 200, "dept": 404, "worker": 200, "analyst": 403},
    # an incident in G2: the worker (G1 only) must not learn it exists
    "case_g2": {"admin": 200, "supervisor": 200, "dept": 404, "worker": 404, "analyst": 403},
    "case_dispatched_g2": {
        "admin": 200,
        "supervisor": 200,
        "dept": 200,
        "worker": 404,
        "analyst": 403,
    },
    "photo_g1": {"admin": 200, "supervisor": 200, "dept": 404, "worker": 200, "analyst": 403},
    "photo_g2": {"admin": 200, "supervisor": 200, "dept": 404, "worker": 404, "analyst": 403},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_by_role(app, role, photo_file):
    g1, g2 = make(app), make(app, at=IN_G2)
    d2 = make(app, "dispatched", at=IN_G2)
    urls = {
        "case_g1": f"/cases/{g1['id']}",
        "case_g2": f"/cases/{g2['id']}",
        "case_dispatched_g2": f"/cases/{d2['id']}",
        "photo_g1": f"/cases/{g1['id']}/photos/p.png",
        "photo_g2": f"/cases/{g2['id']}/photos/p.png",
    }
    client = client_as(app, role)
    for name, expected in GET_EXPECT.items():
        response = client.get(urls.get(name, name))
        if role is None:
            assert response.status_code == 302 and "/login" in response.location, name
        else:
            assert response.status_code == expected[role], (name, role)
    if role is not None:  # ids that do not exist, and photos not attached to the case
        assert client.get("/cases/99999").status_code in (403, 404)
        assert client.get(f"/cases/{g1['id']}/photos/other.png").status_code in (403, 404)


POST_EXPECT = {  # POST /cases/<id>/transition register on a reported G1 incident
    "admin": 302,
    "supervisor": 302,
    "dept": 404,
    "worker": 403,  # the workflow does not let workers register
    "analyst": 403,
}


@pytest.mark.parametrize("role", ROLES)
def test_form_transitions_by_role(app, role, photo_file):
    incident = make(app)
    client = client_as(app, role)
    response = client.post(
        f"/cases/{incident['id']}/transition",
        data={"transition": "register", "expected_version": "1", "csrf_token": token(client)},
    )
    state = store_of(app).incident(incident["id"])["state"]
    if role is None:
        assert response.status_code == 302 and "/login" in response.location
        assert state == "reported"
        return
    assert response.status_code == POST_EXPECT[role], role
    assert state == ("registered" if POST_EXPECT[role] == 302 else "reported")

    handled_g1, handled_g2 = make(app, "handled"), make(app, "handled", at=IN_G2)
    expect = {"admin": 302, "supervisor": 302, "worker": 302, "dept": 403, "analyst": 403}
    for target, code in ((handled_g1, expect[role]), (handled_g2, expect[role])):
        if role == "worker" and target is handled_g2:
            code = 404
        r = client.post(
            f"/tasks/{target['id']}",
            data={
                "transition": "verify_pass",
                "expected_version": str(target["version"]),
                "csrf_token": token(client),
                "photo": (io.BytesIO(PNG), "v.png"),
            },
            content_type="multipart/form-data",
        )
        assert r.status_code == code, (role, target["grid_code"])
        after = store_of(app).incident(target["id"])["state"]
        assert after == ("verified" if code == 302 else "handled")


def test_worker_cannot_act_on_another_grids_case_by_id(app, photo_file):
    other = make(app, "handled", at=IN_G2)
    worker = client_as(app, "worker")
    assert worker.get(f"/cases/{other['id']}").status_code == 404
    r = worker.post(
        f"/cases/{other['id']}/transition",
        data={
            "transition": "cancel",
            "expected_version": "5",
            "note": "x",
            "csrf_token": token(worker),
        },
    )
    assert r.status_code == 404
    tasks = worker.get("/tasks").get_data(as_text=True)
    assert other["number"] not in tasks
    mine = make(app, "handled")
    assert mine["number"] in worker.get("/tasks").get_data(as_text=True)


# --------------------------------------------------------------------- CSRF
def test_forms_without_csrf_token_are_refused(app, photo_file):
    incident, handled = make(app), make(app, "handled")
    sup = client_as(app, "supervisor")
    r = sup.post(
        f"/cases/{incident['id']}/transition",
        data={"transition": "register", "expected_version": "1"},
    )
    assert r.status_code == 400
    r = sup.post(
        f"/cases/{incident['id']}/transition",
        data={"transition": "register", "expected_version": "1", "csrf_token": "forged"},
    )
    assert r.status_code == 400
    worker = client_as(app, "worker")
    r = worker.post(
        f"/tasks/{handled['id']}",
        data={"transition": "verify_pass", "expected_version": str(handled["version"])},
    )
    assert r.status_code == 400
    assert store_of(app).incident(incident["id"])["state"] == "reported"
    assert store_of(app).incident(handled["id"])["state"] == "handled"


# ------------------------------------------------------------------ escaping
def test_descriptions_names_and_departments_are_escaped(app, photo_file):
    evil = make(app, "dispatched", description=XSS, reporter="<img src=x onerror=alert(1)>")
    store = store_of(app)
    regd = make(app, "registered", description=XSS)
    # a department named with markup, as an edited category table could hold
    base = next(iter(load_categories()))
    store.sync_categories([replace(base, code="99001", department="<b>部门</b>")])
    transition_incident(
        store, regd["id"], "dispatch", actor="s", role="supervisor", department="<b>部门</b>"
    )
    pages = {
        "supervisor": ["/desk", f"/cases/{evil['id']}", f"/cases/{regd['id']}"],
        "dept": ["/dept", f"/cases/{evil['id']}"],
        "worker": ["/report", f"/cases/{evil['id']}"],
    }
    for role, urls in pages.items():
        client = client_as(app, role)
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            assert "<script>alert" not in html and "<img src=x" not in html, (role, url)
            assert "<b>部门</b>" not in html and f"{role}<b>" not in html, (role, url)
            assert "&lt;" in html, (role, url)
    case = client_as(app, "supervisor").get(f"/cases/{regd['id']}").get_data(as_text=True)
    assert "派遣至&lt;b&gt;部门&lt;/b&gt;" in case


# ---------------------------------------------------------- the loop by forms
def post_form(client, incident_id, transition, version, **fields):
    data = {"transition": transition, "expected_version": str(version), "csrf_token": token(client)}
    data.update(fields)
    return client.post(
        f"/cases/{incident_id}/transition", data=data, content_type="multipart/form-data"
    )


def test_full_loop_through_the_pages(app):
    sup = client_as(app, "supervisor")
    incident = make(app)
    i = incident["id"]
    assert post_form(sup, i, "register", 1).status_code == 302
    page = sup.get(f"/cases/{i}").get_data(as_text=True)
    category = store_of(app).category("11001")
    limit = f"{category['handle_limit']} " + {
        "working_days": "工作日",
        "working_hours": "工作小时",
    }.get(category["handle_unit"], "分钟")
    assert re.search(rf'id="handle-limit">处置时限 {limit}<', page)
    r = post_form(sup, i, "dispatch", 2, department="城管执法中队", note="请今日处理")
    assert r.status_code == 302
    stored = store_of(app).incident(i)
    assert stored["state"] == "dispatched" and stored["department"] == "城管执法中队"
    assert stored["deadline_stage"] == "handle" and stored["deadline_at"] is not None
    assert stored["history"][-1]["note"] == "派遣至城管执法中队：请今日处理"

    dept = client_as(app, "dept")
    listing = dept.get("/dept?department=城管执法中队").get_data(as_text=True)
    assert incident["number"] in listing
    assert incident["number"] not in dept.get("/dept?department=环卫所").get_data(as_text=True)
    page = dept.get(f"/cases/{i}").get_data(as_text=True)
    assert "action-accept" in page and "action-return" in page and "action-register" not in page
    assert post_form(dept, i, "accept", 3).status_code == 302
    page = dept.get(f"/cases/{i}").get_data(as_text=True)
    assert "action-handle" in page and "action-request_extension" in page
    # 处置完毕 needs a photo and a note: refused without, flashed, nothing written
    refused = post_form(dept, i, "handle", 4, note="已清理")
    assert refused.status_code == 302
    assert "需要照片" in dept.get(f"/cases/{i}").get_data(as_text=True)
    assert store_of(app).incident(i)["state"] == "in_progress"
    ok = post_form(dept, i, "handle", 4, note="已清理", photo=(io.BytesIO(PNG), "h.png"))
    assert ok.status_code == 302 and store_of(app).incident(i)["state"] == "handled"
    stale = post_form(dept, i, "request_extension", 4, note="x")
    assert stale.status_code == 302
    assert "已被他人处理" in dept.get(f"/cases/{i}").get_data(as_text=True)

    worker = client_as(app, "worker")
    tasks = worker.get("/tasks").get_data(as_text=True)
    assert incident["number"] in tasks and "核查通过" in tasks
    r = worker.post(
        f"/tasks/{i}",
        data={
            "transition": "verify_fail",
            "expected_version": "5",
            "csrf_token": token(worker),
            "photo": (io.BytesIO(PNG), "v.png"),
            "note": "仍有垃圾",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302 and store_of(app).incident(i)["state"] == "in_progress"

    case = sup.get(f"/cases/{i}").get_data(as_text=True)
    for text in ("上报", "立案", "派遣", "接收处置", "处置完毕", "核查不通过", "仍有垃圾"):
        assert text in case
    assert "网格员" in case and "职能部门" in case  # roles in the history
    photos = re.findall(r'src="(/cases/\d+/photos/[0-9a-f]+\.png)"', case)
    assert len(photos) == 2 and sup.get(photos[0]).data == PNG


# --------------------------------------------------------------------- desk
def test_desk_queues_filters_and_due_highlighting(app):
    long_ago = datetime.now(UTC) - timedelta(days=3)
    late = make(app, "registered", now=long_ago)  # its 派遣 deadline passed long ago
    fresh = make(app, at=IN_G2)
    sup = client_as(app, "supervisor")
    html = sup.get("/desk").get_data(as_text=True)
    assert late["number"] in html and fresh["number"] in html
    assert re.search(rf'class="row-overdue" data-id="{late["id"]}"', html)
    assert re.search(r'id="queue-overdue">[^<]*<b>1</b>', html)
    assert re.search(r'id="queue-new">[^<]*<b>1</b>', html)
    only_new = sup.get("/desk?queue=new").get_data(as_text=True)
    assert fresh["number"] in only_new and late["number"] not in only_new
    by_grid = sup.get(f"/desk?grid={G2}").get_data(as_text=True)
    assert fresh["number"] in by_grid and late["number"] not in by_grid
    by_community = sup.get("/desk?community=340705001001&state=registered").get_data(as_text=True)
    assert late["number"] in by_community and fresh["number"] not in by_community
    day = long_ago.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    by_date = sup.get(f"/desk?from={day}&to={day}").get_data(as_text=True)
    assert late["number"] in by_date and fresh["number"] not in by_date
    by_category = sup.get("/desk?category=12").get_data(as_text=True)
    assert "没有符合条件的事件" in by_category
    lost = make(app, at=(X0 + 0.05, Y0))  # outside every grid: the unassigned queue
    unassigned = sup.get("/desk?queue=unassigned").get_data(as_text=True)
    assert lost["number"] in unassigned and fresh["number"] not in unassigned
    assert re.search(r'id="queue-unassigned">[^<]*<b>1</b>', unassigned)
    assert sup.get("/desk?from=yesterday").status_code == 400
    assert sup.get("/desk?state=nonsense").status_code == 400
    assert sup.get("/desk?queue=nonsense").status_code == 400


def test_pages_in_english(app):
    sup = client_as(app, "supervisor")
    html = sup.get("/desk?lang=en").get_data(as_text=True)
    assert "Dispatch desk" in html and "To register" in html and "调度台" not in html


def test_text_responses_are_gzipped_when_accepted(app):
    import gzip
    import json

    sup = client_as(app, "supervisor")
    url = "/api/v1/geo/grids?bbox=117.80,30.93,117.83,30.95&zoom=16"
    plain = sup.get(url)
    packed = sup.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert (
        packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    )
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    assert len(packed.data) < len(plain.data)
    js = sup.get("/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert js.headers["Content-Encoding"] == "gzip" and js.headers["ETag"].endswith('-gzip"')
    assert gzip.decompress(js.data).startswith(b"/*")
    png = sup.get("/vendor/leaflet/images/layers.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in png.headers


def test_bound_department_handler_sees_only_its_department(app):
    from gridmgmt.domain.accounts import bind_department
    from gridmgmt.store.accounts import AccountStore

    store = store_of(app)
    bind_department(AccountStore(store), "dept", "dept", "环卫所")
    ours = make(app, "dispatched")  # 11001 goes to 环卫所 by default
    theirs = make(app, "registered")
    transition_incident(
        store, theirs["id"], "dispatch", actor="s", role="supervisor", department="城管执法中队"
    )
    dept = client_as(app, "dept")
    page = dept.get("/dept?department=城管执法中队").get_data(as_text=True)
    assert ours["number"] in page and theirs["number"] not in page
    assert 'id="bound-department"' in page
    assert dept.get(f"/cases/{ours['id']}").status_code == 200
    assert dept.get(f"/cases/{theirs['id']}").status_code == 404
    r = dept.post(
        f"/cases/{theirs['id']}/transition",
        data={"transition": "accept", "expected_version": "3", "csrf_token": token(dept)},
    )
    assert r.status_code == 404 and store.incident(theirs["id"])["state"] == "dispatched"
    # the JSON API keeps the same scope
    assert dept.get(f"/api/v1/incidents/{theirs['id']}").status_code == 404
    assert dept.get(f"/api/v1/incidents/{ours['id']}").status_code == 200
    listed = {r["id"] for r in dept.get("/api/v1/incidents").get_json()["items"]}
    assert ours["id"] in listed and theirs["id"] not in listed
