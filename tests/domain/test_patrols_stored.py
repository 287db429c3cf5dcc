"""Patrols in the store (SQLite and PostGIS): recording with replays, GPX/GeoJSON import and its
refusals, compliance across the National Day holiday, unvisited buildings, the report and CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from gridmgmt.cli import main
from gridmgmt.domain.accounts import create_user
from gridmgmt.domain.errors import ForbiddenError
from gridmgmt.domain.patrols import (
    add_diary_entry,
    compliance_rates,
    daily_compliance,
    import_track,
    patrol_report,
    record_points,
    start_patrol,
    stop_patrol,
    unvisited_buildings,
)
from gridmgmt.io.errors import InputError
from gridmgmt.store.patrols import PatrolStore
from tests.factories import partition_stored_blocks

T0 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # Monday 09:00 Asia/Shanghai


def add_workers(store, community):
    """Workers w1 (the first grid of ``community``) and w2 (the second); the first grid."""
    grids = store.current_grids(community).sort_values("code")
    mine = grids["code"].iloc[0]
    create_user(store, "w1", "pass-word-1", "worker", grid_codes=[mine])
    create_user(store, "w2", "pass-word-1", "worker", grid_codes=[grids["code"].iloc[1]])
    return grids.set_index("code").loc[mine, "geometry"], mine


def walk(poly, n=60, step_s=20, start=T0, seq0=0):
    """Fixes along the inside of a grid's outline, every ``step_s`` s (~1 m/s)."""
    ring = shapely.LineString(poly.buffer(-0.00005).exterior.coords)
    d = np.linspace(0, 1, n)
    pts = shapely.line_interpolate_point(ring, d, normalized=True)
    return pd.DataFrame(
        {
            "seq": np.arange(seq0, seq0 + n),
            "t": [start + timedelta(seconds=step_s * i) for i in range(n)],
            "lon": shapely.get_x(pts),
            "lat": shapely.get_y(pts),
        }
    )


@pytest.fixture
def world(partitioned):
    store, community = partitioned
    poly, code = add_workers(store, community)
    return store, PatrolStore(store), poly, code


def test_record_with_replayed_batches_then_stop(world):
    store, repo, poly, code = world
    pid = start_patrol(store, repo, "w1", now=T0)
    fixes = walk(poly, n=60)
    assert record_points(store, repo, pid, "w1", fixes.iloc[:30], now=T0 + timedelta(hours=1)) == 30
    # the offline queue sends the second half twice, and one old batch again
    assert record_points(store, repo, pid, "w1", fixes.iloc[30:], now=T0 + timedelta(hours=1)) == 30
    assert record_points(store, repo, pid, "w1", fixes.iloc[30:], now=T0 + timedelta(hours=1)) == 0
    assert record_points(store, repo, pid, "w1", fixes.iloc[:10], now=T0 + timedelta(hours=1)) == 0
    m = stop_patrol(store, repo, pid, "w1", now=T0 + timedelta(minutes=21))
    assert m["points"] == 60 and m["inside_share"] == 1.0 and m["anomalies"] == ""
    assert m["duration_min"] == pytest.approx(59 * 20 / 60)
    assert 0 < m["building_share"] <= 1 and m["road_share"] >= 0
    stored = repo.patrol(pid)
    assert stored["status"] == "done" and stored["geom"].geom_type == "LineString"
    assert len(repo.points([pid])) == 60
    with pytest.raises(ForbiddenError):
        record_points(store, repo, pid, "w2", fixes.iloc[:1], now=T0)
    future = fixes.iloc[:2].assign(seq=[100, 101], t=[T0 + timedelta(days=2)] * 2)
    with pytest.raises(InputError, match="in the future"):
        record_points(store, repo, pid, "w1", future, now=T0 + timedelta(hours=1))


def test_import_gpx_and_geojson_and_refusals(world, tmp_path):
    store, repo, poly, code = world
    fixes = walk(poly, n=40, start=T0)
    gpx = tmp_path / "t.gpx"
    trkpts = [
        f'<trkpt lat="{r.lat}" lon="{r.lon}"><time>{r.t.strftime("%Y-%m-%dT%H:%M:%SZ")}</time></trkpt>'
        for r in fixes.itertuples()
    ]
    points = "".join(trkpts)
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    pid, m = import_track(store, repo, gpx, "w1")
    assert m["points"] == 40 and repo.patrol(pid)["source"] == "gpx"
    gj = tmp_path / "t.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"times": [t.isoformat() for t in fixes["t"]]},
                "geometry": {
                    "type": "LineString",
                    "coordinates": fixes[["lon", "lat"]].values.tolist(),
                },
            }
        )
    )
    pid2, m2 = import_track(store, repo, gj, "w1")
    assert m2["points"] == 40 and pid2 != pid

    before = len(repo.patrols())
    empty = tmp_path / "empty.gpx"
    empty.write_text('<gpx version="1.1" creator="t"><trk><trkseg></trkseg></trk></gpx>')
    with pytest.raises(InputError, match="no points"):
        import_track(store, repo, empty, "w1")
    shuffled = tmp_path / "order.gpx"
    shuffled.write_text(gpx.read_text().replace(points, "".join(trkpts[20:] + trkpts[:20])))
    with pytest.raises(InputError, match="out of order"):
        import_track(store, repo, shuffled, "w1")
    far = tmp_path / "far.geojson"
    away = fixes.assign(lon=fixes["lon"] + 5.0)  # another city, ~450 km east
    far.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"times": [t.isoformat() for t in away["t"]]},
                "geometry": {
                    "type": "LineString",
                    "coordinates": away[["lon", "lat"]].values.tolist(),
                },
            }
        )
    )
    with pytest.raises(InputError, match="another city"):
        import_track(store, repo, far, "w1")
    big = tmp_path / "big.gpx"
    with big.open("wb") as fh:
        fh.seek(200 * 1024 * 1024)
        fh.write(b"\0")
    with pytest.raises(InputError, match="over the 20 MB limit"):
        import_track(store, repo, big, "w1")
    with pytest.raises(ValueError, match="not a grid worker"):
        create_user(store, "boss", "pass-word-1", "supervisor")
        import_track(store, repo, gpx, "boss")
    assert len(repo.patrols()) == before  # nothing stored by the refusals


def test_compliance_across_national_day(world):
    """2026-09-28 (Mon) to 2026-10-11 (Sun): Oct 1-7 are holidays, Sat Oct 10 is a 调休 working day."""
    store, repo, poly, code = world
    for day in (date(2026, 9, 28), date(2026, 9, 29), date(2026, 10, 9), date(2026, 10, 10)):
        start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
        pid = start_patrol(store, repo, "w1", now=start)
        record_points(
            store, repo, pid, "w1", walk(poly, start=start), now=start + timedelta(hours=2)
        )
        stop_patrol(store, repo, pid, "w1", now=start + timedelta(minutes=25))
    # a patrol on a holiday is fine but not needed; a 3-minute one does not count
    short = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)
    pid = start_patrol(store, repo, "w1", now=short)
    record_points(
        store,
        repo,
        pid,
        "w1",
        walk(poly, n=10, step_s=20, start=short),
        now=short + timedelta(hours=1),
    )
    stop_patrol(store, repo, pid, "w1", now=short + timedelta(minutes=3))

    daily = daily_compliance(store, repo, date(2026, 9, 28), date(2026, 10, 11))
    w1 = daily[daily["worker"] == "w1"].set_index("day")
    days = [date(2026, 9, d) for d in (28, 29, 30)] + [date(2026, 10, d) for d in (8, 9, 10)]
    assert list(w1.index) == days
    assert w1["patrolled"].tolist() == [True, True, False, False, True, True]
    assert w1.loc[date(2026, 9, 30), "patrols"] == 1 and w1.loc[date(2026, 9, 30), "valid"] == 0
    rates = compliance_rates(daily, "M").set_index(["worker", "period"])
    assert rates.loc[("w1", "2026-09"), "rate"] == pytest.approx(2 / 3)
    assert rates.loc[("w1", "2026-10"), "rate"] == pytest.approx(2 / 3)
    assert rates.loc[("w2", "2026-10"), "rate"] == 0.0


def test_report_diary_unvisited_and_cli(world, tmp_path):
    store, repo, poly, code = world
    pid = start_patrol(store, repo, "w1", now=T0)
    record_points(store, repo, pid, "w1", walk(poly), now=T0 + timedelta(hours=2))
    stop_patrol(store, repo, pid, "w1", now=T0 + timedelta(minutes=20))
    add_diary_entry(
        store,
        repo,
        "w1",
        day=date(2026, 9, 28),
        grid_code=code,
        kind="走访",
        text="走访独居老人",
        patrol_id=pid,
    )
    add_diary_entry(
        store, repo, "w1", day=date(2026, 9, 29), grid_code=code, kind="调解", text="邻里纠纷"
    )
    with pytest.raises(ValueError, match="unknown diary type"):
        add_diary_entry(
            store, repo, "w1", day=date(2026, 9, 29), grid_code=code, kind="聊天", text="x"
        )
    with pytest.raises(ForbiddenError):
        add_diary_entry(
            store, repo, "w2", day=date(2026, 9, 29), grid_code=code, kind="走访", text="x"
        )

    rep = patrol_report(store, repo, date(2026, 9, 28), date(2026, 9, 30), grid=code)
    row = rep.table.iloc[0]
    assert (row["working_days"], row["patrol_days"], row["patrols"]) == (3, 1, 1)
    assert row["compliance"] == pytest.approx(1 / 3)
    assert row["diary_entries"] == 2 and row["diary_走访"] == 1 and row["diary_调解"] == 1
    assert 0 < row["mean_building_share"] <= 1

    # the workload report carries the patrol columns
    from gridmgmt.core.periods import SHANGHAI
    from gridmgmt.domain.workload import area_workload

    wl = area_workload(
        store,
        datetime(2026, 9, 28, tzinfo=SHANGHAI),
        datetime(2026, 10, 1, tzinfo=SHANGHAI),
        grids=[code],
        patrols=repo,
    ).table.set_index("code")
    assert wl.loc[code, "compliance"] == pytest.approx(1 / 3)
    assert wl.loc[code, "diary_entries"] == 2 and wl.loc[code, "patrol_days"] == 1

    unvisited = unvisited_buildings(store, repo, [code], days=7, now=T0 + timedelta(days=1))
    everything = store.read_layer("buildings", grid_codes=[code])
    assert len(unvisited) == len(everything) - round(row["mean_building_share"] * len(everything))
    later = unvisited_buildings(store, repo, [code], days=7, now=T0 + timedelta(days=30))
    assert len(later) == len(everything)  # nobody came by in the last week


def test_patrol_cli(tmp_path):
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    poly, code = add_workers(store, partition_stored_blocks(store).code)
    fixes = walk(poly, n=40)
    gj = tmp_path / "track.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"time": r.t.isoformat()},
                        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                    }
                    for r in fixes.itertuples()
                ],
            }
        )
    )
    store.dispose()
    w = ("--workdir", str(tmp_path))
    run = CliRunner().invoke
    r = run(main, ["patrol", "import", str(gj), "--worker", "w1", *w])
    assert r.exit_code == 0, r.output
    assert "patrol 1 of w1: 40 points" in r.output and "100% of the time in own grids" in r.output
    r = run(main, ["patrol", "import", str(gj), "--worker", "nobody", *w])
    assert r.exit_code == 1 and "no active user" in r.output
    out = tmp_path / "patrol.xlsx"
    r = run(
        main,
        ["patrol", "report", "--from", "2026-09-28", "--to", "2026-10-02", "--out", str(out), *w],
    )
    assert r.exit_code == 0, r.output
    assert "巡查达标率" in r.output and code in r.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["grids", "patrols", "daily"]
    assert wb["grids"]["A1"].value == "网格编码" and wb["patrols"].max_row == 2
    r = run(
        main,
        [
            "patrol",
            "report",
            "--grid",
            code,
            "--from",
            "2026-09-28",
            "--to",
            "2026-10-02",
            "--out",
            str(tmp_path / "p.csv"),
            *w,
        ],
    )
    assert r.exit_code == 0 and (tmp_path / "p.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    r = run(main, ["patrol", "report", "--from", "2026-10-02", "--to", "2026-09-28", *w])
    assert r.exit_code == 1 and "after its end" in r.output


def test_replayed_start_and_diary_are_stored_once(world):
    """The phone's offline queue replays 开始巡查 and diary entries with the same keys."""
    store, repo, poly, code = world
    tapped = T0 - timedelta(hours=5)  # started offline in the morning, sent at noon
    first = start_patrol(store, repo, "w1", now=T0, idempotency_key="k-1", started_at=tapped)
    again = start_patrol(store, repo, "w1", now=T0, idempotency_key="k-1", started_at=tapped)
    assert first == again
    assert repo.patrol(first)["started_at"] == tapped
    # the same key from another worker is another key; no key is always a new patrol
    other = start_patrol(store, repo, "w2", now=T0, idempotency_key="k-1")
    assert other != first
    assert start_patrol(store, repo, "w1", now=T0) != start_patrol(store, repo, "w1", now=T0)
    assert len(repo.patrols()) == 4
    with pytest.raises(ValueError, match="started_at"):
        start_patrol(store, repo, "w1", now=T0, started_at=T0 - timedelta(days=4))
    with pytest.raises(ValueError, match="started_at"):
        start_patrol(store, repo, "w1", now=T0, started_at=T0 + timedelta(hours=1))
    with pytest.raises(ValueError, match="idempotency_key"):
        start_patrol(store, repo, "w1", now=T0, idempotency_key="k" * 101)

    entry = dict(day=date(2026, 9, 28), grid_code=code, kind="走访", text="走访独居老人")
    one = add_diary_entry(store, repo, "w1", idempotency_key="d-1", **entry)
    two = add_diary_entry(store, repo, "w1", idempotency_key="d-1", **entry)
    assert one == two
    assert add_diary_entry(store, repo, "w1", idempotency_key="d-2", **entry) != one
    assert len(repo.diary()) == 2


def test_a_key_racing_past_the_lookup_finds_the_first_row(world):
    """Two replays of one start at once: the unique key lets one in, the other gets its id."""
    store, repo, poly, code = world
    from gridmgmt.domain.patrols import client_key

    key = client_key("w1", "race")
    first = repo.start("w1", [code], T0, "web", client_key=key)
    assert repo.start("w1", [code], T0, "web", client_key=key) == first
    entry = {"worker": "w1", "day": date(2026, 9, 28), "grid_code": code, "kind": "走访"}
    entry |= {"text": "x", "photo_ids": [], "client_key": key}
    d = repo.add_diary(dict(entry))
    assert repo.add_diary(dict(entry)) == d
    assert len(repo.patrols()) == 1 and len(repo.diary()) == 1
