"""Log-in throttling counted in the store's ``login_failures`` (SQLite and PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from gridmgmt.domain.login_throttle import (
    ACCOUNT_FREE_FAILURES,
    ACCOUNT_MAX_LOCK,
    ADDRESS_BUDGET,
    ADDRESS_WINDOW,
    LoginThrottle,
    account_lock,
)
from gridmgmt.store.login_failures import LoginFailureStore
from gridmgmt.store.models.accounts import LoginFailure

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += timedelta(seconds=seconds)


def test_account_lock_doubles_from_one_second_to_fifteen_minutes():
    locks = [account_lock(n, T0) for n in range(1, 20)]
    assert locks[: ACCOUNT_FREE_FAILURES - 1] == [None] * (ACCOUNT_FREE_FAILURES - 1)
    seconds = [(lock - T0).total_seconds() for lock in locks[ACCOUNT_FREE_FAILURES - 1 :]]
    assert seconds[:5] == [1, 2, 4, 8, 16]
    assert max(seconds) == ACCOUNT_MAX_LOCK.total_seconds() == 900
    assert account_lock(10_000, T0) == T0 + ACCOUNT_MAX_LOCK


def test_account_locks_with_backoff_and_success_resets_it(store):
    clock = Clock()
    throttle = LoginThrottle(LoginFailureStore(store), clock)
    for _ in range(ACCOUNT_FREE_FAILURES - 1):
        assert throttle.retry_after("li", "10.0.0.1") is None
        throttle.failed("li", "10.0.0.1")
    assert throttle.retry_after("li", "10.0.0.1") is None
    throttle.failed("li", "10.0.0.1")  # the fifth: locked 1 s
    assert throttle.retry_after("li", "10.0.0.1") == 1
    assert throttle.retry_after("li", "10.0.0.2") == 1  # from any address
    assert throttle.retry_after("wang", "10.0.0.1") is None  # only that account
    clock.advance(1)
    assert throttle.retry_after("li", "10.0.0.1") is None
    throttle.failed("li", "10.0.0.1")
    assert throttle.retry_after("li", "10.0.0.1") == 2
    clock.advance(2)
    throttle.failed("li", "10.0.0.1")
    assert throttle.retry_after("li", "10.0.0.1") == 4
    clock.advance(0.5)
    assert throttle.retry_after("li", "10.0.0.1") == 4  # rounded up, never 0
    clock.advance(4)
    throttle.succeeded("li")
    for _ in range(ACCOUNT_FREE_FAILURES - 1):
        throttle.failed("li", "10.0.0.1")
    assert throttle.retry_after("li", "10.0.0.1") is None  # counting started over


def test_account_failures_are_forgotten_after_a_day(store):
    clock = Clock()
    throttle = LoginThrottle(LoginFailureStore(store), clock)
    for _ in range(ACCOUNT_FREE_FAILURES - 1):
        throttle.failed("li", None)
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    throttle.failed("li", None)
    assert throttle.retry_after("li", None) is None


def test_address_budget_per_window(store):
    clock = Clock()
    throttle = LoginThrottle(LoginFailureStore(store), clock)
    for i in range(ADDRESS_BUDGET - 1):
        throttle.failed(
            f"user{i}", "192.0.2.7"
        )  # each account fails once: only the address adds up
        clock.advance(1)
    assert throttle.retry_after("admin", "192.0.2.7") is None
    throttle.failed("someone", "192.0.2.7")
    wait = throttle.retry_after("admin", "192.0.2.7")
    assert wait == (ADDRESS_WINDOW - timedelta(seconds=ADDRESS_BUDGET - 1)).total_seconds()
    assert throttle.retry_after("admin", "192.0.2.8") is None  # other addresses log in
    clock.advance(wait)
    assert throttle.retry_after("admin", "192.0.2.7") is None
    throttle.failed("admin", "192.0.2.7")  # a new window: counting starts over
    assert throttle.retry_after("nobody", "192.0.2.7") is None


def test_stale_counts_are_dropped(store):
    clock = Clock()
    failures = LoginFailureStore(store)
    throttle = LoginThrottle(failures, clock)
    for name in ("a", "b", "c"):
        throttle.failed(name, "10.0.0.1")
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    throttle.failed("d", "10.0.0.2")
    with store.engine.connect() as conn:
        keys = set(conn.scalars(sa.select(LoginFailure.key)))
    assert keys == {"account:d", "address:10.0.0.2"}


def test_counts_are_shared_by_every_process(database_url):
    """Two stores on one database (two web processes) count the same failures."""
    from gridmgmt.store.repository import Store

    first, second = Store(database_url), Store(database_url)
    try:
        clock = Clock()
        a = LoginThrottle(LoginFailureStore(first), clock)
        b = LoginThrottle(LoginFailureStore(second), clock)
        for i in range(ACCOUNT_FREE_FAILURES):
            (a if i % 2 else b).failed("li", "10.0.0.1")
        assert a.retry_after("li", "10.0.0.9") == b.retry_after("li", "10.0.0.9") == 1
    finally:
        first.dispose()
        second.dispose()
