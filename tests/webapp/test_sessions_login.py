"""Sessions that end, log-in throttling, trusted proxies and where API keys are accepted."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gridmgmt.domain.accounts import (
    change_role,
    create_api_key,
    create_user,
    end_sessions,
    reset_password,
    set_active,
)
from gridmgmt.store.accounts import AccountStore
from tests.webapp.sessions import PASSWORD, csrf_token, login

BACKENDS = pytest.mark.parametrize("app", ["sqlite", "postgis"], indirect=True)


def store_of(app):
    return app.extensions["gridmgmt_store"]


def logged_in_cookie(client, username: str) -> str:
    """Log ``username`` in and return its session cookie's value."""
    assert login(client, username).status_code == 302
    return client.get_cookie("session").value


def replay(app, cookie: str, name: str = "session"):
    """A fresh client presenting only the captured cookie."""
    other = app.test_client()
    other.set_cookie(name, cookie)
    return other


def assert_session_dead(app, cookie: str, name: str = "session"):
    stale = replay(app, cookie, name)
    page = stale.get("/map")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert stale.get("/api/v1/areas").status_code == 401


@BACKENDS
def test_captured_cookie_is_dead_after_logout(app, client):
    cookie = logged_in_cookie(client, "supervisor")
    assert replay(app, cookie).get("/map").status_code == 200  # the capture works
    assert (
        client.post("/logout", data={"csrf_token": csrf_token(client, "/map")}).status_code == 302
    )
    assert_session_dead(app, cookie)
    assert login(client, "supervisor").status_code == 302  # logging in again works
    assert client.get("/map").status_code == 200


def test_logout_ends_the_sessions_on_every_device(app, client):
    phone = app.test_client()
    assert login(phone, "worker").status_code == 302
    cookie = logged_in_cookie(client, "worker")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/map")})
    assert phone.get("/map").status_code == 302
    assert_session_dead(app, cookie)


@BACKENDS
@pytest.mark.parametrize(
    "change",
    [
        lambda accounts: reset_password(accounts, "analyst", "new-pass-word"),
        lambda accounts: set_active(accounts, "analyst", False),
        lambda accounts: change_role(accounts, "analyst", "supervisor"),
        lambda accounts: end_sessions(accounts, "analyst"),
    ],
    ids=["password-reset", "disable", "role-change", "end-sessions"],
)
def test_account_changes_end_its_sessions(app, client, change):
    cookie = logged_in_cookie(client, "analyst")
    other = logged_in_cookie(app.test_client(), "admin")
    change(AccountStore(store_of(app)))
    assert_session_dead(app, cookie)
    assert replay(app, other).get("/map").status_code == 200  # other accounts keep theirs


def test_disabled_account_cannot_log_in_until_enabled(app, client):
    accounts = AccountStore(store_of(app))
    set_active(accounts, "dept", False)
    assert login(client, "dept").status_code == 401
    set_active(accounts, "dept", True)
    assert login(client, "dept").status_code == 302


def test_remember_cookie_with_a_stale_version_is_refused(app):
    from flask_login.utils import encode_cookie

    from webapp.auth import Account

    store = store_of(app)
    with app.test_request_context():
        remember = encode_cookie(Account(store.user(username="admin")).get_id())
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    assert replay(app, remember, name).get("/map").status_code == 200
    end_sessions(AccountStore(store), "admin")
    assert_session_dead(app, remember, name)


def test_cookie_without_a_version_is_refused(app):
    """A cookie in the old ``"<id>"`` form (from before versions) needs a new log-in."""
    from flask.sessions import SecureCookieSessionInterface

    user_id = store_of(app).user(username="admin")["id"]
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    old = serializer.dumps({"_user_id": str(user_id), "_fresh": True})
    assert_session_dead(app, old)


@BACKENDS
def test_locked_account_unlocks_after_its_backoff(client):
    assert [login(client, "analyst", "bad-password").status_code for _ in range(5)] == [401] * 5
    locked = login(client, "analyst")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert login(client, "analyst").status_code == 302  # and the count starts over:
    assert [login(client, "analyst", "bad-password").status_code for _ in range(4)] == [401] * 4
    assert login(client, "analyst").status_code == 302


def test_locked_answer_is_english_when_asked(client):
    for _ in range(5):
        login(client, "admin", "bad-password")
    client.get("/login?lang=en")
    locked = login(client, "admin")
    assert locked.status_code == 429
    assert "Too many login attempts" in locked.get_data(as_text=True)


def timed_login(client, username: str, password: str) -> float:
    token = csrf_token(client)
    start = time.perf_counter()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 401
    return elapsed


def test_unknown_usernames_cost_the_same_password_check(client):
    known_accounts = ["admin", "supervisor", "dept", "worker", "analyst"] * 2  # none gets locked
    known, unknown = [], []
    for i, name in enumerate(known_accounts):
        known.append(timed_login(client, name, "wrong-password"))
        unknown.append(timed_login(client, f"nobody{i}", "wrong-password"))
    assert statistics.median(unknown) >= 0.5 * statistics.median(known)


def failure_keys(app) -> set[str]:
    with store_of(app).engine.connect() as conn:
        return set(conn.scalars(sa.text("SELECT key FROM login_failures")))


def post_login_from(client, forwarded_for: str):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": "admin", "password": "bad-password", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )


def test_forwarded_for_is_ignored_without_trusted_proxies(app, client):
    assert post_login_from(client, "203.0.113.5").status_code == 401
    assert failure_keys(app) == {"address:10.9.8.7", "account:admin"}


def test_forwarded_for_is_the_client_behind_trusted_proxies(tmp_path, monkeypatch):
    from webapp import create_app

    monkeypatch.setenv("GRIDMGMT_TRUSTED_PROXIES", "1")
    app = create_app(str(tmp_path), TESTING=True)
    create_user(store_of(app), "admin", PASSWORD, "admin")
    client = app.test_client()
    try:
        # one trusted proxy: the last entry it appended is the client, earlier ones are not
        assert post_login_from(client, "198.51.100.1, 203.0.113.5").status_code == 401
        assert failure_keys(app) == {"address:203.0.113.5", "account:admin"}
    finally:
        store_of(app).dispose()


def test_trusted_proxies_must_be_a_number(tmp_path):
    from webapp import create_app

    with pytest.raises(ValueError, match="GRIDMGMT_TRUSTED_PROXIES"):
        create_app(str(tmp_path), GRIDMGMT_TRUSTED_PROXIES="yes")


def test_key_in_the_query_string_only_on_open311(app, client):
    key = create_api_key(store_of(app), "12345热线", "hotline")
    assert client.get(f"/open311/v2/services.json?api_key={key}").status_code == 200
    assert client.get("/open311/v2/services.json", headers={"X-API-Key": key}).status_code == 200
    assert client.get(f"/api/v1/areas?api_key={key}").status_code == 401
    assert client.get(f"/ogcapi/collections?api_key={key}").status_code == 401


@BACKENDS
def test_expired_and_revoked_keys_are_refused(app, client):
    from gridmgmt.domain.accounts import revoke_api_key

    store = store_of(app)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    expiring = create_api_key(store, "tmp", "analyst", expires_at=soon)
    assert client.get("/api/v1/areas", headers={"X-API-Key": expiring}).status_code == 200
    time.sleep(1.1)
    assert client.get("/api/v1/areas", headers={"X-API-Key": expiring}).status_code == 401
    kept = create_api_key(store, "qgis", "analyst")
    assert client.get("/api/v1/areas", headers={"X-API-Key": kept}).status_code == 200
    revoke_api_key(store, kept[:10])
    assert client.get("/api/v1/areas", headers={"X-API-Key": kept}).status_code == 401


def test_area_reaches_the_principal(app, as_role):
    from gridmgmt.domain.accounts import bind_area

    bind_area(AccountStore(store_of(app)), "supervisor", "340705001")
    client = as_role("supervisor")
    with app.test_request_context():
        from flask_login import login_user

        from webapp.auth import Account, current_principal

        login_user(Account(store_of(app).user(username="supervisor")))
        assert current_principal().area == "340705001"
    assert client.get("/map").status_code == 200
