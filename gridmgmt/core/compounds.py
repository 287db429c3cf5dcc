"""The compound each building lies in, from given compound ids or the compound polygons."""

from __future__ import annotations

import numpy as np
import shapely


def building_compounds(b, rep: np.ndarray, compounds) -> np.ndarray:
    """The compound id of each building, or None where it lies in none.

    Parameters
    ----------
    b : GeoDataFrame
        Buildings (metric CRS); a ``compound_id`` column, where given and
        naming a known compound, is taken as it is.
    rep : ndarray
        A point on each building's footprint: the others get the smallest
        compound enclosing it.
    compounds : GeoDataFrame or None
        Compounds with ``compound_id``, in the buildings' CRS. Without them
        no building is in a compound.

    Returns
    -------
    ndarray
        Object array of compound ids (None outside every compound).
    """
    given = (
        b["compound_id"].to_numpy(dtype=object)
        if "compound_id" in b.columns
        else np.full(len(b), None, dtype=object)
    )
    given = np.asarray([v if isinstance(v, str) and v else None for v in given], dtype=object)
    if compounds is None or len(compounds) == 0:
        return np.full(len(b), None, dtype=object)
    known = set(compounds["compound_id"])
    given = np.asarray([v if v in known else None for v in given], dtype=object)
    missing = np.flatnonzero(np.asarray([v is None for v in given]))
    if len(missing):
        tree = shapely.STRtree(compounds.geometry.values)
        bi, ci = tree.query(rep[missing], predicate="within")
        area = shapely.area(compounds.geometry.values)
        order = np.lexsort((area[ci], bi))  # smallest enclosing compound first
        seen = set()
        cids = compounds["compound_id"].to_numpy(dtype=object)
        for k in order:
            if bi[k] not in seen:
                seen.add(bi[k])
                given[missing[bi[k]]] = cids[ci[k]]
    return given
