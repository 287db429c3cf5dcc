"""Account changes beyond creation: password resets, department handlers' departments."""

from __future__ import annotations

from sqlalchemy import select, update

from gridmgmt.domain.errors import NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.models import UserDepartment


class AccountStore:
    """Writes to ``users`` for :mod:`gridmgmt.domain.accounts` (takes the :class:`Store`)."""

    def __init__(self, store):
        self.store = store

    def _user_id(self, s, username: str) -> int:
        user_id = s.scalar(select(m.User.id).where(m.User.username == username))
        if user_id is None:
            raise NotFoundError(f"no user {username!r}")
        return user_id

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

    def set_department(self, username: str, department: str | None) -> None:
        """Bind a user to ``department`` (None: unbind)."""
        with self.store.session() as s:
            user_id = self._user_id(s, username)
            row = s.get(UserDepartment, user_id)
            if department is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(UserDepartment(user_id=user_id, department=department))
            else:
                row.department = department

    def department_of(self, user_id: int) -> str | None:
        """The department a user is bound to, or None."""
        with self.store.engine.connect() as conn:
            return conn.scalar(
                select(UserDepartment.department).where(UserDepartment.user_id == user_id)
            )

    def departments(self) -> dict[int, str]:
        """user id -> department of every bound user."""
        with self.store.engine.connect() as conn:
            return dict(
                conn.execute(select(UserDepartment.user_id, UserDepartment.department)).all()
            )
