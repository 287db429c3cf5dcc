"""Use case: the desk dispatches several cases to one department at once (批量派遣).

Each case goes through the same service and checks as a single 派遣
(:func:`gridmgmt.domain.incidents.service.transition_incident`): the
workflow (only 立案 cases, only the centre's roles), the version the desk
saw (a case changed meanwhile is not dispatched), the department (one of
the known departments) and who may see the case (the access policy; a case
out of reach is answered as not found, as everywhere). One case refused
never stops the others: the answer is one result per case, in the order
asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from gridmgmt.domain.access import Principal, incident_visible
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.domain.incidents.service import transition_incident
from gridmgmt.domain.incidents.workflow import TransitionError

#: at most this many cases in one request
MAX_CASES = 200


@dataclass(frozen=True)
class CaseResult:
    """What happened to one case: ``ok`` or why not (``reason``: state, role, conflict,
    not_found, invalid), with the service's message."""

    id: int
    ok: bool
    number: str | None = None
    state: str | None = None
    version: int | None = None
    reason: str | None = None
    message: str | None = None

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict."""
        return asdict(self)


def parse_cases(cases) -> list[tuple[int, int | None]]:
    """``[{"id": 1, "version": 3}, ...]`` (or plain ids) as (id, expected version) pairs.

    Raises ValueError naming what is wrong: not a list, empty, too long,
    an id or version that is not a whole number, a case given twice.
    """
    if not isinstance(cases, list) or not cases:
        raise ValueError("cases must be a non-empty list of {id, version}")
    if len(cases) > MAX_CASES:
        raise ValueError(f"at most {MAX_CASES} cases at once, got {len(cases)}")
    out: list[tuple[int, int | None]] = []
    for item in cases:
        ident, version = (
            (item.get("id"), item.get("version")) if isinstance(item, dict) else (item, None)
        )
        if isinstance(ident, bool) or not isinstance(ident, int) or ident <= 0:
            raise ValueError(f"case id must be a positive whole number, got {ident!r}")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise ValueError(f"version of case {ident} must be a whole number, got {version!r}")
        out.append((ident, version))
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        raise ValueError("each case may be given once")
    return out


def dispatch_many(
    repo,
    cases: Iterable[tuple[int, int | None]],
    department: str,
    *,
    principal: Principal,
) -> list[CaseResult]:
    """Dispatch every case to ``department`` through the single-case service; one result each.

    Parameters
    ----------
    repo
        The store (incidents, departments).
    cases : iterable of (int, int or None)
        Case ids with the version the caller saw (None: the current one).
    department : str
        One of ``repo.departments()``; anything else is a ValueError before
        any case is touched.
    principal : Principal
        Who dispatches: their role goes to the workflow check, their reach
        to the visibility check.

    Returns
    -------
    list of CaseResult
    """
    department = (department or "").strip()
    known = repo.departments()
    if department not in known:
        raise ValueError(
            f"unknown department {department!r}; dispatch to one of: {', '.join(known)}"
        )
    results = []
    for ident, version in cases:
        try:
            incident = repo.incident(ident)
            if not incident_visible(principal, incident):
                raise NotFoundError(f"no incident {ident}")
            done = transition_incident(
                repo,
                ident,
                "dispatch",
                actor=principal.username,
                role=principal.role,
                expected_version=version,
                department=department,
            )
        except NotFoundError:
            results.append(
                CaseResult(ident, False, reason="not_found", message=f"no incident {ident}")
            )
            continue
        except TransitionError as err:
            results.append(
                CaseResult(
                    ident,
                    False,
                    incident["number"],
                    incident["state"],
                    incident["version"],
                    err.reason,
                    str(err),
                )
            )
            continue
        except ConflictError as err:
            results.append(
                CaseResult(
                    ident,
                    False,
                    incident["number"],
                    incident["state"],
                    incident["version"],
                    "conflict",
                    str(err),
                )
            )
            continue
        except ValueError as err:
            results.append(
                CaseResult(ident, False, incident["number"], reason="invalid", message=str(err))
            )
            continue
        results.append(CaseResult(ident, True, done["number"], done["state"], done["version"]))
    return results
