"""Account changes beyond creation: password resets."""

from __future__ import annotations

from sqlalchemy import update

from gridmgmt.domain.errors import NotFoundError
from gridmgmt.store import models as m


class AccountStore:
    """Writes to ``users`` for :mod:`gridmgmt.domain.accounts` (takes the :class:`Store`)."""

    def __init__(self, store):
        self.store = store

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's password hash; :class:`NotFoundError` for an unknown username."""
        with self.store.session() as s:
            result = s.execute(
                update(m.User)
                .where(m.User.username == username)
                .values(password_hash=password_hash)
            )
            if result.rowcount != 1:
                raise NotFoundError(f"no user {username!r}")
