"""Shared fixtures: the store on both backends, real data, CI-strict skipping.

Tests that need PostGIS, a browser or ``../shared/realdata`` skip with a
reason on a machine without them; under ``CI=true`` such a skip is a
failure instead (``require``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests import postgis_server

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless available; under CI=true, fail."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


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


@pytest.fixture(params=["sqlite", "postgis"])
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


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test reads or writes the user's real instance or database."""
    monkeypatch.delenv("GRIDMGMT_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRIDMGMT_HOME", str(tmp_path / "home"))
