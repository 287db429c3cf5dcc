"""Errors the domain raises; the CLI and web app turn them into messages and exit codes."""


class GridmgmtError(Exception):
    """Base class of gridmgmt's expected errors (bad input, conflicts, missing objects)."""


class ConflictError(GridmgmtError):
    """The change collides with stored state (existing ids, a newer version)."""


class NotFoundError(GridmgmtError, LookupError):
    """A named object (社区, grid, user...) does not exist."""


class ForbiddenError(GridmgmtError, PermissionError):
    """The role may not see or do this."""
