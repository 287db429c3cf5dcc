"""The OGC API landing page for people (HTML, by content negotiation) and the favicon."""

from __future__ import annotations

from gridmgmt.domain.accounts import create_api_key

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_ogc_landing_is_html_for_browsers_and_json_for_clients(app, as_role):
    client = as_role("analyst")
    page = client.get("/ogcapi", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "OGC API – Features 数据服务" in html and "如何连接" in html
    assert 'data-collection="grids"' in html and "当前责任网格" in html
    assert "/ogcapi/collections/grids/items?f=json&amp;limit=10" in html
    assert "Accept" in page.headers["Vary"]
    assert "text/html" in client.get("/ogcapi/?f=html").content_type
    english = client.get("/ogcapi?f=html&lang=en").get_data(as_text=True)
    assert "How to connect" in english and "Current grids with households" in english
    # JSON stays the default: no Accept, */*, JSON asked for, or f=json even from a browser
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        answer = client.get("/ogcapi", headers=headers)
        assert answer.mimetype == "application/json", headers
        links = {link["rel"]: link for link in answer.get_json()["links"]}
        assert links["alternate"]["type"] == "text/html"
    assert client.get("/ogcapi?f=json", headers={"Accept": BROWSER_ACCEPT}).is_json
    # only the landing page has an HTML view
    bad = client.get("/ogcapi/collections?f=html")
    assert bad.status_code == 400 and bad.get_json()["code"] == "InvalidParameterValue"
    assert client.get("/ogcapi?f=xml").status_code == 400


def test_ogc_landing_html_for_an_api_key_and_refused_without_one(app, client):
    store = app.extensions["gridmgmt_store"]
    key = create_api_key(store, "qgis", "analyst")
    answer = client.get("/ogcapi?f=html", headers={"X-API-Key": key})
    assert answer.status_code == 200 and "OGC API" in answer.get_data(as_text=True)
    # a browser without a session is sent to log in, not shown a JSON error
    for answer in (
        client.get("/ogcapi?f=html"),
        client.get("/ogcapi", headers={"Accept": BROWSER_ACCEPT}),
    ):
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.get("/ogcapi").status_code == 401  # programs still get 401
    assert client.get("/ogcapi?f=json", headers={"Accept": BROWSER_ACCEPT}).status_code == 401


def test_favicon_is_served_to_everyone_and_linked_from_pages(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/login").get_data(as_text=True)
