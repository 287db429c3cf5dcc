"""Incident states and transitions as data (``gridmgmt/data/workflow*.csv``).

The loop of GB/T 30428.8 as this platform runs it::

    上报 reported --register--> 立案 registered --dispatch--> 已派遣 dispatched
      |  \\--reject--> 不予立案 (closed)               |  \\--return (回退)--> registered
      \\--cancel--> 撤销 (closed)                      accept
    处置中 in_progress --handle--> 已处置 handled --verify_pass--> 核查通过 verified --close--> 结案 closed
         ^   |  \\--request_extension--> 延期申请中 --approve/deny--> in_progress
         |   \\--suspend (挂账)--> suspended --resume--> registered
         \\----------- verify_fail (返工) -------------/
    结案 closed --request_rework (a resident rates 不满意)--> 返工申请 rework_requested
      rework_requested --reopen (返工重办)--> registered;  --keep_closed (维持结案)--> closed

Each transition lists the roles that may make it (``supervisor`` stands for
the 街道 centre's 受理员 and 值班长; ``resident`` the public follow page's
回访; ``admin`` may make any but the residents' own), what it requires
(a note, a photo, a location) and the deadline stage it starts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources

REQUIREMENTS = ("note", "photo", "location")
#: the roles of transitions only residents make (``request_rework``)
RESIDENT_ONLY = frozenset({"resident"})


class TransitionError(ValueError):
    """A transition that is not allowed; ``reason`` is one of ``state``, ``role``, ``missing``, ``unknown``."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class State:
    name: str
    label_zh: str
    label_en: str
    closed: bool
    public_state: str

    @property
    def open311_status(self) -> str:
        """Open311 GeoReport v2 has only ``open`` and ``closed``."""
        return "closed" if self.closed else "open"


@dataclass(frozen=True)
class Transition:
    name: str
    label_zh: str
    label_en: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    requires: frozenset[str] = field(default_factory=frozenset)
    starts_stage: str | None = None

    def allows(self, role: str) -> bool:
        """Whether ``role`` may make the transition: its roles, and ``admin`` any but those
        reserved to residents (a 回访 is the resident's own word)."""
        if role in self.roles:
            return True
        return role == "admin" and self.roles != RESIDENT_ONLY


class Workflow:
    """The state machine; :meth:`apply` checks state, role and requirements."""

    def __init__(self, states: dict[str, State], transitions: dict[str, Transition]):
        self.states = states
        self.transitions = transitions
        for t in transitions.values():
            unknown = (set(t.sources) | {t.target}) - states.keys()
            if unknown:
                raise ValueError(f"transition {t.name} names unknown state(s) {sorted(unknown)}")

    initial = "reported"

    def available(self, state: str, role: str) -> list[Transition]:
        """Transitions ``role`` may make from ``state``."""
        return [t for t in self.transitions.values() if state in t.sources and t.allows(role)]

    def apply(
        self,
        state: str,
        transition: str,
        role: str,
        *,
        note: str | None = None,
        photos: int = 0,
        location: object | None = None,
    ) -> str:
        """The state after ``transition``; :class:`TransitionError` when it is not allowed."""
        t = self.transitions.get(transition)
        if t is None:
            raise TransitionError(f"未知操作 unknown transition {transition!r}", "unknown")
        if state not in t.sources:
            label = self.states[state].label_zh if state in self.states else state
            raise TransitionError(
                f"当前状态“{label}”不能{t.label_zh} ({transition} is not allowed from {state})",
                "state",
            )
        if not t.allows(role):
            raise TransitionError(
                f"角色无权{t.label_zh} (role {role} may not {transition})", "role"
            )
        missing = []
        if "note" in t.requires and not (note and note.strip()):
            missing.append(("note", "说明"))
        if "photo" in t.requires and photos <= 0:
            missing.append(("photo", "照片"))
        if "location" in t.requires and location is None:
            missing.append(("location", "位置"))
        if missing:
            zh = "、".join(m[1] for m in missing)
            en = ", ".join(m[0] for m in missing)
            raise TransitionError(f"{t.label_zh}需要{zh} ({transition} requires {en})", "missing")
        return t.target

    def is_closed(self, state: str) -> bool:
        return self.states[state].closed


def _split(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in (text or "").split("|") if p.strip())


def load_workflow() -> Workflow:
    """The packaged workflow (states and transitions CSVs)."""
    base = resources.files("gridmgmt").joinpath("data")
    states = {}
    for row in csv.DictReader(
        io.StringIO(base.joinpath("workflow_states.csv").read_text(encoding="utf-8"))
    ):
        states[row["state"]] = State(
            row["state"],
            row["label_zh"],
            row["label_en"],
            row["status"] == "closed",
            row["public_state"],
        )
    transitions = {}
    for n, row in enumerate(
        csv.DictReader(io.StringIO(base.joinpath("workflow.csv").read_text(encoding="utf-8"))),
        start=2,
    ):
        requires = _split(row["requires"])
        if requires - set(REQUIREMENTS):
            raise ValueError(
                f"workflow.csv, row {n}: unknown requirement(s) {sorted(requires - set(REQUIREMENTS))}"
            )
        transitions[row["transition"]] = Transition(
            name=row["transition"],
            label_zh=row["label_zh"],
            label_en=row["label_en"],
            sources=_split(row["from_states"]),
            target=row["to_state"],
            roles=_split(row["roles"]),
            requires=requires,
            starts_stage=row["starts_stage"] or None,
        )
    return Workflow(states, transitions)
