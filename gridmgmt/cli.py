"""The ``gridmgmt`` command.

Every subcommand takes ``--workdir DIR`` (the instance directory holding the
default SQLite database, uploads and generated maps; see
:mod:`gridmgmt.config`). Expected failures (bad input, conflicts, unknown
names) print one clear message and exit with status 1; bad usage exits 2.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from gridmgmt import __version__


class Context:
    """Lazily resolved settings and store for one invocation."""

    def __init__(self, workdir: str | None = None):
        self.workdir = workdir
        self._store = None

    @property
    def settings(self):
        from gridmgmt.config import resolve_settings

        return resolve_settings(self.workdir)

    @property
    def store(self):
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


def command(group, *args, **kwargs):
    """A subcommand with ``--workdir`` whose expected errors become clean messages."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*a, **kw):
            from gridmgmt.domain.errors import GridmgmtError

            try:
                return func(*a, **kw)
            except (GridmgmtError, ValueError, FileNotFoundError) as err:
                raise click.ClickException(str(err)) from err

        return group.command(*args, **kwargs)(workdir_option(click.pass_obj(wrapper)))

    return decorate


def parse_period(start: str | None, end: str | None):
    """``--from``/``--to`` dates (Asia/Shanghai) as aware datetimes; (None, None) when both absent."""
    from datetime import datetime

    from gridmgmt.domain.incidents.calendar import SHANGHAI

    if start is None and end is None:
        return None, None
    if start is None or end is None:
        raise click.BadParameter("give both --from and --to")
    try:
        t0 = datetime.fromisoformat(start).replace(tzinfo=SHANGHAI)
        t1 = datetime.fromisoformat(end).replace(tzinfo=SHANGHAI)
    except ValueError as err:
        raise click.BadParameter(f"dates must look like 2026-11-01 ({err})") from err
    if t0 >= t1:
        raise click.BadParameter(f"--from {start} is not before --to {end}")
    return t0, t1


def _formatted(table):
    """A KPI-like table with rates as percentages, hours to one decimal and Chinese headers."""
    from gridmgmt.domain.report_labels import RATES, label

    shown = table.copy()
    for col in shown.columns:
        if col in RATES:
            shown[col] = shown[col].map(lambda v: "-" if v != v else f"{v:.1%}")
        elif col == "mean_handling_hours":
            shown[col] = shown[col].map(lambda v: "-" if v != v else f"{v:.1f}")
    return shown.rename(columns=label)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridmgmt")
@workdir_option
@click.pass_context
def main(ctx: click.Context):
    """gridmgmt: 网格化管理 (grid-based community management)."""
    ctx.ensure_object(Context)


# ---------------------------------------------------------------------- db
@main.group()
def db():
    """Database schema (Alembic migrations)."""


@command(db, "upgrade")
@click.argument("revision", default="head")
def db_upgrade(obj: Context, revision: str):
    """Apply migrations up to REVISION (default: head)."""
    from gridmgmt.store.engine import make_engine, upgrade

    settings = obj.settings
    engine = make_engine(settings.database_url)
    reached = upgrade(engine, revision)
    click.echo(f"database {_safe_url(settings.database_url)} at revision {reached}")


@command(db, "current")
def db_current(obj: Context):
    """Show the database's revision and the newest one available."""
    from gridmgmt.store.engine import current_revision, head_revision, make_engine

    engine = make_engine(obj.settings.database_url)
    click.echo(f"current: {current_revision(engine) or '(empty)'}  head: {head_revision()}")


def _safe_url(url: str) -> str:
    from gridmgmt.store.engine import display_url

    return display_url(url)


# ------------------------------------------------------------------ status
@command(main, "status")
def status(obj: Context):
    """What the database holds."""
    click.echo(f"instance: {obj.settings.instance_dir}")
    click.echo(f"database: {_safe_url(obj.settings.database_url)}")
    for name, count in obj.store.counts().items():
        click.echo(f"  {name:<12} {count:>10,}")


# ------------------------------------------------------------------ import
IMPORT_KINDS = ("osm", "auto", "buildings", "roads", "compounds", "facilities", "boundaries")


@command(main, "import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinate system of the input; converted to WGS84.",
)
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option(
    "--ledger",
    type=click.Path(exists=True, dir_okay=False),
    help="台账: building id -> households.",
)
@click.option("--strict", is_flag=True, help="Reject invalid geometries instead of repairing them.")
@click.option("--replace", is_flag=True, help="Overwrite objects whose ids are stored already.")
@click.option(
    "--dwelling-size", type=float, default=90.0, show_default=True, help="m² per household."
)
@click.option("--outside-china", is_flag=True, help="Allow coordinates outside China's extent.")
def import_(
    obj: Context, kind, path, coords, layer, ledger, strict, replace, dwelling_size, outside_china
):
    """Import KIND of data from PATH (OSM, GeoJSON, GeoPackage, Shapefile/.zip, CSV, XLSX).

    Nothing is written unless the whole file is accepted.
    """
    from gridmgmt.domain.importing import import_file

    outcome = import_file(
        obj.store,
        Path(path),
        kind=None if kind in ("osm", "auto") else kind,
        coords=coords,
        layer=layer,
        ledger=ledger,
        strict=strict,
        replace=replace,
        dwelling_size_m2=dwelling_size,
        china=not outside_china,
    )
    click.echo(str(outcome.report))
    written = ", ".join(f"{n} {k}" for k, n in outcome.written.items()) or "nothing"
    click.echo(f"written: {written}")


# ------------------------------------------------------------------- users
@main.group()
def users():
    """Accounts and roles."""


@command(users, "add")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "supervisor", "dept", "worker", "analyst"])
)
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


@command(users, "list")
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


# ------------------------------------------------------------------- serve
@command(main, "serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(obj: Context, host, port, threads):
    """Run the web app with waitress (a production WSGI server)."""
    _serve(obj, host, port, threads)


def _serve(obj: Context, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from webapp import create_app

    app = create_app(str(obj.settings.instance_dir))
    click.echo(f"serving on http://{host}:{port}/  (Ctrl-C to stop)")
    waitress_serve(app, host=host, port=port, threads=threads)


# -------------------------------------------------------------------- demo
@command(main, "demo")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the generated 街道.")
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


# ------------------------------------------------------------------ apikey
@main.group()
def apikey():
    """API keys for machine clients (Open311, OGC API, hotline imports)."""


@command(apikey, "add")
@click.argument("client")
@click.option(
    "--role",
    default="analyst",
    show_default=True,
    type=click.Choice(["admin", "supervisor", "dept", "worker", "analyst"]),
)
def apikey_add(obj: Context, client, role):
    """Create a key for CLIENT and print it (it is shown only once)."""
    from gridmgmt.domain.accounts import create_api_key

    click.echo(create_api_key(obj.store, client, role))


# ---------------------------------------------------------------- generate
@command(main, "generate")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--households", default=25_000, show_default=True, type=int, help="Target households."
)
@click.option("--communities", default=3, show_default=True, type=int, help="Number of 社区.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="GeoPackage to write.")
def generate(obj: Context, seed, households, communities, out):
    """Generate a demo 街道 (seeded) as a GeoPackage, e.g. data/demo/street.gpkg."""
    from gridmgmt.synthetic import generate_street, save_street

    street = generate_street(seed, n_communities=communities, target_households=households)
    path = save_street(street, out)
    b = street.buildings
    click.echo(
        f"{path}: {len(b)} buildings, {int(b['households'].sum()):,} households, {communities} 社区"
    )


# --------------------------------------------------------------- partition
@command(main, "partition")
@click.argument("buildings", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--boundary", type=click.Path(exists=True, dir_okay=False), help="社区 polygon(s) file."
)
@click.option(
    "--roads", type=click.Path(exists=True, dir_okay=False), help="Road centre lines file."
)
@click.option(
    "--compounds", type=click.Path(exists=True, dir_okay=False), help="小区/单位 enclosures file."
)
@click.option(
    "--zones", type=click.Path(exists=True, dir_okay=False), help="Zones grids must not cross."
)
@click.option("--min", "min_households", default=250, show_default=True, type=int)
@click.option("--max", "max_households", default=500, show_default=True, type=int)
@click.option(
    "--prefix", default="000000000000", show_default=True, help="12-digit 社区 code for grid codes."
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="GeoPackage to write (layers grids, buildings)."
)
@click.option(
    "--community",
    "communities",
    multiple=True,
    help="Partition a stored 社区 (name or code); repeatable.",
)
@click.option("--all", "all_communities", is_flag=True, help="Partition every stored 社区.")
def partition_cmd(
    obj: Context,
    buildings,
    boundary,
    roads,
    compounds,
    zones,
    min_households,
    max_households,
    prefix,
    seed,
    coords,
    out,
    communities,
    all_communities,
):
    """Cut a 社区 into 250–500-household grids: from files (--out) or stored data (--community/--all)."""
    if communities or all_communities:
        from gridmgmt.domain.partitioning import partition_communities

        outcomes = partition_communities(
            obj.store,
            communities=communities or None,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            progress=click.echo,
        )
        for o in outcomes:
            click.echo(f"{o.name} ({o.code}): grid version {o.version}\n{o.result.report}")
        return
    if not buildings or not out:
        raise click.UsageError(
            "give BUILDINGS and --out, or --community NAME / --all for stored data"
        )
    from gridmgmt.domain.partitioning import partition_files

    result = partition_files(
        buildings,
        out,
        boundary=boundary,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        code_prefix=prefix,
        seed=seed,
        coords=coords,
    )
    click.echo(str(result.report))
    click.echo(f"written: {out} (layers grids, buildings)")


# ------------------------------------------------------------------ assign
@command(main, "assign")
@click.argument("points", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--grids",
    "grids_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Grids file (layer 'grids' of a GeoPackage).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Output file (.gpkg, .geojson or .csv)."
)
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
)
@click.option(
    "--stored", is_flag=True, help="Recompute the grid codes of stored buildings and facilities."
)
def assign_cmd(obj: Context, points, grids_path, out, coords, stored):
    """Put objects into grids: a file (adds grid_code, reason for unassigned rows) or the stored layers."""
    if stored:
        from gridmgmt.domain.partitioning import reassign

        for layer, n in reassign(obj.store).items():
            click.echo(f"{layer}: {n} placed in a grid")
        return
    if not (points and grids_path and out):
        raise click.UsageError("give POINTS, --grids and --out, or --stored")
    from gridmgmt.domain.partitioning import assign_file

    summary = assign_file(points, grids_path, out, coords=coords)
    click.echo(
        f"{summary['assigned']} of {summary['total']} assigned; {summary['unassigned']} unassigned -> {out}"
    )


# --------------------------------------------------------------- incidents
@main.group()
def incidents():
    """The incident loop (事件闭环)."""


@command(incidents, "import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
)
def incidents_import(obj: Context, path, coords):
    """Import a hotline (12345) export: CSV or XLSX with category code, description, lon/lat."""
    from gridmgmt.domain.incidents import load_categories
    from gridmgmt.domain.incidents.importing import import_incidents

    obj.store.sync_categories(load_categories())
    made = import_incidents(obj.store, path, coords=coords)
    unassigned = sum(1 for i in made if i["grid_code"] is None)
    click.echo(
        f"{len(made)} incident(s) recorded; {unassigned} outside every grid (unassigned queue)"
    )


@command(incidents, "overdue")
def incidents_overdue(obj: Context):
    """Open incidents past the deadline of their running stage."""
    from datetime import UTC, datetime

    from gridmgmt.domain.incidents.calendar import SHANGHAI

    table = obj.store.incidents()
    now = datetime.now(UTC)
    late = table[table["deadline_at"].notna()]
    late = late[[d < now for d in late["deadline_at"]]]
    if late.empty:
        click.echo("no overdue incidents")
        return
    for r in late.itertuples():
        due = r.deadline_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{r.number}  {r.state:<12} {r.deadline_stage:<8} due {due}  grid {r.grid_code or '-'}  {r.description[:30]}"
        )
    click.echo(f"{len(late)} overdue")


@command(incidents, "kpi")
@click.option(
    "--from", "start", required=True, help="Period start, e.g. 2026-11-01 (Asia/Shanghai)."
)
@click.option("--to", "end", required=True, help="Period end (exclusive).")
@click.option(
    "--by",
    default="all",
    show_default=True,
    type=click.Choice(["all", "street", "community", "grid", "worker", "department", "category"]),
)
def incidents_kpi(obj: Context, start, end, by):
    """KPIs of the incident loop for a period (formulas: gridmgmt.domain.incidents.kpi)."""
    from gridmgmt.domain.incidents.kpi import kpis

    t0, t1 = parse_period(start, end)
    table = kpis(obj.store.incidents(), obj.store.incident_history(), t0, t1, by=by)
    if table.empty:
        click.echo("no incidents in the period")
        return
    cols = ["reported", "registered", "register_rate", "due", "closed", "close_rate"]
    cols += ["closed_on_time", "on_time_rate", "rework_rate", "mean_handling_hours"]
    cols += ["overdue", "suspended"]
    shown = _formatted(table[cols])
    click.echo(shown.to_string())


# --------------------------------------------------------------------------
# Grid proposals, versions and rollback on stored data (issue #7, part 2).
# ``gridmgmt rebalance --community NAME`` (the file-mode command's stored
# branch) calls :func:`run_stored_rebalance`.


def run_stored_rebalance(
    obj: Context,
    community: str,
    *,
    approve: bool = False,
    locked=(),
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    balance_workload: int | None = None,
    keep_compounds: bool = False,
) -> None:
    """Rebalance a stored 社区 into a proposal; print its report and id (approve with ``approve``).

    ``balance_workload``: also even out the workload of the last that many days.
    """
    from datetime import datetime, timedelta

    from gridmgmt.domain.incidents.calendar import SHANGHAI
    from gridmgmt.domain.rebalancing import rebalance_stored
    from gridmgmt.store.proposals import ProposalStore

    steps = iter(range(1, 10))
    now = datetime.now(SHANGHAI)
    outcome = rebalance_stored(
        obj.store,
        ProposalStore(obj.store),
        community,
        author="cli",
        approve=approve,
        locked=tuple(locked),
        min_households=min_households,
        max_households=max_households,
        seed=seed,
        balance_workload=None if not balance_workload else (now - timedelta(balance_workload), now),
        progress=lambda msg: click.echo(f"[{next(steps)}] {msg}", err=True),
        split_compounds=not keep_compounds,
    )
    click.echo(outcome.draft.report.get("text", ""))
    moved = outcome.draft.moves
    click.echo(
        f"proposal {outcome.proposal_id}: {len(moved)} buildings, "
        f"{int(moved['households'].sum()) if len(moved) else 0} households move"
    )
    if outcome.version is not None:
        click.echo(
            f"approved: 社区 {outcome.draft.state.code} is now at grid version {outcome.version}"
        )
    else:
        click.echo(f"pending; approve with: gridmgmt grids approve {outcome.proposal_id}")


@main.group()
def grids():
    """Grid versions, change proposals and rollback of stored 社区."""


def _proposals(obj: Context):
    from gridmgmt.store.proposals import ProposalStore

    return ProposalStore(obj.store)


@command(grids, "history")
@click.option("--community", required=True, help="社区 name or 12-digit code.")
def grids_history(obj: Context, community):
    """Every grid version of a 社区 and the proposal that produced it."""
    code = obj.store.community(community)["code"]
    for v in _proposals(obj).grid_versions(code):
        source = (
            f"proposal {v['proposal_id']} ({v['proposal_kind']}, by {v['author']}, "
            f"approved by {v['decided_by']})"
            if v["proposal_id"]
            else "partition"
        )
        state = "current" if v["valid_to"] is None else f"until {v['valid_to']:%Y-%m-%d %H:%M} UTC"
        click.echo(
            f"v{v['version']}: {v['grids']} grids, {v['households']} households, "
            f"from {v['valid_from']:%Y-%m-%d %H:%M} UTC, {state}; {source}"
        )


@command(grids, "proposals")
@click.option("--community", default=None, help="社区 name or code; default all.")
@click.option(
    "--status",
    default=None,
    type=click.Choice(["pending", "approved", "rejected", "superseded"]),
)
def grids_proposals(obj: Context, community, status):
    """List grid change proposals, newest first."""
    code = obj.store.community(community)["code"] if community else None
    rows = _proposals(obj).proposals(code, status=status)
    if not rows:
        click.echo("no proposals")
    for p in rows:
        made = f" -> v{p['result_version']}" if p["result_version"] else ""
        click.echo(
            f"#{p['id']} {p['community_name']} ({p['community_code']}) {p['kind']} {p['status']}{made}: "
            f"base v{p['base_version']}, {p['buildings_moved']} buildings / "
            f"{p['households_moved']} households, by {p['author']}"
        )


@command(grids, "approve")
@click.argument("proposal_id", type=int)
@click.option("--by", "decided_by", default="cli", show_default=True, help="Who approves.")
def grids_approve(obj: Context, proposal_id, decided_by):
    """Approve a pending proposal: it becomes the 社区's next grid version."""
    from gridmgmt.domain.rebalancing import approve_proposal, retired_grid_workers

    version = approve_proposal(obj.store, _proposals(obj), proposal_id, decided_by=decided_by)
    click.echo(f"proposal {proposal_id} approved: grid version {version}")
    for grid, users in retired_grid_workers(obj.store, _proposals(obj), proposal_id).items():
        click.echo(f"warning: retired grid {grid} is still bound to {', '.join(users)}", err=True)


@command(grids, "reject")
@click.argument("proposal_id", type=int)
@click.option("--by", "decided_by", default="cli", show_default=True, help="Who rejects.")
@click.option("--note", default=None, help="Why.")
def grids_reject(obj: Context, proposal_id, decided_by, note):
    """Reject a pending proposal (it is kept)."""
    from gridmgmt.domain.rebalancing import reject_proposal

    reject_proposal(_proposals(obj), proposal_id, decided_by=decided_by, note=note)
    click.echo(f"proposal {proposal_id} rejected")


@command(grids, "rollback")
@click.option("--community", required=True, help="社区 name or 12-digit code.")
@click.option(
    "--to-version", type=int, default=None, help="Version to restore; default the previous one."
)
@click.option("--by", "author", default="cli", show_default=True, help="Who rolls back.")
def grids_rollback(obj: Context, community, to_version, author):
    """Restore an earlier grid version as a new version (history is kept)."""
    from gridmgmt.domain.rebalancing import rollback

    pid, version = rollback(
        obj.store, _proposals(obj), community, author=author, to_version=to_version
    )
    click.echo(f"rolled back by proposal {pid}: grid version {version}")


# -------------------------------------------------------------- households
@main.group()
def households():
    """Household changes (户数变动) of stored buildings."""


@command(households, "update")
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--min", "min_households", default=250, show_default=True, type=int)
@click.option("--max", "max_households", default=500, show_default=True, type=int)
def households_update(obj: Context, ledger, min_households, max_households):
    """Write a household ledger (CSV/XLSX: building id, households[, population]).

    Updates the buildings and their grids' totals, lists the grids whose
    totals changed and those now out of band, with the command that
    rebalances their 社区.
    """
    from gridmgmt.domain.households import apply_ledger
    from gridmgmt.io.readers import read_ledger

    outcome = apply_ledger(
        obj.store,
        read_ledger(ledger),
        min_households=min_households,
        max_households=max_households,
    )
    click.echo(f"{outcome.buildings} buildings updated; {len(outcome.grids)} grids changed")
    for r in outcome.grids.itertuples():
        mark = "  out of band" if r.flag == "out_of_band" else ""
        click.echo(f"  {r.code}: {r.before} -> {r.after} households{mark}")
    for community in sorted(set(outcome.out_of_band["community_code"])):
        click.echo(f"rebalance with: gridmgmt rebalance --community {community}")


# --------------------------------------------------------------- rebalance
# Issue #7, part 1: ``gridmgmt rebalance`` (files); its stored branch
# (--community) runs :func:`run_stored_rebalance` above.
@command(main, "rebalance")
@click.argument("grids_path", metavar="GRIDS", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--buildings",
    "buildings_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Updated buildings (any importable format).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="GeoPackage to write (grids, buildings, moves)."
)
@click.option(
    "--roads", type=click.Path(exists=True, dir_okay=False), help="Road centre lines file."
)
@click.option(
    "--compounds", type=click.Path(exists=True, dir_okay=False), help="小区/单位 enclosures file."
)
@click.option(
    "--zones", type=click.Path(exists=True, dir_okay=False), help="Zones grids must not cross."
)
@click.option("--min", "min_households", default=250, show_default=True, type=int)
@click.option("--max", "max_households", default=500, show_default=True, type=int)
@click.option("--lock", "locked", multiple=True, help="Grid code that must not change; repeatable.")
@click.option(
    "--used-code",
    "used_codes",
    multiple=True,
    help="A code used before in the 社区 (never reused); repeatable.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
)
@click.option("--community", default=None, help="Rebalance a stored 社区 (name or code).")
@click.option("--approve", is_flag=True, help="With --community: approve the proposal at once.")
@click.option(
    "--balance-workload",
    "balance_workload",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    help="With --community: also even out the workload of the last DAYS days between neighbours.",
)
@click.option(
    "--keep-compounds",
    is_flag=True,
    help="Never divide a compound that fits one grid, even if a grid then stays out of band "
    "(default: divided as the last resort, listed in the report).",
)
def rebalance_cmd(
    obj: Context,
    grids_path,
    buildings_path,
    out,
    roads,
    compounds,
    zones,
    min_households,
    max_households,
    locked,
    used_codes,
    seed,
    coords,
    community,
    approve,
    balance_workload,
    keep_compounds,
):
    """Bring grids back into the household band with minimal change: files (GRIDS --buildings
    --out) or a stored 社区 (--community, as a proposal)."""
    if community:
        run_stored_rebalance(
            obj,
            community,
            approve=approve,
            locked=locked,
            min_households=min_households,
            max_households=max_households,
            seed=seed,
            balance_workload=balance_workload,
            keep_compounds=keep_compounds,
        )
        return
    if balance_workload:
        raise click.UsageError("--balance-workload works on a stored 社区: give --community")
    if not (grids_path and buildings_path and out):
        raise click.UsageError("give GRIDS, --buildings and --out, or --community NAME")
    if not Path(grids_path).exists():
        raise click.BadParameter(f"{grids_path} does not exist", param_hint="GRIDS")
    from gridmgmt.domain.rebalance_files import rebalance_files

    click.echo(f"rebalancing {grids_path} for {buildings_path} ...", err=True)
    result = rebalance_files(
        grids_path,
        buildings_path,
        out,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
        used_codes=used_codes,
        seed=seed,
        coords=coords,
        split_compounds=not keep_compounds,
    )
    click.echo(str(result.report))
    click.echo(f"written: {out} (layers grids, buildings, moves)")


# ------------------------------------------------ web: account maintenance
@command(users, "reset")
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


@command(users, "department")
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


# ------------------------------------------------------------------- stats
@main.group()
def stats():
    """Spatial statistics of incidents over grids (hot spots, Moran's I)."""


@command(stats, "hotspots")
@click.option(
    "--from", "start", required=True, help="Period start, e.g. 2026-11-01 (Asia/Shanghai)."
)
@click.option("--to", "end", required=True, help="Period end (exclusive).")
@click.option("--community", default=None, help="社区 name or code (default: all grids).")
@click.option(
    "--contiguity", default="queen", show_default=True, type=click.Choice(["queen", "rook"])
)
@click.option("--permutations", default=999, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write per-grid results: .gpkg, .geojson or .csv.",
)
@click.option("--png", type=click.Path(dir_okay=False), help="Draw the hot-spot map to this PNG.")
def stats_hotspots(obj: Context, start, end, community, contiguity, permutations, seed, out, png):
    """Getis-Ord Gi* hot/cold spots of incidents per 1,000 households, and Moran's I."""
    from datetime import datetime

    from gridmgmt.domain.hotspots import area_hotspots, check_period
    from gridmgmt.domain.incidents.calendar import SHANGHAI

    try:
        t0 = datetime.fromisoformat(start).replace(tzinfo=SHANGHAI)
        t1 = datetime.fromisoformat(end).replace(tzinfo=SHANGHAI)
    except ValueError as err:
        raise click.BadParameter(f"dates must look like 2026-11-01 ({err})") from err
    if out and Path(out).suffix.lower() not in (".gpkg", ".geojson", ".csv"):
        raise click.BadParameter(f"--out {out}: expected a .gpkg, .geojson or .csv file")
    try:
        check_period(t0, t1)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--from/--to") from err
    click.echo(f"[1/3] reading grids and incidents {start} → {end}")
    report = area_hotspots(
        obj.store,
        t0,
        t1,
        community=community,
        contiguity=contiguity,
        permutations=permutations,
        seed=seed,
    )
    grids = report.grids
    click.echo(
        f"[2/3] {len(grids)} grids, {report.incidents} incidents; Gi* ({contiguity}, "
        f"{permutations} permutations, seed {seed})"
    )
    counts = grids["hotspot"].value_counts()
    click.echo("      " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if report.moran is not None:
        m = report.moran
        click.echo(
            f"      Moran's I = {m.I:.4f} (E[I] = {m.expected:.4f}, p_sim = {m.p_sim:.3f}, n = {m.n})"
        )
    else:
        click.echo(
            "      Moran's I: not defined (fewer than 3 grids with households or constant rates)"
        )
    click.echo("[3/3] writing")
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = grids.drop(columns=["valid_from", "valid_to"], errors="ignore")
        if path.suffix.lower() == ".csv":
            table.drop(columns="geometry").to_csv(path, index=False, encoding="utf-8-sig")
        else:
            driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
            table.to_file(path, driver=driver, layer="hotspots" if driver == "GPKG" else None)
        click.echo(f"      {path}")
    if png:
        from gridmgmt.maps.charts import hotspot_map_png

        click.echo(f"      {hotspot_map_png(grids, png, title=f'事件热点 {start} 至 {end}')}")


# ------------------------------------------------------- reports and exports
def area_options(func):
    """--street/--community/--grid, the area of a report or export."""
    func = click.option(
        "--grid", "grid_codes", multiple=True, help="Grid code; repeatable (default: all grids)."
    )(func)
    func = click.option("--community", default=None, help="社区 name or 12-digit code.")(func)
    return click.option("--street", default=None, help="街道 name or 9-digit code.")(func)


def _area(street, community, grid_codes) -> dict:
    return {"street": street, "community": community, "grids": list(grid_codes) or None}


@command(main, "export")
@click.option(
    "--what",
    required=True,
    type=click.Choice(["grids", "buildings", "facilities", "incidents", "workload", "kpi", "all"]),
)
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["gpkg", "geojson", "shp", "csv", "xlsx"]),
    help="Default: from the suffix of --out (.zip means shp).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--from", "start", default=None, help="Period start, e.g. 2026-11-01.")
@click.option("--to", "end", default=None, help="Period end (exclusive).")
@click.option(
    "--by",
    default="grid",
    show_default=True,
    type=click.Choice(["street", "community", "grid", "worker", "department"]),
    help="Level of the KPI table (--what kpi).",
)
@area_options
def export_cmd(obj: Context, what, fmt, out, start, end, by, street, community, grid_codes):
    """Export layers, the workload report or the 考核 KPIs for GIS tools and offices."""
    from tqdm import tqdm

    from gridmgmt.domain.exporting import export_data
    from gridmgmt.store.patrols import PatrolStore

    t0, t1 = parse_period(start, end)
    with tqdm(unit=" rows", desc=f"export {what}", disable=None) as bar:

        def progress(n):
            bar.update(n - bar.n)

        outcome = export_data(
            obj.store,
            what,
            out,
            fmt,
            start=t0,
            end=t1,
            by=by,
            progress=progress,
            patrols=PatrolStore(obj.store),
            **_area(street, community, grid_codes),
        )
    rows = ", ".join(f"{name} {n}" for name, n in outcome.rows.items())
    click.echo(f"written: {outcome.path} ({outcome.area.label}: {rows})")
    if outcome.empty:
        click.echo("note: nothing in this area and period; the file is valid but empty", err=True)


@main.group()
def report():
    """Reports printed as tables: per-grid workload, 考核 assessment."""


@command(report, "workload")
@click.option("--from", "start", required=True, help="Period start, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Period end (exclusive).")
@click.option(
    "--weight",
    "weights",
    multiple=True,
    help="Index weight MEASURE=W (e.g. incidents=0.5); repeatable; replaces the defaults.",
)
@area_options
def report_workload(obj: Context, start, end, weights, street, community, grid_codes):
    """Per-grid workload: households, facilities, incidents, overdue, the workload index."""
    from gridmgmt.domain.report_labels import label
    from gridmgmt.domain.workload import area_workload
    from gridmgmt.store.patrols import PatrolStore

    t0, t1 = parse_period(start, end)
    chosen = None
    if weights:
        chosen = {}
        for item in weights:
            key, _, value = item.partition("=")
            try:
                chosen[key.strip()] = float(value)
            except ValueError as err:
                raise click.BadParameter(f"--weight {item}: expected MEASURE=NUMBER") from err
    rep = area_workload(
        obj.store,
        t0,
        t1,
        weights=chosen,
        patrols=PatrolStore(obj.store),
        **_area(street, community, grid_codes),
    )
    table = rep.table
    if table.empty:
        click.echo(f"{rep.area.label}: no grids")
        return
    cols = ["code", "kind", "households", "population", "buildings", "facilities", "incidents"]
    cols += ["incidents_per_1000", "overdue", "mean_handling_hours", "workload_index"]
    cols += ["far_above_neighbours", "compliance", "diary_entries"]
    shown = table[cols].copy()
    shown["compliance"] = shown["compliance"].map(lambda v: "-" if v != v else f"{v:.0%}")
    shown["diary_entries"] = shown["diary_entries"].map(lambda v: "-" if v != v else f"{v:.0f}")
    shown["kind"] = shown["kind"].map({"residential": "居民区", "unit": "单位"})
    for col in ("incidents_per_1000", "mean_handling_hours"):
        shown[col] = shown[col].map(lambda v: "-" if v != v else f"{v:.1f}")
    shown["far_above_neighbours"] = shown["far_above_neighbours"].map({True: "是", False: ""})
    click.echo(f"{rep.area.label}, {start} – {end} (exclusive); weights {rep.weights}")
    click.echo(shown.rename(columns=label).to_string(index=False))


@command(report, "assessment")
@click.option("--from", "start", required=True, help="Period start, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Period end (exclusive).")
@click.option(
    "--by",
    default="grid",
    show_default=True,
    type=click.Choice(["street", "community", "grid", "worker", "department"]),
)
@area_options
def report_assessment(obj: Context, start, end, by, street, community, grid_codes):
    """考核: KPIs ranked by score, with the change against the previous period."""
    from gridmgmt.domain.assessment import area_assessment
    from gridmgmt.domain.report_labels import label

    t0, t1 = parse_period(start, end)
    rep = area_assessment(obj.store, t0, t1, by=by, **_area(street, community, grid_codes))
    if rep.table.empty:
        click.echo(f"{rep.area.label}: no incidents in the period")
        return
    cols = ["rank", "score", "score_change", "reported", "due", "closed", "close_rate"]
    cols += ["on_time_rate", "rework_rate", "overdue", "mean_handling_hours"]
    shown = rep.table[cols].copy()
    for col, pattern in (("score", "{:.1f}"), ("score_change", "{:+.1f}")):
        shown[col] = shown[col].map(lambda v, p=pattern: "-" if v != v else p.format(v))
    shown = _formatted(shown)
    shown.index.name = label(by)
    click.echo(
        f"{rep.area.label}, {start} – {end} (exclusive), 环比 against "
        f"{rep.previous_start:%Y-%m-%d} – {start}"
    )
    click.echo(shown.to_string())


# ------------------------------------------------------------------ patrol
@main.group()
def patrol():
    """Patrols (巡查): import tracks, the patrol report."""


@command(patrol, "import")
@click.argument("track", type=click.Path(dir_okay=False))
@click.option("--worker", required=True, help="The grid worker's username.")
def patrol_import(obj: Context, track, worker):
    """Import a GPX or GeoJSON track as a finished patrol of WORKER, and print its measures."""
    from gridmgmt.domain.patrols import import_track
    from gridmgmt.store.patrols import PatrolStore

    pid, m = import_track(obj.store, PatrolStore(obj.store), track, worker)
    click.echo(
        f"patrol {pid} of {worker}: {m['points']} points, {m['duration_min']:.0f} min, "
        f"{m['length_m'] / 1000:.2f} km, {m['inside_share']:.0%} of the time in own grids, "
        f"buildings passed {m['buildings_passed']}/{m['buildings_total']}, "
        f"roads covered {(m['road_share'] or 0):.0%}"
    )
    if m["anomalies"]:
        click.echo(f"anomalies: {m['anomalies']}")


@command(patrol, "report")
@click.option("--grid", default=None, help="Grid code (default: every residential grid).")
@click.option("--from", "start", required=True, help="First day, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Last day (included).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write .csv (UTF-8 BOM) or .xlsx (grids, patrols, daily compliance).",
)
def patrol_report_cmd(obj: Context, grid, start, end, out):
    """Per grid: patrol days, compliance, coverage, anomalies, diary entries, incidents found."""
    from datetime import date

    from gridmgmt.domain.patrols import patrol_report
    from gridmgmt.domain.report_labels import label
    from gridmgmt.io.exports import export_tables
    from gridmgmt.store.patrols import PatrolStore

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as err:
        raise click.BadParameter(f"dates must look like 2026-11-01 ({err})") from err
    if out and Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter(f"--out {out}: expected a .csv or .xlsx file")
    repo = PatrolStore(obj.store)
    rep = patrol_report(obj.store, repo, first, last, grid=grid)
    table = rep.table
    if out:
        tables = {"grids": table}
        if Path(out).suffix.lower() == ".xlsx":
            tables["patrols"] = rep.patrol_rows()
            tables["daily"] = rep.daily_rows()
        path = export_tables(tables, out, labels=label)
        click.echo(f"written: {path}")
    if table.empty:
        click.echo("no grids")
        return
    shown = table[
        ["code", "workers", "working_days", "patrol_days", "compliance", "patrols"]
        + ["mean_building_share", "mean_road_share", "anomalies", "diary_entries"]
        + ["incidents_on_patrol"]
    ].copy()
    for col in ("compliance", "mean_building_share", "mean_road_share"):
        shown[col] = shown[col].map(lambda v: "-" if v != v else f"{v:.0%}")
    click.echo(f"{first} – {last}")
    click.echo(shown.rename(columns=label).to_string(index=False))
