"""Accounts: ``gridmgmt users add|list|reset|department`` and ``gridmgmt apikey add``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command

ROLES = ("admin", "supervisor", "dept", "worker", "analyst")


@click.group()
def users():
    """Accounts and roles."""


@command("add", users)
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", help="Display name, e.g. 张三.")
@click.option(
    "--grid",
    "grid_codes",
    multiple=True,
    help="Grid code a worker is responsible for (repeatable).",
)
@click.option("--department", help="Department a dept account works for, e.g. 环卫所.")
@click.password_option(help="Password (asked for when not given).")
def users_add(obj: Context, username, role, display_name, grid_codes, department, password):
    """Create an account."""
    from gridmgmt.domain.accounts import create_user

    if grid_codes and role != "worker":
        raise click.UsageError("only grid workers (--role worker) are bound to grids (--grid)")
    if department and role != "dept":
        raise click.UsageError("only department handlers (--role dept) have a --department")

    create_user(
        obj.store, username, password, role, display_name=display_name, grid_codes=grid_codes
    )
    if department:
        from gridmgmt.domain.accounts import bind_department
        from gridmgmt.store.accounts import AccountStore

        bind_department(AccountStore(obj.store), username, role, department)
    click.echo(f"created {role} {username}" + (f" ({department})" if department else ""))


@command("list", users)
def users_list(obj: Context):
    """List accounts (never passwords)."""
    frame = obj.store.users()
    if frame.empty:
        click.echo("no accounts")
        return
    from gridmgmt.store.accounts import AccountStore

    departments = AccountStore(obj.store).departments()
    for row in frame.itertuples():
        scope = ", ".join(row.grid_codes) or departments.get(row.id, "")
        click.echo(f"{row.username:<16} {row.role:<11} {row.display_name or '':<10} {scope}")


@command("reset", users)
@click.argument("username")
@click.option(
    "--generate", is_flag=True, help="Generate a random password and print it (no prompt)."
)
@click.option("--password", help="The new password (asked for twice when neither is given).")
def users_reset(obj: Context, username, generate, password):
    """Give USERNAME a new password: prompted, given, or generated and printed once."""
    from gridmgmt.domain.accounts import reset_password
    from gridmgmt.store.accounts import AccountStore

    if generate and password:
        raise click.UsageError("give either --generate or --password, not both")
    if obj.store.user(username=username) is None:
        raise click.ClickException(f"no user {username!r} (see: gridmgmt users list)")
    if not generate and password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    new = reset_password(AccountStore(obj.store), username, None if generate else password)
    click.echo(f"password of {username} reset")
    if generate:
        click.echo(f"new password: {new}")


@command("department", users)
@click.argument("username")
@click.argument("department", required=False)
@click.option("--clear", is_flag=True, help="Unbind: the handler sees every department's cases.")
def users_department(obj: Context, username, department, clear):
    """Bind the dept account USERNAME to DEPARTMENT (its cases only on the 部门处置 page)."""
    from gridmgmt.domain.accounts import bind_department
    from gridmgmt.store.accounts import AccountStore

    if bool(department) == clear:
        raise click.UsageError("give a DEPARTMENT or --clear")
    row = obj.store.user(username=username)
    if row is None:
        raise click.ClickException(f"no user {username!r} (see: gridmgmt users list)")
    bind_department(AccountStore(obj.store), username, row["role"], None if clear else department)
    click.echo(f"{username}: " + ("every department" if clear else department))


@click.group()
def apikey():
    """API keys for machine clients (Open311, OGC API, hotline imports)."""


@command("add", apikey)
@click.argument("client")
@click.option("--role", default="analyst", show_default=True, type=click.Choice(ROLES))
def apikey_add(obj: Context, client, role):
    """Create a key for CLIENT and print it (it is shown only once)."""
    from gridmgmt.domain.accounts import create_api_key

    click.echo(create_api_key(obj.store, client, role))
