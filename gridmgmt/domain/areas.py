"""The area a report or export covers: a 街道, a 社区, a list of grids, or everything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import geopandas as gpd

from gridmgmt.domain.errors import NotFoundError


class AreaSource(Protocol):
    def current_grids(self, community_code: str | None = None) -> gpd.GeoDataFrame: ...

    def community(self, name_or_code: str) -> dict: ...

    def admin_areas(self, level: str) -> gpd.GeoDataFrame: ...


@dataclass(frozen=True)
class Area:
    """Current grids of the area and how to name it in reports and file names."""

    label: str
    grids: gpd.GeoDataFrame

    @property
    def codes(self) -> list[str]:
        return self.grids["code"].astype(str).tolist()


def select_area(
    store: AreaSource,
    *,
    street: str | None = None,
    community: str | None = None,
    grids: Iterable[str] | None = None,
) -> Area:
    """The current grids of a 街道 (name or 9-digit code), a 社区 (name or code) or given codes.

    With nothing given: every current grid. An area without grids (not
    partitioned yet) gives an empty ``grids`` frame, so exports stay valid.

    Raises
    ------
    NotFoundError
        An unknown 街道, 社区 or grid code (the known ones named).
    ValueError
        More than one of ``street``, ``community``, ``grids``.
    """
    if sum(x is not None for x in (street, community, grids)) > 1:
        raise ValueError("give one of street, community or grids")
    if community is not None:
        c = store.community(community)
        return Area(f"{c['name']} ({c['code']})", store.current_grids(c["code"]))
    every = store.current_grids()
    if street is not None:
        streets = store.admin_areas("street")
        hit = streets[(streets["code"] == street) | (streets["name"] == street)]
        if hit.empty:
            known = ", ".join(f"{r.name} ({r.code})" for r in streets.itertuples())
            raise NotFoundError(f"no 街道 named {street!r}; known: {known or 'none'}")
        code, name = hit.iloc[0]["code"], hit.iloc[0]["name"]
        inside = every[every["code"].astype(str).str[:9] == code]
        return Area(f"{name} ({code})", inside.reset_index(drop=True))
    if grids is not None:
        wanted = [str(g) for g in grids]
        unknown = sorted(set(wanted) - set(every["code"]))
        if unknown:
            raise NotFoundError(f"no current grid(s) {', '.join(unknown[:10])}")
        chosen = every[every["code"].isin(wanted)].reset_index(drop=True)
        return Area(", ".join(wanted[:3]) + (" …" if len(wanted) > 3 else ""), chosen)
    return Area("全部", every)
