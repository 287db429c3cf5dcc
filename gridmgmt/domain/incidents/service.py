"""Use cases of the incident loop: report an incident, move it through the workflow.

The grid is found from the location (the store's lookup follows the
assignment rule: smallest code on shared edges); a location outside every
grid is kept with ``grid_code=None`` and ``unassigned_reason`` so the 街道
centre can place it: nothing is dropped. Every change is one history row.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

import shapely

from gridmgmt.domain.errors import ConflictError
from gridmgmt.domain.incidents.calendar import WorkingCalendar
from gridmgmt.domain.incidents.workflow import TransitionError, load_workflow

SOURCES = {
    "网格员巡查": "patrol",
    "居民上报": "resident",
    "信息员上报": "informant",
    "12345热线": "hotline",
    "视频": "video",
    "其他": "other",
}
_WORKFLOW = load_workflow()
_CALENDAR = WorkingCalendar()
#: states in which no deadline runs
_NO_DEADLINE = {"closed", "rejected", "cancelled", "suspended"}
#: longest accepted text per field, in characters (the address column holds 200)
TEXT_LIMITS = {"description": 2000, "address": 200, "note": 1000, "idempotency_key": 100}
#: the fields' names on the UI's pages
TEXT_LABELS = {
    "description": "描述",
    "address": "地址",
    "note": "备注",
    "idempotency_key": "幂等键",
}


def check_length(field: str, text: str | None) -> None:
    """Raise ValueError when ``text`` is not text or longer than :data:`TEXT_LIMITS` allows."""
    if text is None:
        return
    if not isinstance(text, str):
        raise ValueError(f"{field} must be text, not {type(text).__name__}")
    n, limit = len(text), TEXT_LIMITS[field]
    if n > limit:
        raise ValueError(
            f"{TEXT_LABELS[field]}过长：{n:,} 字，最多 {limit:,} 字"
            f" ({field} is {n:,} characters long; at most {limit:,} are accepted)"
        )


def scoped_key(reporter: str, key: str | None) -> str | None:
    """The stored form of a client's idempotency key: one reporter's keys never meet another's.

    A replay with the same key by the same reporter finds the first
    incident; the same key sent by someone else is a different key.
    """
    if key is None:
        return None
    return hashlib.sha256(f"{reporter}\x1f{key}".encode()).hexdigest()


def stage_deadline(
    category: dict, stage: str, start: datetime, *, urgent: bool = False, calendar=_CALENDAR
) -> datetime:
    """When a stage started at ``start`` is due, from the category's limits.

    立案 (register), 派遣 (dispatch) and 核查 (verify) limits are in minutes;
    处置 (handle) in the category's unit, urgent or normal.
    """
    if stage == "handle":
        if urgent:
            return calendar.add(
                start, category["urgent_handle_limit"], category["urgent_handle_unit"]
            )
        return calendar.add(start, category["handle_limit"], category["handle_unit"])
    minutes = {"register": "register_min", "dispatch": "dispatch_min", "verify": "verify_min"}[
        stage
    ]
    return calendar.add(start, category[minutes], "minutes")


def _point(lon, lat):
    if lon is None or lat is None:
        return None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValueError(f"location must be numbers, got ({lon!r}, {lat!r})") from None
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
        raise ValueError(f"not a lon/lat position: ({lon}, {lat})")
    return shapely.Point(lon, lat)


def report_incident(
    repo,
    *,
    category_code: str,
    description: str,
    lon: float | None,
    lat: float | None,
    reporter: str,
    role: str = "worker",
    source: str = "网格员巡查",
    urgent: bool = False,
    address: str | None = None,
    photo_ids: list[str] | tuple = (),
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """Record a new incident (state 上报) and return ``(incident, created)``.

    Raises ``ValueError`` for an unknown category, an empty description, an
    unknown source, a bad location, or a missing photo where the category
    requires one from a grid worker's patrol report (hotline and resident
    reports come without photos). A repeated ``idempotency_key`` returns the stored incident.
    """
    category = repo.category(category_code)
    if category is None:
        raise ValueError(f"unknown incident category {category_code!r}")
    if not description or not description.strip():
        raise ValueError("description must not be empty")
    check_length("description", description.strip())
    check_length("address", address)
    check_length("idempotency_key", idempotency_key)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if (
        category["photo_required"] and source == "网格员巡查" and not photo_ids
    ):  # workers on site take one
        raise ValueError(f"{category['name']}: a photo is required")
    point = _point(lon, lat)
    if point is None:
        grid_code, reason = None, "missing_location"
    else:
        grid_code = repo.grid_code_at(point.x, point.y)
        reason = None if grid_code else "outside_all_grids"
    now = now or datetime.now(UTC)
    deadline = stage_deadline(category, "register", now, urgent=urgent)
    record = {
        "source": source,
        "category_code": category["code"],
        "description": description.strip(),
        "urgent": bool(urgent),
        "state": _WORKFLOW.initial,
        "grid_code": grid_code,
        "unassigned_reason": reason,
        "reporter": reporter,
        "department": category["department"],
        "address": address,
        "idempotency_key": scoped_key(reporter, idempotency_key),
        "created_at": now,
        "updated_at": now,
        "geom": point,
        "deadline_stage": "register",
        "deadline_at": deadline,
    }
    history = {
        "at": now,
        "actor": reporter,
        "role": role,
        "transition": "report",
        "from_state": None,
        "to_state": _WORKFLOW.initial,
        "note": None,
        "photo_ids": list(photo_ids),
        "geom": point,
        "deadline_stage": "register",
        "deadline_at": deadline,
    }
    return repo.create_incident(record, history)


def transition_incident(
    repo,
    incident_id: int,
    transition: str,
    *,
    actor: str,
    role: str,
    expected_version: int | None = None,
    note: str | None = None,
    photo_ids: list[str] | tuple = (),
    lon: float | None = None,
    lat: float | None = None,
    now: datetime | None = None,
    department: str | None = None,
) -> dict:
    """Apply a workflow transition; raises TransitionError, ConflictError or NotFoundError.

    A 派遣 (dispatch) may name the ``department`` it goes to (default: the
    category's); the history note records it. A repository with an
    ``on_transition(incident, transition)`` attribute hears of every
    transition once it is stored (the web app tells residents through it).
    """
    incident = repo.incident(incident_id)  # NotFoundError when absent
    version = incident["version"] if expected_version is None else expected_version
    if version != incident["version"]:  # the caller acted on a stale view
        raise ConflictError(
            f"incident {incident_id} changed meanwhile (version {incident['version']}, expected {version}); reload it"
        )
    check_length("note", note)
    point = _point(lon, lat)
    if department is not None:
        department = department.strip()
        if transition != "dispatch":
            raise ValueError("only a dispatch (派遣) names a department")
        known = repo.departments()
        if department not in known:
            raise ValueError(
                f"unknown department {department!r}; dispatch to one of: {', '.join(known)}"
            )
    new_state = _WORKFLOW.apply(
        incident["state"], transition, role, note=note, photos=len(photo_ids), location=point
    )
    now = now or datetime.now(UTC)
    stage, deadline = incident["deadline_stage"], incident["deadline_at"]
    step = _WORKFLOW.transitions[transition]
    if new_state in _NO_DEADLINE:
        stage, deadline = None, None
    elif step.starts_stage:
        category = repo.category(incident["category_code"]) or {}
        stage = step.starts_stage
        deadline = stage_deadline(category, stage, now, urgent=incident["urgent"])
    elif transition == "approve_extension":  # an approved extension adds one more 处置 period
        category = repo.category(incident["category_code"]) or {}
        base = max(deadline, now) if deadline is not None else now
        stage, deadline = (
            "handle",
            stage_deadline(category, "handle", base, urgent=incident["urgent"]),
        )
    if department is not None:
        note = f"派遣至{department}" + (f"：{note.strip()}" if note and note.strip() else "")
    history = {
        "deadline_stage": stage,
        "deadline_at": deadline,
        "at": now,
        "actor": actor,
        "role": role,
        "transition": transition,
        "from_state": incident["state"],
        "to_state": new_state,
        "note": note,
        "photo_ids": list(photo_ids),
        "geom": point,
    }
    changes = {
        "state": new_state,
        "updated_at": now,
        "deadline_stage": stage,
        "deadline_at": deadline,
    }
    if department is not None:
        changes["department"] = department
    updated = repo.apply_transition(incident_id, version, changes, history)
    listener = getattr(repo, "on_transition", None)  # e.g. telling the resident (派遣, 结案)
    if listener is not None:
        listener(updated, transition)
    return updated


def replay(history: list[dict]) -> str:
    """The state a history leads to, checking each step's states and role against the workflow.

    Notes, photos and locations were checked when each step was recorded, so
    the replay does not ask for them again.
    """
    state = None
    for row in history:
        if row["transition"] == "report":
            state = _WORKFLOW.initial
            continue
        if row["from_state"] != state:
            raise TransitionError(f"history broken at step {row['seq']}", "state")
        state = _WORKFLOW.apply(
            state,
            row["transition"],
            row["role"],
            note=row["note"] or "x",
            photos=max(1, len(row["photo_ids"])),
            location=True,
        )
        if state != row["to_state"]:
            raise TransitionError(f"history broken at step {row['seq']}", "state")
    return state
