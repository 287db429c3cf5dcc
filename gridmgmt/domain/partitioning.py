"""Use case: cut stored 社区 into 责任网格 and keep every layer located in a grid."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridmgmt.core.tessellation import polygonal_part
from gridmgmt.domain.repositories import GridRepository, LayerRepository
from gridmgmt.io.errors import InputError


@dataclass
class CommunityPartition:
    """The outcome for one 社区: the version written and the engine's result.

    ``straddling`` lists the buildings cut by the 社区's boundary that it
    kept (most of their footprint inside): ``id``, ``share``.
    """

    code: str
    name: str
    version: int
    result: object  # gridmgmt.core.partition.PartitionResult
    straddling: pd.DataFrame | None = None


def _locate(objects: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Code of the area each object falls in (largest share), None outside all."""
    from gridmgmt.core.assignment import assign

    if len(objects) == 0:
        return pd.Series([], dtype=object)
    return assign(objects, areas[["code", "geometry"]], code_column="code")["grid_code"]


def community_sides(buildings: gpd.GeoDataFrame, areas: gpd.GeoDataFrame):
    """The 社区 of each building by the majority-footprint rule (:mod:`gridmgmt.core.boundary_sides`).

    ``areas`` come sorted by code (ties go to the smallest). Returns the
    :class:`~gridmgmt.core.boundary_sides.BoundarySides` (``area`` indexes ``areas``).
    """
    from gridmgmt.core.boundary_sides import footprint_sides
    from gridmgmt.core.crs import metric_crs

    crs = metric_crs(buildings)
    return footprint_sides(buildings.to_crs(crs).geometry.values, areas.to_crs(crs).geometry.values)


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
    社区 holding most of its footprint, unless more of it lies outside every
    社区 (then it is left out and listed through ``progress``), the rule
    ``gridmgmt partition FILE --boundary`` applies, so both workflows give a
    社区 the same buildings and grids. After the grids are written,
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
        Called with a message per 社区 and with the buildings outside every 社区.

    Raises
    ------
    ValueError
        No 社区 or no buildings stored.
    InputError
        The stored 社区 hold none of the stored buildings (offset or elsewhere).
    """
    from gridmgmt.core.partition import partition

    say = progress or (lambda _message: None)
    every = repo.admin_areas("community")
    if len(every) == 0:
        raise ValueError("no 社区 stored: import boundaries (or run `gridmgmt demo`) first")
    every = every.sort_values("code", kind="stable").reset_index(drop=True)
    areas = every
    if communities is not None:
        wanted = [repo.community(c)["code"] for c in communities]
        areas = every[every["code"].isin(wanted)]
    buildings = repo.read_layer("buildings")
    if len(buildings) == 0:
        raise ValueError("no buildings stored: import buildings first")
    roads = repo.read_layer("roads")
    compounds = repo.read_layer("compounds")
    sides = community_sides(buildings, every)
    if sides.outside.all():
        _refuse_missing_boundaries(every, buildings, roads)
    if sides.outside.any():
        ids = buildings["building_id"].astype(str).to_numpy()[sides.outside]
        say(
            f"{len(ids)} building(s) lie outside every stored 社区 (most of their footprint "
            f"outside) and are left out: {_listing(ids)}"
        )

    outcomes = []
    for pos, area in zip(areas.index, areas.itertuples(), strict=True):
        own = sides.area == pos
        mine = buildings[own]
        if len(mine) == 0:
            say(f"{area.name} ({area.code}): 0 buildings")
            continue
        cut = sides.cut[own]
        straddling = pd.DataFrame(
            {
                "id": mine["building_id"].astype(str).to_numpy()[cut],
                "share": sides.share[own][cut].round(3),
            }
        )
        say(
            f"{area.name} ({area.code}): {len(mine)} buildings"
            + (
                f", {len(straddling)} cut by its boundary and kept (most of the footprint "
                f"inside): {_listing(straddling['id'])}"
                if len(straddling)
                else ""
            )
        )
        mine = _clip_minorities(mine, sides.share[own], area.geometry)
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
        placed = result.labels.notna().to_numpy()
        labels = pd.Series(
            result.labels.to_numpy()[placed], index=mine["building_id"].to_numpy()[placed]
        )
        version = repo.write_grid_version(area.code, result.grids, labels)
        outcomes.append(CommunityPartition(area.code, area.name, version, result, straddling))
    if outcomes:  # facilities and open incidents of the changed 社区 only
        changed = areas[areas["code"].isin([o.code for o in outcomes])]
        bbox = tuple(changed.total_bounds)
        assign_facilities(repo, bbox=bbox)
        reassign_incidents(repo, bbox=bbox)
    return outcomes


def _listing(ids, limit: int = 10) -> str:
    ids = [str(i) for i in ids]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _clip_minorities(mine: gpd.GeoDataFrame, share, polygon) -> gpd.GeoDataFrame:
    """Buildings given to the 社区 with under half their footprint in it, clipped to it.

    Only a building spread over several 社区 and the outside gets there; the
    engine, which sees one 社区, would otherwise leave it out.
    """
    few = share < 0.5
    if not few.any():
        return mine
    mine = mine.copy()
    geoms = mine.geometry.to_numpy().copy()
    geoms[few] = [polygonal_part(g) for g in shapely.intersection(geoms[few], polygon)]
    return mine.set_geometry(list(geoms), crs=mine.crs)


def _refuse_missing_boundaries(areas, buildings, roads) -> None:
    """Raise: the stored 社区 hold none of the stored buildings (with the GCJ-02 hint if it fits)."""
    from gridmgmt.domain.boundary_checks import check_boundary

    where = "stored 社区"
    check_boundary(
        areas,
        buildings,
        roads,
        path=where,
        subject="their outlines",
        data="the stored buildings",
        boundary_fix=(
            "re-import the boundary file with --boundary-coords gcj02 "
            "(it replaces the stored outlines)"
        ),
    )
    raise InputError.single(
        where,
        f"none of the {len(buildings)} stored buildings has most of its footprint in a "
        "stored 社区; import the 社区 boundaries of this area. Nothing was written.",
    )


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
    boundary_coords: str | None = None,
    ledger=None,
):
    """Partition the buildings of a file and write ``grids`` and ``buildings`` layers to a GeoPackage.

    ``ledger`` is a household ledger (台账: per building, per 小区 or per
    address) applied before the partition; a separate ``compounds`` file
    also tells the reader which untyped buildings stand in residential land.

    An OSM file gives buildings (households estimated), roads and land-use
    compounds at once; other files can add them with ``roads``/``compounds``.
    A building cut by the boundary goes to the side holding most of its
    footprint; those cut or left outside are listed in the result's
    ``boundary_buildings`` and in a ``boundary_buildings`` layer.

    ``boundary_coords`` is the boundary file's coordinate system (default:
    ``coords``). Unless it is given, a boundary that fits the data markedly
    better moved by the GCJ-02 offset is refused; a boundary covering
    (almost) none of the buildings always is. Nothing is written then.
    """
    from gridmgmt.core.partition import partition
    from gridmgmt.domain.boundary_checks import check_boundary
    from gridmgmt.io import read_layers, read_polygons

    layers = read_layers(buildings_path, coords=coords, ledger=ledger, compounds=compounds or None)
    if len(layers.buildings) == 0:
        raise InputError.single(buildings_path, no_buildings_reason(layers.layers()))
    road_frame = read_layers(roads, kind="roads", coords=coords).roads if roads else layers.roads
    compound_frame = (
        read_layers(compounds, kind="compounds", coords=coords).compounds
        if compounds
        else layers.compounds
    )
    boundary_frame = read_polygons(boundary, boundary_coords or coords) if boundary else None
    zone_frame = read_polygons(zones, coords, what="zones") if zones else None
    if boundary_frame is not None:
        check_boundary(
            boundary_frame,
            layers.buildings,
            road_frame,
            path=boundary,
            data=Path(buildings_path).name,
            offset_check=boundary_coords is None,
        )
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
    kept = ["building_id", "households", "households_source", "households_confidence"]
    b = layers.buildings[[c for c in kept if c in layers.buildings] + ["geometry"]].copy()
    b.insert(2, "grid_code", result.labels.to_numpy())
    listed = result.boundary_buildings
    out = Path(out_path)
    if out.exists():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    result.grids.to_file(out, layer="grids", driver="GPKG")
    b[b["grid_code"].notna()].rename(columns={"building_id": "id"}).to_file(
        out, layer="buildings", driver="GPKG"
    )
    if listed is not None and len(listed):
        geoms = b.set_index("building_id").geometry
        gpd.GeoDataFrame(listed, geometry=geoms.loc[listed["id"]].to_numpy(), crs=b.crs).to_file(
            out, layer="boundary_buildings", driver="GPKG"
        )
    return result


def no_buildings_reason(layers: dict[str, gpd.GeoDataFrame]) -> str:
    """Why a file cannot be partitioned: it holds no buildings (and what it holds instead)."""
    held = ", ".join(f"{len(f)} {k}" for k, f in layers.items() if len(f)) or "nothing usable"
    return (
        f"no buildings found (it holds {held}); a partition needs building footprints: "
        "use an extract with building=* ways, or a buildings file (GeoJSON, GeoPackage, "
        "Shapefile, CSV) with the roads given by --roads. Nothing was written."
    )


def assign_file(
    objects_path, grids_path, out_path, *, coords: str = "wgs84", crs=None
) -> dict[str, int]:
    """Assign every feature of a file to the grids of another: see
    :func:`gridmgmt.domain.file_assignment.assign_file` (every input column kept,
    ``grid_code``, ``reason``, ``distance_m`` added)."""
    from gridmgmt.domain import file_assignment

    return file_assignment.assign_file(objects_path, grids_path, out_path, coords=coords, crs=crs)
