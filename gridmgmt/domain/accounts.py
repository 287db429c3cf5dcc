"""Roles and accounts."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from werkzeug.security import check_password_hash, generate_password_hash

from gridmgmt.domain.repositories import UserRepository

#: role name -> (中文, English)
ROLES = {
    "admin": ("系统管理员", "Administrator"),
    "supervisor": ("街道网格化管理中心", "Supervisor"),
    "dept": ("职能部门", "Department handler"),
    "worker": ("网格员", "Grid worker"),
    "analyst": ("分析员", "Analyst"),
}

MIN_PASSWORD_LENGTH = 8


def create_user(
    repo: UserRepository,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    grid_codes: Iterable[str] = (),
) -> int:
    """Create an account with a salted password hash.

    Raises ``ValueError`` for an unknown role, an empty username or a
    password shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not username or not username.strip():
        raise ValueError("username must not be empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    return repo.add_user(
        username.strip(),
        generate_password_hash(password),
        role,
        display_name=display_name,
        grid_codes=list(grid_codes),
    )


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the stored hash."""
    return check_password_hash(password_hash, password)


def hash_api_key(key: str) -> str:
    """SHA-256 of a key (keys are random 256-bit tokens, so no salt is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(repo, client: str, role: str = "analyst") -> str:
    """Create a key for a machine client; returns the key, which is shown only once."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not client or not client.strip():
        raise ValueError("client name must not be empty")
    key = "gm_" + secrets.token_urlsafe(32)
    repo.add_api_key(client.strip(), role, key[:10], hash_api_key(key))
    return key


def api_key_client(repo, key: str | None) -> dict | None:
    """The client (id, client, role) a presented key belongs to, or None."""
    if not key or not key.startswith("gm_"):
        return None
    return repo.api_key(hash_api_key(key))


def generate_password(length: int = 14) -> str:
    """A random password of letters and digits (no look-alikes such as 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def reset_password(repo, username: str, password: str | None = None) -> str:
    """Give ``username`` a new password (generated when None) and return it.

    ``repo`` needs ``set_password_hash(username, hash)``; raises ``ValueError``
    for a password shorter than :data:`MIN_PASSWORD_LENGTH` and
    ``NotFoundError`` for an unknown user.
    """
    password = generate_password() if password is None else password
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    repo.set_password_hash(username, generate_password_hash(password))
    return password


def bind_department(repo, username: str, role: str, department: str | None) -> None:
    """Bind the department handler ``username`` to ``department`` (None unbinds).

    ``repo`` needs ``set_department(username, department)``. Raises
    ``ValueError`` when the account is not a ``dept`` account or the name is
    empty or longer than 60 characters. An unbound handler sees the cases of
    every department.
    """
    if department is not None:
        if role != "dept":
            raise ValueError(f"only department handlers (role dept) have a department, not {role}")
        department = department.strip()
        if not department or len(department) > 60:
            raise ValueError("department must be 1-60 characters")
    repo.set_department(username, department)
