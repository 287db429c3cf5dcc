"""Flask-Limiter's counters in the store: fixed windows, counted atomically, on both backends."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from gridmgmt.store.rate_limits import STORAGE_URI, StoreRateLimits


def test_counts_expire_and_reset(store):
    counters = storage_from_string(STORAGE_URI, store=store)
    assert isinstance(counters, StoreRateLimits) and counters.check()
    assert counters.incr("k", 60) == 1
    assert counters.incr("k", 60, amount=2) == 3
    assert counters.get("k") == 3
    assert time.time() < counters.get_expiry("k") <= time.time() + 60
    assert counters.incr("short", 0.2) == 1
    time.sleep(0.3)
    assert counters.get("short") == 0
    assert counters.incr("short", 60) == 1  # a new window after the last one ended
    counters.clear("k")
    assert counters.get("k") == 0
    assert counters.reset() == 1
    assert counters.get("short") == 0


def test_a_limit_over_concurrent_hits_lets_exactly_its_count_through(store):
    limiter = FixedWindowRateLimiter(storage_from_string(STORAGE_URI, store=store))
    limit = parse("25 per minute")
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda _i: limiter.hit(limit, "client"), range(60)))
    assert allowed.count(True) == 25


def test_the_store_is_required():
    with pytest.raises(ValueError, match="needs the store"):
        storage_from_string(STORAGE_URI)
