"""Use case: import a file into the store, all or nothing."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridmgmt.core.layers import WGS84
from gridmgmt.domain.repositories import LayerRepository

LAYERS = ("boundaries", "compounds", "buildings", "roads", "facilities")


@dataclass
class ImportOutcome:
    """What an import read (the reader's report) and wrote (rows per layer)."""

    report: object
    written: dict[str, int] = field(default_factory=dict)


def import_file(
    repo: LayerRepository,
    path: str | Path,
    *,
    kind: str | None = None,
    coords: str = "wgs84",
    layer: str | None = None,
    ledger: str | Path | None = None,
    strict: bool = False,
    replace: bool = False,
    dwelling_size_m2: float = 90.0,
    china: bool = True,
    boundary_coords: str | None = None,
    crs=None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Read ``path`` with :func:`gridmgmt.io.read_layers` and store every layer in one transaction.

    Bad input raises :class:`gridmgmt.io.errors.InputError` before anything is
    written; ids that are stored already raise
    :class:`~gridmgmt.domain.errors.ConflictError` unless ``replace``.

    Boundaries are compared with the buildings and roads around them (this
    file's and the stored ones), and buildings with the stored 社区: a
    boundary that fits markedly better moved by the GCJ-02 offset is refused
    (:mod:`gridmgmt.domain.boundary_checks`), unless ``boundary_coords``
    (the boundaries' coordinate system, default ``coords``) is given.

    A large buildings, roads or facilities file (one layer of more than
    ``chunk_size`` features, default
    :data:`gridmgmt.io.readers.DEFAULT_CHUNK_SIZE`, and no ledger) is read
    and written in parts of that size inside the one transaction, so memory
    stays bounded; the stored rows and the import report are the same as for
    a read in one go. Buildings read in parts are compared with the stored
    社区 part by part. ``crs`` is the CRS of a file that declares none
    (GeoParquet with ``crs: null``); ``progress(done, total)`` is called
    with the features read so far.
    """
    from gridmgmt.io import read_layers
    from gridmgmt.io.fast_io import count_features
    from gridmgmt.io.readers import DEFAULT_CHUNK_SIZE, in_parts, read_layer_parts

    size = chunk_size or DEFAULT_CHUNK_SIZE
    if in_parts(path, kind=kind, layer=layer, ledger=ledger, chunk_size=size):
        total = count_features(path, layer)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        parts = read_layer_parts(
            path,
            kind=kind,
            coords=coords,
            strict=strict,
            layer=layer,
            dwelling_size_m2=dwelling_size_m2,
            china=china,
            crs=crs,
            chunk_size=size,
            progress=step,
        )
        with repo.import_session(source=str(path), replace=replace) as writer:
            report = None
            for part in prefetched(parts):  # the next part is read while this one is written
                check_against_stored(repo, part, path)
                writer.write({name: getattr(part, name) for name in LAYERS})
                report = part.report
            writer.summary = report.to_dict()
        return ImportOutcome(report=report, written=writer.counts)
    result = read_layers(
        path,
        kind=kind,
        coords=coords,
        strict=strict,
        ledger=ledger,
        layer=layer,
        dwelling_size_m2=dwelling_size_m2,
        china=china,
        boundary_coords=boundary_coords,
        crs=crs,
    )
    if progress is not None:
        n = sum(r.read for r in result.report.layers.values())
        progress(n, n)
    if boundary_coords is None:
        check_against_stored(repo, result, path)
    layers = {name: getattr(result, name) for name in LAYERS}
    written = repo.write_layers(
        layers, source=str(path), summary=result.report.to_dict(), replace=replace
    )
    return ImportOutcome(report=result.report, written=written)


def prefetched(items: Iterator, depth: int = 1) -> Iterator:
    """``items`` produced in a background thread, up to ``depth`` ahead of the consumer.

    Reading and checking a part (GEOS, numpy, GDAL: mostly outside the GIL)
    overlaps with writing the previous one (SQLite, a COPY stream), so the
    two cores of a small server both work. An exception in the producer is
    raised in the consumer; a consumer that stops early stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            buffer.put((done, err))

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            item, err = buffer.get()
            if err is not None:
                raise err
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                buffer.get(timeout=0.1)
        worker.join()


#: how far (degrees) around new data stored data is read for the boundary check
NEAR_DEG = 0.02


def check_against_stored(repo: LayerRepository, result, path: str | Path) -> None:
    """Refuse boundaries, or buildings, sitting off the other by the GCJ-02 offset.

    New boundaries are compared with this file's and the stored buildings and
    roads near them; new buildings with the stored 社区 near them. A
    boundary missing the data is not refused here (a store may hold several
    areas): partitioning says so.
    """
    from gridmgmt.domain.boundary_checks import check_boundary

    if len(result.boundaries):
        box = _around(result.boundaries)
        buildings = _joined(result.buildings, repo.read_layer("buildings", bbox=box))
        roads = _joined(result.roads, repo.read_layer("roads", bbox=box))
        check_boundary(
            result.boundaries,
            buildings,
            roads,
            path=path,
            subject="the boundaries",
            data="the buildings (this file's and the stored ones)",
            misses_is_error=False,
        )
    elif len(result.buildings):
        areas = repo.admin_areas("community")
        if len(areas) == 0:
            return
        areas = areas[areas.intersects(shapely.box(*_around(result.buildings)))]
        check_boundary(
            areas,
            result.buildings,
            result.roads,
            path=path,
            subject="the stored 社区 boundaries",
            data=Path(path).name,
            misses_is_error=False,
            boundary_fix=(
                "re-import the boundary file with --boundary-coords gcj02 (it replaces the "
                "stored outlines), then this file"
            ),
        )


def _around(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = frame.to_crs(WGS84).total_bounds
    return (minx - NEAR_DEG, miny - NEAR_DEG, maxx + NEAR_DEG, maxy + NEAR_DEG)


def _joined(new: gpd.GeoDataFrame, stored: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frames = [f[["geometry"]].to_crs(WGS84) for f in (new, stored) if len(f)]
    if not frames:
        return new
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)
