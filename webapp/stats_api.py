"""Incident hot spots as GeoJSON for the map: ``/api/v1/stats/hotspots?from=&to=[&community=]``.

Dates are Asia/Shanghai calendar days (``to`` exclusive). Every logged-in
role may ask; the statistic is computed over the whole area, and grid
workers receive only the rows of their own grids.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

import shapely
from flask import Blueprint, jsonify, request

from gridmgmt.core.periods import PeriodError, parse_period
from gridmgmt.domain.errors import NotFoundError
from gridmgmt.domain.hotspots import area_hotspots
from webapp.extensions import store
from webapp.policy import outline_mask, requires

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1/stats")
COLUMNS = ("code", "community_code", "households", "incidents", "rate", "gi_z", "gi_p", "hotspot")


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


def query_period() -> tuple[datetime, datetime]:
    """The required ``from`` and ``to`` arguments (``YYYY-MM-DD``) as an Asia/Shanghai period.

    Raises
    ------
    PeriodError
        An argument missing or not a date, or ``from`` not before ``to``.
    """
    for name in ("from", "to"):
        if not request.args.get(name):
            raise PeriodError(f"{name} is required (YYYY-MM-DD)")
    return parse_period(request.args["from"], request.args["to"])


@bp.get("/hotspots")
@requires("map.view")
def hotspots():
    try:
        start, end = query_period()
        report = area_hotspots(
            store(),
            start,
            end,
            community=request.args.get("community") or None,
            contiguity=request.args.get("contiguity", "queen"),
        )
    except NotFoundError as err:
        return _error(404, str(err))
    except ValueError as err:
        return _error(400, str(err))
    grids = report.grids
    grids = grids[outline_mask(grids["code"])]
    features = [
        {
            "type": "Feature",
            "id": row["code"],
            "geometry": json.loads(shapely.to_geojson(row.geometry)),
            "properties": {c: _clean(row[c]) for c in COLUMNS},
        }
        for _, row in grids.iterrows()
    ]
    moran = report.moran
    return jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "period": {"from": start.date().isoformat(), "to": end.date().isoformat()},
            "incidents": report.incidents,
            "moran": None
            if moran is None
            else {"I": moran.I, "expected": moran.expected, "p_sim": moran.p_sim, "n": moran.n},
        }
    )


def _clean(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
