"""Use case: rebalance every partitioned 社区 at once, serially or on Dask.

Each 社区 is one task of :mod:`gridmgmt.domain.batch`: its
current grids, buildings, roads and compounds are read here
(:func:`~gridmgmt.domain.rebalancing.load_community`), the automatic
rebalance (:func:`~gridmgmt.domain.rebalancing.draft_auto`, pure
computation) runs as the task, and the result is stored here as a pending
proposal (with ``approve``: stored and approved in one transaction, so a
failure leaves neither), as each task finishes. A 社区
that fails is listed; the others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gridmgmt.domain.rebalancing import (
    ProposalRepository,
    StoredRebalance,
    draft_auto,
    load_community,
    propose,
    propose_and_approve,
    workload_weights,
)


@dataclass
class RebalanceRun:
    """What :func:`rebalance_all` did: per 社区 code its proposal, and the failures."""

    outcomes: dict[str, StoredRebalance]
    failures: list  # of gridmgmt.domain.batch.BatchFailure

    def summary(self) -> str:
        """The totals and one line per failed 社区."""
        approved = sum(o.version is not None for o in self.outcomes.values())
        lines = [
            f"{len(self.outcomes)} 社区 rebalanced ({approved} approved), "
            f"{len(self.failures)} failed"
        ]
        lines += [f"  {f.item.label}: {f.step} failed: {f.error}" for f in self.failures]
        return "\n".join(lines)


def rebalance_task(state, band: dict, locked: tuple, seed: int, workload, split: bool):
    """The automatic rebalance of one loaded 社区 (pure computation: the task run on a worker)."""
    return draft_auto(
        state,
        min_households=band["min_households"],
        max_households=band["max_households"],
        locked=locked,
        seed=seed,
        workload=workload,
        split_compounds=split,
    )


def rebalance_all(
    repo,
    proposals: ProposalRepository,
    *,
    communities: Iterable[str] | None = None,
    author: str = "cli",
    approve: bool = False,
    locked: Iterable[str] = (),
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    balance_workload: tuple[datetime, datetime] | None = None,
    split_compounds: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    show_bar: bool = True,
) -> RebalanceRun:
    """Rebalance every 社区 that has grids (or those named) into proposals.

    Parameters
    ----------
    repo : Store
        Layer and grid repository.
    proposals : ProposalRepository
        Where proposals are stored and approved.
    communities : iterable of str, optional
        社区 names or codes; default every 社区 with current grids.
    approve : bool
        Approve each proposal at once (the 社区's next grid version).
    locked : iterable of str
        Grid codes that must not change, whichever 社区 they belong to.
    min_households, max_households, seed, split_compounds
        As :func:`gridmgmt.domain.rebalancing.draft_auto`.
    balance_workload : (datetime, datetime), optional
        Also even out the workload of that period between neighbours.
    workers, scheduler
        Dask executor (:func:`gridmgmt.domain.batch.executor`); default serial.
    show_bar : bool
        Show a progress bar on stderr.

    Raises
    ------
    ValueError
        No 社区 has grids.
    BatchSetupError
        Dask missing or the scheduler not answering (nothing written).
    """
    from gridmgmt.domain.batch import BatchItem, executor

    with executor(workers, scheduler) as ex:
        grids = repo.current_grids()
        if communities is not None:
            codes = [repo.community(c)["code"] for c in communities]
        else:
            codes = sorted(set(grids["community_code"].dropna()))
        if not codes:
            raise ValueError("no 社区 has grids: run `gridmgmt partition --all` first")
        areas = repo.admin_areas("community")
        names = dict(zip(areas["code"], areas["name"], strict=True))
        locked = set(locked)
        grid_community = dict(zip(grids["code"], grids["community_code"], strict=True))
        unknown = sorted(c for c in locked if c not in grid_community)
        if unknown:
            raise ValueError(f"--lock: {', '.join(unknown)} are not current grids")
        band = {"min_households": min_households, "max_households": max_households}

        def prepare(code: str) -> tuple:
            state = load_community(repo, proposals, code)
            workload = None
            if balance_workload is not None:
                workload = workload_weights(repo, state, *balance_workload)
            mine = tuple(sorted(c for c in locked if grid_community[c] == code))
            return state, band, mine, seed, workload, split_compounds

        def write(code: str, draft) -> StoredRebalance:
            if approve:  # proposal and approval in one transaction: nothing half-written
                proposal_id, version = propose_and_approve(repo, proposals, draft, author=author)
                return StoredRebalance(proposal_id, version, draft)
            return StoredRebalance(propose(proposals, draft, author=author), None, draft)

        items = [BatchItem(code, f"{names.get(code, code)} ({code})") for code in codes]
        batch = ex.run(
            items,
            prepare,
            rebalance_task,
            write,
            description="rebalance",
            progress=show_bar,
        )
        return RebalanceRun(dict(sorted(batch.written.items())), batch.failures)
