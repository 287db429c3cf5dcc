"""Patrols (巡查) and the 民情日记: recording, track import, compliance and the patrol report.

The seed rule: every grid worker patrols their own grid at least once a
working day (每天至少巡查一次). A patrol **counts** for a day when it is
finished, lasted at least :data:`MIN_MINUTES`, spent at least half its time
inside the worker's grids and shows no GPS jumps (spoofing); the day is
that of its start in Asia/Shanghai, and only working days of the Chinese
calendar (holidays and 调休 included, the same calendar as incident
deadlines) are counted.

Measures per patrol come from :mod:`gridmgmt.core.patrol`; storage is a
repository with the interface of :class:`gridmgmt.store.patrols.PatrolStore`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.crs import metric_crs
from gridmgmt.core.patrol import patrol_measures
from gridmgmt.core.periods import SHANGHAI, day_period
from gridmgmt.domain.errors import ForbiddenError, NotFoundError
from gridmgmt.domain.incidents.calendar import WorkingCalendar
from gridmgmt.domain.incidents.service import scoped_key
from gridmgmt.domain.volunteers import VOLUNTEER_COLUMNS, volunteer_rates
from gridmgmt.io.errors import InputError
from gridmgmt.io.tracks import check_fixes, read_track

DIARY_KINDS = ("走访", "调解", "宣传", "信息收集", "应急", "其他")
#: a patrol shorter than this does not count for compliance
MIN_MINUTES = 10.0
#: a track whose every point lies farther than this from the worker's grids is refused
MAX_DISTANCE_M = 20_000.0
#: a patrol started offline reaches the server later: how old its start time may be
MAX_START_AGE = timedelta(days=3)
#: how far ahead of the server's clock a phone's start time may be
START_SLACK = timedelta(minutes=5)
#: the longest idempotency key a phone may send
MAX_KEY_LENGTH = 100


class PatrolRepository(Protocol):
    def start(
        self,
        worker: str,
        grid_codes: list[str],
        started_at: datetime,
        source: str,
        client_key: str | None = None,
    ) -> int: ...

    def patrol_by_key(self, client_key: str) -> int | None: ...

    def diary_by_key(self, client_key: str) -> int | None: ...

    def add_points(self, patrol_id: int, points: pd.DataFrame) -> int: ...

    def finish(self, patrol_id: int, ended_at: datetime, measures: dict, line) -> None: ...

    def patrol(self, patrol_id: int) -> dict: ...

    def patrols(
        self, *, worker=None, start=None, end=None, status=None, ids=None
    ) -> pd.DataFrame: ...

    def points(self, patrol_ids: Iterable[int]) -> pd.DataFrame: ...

    def add_diary(self, entry: dict) -> int: ...

    def diary(self, *, first=None, last=None, grid_codes=None, worker=None) -> pd.DataFrame: ...

    def link_incident(self, patrol_id: int, incident_id: int) -> None: ...

    def patrol_incidents(self, patrol_ids: Iterable[int]) -> pd.DataFrame: ...


# ------------------------------------------------------------------ helpers
def worker_grids(store, username: str) -> list[str]:
    """The grid codes of an active grid worker (NotFoundError / ValueError otherwise)."""
    user = store.user(username=username)
    if user is None or not user["active"]:
        raise NotFoundError(f"no active user {username!r} (see: gridmgmt users list)")
    if user["role"] != "worker" or not user["grid_codes"]:
        raise ValueError(f"{username} is not a grid worker with grids (role {user['role']})")
    return list(user["grid_codes"])


def _check_near(store, codes: list[str], fixes: pd.DataFrame, source) -> None:
    """Refuse a track none of whose points comes within :data:`MAX_DISTANCE_M` of the grids."""
    grids = store.current_grids()
    grids = grids[grids["code"].isin(codes)]
    if grids.empty:
        raise ValueError(f"grids {', '.join(codes)} are not current grids")
    crs = metric_crs(grids)
    area = shapely.union_all(grids.to_crs(crs).geometry.values)
    points = gpd.GeoSeries(
        shapely.points(fixes["lon"].to_numpy(), fixes["lat"].to_numpy()), crs=4326
    ).to_crs(crs)
    nearest = float(np.min(shapely.distance(area, points.values)))
    if nearest > MAX_DISTANCE_M:
        raise InputError.single(
            source,
            f"the track is {nearest / 1000:.0f} km from the worker's grids: another city? "
            "(check the file and the worker)",
        )


def _measure(store, repo: PatrolRepository, points: pd.DataFrame) -> pd.DataFrame:
    """Measures (core.patrol) of the patrols whose fixes are ``points``, against the current
    grids of their workers, the grids' buildings and the roads around them."""
    ids = sorted(set(points["patrol_id"]))
    patrols = repo.patrols(ids=ids).rename(columns={"id": "patrol_id"})
    codes = sorted({c for cs in patrols["grid_codes"] for c in cs})
    grids = store.current_grids()
    grids = grids[grids["code"].isin(codes)]
    buildings = store.read_layer("buildings", grid_codes=codes)
    roads = store.read_layer("roads", bbox=tuple(grids.total_bounds)) if len(grids) else None
    return patrol_measures(points, patrols[["patrol_id", "grid_codes"]], grids, buildings, roads)


def _json_measures(row: pd.Series) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, pd.Timestamp):
            out[k] = v.isoformat()
        elif isinstance(v, np.generic):
            out[k] = v.item()
        elif isinstance(v, float) and np.isnan(v):
            out[k] = None
        else:
            out[k] = v
    return out


def _line(points: pd.DataFrame):
    if len(points) < 2:
        return None
    return shapely.linestrings(np.c_[points["lon"].to_numpy(), points["lat"].to_numpy()])


# ------------------------------------------------------------- recording
def start_patrol(
    store,
    repo: PatrolRepository,
    username: str,
    now: datetime | None = None,
    *,
    idempotency_key: str | None = None,
    started_at: datetime | None = None,
) -> int:
    """Begin recording a patrol of ``username``'s grids; its id.

    Parameters
    ----------
    idempotency_key
        The phone's key for this start (at most 100 characters). A start
        replayed from the offline queue with the same key returns the patrol
        stored the first time; another worker's equal key is another key.
    started_at
        When the worker tapped 开始巡查 (a start queued offline arrives
        later): at most :data:`START_SLACK` in the future and
        :data:`MAX_START_AGE` in the past; default ``now``.
    """
    now = now or datetime.now(UTC)
    key = client_key(username, idempotency_key)
    if key is not None and (existing := repo.patrol_by_key(key)) is not None:
        return existing
    if started_at is None:
        started_at = now
    elif started_at.tzinfo is None:
        raise ValueError("started_at needs a time zone (ISO 8601 with an offset or Z)")
    elif not now - MAX_START_AGE <= started_at <= now + START_SLACK:
        raise ValueError(
            f"开始时间 {started_at.isoformat()} 不在最近 {MAX_START_AGE.days} 天内"
            f" (started_at must lie within the last {MAX_START_AGE.days} days)"
        )
    codes = worker_grids(store, username)
    return repo.start(username, codes, started_at, "web", client_key=key)


def client_key(username: str, idempotency_key: str | None) -> str | None:
    """The stored form of a phone's idempotency key: scoped to the worker, at most 100 characters.

    The same key sent by another worker is another key (as for incident
    reports, :func:`gridmgmt.domain.incidents.service.scoped_key`).
    """
    if idempotency_key is None or idempotency_key == "":
        return None
    if not isinstance(idempotency_key, str) or len(idempotency_key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"幂等键须为不超过 {MAX_KEY_LENGTH} 个字符的文本"
            f" (idempotency_key: text of at most {MAX_KEY_LENGTH} characters)"
        )
    return scoped_key(username, idempotency_key)


def _own(repo: PatrolRepository, patrol_id: int, username: str) -> dict:
    patrol = repo.patrol(patrol_id)
    if patrol["worker"] != username:
        raise ForbiddenError(f"patrol {patrol_id} is not {username}'s")
    return patrol


def record_points(
    store,
    repo: PatrolRepository,
    patrol_id: int,
    username: str,
    points: pd.DataFrame,
    now: datetime | None = None,
) -> int:
    """Store fixes sent by the phone (``seq``, ``t``, ``lon``, ``lat``[, ``accuracy``]).

    Batches may arrive late and more than once (the offline queue replays
    them): a ``seq`` already stored is skipped, and a patrol already
    finished is measured again. Returns how many fixes were new.
    """
    patrol = _own(repo, patrol_id, username)
    if points.empty:
        return 0
    if "seq" not in points or points["seq"].isna().any():
        raise ValueError("every point needs its sequence number (seq)")
    batch = points.sort_values("t", kind="stable")
    fixes = check_fixes(batch[["t", "lon", "lat"]], f"patrol {patrol_id}", now=now)
    batch = batch.assign(t=fixes["t"].to_numpy())
    new = repo.add_points(patrol_id, batch)
    if new and patrol["status"] == "done":
        _finish(store, repo, patrol_id, patrol["ended_at"])
    return new


def _finish(store, repo: PatrolRepository, patrol_id: int, ended_at: datetime) -> dict:
    return finish_patrols(store, repo, {patrol_id: ended_at})[patrol_id]


def finish_patrols(store, repo: PatrolRepository, ends: dict[int, datetime]) -> dict[int, dict]:
    """Measure patrols (all at once) and mark them done at their end times; their measures."""
    points = repo.points(list(ends))  # read once: measured, then drawn as lines
    table = _measure(store, repo, points) if len(points) else pd.DataFrame()
    by_patrol = dict(tuple(points.groupby("patrol_id")))
    out = {}
    for pid, ended in ends.items():
        measures = (
            _json_measures(table.loc[pid]) if pid in table.index else {"points": 0, "anomalies": ""}
        )
        repo.finish(pid, ended, measures, _line(by_patrol.get(pid, points.iloc[:0])))
        out[pid] = measures
    return out


def stop_patrol(
    store,
    repo: PatrolRepository,
    patrol_id: int,
    username: str,
    now: datetime | None = None,
    *,
    ended_at: datetime | None = None,
) -> dict:
    """Finish a patrol: its measures are computed and stored; returns them.

    ``ended_at`` is when the worker tapped 结束巡查 (a stop queued offline
    arrives later; default ``now``): not before the start, nor more than
    :data:`START_SLACK` ahead of ``now``.
    """
    now = now or datetime.now(UTC)
    patrol = _own(repo, patrol_id, username)
    if ended_at is None:
        ended_at = now
    elif ended_at.tzinfo is None:
        raise ValueError("ended_at needs a time zone (ISO 8601 with an offset or Z)")
    elif not patrol["started_at"] <= ended_at <= now + START_SLACK:
        raise ValueError(
            f"结束时间 {ended_at.isoformat()} 早于开始或晚于现在"
            " (ended_at must lie between the start and now)"
        )
    return _finish(store, repo, patrol_id, ended_at)


def import_track(
    store,
    repo: PatrolRepository,
    path: str | Path,
    username: str,
    now: datetime | None = None,
    source: str | None = None,
) -> tuple[int, dict]:
    """Import a GPX/GeoJSON track as a finished patrol of ``username``; (id, measures).

    Everything is checked before anything is written (see
    :func:`gridmgmt.io.tracks.read_track` and :data:`MAX_DISTANCE_M`).
    """
    codes = worker_grids(store, username)
    fixes = read_track(path, now=now)
    _check_near(store, codes, fixes, path)
    kind = source or ("gpx" if Path(path).suffix.lower() == ".gpx" else "geojson")
    pid = repo.start(username, codes, fixes["t"].iloc[0].to_pydatetime(), kind)
    repo.add_points(pid, fixes.assign(seq=np.arange(len(fixes))))
    return pid, _finish(store, repo, pid, fixes["t"].iloc[-1].to_pydatetime())


# ------------------------------------------------------------------ diary
def add_diary_entry(
    store,
    repo: PatrolRepository,
    username: str,
    *,
    day: date,
    grid_code: str,
    kind: str,
    text: str,
    building_id: str | None = None,
    photo_ids: Iterable[str] = (),
    patrol_id: int | None = None,
    idempotency_key: str | None = None,
) -> int:
    """A 民情日记 entry in one of the worker's grids; its id.

    An entry replayed with the same ``idempotency_key`` (the offline queue)
    returns the id of the entry stored the first time and writes nothing.
    """
    key = client_key(username, idempotency_key)
    if key is not None and (existing := repo.diary_by_key(key)) is not None:
        return existing
    if kind not in DIARY_KINDS:
        raise ValueError(f"unknown diary type {kind!r}; expected one of {', '.join(DIARY_KINDS)}")
    if not text or not text.strip():
        raise ValueError("the diary entry needs a text")
    if grid_code not in worker_grids(store, username):
        raise ForbiddenError(f"grid {grid_code} is not one of {username}'s grids")
    if patrol_id is not None:
        _own(repo, patrol_id, username)
    entry = {
        "worker": username,
        "day": day,
        "grid_code": grid_code,
        "building_id": building_id or None,
        "kind": kind,
        "text": text.strip(),
        "photo_ids": list(photo_ids),
        "patrol_id": patrol_id,
    }
    if key is not None:
        entry["client_key"] = key
    return repo.add_diary(entry)


# ------------------------------------------------------------- compliance
def _valid(measures: dict | None) -> bool:
    if not measures:
        return False
    return (
        (measures.get("duration_min") or 0) >= MIN_MINUTES
        and (measures.get("inside_share") or 0) >= 0.5
        and not measures.get("jumps")
    )


def daily_compliance(
    store,
    repo: PatrolRepository,
    first: date,
    last: date,
    calendar: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """One row per grid worker and working day in ``first``..``last``.

    Columns ``worker``, ``day``, ``grid_codes``, ``patrols`` (finished
    patrols started that day), ``valid`` (of them, those that count) and
    ``patrolled`` (at least one valid).
    """
    calendar = calendar or WorkingCalendar()
    start, end = day_period(first, last)
    users = store.users()
    workers = users[(users["role"] == "worker") & users["active"]]
    days = [
        first + timedelta(days=k)
        for k in range((last - first).days + 1)
        if calendar.is_working_day(first + timedelta(days=k))
    ]
    done = repo.patrols(start=start, end=end, status="done")
    if len(done):
        done["day"] = pd.to_datetime(done["started_at"], utc=True).dt.tz_convert(SHANGHAI).dt.date
        done["ok"] = done["measures"].map(_valid)
        per = done.groupby(["worker", "day"]).agg(patrols=("id", "size"), valid=("ok", "sum"))
    else:
        per = pd.DataFrame(columns=["patrols", "valid"])
    rows = []
    for w in workers.itertuples():
        for d in days:
            got = per.loc[(w.username, d)] if (w.username, d) in per.index else None
            n, v = (int(got["patrols"]), int(got["valid"])) if got is not None else (0, 0)
            rows.append((w.username, d, list(w.grid_codes), n, v, v > 0))
    return pd.DataFrame(
        rows, columns=["worker", "day", "grid_codes", "patrols", "valid", "patrolled"]
    )


def compliance_rates(daily: pd.DataFrame, freq: str = "W") -> pd.DataFrame:
    """Share of working days patrolled per worker and week (``W``) or month (``M``)."""
    if freq not in ("W", "M"):
        raise ValueError("freq must be W (weeks) or M (months)")
    if daily.empty:
        return pd.DataFrame(columns=["worker", "period", "working_days", "patrolled", "rate"])
    d = daily.assign(period=pd.to_datetime(daily["day"]).dt.to_period(freq).astype(str))
    out = d.groupby(["worker", "period"]).agg(
        working_days=("day", "size"), patrolled=("patrolled", "sum")
    )
    out["rate"] = out["patrolled"] / out["working_days"]
    return out.reset_index()


def unvisited_buildings(
    store, repo: PatrolRepository, grid_codes: list[str], days: int, now: datetime | None = None
) -> pd.DataFrame:
    """Buildings of the grids no finished patrol passed (within 30 m) in the last ``days`` days."""
    from gridmgmt.core.patrol import buildings_passed

    now = now or datetime.now(UTC)
    buildings = store.read_layer("buildings", grid_codes=grid_codes)
    done = repo.patrols(start=now - timedelta(days=days), end=now, status="done")
    done = done[done["grid_codes"].map(lambda cs: bool(set(cs) & set(grid_codes)))]
    passed = buildings_passed(repo.points(done["id"]), buildings) if len(done) else set()
    left = buildings[~buildings["building_id"].isin(passed)]
    return left[["building_id", "name", "grid_code", "households", "geometry"]].reset_index(
        drop=True
    )


# ----------------------------------------------------------------- report
@dataclass(frozen=True)
class PatrolReport:
    first: date
    last: date
    table: pd.DataFrame  # one row per grid
    patrols: pd.DataFrame  # the patrols of the period with their measures
    daily: pd.DataFrame  # daily_compliance of the period

    def daily_rows(self) -> pd.DataFrame:
        """Daily compliance with the grid codes as text (for a spreadsheet)."""
        return self.daily.assign(grid_codes=self.daily["grid_codes"].map(",".join))

    def patrol_rows(self) -> pd.DataFrame:
        """The patrols with their measures as columns (for a spreadsheet)."""
        p = self.patrols.drop(columns=["measures"]).assign(
            grid_codes=self.patrols["grid_codes"].map(",".join)
        )
        if p.empty:
            return p
        measures = pd.DataFrame(list(self.patrols["measures"]), index=p.index)
        return p.join(measures.drop(columns=["started", "ended"], errors="ignore"))


def patrol_report(
    store,
    repo: PatrolRepository,
    first: date,
    last: date,
    *,
    grid: str | None = None,
    calendar: WorkingCalendar | None = None,
) -> PatrolReport:
    """Per grid: patrol days, compliance, mean coverage, anomalies, diary entries, incidents found.

    Coverage is that of the grid itself: a worker with three grids who walks
    one of them fully scores 100% there and 0% in the others that day.

    Raises
    ------
    NotFoundError
        ``grid`` is not a current grid.
    ValueError
        A reversed period.
    """
    start, end = day_period(first, last)
    grids = store.current_grids()
    if grid is not None:
        if grid not in set(grids["code"]):
            raise NotFoundError(f"no current grid {grid}")
        grids = grids[grids["code"] == grid]
    grids = grids[grids["kind"] == "residential"] if grid is None else grids
    daily = daily_compliance(store, repo, first, last, calendar)
    done = repo.patrols(start=start, end=end, status="done")
    diary = repo.diary(first=first, last=last)
    found = repo.patrol_incidents(done["id"]) if len(done) else pd.DataFrame(columns=["patrol_id"])
    rows = []
    for code in grids["code"]:
        mine = done[done["grid_codes"].map(lambda cs, c=code: c in cs)] if len(done) else done
        measures = pd.DataFrame([_of_grid(m, code) for m in mine["measures"]])
        days = daily[daily["grid_codes"].map(lambda cs, c=code: c in cs)]
        per_day = days.groupby("day")["patrolled"].any() if len(days) else pd.Series(dtype=bool)
        entries = diary[diary["grid_code"] == code]
        row = {
            "code": code,
            "workers": ", ".join(sorted(set(days["worker"]))) if len(days) else "",
            "working_days": len(per_day),
            "patrol_days": int(per_day.sum()),
            "compliance": float(per_day.mean()) if len(per_day) else np.nan,
            "patrols": len(mine),
            "valid_patrols": int(mine["measures"].map(_valid).sum()) if len(mine) else 0,
            "mean_building_share": _mean(measures, "building_share"),
            "mean_road_share": _mean(measures, "road_share"),
            "mean_duration_min": _mean(measures, "duration_min"),
            "anomalies": int((measures.get("anomalies", pd.Series(dtype=str)) != "").sum()),
            "diary_entries": len(entries),
            "incidents_on_patrol": int(found["patrol_id"].isin(mine["id"]).sum())
            if len(mine)
            else 0,
        }
        for kind in DIARY_KINDS:
            row[f"diary_{kind}"] = int((entries["kind"] == kind).sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    if hasattr(store, "zero_reports") and len(table):  # 楼栋长/信息员 reporting rates
        rates = volunteer_rates(store, first, last)
        table = table.join(rates[VOLUNTEER_COLUMNS], on="code")
        table["volunteers"] = table["volunteers"].fillna(0).astype(int)
    return PatrolReport(first, last, table, done, daily)


def _of_grid(measures: dict, code: str) -> dict:
    """A patrol's measures with the coverage of one of its grids (where it was recorded)."""
    shares = (measures or {}).get("grid_shares") or {}
    return {**(measures or {}), **{k: v for k, v in shares.get(code, {}).items() if v is not None}}


def _mean(measures: pd.DataFrame, col: str) -> float:
    if col not in measures or measures.empty:
        return np.nan
    return float(pd.to_numeric(measures[col], errors="coerce").mean())
