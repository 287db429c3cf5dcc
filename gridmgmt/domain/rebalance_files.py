"""Use case: rebalance grids kept in files (the file mode of ``gridmgmt rebalance``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def _grids_and_labels(grids_path) -> tuple:
    """The ``grids`` layer of a partition output and, if present, its buildings' grid codes."""
    import pyogrio

    names = [str(n) for n, _ in pyogrio.list_layers(grids_path)]
    layer = "grids" if "grids" in names else names[0]
    grids = pyogrio.read_dataframe(grids_path, layer=layer)
    if "code" not in grids.columns:
        raise ValueError(f"{grids_path}: layer {layer!r} has no column code")
    grids["code"] = grids["code"].astype(str)
    labels = None
    if "buildings" in names and layer != "buildings":
        old = pyogrio.read_dataframe(grids_path, layer="buildings", read_geometry=False)
        id_col = next((c for c in ("id", "building_id", "source_id") if c in old.columns), None)
        if id_col and "grid_code" in old.columns:
            labels = pd.Series(
                old["grid_code"].astype(object).to_numpy(), index=old[id_col].astype(str)
            )
    return grids, labels


def rebalance_files(
    grids_path,
    buildings_path,
    out_path,
    *,
    roads=None,
    compounds=None,
    zones=None,
    min_households: int = 250,
    max_households: int = 500,
    locked: Iterable[str] = (),
    used_codes: Iterable[str] = (),
    seed: int = 0,
    coords: str = "wgs84",
    split_compounds: bool = True,
):
    """Rebalance the grids of a partition output for updated buildings; write a new GeoPackage.

    Parameters
    ----------
    grids_path : path-like
        GeoPackage written by ``gridmgmt partition`` (layers ``grids`` and
        ``buildings``; the latter gives the current grid of each building).
    buildings_path : path-like
        The updated buildings, any format the importer reads; buildings
        not in ``grids_path`` (new ones) are placed by location.
    out_path : path-like
        GeoPackage to write: layers ``grids``, ``buildings`` (id,
        households, grid_code) and ``moves``.
    roads, compounds, zones : path-like, optional
        Extra layers, as for ``gridmgmt partition``.
    split_compounds : bool
        False keeps every compound that fits a grid whole, even when a grid
        then stays out of band (see :func:`gridmgmt.core.rebalance.rebalance`).

    Returns
    -------
    RebalanceResult
    """
    from gridmgmt.core.rebalance import rebalance
    from gridmgmt.io import read_layers, read_polygons

    grids, old_labels = _grids_and_labels(grids_path)
    layers = read_layers(buildings_path, coords=coords)
    buildings = layers.buildings
    if len(buildings) == 0:
        raise ValueError(f"{buildings_path}: no buildings found")
    buildings = buildings.rename(columns={"building_id": "id"})
    buildings["id"] = buildings["id"].astype(str)
    if "grid_code" not in buildings.columns:
        buildings["grid_code"] = (
            buildings["id"].map(old_labels).astype(object) if old_labels is not None else None
        )
    road_frame = read_layers(roads, kind="roads", coords=coords).roads if roads else layers.roads
    compound_frame = (
        read_layers(compounds, kind="compounds", coords=coords).compounds
        if compounds
        else layers.compounds
    )
    result = rebalance(
        grids,
        buildings,
        roads=road_frame if len(road_frame) else None,
        compounds=compound_frame if len(compound_frame) else None,
        zones=read_polygons(zones, coords) if zones else None,
        min_households=min_households,
        max_households=max_households,
        locked=tuple(locked),
        used_codes=tuple(used_codes),
        seed=seed,
        split_compounds=split_compounds,
    )
    out = Path(out_path)
    if out.exists():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    b = buildings[["id", "households", "geometry"]].copy()
    b.insert(2, "grid_code", result.labels.reindex(b["id"]).to_numpy())
    result.grids.to_file(out, layer="grids", driver="GPKG")
    b.to_file(out, layer="buildings", driver="GPKG")
    moves = result.moves.copy()
    moves["households"] = moves["households"].astype("int64")
    moves.to_file(out, layer="moves", driver="GPKG")
    return result
