"""Grid flags are sets of codes in one column."""

from __future__ import annotations

import math

from gridmgmt.core.flags import count_flags, has_flag, join_flags, split_flags


def test_join_keeps_each_code_once_in_order():
    assert join_flags("out_of_band", "crosses_major_road") == "out_of_band,crosses_major_road"
    assert join_flags("out_of_band,crosses_major_road", "out_of_band") == (
        "out_of_band,crosses_major_road"
    )
    assert join_flags(None, math.nan, "") is None


def test_has_and_count():
    assert has_flag("out_of_band,crosses_major_road", "crosses_major_road")
    assert not has_flag("out_of_band", "out")
    assert not has_flag(None, "out_of_band")
    assert split_flags(math.nan) == []
    assert count_flags(["out_of_band,crosses_major_road", None, "out_of_band"]) == {
        "out_of_band": 2,
        "crosses_major_road": 1,
    }
