"""Accounts and API keys in the store: creation, reads and revoking keys.

Later changes to accounts (passwords, roles, areas, departments, sessions)
are in :mod:`gridmgmt.store.accounts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import or_, select

from gridmgmt.domain.errors import ConflictError, NotFoundError
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
        area: str | None = None,
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
                session_version=1,
                area=area,
            )
            s.add(user)
            s.flush()
            for code in grid_codes:
                s.add(m.UserGrid(user_id=user.id, grid_code=code))
            return user.id

    def user(self, *, username: str | None = None, user_id: int | None = None) -> dict | None:
        """One account (with its password hash, grid codes, area and session version), or None."""
        u = m.User
        stmt = select(
            u.id,
            u.username,
            u.display_name,
            u.password_hash,
            u.role,
            u.active,
            u.area,
            u.session_version,
        )
        stmt = (
            stmt.where(u.username == username)
            if username is not None
            else stmt.where(u.id == user_id)
        )
        # Core, not the ORM: every request with a session cookie asks this
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
            if row is None:
                return None
            codes = conn.scalars(
                select(m.UserGrid.grid_code)
                .where(m.UserGrid.user_id == row["id"])
                .order_by(m.UserGrid.grid_code)
            ).all()
        return {**row, "grid_codes": list(codes)}

    def add_api_key(
        self,
        client: str,
        role: str,
        prefix: str,
        key_hash: str,
        *,
        expires_at: datetime | None = None,
    ) -> int:
        """Store a client's key hash (valid until ``expires_at``); refuses an unknown role."""
        with self.session() as s:
            if s.get(m.Role, role) is None:
                raise ValueError(f"unknown role {role!r}")
            key = m.ApiKey(
                client=client,
                role=role,
                prefix=prefix,
                key_hash=key_hash,
                active=True,
                expires_at=expires_at,
            )
            s.add(key)
            s.flush()
            return key.id

    def api_key(self, key_hash: str, now: datetime | None = None) -> dict | None:
        """The active key with this hash that has not expired by ``now``, or None."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(m.ApiKey.id, m.ApiKey.client, m.ApiKey.role, m.ApiKey.prefix).where(
                        m.ApiKey.key_hash == key_hash,
                        m.ApiKey.active.is_(True),
                        or_(m.ApiKey.expires_at.is_(None), m.ApiKey.expires_at > now),
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def api_keys(self) -> list[dict]:
        """Every key (id, client, role, prefix, created_at, expires_at, active), oldest first.

        Never the hash.
        """
        columns = (
            m.ApiKey.id,
            m.ApiKey.client,
            m.ApiKey.role,
            m.ApiKey.prefix,
            m.ApiKey.created_at,
            m.ApiKey.expires_at,
            m.ApiKey.active,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).order_by(m.ApiKey.id)).mappings().all()
        return [dict(r) for r in rows]

    def revoke_api_key(self, *, key_id: int | None = None, prefix: str | None = None) -> dict:
        """Deactivate the key with ``key_id`` or ``prefix``; its row (as in :meth:`api_keys`).

        ``NotFoundError`` when no key matches, ``ConflictError`` when several
        share the prefix (revoke by id then).
        """
        stmt = select(m.ApiKey)
        stmt = stmt.where(m.ApiKey.id == key_id if prefix is None else m.ApiKey.prefix == prefix)
        with self.session() as s:
            keys = s.scalars(stmt).all()
            if not keys:
                raise NotFoundError(f"no API key {prefix or key_id!r} (see: gridmgmt apikey list)")
            if len(keys) > 1:
                ids = ", ".join(str(k.id) for k in keys)
                raise ConflictError(f"keys {ids} share the prefix {prefix!r}; revoke one by id")
            key = keys[0]
            key.active = False
            return {
                "id": key.id,
                "client": key.client,
                "role": key.role,
                "prefix": key.prefix,
                "created_at": key.created_at,
                "expires_at": key.expires_at,
                "active": False,
            }

    def users(self) -> pd.DataFrame:
        """All accounts with their grid codes and areas (no password hashes)."""
        with self.engine.connect() as conn:
            users = (
                conn.execute(
                    select(
                        m.User.id,
                        m.User.username,
                        m.User.display_name,
                        m.User.role,
                        m.User.active,
                        m.User.area,
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
            [dict(u) for u in users],
            columns=["id", "username", "display_name", "role", "active", "area"],
        )
        # None, not NaN, for unbound accounts
        frame["area"] = pd.Series([u["area"] for u in users], index=frame.index, dtype=object)
        frame["grid_codes"] = [sorted(grids.get(i, [])) for i in frame["id"]]
        return frame
