"""GeoJSON features written once and completed per request.

Most of a map layer's cost is in its geometries (simplified, rounded, written
as GeoJSON), while what changes between two asks is small: a grid's incident
counts move with every report. :func:`draw_features` writes each feature's
JSON once, up to its last properties; :func:`feature_collection_bytes` then
adds the values of the moment (one small ``dumps`` per feature) and the
collection's own members, without parsing or writing a geometry again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

Dumps = Callable[[object], str]


@dataclass(frozen=True)
class DrawnFeatures:
    """Features written up to their last properties.

    Attributes
    ----------
    keys : tuple
        Per feature, what its late properties are looked up by (e.g. a grid code).
    heads : tuple of bytes
        Per feature, ``{"type": "Feature", ..., "properties": {...`` without the
        closing braces.
    bare : tuple of bool
        Per feature, whether its properties are still empty (no comma before
        the first late one).
    matched : int, optional
        For one page of a longer list: how many features the whole list has.
    """

    keys: tuple
    heads: tuple[bytes, ...]
    bare: tuple[bool, ...]
    matched: int | None = None

    def __len__(self) -> int:
        return len(self.heads)

    @property
    def nbytes(self) -> int:
        """About how much memory the written text takes."""
        return sum(len(h) for h in self.heads)


def draw_features(
    geometries: Sequence,
    properties: Sequence[Mapping],
    dumps: Dumps,
    *,
    keys: Iterable | None = None,
    ids: Iterable | None = None,
    matched: int | None = None,
) -> DrawnFeatures:
    """Write features once: geometry (``None`` or empty: ``null``), id and properties.

    Parameters
    ----------
    geometries : sequence of shapely geometries
        One per feature (already simplified and rounded as they are to be shown).
    properties : sequence of mappings
        One per feature: the properties known now.
    dumps : callable
        The JSON writer of the answer (e.g. the app's JSON provider's ``dumps``).
    keys : iterable, optional
        What late properties are looked up by, per feature (default: positions).
    ids : iterable, optional
        GeoJSON feature ids (default: features without ``id``).
    matched : int, optional
        How many features the whole list has, when these are one page of it.
    """
    geoms = np.asarray(list(geometries), dtype=object)
    shown = np.where(shapely.is_empty(geoms) | shapely.is_missing(geoms), None, geoms)
    texts = shapely.to_geojson(shown) if len(shown) else []
    ids = list(ids) if ids is not None else [None] * len(geoms)
    heads, bare = [], []
    for text, fid, props in zip(texts, ids, properties, strict=True):
        head = '{"type":"Feature",'
        if fid is not None:
            head += f'"id":{dumps(fid)},'
        written = dumps(dict(props))
        head += f'"geometry":{"null" if text is None else text},"properties":{written[:-1]}'
        heads.append(head.encode())
        bare.append(written == "{}")
    keys = tuple(keys) if keys is not None else tuple(range(len(heads)))
    return DrawnFeatures(keys=keys, heads=tuple(heads), bare=tuple(bare), matched=matched)


def feature_collection_bytes(
    drawn: DrawnFeatures,
    dumps: Dumps,
    *,
    late: Callable[[object], Mapping] | None = None,
    members: Mapping | None = None,
) -> bytes:
    """The FeatureCollection of ``drawn``, each feature completed with ``late(key)``.

    Parameters
    ----------
    drawn : DrawnFeatures
        What :func:`draw_features` wrote.
    dumps : callable
        The JSON writer (the same as for :func:`draw_features`).
    late : callable, optional
        Properties to add to the feature with a key (e.g. today's counts).
    members : mapping, optional
        More members of the collection (links, counts, a time stamp).
    """
    parts = []
    for key, head, bare in zip(drawn.keys, drawn.heads, drawn.bare, strict=True):
        extra = dumps(dict(late(key))) if late is not None else "{}"
        if extra == "{}":
            parts.append(head + b"}}")
        else:
            parts.append(head + (b"" if bare else b",") + extra[1:].encode() + b"}")
    tail = b"]}"
    if members:
        tail = b"]," + dumps(dict(members))[1:].encode()
    return b'{"type":"FeatureCollection","features":[' + b",".join(parts) + tail
