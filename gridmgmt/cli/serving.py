"""``gridmgmt serve`` (the web app under waitress) and ``gridmgmt demo`` (build, then serve)."""

from __future__ import annotations

import click

from gridmgmt.cli.context import Context, command
from gridmgmt.cli.options import seed_option


def _serve(obj: Context, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from webapp import create_app

    app = create_app(str(obj.settings.instance_dir))
    click.echo(f"serving on http://{host}:{port}/  (Ctrl-C to stop)")
    waitress_serve(app, host=host, port=port, threads=threads)


@command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(obj: Context, host, port, threads):
    """Run the web app with waitress (a production WSGI server)."""
    _serve(obj, host, port, threads)


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
