"""Who may see and do what: the one access policy every door asks.

Residents' complaints, names and exact locations are personal information
(个人信息保护法). Every way into the platform — pages, ``/api/v1``,
Open311, the OGC API, map layers, search, reports, exports, patrol pages,
photos — asks this module, for a :class:`Principal` (who is asking), three
questions:

1. **May they do it?** :func:`may` with an action name from :data:`ACTIONS`.
2. **Which records?** :func:`grid_visible`, :func:`incident_visible` for one
   record, :func:`visible_incidents` / :func:`visible_grids` for a table.
3. **Which fields?** :func:`incident_fields` says whether personal text
   (description, address, reporter, photos, names in the history), the
   handling department and the exact location are shown;
   :func:`redact_incident` and :func:`redact_incidents` apply it.

The rules, by role:

============ =================================================================
admin        everything (within ``area`` when bound to one)
supervisor   every incident, grid and patrol of its area, with personal data
dept         incidents that reached the departments (dispatched, in progress,
             extension requested, handled, verified, closed); only its own
             department's when bound to one (``gridmgmt users department``)
worker       its own grids and the incidents in them, nothing else; a worker
             without grids sees no incident
analyst      every incident of its area without personal data, locations
             rounded to about 100 m; patrol figures without usernames
hotline      an API client that submits Open311 requests and reads back the
             ones it submitted, nothing else
building_head, informant
             楼栋长 and 信息员 (volunteers bound to a grid): report through their
             phone page (source 信息员上报), send the daily 零报告, read back
             their own reports; nothing else
anonymous    the log-in page and the residents' public pages (:data:`PUBLIC_ACTIONS`:
             report a problem, follow it with its number *and* follow code,
             the map of open problems counted per grid); what those pages
             show is :func:`gridmgmt.domain.residents.public_case`: never a
             contact, a staff name or an internal note
============ =================================================================

**Area scope.** One deployment may serve a whole 区 or city. An account
bound to an area (a 6-digit 区 or 9-digit 街道 code, ``--area``) sees only
grids whose code starts with it and incidents located in them; incidents
outside every grid (the 未定位 queue) are seen by unbound accounts only.
Accounts without an area keep the whole deployment's reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

ROLES = (
    "admin",
    "supervisor",
    "dept",
    "worker",
    "analyst",
    "hotline",
    "building_head",
    "informant",
)
#: the volunteers' roles (楼栋长, 信息员), who send the daily 零报告
VOLUNTEER_ROLES = ("building_head", "informant")
#: role labels accepted where a role is typed (``gridmgmt users add --role 信息员``)
ROLE_LABELS = {"楼栋长": "building_head", "信息员": "informant"}
#: states in which a case is, or has been, with a department
DEPT_VISIBLE_STATES = (
    "dispatched",
    "in_progress",
    "extension_requested",
    "handled",
    "verified",
    "closed",
)
#: incident fields that carry personal information
PERSONAL_FIELDS = (
    "description",
    "address",
    "reporter",
    "photo_ids",
    "idempotency_key",
    "phone",
    "email",
)
#: columns of a household change that say who made it and what they wrote
HOUSEHOLD_CHANGE_PERSONAL = ("username", "note", "patrol_id")
#: decimal places of longitude/latitude shown to roles without exact locations (~100 m)
ROUNDED_DECIMALS = 3

#: action -> roles allowed (an area binding narrows *which* records, never *whether*)
ACTIONS: dict[str, frozenset[str]] = {
    name: frozenset(roles)
    for name, roles in {
        # the map, grid cards, layers, search, overview
        "map.view": ("admin", "supervisor", "dept", "worker", "analyst"),
        # reporting and working on incidents
        "incident.report": ("admin", "supervisor", "worker"),
        "incident.read": ("admin", "supervisor", "dept", "worker", "analyst", "hotline"),
        "incident.transition": ("admin", "supervisor", "dept", "worker"),
        # a case's own page: the whole record, history, photos and actions
        "case.view": ("admin", "supervisor", "dept", "worker"),
        "photo.upload": ("admin", "supervisor", "dept", "worker"),
        "photo.view": ("admin", "supervisor", "dept", "worker"),
        "tasks.view": ("admin", "supervisor", "worker"),
        "desk.view": ("admin", "supervisor"),
        # the desk's 批量派遣 (each case still passes the workflow's own role check)
        "desk.dispatch": ("admin", "supervisor"),
        "dept.view": ("admin", "dept"),
        # Open311 GeoReport v2
        "open311.submit": ("admin", "supervisor", "worker", "hotline"),
        "open311.read": ("admin", "supervisor", "dept", "worker", "analyst", "hotline"),
        # grid boundaries
        "rebalance.edit": ("admin", "supervisor"),
        # analysis
        "reports.view": ("admin", "supervisor", "analyst"),
        "stats.view": ("admin", "supervisor", "analyst"),
        # maps drawn for a whole 街道 (the demo's overview, ``gridmgmt map``): unbound accounts
        "maps.generated": ("admin", "supervisor", "analyst"),
        "ogcapi.read": ("admin", "supervisor", "dept", "worker", "analyst"),
        # patrols
        "patrol.record": ("worker",),
        "patrol.report": ("admin", "supervisor", "analyst"),
        "patrol.names": ("admin", "supervisor"),
        # 房屋台账 on 走访: households confirmed or corrected on visits
        "households.confirm": ("admin", "supervisor", "worker"),
        "households.read": ("admin", "supervisor", "worker", "analyst"),
        "households.review": ("admin", "supervisor"),
        # volunteers (楼栋长, 信息员): their phone page, reports and 零报告
        "volunteer.report": VOLUNTEER_ROLES,
        # who of a grid's volunteers reported today, sent 零报告 or was silent
        "volunteer.roll": ("admin", "supervisor", "worker"),
        # residents' public pages: open to everyone, anonymous included
        "resident.report": (*ROLES, None),
        "resident.follow": (*ROLES, None),
        "resident.map": (*ROLES, None),
    }.items()
}
#: actions anyone may perform, without logging in
PUBLIC_ACTIONS = frozenset(a for a, roles in ACTIONS.items() if None in roles)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a logged-in account, an API client, or nobody.

    Parameters
    ----------
    role : str or None
        One of :data:`ROLES`; None for an anonymous request.
    username : str, optional
        The account's or API client's name (a hotline reads its own submissions by it).
    grid_codes : tuple of str
        A grid worker's own grids.
    department : str, optional
        The department a dept handler is bound to.
    area : str, optional
        Code prefix (区 or 街道) the account is bound to; None for the whole deployment.
    """

    role: str | None = None
    username: str | None = None
    grid_codes: tuple[str, ...] = field(default_factory=tuple)
    department: str | None = None
    area: str | None = None

    def __post_init__(self):
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        if self.area is not None and not (self.area.isdigit() and len(self.area) in (6, 9, 12)):
            raise ValueError(f"an area is a 6-, 9- or 12-digit code, not {self.area!r}")

    @property
    def authenticated(self) -> bool:
        """Whether anyone is logged in (or an API key was presented)."""
        return self.role is not None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class IncidentFields:
    """Which parts of an incident a principal sees."""

    personal: bool
    department: bool
    exact_location: bool


# ------------------------------------------------------------------ actions
def may(principal: Principal, action: str) -> bool:
    """Whether ``principal`` may perform ``action`` (a key of :data:`ACTIONS`).

    Raises
    ------
    KeyError
        An action the policy does not know: a door asking about something
        new must add it here first.
    """
    allowed = ACTIONS[action]
    return principal.role in allowed


# ------------------------------------------------------------------ records
def in_area(principal: Principal, code: str | None) -> bool:
    """Whether a grid (or 社区/街道) code lies in the principal's area; unbound: always."""
    if principal.area is None:
        return True
    return code is not None and str(code).startswith(principal.area)


def visible_outlines(principal: Principal, codes: Iterable[str]) -> np.ndarray:
    """Mask over grid ``codes``: whose outline may be drawn (the area's; workers see neighbours').

    Outlines and codes of the grids around one's own are what a map needs
    to be read; what lies inside a grid (buildings, counts, workers) follows
    :func:`grid_visible`.
    """
    codes = pd.Series(list(codes), dtype=object)
    if not may(principal, "map.view"):
        return np.zeros(len(codes), bool)
    if principal.area is None:
        return np.ones(len(codes), bool)
    return codes.fillna("").astype(str).str.startswith(principal.area).to_numpy()


def grid_visible(principal: Principal, code: str | None) -> bool:
    """Whether the grid ``code`` (its boundary, buildings, counts) is visible."""
    if not may(principal, "map.view"):
        return False
    if not in_area(principal, code):
        return False
    if principal.role == "worker":
        return code is not None and code in principal.grid_codes
    return True


def visible_grids(principal: Principal, codes: Iterable[str]) -> np.ndarray:
    """Mask over ``codes``: which grids are visible (see :func:`grid_visible`)."""
    codes = pd.Series(list(codes), dtype=object)
    if not may(principal, "map.view"):
        return np.zeros(len(codes), bool)
    mask = np.ones(len(codes), bool)
    if principal.area is not None:
        mask &= codes.fillna("").astype(str).str.startswith(principal.area).to_numpy()
    if principal.role == "worker":
        mask &= codes.isin(principal.grid_codes).to_numpy()
    return mask


@dataclass(frozen=True)
class GridScope:
    """Which grids (and the buildings and facilities located in them) a principal may see,
    as conditions a store can turn into a query (the rule of :func:`visible_grids`).

    Parameters
    ----------
    nothing : bool
        The principal sees no grid at all.
    area : str, optional
        Only grids whose code starts with this prefix (objects outside every grid: hidden).
    grid_codes : tuple of str, optional
        Only these grids (a worker's own).
    """

    nothing: bool = False
    area: str | None = None
    grid_codes: tuple[str, ...] | None = None


def grid_query_scope(principal: Principal) -> GridScope:
    """The grids ``principal`` may see, as conditions (same rule as :func:`visible_grids`)."""
    if not may(principal, "map.view"):
        return GridScope(nothing=True)
    return GridScope(
        area=principal.area,
        grid_codes=tuple(principal.grid_codes) if principal.role == "worker" else None,
    )


def grid_scope(principal: Principal) -> tuple[str, ...] | None:
    """The grids a principal is confined to (a worker's own), or None when not confined."""
    if principal.role == "worker":
        return tuple(principal.grid_codes)
    return None


def may_confirm_households(principal: Principal, grid_code: str | None) -> bool:
    """Whether ``principal`` may confirm or correct the households of a building in ``grid_code``.

    A worker in its own grids only; a supervisor or admin anywhere in its
    area (an unbound one also where no current grid lies).
    """
    if not may(principal, "households.confirm"):
        return False
    if principal.role == "worker":
        return grid_code is not None and grid_code in principal.grid_codes
    return in_area(principal, grid_code)


def may_read_households(principal: Principal, grid_code: str | None) -> bool:
    """Whether ``principal`` may read a building's households and their changes (its grid's rule)."""
    return may(principal, "households.read") and grid_visible(principal, grid_code)


def redact_household_changes(principal: Principal, table: pd.DataFrame) -> pd.DataFrame:
    """Household changes without who made them and their notes, for roles without personal data."""
    if incident_fields(principal).personal:
        return table
    return table.drop(columns=[c for c in HOUSEHOLD_CHANGE_PERSONAL if c in table.columns])


def incident_visible(principal: Principal, incident: Mapping) -> bool:
    """Whether one incident (a record with ``grid_code``, ``state``, ``department``,
    ``reporter``) is visible to ``principal``."""
    if not may(principal, "incident.read"):
        return False
    role = principal.role
    if role == "hotline":
        return incident.get("reporter") == principal.username
    grid = incident.get("grid_code")
    if grid is not None and grid != grid:  # NaN from a table
        grid = None
    if principal.area is not None and not in_area(principal, grid):
        return False
    if role == "worker":
        return grid is not None and grid in principal.grid_codes
    if role == "dept":
        if incident.get("state") not in DEPT_VISIBLE_STATES:
            return False
        return principal.department is None or incident.get("department") == principal.department
    return True


@dataclass(frozen=True)
class IncidentScope:
    """Which incidents a principal may see, as conditions a store can turn into a query.

    Every condition that is set must hold (None: no condition). A store
    applies them in SQL before counting and paging, so totals and pages
    are the principal's own; :meth:`mask` applies the same conditions to a
    table already loaded.

    Parameters
    ----------
    nothing : bool
        The principal sees no incident at all.
    reporter : str, optional
        Only incidents this client reported (a hotline).
    area : str, optional
        Only incidents whose grid code starts with this prefix (outside every grid: hidden).
    grid_codes : tuple of str, optional
        Only incidents in these grids (a worker's own; empty: none).
    states : tuple of str, optional
        Only incidents in these states (departments).
    department : str, optional
        Only incidents handled by this department.
    """

    nothing: bool = False
    reporter: str | None = None
    area: str | None = None
    grid_codes: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    department: str | None = None

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Mask over the rows of an incidents table: those in scope."""
        if self.nothing:
            return np.zeros(len(table), bool)
        mask = np.ones(len(table), bool)
        if self.reporter is not None:
            mask &= (table["reporter"] == self.reporter).to_numpy()
        grid = table["grid_code"]
        if self.area is not None:
            mask &= grid.fillna("").astype(str).str.startswith(self.area).to_numpy()
        if self.grid_codes is not None:
            mask &= grid.isin(self.grid_codes).to_numpy()
        if self.states is not None:
            mask &= table["state"].isin(self.states).to_numpy()
        if self.department is not None:
            mask &= (table["department"] == self.department).to_numpy()
        return mask


def incident_scope(principal: Principal) -> IncidentScope:
    """The incidents ``principal`` may see, as conditions (same rule as :func:`incident_visible`)."""
    if not may(principal, "incident.read"):
        return IncidentScope(nothing=True)
    role = principal.role
    if role == "hotline":
        return IncidentScope(reporter=principal.username or "")
    return IncidentScope(
        area=principal.area,
        grid_codes=tuple(principal.grid_codes) if role == "worker" else None,
        states=DEPT_VISIBLE_STATES if role == "dept" else None,
        department=principal.department if role == "dept" else None,
    )


def visible_incidents(principal: Principal, table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an incidents table that ``principal`` may see (same rule as one record)."""
    if len(table) == 0:
        return table.iloc[0:0]
    return table[incident_scope(principal).mask(table)]


def grid_visibility_key(principal: Principal) -> tuple:
    """What grid visibility depends on: principals with equal keys see the same grids,
    outlines, buildings and facilities (a cache of those layers is keyed by it)."""
    return (
        may(principal, "map.view"),
        principal.area,
        tuple(sorted(principal.grid_codes)) if principal.role == "worker" else None,
    )


# ------------------------------------------------------------------ fields
def incident_fields(principal: Principal) -> IncidentFields:
    """What of a visible incident ``principal`` sees."""
    analyst = principal.role == "analyst"
    return IncidentFields(personal=not analyst, department=not analyst, exact_location=not analyst)


def rounded_points(principal: Principal, geometries: np.ndarray) -> np.ndarray:
    """Point geometries as ``principal`` may see them: rounded where exact places are hidden."""
    if incident_fields(principal).exact_location:
        return geometries
    return shapely.set_precision(geometries, 10.0**-ROUNDED_DECIMALS, mode="pointwise")


def rounded(value: float | None) -> float | None:
    """A longitude or latitude rounded to :data:`ROUNDED_DECIMALS` places (~100 m)."""
    if value is None or value != value:
        return None
    return round(float(value), ROUNDED_DECIMALS)


def redact_incident(principal: Principal, record: Mapping) -> dict:
    """A copy of ``record`` with what ``principal`` may not see removed.

    Personal fields are dropped, ``department`` too where hidden; ``lon`` and
    ``lat`` are rounded where the exact location is hidden, and a history's
    actors and notes are blanked where personal data is hidden.
    """
    shown = incident_fields(principal)
    out = dict(record)
    if not shown.personal:
        for name in PERSONAL_FIELDS:
            out.pop(name, None)
        if "history" in out:
            out["history"] = [
                {**h, "actor": None, "note": None, "photo_ids": []} for h in out["history"]
            ]
    if not shown.department:
        out.pop("department", None)
    if not shown.exact_location:
        for name in ("lon", "lat"):
            if name in out:
                out[name] = rounded(out[name])
    return out


def redact_incident_records(principal: Principal, records: list[dict]) -> list[dict]:
    """Incident records (dicts) without the fields ``principal`` may not see; ``lon``/``lat``
    rounded where exact locations are hidden (the rule of :func:`redact_incidents`)."""
    shown = incident_fields(principal)
    hidden = set() if shown.personal else set(PERSONAL_FIELDS)
    if not shown.department:
        hidden.add("department")
    out = [{k: v for k, v in r.items() if k not in hidden} for r in records]
    if not shown.exact_location:
        for r in out:
            for name in ("lon", "lat"):
                if name in r:
                    r[name] = rounded(r[name])
    return out


def redact_incidents(principal: Principal, table: pd.DataFrame) -> pd.DataFrame:
    """An incidents table without the columns ``principal`` may not see.

    Columns named ``lon``/``lat`` are rounded where exact locations are
    hidden; a geometry column is for the caller to round (see :func:`rounded`).
    """
    shown = incident_fields(principal)
    drop = [] if shown.personal else [c for c in PERSONAL_FIELDS if c in table.columns]
    if not shown.department and "department" in table.columns:
        drop.append("department")
    out = table.drop(columns=drop)
    if not shown.exact_location:
        for name in ("lon", "lat"):
            if name in out.columns:
                out[name] = out[name].round(ROUNDED_DECIMALS)
    return out
