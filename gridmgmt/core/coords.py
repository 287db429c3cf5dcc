"""China's obfuscated coordinate systems: GCJ-02 and BD-09.

Maps served in mainland China (AMap/高德, Tencent, Google China) use GCJ-02,
a WGS84 position shifted by a published-by-reverse-engineering nonlinear
offset of a few hundred metres; Baidu adds a further rotation (BD-09). All
gridmgmt data is stored in WGS84: importers convert with the ``*_to_wgs84``
functions, and the web app shifts our WGS84 data *to* GCJ-02 when a user
picks a GCJ-02 base map.

The forward formula is exact; the inverse has no closed form and is solved
by fixed-point iteration to below 1e-7 degrees (~1 cm). Outside mainland
China no offset applies (the providers leave coordinates unchanged there),
which :func:`in_china` approximates with a bounding box.

All functions are vectorised over NumPy arrays and accept scalars.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

#: lon/lat box of mainland China used to decide where the offset applies
CHINA_BBOX = (73.66, 3.86, 135.05, 53.55)

SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def in_china(lon, lat):
    """True where ``(lon, lat)`` lies inside :data:`CHINA_BBOX`."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = CHINA_BBOX
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _delta(lon, lat):
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    s6 = np.sin(6.0 * x * np.pi) * 20.0 + np.sin(2.0 * x * np.pi) * 20.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    dlat = dlat + s6 * 2.0 / 3.0
    dlat = dlat + (np.sin(y * np.pi) * 20.0 + np.sin(y / 3.0 * np.pi) * 40.0) * 2.0 / 3.0
    dlat = dlat + (np.sin(y / 12.0 * np.pi) * 160.0 + np.sin(y * np.pi / 30.0) * 320.0) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    dlon = dlon + s6 * 2.0 / 3.0
    dlon = dlon + (np.sin(x * np.pi) * 20.0 + np.sin(x / 3.0 * np.pi) * 40.0) * 2.0 / 3.0
    dlon = dlon + (np.sin(x / 12.0 * np.pi) * 150.0 + np.sin(x / 30.0 * np.pi) * 300.0) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _as_arrays(lon, lat):
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon, lat):
    """Shift WGS84 ``(lon, lat)`` to GCJ-02 (identity outside China)."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, *, tol: float = 1e-9, max_iter: int = 30):
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration."""
    lon, lat = _as_arrays(lon, lat)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.nanmax(np.abs(np.concatenate([np.ravel(elon), np.ravel(elat)])), initial=0.0) < tol:
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    """Baidu's BD-09 from GCJ-02."""
    lon, lat = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """GCJ-02 from Baidu's BD-09."""
    lon, lat = _as_arrays(lon, lat)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon, lat):
    """WGS84 from Baidu's BD-09."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat):
    """Baidu's BD-09 from WGS84."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def to_wgs84(lon, lat, system: str):
    """Convert ``(lon, lat)`` given in ``system`` to WGS84.

    ``system`` is one of :data:`SYSTEMS`; CGCS2000 geographic coordinates
    are taken as WGS84 (they agree to a few centimetres).
    """
    system = system.lower().replace("-", "").replace("_", "")
    if system in ("wgs84", "cgcs2000", "epsg4326", "epsg4490"):
        return _as_arrays(lon, lat)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system {system!r}; expected one of {', '.join(SYSTEMS)}")


def transform_geometries(geoms, func):
    """Apply a ``(lon, lat) -> (lon, lat)`` array function to shapely geometries."""
    import shapely

    def _xy(coords):
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), _xy)
