"""Log-in throttling per account and per client address that does not lock everyone out.

Only failed log-ins count, under two keys:

- **the account** (the username typed, existing or not): the first
  :data:`ACCOUNT_FREE_FAILURES` failures cost nothing; from then on each
  failure locks the account for twice as long as the one before (1 s,
  2 s, 4 s …, at most :data:`ACCOUNT_MAX_LOCK`). A successful log-in
  forgets the account's failures and is never counted.
- **the client address**: :data:`ADDRESS_BUDGET` failures per
  :data:`ADDRESS_WINDOW`, a budget high enough for an office behind one
  NAT address; spent, the address is refused until the window ends.

A locked account refuses even the right password until the lock ends, but
only for that account: other accounts log in from the same address. The
counts are kept by a :class:`LoginFailureRepository` (the store's
``login_failures`` table), so all web processes share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

ACCOUNT_FREE_FAILURES = 5
ACCOUNT_MAX_LOCK = timedelta(minutes=15)
#: an account's failures are forgotten a day after counting started
ACCOUNT_WINDOW = timedelta(hours=24)
ADDRESS_BUDGET = 50
ADDRESS_WINDOW = timedelta(minutes=10)
#: longest key part kept (usernames have at most 64 characters)
MAX_KEY_PART = 150


class LoginFailureRepository(Protocol):
    """Where failed log-ins are counted (:class:`gridmgmt.store.login_failures.LoginFailureStore`)."""

    def locked_until(self, keys, now: datetime) -> datetime | None: ...

    def record_failure(
        self,
        key: str,
        now: datetime,
        *,
        window_start: datetime,
        lock: Callable[[int, datetime], datetime | None],
    ) -> int: ...

    def forget(self, before: datetime, now: datetime) -> int: ...

    def clear(self, key: str) -> None: ...


def account_key(username: str) -> str:
    """The key an account's failures are counted under."""
    return "account:" + username[:MAX_KEY_PART]


def address_key(address: str | None) -> str:
    """The key a client address's failures are counted under."""
    return "address:" + (address or "unknown")[:MAX_KEY_PART]


def account_lock(failures: int, now: datetime) -> datetime | None:
    """Until when an account with ``failures`` counted failures is locked (None: not locked).

    Parameters
    ----------
    failures : int
        Failures counted, the one just made included.
    now : datetime
        When the last failure happened.

    Returns
    -------
    datetime or None
        ``now`` plus 1 s at :data:`ACCOUNT_FREE_FAILURES` failures, doubling
        with each further failure up to :data:`ACCOUNT_MAX_LOCK`.
    """
    if failures < ACCOUNT_FREE_FAILURES:
        return None
    exponent = min(failures - ACCOUNT_FREE_FAILURES, 30)
    return now + min(timedelta(seconds=2**exponent), ACCOUNT_MAX_LOCK)


def address_lock(failures: int, first_at: datetime) -> datetime | None:
    """Until when an address is locked: the window's end once its budget is spent, else None."""
    if failures < ADDRESS_BUDGET:
        return None
    return first_at + ADDRESS_WINDOW


class LoginThrottle:
    """Asks before a log-in whether it may be tried, and counts how it went.

    Parameters
    ----------
    repo : LoginFailureRepository
        Where the failures are counted.
    clock : callable, optional
        Returns the current aware datetime (default: now, UTC).
    """

    def __init__(self, repo: LoginFailureRepository, clock: Callable[[], datetime] | None = None):
        self.repo = repo
        self.clock = clock or (lambda: datetime.now(UTC))

    @staticmethod
    def _keys(username: str, address: str | None) -> list[str]:
        keys = [address_key(address)]
        if username:
            keys.append(account_key(username))
        return keys

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Seconds until ``username`` may try to log in from ``address``; None: now.

        The password is not to be checked while locked (and the attempt is
        not counted).
        """
        now = self.clock()
        until = self.repo.locked_until(self._keys(username, address), now)
        if until is None:
            return None
        return max(1, math.ceil((until - now).total_seconds()))

    def failed(self, username: str, address: str | None) -> None:
        """Count a failed log-in of ``username`` from ``address``.

        Counts older than every window are dropped on the way, so usernames
        tried once do not pile up.
        """
        now = self.clock()
        self.repo.forget(now - max(ACCOUNT_WINDOW, ADDRESS_WINDOW), now)
        self.repo.record_failure(
            address_key(address),
            now,
            window_start=now - ADDRESS_WINDOW,
            lock=address_lock,
        )
        if username:
            self.repo.record_failure(
                account_key(username),
                now,
                window_start=now - ACCOUNT_WINDOW,
                lock=lambda failures, _first_at: account_lock(failures, now),
            )

    def succeeded(self, username: str) -> None:
        """Forget the failures of ``username`` (its address's failures stay counted)."""
        self.repo.clear(account_key(username))
