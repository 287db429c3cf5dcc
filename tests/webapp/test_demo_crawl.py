"""Crawl the real demo database as every role: no page or API answers 5xx, every JSON body parses.

The demo (``gridmgmt demo``) is built once per backend through the same
paths as the command, then each role logs in and walks the app: every GET
route of ``app.url_map`` (arguments filled from the demo's own grids,
incidents, proposals and collections) plus every same-site link the pages
and JSON answers lead to, with their query strings. Fixtures alone missed
the 调度台's crash on cases without a deadline; this walks real data.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlsplit

import pytest

from gridmgmt.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from gridmgmt.domain.access import VOLUNTEER_ROLES

#: pages per role at most (the walk is breadth first from the app's own routes)
MAX_PAGES = 250
#: the entry points every role starts from, besides the routes without arguments
SEEDS = (
    "/desk?queue=open",
    "/desk?state=closed",
    "/desk?state=suspended",
    "/api/v1/search?q=翠湖",
    "/api/v1/search?q=340705",
    "/api/v1/incidents?state=closed",
    "/open311/v2/requests.json?status=closed",
    "/ogcapi/collections/grids/items?limit=5&f=json",
    "/api/v1/geo/grids?zoom=15",
)
#: GET routes the walk does not fill, and why
NOT_CRAWLED = {
    "static": "files shipped with the app",
    "mapview.vendor": "vendored Leaflet files",
    "auth.logout": "would end the walking session",
}
GEO_LAYERS = ("grids", "buildings", "roads", "facilities", "compounds", "incidents", "boundaries")


def strict_json(text: str):
    """``json.loads`` that refuses NaN, Infinity and -Infinity, as browsers do."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]
)
def demo_app(request, tmp_path_factory):
    """The web app on a database built by the demo builder (seed 0)."""
    from gridmgmt.demo import build_demo
    from gridmgmt.store.repository import Store
    from webapp import create_app

    workdir = tmp_path_factory.mktemp(f"demo-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'gridmgmt.db'}"
    else:
        server = request.getfixturevalue("postgis")
        url = server.create_database(f"crawl_{workdir.name.replace('-', '_')}")
    store = Store(url)
    build_demo(store, instance_dir=workdir, seed=0, progress=lambda _m: None)
    app = create_app(
        str(workdir), TESTING=True, PROPAGATE_EXCEPTIONS=False, RATELIMIT_ENABLED=False
    )
    app.extensions["gridmgmt_store"].dispose()
    app.extensions["gridmgmt_store"] = store
    yield app
    store.dispose()


def _fillers(app, store) -> dict[str, list[str]]:
    """Values for each URL argument name, from the demo's own data."""
    incidents = store.incidents()
    ids = [str(i) for i in incidents["id"].head(3)]
    grids = store.current_grids()
    codes = list(grids["code"].head(2)) + [grids["code"].iloc[0][:12]]
    with app.test_client() as admin:
        _log_in(admin, "admin")
        collections = strict_json(admin.get("/ogcapi/collections?f=json").get_data(as_text=True))
    names = [c["id"] for c in collections["collections"]]
    buildings = store.read_layer("buildings", grid_codes=codes[:1])
    # the zoom-15 vector tile over the middle of the demo's grids
    centre = grids.geometry.union_all().centroid
    n = 2**15
    tile_x = int((centre.x + 180) / 360 * n)
    tile_y = int((1 - math.asinh(math.tan(math.radians(centre.y))) / math.pi) / 2 * n)
    return {
        "building_id": list(buildings["building_id"].head(2)),
        "z": ["15"],
        "x": [str(tile_x)],
        "y": [str(tile_y)],
        "code": codes,
        "incident_id": ids,
        "request_id": ids,
        "pid": ["1"],
        "layer": list(GEO_LAYERS),
        "collection_id": names,
        "feature_id": [codes[0], "1"],
        "name": ["demo.html"],
        "photo_id": ["missing.jpg"],
        "number": list(incidents["number"].head(2)),  # a follow page without its code
    }


def _route_urls(app, fillers) -> list[str]:
    """Every GET route, each argument filled with each of its demo values."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_CRAWLED:
            continue
        missing = [a for a in rule.arguments if a not in fillers]
        assert not missing, f"{rule.rule}: no demo value for {missing}; add one to _fillers"
        variants = [{}]
        for arg in sorted(rule.arguments):
            variants = [dict(v, **{arg: value}) for v in variants for value in fillers[arg]]
        for values in variants:
            url = rule.rule
            for arg, value in values.items():
                url = re.sub(rf"<(?:[a-z]+:)?{arg}>", value, url)
            urls.append(url)
    return urls


def _links(body: str, content_type: str) -> list[str]:
    if "json" in content_type:
        found = re.findall(r'"(/(?:api|ogcapi|open311|cases|rebalance|desk|maps)[^"#]*)"', body)
        found += [
            urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
            for u in re.findall(r'"href":\s*"(https?://[^"]+)"', body)
        ]
        return found
    if "html" in content_type:
        return [u.replace("&amp;", "&") for u in re.findall(r'(?:href|src)="(/[^"#]*)"', body)]
    return []


def _log_in(client, username: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, f"{username} could not log in to the demo"


def crawl(app, client, start: list[str]) -> tuple[dict[str, int], list[str]]:
    """Breadth-first walk from ``start``: status per URL, and the problems found."""
    seen: dict[str, int] = {}
    problems: list[str] = []
    queue = list(dict.fromkeys(start))
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or "logout" in url or url.startswith(("/static/", "/vendor/")):
            continue
        answer = client.get(url)
        seen[url] = answer.status_code
        content_type = answer.headers.get("Content-Type", "")
        if answer.status_code >= 500:
            problems.append(f"{answer.status_code} {url}")
            continue
        if not content_type.startswith(("text/", "application/json", "application/geo+json")):
            continue
        body = answer.get_data(as_text=True)
        if "json" in content_type:
            try:
                strict_json(body)
            except ValueError as err:
                problems.append(f"invalid JSON from {url}: {err}")
                continue
        queue += [u for u in _links(body, content_type) if u not in seen]
    return seen, problems


@pytest.mark.slow
@pytest.mark.parametrize("role", [*DEMO_ACCOUNTS, None], ids=[*DEMO_ACCOUNTS, "anonymous"])
def test_every_role_walks_the_demo_without_a_server_error(demo_app, role):
    store = demo_app.extensions["gridmgmt_store"]
    client = demo_app.test_client()
    if role is not None:
        _log_in(client, role)
    start = _route_urls(demo_app, _fillers(demo_app, store)) + list(SEEDS)
    seen, problems = crawl(demo_app, client, start)
    assert problems == []
    ok = [u for u, status in seen.items() if status == 200]
    # the walk reached the role's own pages, not only refusals
    few = role is None or DEMO_ACCOUNTS[role][0] in VOLUNTEER_ROLES  # a volunteer's few pages
    assert len(ok) >= (5 if few else 20), sorted(seen.items())[:40]
    if role == "supervisor":
        assert seen.get("/desk") == 200 and seen.get("/desk?state=closed") == 200


def test_strict_json_refuses_what_browsers_refuse():
    with pytest.raises(ValueError):
        strict_json('{"address": NaN}')
    assert strict_json('{"address": null}') == {"address": None}


def test_the_demo_has_a_case_in_every_queue(demo_app):
    """Every open state of the workflow holds demo cases, so each queue of the desk can be tried."""
    from gridmgmt.demo.incidents import EVERY_QUEUE
    from gridmgmt.domain.incidents.desk import CLOSED_STATES, QUEUES, WORKFLOW

    store = demo_app.extensions["gridmgmt_store"]
    states = store.incidents()["state"].value_counts()
    open_states = [s for s in WORKFLOW.states if s not in CLOSED_STATES]
    assert sorted(EVERY_QUEUE) == sorted(open_states)
    assert {s: int(states.get(s, 0)) >= 1 for s in open_states} == dict.fromkeys(open_states, True)
    client = demo_app.test_client()
    _log_in(client, "supervisor")
    html = client.get("/desk").get_data(as_text=True)
    for name in [q for q, (_label, members) in QUEUES.items() if members]:
        count = re.search(rf'id="queue-{name}"[^>]*>[^<]*<b>(\d+)</b>', html).group(1)
        assert int(count) >= 1, name


def test_the_demo_cases_show_their_photo(demo_app):
    """The photo the demo's cases name is a real image in the instance, not a broken link."""
    store = demo_app.extensions["gridmgmt_store"]
    case = next(
        int(i)
        for i in store.incidents()["id"]
        if any(h.get("photo_ids") for h in store.incident(int(i))["history"])
    )
    client = demo_app.test_client()
    _log_in(client, "supervisor")
    html = client.get(f"/cases/{case}").get_data(as_text=True)
    photo = re.search(rf'src="(/cases/{case}/photos/[^"]+)"', html).group(1)
    answer = client.get(photo)
    assert answer.status_code == 200 and answer.get_data().startswith(b"\xff\xd8\xff")
