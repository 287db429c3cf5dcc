"""Flask-Limiter's counters in the store (``rate_limit_counters``), shared by every process.

Flask-Limiter keeps its counters in a ``limits`` storage; the default one is
process memory, so with ``gridmgmt serve --workers N`` each process would
allow the limit again. :class:`StoreRateLimits` is a ``limits`` storage
(scheme ``gridmgmt://``) over the store's database instead: one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per hit (SQLite ≥ 3.35 and
PostgreSQL), so two processes counting at once never lose a hit. It
implements the fixed-window strategy (Flask-Limiter's default).
"""

from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from gridmgmt.store.models.accounts import RateLimitCounter

#: the storage URI that selects this storage (``RATELIMIT_STORAGE_URI``)
STORAGE_URI = "gridmgmt://"


class StoreRateLimits(Storage):
    """A ``limits`` storage over a :class:`~gridmgmt.store.repository.Store`.

    Parameters
    ----------
    uri : str
        ``gridmgmt://`` (the store itself comes as an option).
    store : gridmgmt.store.repository.Store
        The store whose database holds the counters
        (``RATELIMIT_STORAGE_OPTIONS={"store": store}``).
    """

    STORAGE_SCHEME = ["gridmgmt"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        if options.get("store") is None:
            raise ValueError("the gridmgmt rate-limit storage needs the store: store=...")
        self.store = options["store"]
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count ``amount`` hits under ``key``; a new window of ``expiry`` s when the last ended."""
        now = time.time()
        t = RateLimitCounter
        insert = postgresql_insert if self.store.backend == "postgresql" else sqlite_insert
        ended = t.expires_at <= now
        stmt = (
            insert(t)
            .values(key=key, hits=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[t.key],
                set_={
                    "hits": case((ended, amount), else_=t.hits + amount),
                    "expires_at": case((ended, now + expiry), else_=t.expires_at),
                },
            )
            .returning(t.hits)
        )
        with self.store.engine.begin() as conn:
            return int(conn.scalar(stmt))

    def get(self, key: str) -> int:
        """Hits counted under ``key`` in its running window (0 when none runs)."""
        t = RateLimitCounter
        with self.store.engine.connect() as conn:
            hits = conn.scalar(select(t.hits).where(t.key == key, t.expires_at > time.time()))
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (seconds since the epoch; now when none runs)."""
        t = RateLimitCounter
        with self.store.engine.connect() as conn:
            expires = conn.scalar(select(t.expires_at).where(t.key == key))
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self.store.engine.connect() as conn:
                conn.scalar(select(func.count()).select_from(RateLimitCounter))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        """Forget every counter; how many there were."""
        with self.store.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s counter."""
        with self.store.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
