"""调度台 in real Chromium: time to the deadline, order, new-case badge, 批量派遣."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import make_incident
from tests.webapp.sessions import PASSWORD, browser_login


def test_desk_deadlines_badge_and_bulk_dispatch(app, open_page):
    store = app.extensions["gridmgmt_store"]
    late = make_incident(store, "registered", now=datetime.now(UTC) - timedelta(days=10))
    fresh = make_incident(store, "registered")
    reported = make_incident(store, "reported")
    rp = open_page(viewport=(1400, 900))
    browser_login(rp, "supervisor", PASSWORD)
    page = rp.page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(rp.base_url + "/desk")
    assert "超期" in page.inner_text(f"tr[data-id='{late['id']}'] td.hours")
    assert "剩余" in page.inner_text(f"tr[data-id='{fresh['id']}'] td.hours")
    page.click("#sort-deadline")
    page.wait_for_url("**sort=deadline*")
    ids = page.eval_on_selector_all(
        "#desk-table tbody tr[data-id]", "rs => rs.map(r => +r.dataset.id)"
    )
    assert ids.index(late["id"]) < ids.index(fresh["id"])

    # a case reported meanwhile shows as a badge after the next poll (forced here, not 30 s)
    assert page.is_hidden("#desk-new")
    newer = make_incident(store, "reported")
    page.dispatch_event("#desk-live", "poll")
    page.wait_for_selector("#desk-new[data-new='1']")
    assert "1 件新事件" in page.inner_text("#desk-new")
    assert page.inner_text("#queue-new b") == "2"

    # 批量派遣: only 立案 cases can be ticked; each gets its own result
    assert page.locator(f"tr[data-id='{reported['id']}'] input.pick-case").count() == 0
    page.check(f"tr[data-id='{late['id']}'] input.pick-case")
    page.check(f"tr[data-id='{fresh['id']}'] input.pick-case")
    assert page.inner_text("#bulk-count") == "2"
    page.click("#bulk-submit")  # no department chosen yet: nothing is sent
    assert "请选择部门" in page.inner_text("#bulk-results")
    department = store.departments()[0]
    page.select_option("#bulk-department", department)
    page.click("#bulk-submit")
    page.wait_for_selector(f"#bulk-results li.ok[data-id='{fresh['id']}']")
    assert page.locator("#bulk-results li.ok").count() == 2
    for case in (late, fresh):
        stored = store.incident(case["id"])
        assert stored["state"] == "dispatched" and stored["department"] == department
    assert page.is_disabled(f"tr[data-id='{late['id']}'] input.pick-case")
    rp.screenshot("desk-bulk-dispatch")
    assert store.incident(newer["id"])["state"] == "reported"
    assert errors == []
    assert rp.foreign_requests() == []
