"""Fixtures shared across packages, and markers applied from the fixtures a test uses.

The store runs on both backends (``database_url`` is parametrised with
``sqlite`` and ``postgis``). Tests that need PostGIS, Chromium or
``../shared/realdata`` skip with a reason on a machine without them; under
``CI=true`` such a skip is a failure instead (:func:`tests.environment.require`).

Markers are not written on the tests: :func:`pytest_collection_modifyitems`
gives ``postgis`` to every test that reaches the ``postgis`` fixture or runs
a fixture with the ``postgis`` parameter, ``browser`` to every test that
reaches ``chromium``, and ``realdata`` to every test that reaches
``realdata``, so ``-m "not browser and not postgis"`` deselects them all.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests import postgis_server
from tests.environment import REALDATA, require
from tests.factories import partition_stored_blocks

#: marker -> the fixture whose use (directly or through other fixtures) needs it
MARKER_FIXTURES = {"postgis": "postgis", "browser": "chromium", "realdata": "realdata"}
#: the parameter value that runs a parametrised fixture (database_url, app) on PostGIS
POSTGIS_PARAM = "postgis"


def needs_postgis(item: pytest.Item) -> bool:
    """True when ``item`` starts the PostGIS server, directly or through a fixture parameter."""
    if MARKER_FIXTURES["postgis"] in item.fixturenames:
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    return any(
        name in item.fixturenames and value == POSTGIS_PARAM
        for name, value in callspec.params.items()
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark items ``postgis``, ``browser`` and ``realdata`` by the fixtures they use."""
    for item in items:
        if needs_postgis(item):
            item.add_marker(pytest.mark.postgis)
        for marker, fixture in MARKER_FIXTURES.items():
            if marker != "postgis" and fixture in item.fixturenames:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The ``../shared/realdata`` folder (skips without it; fails under CI)."""
    require(REALDATA.is_dir(), f"real data folder {REALDATA} is absent")
    return REALDATA


@pytest.fixture(scope="session")
def postgis():
    """A throwaway PostGIS server for the whole session."""
    reason = postgis_server.why_unavailable()
    require(reason is None, f"PostGIS unavailable: {reason}")
    server = postgis_server.PostgisServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgis_url(postgis):
    """URL of a fresh, empty PostGIS database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgis.create_database(name)
    yield url
    postgis.drop_database(name)


@pytest.fixture(params=["sqlite", POSTGIS_PARAM])
def database_url(request, tmp_path):
    """The same test on the embedded SQLite default and on PostGIS."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gridmgmt.db'}"
    else:
        yield request.getfixturevalue("postgis_url")


@pytest.fixture
def store(database_url):
    """A migrated :class:`~gridmgmt.store.repository.Store` on each backend."""
    from gridmgmt.store.repository import Store

    s = Store(database_url)
    yield s
    s.dispose()


@pytest.fixture
def partitioned(store):
    """``(store, community code)``: a synthetic 社区 of 150 buildings stored and partitioned."""
    return store, partition_stored_blocks(store).code


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test reads or writes the user's real instance or database."""
    monkeypatch.delenv("GRIDMGMT_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRIDMGMT_HOME", str(tmp_path / "home"))
