"""房屋台账 on 走访: a grid worker confirms or corrects a building's households on a visit.

The people who know how many households live in a building are the grid
workers who walk it. On a visit (走访) a worker opens the building (on the
map or by its address) and confirms its households, or corrects them and
the population, with a note. Each confirmation or correction is a **change**
in a ledger that is never overwritten: it keeps the values it replaced,
who made it, when, the source (``visit``) and the patrol it was made on
(the worker's running patrol, if any). The building's current counts
(``households_source = 'visit'``, confidence high) are the latest change's;
its grid's total and out-of-band flag are recounted in the same
transaction. A submission carries an idempotency key (unique per user): a
replay, from the offline outbox or a double tap, finds the stored change
and writes nothing.

Who may: :func:`gridmgmt.domain.access.may_confirm_households` (a worker in
its own grids, a supervisor or admin in its area); analysts read changes
without names and notes. Supervisors review the changes per grid
(:func:`review_changes`) with each grid's new total and band status; a grid
that left the band is where a rebalance proposal
(:mod:`gridmgmt.domain.rebalancing`) is to be made.

Storage is a repository with the interface of
:class:`gridmgmt.store.household_visits.HouseholdVisitStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pandas as pd

from gridmgmt.core.households import estimate_population
from gridmgmt.domain import access
from gridmgmt.domain.errors import ConflictError, ForbiddenError, NotFoundError

#: the source of a change made on a visit (also the building's households_source)
VISIT_SOURCE = "visit"
#: counts above these are refused as typing errors (the largest towers hold a few hundred)
MAX_HOUSEHOLDS = 5000
MAX_POPULATION = 20000
MAX_NOTE_CHARS = 1000
MAX_KEY_CHARS = 100
#: a patrol still recording but started longer ago than this is taken as left open, not running
PATROL_WINDOW = timedelta(hours=12)
#: band status of a grid: residential inside, below or above the band; unit grids have none;
#: ``retired``: the grid was redrawn since the change
BAND_STATUSES = ("in_band", "under", "over", "unit", "retired")


class VisitInputError(ValueError):
    """A value of a visit that cannot be stored (the message is for the worker, in Chinese)."""


class HouseholdVisitRepository(Protocol):
    """Buildings, household changes and running patrols (see the module docstring)."""

    def building(self, building_id: str) -> dict: ...

    def find_buildings(self, text: str, *, grid_codes=None, limit: int = 20) -> list[dict]: ...

    def running_patrol(self, username: str, since: datetime) -> int | None: ...

    def change_by_key(self, username: str, idempotency_key: str) -> dict | None: ...

    def record(self, **change) -> tuple[dict, bool]: ...

    def changes(
        self, *, building_id=None, grid_codes=None, area=None, since=None, limit=None
    ) -> pd.DataFrame: ...

    def grid_totals(self, codes) -> pd.DataFrame: ...


@dataclass(frozen=True)
class VisitOutcome:
    """What a confirmation or correction did."""

    change: dict
    #: True when the idempotency key was stored already: nothing was written
    replayed: bool
    #: the building's card after the change
    building: dict
    #: the building's current grid after the change (None: in no current grid)
    grid: dict | None

    @property
    def confirmed(self) -> bool:
        """True when the visit confirmed the stored counts (nothing changed but the source)."""
        return is_confirmation(self.change)


def is_confirmation(change: dict) -> bool:
    """Whether a change confirmed the counts it found rather than correcting them."""
    population = change.get("population")
    same_population = population is None or pd.isna(population)
    same_population = same_population or int(population) == int(change["population_before"])
    return int(change["households"]) == int(change["households_before"]) and same_population


def band_status(kind: str, households: int, band: tuple[int, int]) -> str:
    """``in_band``, ``under`` or ``over`` for a residential grid; ``unit`` for a 单位网格."""
    if kind != "residential":
        return "unit"
    if households < band[0]:
        return "under"
    return "over" if households > band[1] else "in_band"


# ------------------------------------------------------------------ input
def parse_count(value, what: str, maximum: int, *, required: bool) -> int | None:
    """A whole number ``0 <= n <= maximum`` from JSON or a form field; None when absent and
    not ``required``.

    Raises
    ------
    VisitInputError
        Anything else, with a message naming ``what`` (户数, 人口).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise VisitInputError(f"请填写{what}")
        return None
    if isinstance(value, bool):
        raise VisitInputError(f"{what}须为不小于 0 的整数")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise VisitInputError(f"{what}须为不小于 0 的整数")
        value = int(text)
    if not isinstance(value, int) or value < 0:
        raise VisitInputError(f"{what}须为不小于 0 的整数")
    if value > maximum:
        raise VisitInputError(f"{what}超出合理范围（0–{maximum}）")
    return value


def _check_text(note, idempotency_key) -> tuple[str | None, str]:
    if note is not None and not isinstance(note, str):
        raise VisitInputError("说明须为文字")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise VisitInputError(f"说明不超过 {MAX_NOTE_CHARS} 字")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise VisitInputError("缺少幂等键（Idempotency-Key），请刷新页面后重试")
    key = idempotency_key.strip()
    if len(key) > MAX_KEY_CHARS:
        raise VisitInputError(f"幂等键不超过 {MAX_KEY_CHARS} 个字符")
    return note, key


# ------------------------------------------------------------------ use cases
def readable_building(
    repo: HouseholdVisitRepository, principal: access.Principal, building_id: str
) -> dict:
    """The building's card if ``principal`` may read its households.

    Raises
    ------
    NotFoundError
        No such building, or one out of the principal's reach (as if it did not exist).
    """
    building = repo.building(building_id)
    if not access.may_read_households(principal, building.get("grid_code")):
        raise NotFoundError(f"no building {building_id}")
    return building


def find_buildings(
    repo: HouseholdVisitRepository, principal: access.Principal, text: str, *, limit: int = 20
) -> list[dict]:
    """Buildings matching ``text`` (id, name, street, house number) that ``principal`` may read."""
    found = repo.find_buildings(text, grid_codes=access.grid_scope(principal), limit=limit * 2)
    return [b for b in found if access.may_read_households(principal, b.get("grid_code"))][:limit]


def record_visit(
    repo: HouseholdVisitRepository,
    principal: access.Principal,
    building_id: str,
    *,
    households,
    population=None,
    note=None,
    idempotency_key,
    band: tuple[int, int],
    now: datetime | None = None,
) -> VisitOutcome:
    """Confirm or correct a building's households (and population) on a visit.

    Parameters
    ----------
    repo : HouseholdVisitRepository
    principal : Principal
        Who is confirming; the change is recorded under its username.
    building_id : str
        The building's id (``source_id``).
    households, population : int or str
        As counted; population may be absent (kept when the households are
        confirmed, estimated from them when they change).
    note : str, optional
        Why, or what was seen; required when the counts change.
    idempotency_key : str
        The client's key for this submission (unique per user).
    band : (int, int)
        The households band the grid's new total is checked against.
    now : datetime, optional

    Returns
    -------
    VisitOutcome

    Raises
    ------
    NotFoundError
        No building with that id.
    ForbiddenError
        A building the principal may not confirm (a worker outside its grids).
    VisitInputError
        A bad count, a missing note on a correction, a bad key; nothing is written.
    ConflictError
        The key was used for another building or other counts.
    """
    building = repo.building(building_id)
    if not access.may_confirm_households(principal, building.get("grid_code")):
        raise ForbiddenError("只能确认本人网格内的建筑")
    note, key = _check_text(note, idempotency_key)
    stored = repo.change_by_key(principal.username, key)
    count = parse_count(households, "户数", MAX_HOUSEHOLDS, required=True)
    people = parse_count(population, "人口", MAX_POPULATION, required=False)
    if stored is not None:
        return _replay(repo, stored, str(building_id), count, band)
    if people is not None and count is not None and people < count:
        raise VisitInputError("人口少于户数：每户至少一人")
    changed = count != int(building["households"]) or (
        people is not None and people != int(building["population"])
    )
    if changed and note is None:
        raise VisitInputError("更正户数或人口时请填写说明")
    if people is not None:
        new_population = people
    elif count == int(building["households"]):
        new_population = int(building["population"])
    else:
        new_population = int(estimate_population([count])[0])
    now = now or datetime.now(UTC)
    patrol_id = None
    if principal.role == "worker":
        patrol_id = repo.running_patrol(principal.username, now - PATROL_WINDOW)
    change, replayed = repo.record(
        building_id=str(building_id),
        username=principal.username,
        households=count,
        population=people,
        new_population=new_population,
        note=note,
        idempotency_key=key,
        patrol_id=patrol_id,
        min_households=band[0],
        max_households=band[1],
        source=VISIT_SOURCE,
        now=now,
    )
    return _outcome(repo, change, replayed, band)


def _replay(repo, stored: dict, building_id: str, households: int, band) -> VisitOutcome:
    if stored["building_id"] != building_id or int(stored["households"]) != households:
        raise ConflictError("该幂等键已用于另一次提交，请刷新页面后重试")
    return _outcome(repo, stored, True, band)


def _outcome(repo, change: dict, replayed: bool, band) -> VisitOutcome:
    building = repo.building(change["building_id"])
    grid = None
    if building.get("grid_code"):
        totals = repo.grid_totals([building["grid_code"]])
        if len(totals):
            grid = _grid_record(totals.iloc[0], band)
    return VisitOutcome(change=change, replayed=replayed, building=building, grid=grid)


def _grid_record(row: pd.Series, band) -> dict:
    flag = row["flag"] if isinstance(row["flag"], str) else None
    return {
        "code": row["code"],
        "community_code": row["community_code"],
        "community_name": row["community_name"],
        "kind": row["kind"],
        "households": int(row["households"]),
        "flag": flag,
        "version": int(row["version"]),
        "band": list(band),
        "band_status": band_status(row["kind"], int(row["households"]), band),
    }


def building_history(
    repo: HouseholdVisitRepository,
    principal: access.Principal,
    building_id: str,
    *,
    limit: int = 100,
) -> pd.DataFrame:
    """The building's changes, newest first, as far as ``principal`` may see them.

    Raises
    ------
    NotFoundError
        No such building, or one out of reach.
    """
    readable_building(repo, principal, building_id)
    changes = repo.changes(building_id=str(building_id), limit=limit)
    return access.redact_household_changes(principal, changes)


@dataclass(frozen=True)
class GridReview:
    """One grid's changes on visits with its current total and band status."""

    grid: dict
    changes: pd.DataFrame

    @property
    def left_band(self) -> bool:
        """True when the grid is now outside the band (a rebalance proposal is to be made)."""
        return self.grid["band_status"] in ("under", "over")


def review_changes(
    repo: HouseholdVisitRepository,
    principal: access.Principal,
    *,
    since: datetime,
    band: tuple[int, int],
    community_code: str | None = None,
) -> list[GridReview]:
    """Changes made since ``since`` per grid the principal may see, with the grids' totals.

    Grids out of band come first, then by their newest change. Changes of
    buildings in no current grid are left out (they count in no total).
    """
    area = community_code or principal.area
    if principal.area and community_code and not community_code.startswith(principal.area):
        return []
    changes = repo.changes(since=since, area=area)
    changes = changes[changes["grid_code"].notna()]
    changes = changes[access.visible_grids(principal, changes["grid_code"])]
    if not len(changes):
        return []
    changes = access.redact_household_changes(principal, changes)
    totals = repo.grid_totals(changes["grid_code"].unique()).set_index("code", drop=False)
    reviews = []
    for code, rows in changes.groupby("grid_code", sort=False):
        if code in totals.index:
            grid = _grid_record(totals.loc[code], band)
        else:  # the grid was redrawn since: its code is retired
            grid = {"code": code, "households": None, "band_status": "retired", "kind": None}
            grid |= {"community_code": str(code)[:12], "community_name": None, "flag": None}
        reviews.append(GridReview(grid=grid, changes=rows.reset_index(drop=True)))
    reviews.sort(key=lambda r: (not r.left_band, -r.changes["created_at"].max().timestamp()))
    return reviews
