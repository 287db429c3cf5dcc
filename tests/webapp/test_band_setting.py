"""The household band is read from the settings by every page that draws or checks it."""

from __future__ import annotations

import pytest

from gridmgmt.config import household_band


def test_band_defaults_to_the_policy_and_reads_the_environment(monkeypatch):
    assert household_band() == (250, 500)
    monkeypatch.setenv("GRIDMGMT_MIN_HOUSEHOLDS", "300")
    monkeypatch.setenv("GRIDMGMT_MAX_HOUSEHOLDS", "600")
    assert household_band() == (300, 600)


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [("abc", "500", "whole number"), ("0", "500", "positive"), ("500", "400", "below")],
)
def test_a_bad_band_is_refused_with_its_variable_named(monkeypatch, low, high, message):
    monkeypatch.setenv("GRIDMGMT_MIN_HOUSEHOLDS", low)
    monkeypatch.setenv("GRIDMGMT_MAX_HOUSEHOLDS", high)
    with pytest.raises(ValueError, match=message):
        household_band()


def test_editor_and_map_use_the_configured_band(app, as_role):
    settings = app.config["GRIDMGMT_SETTINGS"]
    app.config["GRIDMGMT_SETTINGS"] = type(settings)(
        instance_dir=settings.instance_dir, database_url=settings.database_url, band=(100, 300)
    )
    client = as_role("supervisor")
    editor = client.get("/rebalance/?community=340705001001").get_data(as_text=True)
    assert 'data-band-min="100" data-band-max="300"' in editor
    assert "100–300" in editor
    page = client.get("/map").get_data(as_text=True)
    assert 'data-band-min="100" data-band-max="300"' in page
    # the editor's live check flags against the configured band: G1 holds 120 households
    state = client.get("/rebalance/api/340705001001/state").get_json()
    assert state["band"] == [100, 300]
