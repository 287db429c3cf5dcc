"""Patrol tracks from files: GPX (gpxpy) and GeoJSON, checked before anything is stored.

``read_track(path)`` returns the fixes as a DataFrame ``t`` (UTC-aware),
``lon``, ``lat``, ``accuracy`` (NaN) in file order, or raises
:class:`~gridmgmt.io.errors.InputError` for: a file over
:data:`MAX_BYTES`, one that does not parse, no points, points without a
time, times out of order or in the future, coordinates out of range.

GeoJSON: a (Multi)LineString Feature with the times in
``properties.times`` or ``properties.coordTimes`` (as togeojson writes
them), or a FeatureCollection of Points each with ``properties.time``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from gridmgmt.io.errors import InputError

#: the largest track file accepted (a day's 1 Hz GPX is about 10 MB)
MAX_BYTES = 20 * 1024 * 1024
#: clock skew tolerated for times "in the future"
FUTURE_SLACK = timedelta(minutes=5)


def read_track(path: str | Path, *, now: datetime | None = None) -> pd.DataFrame:
    """The fixes of a GPX or GeoJSON track file (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError.single(
            path, f"{size / 2**20:.0f} MB is over the {MAX_BYTES // 2**20} MB limit for a track"
        )
    suffix = path.suffix.lower()
    if suffix == ".gpx":
        frame = _gpx(path)
    elif suffix in (".geojson", ".json"):
        frame = _geojson(path)
    else:
        raise InputError.single(path, f"unknown track format {suffix!r}: give a .gpx or .geojson")
    return check_fixes(frame, path, now=now)


def check_fixes(frame: pd.DataFrame, source, *, now: datetime | None = None) -> pd.DataFrame:
    """Raise :class:`InputError` unless the fixes have times, in order, not in the future."""
    if frame.empty:
        raise InputError.single(source, "the track has no points")
    if frame["t"].isna().any():
        row = int(np.flatnonzero(frame["t"].isna().to_numpy())[0]) + 1
        raise InputError.single(source, "a point has no time", row=row)
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        raise InputError.single(source, "coordinates out of range", row=int(np.argmax(bad)) + 1)
    t = pd.to_datetime(frame["t"], utc=True)
    back = np.flatnonzero((t.diff().dt.total_seconds() < 0).to_numpy()) - 1
    if len(back):
        k = int(back[0]) + 2
        raise InputError.single(source, f"times out of order at point {k} ({t.iloc[k - 1]})", row=k)
    limit = pd.Timestamp(now or datetime.now(UTC)) + FUTURE_SLACK
    if t.iloc[-1] > limit:
        k = int(np.argmax((t > limit).to_numpy())) + 1
        raise InputError.single(source, f"point {k} is in the future ({t.iloc[k - 1]})", row=k)
    out = frame.copy()
    out["t"] = t
    if "accuracy" not in out:
        out["accuracy"] = np.nan
    return out.reset_index(drop=True)[["t", "lon", "lat", "accuracy"]]


def _gpx(path: Path) -> pd.DataFrame:
    import gpxpy

    try:
        with path.open(encoding="utf-8") as fh:
            gpx = gpxpy.parse(fh)
    except Exception as err:  # gpxpy raises several kinds for broken XML
        raise InputError.single(path, f"not a readable GPX file ({err})") from err
    rows = [
        (p.time, p.longitude, p.latitude)
        for track in gpx.tracks
        for segment in track.segments
        for p in segment.points
    ]
    frame = pd.DataFrame(rows, columns=["t", "lon", "lat"])
    frame["t"] = [
        None if v is None else (v if v.tzinfo else v.replace(tzinfo=UTC)) for v in frame["t"]
    ]
    return frame


def _geojson(path: Path) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError.single(path, f"not readable GeoJSON ({err})") from err
    features = doc.get("features", [doc] if doc.get("type") == "Feature" else [])
    rows = []
    for k, f in enumerate(features):
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        if geom.get("type") == "Point":
            lon, lat = geom["coordinates"][:2]
            rows.append((props.get("time"), lon, lat))
        elif geom.get("type") in ("LineString", "MultiLineString"):
            coords = geom["coordinates"]
            times = props.get("times") or props.get("coordTimes")
            if geom["type"] == "MultiLineString":
                coords = [c for part in coords for c in part]
                if times and isinstance(times[0], list):
                    times = [t for part in times for t in part]
            if not times or len(times) != len(coords):
                raise InputError.single(
                    path, "a line needs properties.times with one time per point", feature_id=k
                )
            rows += [(t, c[0], c[1]) for t, c in zip(times, coords, strict=True)]
    frame = pd.DataFrame(rows, columns=["t", "lon", "lat"])
    frame["t"] = pd.to_datetime(frame["t"], utc=True, errors="coerce", format="ISO8601")
    return frame
