"""Where gridmgmt keeps its state, from environment variables with embedded defaults.

The *instance directory* holds the default SQLite database, uploaded files
and generated maps. It is, in order of precedence:

1. the ``--workdir DIR`` option of any ``gridmgmt`` command,
2. the ``GRIDMGMT_HOME`` environment variable,
3. a per-user data directory (``platformdirs.user_data_dir("gridmgmt")``,
   e.g. ``~/.local/share/gridmgmt`` on Linux).

The database is ``sqlite:///<instance>/gridmgmt.db`` unless
``GRIDMGMT_DATABASE_URL`` names another, e.g.
``postgresql+psycopg://user:pass@host/db`` for PostGIS.

The household band of a residential grid (250–500 by the policy texts) is
``GRIDMGMT_MIN_HOUSEHOLDS`` / ``GRIDMGMT_MAX_HOUSEHOLDS`` where a city
sets another; the web app's maps, editor and checks all read it from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_HOME = "GRIDMGMT_HOME"
ENV_DATABASE_URL = "GRIDMGMT_DATABASE_URL"
ENV_MIN_HOUSEHOLDS = "GRIDMGMT_MIN_HOUSEHOLDS"
ENV_MAX_HOUSEHOLDS = "GRIDMGMT_MAX_HOUSEHOLDS"
DATABASE_FILENAME = "gridmgmt.db"
#: households per residential grid, by the policy texts (250 < households <= 500)
DEFAULT_BAND = (250, 500)


@dataclass(frozen=True)
class Settings:
    """Resolved locations for one process."""

    instance_dir: Path
    database_url: str
    band: tuple[int, int] = DEFAULT_BAND

    @property
    def uploads_dir(self) -> Path:
        return uploads_dir(self.instance_dir)

    @property
    def maps_dir(self) -> Path:
        return self.instance_dir / "maps"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_instance_dir() -> Path:
    """The per-user data directory used when nothing else is configured."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("gridmgmt", appauthor=False))


def resolve_settings(workdir: str | os.PathLike | None = None) -> Settings:
    """Resolve the instance directory and database URL (see module docstring).

    Parameters
    ----------
    workdir : path-like, optional
        Explicit instance directory (the ``--workdir`` option); wins over
        ``GRIDMGMT_HOME``.
    """
    if workdir is not None:
        instance = Path(workdir)
    elif os.environ.get(ENV_HOME):
        instance = Path(os.environ[ENV_HOME])
    else:
        instance = default_instance_dir()
    instance = instance.expanduser().resolve()
    url = os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{instance / DATABASE_FILENAME}"
    return Settings(instance_dir=instance, database_url=url, band=household_band())


def household_band() -> tuple[int, int]:
    """The (min, max) households of a residential grid from the environment, else 250–500.

    Raises
    ------
    ValueError
        A value that is not a positive whole number, or a minimum not below the maximum.
    """
    values = []
    for name, default in zip((ENV_MIN_HOUSEHOLDS, ENV_MAX_HOUSEHOLDS), DEFAULT_BAND, strict=True):
        text = os.environ.get(name, "").strip()
        try:
            value = int(text) if text else default
        except ValueError:
            raise ValueError(f"{name} must be a whole number of households, not {text!r}") from None
        if value <= 0:
            raise ValueError(f"{name} must be positive, not {value}")
        values.append(value)
    lo, hi = values
    if lo >= hi:
        raise ValueError(f"{ENV_MIN_HOUSEHOLDS} ({lo}) must be below {ENV_MAX_HOUSEHOLDS} ({hi})")
    return lo, hi


def uploads_dir(instance_dir: Path) -> Path:
    """Where an instance keeps uploaded files (photos under ``photos/``)."""
    return Path(instance_dir) / "uploads"
