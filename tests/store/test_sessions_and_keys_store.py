"""Session versions, areas, roles, API key expiry and revocation in the store (SQLite and PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gridmgmt.domain.accounts import (
    USER_ROLES,
    api_key_client,
    bind_area,
    bind_department,
    change_role,
    create_api_key,
    create_user,
    end_sessions,
    hash_api_key,
    parse_expiry,
    reset_password,
    revoke_api_key,
    set_active,
    validate_area,
)
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import engine as eng
from gridmgmt.store.accounts import AccountStore

G1 = "340705001001001"


def version(store, username):
    return store.user(username=username)["session_version"]


def test_every_change_of_reach_raises_the_session_version(store):
    accounts = AccountStore(store)
    create_user(store, "li", "pass-word-1", "worker", grid_codes=[G1])
    assert version(store, "li") == 1
    reset_password(accounts, "li", "pass-word-2")
    assert version(store, "li") == 2
    assert change_role(accounts, "li", "dept") == [f"grids {G1}"]
    row = store.user(username="li")
    assert (row["role"], row["grid_codes"], row["session_version"]) == ("dept", [], 3)
    bind_department(accounts, "li", "dept", "环卫所")
    assert version(store, "li") == 4
    assert change_role(accounts, "li", "analyst") == ["department 环卫所"]
    assert accounts.departments() == {} and version(store, "li") == 5
    set_active(accounts, "li", False)
    assert store.user(username="li")["active"] is False and version(store, "li") == 6
    set_active(accounts, "li", True)
    assert store.user(username="li")["active"] is True
    assert bind_area(accounts, "li", " 340705001 ") == "340705001"
    assert store.user(username="li")["area"] == "340705001" and version(store, "li") == 8
    bind_area(accounts, "li", None)
    assert store.user(username="li")["area"] is None
    end_sessions(accounts, "li")
    assert version(store, "li") == 10
    for change in (
        lambda: end_sessions(accounts, "nobody"),
        lambda: set_active(accounts, "nobody", False),
        lambda: bind_area(accounts, "nobody", "340705"),
        lambda: change_role(accounts, "nobody", "admin"),
    ):
        with pytest.raises(NotFoundError, match="nobody"):
            change()


def test_role_change_refuses_client_roles_and_unknown_roles(store):
    accounts = AccountStore(store)
    create_user(store, "li", "pass-word-1", "worker")
    with pytest.raises(ValueError, match="for API clients"):
        change_role(accounts, "li", "hotline")
    with pytest.raises(ValueError, match="unknown role"):
        change_role(accounts, "li", "boss")
    with pytest.raises(ValueError, match="for API clients"):
        create_user(store, "hl", "pass-word-1", "hotline")
    assert version(store, "li") == 1 and "hotline" not in USER_ROLES


def test_area_is_stored_listed_and_validated(store):
    create_user(store, "qu", "pass-word-1", "supervisor", area="340705")
    create_user(store, "sq", "pass-word-1", "analyst", area="340705001001")
    create_user(store, "all", "pass-word-1", "admin")
    assert store.user(username="qu")["area"] == "340705"
    assert dict(zip(store.users()["username"], store.users()["area"], strict=True)) == {
        "all": None,
        "qu": "340705",
        "sq": "340705001001",
    }
    for bad in ("34070", "3407050010", "34070500100a", "340705001001001", ""):
        with pytest.raises(ValueError, match="6-digit 区, 9-digit 街道 or 12-digit 社区"):
            validate_area(bad)
    with pytest.raises(ValueError, match="12-digit 社区"):
        create_user(store, "x", "pass-word-1", "admin", area="12345")
    assert store.user(username="x") is None


def test_api_keys_expire_list_and_revoke(store):
    now = datetime.now(UTC)
    forever = create_api_key(store, "qgis", "analyst")
    quarter = create_api_key(store, "12345热线", "hotline", expires_at=parse_expiry("90d", now))
    assert api_key_client(store, quarter)["role"] == "hotline"
    store.add_api_key("old", "analyst", "gm_oldkey1", hash_api_key("gm_old"), expires_at=now)
    assert api_key_client(store, "gm_old") is None  # expired
    listed = store.api_keys()
    assert [k["client"] for k in listed] == ["qgis", "12345热线", "old"]
    assert all("key_hash" not in k for k in listed)
    assert listed[0]["expires_at"] is None and listed[0]["prefix"] == forever[:10]
    assert abs(listed[1]["expires_at"] - (now + timedelta(days=90))) < timedelta(seconds=5)

    revoked = revoke_api_key(store, forever[:10])
    assert revoked["client"] == "qgis" and api_key_client(store, forever) is None
    assert revoke_api_key(store, str(listed[1]["id"]))["client"] == "12345热线"
    assert api_key_client(store, quarter) is None
    assert [k["active"] for k in store.api_keys()] == [False, False, True]
    with pytest.raises(NotFoundError):
        revoke_api_key(store, "gm_nothing")
    with pytest.raises(NotFoundError):
        revoke_api_key(store, "999")
    with pytest.raises(ValueError, match="id or its prefix"):
        revoke_api_key(store, "qgis")
    store.add_api_key("a", "analyst", "gm_same123", hash_api_key("gm_a"))
    store.add_api_key("b", "analyst", "gm_same123", hash_api_key("gm_b"))
    with pytest.raises(ConflictError, match="revoke one by id"):
        revoke_api_key(store, "gm_same123")


def test_expiry_parsing():
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert parse_expiry("90d", now) == now + timedelta(days=90)
    # through 2027-06-30 in Asia/Shanghai: until 2027-07-01 00:00 +08:00
    assert parse_expiry("2027-06-30", now) == datetime(2027, 6, 30, 16, 0, tzinfo=UTC)
    for bad, message in (("2026-11-01", "not in the future"), ("soon", "number of days")):
        with pytest.raises(ValueError, match=message):
            parse_expiry(bad, now)


def test_migration_from_0007_keeps_accounts_and_adds_the_hotline_role(database_url):
    engine = eng.make_engine(database_url)
    try:
        eng.upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (username, password_hash, role, active) "
                    "VALUES ('li', 'h', 'worker', true)"
                )
            )
        assert eng.upgrade(engine) == eng.head_revision()
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT session_version, area FROM users")).one()
            roles = set(conn.scalars(sa.text("SELECT name FROM roles")))
        assert tuple(row) == (1, None) and "hotline" in roles
        eng.downgrade(engine, "0007")
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT username FROM users")) == "li"
            assert "hotline" not in set(conn.scalars(sa.text("SELECT name FROM roles")))
        assert "login_failures" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
