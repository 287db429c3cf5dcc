"""Accounts and API keys in the store: creation and reads.

Later changes to accounts (passwords, departments) are in :mod:`gridmgmt.store.accounts`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select

from gridmgmt.domain.errors import ConflictError
from gridmgmt.store import models as m
from gridmgmt.store.database import Database


class UserStore(Database):
    """Users and API keys (:class:`gridmgmt.domain.repositories.UserRepository`)."""

    def add_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        *,
        display_name: str | None = None,
        grid_codes: Iterable[str] = (),
    ) -> int:
        """Create an account; refuses an existing username or unknown role."""
        with self.session() as s:
            if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
                raise ConflictError(f"user {username!r} exists already")
            if s.get(m.Role, role) is None:
                roles = ", ".join(s.scalars(select(m.Role.name)))
                raise ValueError(f"unknown role {role!r}; expected one of {roles}")
            user = m.User(
                username=username,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                active=True,
            )
            s.add(user)
            s.flush()
            for code in grid_codes:
                s.add(m.UserGrid(user_id=user.id, grid_code=code))
            return user.id

    def user(self, *, username: str | None = None, user_id: int | None = None) -> dict | None:
        """One account (with its password hash and grid codes), or None."""
        stmt = select(m.User)
        stmt = (
            stmt.where(m.User.username == username)
            if username is not None
            else stmt.where(m.User.id == user_id)
        )
        with self.session() as s:
            user = s.scalar(stmt)
            if user is None:
                return None
            codes = sorted(
                s.scalars(select(m.UserGrid.grid_code).where(m.UserGrid.user_id == user.id))
            )
            return {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "password_hash": user.password_hash,
                "role": user.role,
                "active": user.active,
                "grid_codes": codes,
            }

    def add_api_key(self, client: str, role: str, prefix: str, key_hash: str) -> int:
        """Store a client's key hash; refuses an unknown role."""
        with self.session() as s:
            if s.get(m.Role, role) is None:
                raise ValueError(f"unknown role {role!r}")
            key = m.ApiKey(client=client, role=role, prefix=prefix, key_hash=key_hash, active=True)
            s.add(key)
            s.flush()
            return key.id

    def api_key(self, key_hash: str) -> dict | None:
        """The active key with this hash, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(m.ApiKey.id, m.ApiKey.client, m.ApiKey.role, m.ApiKey.prefix).where(
                        m.ApiKey.key_hash == key_hash, m.ApiKey.active.is_(True)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def users(self) -> pd.DataFrame:
        """All accounts with their grid codes (no password hashes)."""
        with self.engine.connect() as conn:
            users = (
                conn.execute(
                    select(
                        m.User.id, m.User.username, m.User.display_name, m.User.role, m.User.active
                    ).order_by(m.User.username)
                )
                .mappings()
                .all()
            )
            links = conn.execute(select(m.UserGrid.user_id, m.UserGrid.grid_code)).all()
        grids: dict[int, list[str]] = {}
        for user_id, code in links:
            grids.setdefault(user_id, []).append(code)
        frame = pd.DataFrame.from_records(
            [dict(u) for u in users], columns=["id", "username", "display_name", "role", "active"]
        )
        frame["grid_codes"] = [sorted(grids.get(i, [])) for i in frame["id"]]
        return frame
