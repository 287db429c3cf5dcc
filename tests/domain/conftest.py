"""Fixtures shared by the incident tests."""

from __future__ import annotations

import pytest

from gridmgmt.domain.incidents import load_categories
from tests.factories import boundaries, small_grids


@pytest.fixture
def loop_store(store):
    """A store (both backends) with two 社区 of grids and the incident categories."""
    store.write_layers({"boundaries": boundaries()}, source="t")
    grids = small_grids()
    store.write_grid_version("340705001001", grids.iloc[:2], {})
    store.write_grid_version("340705001002", grids.iloc[2:], {})
    assert store.sync_categories(load_categories()) >= 60
    assert store.sync_categories(load_categories()) == 0  # idempotent; edits kept
    return store
