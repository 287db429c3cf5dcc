"""A small stored 街道 (2 社区, 4 grids, 8 buildings), one account per role, and real Chromium.

The data comes from :mod:`tests.factories`, logging in from :mod:`tests.webapp.sessions`.

Browser tests drive Debian's /usr/bin/chromium with Playwright against the app
served by waitress in a thread; every request the page makes is recorded so
tests can assert it reached no other host. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gridmgmt.domain.accounts import create_user
from tests.environment import REPO, require
from tests.factories import G1, LABELS, boundaries, buildings, roads, small_grids
from tests.webapp.sessions import PASSWORD, login


@pytest.fixture
def app(tmp_path, request):
    from webapp import create_app

    url = f"sqlite:///{tmp_path / 'gridmgmt.db'}"
    if getattr(request, "param", "sqlite") == "postgis":
        url = request.getfixturevalue("postgis_url")
    from webapp.extensions import limiter

    app = create_app(str(tmp_path), TESTING=True)
    with app.app_context():
        limiter.reset()  # attempts of earlier tests do not count
    from gridmgmt.store.repository import Store

    store = Store(url)
    app.extensions["gridmgmt_store"] = store
    b = buildings(8)
    b.loc[0, "name"] = "<script>alert('x')</script>楼"
    grids = small_grids()
    store.write_layers({"boundaries": boundaries(), "buildings": b, "roads": roads()}, source="t")
    store.write_grid_version("340705001001", grids.iloc[:2], LABELS)
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    for role in ("admin", "supervisor", "dept", "worker", "analyst"):
        create_user(
            store,
            role,
            PASSWORD,
            role,
            display_name=f"{role}<b>",
            grid_codes=[G1] if role == "worker" else (),
        )
    yield app
    store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_role(client):
    def _as(role):
        response = login(client, role)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _as


CHROMIUM = os.environ.get("GRIDMGMT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app):
    """The test app served by waitress in a thread; yields its base URL."""
    from waitress.server import create_server

    port = _free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium; skips without it (fails under CI=true)."""
    available = Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None
    require(available, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class RecordedPage:
    """A page plus every URL it requested."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.requests: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.base_url).netloc
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != own
        ]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def open_page(chromium, live_server):
    """``open_page(viewport=(w, h), **context_options)`` -> RecordedPage at the live server."""
    contexts = []

    def _open(viewport=(1280, 800), **options):
        context = chromium.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN", **options
        )
        contexts.append(context)
        return RecordedPage(context.new_page(), live_server)

    yield _open
    for c in contexts:
        c.close()
