"""The field app's server side: 我的上报 (own reports only, paged), the manifest and the service worker."""

from __future__ import annotations

import json
import re

from tests.factories import IN_G1, IN_G2, make_incident
from webapp.pwa import OFFLINE_PAGES


def test_my_reports_are_my_own_twenty_a_page(app, as_role):
    store = app.extensions["gridmgmt_store"]
    for k in range(23):
        make_incident(store, "reported", at=IN_G1, description=f"我的第{k}件")
    for k in range(3):  # in the worker's grid, but someone else's report
        make_incident(
            store, "reported", at=IN_G1, description=f"别人的第{k}件", reporter="supervisor"
        )
    worker = as_role("worker")
    first = worker.get("/report").get_data(as_text=True)
    second = worker.get("/report?page=2").get_data(as_text=True)
    cards = lambda html: re.findall(r"我的第(\d+)件", html)  # noqa: E731
    assert len(cards(first)) == 20 and len(cards(second)) == 3
    assert "别人的" not in first + second
    assert cards(first)[0] == "22"  # newest first
    assert set(cards(first)) | set(cards(second)) == {str(k) for k in range(23)}
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "1 / 2" in first
    assert worker.get("/report?page=9").status_code == 200  # past the end: an empty page
    assert worker.get("/report?page=0").status_code == 400


def test_my_reports_link_only_to_cases_i_may_open(app, as_role):
    """A worker's report that landed outside its grids is not listed as a dead link (404)."""
    store = app.extensions["gridmgmt_store"]
    mine = make_incident(store, "reported", at=IN_G1, description="本网格的上报")
    away = make_incident(store, "reported", at=IN_G2, description="别的网格的上报")
    worker = as_role("worker")
    html = worker.get("/report").get_data(as_text=True)
    assert "本网格的上报" in html and "别的网格的上报" not in html
    assert worker.get(f"/cases/{mine['id']}").status_code == 200
    assert worker.get(f"/cases/{away['id']}").status_code == 404
    for case in re.findall(r'href="(/cases/\d+)"', html):
        assert worker.get(case).status_code == 200, case


def test_manifest_and_service_worker_are_served_to_everyone(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.get_data(as_text=True))
    assert body["display"] == "standalone" and body["start_url"] == "/report"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "application/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    text = worker.get_data(as_text=True)
    precache = json.loads(re.search(r"self.GM_PRECACHE = (.*);", text).group(1))
    assert {"/report", "/patrol"} <= set(precache)
    assert "/static/js/outbox.js" in precache and "/static/js/report.js" in precache
    assert any(u.startswith("/vendor/leaflet/leaflet.js") for u in precache)
    # 房屋台账 opens with no signal too: its page, script, style (and Leaflet, above)
    assert {"/buildings", "/static/js/buildings.js", "/static/css/buildings.css"} <= set(precache)
    for url in precache:
        if url not in OFFLINE_PAGES:  # the pages need a worker's session
            assert client.get(url).status_code == 200, url
    version = re.search(r'self.GM_VERSION = "([0-9a-f]{12})"', text)
    assert version


def test_only_workers_get_the_field_app_frame(as_role):
    worker = as_role("worker").get("/report").get_data(as_text=True)
    assert 'rel="manifest"' in worker and 'id="bottomnav"' in worker
    assert 'id="outbox"' in worker


def test_supervisors_report_without_the_worker_frame(client):
    from tests.webapp.sessions import login

    login(client, "supervisor")
    html = client.get("/report").get_data(as_text=True)
    assert 'rel="manifest"' not in html and 'id="bottomnav"' not in html
    assert "js/outbox.js" in html  # the report page still sends through the outbox
