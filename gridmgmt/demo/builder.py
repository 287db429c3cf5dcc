"""The demo 街道, built end to end through the same paths real data takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gridmgmt.domain.accounts import create_user
from gridmgmt.domain.importing import import_file

DEMO_PASSWORD = "gridmgmt-demo"
#: username -> (role, 中文 display name)
DEMO_ACCOUNTS = {
    "admin": ("admin", "系统管理员"),
    "supervisor": ("supervisor", "值班长 王芳"),
    "dept": ("dept", "城管科 李强"),
    "worker": ("worker", "网格员 张伟"),
    "worker2": ("worker", "网格员 刘洋"),
    "worker3": ("worker", "网格员 赵敏"),
    "analyst": ("analyst", "分析员 陈静"),
    "xinxi": ("informant", "信息员 孙丽"),
}
#: grids per demo grid worker (each its own, in code order, one 社区 after another)
GRIDS_PER_WORKER = 3
DEMO_LAYERS = ("boundaries", "compounds", "buildings", "roads", "facilities")


@dataclass
class DemoOutcome:
    """What :func:`build_demo` made."""

    gpkg: Path
    map_path: Path
    counts: dict
    partitions: list = field(default_factory=list)
    accounts: dict = field(default_factory=dict)
    reused: bool = False


def build_demo(
    store,
    *,
    instance_dir: Path,
    seed: int = 0,
    progress: Callable[[str], None] = print,
) -> DemoOutcome:
    """Generate, import, partition, assign and map the demo 街道 into ``store``.

    The street is generated (seeded) into ``<instance>/data/demo/street.gpkg``
    and imported layer by layer through :func:`import_file`, as a user's file
    would be. A database that already holds the demo is reused, not
    duplicated.
    """
    from gridmgmt.domain.partitioning import partition_communities
    from gridmgmt.synthetic import generate_street, save_street

    gpkg = Path(instance_dir) / "data" / "demo" / "street.gpkg"
    reused = store.counts()["buildings"] > 0
    steps = 5
    if reused:
        progress(
            f"[1/{steps}] database holds data already: reusing it (use a new --workdir for a fresh demo)"
        )
    else:
        progress(f"[1/{steps}] generating the demo 街道 (seed {seed}) -> {gpkg}")
        street = generate_street(seed)
        gpkg.parent.mkdir(parents=True, exist_ok=True)
        save_street(street, gpkg)
        progress(f"[2/{steps}] importing {gpkg.name}")
        for layer in DEMO_LAYERS:
            outcome = import_file(store, gpkg, kind=layer, layer=layer)
            progress(f"      {layer}: {outcome.written.get(layer, 0)} written")

    partitions = []
    if store.counts()["grids"] == 0:
        progress(f"[3/{steps}] partitioning each 社区 into 责任网格")
        partitions = partition_communities(
            store, seed=seed, progress=lambda m: progress("      " + m)
        )
        for p in partitions:
            progress(f"      {p.name}: version {p.version}\n" + _indent(str(p.result.report), 8))
    else:
        progress(f"[3/{steps}] grids exist already: kept")

    progress(f"[4/{steps}] demo accounts and incident categories")
    accounts = _demo_accounts(store)
    from gridmgmt.domain.incidents import load_categories

    store.sync_categories(load_categories())
    from gridmgmt.demo.incidents import generate_incident_month, write_demo_photo

    write_demo_photo(Path(instance_dir))  # the photo the demo cases show
    if not reused and not len(store.incidents()):
        made = generate_incident_month(store, seed=seed)
        progress(f"      {made} demo incidents over the last 30 days, run through the workflow")
        from gridmgmt.demo.patrols import generate_patrol_month
        from gridmgmt.store.patrols import PatrolStore

        patrols = generate_patrol_month(store, PatrolStore(store), seed=seed)
        from gridmgmt.demo.residents import generate_resident_reports, generate_zero_reports

        residents = generate_resident_reports(store, seed=seed)
        zero = generate_zero_reports(store, "xinxi")
        progress(
            f"      {residents['reports']} residents' reports ({residents['rated']} rated in 回访),"
            f" {zero} 零报告 of 信息员 xinxi"
        )
        progress(
            f"      {patrols['patrols']} demo patrols ({patrols['missed_days']} working days "
            f"missed, one spoofed track), {patrols['diary']} 民情日记 entries"
        )
        from gridmgmt.demo.household_visits import generate_visits

        visits = generate_visits(store, seed=seed)
        progress(f"      {visits} households confirmed or corrected on 走访 (房屋台账)")

    if not reused:
        _demo_rebalance_proposal(store, progress)

    progress(f"[5/{steps}] drawing the map")
    map_path = write_overview_map(store, Path(instance_dir) / "maps" / "demo.html")
    return DemoOutcome(gpkg, map_path, store.counts(), partitions, accounts, reused)


def _demo_rebalance_proposal(store, progress: Callable[[str], None]) -> None:
    """One pending automatic rebalance proposal, so the 网格调整 page has something to decide."""
    from gridmgmt.domain.rebalancing import draft_auto, load_community, propose
    from gridmgmt.store.proposals import ProposalStore

    grids = store.current_grids()
    if len(grids) == 0:
        return
    residential = grids[grids["kind"] == "residential"]
    out = residential[(residential["households"] < 250) | (residential["households"] > 500)]
    if len(out) == 0:  # every grid in band: families move into the fullest grid's buildings
        out = _demo_household_change(store, residential, progress)
    community = (out if len(out) else grids)["community_code"].value_counts().index[0]
    proposals = ProposalStore(store)
    try:
        draft = draft_auto(load_community(store, proposals, community))
    except ValueError as err:
        progress(f"      no demo rebalance proposal: {err}")
        return
    pid = propose(proposals, draft, author="demo")
    progress(
        f"      pending rebalance proposal {pid} for {draft.state.name}: "
        f"{len(draft.moves)} building(s) would move (网格调整 page)"
    )


def _demo_household_change(store, residential, progress: Callable[[str], None]):
    """A ledger update that takes the fullest grid ~40 households over the band; its grid row."""
    from gridmgmt.domain.households import apply_ledger

    fullest = residential.sort_values(["households", "code"]).iloc[-1]
    buildings = store.read_layer("buildings", grid_codes=[fullest["code"]])
    top = buildings.sort_values(["households", "building_id"]).tail(2)
    extra = 540 - int(fullest["households"])
    added = [extra // 2, extra - extra // 2][: len(top)]
    ledger = pd.DataFrame(
        {"building_id": top["building_id"], "households": top["households"] + added}
    )
    outcome = apply_ledger(store, ledger)
    for r in outcome.grids.itertuples():
        progress(
            f"      household change (ledger): grid {r.code} {r.before} -> {r.after} households"
        )
    return outcome.out_of_band


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


def _demo_accounts(store) -> dict[str, str]:
    existing = set(store.users()["username"])
    grids = store.current_grids()
    residential = grids[grids["kind"] == "residential"].sort_values("code")
    # one worker per 社区: the first grids of each
    firsts = [
        frame["code"].head(GRIDS_PER_WORKER).tolist()
        for _, frame in residential.groupby("community_code", sort=True)
    ]
    made, k = {}, 0
    for username, (role, display) in DEMO_ACCOUNTS.items():
        codes: list[str] = []
        if role == "worker":
            codes = firsts[k % len(firsts)] if firsts else []
            k += 1
        elif role == "informant":  # a 信息员 in the first worker's first grid
            codes = firsts[0][:1] if firsts else []
        if username not in existing:
            create_user(
                store, username, DEMO_PASSWORD, role, display_name=display, grid_codes=codes
            )
        made[username] = role
    return made


def write_overview_map(store, path: Path) -> Path:
    """The folium overview of everything stored, written to ``path``."""
    from gridmgmt.maps import grid_overview_map, save_map

    streets = store.admin_areas("street")
    title = "、".join(streets["name"]) if len(streets) else "gridmgmt"
    fmap = grid_overview_map(
        communities=store.admin_areas("community"),
        grids=store.current_grids(),
        buildings=store.read_layer("buildings"),
        roads=store.read_layer("roads"),
        facilities=store.read_layer("facilities"),
        title=f"{title} 责任网格",
    )
    return save_map(fmap, path)
