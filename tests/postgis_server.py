"""A throwaway PostgreSQL + PostGIS server for the test session.

Started from the installed server binaries (Debian's ``postgresql-15`` with
``postgresql-15-postgis-3``) in a temporary directory on a free loopback
port, with trust authentication, and stopped at the end of the session.
PostgreSQL refuses to run as root, so when the tests run as root (as in CI)
the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bindir() -> Path | None:
    """Directory holding ``initdb``/``pg_ctl``, newest PostgreSQL first."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.insert(0, out.stdout.strip())
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def postgis_available(bindir: Path) -> bool:
    """True when the PostGIS extension is installed for this server version."""
    version = bindir.parent.name
    return bool(glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"))


def why_unavailable() -> str | None:
    """A reason PostGIS tests cannot run here, or None."""
    bindir = find_bindir()
    if bindir is None:
        return "no PostgreSQL server binaries (install postgresql-15 and postgresql-15-postgis-3)"
    if not postgis_available(bindir):
        return f"PostGIS is not installed for {bindir.parent.name} (install postgresql-{bindir.parent.name}-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgisServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url(dbname)`` for SQLAlchemy."""

    def __init__(self):
        self.bindir = find_bindir()
        self.port = _free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="gridmgmt-pg-"))
        self.datadir = self.tmp / "data"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True)

    def start(self) -> PostgisServer:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        opts = (
            f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            opts,
            "-l",
            str(self.tmp / "server.log"),
            "-w",
            "start",
        )
        self.execute("postgres", "CREATE DATABASE gridmgmt_template")
        self.execute("gridmgmt_template", "CREATE EXTENSION postgis")
        return self

    def execute(self, dbname: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(sql)

    def dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        """A fresh database (PostGIS enabled, from the template); returns its URL."""
        self.execute("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE gridmgmt_template')
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        self.execute("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
