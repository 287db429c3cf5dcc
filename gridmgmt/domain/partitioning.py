"""Use case: cut stored 社区 into 责任网格 and keep every layer located in a grid."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
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


@dataclass
class PartitionRun:
    """What :func:`partition_stored` did: the 社区 written and those that failed."""

    outcomes: list[CommunityPartition]
    failures: list  # of gridmgmt.domain.batch.BatchFailure

    def summary(self) -> str:
        """The totals and one line per failed 社区."""
        lines = [f"{len(self.outcomes)} 社区 partitioned, {len(self.failures)} failed"]
        lines += [f"  {f.item.label}: {f.step} failed: {f.error}" for f in self.failures]
        return "\n".join(lines)


def partition_communities(
    repo: LayerRepository | GridRepository,
    *,
    communities: Iterable[str] | None = None,
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[CommunityPartition]:
    """Partition stored 社区 one after another (:func:`partition_stored`, serial).

    Raises
    ------
    ValueError
        No 社区 or no buildings stored, or a 社区 failed (the others are written).
    InputError
        The stored 社区 hold none of the stored buildings (offset or elsewhere).
    """
    run = partition_stored(
        repo,
        communities=communities,
        min_households=min_households,
        max_households=max_households,
        seed=seed,
        progress=progress,
        show_bar=False,
    )
    if run.failures:
        raise ValueError(run.summary())
    return run.outcomes


def partition_one(
    buildings: gpd.GeoDataFrame,
    boundary: gpd.GeoSeries,
    roads: gpd.GeoDataFrame | None,
    compounds: gpd.GeoDataFrame | None,
    code: str,
    min_households: int,
    max_households: int,
    seed: int,
):
    """Partition one 社区's buildings (pure computation: the task run on a worker)."""
    from gridmgmt.core.partition import partition

    return partition(
        buildings,
        boundary=boundary,
        roads=roads,
        compounds=compounds,
        min_households=min_households,
        max_households=max_households,
        code_prefix=code,
        seed=seed,
    )


def partition_stored(
    repo: LayerRepository | GridRepository,
    *,
    communities: Iterable[str] | None = None,
    min_households: int = 250,
    max_households: int = 500,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    show_bar: bool = True,
) -> PartitionRun:
    """Partition stored 社区 and write each as a new grid version, serially or on Dask.

    Buildings, roads and compounds are read once; each building goes to the
    社区 holding most of its footprint, unless more of it lies outside every
    社区 (then it is left out and listed through ``progress``), the rule
    ``gridmgmt partition FILE --boundary`` applies, so both workflows give a
    社区 the same buildings and grids. Each 社区 is one task
    (:func:`partition_one`, run by :mod:`gridmgmt.domain.batch`)
    and is written in its own transaction as it finishes; a 社区 that fails
    is listed in the result and nothing of it is written. After the grids
    are written, facilities and open incidents are re-assigned to the
    current grids. The grids are the same whatever the executor.

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
    workers : int, optional
        Run on a Dask LocalCluster of that many processes (default: serial).
    scheduler : str, optional
        Address of a running Dask scheduler to use instead.
    show_bar : bool
        Show a progress bar on stderr.

    Raises
    ------
    ValueError
        No 社区 or no buildings stored.
    InputError
        The stored 社区 hold none of the stored buildings (offset or elsewhere).
    BatchSetupError
        Dask missing or the scheduler not answering (nothing written).
    """
    from gridmgmt.domain.batch import BatchItem, executor

    with executor(workers, scheduler) as ex:
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
        by_code = {
            area.code: (pos, area)
            for pos, area in zip(areas.index, areas.itertuples(), strict=True)
        }
        # each 社区's buildings (positions in file order), found once rather than by a mask
        # over every building per 社区 (thousands of 社区 at city scale)
        order = np.argsort(sides.area, kind="stable")
        positions = [pos for pos, _ in by_code.values()]
        starts = np.searchsorted(sides.area[order], positions)
        ends = np.searchsorted(sides.area[order], positions, side="right")
        rows_of = {
            code: order[start:end] for code, start, end in zip(by_code, starts, ends, strict=True)
        }
        items = []
        for code, (_, area) in by_code.items():
            n = len(rows_of[code])
            if n == 0:
                say(f"{area.name} ({area.code}): 0 buildings")
            else:
                items.append(BatchItem(code, f"{area.name} ({code})", weight=n))
        straddling: dict[str, pd.DataFrame] = {}

        def prepare(code: str) -> tuple:
            _, area = by_code[code]
            own = rows_of[code]
            mine = buildings.iloc[own]
            cut = sides.cut[own]
            straddling[code] = pd.DataFrame(
                {
                    "id": mine["building_id"].astype(str).to_numpy()[cut],
                    "share": sides.share[own][cut].round(3),
                }
            )
            listed = straddling[code]
            say(
                f"{area.name} ({area.code}): {len(mine)} buildings"
                + (
                    f", {len(listed)} cut by its boundary and kept (most of the footprint "
                    f"inside): {_listing(listed['id'])}"
                    if len(listed)
                    else ""
                )
            )
            mine = _clip_minorities(mine, sides.share[own], area.geometry)
            boundary = gpd.GeoSeries([area.geometry], crs=areas.crs)
            return (
                mine.reset_index(drop=True),
                boundary,
                _clip(roads, area.geometry),
                _clip(compounds, area.geometry),
                code,
                min_households,
                max_households,
                seed,
            )

        def write(code: str, result) -> CommunityPartition:
            _, area = by_code[code]
            mine = buildings.iloc[rows_of[code]]
            placed = result.labels.notna().to_numpy()
            labels = pd.Series(
                result.labels.to_numpy()[placed], index=mine["building_id"].to_numpy()[placed]
            )
            version = repo.write_grid_version(code, result.grids, labels)
            return CommunityPartition(code, area.name, version, result, straddling.pop(code, None))

        batch = ex.run(
            items,
            prepare,
            partition_one,
            write,
            description="partition",
            progress=show_bar,
        )
        outcomes = sorted(batch.written.values(), key=lambda o: o.code)
        if outcomes:  # facilities and open incidents of the changed 社区 only
            changed = areas[areas["code"].isin([o.code for o in outcomes])]
            bbox = tuple(changed.total_bounds)
            assign_facilities(repo, bbox=bbox)
            reassign_incidents(repo, bbox=bbox)
        return PartitionRun(outcomes, batch.failures)


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
    """The rows meeting ``polygon``, in their order (through the spatial index: city scale)."""
    if frame is None or len(frame) == 0:
        return None
    rows = np.sort(frame.sindex.query(polygon, predicate="intersects"))
    return frame.iloc[rows].reset_index(drop=True)


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


ID_COLUMNS = {"buildings": "building_id", "facilities": "facility_id"}
OUTSIDE_KEY = "outside"


@dataclass
class ReassignRun:
    """What :func:`reassign_stored` did: per layer how many objects are in a grid; failures."""

    placed: dict[str, int]
    failures: list  # of gridmgmt.domain.batch.BatchFailure

    def summary(self) -> str:
        """The totals and one line per failed 社区."""
        lines = [f"{len(self.failures)} 社区 failed" if self.failures else "all 社区 done"]
        lines += [f"  {f.item.label}: {f.step} failed: {f.error}" for f in self.failures]
        return "\n".join(lines)


def locate_task(frames: dict[str, gpd.GeoDataFrame], grids: gpd.GeoDataFrame) -> dict:
    """Grid code per object id of each layer (pure computation: the task run on a worker)."""
    out = {}
    for layer, frame in frames.items():
        ids = frame[ID_COLUMNS[layer]].to_numpy()
        codes = _locate(frame, grids).to_numpy(dtype=object) if len(grids) else [None] * len(ids)
        out[layer] = pd.Series(codes, index=ids, dtype=object)
    return out


def reassign_stored(
    repo,
    layers=("buildings", "facilities"),
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    show_bar: bool = True,
) -> ReassignRun:
    """Re-locate every stored building and facility in the current grids, 社区 by 社区.

    Objects are split by the 社区 holding their representative point (the
    rest form one more task); each task gets the grids that meet its
    objects' bounding box, which are all the grids any of them can fall in,
    so the codes are those of one city-wide :func:`reassign`. Each 社区's
    codes are written in one transaction as its task finishes.
    """
    from gridmgmt.domain.batch import BatchItem, executor

    with executor(workers, scheduler) as ex:
        grids = repo.current_grids()[["code", "geometry"]]
        areas = repo.admin_areas("community").sort_values("code", kind="stable")
        frames = {}
        for layer in layers:
            frame = repo.read_layer(layer)
            frame = frame[[ID_COLUMNS[layer], "geometry"]].copy()
            frame["area_key"] = _area_keys(frame, areas)
            frames[layer] = frame
        keys = sorted({k for f in frames.values() for k in f["area_key"]})
        names = dict(zip(areas["code"], areas["name"], strict=True))

        def prepare(key: str) -> tuple:
            mine = {
                layer: f[f["area_key"] == key].drop(columns="area_key")
                for layer, f in frames.items()
            }
            mine = {layer: f for layer, f in mine.items() if len(f)}
            located = [f for f in mine.values() if f.geometry.notna().any()]
            if not located or not len(grids):
                return mine, grids.iloc[:0]
            x0, y0, x1, y1 = shapely.total_bounds(
                np.concatenate([f.geometry.to_numpy() for f in located])
            )
            m = BBOX_MARGIN_DEG
            near = grids.cx[x0 - m : x1 + m, y0 - m : y1 + m]
            return mine, near

        def write(key: str, codes: dict) -> dict:
            repo.set_grid_codes_of_layers(codes)
            return {layer: int(c.notna().sum()) for layer, c in codes.items()}

        labels = {k: f"{names[k]} ({k})" if k in names else "outside every 社区" for k in keys}
        batch = ex.run(
            [BatchItem(k, labels[k]) for k in keys],
            prepare,
            locate_task,
            write,
            description="assign",
            progress=show_bar,
        )
        placed = {layer: 0 for layer in layers}
        for counts in batch.written.values():
            for layer, n in counts.items():
                placed[layer] += n
        return ReassignRun(placed, batch.failures)


BBOX_MARGIN_DEG = 1e-6  # ~10 cm: grids touching an object's bounding box are never missed


def _area_keys(frame: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The code of the 社区 holding each object's representative point, else ``outside``."""
    keys = np.full(len(frame), OUTSIDE_KEY, dtype=object)
    located = frame.geometry.notna().to_numpy() & ~frame.geometry.is_empty.to_numpy()
    if not located.any() or len(areas) == 0:
        return keys
    points = shapely.point_on_surface(frame.geometry.to_numpy()[located])
    tree = shapely.STRtree(areas.to_crs(frame.crs).geometry.to_numpy())
    hit_point, hit_area = tree.query(points, predicate="within")
    first = {}
    for p, a in zip(hit_point[::-1], hit_area[::-1], strict=True):
        first[p] = a  # the smallest code wins (areas sorted by code)
    codes = areas["code"].to_numpy()
    where = np.flatnonzero(located)
    for p, a in first.items():
        keys[where[p]] = codes[a]
    return keys


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
    crs=None,
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

    ``crs`` is the CRS of a buildings file that declares none (a GeoParquet
    with ``crs: null``).

    ``boundary_coords`` is the boundary file's coordinate system (default:
    ``coords``). Unless it is given, a boundary that fits the data markedly
    better moved by the GCJ-02 offset is refused; a boundary covering
    (almost) none of the buildings always is. Nothing is written then.
    """
    from gridmgmt.core.partition import partition
    from gridmgmt.domain.boundary_checks import check_boundary
    from gridmgmt.io import read_layers, read_polygons

    layers = read_layers(
        buildings_path, coords=coords, ledger=ledger, compounds=compounds or None, crs=crs
    )
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
    engine = dict(
        roads=road_frame if len(road_frame) else None,
        compounds=compound_frame if len(compound_frame) else None,
        zones=zone_frame,
        min_households=min_households,
        max_households=max_households,
        seed=seed,
    )
    if boundary_frame is not None and len(boundary_frame) > 1:
        result = partition_areas(layers.buildings, boundary_frame, code_prefix, **engine)
    else:
        result = partition(
            layers.buildings, boundary=boundary_frame, code_prefix=code_prefix, **engine
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


def area_prefixes(first: str, n: int) -> list[str]:
    """The 12-digit codes of ``n`` 社区 numbered on from ``first`` within its 街道."""
    if first is None or len(first) != 12 or not first.isdigit():
        raise ValueError("a boundary file of several 社区 needs a 12-digit --prefix")
    start = int(first[9:])
    if start + n - 1 > 999:
        raise ValueError(
            f"{n} 社区 numbered from {first} run past 999 in the 街道 {first[:9]}: "
            "give a smaller --prefix"
        )
    return [f"{first[:9]}{start + k:03d}" for k in range(n)]


def partition_areas(buildings, areas: gpd.GeoDataFrame, code_prefix: str, **engine):
    """Partition each polygon of a boundary file as a 社区 of its own and put the results together.

    Each building goes to the polygon holding most of its footprint (the
    rule of :func:`community_sides`); those mostly outside every polygon
    are left out and listed. Polygons are numbered in file order from
    ``code_prefix`` (``…001``, ``…002`` …); grids carry the 社区's code and
    name in ``community_code`` and ``community``.

    Returns
    -------
    PartitionResult
        Grids of all polygons, labels of all buildings, one combined report.
    """
    from gridmgmt.core.partition import PartitionResult, partition
    from gridmgmt.core.quality import combine_reports

    areas = areas.reset_index(drop=True)
    prefixes = area_prefixes(code_prefix, len(areas))
    sides = community_sides(buildings, areas)
    names = [
        str(n) if isinstance(n, str) and n else f"{code}"
        for n, code in zip(areas.get("name", [None] * len(areas)), prefixes, strict=True)
    ]
    grids, reports, listed, notes = [], [], [], []
    labels = pd.Series(None, index=buildings.index, dtype=object, name="grid_code")
    for pos, polygon in enumerate(areas.geometry.values):
        own = sides.area == pos
        if not own.any():
            notes.append(names[pos])
            continue
        mine = _clip_minorities(buildings[own], sides.share[own], polygon)
        result = partition(
            mine,
            boundary=gpd.GeoSeries([polygon], crs=areas.crs),
            code_prefix=prefixes[pos],
            **engine,
        )
        result.grids.insert(1, "community_code", prefixes[pos])
        result.grids.insert(2, "community", names[pos])
        grids.append(result.grids)
        reports.append(result.report)
        labels.loc[mine.index] = result.labels.to_numpy()
        if result.boundary_buildings is not None and len(result.boundary_buildings):
            listed.append(result.boundary_buildings)
    if not grids:
        raise ValueError("no building has most of its footprint in any polygon of the boundary")
    outside = np.flatnonzero(sides.outside)
    if len(outside):
        listed.append(
            pd.DataFrame(
                {
                    "id": buildings["building_id"].astype(str).to_numpy()[outside],
                    "share_inside": sides.share_inside[outside].round(3),
                    "status": np.where(
                        sides.share_inside[outside] > 0, "straddling_left_out", "outside"
                    ),
                }
            )
        )
    every = pd.concat(grids, ignore_index=True)
    residential = every.loc[every["kind"] == "residential", "households"].to_numpy()
    used = [n for n in names if n not in notes]
    report = combine_reports(reports, residential, used)
    if notes:
        report.notes = (*report.notes, f"no buildings in: {', '.join(notes)}")
    combined = PartitionResult(
        grids=gpd.GeoDataFrame(every, geometry="geometry", crs=grids[0].crs),
        labels=labels,
        report=report,
        atoms=None,
        metric_crs=result.metric_crs,
    )
    combined.boundary_buildings = (
        pd.concat(listed, ignore_index=True).drop_duplicates("id") if listed else None
    )
    return combined


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
