"""Weeks, fortnights and 28-day periods for timed partner data: known answers on hand-made incidents."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from _synthetic import incidents, timed_incidents
from geo_csp import cube, hotspot_run, periods, schema
from geo_csp.cube import CubeParams
from geo_csp._errors import ParameterError

# Three snap points about 600 m apart in Bury; day by day incidents written out by hand.
_X = np.array([380_000.0, 380_600.0, 381_200.0])
_Y = np.array([410_000.0, 410_500.0, 409_600.0])


def _events():
    # Mon 4 Mar 2024 .. Sun 31 Mar 2024 = four whole weeks, two fortnights, one 28-day period (2024-03-04 is
    # day 19,786 since 1970-01-01; (19,786 - 4) / 28 = 706.5, so 28-day periods start 2024-02-19 and 2024-03-18).
    when = [
        "2024-03-04 09:00",
        "2024-03-10 23:59",  # week 1 (Mon and Sun)
        "2024-03-11 00:00",  # week 2
        "2024-03-18 12:00",
        "2024-03-19 12:00",
        "2024-03-24 20:00",  # week 3
        "2024-03-31 22:00",
    ]  # week 4, Sunday
    pts = [0, 1, 1, 2, 2, 2, 0]
    return timed_incidents(_X[pts], _Y[pts], when)


def test_date_period_keys_and_labels_known_answer():
    keys = periods.date_period_keys(
        ["2024-03-04", "2024-03-10", "2024-03-11", "1970-01-05", "1970-01-04"], period="week"
    )
    assert_array_equal(keys, [2826, 2826, 2827, 0, -1])
    assert list(periods.period_labels(keys[:3], period="week")) == ["w/c 2024-03-04"] * 2 + ["w/c 2024-03-11"]
    assert list(
        periods.period_labels(periods.date_period_keys(["2024-03-04"], period="fortnight"), period="fortnight")
    ) == ["2024-03-04 to 2024-03-17"]
    assert list(periods.period_labels(periods.date_period_keys(["2024-03-04"], period="28day"), period="28day")) == [
        "2024-02-19 to 2024-03-17"
    ]
    assert list(periods.period_months(2826, period="week")) == ["2024-03"]
    assert list(periods.period_months(706, period="28day")) == ["2024-02", "2024-03"]


def test_weekly_cube_counts_each_incident_in_its_week():
    c = cube.build_cube(_events(), cube_params=CubeParams(unit="h3", resolution=9, period="week"))
    assert list(c.period_labels) == ["w/c 2024-03-04", "w/c 2024-03-11", "w/c 2024-03-18", "w/c 2024-03-25"]
    assert_array_equal(c.n.sum(axis=0), [2, 1, 3, 1])
    assert c.params["period"] == "week"
    assert c.params["dates"] == ["2024-03-04", "2024-03-31"]
    assert c.params["partial_periods"]["partial"] == []
    assert "Monday" in c.params["period_rule"]
    assert c.n.max() == 3.0  # point 2 holds all of week 3


def test_fortnight_and_28day_cubes_known_answer():
    f = cube.build_cube(_events(), cube_params=CubeParams(unit="h3", resolution=9, period="fortnight"))
    assert list(f.period_labels) == ["2024-03-04 to 2024-03-17", "2024-03-18 to 2024-03-31"]
    assert_array_equal(f.n.sum(axis=0), [3, 4])
    d = cube.build_cube(_events(), cube_params=CubeParams(unit="h3", resolution=9, period="28day"))
    assert list(d.period_labels) == ["2024-02-19 to 2024-03-17", "2024-03-18 to 2024-04-14"]
    assert_array_equal(d.n.sum(axis=0), [3, 4])
    assert d.params["partial_periods"]["partial"] == ["2024-02-19 to 2024-03-17", "2024-03-18 to 2024-04-14"]


def test_window_of_months_zero_fills_whole_weeks():
    c = cube.build_cube(
        _events(), cube_params=CubeParams(unit="h3", resolution=9, period="week", months=("2024-02", "2024-03"))
    )
    assert c.params["dates"] == ["2024-02-01", "2024-03-31"]
    assert c.period_labels[0] == "w/c 2024-01-29" and c.period_labels[-1] == "w/c 2024-03-25"
    assert c.n.shape[1] == 9 and c.n.sum() == 7
    assert_array_equal(c.n.sum(axis=0)[:5], 0)
    assert c.params["partial_periods"]["partial"] == ["w/c 2024-01-29"]


def test_police_uk_months_are_never_given_a_day():
    street = incidents(_X, _Y, "2024-03")
    with pytest.raises(ParameterError, match=r"3 of the 3 selected incidents have only a month \(police_uk_street 3\)"):
        cube.build_cube(street, cube_params=CubeParams(unit="h3", resolution=9, period="week"))
    mixed = __import__("pandas").concat([_events(), street], ignore_index=True)
    with pytest.raises(ParameterError, match="police.uk publishes months only"):
        cube.build_cube(mixed, cube_params=CubeParams(unit="h3", resolution=9, period="fortnight"))
    # the timed source alone is accepted
    ok = cube.build_cube(
        mixed, cube_params=CubeParams(unit="h3", resolution=9, period="fortnight", sources=["council_asb"])
    )
    assert ok.n.sum() == 7
    with pytest.raises(ParameterError, match="needs a day for every incident"):
        periods.period_keys(["2024-03"], period="week")


def test_automatic_period_rule():
    assert periods.choose_period(first="2024-01-01", last="2024-03-31", timed=True)[0] == "week"  # 91 days
    assert periods.choose_period(first="2024-01-01", last="2024-04-01", timed=True)[0] == "fortnight"  # 92
    assert periods.choose_period(first="2024-01-01", last="2024-06-30", timed=True)[0] == "fortnight"  # 182
    assert periods.choose_period(first="2024-01-01", last="2024-07-01", timed=True)[0] == "28day"
    assert periods.choose_period(first="2023-01-01", last="2024-12-31", timed=True)[0] == "28day"  # 731 days
    assert periods.choose_period(first="2023-01-01", last="2025-01-01", timed=True)[0] == "month"  # 732
    assert periods.choose_period(first="2020-01", last="2024-12", timed=False)[0] == "month"  # 60 months
    assert periods.choose_period(first="2020-01", last="2025-01", timed=False)[0] == "quarter"
    assert periods.choose_period(first="2010-01", last="2020-01", timed=False)[0] == "year"
    c = cube.build_cube(_events(), cube_params=CubeParams(unit="h3", resolution=9, period="auto"))
    assert c.params["period"] == "week" and c.params["period_requested"] == "auto"
    assert "data span 28 days (2024-03-04 to 2024-03-31)" in c.params["period_reason"]
    street = incidents(_X, _Y, "2024-03")
    s = cube.build_cube(street, cube_params=CubeParams(unit="h3", resolution=9, period="auto"))
    assert s.params["period"] == "month" and "police.uk has no day" in s.params["period_reason"]


def test_gi_star_and_trends_run_on_weeks():
    rng = np.random.default_rng(3)
    n = 600
    days = rng.integers(0, 7 * 12, n)
    when = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    pts = rng.normal(0, 800, (n, 2)) + [380_500, 410_500]
    frame = timed_incidents(pts[:, 0], pts[:, 1], [f"{d} 12:00" for d in when])
    result = hotspot_run.run_hotspots(frame, cube_params=CubeParams(unit="h3", resolution=9, period="week"))
    assert result.cube.n.shape[1] == 12
    assert result.metadata["period"] == "week" and len(result.metadata["period_labels"]) == 12
    assert result.units[schema.GI_Z].notna().all() and result.units[schema.MK_P].between(0, 1).all()
    assert result.units[schema.EXPLANATION].str.contains(" of 12 weeks").any()
