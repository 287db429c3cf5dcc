"""楼栋长 and 信息员: their phone page, reports (信息员上报), 零报告 and the daily roll; on SQLite and PostGIS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from gridmgmt.domain.accounts import create_user
from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.volunteers import local_day, reporting_rates, roll, send_zero_report
from gridmgmt.store.residents import ResidentStore
from tests.factories import G1, G2, IN_G1
from tests.webapp.sessions import PASSWORD, login


@pytest.fixture
def volunteers(app):
    store = app.extensions["gridmgmt_store"]
    store.sync_categories(load_categories())
    create_user(store, "xinxi1", PASSWORD, "informant", display_name="信息员甲", grid_codes=[G1])
    create_user(store, "xinxi2", PASSWORD, "informant", display_name="信息员乙", grid_codes=[G1])
    create_user(
        store, "louzhang", PASSWORD, "building_head", display_name="楼长丙", grid_codes=[G1]
    )
    create_user(store, "xinxi3", PASSWORD, "informant", display_name="信息员丁", grid_codes=[G2])
    return store


def _csrf(client, path):
    return re.search(
        r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


@pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)
def test_reports_zero_reports_and_the_roll(app, volunteers):
    a, b = app.test_client(), app.test_client()
    assert login(a, "xinxi1").headers["Location"].endswith("/v")
    token = _csrf(a, "/v")
    posted = a.post(
        "/v/report",
        data={
            "category_code": "11001",
            "description": "楼道堆物",
            "lon": IN_G1[0],
            "lat": IN_G1[1],
        },
        headers={"X-CSRFToken": token},
    )
    assert posted.status_code == 201, posted.get_data(as_text=True)
    incident = volunteers.incidents().iloc[-1]
    assert incident["source"] == "信息员上报" and incident["reporter"] == "xinxi1"
    login(b, "louzhang")
    page = b.get("/v").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert b.post("/v/zero", data={"csrf_token": form_token}).status_code == 302
    assert "今日已发送零报告" in b.get("/v").get_data(as_text=True)
    b.post("/v/zero", data={"csrf_token": form_token})  # a second one the same day: not counted
    zero = ResidentStore(volunteers).zero_reports(local_day(), local_day())
    assert zero["username"].tolist() == ["louzhang"]
    worker = app.test_client()
    login(worker, "worker")  # the grid worker of G1
    html = worker.get("/volunteers").get_data(as_text=True)
    rows = re.findall(r'class="status-(\w+)" data-user="(\w+)"', html)
    by_user = {user: status for status, user in rows}
    assert by_user == {"xinxi1": "reported", "louzhang": "zero", "xinxi2": "silent"}
    assert "xinxi3" not in html  # another grid's volunteer
    supervisor = app.test_client()
    login(supervisor, "supervisor")
    everyone = supervisor.get("/volunteers").get_data(as_text=True)
    assert "xinxi3" in everyone
    # volunteers see nothing else
    for url in ("/map", "/desk", "/api/v1/incidents", "/volunteers", "/reports"):
        assert a.get(url).status_code in (403,), url


def test_reporting_rates_per_grid(volunteers):
    day = local_day()
    store = volunteers
    send_zero_report(ResidentStore(store), "louzhang", [G1])
    assert send_zero_report(ResidentStore(store), "louzhang", [G1]) is False
    zero = ResidentStore(store).zero_reports(day - timedelta(days=1), day)
    rates = reporting_rates(store.users(), store.incidents(), zero, day - timedelta(days=1), day)
    assert rates.loc[G1, "volunteers"] == 3 and rates.loc[G1, "volunteer_days"] == 6
    assert rates.loc[G1, "volunteer_days_reported"] == 1
    assert rates.loc[G1, "volunteer_report_rate"] == pytest.approx(1 / 6)
    assert rates.loc[G2, "volunteer_report_rate"] == 0
    today = roll(store.users(), store.incidents(), zero, day, grid_codes=[G2])
    assert today.to_dict("records")[0]["status"] == "silent"


def test_the_shanghai_day_decides(volunteers):
    late = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Shanghai
    repo = ResidentStore(volunteers)
    assert send_zero_report(repo, "xinxi2", [G1], now=late)
    assert send_zero_report(repo, "xinxi2", [G1], now=late - timedelta(hours=1))  # 30 Nov
    days = repo.zero_reports(local_day(late) - timedelta(days=1), local_day(late))["day"]
    assert [str(d) for d in days] == ["2026-11-30", "2026-12-01"]


def test_cli_adds_a_volunteer_by_its_chinese_role(app, tmp_path, monkeypatch):
    from gridmgmt.cli import main

    store = app.extensions["gridmgmt_store"]
    monkeypatch.setenv("GRIDMGMT_DATABASE_URL", store.engine.url.render_as_string(False))
    result = CliRunner().invoke(
        main,
        [
            "users",
            "add",
            "lz9",
            "--role",
            "信息员",
            "--grid",
            G1,
            "--password",
            "longpassword1",
            "--workdir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    row = store.user(username="lz9")
    assert row["role"] == "informant" and row["grid_codes"] == [G1]


def test_reporting_rates_join_the_workload_and_patrol_reports(app, volunteers, as_role):
    send_zero_report(ResidentStore(volunteers), "louzhang", [G1])
    day = local_day()
    from gridmgmt.core.periods import day_period
    from gridmgmt.domain.patrols import patrol_report
    from gridmgmt.domain.workload import area_workload
    from gridmgmt.store.patrols import PatrolStore

    start, end = day_period(day, day)
    workload = area_workload(volunteers, start, end, patrols=PatrolStore(volunteers)).table
    row = workload.set_index("code").loc[G1]
    assert row["volunteers"] == 3 and row["volunteer_report_rate"] == pytest.approx(1 / 3)
    patrols = patrol_report(volunteers, PatrolStore(volunteers), day, day).table.set_index("code")
    assert patrols.loc[G1, "volunteer_report_rate"] == pytest.approx(1 / 3)
    after = day + timedelta(days=1)  # the page's end is exclusive
    # the report page loads its tables after it opens (a progress note meanwhile): the fragment
    page = as_role("supervisor").get(f"/reports/tables?from={day}&to={after}")
    page = page.get_data(as_text=True)
    assert "信息员报告率" in page and "33.3%" in page


def test_a_volunteers_menu_links_only_to_pages_it_may_open(app, volunteers):
    """The menu asks the access policy: no link a volunteer would meet as 403."""
    client = app.test_client()
    login(client, "xinxi1")
    page = client.get("/v").get_data(as_text=True)
    links = set(re.findall(r'<a [^>]*href="(/[^"?#]*)', page))
    assert "/v" in links and "/map" not in links and "/overview" not in links
    for link in links - {"/logout"}:
        assert client.get(link).status_code < 400, link
