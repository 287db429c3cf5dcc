"""Failed log-ins counted in the store, so every web process sees the same counts.

Each key (an account or a client address, see
:mod:`gridmgmt.domain.login_throttle`) has one ``login_failures`` row. A
failure is counted with an ``UPDATE`` first, so on SQLite the write lock is
taken before anything is read and on PostgreSQL the row is locked: two
processes counting at once never lose a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from gridmgmt.store.models.accounts import LoginFailure

#: ``lock(failures, first_at) -> locked_until or None``
LockRule = Callable[[int, datetime], datetime | None]


class LoginFailureStore:
    """``login_failures`` for :class:`gridmgmt.domain.login_throttle.LoginThrottle`.

    Parameters
    ----------
    store : gridmgmt.store.repository.Store
        The store whose engine holds the table.
    """

    def __init__(self, store):
        self.store = store

    def locked_until(self, keys: Iterable[str], now: datetime) -> datetime | None:
        """The latest lock among ``keys`` still running at ``now``, or None."""
        keys = list(keys)
        if not keys:
            return None
        with self.store.engine.connect() as conn:
            return conn.scalar(
                select(func.max(LoginFailure.locked_until)).where(
                    LoginFailure.key.in_(keys), LoginFailure.locked_until > now
                )
            )

    def record_failure(
        self, key: str, now: datetime, *, window_start: datetime, lock: LockRule
    ) -> int:
        """Count one failed log-in under ``key``; returns the failures counted.

        Counting starts over at ``now`` when the first counted failure is
        older than ``window_start``. ``lock`` decides, from the count and
        the time counting started, until when the key is locked.
        """
        for _attempt in range(3):
            try:
                with self.store.session() as s:
                    return self._count(s, key, now, window_start, lock)
            except IntegrityError:  # another process inserted the row first: count again
                continue
        raise RuntimeError(f"could not count a failed log-in under {key!r}")

    @staticmethod
    def _count(s, key: str, now: datetime, window_start: datetime, lock: LockRule) -> int:
        table = LoginFailure.__table__
        restarted = s.execute(
            update(table)
            .where(table.c.key == key, table.c.first_at < window_start)
            .values(failures=1, first_at=now, locked_until=None)
        ).rowcount
        if not restarted:
            counted = s.execute(
                update(table).where(table.c.key == key).values(failures=table.c.failures + 1)
            ).rowcount
            if not counted:
                s.add(LoginFailure(key=key, failures=1, first_at=now))
                s.flush()
        failures, first_at = s.execute(
            select(table.c.failures, table.c.first_at).where(table.c.key == key)
        ).one()
        until = lock(failures, first_at)
        s.execute(update(table).where(table.c.key == key).values(locked_until=until))
        return failures

    def forget(self, before: datetime, now: datetime) -> int:
        """Delete the counts started before ``before`` that hold no lock at ``now``; how many."""
        stale = (LoginFailure.first_at < before) & (
            LoginFailure.locked_until.is_(None) | (LoginFailure.locked_until <= now)
        )
        with self.store.session() as s:
            return s.execute(delete(LoginFailure).where(stale)).rowcount

    def clear(self, key: str) -> None:
        """Forget the failures under ``key`` (after a successful log-in)."""
        with self.store.session() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key == key))
