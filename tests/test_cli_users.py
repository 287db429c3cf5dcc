"""``gridmgmt users add/list/reset``: accounts from the command line, passwords never listed."""

from __future__ import annotations

import re

from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.domain.accounts import verify_password
from gridmgmt.store.repository import Store


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def stored_hash(workdir, username):
    store = Store(f"sqlite:///{workdir / 'gridmgmt.db'}")
    try:
        return store.user(username=username)["password_hash"]
    finally:
        store.dispose()


def test_users_list_empty_and_add_refuses_grids_for_non_workers(tmp_path):
    w = str(tmp_path)
    assert run("users", "list", "--workdir", w).output.strip() == "no accounts"
    bad = run(
        "users", "add", "wang", "--role", "analyst", "--grid", "340705001001001",
        "--password", "pass-word-1", "--workdir", w,
    )  # fmt: skip
    assert bad.exit_code == 2 and "only grid workers" in bad.output
    assert run("users", "list", "--workdir", w).output.strip() == "no accounts"


def test_users_reset_generated_given_and_prompted(tmp_path):
    w = str(tmp_path)
    ok = run("users", "add", "li", "--role", "dept", "--password", "pass-word-1", "--workdir", w)
    assert ok.exit_code == 0, ok.output
    generated = run("users", "reset", "li", "--generate", "--workdir", w)
    assert generated.exit_code == 0, generated.output
    new = re.search(r"new password: (\S+)", generated.output).group(1)
    assert len(new) >= 8 and verify_password(stored_hash(tmp_path, "li"), new)
    assert not verify_password(stored_hash(tmp_path, "li"), "pass-word-1")

    given = run("users", "reset", "li", "--password", "another-pass", "--workdir", w)
    assert given.exit_code == 0 and "another-pass" not in given.output
    assert verify_password(stored_hash(tmp_path, "li"), "another-pass")

    prompted = run("users", "reset", "li", "--workdir", w, input="typed-pass-1\ntyped-pass-1\n")
    assert prompted.exit_code == 0, prompted.output
    assert verify_password(stored_hash(tmp_path, "li"), "typed-pass-1")
    assert "typed-pass-1" not in run("users", "list", "--workdir", w).output


def test_users_reset_errors_leave_the_password(tmp_path):
    w = str(tmp_path)
    run("users", "add", "li", "--role", "worker", "--password", "pass-word-1", "--workdir", w)
    before = stored_hash(tmp_path, "li")
    unknown = run("users", "reset", "nobody", "--generate", "--workdir", w)
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output
    short = run("users", "reset", "li", "--password", "short", "--workdir", w)
    assert short.exit_code == 1 and "at least 8" in short.output
    both = run("users", "reset", "li", "--password", "pass-word-2", "--generate", "--workdir", w)
    assert both.exit_code == 2
    mismatch = run("users", "reset", "li", "--workdir", w, input="aaaaaaaa1\nbbbbbbbb2\n" * 1)
    assert mismatch.exit_code != 0
    assert stored_hash(tmp_path, "li") == before


def test_users_department_binding(tmp_path):
    w = str(tmp_path)
    ok = run(
        "users", "add", "li", "--role", "dept", "--department", "环卫所",
        "--password", "pass-word-1", "--workdir", w,
    )  # fmt: skip
    assert ok.exit_code == 0 and "(环卫所)" in ok.output, ok.output
    assert re.search(r"li\s+dept\s+.*环卫所", run("users", "list", "--workdir", w).output)
    bad = run(
        "users", "add", "wang", "--role", "worker", "--department", "环卫所",
        "--password", "pass-word-1", "--workdir", w,
    )  # fmt: skip
    assert bad.exit_code == 2 and "only department handlers" in bad.output
    moved = run("users", "department", "li", "城管执法中队", "--workdir", w)
    assert moved.exit_code == 0 and "城管执法中队" in run("users", "list", "--workdir", w).output
    cleared = run("users", "department", "li", "--clear", "--workdir", w)
    assert (
        cleared.exit_code == 0 and "城管执法中队" not in run("users", "list", "--workdir", w).output
    )
    assert run("users", "department", "li", "--workdir", w).exit_code == 2
    assert run("users", "department", "nobody", "环卫所", "--workdir", w).exit_code == 1
