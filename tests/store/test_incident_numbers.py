"""Incident numbers under concurrent reports from several processes: each report gets one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from gridmgmt.domain.incidents import load_categories
from gridmgmt.domain.incidents.service import report_incident
from gridmgmt.store.repository import Store
from tests.factories import X0, Y0


def test_concurrent_reports_from_two_stores_get_consecutive_numbers(store, database_url):
    store.sync_categories(load_categories())
    other = Store(database_url)  # a second server process: its own engine and connections

    def report(i):
        incident, created = report_incident(
            (store, other)[i % 2],
            category_code="11001",
            description=f"并发上报 {i}",
            lon=X0 + 0.0001 * (i % 10),
            lat=Y0,
            reporter="hotline",
            role="supervisor",
            source="12345热线",
        )
        return incident["number"], created

    try:
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(report, range(60)))
    finally:
        other.dispose()
    numbers = sorted(n for n, created in answers if created)
    assert len(numbers) == 60  # nobody was refused for a number another report took
    year = numbers[0][:4]
    assert numbers == [f"{year}-{k:06d}" for k in range(1, 61)]
