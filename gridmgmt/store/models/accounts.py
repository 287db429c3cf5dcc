"""Accounts: roles, users, the grids of grid workers, departments of handlers, API keys.

Also the failed log-in counters the web app throttles log-ins with.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import UTCDateTime


class Role(Base):
    """A role a user or API client may hold (admin, supervisor, dept, worker, analyst, hotline)."""

    __tablename__ = "roles"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(40))


class User(Base):
    """An account; grid workers are bound to grids through :class:`UserGrid`.

    ``session_version`` is part of every session cookie; raising it ends
    the account's sessions. ``area`` is the 区, 街道 or 社区 code the
    account is bound to (None: the whole deployment).
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    area: Mapped[str | None] = mapped_column(String(12))


class UserGrid(Base):
    """Which grids (by code) a grid worker is responsible for."""

    __tablename__ = "user_grids"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True)


class ApiKey(Base):
    """A machine client's key; only its SHA-256 is stored. No ``expires_at``: no expiry."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserDepartment(Base):
    """A ``dept`` account bound to one department (职能部门); unbound handlers see every department."""

    __tablename__ = "user_departments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    department: Mapped[str] = mapped_column(String(60))


class LoginFailure(Base):
    """Failed log-ins counted under one key (an account or a client address).

    ``failures`` counts since ``first_at``; no log-in under the key is tried
    before ``locked_until``.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int]
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateLimitCounter(Base):
    """One Flask-Limiter counter (a route, a client, a window), shared by every web process.

    ``hits`` counts requests in the window ending at ``expires_at`` (seconds
    since the epoch); a hit after that starts a new window.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Float)
