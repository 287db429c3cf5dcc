"""What every command shares: the invocation context, ``--workdir`` and clean error exits.

:func:`command` declares a subcommand: it adds ``--workdir``, passes the
:class:`Context` as first argument and turns expected failures (domain
errors, ``ValueError``, missing files) into one-line messages with exit
status 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click


class Context:
    """Lazily resolved settings and store for one invocation."""

    def __init__(self, workdir: str | None = None):
        self.workdir = workdir
        self._store = None

    @property
    def settings(self):
        """The resolved :class:`gridmgmt.config.Settings` of the instance directory."""
        from gridmgmt.config import resolve_settings

        return resolve_settings(self.workdir)

    @property
    def store(self):
        """The :class:`gridmgmt.store.repository.Store`, opened on first use."""
        if self._store is None:
            from gridmgmt.store.repository import Store

            self._store = Store(self.settings.database_url)
        return self._store


def _set_workdir(ctx: click.Context, _param, value):
    if value is not None:
        ctx.ensure_object(Context).workdir = value
    return value


workdir_option = click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    expose_value=False,
    callback=_set_workdir,
    is_eager=True,
    help="Instance directory (database, uploads, maps); overrides GRIDMGMT_HOME.",
)


def command(
    name: str, group: click.Group | None = None, **kwargs
) -> Callable[[Callable], click.Command]:
    """A command with ``--workdir`` whose expected errors become clean messages.

    Parameters
    ----------
    name : str
        The command's name on the command line.
    group : click.Group, optional
        The group it belongs to; a stand-alone command (added to the root
        group by :mod:`gridmgmt.cli.root`) when omitted.
    **kwargs
        Passed to :func:`click.command`.

    Returns
    -------
    callable
        A decorator turning ``func(obj: Context, ...)`` into the command.
    """
    make = group.command if group is not None else click.command

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*a, **kw):
            from gridmgmt.domain.errors import GridmgmtError

            try:
                return func(*a, **kw)
            except (GridmgmtError, ValueError, FileNotFoundError) as err:
                raise click.ClickException(str(err)) from err

        return make(name, **kwargs)(workdir_option(click.pass_obj(wrapper)))

    return decorate
