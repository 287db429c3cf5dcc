"""Accounts: ``gridmgmt users …`` and API keys: ``gridmgmt apikey add|list|revoke``.

Every change of what an account may do (password, role, area, department,
disabling) ends the account's sessions: its browsers have to log in again.
"""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command

#: roles of accounts (people); :data:`gridmgmt.domain.accounts.USER_ROLES`
ROLES = ("admin", "supervisor", "dept", "worker", "analyst", "building_head", "informant")
#: roles of API clients; :data:`gridmgmt.domain.accounts.KEY_ROLES`
KEY_ROLES = ("admin", "supervisor", "dept", "worker", "analyst", "hotline")
#: the volunteers' roles may be typed in Chinese: ``--role 信息员``
ROLE_NAMES = {"楼栋长": "building_head", "信息员": "informant"}
#: roles bound to grids with ``--grid``
GRID_ROLES = ("worker", "building_head", "informant")
AREA_HELP = "Area the account is bound to: a 6-digit 区, 9-digit 街道 or 12-digit 社区 code."


@click.group()
def users():
    """Accounts and roles."""


def _existing_user(obj: Context, username: str) -> dict:
    row = obj.store.user(username=username)
    if row is None:
        raise click.ClickException(f"no user {username!r} (see: gridmgmt users list)")
    return row


def _accounts(obj: Context):
    from gridmgmt.store.accounts import AccountStore

    return AccountStore(obj.store)


@command("add", users)
@click.argument("username")
@click.option("--role", required=True, type=click.Choice((*ROLES, *ROLE_NAMES)))
@click.option("--name", "display_name", help="Display name, e.g. 张三.")
@click.option(
    "--grid",
    "grid_codes",
    multiple=True,
    help="Grid code a worker, 楼栋长 or 信息员 is responsible for (repeatable).",
)
@click.option("--department", help="Department a dept account works for, e.g. 环卫所.")
@click.option("--area", help=AREA_HELP)
@click.password_option(help="Password (asked for when not given).")
def users_add(obj: Context, username, role, display_name, grid_codes, department, area, password):
    """Create an account."""
    from gridmgmt.domain.accounts import bind_department, create_user, validate_area

    role = ROLE_NAMES.get(role, role)
    if grid_codes and role not in GRID_ROLES:
        raise click.UsageError(
            "only grid workers, 楼栋长 and 信息员 (--role worker|building_head|informant)"
            " are bound to grids (--grid)"
        )
    if department and role != "dept":
        raise click.UsageError("only department handlers (--role dept) have a --department")
    try:
        area = validate_area(area)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--area") from None

    create_user(
        obj.store,
        username,
        password,
        role,
        display_name=display_name,
        grid_codes=grid_codes,
        area=area,
    )
    if department:
        bind_department(_accounts(obj), username, role, department)
    scope = ", ".join(filter(None, [department, area and f"area {area}"]))
    click.echo(f"created {role} {username}" + (f" ({scope})" if scope else ""))


@command("list", users)
def users_list(obj: Context):
    """List accounts (never passwords): role, name, grids or department, area, disabled."""
    frame = obj.store.users()
    if frame.empty:
        click.echo("no accounts")
        return
    departments = _accounts(obj).departments()
    for row in frame.itertuples():
        scope = ", ".join(row.grid_codes) or departments.get(row.id, "")
        extra = "".join(
            [f"  area {row.area}" if row.area else "", "" if row.active else "  (disabled)"]
        )
        click.echo(f"{row.username:<16} {row.role:<11} {row.display_name or '':<10} {scope}{extra}")


@command("reset", users)
@click.argument("username")
@click.option(
    "--generate", is_flag=True, help="Generate a random password and print it (no prompt)."
)
@click.option("--password", help="The new password (asked for twice when neither is given).")
def users_reset(obj: Context, username, generate, password):
    """Give USERNAME a new password: prompted, given, or generated and printed once.

    Ends USERNAME's sessions.
    """
    from gridmgmt.domain.accounts import reset_password

    if generate and password:
        raise click.UsageError("give either --generate or --password, not both")
    _existing_user(obj, username)
    if not generate and password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    new = reset_password(_accounts(obj), username, None if generate else password)
    click.echo(f"password of {username} reset")
    if generate:
        click.echo(f"new password: {new}")


@command("role", users)
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def users_role(obj: Context, username, role):
    """Give USERNAME the role ROLE; ends its sessions.

    A former grid worker loses its grids, a former department handler its
    department.
    """
    from gridmgmt.domain.accounts import change_role

    _existing_user(obj, username)
    unbound = change_role(_accounts(obj), username, role)
    click.echo(f"{username}: {role}" + (f" (unbound: {'; '.join(unbound)})" if unbound else ""))


@command("disable", users)
@click.argument("username")
def users_disable(obj: Context, username):
    """Disable USERNAME: its sessions end and it cannot log in (until `users enable`)."""
    from gridmgmt.domain.accounts import set_active

    set_active(_accounts(obj), username, False)
    click.echo(f"{username} disabled")


@command("enable", users)
@click.argument("username")
def users_enable(obj: Context, username):
    """Enable USERNAME again."""
    from gridmgmt.domain.accounts import set_active

    set_active(_accounts(obj), username, True)
    click.echo(f"{username} enabled")


@command("logout", users)
@click.argument("username")
def users_logout(obj: Context, username):
    """End every session of USERNAME (e.g. a lost phone); its password stays."""
    from gridmgmt.domain.accounts import end_sessions

    end_sessions(_accounts(obj), username)
    click.echo(f"sessions of {username} ended")


@command("area", users)
@click.argument("username")
@click.argument("area", required=False)
@click.option("--clear", is_flag=True, help="Unbind: the account reaches the whole deployment.")
def users_area(obj: Context, username, area, clear):
    """Bind USERNAME to AREA (a 区, 街道 or 社区 code): it sees only that area.

    Ends USERNAME's sessions.
    """
    from gridmgmt.domain.accounts import bind_area

    if bool(area) == clear:
        raise click.UsageError("give an AREA code or --clear")
    _existing_user(obj, username)
    stored = bind_area(_accounts(obj), username, None if clear else area)
    click.echo(f"{username}: " + (f"area {stored}" if stored else "whole deployment"))


@command("department", users)
@click.argument("username")
@click.argument("department", required=False)
@click.option("--clear", is_flag=True, help="Unbind: the handler sees every department's cases.")
def users_department(obj: Context, username, department, clear):
    """Bind the dept account USERNAME to DEPARTMENT (its cases only on the 部门处置 page)."""
    from gridmgmt.domain.accounts import bind_department

    if bool(department) == clear:
        raise click.UsageError("give a DEPARTMENT or --clear")
    row = _existing_user(obj, username)
    bind_department(_accounts(obj), username, row["role"], None if clear else department)
    click.echo(f"{username}: " + ("every department" if clear else department))


@click.group()
def apikey():
    """API keys for machine clients (Open311, OGC API, hotline imports)."""


@command("add", apikey)
@click.argument("client")
@click.option("--role", default="analyst", show_default=True, type=click.Choice(KEY_ROLES))
@click.option(
    "--expires",
    help="When the key stops working: days from now (90d) or a last day (2027-06-30).",
)
def apikey_add(obj: Context, client, role, expires):
    """Create a key for CLIENT and print it (it is shown only once)."""
    from gridmgmt.domain.accounts import create_api_key, parse_expiry

    try:
        expires_at = parse_expiry(expires) if expires else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--expires") from None
    click.echo(create_api_key(obj.store, client, role, expires_at=expires_at))


def _when(value) -> str:
    from gridmgmt.core.periods import SHANGHAI

    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


@command("list", apikey)
def apikey_list(obj: Context):
    """List keys: id, client, role, prefix, created, expires, state (never the key)."""
    from datetime import UTC, datetime

    keys = obj.store.api_keys()
    if not keys:
        click.echo("no API keys")
        return
    now = datetime.now(UTC)
    click.echo(
        f"{'id':>4}  {'client':<20} {'role':<11} {'prefix':<11} "
        f"{'created':<16}  {'expires':<16}  state"
    )
    for k in keys:
        created = k["created_at"]
        if created is not None and created.tzinfo is None:  # SQLite returns naive UTC
            created = created.replace(tzinfo=UTC)
        expired = k["expires_at"] is not None and k["expires_at"] <= now
        state = "revoked" if not k["active"] else ("expired" if expired else "active")
        click.echo(
            f"{k['id']:>4}  {k['client']:<20} {k['role']:<11} {k['prefix']:<11} "
            f"{_when(created):<16}  {_when(k['expires_at']):<16}  {state}"
        )


@command("revoke", apikey)
@click.argument("ref", metavar="PREFIX|ID")
def apikey_revoke(obj: Context, ref):
    """Revoke the key with this prefix (gm_…, see `apikey list`) or id; it stops working."""
    from gridmgmt.domain.accounts import revoke_api_key

    key = revoke_api_key(obj.store, ref)
    click.echo(f"revoked key {key['id']} ({key['prefix']}…) of {key['client']}")
