"""The ``gridmgmt`` command.

Every subcommand takes ``--workdir DIR`` (the instance directory holding the
default SQLite database, uploads and generated maps; see
:mod:`gridmgmt.config`). Expected failures (bad input, conflicts, unknown
names) print one clear message and exit with status 1; bad usage exits 2.

One module per command group (:mod:`~gridmgmt.cli.accounts`,
:mod:`~gridmgmt.cli.incidents`, ...), assembled in :mod:`gridmgmt.cli.root`;
shared pieces in :mod:`~gridmgmt.cli.context` (``--workdir``, the
``command`` decorator), :mod:`~gridmgmt.cli.options` (shared options, the
period) and :mod:`~gridmgmt.cli.tables` (number formatting of printed tables).
"""

from gridmgmt.cli.root import main

__all__ = ["main"]
