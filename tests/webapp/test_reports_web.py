"""报表 page and downloads: roles, the tables, every format, analyst limits, bad input."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta

import geopandas as gpd
import pytest
from openpyxl import load_workbook

from gridmgmt.core.periods import SHANGHAI
from tests.factories import G1, G2, IN_G1, IN_G2, make_incident
from tests.webapp.sessions import login

TODAY = datetime.now(SHANGHAI).date()
PERIOD = {"from": str(TODAY - timedelta(days=7)), "to": str(TODAY + timedelta(days=1))}


@pytest.fixture
def cases(app):
    store = app.extensions["gridmgmt_store"]
    make_incident(store, "handled", at=IN_G1)
    make_incident(store, "dispatched", at=IN_G1)
    make_incident(store, "reported", at=IN_G2, reporter="worker")
    return app


@pytest.mark.parametrize(
    "role,status",
    [("admin", 200), ("supervisor", 200), ("analyst", 200), ("worker", 403), ("dept", 403)],
)
def test_who_may_open_reports(client, cases, role, status):
    login(client, role)
    assert client.get("/reports").status_code == status
    assert client.get("/reports/download?what=grids&format=csv").status_code == status


def test_anonymous_is_sent_to_login(client):
    r = client.get("/reports")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_tables_show_workload_and_assessment(client, cases):
    login(client, "supervisor")
    page = client.get("/reports", query_string={**PERIOD, "by": "grid"}).get_data(as_text=True)
    # the page answers at once with a progress indicator; its script loads the tables
    assert 'id="report-progress"' in page and 'id="workload-table"' not in page
    src = re.search(r'data-src="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert src.startswith("/reports/tables?")
    html = client.get(src).get_data(as_text=True)
    assert 'id="workload-table"' in html and 'id="kpi-table"' in html
    assert G1 in html and G2 in html and "工作量指数" in html and "考核得分" in html
    for fmt in ("GPKG", "GEOJSON", "SHP", "CSV", "XLSX"):
        assert f">{fmt}</a>" in page
    # the export list names layers in Chinese (English when chosen)
    names = re.findall(r'<span class="what" data-what="\w+">([^<]+)</span>', page)
    assert names == ["网格", "建筑", "设施", "事件", "工作量", "考核指标", "全部图层"]
    inline = client.get("/reports", query_string={**PERIOD, "inline": "1"}).get_data(as_text=True)
    assert 'id="workload-table"' in inline and 'id="report-progress"' not in inline and G1 in inline
    en = client.get(src + "&lang=en").get_data(as_text=True)
    assert "Workload index" in en
    en_page = client.get("/reports", query_string={**PERIOD, "lang": "en"}).get_data(as_text=True)
    assert "Reports" in en_page and '<span class="what" data-what="grids">Grids</span>' in en_page


def test_downloads_in_every_format(client, cases, tmp_path):
    login(client, "supervisor")
    q = {**PERIOD, "what": "workload"}
    r = client.get("/reports/download", query_string={**q, "format": "xlsx"})
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data))["workload"]
    assert ws["A1"].value == "网格编码" and ws.max_row == 5  # 4 grids
    r = client.get("/reports/download", query_string={**q, "format": "csv"})
    assert r.data.startswith(b"\xef\xbb\xbf") and "工作量指数" in r.data.decode("utf-8-sig")
    r = client.get("/reports/download", query_string={**q, "format": "geojson"})
    assert len(r.get_json()["features"]) == 4
    r = client.get("/reports/download", query_string={**q, "format": "shp", "what": "grids"})
    assert "grids.cpg" in zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    r = client.get("/reports/download", query_string={**q, "format": "gpkg", "what": "incidents"})
    path = tmp_path / "incidents.gpkg"
    path.write_bytes(r.data)
    inc = gpd.read_file(path)
    assert len(inc) == 3 and set(inc["description"]) == {"垃圾堆放"}


def test_analysts_get_aggregates_only(client, cases):
    login(client, "analyst")
    html = client.get("/reports").get_data(as_text=True)
    assert 'value="worker"' not in html
    assert client.get("/reports", query_string={"by": "worker"}).status_code == 400
    r = client.get(
        "/reports/download", query_string={**PERIOD, "what": "incidents", "format": "csv"}
    )
    header = r.data.decode("utf-8-sig").splitlines()[0]
    assert "上报人" not in header and "问题描述" not in header and "事件编号" in header


def test_bad_requests(client, cases):
    login(client, "supervisor")
    get = client.get
    assert (
        get("/reports", query_string={"from": "2026-11-20", "to": "2026-11-01"}).status_code == 400
    )
    assert get("/reports", query_string={"from": "yesterday"}).status_code == 400
    assert get("/reports", query_string={"community": "无此社区"}).status_code == 404
    assert get("/reports/tables", query_string={"community": "无此社区"}).status_code == 404
    assert get("/reports/tables", query_string={"from": "yesterday"}).status_code == 400
    assert get("/reports/download", query_string={"what": "x", "format": "csv"}).status_code == 400
    bad = {"what": "kpi", "format": "geojson"}
    assert get("/reports/download", query_string=bad).status_code == 400
