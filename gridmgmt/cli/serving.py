"""``gridmgmt serve`` (the web app under gunicorn or waitress) and ``gridmgmt demo`` (build, then serve).

``--workers N`` runs N worker processes with gunicorn (Linux, macOS), each
with ``--threads`` threads. The app is created in each worker after the
fork (no database connection crosses it): the master only brings the
schema up to date and closes its connections before forking. Sessions,
log-in throttling and rate limits live in the store, so they hold across
workers; a random secret key (when ``GRIDMGMT_SECRET_KEY`` is unset) is
drawn once per start and shared by all workers. Where gunicorn is not
available (Windows), waitress serves one process with threads.
"""

from __future__ import annotations

import os
import secrets
import sys

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import seed_option


def gunicorn_available() -> bool:
    """Whether gunicorn can run here (installed, and not on Windows)."""
    if sys.platform.startswith("win"):
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def _prepare(database_url: str) -> None:
    """Migrate and sync categories once, in this process, then close every connection."""
    from gridmgmt.domain.incidents import load_categories
    from gridmgmt.store.repository import Store

    store = Store(database_url)
    try:
        store.sync_categories(load_categories())
    finally:
        store.dispose()


def _serve(
    obj: Context,
    host: str,
    port: int,
    threads: int = 8,
    workers: int = 1,
    access_log: bool = False,
) -> None:
    # one secret for every worker: a session made by one is valid on the others
    os.environ.setdefault("GRIDMGMT_SECRET_KEY", secrets.token_hex(32))
    instance_dir = str(obj.settings.instance_dir)
    if workers > 1 and gunicorn_available():
        _prepare(obj.settings.database_url)
        click.echo(
            f"serving on http://{host}:{port}/ with gunicorn, {workers} processes × "
            f"{threads} threads  (Ctrl-C to stop)"
        )
        run_gunicorn(instance_dir, host, port, workers, threads, access_log=access_log)
        return
    if workers > 1:
        click.echo(
            "note: gunicorn is not available here (Windows, or not installed); "
            f"waitress serves one process with {threads} threads instead of {workers} processes",
            err=True,
        )
    from waitress import serve as waitress_serve

    from webapp import create_app

    app = create_app(instance_dir)
    click.echo(f"serving on http://{host}:{port}/  (Ctrl-C to stop)")
    waitress_serve(app, host=host, port=port, threads=threads)


def run_gunicorn(
    instance_dir: str,
    host: str,
    port: int,
    workers: int,
    threads: int,
    *,
    access_log: bool = False,
) -> None:
    """Serve the app of ``instance_dir`` with gunicorn: ``workers`` processes, ``threads`` each.

    Each worker creates its own app (and database engine) after the fork.
    With ``access_log`` every request is logged to standard output with the
    worker's process id (``<pid>`` at the start of the line).
    """
    from gunicorn.app.base import BaseApplication

    class GridmgmtGunicorn(BaseApplication):
        def load_config(self):
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "preload_app": False,  # the app (and its engine) is made in each worker
                "timeout": 120,
                "graceful_timeout": 10,
                "keepalive": 5,
            }
            if access_log:
                options["accesslog"] = "-"
                options["access_log_format"] = '%(p)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from webapp import create_app

            return create_app(instance_dir)

    GridmgmtGunicorn().run()


@command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (gunicorn; waitress, one process, where gunicorn is unavailable).",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--access-log/--no-access-log", default=False, help="Log requests (gunicorn).")
def serve(obj: Context, host, port, workers, threads, access_log):
    """Run the web app: waitress for one process, gunicorn for --workers N > 1."""
    _serve(obj, host, port, threads, workers, access_log=access_log)


@command("demo")
@seed_option("Seed of the generated 街道.")
@click.option(
    "--serve/--no-serve", default=True, show_default=True, help="Serve the web app afterwards."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(obj: Context, seed, serve, host, port):
    """Build a demo 街道 end to end, write maps/demo.html and serve the web app."""
    from gridmgmt.demo import DEMO_PASSWORD, build_demo

    settings = obj.settings
    click.echo(f"instance: {settings.instance_dir}")
    outcome = build_demo(
        obj.store, instance_dir=settings.instance_dir, seed=seed, progress=click.echo
    )
    counts = outcome.counts
    click.echo(
        f"done: {counts['communities']} 社区, {counts['grids']} 责任网格, {counts['buildings']:,} buildings, "
        f"{counts['households']:,} households, {counts['facilities']} facilities"
    )
    click.echo(f"map: {outcome.map_path}")
    click.echo(
        "demo accounts (password "
        + DEMO_PASSWORD
        + "): "
        + ", ".join(f"{u} ({r})" for u, r in outcome.accounts.items())
    )
    if serve:
        _serve(obj, host, port)
