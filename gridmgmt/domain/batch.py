"""Run one computation per 社区, serially or on Dask, writing each result as it finishes.

A city-wide command (``partition --all``, ``rebalance --all``,
``assign --stored``) is the same three steps for every 社区:

1. ``prepare(key)`` in this process reads the 社区's inputs (GeoDataFrames);
2. ``compute(*inputs)`` is pure computation: no store, no files; it runs
   here (serial) or as a task on a ``dask.distributed`` cluster
   (:func:`executor`): a ``LocalCluster`` of ``workers`` processes, or an
   existing cluster at ``scheduler`` used unchanged;
3. ``write(key, result)`` in this process stores the result, one 社区 per
   transaction, in the order the tasks finish (``as_completed``).

An error in any step of one 社区 is recorded for that 社区 and the others
go on; its transaction is rolled back by the store, so nothing of it is half
written. A progress bar (tqdm) goes to stderr. Dask is imported only when
``workers`` or ``scheduler`` is given.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gridmgmt.domain.errors import GridmgmtError

#: seconds to wait for an existing scheduler to answer
CONNECT_TIMEOUT = 5.0
DASK_MISSING = (
    "Dask is not installed: install the extra with `pip install 'gridmgmt[dask]'` "
    "(dask[distributed]), or run without --workers/--scheduler (serial). Nothing was written."
)


class BatchSetupError(GridmgmtError):
    """The executor cannot start (Dask missing, scheduler not answering); nothing was run."""


@dataclass(frozen=True)
class BatchItem:
    """One unit of work: ``key`` is passed to ``prepare`` and ``write``; ``label`` names it.

    ``weight`` (e.g. the 社区's buildings) orders the tasks on Dask, heaviest
    first, so that no long task starts last while the other worker idles.
    """

    key: str
    label: str
    weight: float = 0.0


@dataclass
class BatchFailure:
    """A 社区 whose work failed, with the step and the error message."""

    item: BatchItem
    step: str  # "read", "compute" or "write"
    error: str


@dataclass
class BatchOutcome:
    """What a batch did: ``written`` maps keys to ``write``'s return values, in finishing order."""

    written: dict[str, Any] = field(default_factory=dict)
    failures: list[BatchFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no 社区 failed."""
        return not self.failures

    def summary(self) -> str:
        """One line for the totals, one per failed 社区."""
        lines = [f"{len(self.written)} done, {len(self.failures)} failed"]
        lines += [f"  {f.item.label}: {f.step} failed: {f.error}" for f in self.failures]
        return "\n".join(lines)


def _message(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text if isinstance(err, GridmgmtError | ValueError) else f"{type(err).__name__}: {text}"


def _bar(total: int, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="社区", file=sys.stderr, disable=not enabled)


class Executor:
    """Where per-社区 tasks run: here or on a Dask cluster (see :func:`executor`).

    ``client`` is a Dask client, or a :class:`concurrent.futures.Future` of
    one (a cluster still starting while the caller reads its inputs), or
    None to run serially.
    """

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        """The Dask client (waiting for a starting cluster), or None when serial."""
        if isinstance(self._client, Future):
            self._client = self._client.result()[0]
        return self._client

    def run(
        self,
        items: Sequence[BatchItem],
        prepare: Callable[[str], tuple],
        compute: Callable[..., Any],
        write: Callable[[str, Any], Any],
        *,
        description: str = "社区",
        progress: bool = True,
    ) -> BatchOutcome:
        """Prepare, compute and write every item; per-item errors are collected, not raised.

        Parameters
        ----------
        items : sequence of BatchItem
            The 社区 to work on.
        prepare : callable
            ``prepare(key) -> tuple`` of the inputs of ``compute`` (runs here).
        compute : callable
            A module-level (picklable) pure function ``compute(*inputs)``.
        write : callable
            ``write(key, result)`` stores the result (runs here, as each finishes).
        description : str
            Label of the progress bar.
        progress : bool
            Show the progress bar on stderr.
        """
        outcome = BatchOutcome()
        if self.client is None:
            with _bar(len(items), description, progress) as bar:
                for item in items:
                    _serial_item(item, prepare, compute, write, outcome)
                    bar.update()
        else:
            _dask_items(self.client, items, prepare, compute, write, outcome, description, progress)
        return outcome


@contextmanager
def executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """The executor for ``--workers``/``--scheduler``: serial, a new LocalCluster or a scheduler.

    Connect before reading anything, so that a missing Dask or a silent
    scheduler stops the command at once with nothing read or written.

    Parameters
    ----------
    workers : int, optional
        Run on a new ``dask.distributed.LocalCluster`` of that many processes
        (one thread each). Default (and without ``scheduler``): serially here.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``), used as is.

    Raises
    ------
    BatchSetupError
        Dask is not installed, or the scheduler does not answer within
        :data:`CONNECT_TIMEOUT` seconds.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be 1 or more, got {workers}")
    if workers is None and scheduler is None:
        yield Executor()
        return
    if scheduler is not None:
        client, cluster = _connect(workers, scheduler)
        try:
            yield Executor(client)
        finally:
            client.close()
        return
    _dask_installed()
    # a LocalCluster takes seconds to start: it starts while the caller reads its inputs
    with ThreadPoolExecutor(1, thread_name_prefix="dask-start") as starter:
        starting = starter.submit(_connect, workers, None)
        try:
            yield Executor(starting)
        finally:
            if starting.exception() is None:  # a failed start has nothing to close
                client, cluster = starting.result()
                client.close()
                cluster.close()


def run_batch(
    items: Sequence[BatchItem],
    prepare: Callable[[str], tuple],
    compute: Callable[..., Any],
    write: Callable[[str, Any], Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    description: str = "社区",
    progress: bool = True,
) -> BatchOutcome:
    """:meth:`Executor.run` on the :func:`executor` of ``workers``/``scheduler``."""
    with executor(workers, scheduler) as ex:
        return ex.run(items, prepare, compute, write, description=description, progress=progress)


def _serial_item(item, prepare, compute, write, outcome: BatchOutcome) -> None:
    step = "read"
    try:
        inputs = prepare(item.key)
        step = "compute"
        result = compute(*inputs)
        step = "write"
        outcome.written[item.key] = write(item.key, result)
    except Exception as err:  # noqa: BLE001 - one 社区's error must not stop the others
        outcome.failures.append(BatchFailure(item, step, _message(err)))


def _connect(workers: int | None, scheduler: str | None):
    """A Dask client on a new LocalCluster, or on the scheduler at ``scheduler``."""
    _dask_installed()
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as err:
            raise BatchSetupError(
                f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT:g} s "
                f"({type(err).__name__}); start one (`dask scheduler`) or give --workers N "
                "for a local cluster. Nothing was written."
            ) from err
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=0,
    )
    return Client(cluster, set_as_default=False), cluster


def _dask_installed() -> None:
    """Raise :class:`BatchSetupError` when ``dask.distributed`` cannot be imported."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError as err:
        raise BatchSetupError(DASK_MISSING) from err


def _dask_items(client, items, prepare, compute, write, outcome, description, progress) -> None:
    from dask.distributed import as_completed

    run = uuid.uuid4().hex[:8]
    pending = {}
    heaviest_first = sorted(items, key=lambda item: -item.weight)  # stable: ties keep order
    with _bar(len(items), description, progress) as bar:
        for item in heaviest_first:
            try:
                inputs = prepare(item.key)
            except Exception as err:  # noqa: BLE001
                outcome.failures.append(BatchFailure(item, "read", _message(err)))
                bar.update()
                continue
            future = client.submit(compute, *inputs, key=f"{item.key}-{run}", pure=False)
            pending[future.key] = (future, item)
        for future in as_completed([f for f, _ in pending.values()], loop=client.loop):
            _, item = pending.pop(future.key)
            step = "compute"
            try:
                result = future.result()
                step = "write"
                outcome.written[item.key] = write(item.key, result)
            except Exception as err:  # noqa: BLE001
                outcome.failures.append(BatchFailure(item, step, _message(err)))
            finally:
                future.release()
            bar.update()
