"""Use case: cut stored 社区 into 责任网格 and keep every layer located in a grid."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridmgmt.domain.repositories import GridRepository, LayerRepository


@dataclass
class CommunityPartition:
    """The outcome for one 社区: the version written and the engine's result."""

    code: str
    name: str
    version: int
    result: object  # gridmgmt.core.partition.PartitionResult


def _locate(objects: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Code of the area each object falls in (largest share), None outside all."""
    from gridmgmt.core.assignment import assign

    if len(objects) == 0:
        return pd.Series([], dtype=object)
    return assign(objects, areas[["code", "geometry"]], code_column="code")["grid_code"]


def partition_communities(
    repo: LayerRepository | GridRepository,
    *,
    communities: Iterable[str] | None = None,
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[CommunityPartition]:
    """Partition stored 社区 and write each as a new grid version.

    Buildings, roads and compounds are read once; each building goes to the
    社区 holding most of its footprint. After the grids are written,
    facilities are re-assigned to the current grids.

    Parameters
    ----------
    repo : Store
        Layer and grid repository.
    communities : iterable of str, optional
        社区 names or codes; default all.
    min_households, max_households : int
        The household band of a residential grid.
    seed : int
        Seed for the partition engine (results are reproducible).
    progress : callable, optional
        Called with a message per 社区.
    """
    from gridmgmt.core.partition import partition

    areas = repo.admin_areas("community")
    if len(areas) == 0:
        raise ValueError("no 社区 stored: import boundaries (or run `gridmgmt demo`) first")
    if communities is not None:
        wanted = [repo.community(c)["code"] for c in communities]
        areas = areas[areas["code"].isin(wanted)]
    buildings = repo.read_layer("buildings")
    if len(buildings) == 0:
        raise ValueError("no buildings stored: import buildings first")
    roads = repo.read_layer("roads")
    compounds = repo.read_layer("compounds")
    building_area = _locate(buildings, areas)

    outcomes = []
    for area in areas.itertuples():
        mine = buildings[building_area.values == area.code]
        if progress:
            progress(f"{area.name} ({area.code}): {len(mine)} buildings")
        if len(mine) == 0:
            continue
        boundary = gpd.GeoSeries([area.geometry], crs=areas.crs)
        result = partition(
            mine.reset_index(drop=True),
            boundary=boundary,
            roads=_clip(roads, area.geometry),
            compounds=_clip(compounds, area.geometry),
            min_households=min_households,
            max_households=max_households,
            code_prefix=area.code,
            seed=seed,
        )
        labels = pd.Series(
            result.labels.values, index=mine["building_id"].to_numpy()[result.labels.index]
        )
        version = repo.write_grid_version(area.code, result.grids, labels)
        outcomes.append(CommunityPartition(area.code, area.name, version, result))
    if outcomes:  # facilities and open incidents of the changed 社区 only
        changed = areas[areas["code"].isin([o.code for o in outcomes])]
        bbox = tuple(changed.total_bounds)
        assign_facilities(repo, bbox=bbox)
        reassign_incidents(repo, bbox=bbox)
    return outcomes


def reassign_incidents(repo, *, bbox=None) -> int:
    """Put open incidents (in ``bbox``) into the current grids; returns how many changed grid.

    Incidents without a location stay in the unassigned queue; ones now outside
    every grid join it with their reason.
    """
    from gridmgmt.core.assignment import assign

    points = repo.incident_points(bbox=bbox)
    located = points[points.geometry.notna()]
    grids = repo.current_grids()
    if len(located) == 0 or len(grids) == 0:
        return 0
    placed = assign(located.set_index("id"), grids)
    repo.set_incident_grids(placed[["grid_code", "reason"]])
    return len(placed)


def _clip(frame: gpd.GeoDataFrame, polygon) -> gpd.GeoDataFrame | None:
    if frame is None or len(frame) == 0:
        return None
    return frame[frame.intersects(polygon)].reset_index(drop=True)


def reassign(repo, layers=("buildings", "facilities"), *, bbox=None) -> dict[str, int]:
    """Re-locate stored objects in the current grids; only those in ``bbox`` when given.

    Called after grids change, with the bounding box of the changed grids, so
    that only affected objects are read and written. Objects that fall
    outside every grid get no grid code (the unassigned queue).

    Returns
    -------
    dict
        Per layer: how many objects were placed in a grid.
    """
    grids = repo.current_grids()
    placed = {}
    for layer in layers:
        frame = repo.read_layer(layer, bbox=bbox)
        if len(frame) == 0 or len(grids) == 0:
            placed[layer] = 0
            continue
        id_col = "building_id" if layer == "buildings" else "facility_id"
        codes = _locate(frame, grids)
        repo.set_grid_codes(
            layer, pd.Series(codes.to_numpy(dtype=object), index=frame[id_col].to_numpy())
        )
        placed[layer] = int(codes.notna().sum())
    return placed


def assign_facilities(repo: LayerRepository | GridRepository, bbox=None) -> int:
    """Put every facility (in ``bbox``) into the current grid that holds it; returns how many landed."""
    return reassign(repo, ("facilities",), bbox=bbox)["facilities"]


def partition_files(
    buildings_path,
    out_path,
    *,
    boundary=None,
    roads=None,
    compounds=None,
    zones=None,
    min_households: int = 250,
    max_households: int = 500,
    code_prefix: str = "000000000000",
    seed: int = 0,
    coords: str = "wgs84",
):
    """Partition the buildings of a file and write ``grids`` and ``buildings`` layers to a GeoPackage.

    An OSM file gives buildings (households estimated), roads and land-use
    compounds at once; other files can add them with ``roads``/``compounds``.
    """
    from gridmgmt.core.partition import partition
    from gridmgmt.io import read_layers, read_polygons

    layers = read_layers(buildings_path, coords=coords)
    if len(layers.buildings) == 0:
        raise ValueError(f"{buildings_path}: no buildings found")
    road_frame = read_layers(roads, kind="roads", coords=coords).roads if roads else layers.roads
    compound_frame = (
        read_layers(compounds, kind="compounds", coords=coords).compounds
        if compounds
        else layers.compounds
    )
    boundary_frame = read_polygons(boundary, coords) if boundary else None
    zone_frame = read_polygons(zones, coords) if zones else None
    result = partition(
        layers.buildings,
        boundary=boundary_frame,
        roads=road_frame if len(road_frame) else None,
        compounds=compound_frame if len(compound_frame) else None,
        zones=zone_frame,
        min_households=min_households,
        max_households=max_households,
        code_prefix=code_prefix,
        seed=seed,
    )
    b = layers.buildings[["building_id", "households", "geometry"]].copy()
    b.insert(2, "grid_code", result.labels.to_numpy())
    out = Path(out_path)
    if out.exists():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    result.grids.to_file(out, layer="grids", driver="GPKG")
    b.rename(columns={"building_id": "id"}).to_file(out, layer="buildings", driver="GPKG")
    return result


def assign_file(objects_path, grids_path, out_path, *, coords: str = "wgs84") -> dict[str, int]:
    """Assign every feature of a file to the grids of another; write it with ``grid_code``/``reason``.

    Objects are read like any import (so GCJ-02/BD-09 input is converted and
    bad input is refused with the row named); all their columns are kept.
    """
    import pyogrio

    from gridmgmt.core.assignment import assign
    from gridmgmt.io import read_layers

    layers = pyogrio.list_layers(grids_path)
    name = "grids" if "grids" in [str(n) for n, _ in layers] else str(layers[0][0])
    grids = pyogrio.read_dataframe(grids_path, layer=name)
    result = read_layers(objects_path, coords=coords)
    frames = [f for f in (result.facilities, result.buildings, result.roads) if len(f)]
    if not frames:
        raise ValueError(f"{objects_path}: nothing to assign")
    objects = frames[0]
    placed = assign(objects, grids)
    out_frame = objects.join(placed)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        table = out_frame.drop(columns="geometry")
        table["lon"], table["lat"] = (
            out_frame.geometry.representative_point().x,
            out_frame.geometry.representative_point().y,
        )
        table.to_csv(out, index=False, encoding="utf-8-sig")
    else:
        if out.exists():
            out.unlink()
        out_frame.to_file(
            out, driver="GeoJSON" if out.suffix.lower() in (".geojson", ".json") else "GPKG"
        )
    return {
        "total": len(placed),
        "assigned": int(placed["grid_code"].notna().sum()),
        "unassigned": int(placed["grid_code"].isna().sum()),
    }
