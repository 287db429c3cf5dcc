"""Account changes beyond creation: passwords, roles, areas, departments, enabling, sessions.

Every change of what an account may do raises ``users.session_version`` in
the same transaction, which ends the account's sessions in the web app.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

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

    def _update_user(self, s, username: str, **values) -> None:
        """Set ``values`` on ``username`` and raise its session version."""
        result = s.execute(
            update(m.User)
            .where(m.User.username == username)
            .values(session_version=m.User.session_version + 1, **values)
        )
        if result.rowcount != 1:
            raise NotFoundError(f"no user {username!r}")

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's password hash and end its sessions.

        :class:`NotFoundError` for an unknown username.
        """
        with self.store.session() as s:
            self._update_user(s, username, password_hash=password_hash)

    def set_role(self, username: str, role: str) -> list[str]:
        """Give ``username`` the role ``role`` and end its sessions.

        A former worker's grids and a former handler's department are
        unbound; returns what was unbound (e.g. ``["department 环卫所"]``).
        """
        with self.store.session() as s:
            user_id = self._user_id(s, username)
            if s.get(m.Role, role) is None:
                raise ValueError(f"unknown role {role!r}")
            unbound = []
            if role not in ("worker", "building_head", "informant"):  # grid-bound roles
                codes = sorted(
                    s.scalars(select(m.UserGrid.grid_code).where(m.UserGrid.user_id == user_id))
                )
                if codes:
                    s.execute(delete(m.UserGrid).where(m.UserGrid.user_id == user_id))
                    unbound.append("grids " + ", ".join(codes))
            department = s.get(UserDepartment, user_id)
            if role != "dept" and department is not None:
                unbound.append(f"department {department.department}")
                s.delete(department)
            self._update_user(s, username, role=role)
            return unbound

    def set_active(self, username: str, active: bool) -> None:
        """Enable or disable ``username``; either ends its sessions."""
        with self.store.session() as s:
            self._update_user(s, username, active=active)

    def set_area(self, username: str, area: str | None) -> None:
        """Bind ``username`` to the area code ``area`` (None: unbind) and end its sessions."""
        with self.store.session() as s:
            self._update_user(s, username, area=area)

    def end_sessions(self, username: str) -> None:
        """End every session of ``username`` (its session cookies stop working)."""
        with self.store.session() as s:
            self._update_user(s, username)

    def set_department(self, username: str, department: str | None) -> None:
        """Bind a user to ``department`` (None: unbind) and end its sessions."""
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
            self._update_user(s, username)

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
