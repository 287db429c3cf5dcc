"""Use case: import a file into the store, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
) -> ImportOutcome:
    """Read ``path`` with :func:`gridmgmt.io.read_layers` and store every layer in one transaction.

    Bad input raises :class:`gridmgmt.io.errors.InputError` before anything is
    written; ids that are stored already raise
    :class:`~gridmgmt.domain.errors.ConflictError` unless ``replace``.
    """
    from gridmgmt.io import read_layers

    result = read_layers(
        path,
        kind=kind,
        coords=coords,
        strict=strict,
        ledger=ledger,
        layer=layer,
        dwelling_size_m2=dwelling_size_m2,
        china=china,
    )
    layers = {name: getattr(result, name) for name in LAYERS}
    written = repo.write_layers(
        layers, source=str(path), summary=result.report.to_dict(), replace=replace
    )
    return ImportOutcome(report=result.report, written=written)
