"""Work lists of the incident loop: the 街道 centre's desk, department handlers, grid workers.

Pure queries over the incident table the store returns
(:meth:`Store.incidents`): filters by 社区, grid, category, state and date,
the queues of the dispatch desk (new reports, to dispatch, extension
requests, to close), overdue and near-due flags, and what a role may do
with an incident next (from the workflow data). The web views only render
what these functions return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from gridmgmt.core.periods import SHANGHAI, PeriodError, parse_day
from gridmgmt.domain.access import Principal, incident_scope
from gridmgmt.domain.incidents.calendar import is_near_due, is_overdue
from gridmgmt.domain.incidents.workflow import Transition, load_workflow

WORKFLOW = load_workflow()
#: states in which a department handler holds the case
DEPT_STATES = ("dispatched", "in_progress", "extension_requested")
#: the desk's queues: name -> (中文, states)
QUEUES = {
    "new": ("待立案", ("reported",)),
    "dispatch": ("待派遣", ("registered",)),
    "extension": ("延期申请", ("extension_requested",)),
    "close": ("待结案", ("verified",)),
    "rework": ("返工申请", ("rework_requested",)),  # residents rated 不满意: reopen or keep closed
    "open": ("全部在办", None),
}
NEAR_DUE = timedelta(hours=2)
CLOSED_STATES = frozenset(s for s, st in WORKFLOW.states.items() if st.closed)


@dataclass(frozen=True)
class IncidentFilter:
    """What the desk's filter bar asks for; empty fields do not filter."""

    community: str | None = None
    grid: str | None = None
    category: str | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    department: str | None = None

    @classmethod
    def from_args(cls, args) -> IncidentFilter:
        """Build from request arguments; ``ValueError`` naming a malformed date or unknown state."""

        def day(name):
            text = (args.get(name) or "").strip()
            if not text:
                return None
            try:
                return parse_day(text)
            except PeriodError:
                raise PeriodError(f"{name} must be a date like 2026-11-01, got {text!r}") from None

        state = (args.get("state") or "").strip() or None
        if state is not None and state not in WORKFLOW.states:
            raise ValueError(f"unknown state {state!r}")
        return cls(
            community=(args.get("community") or "").strip() or None,
            grid=(args.get("grid") or "").strip() or None,
            category=(args.get("category") or "").strip() or None,
            state=state,
            date_from=day("from"),
            date_to=day("to"),
            department=(args.get("department") or "").strip() or None,
        )


def annotate(table: pd.DataFrame, now: datetime | None = None) -> pd.DataFrame:
    """Add ``overdue`` and ``near_due`` columns (no deadline runs in closed states).

    Missing texts (an incident outside every grid has no ``grid_code``) come
    out as None, not NaN, so pages show the 待分配 badge instead of "nan".
    """
    now = now or datetime.now(UTC)
    table = table.copy()
    for column in table.columns:
        if pd.api.types.is_object_dtype(table[column]) or pd.api.types.is_string_dtype(
            table[column]
        ):
            values = [None if isinstance(v, float) and v != v else v for v in table[column]]
            table[column] = pd.Series(values, index=table.index, dtype=object)
    deadlines = [None if d is None or d != d else d for d in table.get("deadline_at", [])]
    table["overdue"] = [is_overdue(d, now) for d in deadlines]
    table["near_due"] = [is_near_due(d, now, within=NEAR_DUE) for d in deadlines]
    # hours to the deadline (negative: overdue by that many), missing without a deadline
    table["hours_left"] = [
        None if d is None else (pd.Timestamp(d).to_pydatetime() - now).total_seconds() / 3600
        for d in deadlines
    ]
    return table


#: the desk's orders: name -> (column, ascending); deadlines soonest (most overdue) first
SORTS = {"created": ("created_at", False), "deadline": ("deadline_at", True)}


def sort_rows(table: pd.DataFrame, by: str = "created") -> pd.DataFrame:
    """``table`` in the desk order ``by`` (:data:`SORTS`); rows without a deadline go last."""
    if by not in SORTS:
        raise ValueError(f"unknown order {by!r}; expected one of {', '.join(SORTS)}")
    column, ascending = SORTS[by]
    return table.sort_values([column, "id"], ascending=[ascending, False], na_position="last")


def with_flags(incident: dict, now: datetime | None = None) -> dict:
    """One incident (a dict) with ``overdue`` and ``near_due`` added."""
    now = now or datetime.now(UTC)
    deadline = incident.get("deadline_at")
    return {
        **incident,
        "overdue": is_overdue(deadline, now),
        "near_due": is_near_due(deadline, now, within=NEAR_DUE),
    }


def apply_filter(table: pd.DataFrame, f: IncidentFilter) -> pd.DataFrame:
    """Rows of ``table`` that match ``f`` (dates are Asia/Shanghai calendar days of creation)."""
    keep = pd.Series(True, index=table.index)
    codes = table["grid_code"].fillna("")
    if f.community:
        keep &= codes.str.startswith(f.community)
    if f.grid:
        keep &= codes == f.grid
    if f.category:
        keep &= table["category_code"].astype(str).str.startswith(f.category)
    if f.state:
        keep &= table["state"] == f.state
    if f.department:
        keep &= table["department"] == f.department
    if f.date_from or f.date_to:
        created = pd.to_datetime(table["created_at"], utc=True)
        if f.date_from:
            keep &= created >= pd.Timestamp(datetime.combine(f.date_from, time(0), SHANGHAI))
        if f.date_to:
            end = datetime.combine(f.date_to + timedelta(days=1), time(0), SHANGHAI)
            keep &= created < pd.Timestamp(end)
    return table[keep]


def desk_view(
    repo,
    f: IncidentFilter,
    queue: str | None = None,
    now: datetime | None = None,
    principal: Principal | None = None,
):
    """The desk: filtered rows (newest first) and the count of every queue and flag.

    ``queue`` is one of :data:`QUEUES`, ``overdue``, ``near_due`` or
    ``unassigned``; None shows what the filter matches. With a
    ``principal``, rows and counts cover only the incidents it may see (an
    area-bound supervisor: its area). Returns ``(rows, counts)``.
    """
    table = annotate(_seen_by(repo, principal), now)
    open_rows = table[~table["state"].isin(CLOSED_STATES)]
    counts = {
        name: int(open_rows["state"].isin(states).sum())
        for name, (_, states) in QUEUES.items()
        if states
    }
    counts["open"] = len(open_rows)
    counts["overdue"] = int(open_rows["overdue"].sum())
    counts["near_due"] = int(open_rows["near_due"].sum())
    counts["unassigned"] = int(open_rows["grid_code"].isna().sum())
    if queue in QUEUES:
        states = QUEUES[queue][1]
        table = open_rows if states is None else table[table["state"].isin(states)]
    elif queue in ("overdue", "near_due"):
        table = open_rows[open_rows[queue]]
    elif queue == "unassigned":  # outside every grid or without location: the centre places them
        table = open_rows[open_rows["grid_code"].isna()]
    elif queue is not None:
        raise ValueError(f"unknown queue {queue!r}")
    table = apply_filter(table, f)
    return table.sort_values("created_at", ascending=False), counts


def department_cases(
    repo,
    department: str | None = None,
    now: datetime | None = None,
    principal: Principal | None = None,
):
    """Cases held by departments (dispatched, in progress, extension requested), most urgent first.

    With a ``principal``, only the cases it may see.
    """
    table = annotate(_seen_by(repo, principal), now)
    table = table[table["state"].isin(DEPT_STATES)]
    if department:
        table = table[table["department"] == department]
    return table.sort_values("deadline_at", na_position="last")


def _seen_by(repo, principal: Principal | None, **filters) -> pd.DataFrame:
    """The incidents ``principal`` may see (all without a principal), chosen in the store's query."""
    scope = None if principal is None else incident_scope(principal)
    return repo.incidents(scope=scope, **filters)


def verification_tasks(
    repo, grid_codes, now: datetime | None = None, principal: Principal | None = None
):
    """Incidents awaiting 核查 (handled) in ``grid_codes`` (None: every grid), most urgent first.

    With a ``principal``, only the incidents it may see.
    """
    table = annotate(_seen_by(repo, principal, state="handled", grid_codes=grid_codes), now)
    return table.sort_values("deadline_at", na_position="last")


def reported_page(
    repo,
    username: str,
    page: int = 1,
    per_page: int = 20,
    now=None,
    principal: Principal | None = None,
):
    """One page of the incidents ``username`` reported, newest first; (rows, total count).

    Only the reporter's own incidents (``reporter == username``); with a
    ``principal``, only those of them it may also open (a grid worker's
    reports in its own grids). ``page`` counts from 1; a page past the end
    is empty.
    """
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page count from 1")
    table = _seen_by(repo, principal)
    own = table[table["reporter"] == username].sort_values("created_at", ascending=False)
    first = (page - 1) * per_page
    return annotate(own.iloc[first : first + per_page], now), len(own)


def actions(state: str, role: str) -> list[Transition]:
    """Transitions ``role`` may make from ``state``, in workflow order."""
    return WORKFLOW.available(state, role)


def state_label(state: str | None, lang: str = "zh") -> str:
    """The state's label in ``lang`` (``zh`` or ``en``)."""
    if state is None or state not in WORKFLOW.states:
        return state or ""
    st = WORKFLOW.states[state]
    return st.label_en if lang == "en" else st.label_zh


def transition_label(name: str, lang: str = "zh") -> str:
    """The transition's label in ``lang``."""
    t = WORKFLOW.transitions.get(name)
    if t is None:
        return {"report": "Report" if lang == "en" else "上报"}.get(name, name)
    return t.label_en if lang == "en" else t.label_zh


UNITS = {
    "minutes": ("分钟", "minutes"),
    "working_hours": ("工作小时", "working hours"),
    "working_days": ("工作日", "working days"),
}


def handle_limit_text(category: dict, urgent: bool, lang: str = "zh") -> str:
    """The category's 处置 time limit at this urgency, e.g. ``2 工作日``."""
    if not category:
        return ""
    prefix = "urgent_" if urgent else ""
    amount, unit = category[prefix + "handle_limit"], category[prefix + "handle_unit"]
    zh, en = UNITS.get(unit, (unit, unit))
    return f"{amount} {en if lang == 'en' else zh}"
