"""Roles, accounts and API keys: creation, log-in checks and the changes that end sessions.

Every change of what an account may do (password, role, area, department,
disabling) raises its session version in the store, which ends the
account's sessions in the web app; :func:`end_sessions` does only that.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from gridmgmt.core.periods import SHANGHAI
from gridmgmt.domain.repositories import UserRepository

#: role name -> (中文, English)
ROLES = {
    "admin": ("系统管理员", "Administrator"),
    "supervisor": ("街道网格化管理中心", "Supervisor"),
    "dept": ("职能部门", "Department handler"),
    "worker": ("网格员", "Grid worker"),
    "analyst": ("分析员", "Analyst"),
    "hotline": ("12345热线", "Hotline"),
    "building_head": ("楼栋长", "Building head"),
    "informant": ("信息员", "Informant"),
}
#: roles bound to grids (``--grid``): grid workers and the volunteers (楼栋长, 信息员)
GRID_BOUND_ROLES = ("worker", "building_head", "informant")
#: roles of API clients only: systems, not people, hold them
CLIENT_ONLY_ROLES = ("hotline",)
#: roles an account (a person who logs in) may hold
USER_ROLES = tuple(r for r in ROLES if r not in CLIENT_ONLY_ROLES)
#: roles an API key may carry: volunteers work on their phone pages, not through programs
KEY_ROLES = tuple(r for r in ROLES if r not in ("building_head", "informant"))

MIN_PASSWORD_LENGTH = 8
#: an area code: 区 (6 digits), 街道 (9) or 社区 (12)
AREA_PATTERN = re.compile(r"\d{6}(\d{3}(\d{3})?)?")


def _check_user_role(role: str) -> None:
    if role in CLIENT_ONLY_ROLES:
        raise ValueError(f"role {role!r} is for API clients (gridmgmt apikey add --role {role})")
    if role not in USER_ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(USER_ROLES)}")


def validate_area(code: str | None) -> str | None:
    """The area code ``code`` stripped, or None for None; ``ValueError`` when malformed.

    Parameters
    ----------
    code : str or None
        A 6-digit 区, 9-digit 街道 or 12-digit 社区 code (GB/T 2260 and its
        extensions, e.g. ``340705``, ``340705001``, ``340705001001``).

    Returns
    -------
    str or None
        The code without surrounding blanks.
    """
    if code is None:
        return None
    code = code.strip()
    if not AREA_PATTERN.fullmatch(code):
        raise ValueError(
            f"area must be a 6-digit 区, 9-digit 街道 or 12-digit 社区 code "
            f"(e.g. 340705, 340705001, 340705001001), not {code!r}"
        )
    return code


def create_user(
    repo: UserRepository,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    grid_codes: Iterable[str] = (),
    area: str | None = None,
) -> int:
    """Create an account with a salted password hash.

    Raises ``ValueError`` for an unknown role (or one held by API clients
    only), an empty username, a password shorter than
    :data:`MIN_PASSWORD_LENGTH` or a malformed ``area`` (see
    :func:`validate_area`).
    """
    _check_user_role(role)
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
        area=validate_area(area),
    )


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the stored hash."""
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(repo, username: str, password: str) -> dict | None:
    """The active account ``username`` when ``password`` is its password, else None.

    One password hash is checked whatever the outcome (against a dummy hash
    for an unknown username), so the answer's timing does not tell which
    usernames exist.

    Parameters
    ----------
    repo
        Has ``user(username=...)`` returning the account row or None.
    username, password : str
        What was typed into the log-in form.

    Returns
    -------
    dict or None
        The account row.
    """
    row = repo.user(username=username) if username else None
    matches = verify_password(row["password_hash"] if row else _dummy_hash(), password)
    return row if row is not None and matches and row["active"] else None


def hash_api_key(key: str) -> str:
    """SHA-256 of a key (keys are random 256-bit tokens, so no salt is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """When a key given ``--expires TEXT`` stops working (an aware UTC datetime).

    Parameters
    ----------
    text : str
        ``90d`` (that many days from now) or a date ``2027-06-30`` (the key
        works through that day, Asia/Shanghai).
    now : datetime, optional
        The current time (default: now).

    Returns
    -------
    datetime
        The expiry, in the future; ``ValueError`` otherwise.
    """
    now = now or datetime.now(UTC)
    text = text.strip()
    days = re.fullmatch(r"(\d{1,5})d", text)
    if days:
        expires = now + timedelta(days=int(days.group(1)))
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"expiry must be a number of days (e.g. 90d) or a date (e.g. 2027-06-30), "
                f"not {text!r}"
            ) from None
        expires = datetime.combine(day + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
    if expires <= now:
        raise ValueError(f"expiry {text!r} is not in the future")
    return expires


def create_api_key(
    repo, client: str, role: str = "analyst", *, expires_at: datetime | None = None
) -> str:
    """Create a key for a machine client; returns the key, which is shown only once.

    ``expires_at`` (aware) ends the key's use; None: until revoked.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not client or not client.strip():
        raise ValueError("client name must not be empty")
    key = "gm_" + secrets.token_urlsafe(32)
    repo.add_api_key(client.strip(), role, key[:10], hash_api_key(key), expires_at=expires_at)
    return key


def api_key_client(repo, key: str | None) -> dict | None:
    """The client (id, client, role) an active, unexpired key belongs to, or None."""
    if not key or not key.startswith("gm_"):
        return None
    return repo.api_key(hash_api_key(key))


def revoke_api_key(repo, ref: str) -> dict:
    """Revoke the key with id or prefix ``ref``; returns the key's row.

    ``repo`` needs ``revoke_api_key(key_id=..., prefix=...)``, which raises
    ``NotFoundError`` for no match and ``ConflictError`` when a prefix is
    shared by several keys.
    """
    ref = ref.strip()
    if ref.isdigit():
        return repo.revoke_api_key(key_id=int(ref))
    if not ref.startswith("gm_"):
        raise ValueError(f"give a key's id or its prefix (gm_…), not {ref!r}")
    return repo.revoke_api_key(prefix=ref)


def generate_password(length: int = 14) -> str:
    """A random password of letters and digits (no look-alikes such as 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def reset_password(repo, username: str, password: str | None = None) -> str:
    """Give ``username`` a new password (generated when None) and return it.

    ``repo`` needs ``set_password_hash(username, hash)``, which also ends
    the user's sessions; raises ``ValueError`` for a password shorter than
    :data:`MIN_PASSWORD_LENGTH` and ``NotFoundError`` for an unknown user.
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


def change_role(repo, username: str, role: str) -> list[str]:
    """Give ``username`` the role ``role``, ending its sessions.

    Bindings the new role does not have go: the grids of a former grid
    worker, the department of a former department handler.

    Parameters
    ----------
    repo
        Has ``set_role(username, role)`` returning what it unbound.
    username, role : str
        The account and one of :data:`USER_ROLES`.

    Returns
    -------
    list of str
        What was unbound, e.g. ``["grids 340705001001001"]``.
    """
    _check_user_role(role)
    return repo.set_role(username, role)


def set_active(repo, username: str, active: bool) -> None:
    """Enable or disable ``username``; disabling ends its sessions and refuses its log-ins.

    ``repo`` needs ``set_active(username, active)``.
    """
    repo.set_active(username, bool(active))


def bind_area(repo, username: str, area: str | None) -> str | None:
    """Bind ``username`` to the area code ``area`` (None: the whole deployment).

    ``repo`` needs ``set_area(username, area)``. Returns the stored code;
    ``ValueError`` for a malformed one (:func:`validate_area`).
    """
    area = validate_area(area)
    repo.set_area(username, area)
    return area


def end_sessions(repo, username: str) -> None:
    """End every session of ``username`` (``repo`` needs ``end_sessions(username)``)."""
    repo.end_sessions(username)
