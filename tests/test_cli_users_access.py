"""``gridmgmt users role|disable|enable|logout|area`` and ``users add --area``."""

from __future__ import annotations

import re

from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.store.repository import Store


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stored(workdir, username):
    store = Store(f"sqlite:///{workdir / 'gridmgmt.db'}")
    try:
        return store.user(username=username)
    finally:
        store.dispose()


def add(w, username, role, *extra):
    out = run("users", "add", username, "--role", role, "--password", "pass-word-1", *extra,
              "--workdir", w)  # fmt: skip
    assert out.exit_code == 0, out.output
    return out


def test_area_on_add_and_later(tmp_path):
    w = str(tmp_path)
    assert "(area 340705001)" in add(w, "zhou", "supervisor", "--area", "340705001").output
    assert stored(tmp_path, "zhou")["area"] == "340705001"
    assert re.search(
        r"zhou\s+supervisor.*area 340705001", run("users", "list", "--workdir", w).output
    )
    bad = run("users", "add", "x", "--role", "admin", "--area", "3407", "--password", "pass-word-1",
              "--workdir", w)  # fmt: skip
    assert bad.exit_code == 2 and "12-digit 社区" in bad.output
    assert stored(tmp_path, "x") is None

    moved = run("users", "area", "zhou", "340705001001", "--workdir", w)
    assert moved.exit_code == 0 and stored(tmp_path, "zhou")["area"] == "340705001001"
    wrong = run("users", "area", "zhou", "abc", "--workdir", w)
    assert wrong.exit_code == 1 and "6-digit 区" in wrong.output
    cleared = run("users", "area", "zhou", "--clear", "--workdir", w)
    assert cleared.exit_code == 0 and "whole deployment" in cleared.output
    assert stored(tmp_path, "zhou")["area"] is None
    assert "area" not in run("users", "list", "--workdir", w).output
    assert run("users", "area", "zhou", "--workdir", w).exit_code == 2
    assert run("users", "area", "nobody", "340705", "--workdir", w).exit_code == 1


def test_role_change_unbinds_and_ends_sessions(tmp_path):
    w = str(tmp_path)
    add(w, "li", "worker", "--grid", "340705001001001")
    changed = run("users", "role", "li", "analyst", "--workdir", w)
    assert changed.exit_code == 0 and "unbound: grids 340705001001001" in changed.output
    row = stored(tmp_path, "li")
    assert (row["role"], row["grid_codes"], row["session_version"]) == ("analyst", [], 2)
    assert run("users", "role", "li", "hotline", "--workdir", w).exit_code == 2
    assert run("users", "role", "nobody", "admin", "--workdir", w).exit_code == 1


def test_disable_enable_and_logout(tmp_path):
    w = str(tmp_path)
    add(w, "li", "dept")
    assert run("users", "disable", "li", "--workdir", w).output.strip() == "li disabled"
    row = stored(tmp_path, "li")
    assert row["active"] is False and row["session_version"] == 2
    assert re.search(r"li\s+dept.*\(disabled\)", run("users", "list", "--workdir", w).output)
    assert run("users", "enable", "li", "--workdir", w).exit_code == 0
    assert stored(tmp_path, "li")["active"] is True
    assert "disabled" not in run("users", "list", "--workdir", w).output
    assert run("users", "logout", "li", "--workdir", w).output.strip() == "sessions of li ended"
    assert stored(tmp_path, "li")["session_version"] == 4
    assert run("users", "disable", "nobody", "--workdir", w).exit_code == 1
