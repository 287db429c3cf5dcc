"""Choosing a metric CRS for the data at hand.

Areas, lengths and compactness are never computed in degrees. For data
around China we use the UTM zone of the data's centre (WGS84 datum, EPSG
326xx/327xx); CGCS2000 differs from WGS84 by centimetres, well below what
grid work needs, so its 3-degree Gauss-Krüger zones (EPSG 4534-4554) are
offered for users whose other layers are in them.
"""

from __future__ import annotations

import math

import geopandas as gpd


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing ``(lon, lat)``."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a lon/lat position: ({lon}, {lat})")
    zone = min(int(math.floor((lon + 180.0) / 6.0)) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def cgcs2000_gk3_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger CM zone for ``lon``.

    Defined for China's longitudes 75°E–135°E (EPSG:4534 at CM 75°E to
    EPSG:4554 at CM 135°E).
    """
    central = round(lon / 3.0) * 3
    if not 75 <= central <= 135:
        raise ValueError(f"longitude {lon} is outside the CGCS2000 3-degree zones of China")
    return 4534 + (central - 75) // 3


def metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """A metric CRS (``"EPSG:326xx"``) suited to ``frame``'s extent.

    ``frame`` must carry a CRS; an empty frame raises ``ValueError``.
    """
    if frame.crs is None:
        raise ValueError("layer has no CRS; declare one (e.g. EPSG:4326) before metric work")
    if len(frame) == 0:
        raise ValueError("cannot choose a metric CRS for an empty layer")
    if frame.crs.is_projected:
        return frame.crs.to_string()
    minx, miny, maxx, maxy = frame.to_crs(4326).total_bounds
    return f"EPSG:{utm_epsg((minx + maxx) / 2.0, (miny + maxy) / 2.0)}"


def to_metric(frame):
    """Return ``frame`` projected to :func:`metric_crs` (a no-op if projected)."""
    return frame.to_crs(metric_crs(frame))
