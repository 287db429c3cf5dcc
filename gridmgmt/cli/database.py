"""``gridmgmt db upgrade|current`` (Alembic migrations) and ``gridmgmt status``."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command


def _safe_url(url: str) -> str:
    from gridmgmt.store.engine import display_url

    return display_url(url)


@click.group()
def db():
    """Database schema (Alembic migrations)."""


@command("upgrade", db)
@click.argument("revision", default="head")
def db_upgrade(obj: Context, revision: str):
    """Apply migrations up to REVISION (default: head)."""
    from gridmgmt.store.engine import make_engine, upgrade

    settings = obj.settings
    engine = make_engine(settings.database_url)
    reached = upgrade(engine, revision)
    click.echo(f"database {_safe_url(settings.database_url)} at revision {reached}")


@command("current", db)
def db_current(obj: Context):
    """Show the database's revision and the newest one available."""
    from gridmgmt.store.engine import current_revision, head_revision, make_engine

    engine = make_engine(obj.settings.database_url)
    click.echo(f"current: {current_revision(engine) or '(empty)'}  head: {head_revision()}")


@command("status")
def status(obj: Context):
    """What the database holds."""
    click.echo(f"instance: {obj.settings.instance_dir}")
    click.echo(f"database: {_safe_url(obj.settings.database_url)}")
    for name, count in obj.store.counts().items():
        click.echo(f"  {name:<12} {count:>10,}")
