"""The web side of the access policy: every view asks :mod:`gridmgmt.domain.access` through here.

- :func:`requires` guards a view with an action of
  :data:`gridmgmt.domain.access.ACTIONS` (401/redirect to log in when nobody
  is logged in, 403 when the principal may not). It records the action on
  the view function (``view.access_action``) so the route x principal
  matrix test can check every route against the policy; routes that are
  open to everyone are marked with :func:`public`.
- :func:`visible_incident` loads one incident or answers 404 (so ids cannot
  be probed); :func:`visible_incident_table` filters a table;
  :func:`incident_scope` gives the same rule for a store query (paged lists).
- :func:`incident_json` and :func:`incident_rows` shape incidents for JSON
  with only the fields the principal may see.
- :func:`grid_allowed` and :func:`grid_mask` do the same for grids, buildings
  and facilities (a worker's own grids, an account's area).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

import numpy as np
import pandas as pd
from flask import abort
from flask_login import current_user

from gridmgmt.domain import access
from gridmgmt.domain.errors import NotFoundError
from webapp.auth import current_principal
from webapp.extensions import login_manager, store
from webapp.json_provider import iso

#: incident times written as ISO 8601 in JSON
TIME_FIELDS = ("created_at", "updated_at", "deadline_at")


def requires(action: str) -> Callable:
    """View decorator: the current principal may perform ``action``.

    Anonymous requests the policy refuses go to Flask-Login's unauthorized
    handler (log-in page or 401 for APIs); logged-in principals without the
    right get 403. Public actions (:data:`gridmgmt.domain.access.PUBLIC_ACTIONS`)
    pass for everyone.
    """
    access.ACTIONS[action]  # an unknown action fails at import, not on a request

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not access.may(current_principal(), action):
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                abort(403)
            return view(*args, **kwargs)

        wrapper.access_action = action
        return wrapper

    return decorate


def public(view):
    """Mark a view as open to everyone (log-in page, health check), for the matrix test."""
    view.access_action = None
    return view


def may(action: str) -> bool:
    """Whether the current principal may perform ``action``."""
    return access.may(current_principal(), action)


# ------------------------------------------------------------------ incidents
def visible_incident(incident_id: int) -> dict:
    """The incident (with history) if the current principal may see it; 404 otherwise."""
    try:
        incident = store().incident(incident_id)
    except NotFoundError:
        abort(404)
    if not access.incident_visible(current_principal(), incident):
        abort(404)
    return incident


def visible_incident_table(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an incidents table the current principal may see."""
    return access.visible_incidents(current_principal(), table)


def incident_scope() -> access.IncidentScope:
    """The incidents the current principal may see, as conditions for a store query."""
    return access.incident_scope(current_principal())


def incident_json(incident: dict, *, with_history: bool = False) -> dict:
    """One visible incident as JSON, with only the fields the current principal may see."""
    out = {k: v for k, v in incident.items() if k not in ("geom", "history")}
    geom = incident.get("geom")
    out["lon"], out["lat"] = (geom.x, geom.y) if geom is not None else (None, None)
    for key in TIME_FIELDS:
        out[key] = iso(out.get(key))
    if with_history:
        out["history"] = [
            {
                "seq": h["seq"],
                "at": iso(h["at"]),
                "actor": h["actor"],
                "role": h["role"],
                "transition": h["transition"],
                "from_state": h["from_state"],
                "to_state": h["to_state"],
                "note": h["note"],
                "photo_ids": h["photo_ids"],
                "deadline_at": iso(h.get("deadline_at")),
            }
            for h in incident["history"]
        ]
    shown = access.redact_incident(current_principal(), out)
    shown.pop("idempotency_key", None)  # a client's own retry token, never shown back
    return shown


def incident_rows(records: list[dict]) -> list[dict]:
    """Incident records already filtered to the principal's scope, as JSON rows redacted
    for the principal (no retry tokens, times in ISO 8601)."""
    rows = access.redact_incident_records(current_principal(), records)
    for r in rows:
        r.pop("idempotency_key", None)
        r.pop("geom", None)
        for key in TIME_FIELDS:
            if key in r:
                r[key] = iso(r[key])
    return rows


def rounded_location(lon: float | None, lat: float | None) -> tuple[float | None, float | None]:
    """A location as the current principal may see it (rounded for analysts)."""
    if access.incident_fields(current_principal()).exact_location:
        return lon, lat
    return access.rounded(lon), access.rounded(lat)


# ------------------------------------------------------------------ grids
def grid_allowed(code: str | None) -> bool:
    """Whether the current principal may see the grid (or 社区/街道) ``code``."""
    principal = current_principal()
    if code is not None and len(str(code)) < 15:  # an area above grids: the area binding decides
        return access.may(principal, "map.view") and (
            principal.area is None
            or str(code).startswith(principal.area)
            or principal.area.startswith(str(code))
        )
    return access.grid_visible(principal, code)


def grid_mask(codes: Iterable[str]) -> np.ndarray:
    """Mask over ``codes``: the grids the current principal may see."""
    return access.visible_grids(current_principal(), codes)


def outline_mask(codes: Iterable[str]) -> np.ndarray:
    """Mask over ``codes``: the grid outlines the current principal's map may draw."""
    return access.visible_outlines(current_principal(), codes)


def redact_incident_frame(frame):
    """An incidents (Geo)DataFrame without the columns the current principal may not see,
    point geometries rounded where exact places are hidden."""
    principal = current_principal()
    frame = access.redact_incidents(principal, frame)
    if len(frame) and hasattr(frame, "geometry"):
        frame = frame.set_geometry(access.rounded_points(principal, frame.geometry.values))
    return frame


def visible_points(frame):
    """Incident points the current principal may see, rounded where exact places are hidden."""
    frame = access.visible_incidents(current_principal(), frame)
    if len(frame) and not access.incident_fields(current_principal()).exact_location:
        frame = frame.set_geometry(
            access.rounded_points(current_principal(), frame.geometry.values)
        )
    return frame


def grid_visibility_key() -> tuple:
    """What the current principal's view of grids depends on (a cache key part)."""
    return access.grid_visibility_key(current_principal())


def area_scope() -> str | None:
    """The code prefix (区/街道/社区) the current principal is bound to, or None for all."""
    return current_principal().area


def grid_query_scope() -> access.GridScope:
    """The grids the current principal may see, as conditions for a store query."""
    return access.grid_query_scope(current_principal())


def grid_scope() -> tuple[str, ...] | None:
    """Grid codes a store query should be limited to (a worker's own), or None for all."""
    return access.grid_scope(current_principal())
