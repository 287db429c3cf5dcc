"""``gridmgmt apikey add|list|revoke``: expiring keys, listed without the key, revoked by prefix or id."""

from __future__ import annotations

import re

from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.cli.accounts import KEY_ROLES, ROLES
from gridmgmt.domain import accounts
from gridmgmt.domain.accounts import api_key_client
from gridmgmt.store.repository import Store


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def client_of(workdir, key):
    store = Store(f"sqlite:///{workdir / 'gridmgmt.db'}")
    try:
        return api_key_client(store, key)
    finally:
        store.dispose()


def test_cli_roles_are_the_domain_roles():
    assert ROLES == accounts.USER_ROLES and accounts.KEY_ROLES == KEY_ROLES


def test_add_with_expiry_list_and_revoke(tmp_path):
    w = str(tmp_path)
    assert run("apikey", "list", "--workdir", w).output.strip() == "no API keys"
    hotline = run(
        "apikey", "add", "12345热线", "--role", "hotline", "--expires", "90d", "--workdir", w
    ).output.strip()
    dated = run("apikey", "add", "qgis", "--expires", "2099-06-30", "--workdir", w).output.strip()
    forever = run("apikey", "add", "report-app", "--workdir", w).output.strip()
    assert client_of(tmp_path, hotline)["role"] == "hotline"

    listed = run("apikey", "list", "--workdir", w).output
    for key in (hotline, dated, forever):
        assert key not in listed and key[:10] in listed
    lines = listed.splitlines()
    assert re.search(
        r"1\s+12345热线\s+hotline\s+gm_\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}", lines[1]
    )
    assert "2099-07-01 00:00" in lines[2] and "analyst" in lines[2]  # through 30 June, Shanghai
    assert lines[3].split()[-2:] == ["-", "active"]

    revoked = run("apikey", "revoke", hotline[:10], "--workdir", w)
    assert revoked.exit_code == 0 and "revoked key 1" in revoked.output
    assert client_of(tmp_path, hotline) is None
    assert run("apikey", "revoke", "2", "--workdir", w).exit_code == 0
    assert client_of(tmp_path, dated) is None and client_of(tmp_path, forever) is not None
    states = [
        line.split()[-1] for line in run("apikey", "list", "--workdir", w).output.splitlines()
    ]
    assert states[1:] == ["revoked", "revoked", "active"]


def test_bad_expiry_and_unknown_key(tmp_path):
    w = str(tmp_path)
    for bad in ("soon", "2020-01-01"):
        out = run("apikey", "add", "x", "--expires", bad, "--workdir", w)
        assert out.exit_code == 2 and "--expires" in out.output
    assert run("apikey", "list", "--workdir", w).output.strip() == "no API keys"
    unknown = run("apikey", "revoke", "gm_nothing", "--workdir", w)
    assert unknown.exit_code == 1 and "no API key" in unknown.output
    assert run("apikey", "add", "x", "--role", "boss", "--workdir", w).exit_code == 2
