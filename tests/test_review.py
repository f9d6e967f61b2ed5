"""Operation review: counts by window and region, DiD and the Weighted Displacement Quotient."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import review
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.demo import DemoPaths

FOOTPRINT = shapely.box(0, 0, 100, 100)
BOROUGH = shapely.box(-1000, -1000, 1000, 1000)
SPOTS = {"target": (50.0, 50.0), "buffer": (150.0, 50.0), "control": (500.0, 500.0)}


def _incidents(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    """``counts[(region, month)]`` incidents at that region's spot in that month."""
    rows = [(month, *SPOTS[region]) for (region, month), k in counts.items() for _ in range(k)]
    return pd.DataFrame(rows, columns=["month", "easting", "northing"])


def test_wdq_hand_worked() -> None:
    # R0=40, R1=20, B0=30, B1=36, C0=400, C1=380
    # success = 20/380 - 40/400 = (8000 - 15200)/152000 = -7200/152000
    # buffer  = 36/380 - 30/400 = (14400 - 11400)/152000 = 3000/152000
    # WDQ = 3000 / -7200 = -5/12 (displacement, smaller than the gain)
    assert_allclose(review.wdq(40, 20, 30, 36, 400, 380), -5 / 12, rtol=1e-12)
    # a target that got worse relative to control: WDQ not meaningful
    assert np.isnan(review.wdq(20, 40, 30, 36, 400, 380))


def test_did_known_answer() -> None:
    # target 10 -> 6 per km2 per month, control 5 -> 4: (6 - 10) - (4 - 5) = -3
    assert review.did(10.0, 6.0, 5.0, 4.0) == -3.0


def test_review_counts_windows_and_measures() -> None:
    months_before = ["2024-01", "2024-02", "2024-03"]
    months_after = ["2024-04", "2024-05", "2024-06"]
    months_year = ["2023-04", "2023-05", "2023-06"]
    spec: dict[tuple[str, str], int] = {}
    for region, before, after, year in (("target", 40, 20, 50), ("buffer", 30, 36, 30), ("control", 400, 380, 420)):
        for ms, total in ((months_before, before), (months_after, after), (months_year, year)):
            base, extra = divmod(total, 3)
            for i, m in enumerate(ms):
                spec[(region, m)] = base + (i < extra)
    incidents = _incidents(spec)
    out = review.review_operation(
        incidents, footprint=FOOTPRINT, start="2024-04-01", end="2024-06-30", borough=BOROUGH, name="Test", buffer_m=100
    )
    assert out.windows == {
        "before": ("2024-01", "2024-03", 3),
        "year_earlier": ("2023-04", "2023-06", 3),
        "after": ("2024-04", "2024-06", 3),
    }
    assert out.counts.loc["target"].tolist()[:3] == [40, 50, 20]
    assert out.counts.loc["buffer"].tolist()[:3] == [30, 30, 36]
    assert out.counts.loc["control"].tolist()[:3] == [400, 420, 380]
    before = out.comparisons.loc["before"]
    assert_allclose(before["wdq"], -5 / 12)
    assert_allclose(before["relative_effect"], (20 / 40) / (380 / 400) - 1)  # -0.4737
    assert_allclose(before["expected_target"], 40 * 380 / 400)
    # DiD on rates per km2 per month with the review's own areas
    a_t, a_c = out.counts.loc["target", "area_km2"], out.counts.loc["control", "area_km2"]
    assert_allclose(a_t, 0.01)
    assert_allclose(before["did_per_km2_month"], (20 - 40) / a_t / 3 - (380 - 400) / a_c / 3)
    year = out.comparisons.loc["year_earlier"]
    # success = 20/380 - 50/420; buffer = 36/380 - 30/420
    assert_allclose(year["wdq"], (36 / 380 - 30 / 420) / (20 / 380 - 50 / 420))
    assert before["wdq_meaningful"] and year["wdq_meaningful"]
    text = " ".join(out.caveats)
    assert "Regression to the mean" in text and "Small numbers" not in text
    json.dumps(out.to_dict())  # JSON-ready
    assert "Operation Test" in out.to_text()


def test_small_numbers_and_no_improvement_are_flagged() -> None:
    spec = {
        ("target", "2024-01"): 5,
        ("target", "2024-02"): 8,
        ("control", "2024-01"): 100,
        ("control", "2024-02"): 100,
        ("buffer", "2024-01"): 3,
        ("buffer", "2024-02"): 3,
    }
    out = review.review_operation(
        _incidents(spec), footprint=FOOTPRINT, start="2024-02-01", end="2024-02-29", borough=BOROUGH, buffer_m=100
    )
    text = " ".join(out.caveats)
    assert "Small numbers (below 20): target before = 5" in text
    assert "not meaningful" in text
    assert not out.comparisons.loc["before", "wdq_meaningful"]
    assert "the data start in 2024-01, after the start of that window (2023-02)" in text  # before the data
    assert out.comparisons.loc["year_earlier", "status"].startswith("the data start in 2024-01")
    assert np.isnan(out.comparisons.loc["year_earlier", "relative_effect"])


def test_borough_wide_day_of_action_has_no_control() -> None:
    spec = {("target", "2024-01"): 30, ("target", "2024-02"): 25}
    out = review.review_operation(
        _incidents(spec), footprint=BOROUGH, start="2024-02-10", end="2024-02-10", borough=BOROUGH
    )
    assert out.counts.loc["target", "after"] == 25 and out.counts.loc["target", "before"] == 30
    assert "whole borough" in " ".join(out.caveats)
    assert np.isnan(out.comparisons.loc["before", "wdq"])
    assert_allclose(out.comparisons.loc["before", "target_change"], 25 / 30 - 1)


def test_review_errors() -> None:
    inc = _incidents({("target", "2024-01"): 1})
    with pytest.raises(SchemaError, match="no 'easting' column"):
        review.review_operation(
            inc.drop(columns="easting"), footprint=FOOTPRINT, start="2024-01-01", end="2024-01-31", borough=BOROUGH
        )
    with pytest.raises(ParameterError, match="give `borough`"):
        review.review_operation(inc, footprint=FOOTPRINT, start="2024-01-01", end="2024-01-31")
    with pytest.raises(ParameterError, match="after the data ends"):
        review.review_operation(inc, footprint=FOOTPRINT, start="2025-01-01", end="2025-01-31", borough=BOROUGH)
    with pytest.raises(ParameterError, match="ended in 2023-06, before the data start .2024-01.; ingest"):
        review.review_operation(inc, footprint=FOOTPRINT, start="2023-05-01", end="2023-06-30", borough=BOROUGH)
    with pytest.raises(ParameterError, match="ends .* before it starts"):
        review.review_operation(inc, footprint=FOOTPRINT, start="2024-02-01", end="2024-01-01", borough=BOROUGH)


# ------------------------------------------------------------------ SYNTHETIC demo borough
@pytest.mark.slow
def test_demo_heartbeat_effect_and_displacement_recovered(demo_borough: DemoPaths) -> None:
    from _planning_demo import geojson_to_bng, incidents, truth

    from geo_csp import boundaries, layers

    folder = demo_borough.out_dir
    planted = next(o for o in truth(folder)["operations"] if o["name"] == "Heartbeat")
    borough = boundaries.load_borough()
    ops = layers.read_operations(folder / "layers" / "operations.geojson", borough=borough)
    op = ops[ops["name"] == "Heartbeat"].iloc[0]
    inc = incidents(folder, sources=["police_uk_street"])
    out = review.review_operation(
        inc,
        footprint=op.geometry,
        start=op["start_date"],
        end=op["end_date"],
        borough=borough.geometry.iloc[0],
        name="Heartbeat",
        buffer_m=200,
        operations=ops,
    )
    # Lantern (Radcliffe, live through 2024-2025) is cut out of the control; the Avro days cannot be
    assert out.params["control_excludes"] == ["Lantern (01 Jan 2024 to 31 Dec 2025)"]
    assert all(n.startswith("Avro") for n in out.params["borough_wide_operations_in_windows"])
    # a 12-month operation: the year earlier is the before window, one baseline
    assert "one baseline, not two" in out.comparisons.loc["year_earlier", "status"]
    # the interval holds the planted 30 % and excludes no change; the WDD's target part is the prevented count
    row = out.comparisons.loc["before"]
    assert row["relative_effect_low"] <= -planted["planted_reduction"] <= row["relative_effect_high"] < 0
    assert row["effect_verdict"] == "fell, distinguishable from zero"
    assert abs(-row["wdd_local"] - planted["prevented"]) <= 2 * row["wdd_local_se"]
    assert row["wdd_high"] < 0 and row["wdd_verdict"].startswith("fewer incidents than expected")
    # the WDQ's reading is what the ring's interval supports (the ring's ~800 incidents hide the planted 41)
    ring_clear = not (row["buffer_relative_low"] <= 0 <= row["buffer_relative_high"])
    assert ("neither displacement nor diffusion" in row["wdq_verdict"]) == (not ring_clear)
    assert out.before_check["status"] == "not unusual"  # the town centre was not at a peak in 2024
    # the displacement street lies inside the 200 m ring
    street = geojson_to_bng(planted["displacement"]["polygon"])
    assert shapely.buffer(op.geometry, 200).contains(street)
    before = out.comparisons.loc["before"]
    c = out.counts
    # planted: 30 % of footprint crime prevented; recovered relative effect within 0.08
    assert abs(before["relative_effect"] + planted["planted_reduction"]) < 0.08
    # shortfall against the control trend within 20 % of the planted number prevented (124)
    shortfall = before["expected_target"] - c.loc["target", "after"]
    assert abs(shortfall - planted["prevented"]) <= 0.2 * planted["prevented"]
    # Displacement. The whole 200 m ring holds ~800 incidents a window, so its excess over the control
    # trend carries Poisson noise of sd ~ sqrt(B1 + B0 * k^2) ~ 40: the planted 41 can only be checked
    # against that sd (3 sd). On the planted displacement street itself the background is small, so
    # there the excess must match the planted count tightly and be clearly positive.
    k = c.loc["control", "after"] / c.loc["control", "before"]
    excess = c.loc["buffer", "after"] - c.loc["buffer", "before"] * k
    sd_ring = np.sqrt(c.loc["buffer", "after"] + c.loc["buffer", "before"] * k**2)
    assert abs(excess - planted["displaced"]) <= 3 * sd_ring
    on_street = inc[shapely.contains_xy(street, inc["easting"].to_numpy(), inc["northing"].to_numpy())]
    months = pd.PeriodIndex(on_street["month"], freq="M")
    start, end = pd.Period(op["start_date"], "M"), pd.Period(op["end_date"], "M")
    length = end.ordinal - start.ordinal + 1
    street_after = int(((months >= start) & (months <= end)).sum())
    street_before = int(((months >= start - length) & (months < start)).sum())
    street_excess = street_after - street_before * k
    sd_street = np.sqrt(street_after + street_before * k**2)
    assert abs(street_excess - planted["displaced"]) <= 2.5 * sd_street
    assert street_excess > 2 * sd_street  # the displacement is detectable where it was planted
    # planted WDQ is about -displaced/prevented = -1/3 (displacement, smaller than the benefit). The
    # recovered WDQ is about -excess/shortfall, so it carries the ring's noise scaled by the shortfall
    # (sd ~ 40/124 ~ 0.3): checked to 3 of those sd, as the excess is above (the WDQ formula itself is
    # checked exactly against the hand-worked examples earlier in this file)
    assert before["wdq_meaningful"]
    assert abs(before["wdq"] + planted["displaced"] / planted["prevented"]) <= 3 * sd_ring / shortfall


@pytest.mark.slow
def test_demo_day_of_action_reviewed_without_control(demo_borough: DemoPaths) -> None:
    from _planning_demo import incidents

    from geo_csp import boundaries, layers

    folder = demo_borough.out_dir
    borough = boundaries.load_borough()
    ops = layers.read_operations(folder / "layers" / "operations.geojson", borough=borough)
    avro = ops[ops["name"] == "Avro"].iloc[-1]
    out = review.review_operation(
        incidents(folder, sources=["police_uk_street"]),
        footprint=avro.geometry,
        start=avro["start_date"],
        end=avro["end_date"],
        borough=borough.geometry.iloc[0],
    )
    assert "whole borough" in " ".join(out.caveats)
    assert np.isnan(out.counts.loc["control", "after"]) and np.isnan(out.comparisons.loc["before", "wdq"])
    # no effect was planted: the month of the day of action is within 10 % of the month before
    assert abs(out.comparisons.loc["before", "target_change"]) < 0.1
    # pooled over its eight dates: no effect distinguishable, and the interval rules out monthly changes of 5 %
    pooled = review.review_repeated(
        incidents(folder, sources=["police_uk_street"]),
        operations=ops[ops["name"] == "Avro"],
        borough=borough.geometry.iloc[0],
        name="Avro",
    )
    p = pooled.pooled
    assert (p["action_months"], p["matched_months"]) == (8, 16)
    assert p["verdict"] == "not distinguishable from zero"
    assert -0.05 < p["change_low"] < 0 < p["change_high"] < 0.05


def test_wdq_in_plain_english() -> None:
    assert review._wdq_words(0.4).startswith("diffusion of benefit")
    assert review._wdq_words(-5 / 12).startswith("some displacement")
    assert review._wdq_words(-1.5).startswith("displacement larger than the reduction")
    # the hand-worked WDQ example: before counts in January, after counts in June (data 2024-01..06)
    spec = {
        (reg, m): k
        for reg, k0, k1 in (("target", 40, 20), ("buffer", 30, 36), ("control", 400, 380))
        for m, k in (("2024-01", k0), ("2024-06", k1))
    }
    out = review.review_operation(
        _incidents(spec),
        footprint=FOOTPRINT,
        start="2024-04-01",
        end="2024-06-30",
        borough=BOROUGH,
        name="Test",
        buffer_m=100,
    )
    # the ring's rise (30 -> 36 against a control 400 -> 380) is within chance: the WDQ is not read as displacement
    text = out.to_text()
    assert "WDQ -0.42 (the ring's change relative to the control is not distinguishable from zero" in text
    # ten times the counts: the same WDQ, now with a ring rise the interval supports
    spec = {k: 10 * v for k, v in spec.items()}
    out = review.review_operation(
        _incidents(spec),
        footprint=FOOTPRINT,
        start="2024-04-01",
        end="2024-06-30",
        borough=BOROUGH,
        name="Test",
        buffer_m=100,
    )
    row = out.comparisons.loc["before"]
    assert row["buffer_relative_low"] > 0
    assert "WDQ -0.42 (some displacement into the surrounding ring" in out.to_text()


# ------------------------------------------------------------------ uncertainty: WDD, rate ratios, verdicts
def test_wdd_hand_worked() -> None:
    # Wheeler & Ratcliffe (2018): WDD = dT - dCt + dD - dCd, Var = sum of the eight counts (Poisson).
    # T 50 -> 30, Ct 60 -> 55, D 20 -> 25, Cd 22 -> 21:
    # WDD = (30 - 50) - (55 - 60) + (25 - 20) - (21 - 22) = -20 + 5 + 5 + 1 = -9
    # Var = 50 + 30 + 60 + 55 + 20 + 25 + 22 + 21 = 283, SE = 16.8226...
    est, se = review.wdd((50, 30), (60, 55), (20, 25), (22, 21))
    assert est == -9.0
    assert_allclose(se, np.sqrt(283), rtol=1e-12)
    # local effect alone (displacement pair zero): -20 - (-5) = -15, SE sqrt(50 + 30 + 60 + 55) = sqrt(195)
    est, se = review.wdd((50, 30), (60, 55))
    assert est == -15.0
    assert_allclose(se, np.sqrt(195), rtol=1e-12)
    # weights as ptools::wdd: control x 0.5, before counts x 2 (a before window half as long):
    # WDD = (30 - 2*50) - 0.5*(55 - 2*60) = -70 + 32.5 = -37.5
    # Var = 30 + 4*50 + 0.25*(55 + 4*60) = 230 + 73.75 = 303.75
    est, se = review.wdd((50, 30), (60, 55), control_weight=0.5, before_weight=2.0)
    assert_allclose(est, -37.5, rtol=1e-12)
    assert_allclose(se, np.sqrt(303.75), rtol=1e-12)


def test_rate_ratio_exact_intervals_against_their_definitions() -> None:
    from scipy.stats import beta, nchypergeom_fisher

    # no control: 20 after vs 40 before over equal months; Clopper-Pearson bounds of p = 20/60 from the beta
    ratio, low, high = review.rate_ratio(20, 40)
    p_lo, p_hi = beta.ppf(0.025, 20, 41), beta.ppf(0.975, 21, 40)
    assert_allclose(ratio, 0.5)
    assert_allclose([low, high], [p_lo / (1 - p_lo), p_hi / (1 - p_hi)], rtol=1e-6)
    # months differ: 20 in 3 months vs 40 in 6 months is the same monthly rate
    assert_allclose(review.rate_ratio(20, 40, after_months=3, before_months=6)[0], 1.0)
    # with a control: (20/40) / (380/400); the exact conditional bounds are where the non-central
    # hypergeometric tail of the target's after count is 2.5 %
    ratio, low, high = review.rate_ratio(20, 40, 380, 400)
    assert_allclose(ratio, (20 / 40) / (380 / 400))
    total, after, first_row = 20 + 40 + 380 + 400, 20 + 380, 20 + 40
    assert_allclose(nchypergeom_fisher.sf(19, total, first_row, after, low), 0.025, atol=1e-4)
    assert_allclose(nchypergeom_fisher.cdf(20, total, first_row, after, high), 0.025, atol=1e-4)
    assert low < ratio < high < 1  # the fall is distinguishable from no change
    assert all(np.isnan(review.rate_ratio(5, 0)))


@pytest.mark.slow
def test_rate_ratio_interval_coverage_under_the_null() -> None:
    # no effect planted: a 95 % interval excludes "no change" in at most ~5 % of replicates
    rng = np.random.default_rng(14)
    n = 120
    t0, t1 = rng.poisson(60, n), rng.poisson(60, n)
    c0, c1 = rng.poisson(600, n), rng.poisson(600, n)
    miss = 0
    for a, b, c, d in zip(t1, t0, c1, c0, strict=True):
        _, low, high = review.rate_ratio(a, b, c, d)
        miss += not (low <= 1 <= high)
    assert miss / n <= 0.05 + 0.04  # exact intervals are conservative: 5 % or less; 120 replicates: sd 2 points


def test_verdict_words() -> None:
    assert review.verdict(-0.4, -0.1) == "fell, distinguishable from zero"
    assert review.verdict(0.1, 0.3) == "rose, distinguishable from zero"
    assert review.verdict(-0.3, 0.2) == "not distinguishable from zero"


def _even(spec: dict[tuple[str, str], int], region: str, months: list[str], total: int) -> None:
    base, extra = divmod(total, len(months))
    for i, m in enumerate(months):
        spec[(region, m)] = spec.get((region, m), 0) + base + (i < extra)


def test_review_intervals_and_wdd_on_known_counts() -> None:
    # target 40 -> 20, ring 30 -> 36, control 400 -> 380 over three months each
    spec: dict[tuple[str, str], int] = {}
    for region, before, after in (("target", 40, 20), ("buffer", 30, 36), ("control", 400, 380)):
        _even(spec, region, ["2024-01", "2024-02", "2024-03"], before)
        _even(spec, region, ["2024-04", "2024-05", "2024-06"], after)
    out = review.review_operation(
        _incidents(spec), footprint=FOOTPRINT, start="2024-04-01", end="2024-06-30", borough=BOROUGH, buffer_m=100
    )
    row = out.comparisons.loc["before"]
    # WDD with the control scaled to each area's before count (40/400 and 30/400):
    # target 20 - 40*380/400 = -18; ring 36 - 30*380/400 = 7.5; total -10.5
    # Var = 40 + 20 + 30 + 36 + (0.1 + 0.075)^2 * (400 + 380) = 126 + 23.8875
    assert_allclose(row["wdd_local"], -18.0)
    assert_allclose(row["wdd_buffer"], 7.5)
    assert_allclose(row["wdd"], -10.5)
    assert_allclose(row["wdd_se"], np.sqrt(126 + 0.175**2 * 780))
    assert_allclose(row["wdd_local_se"], np.sqrt(60 + 0.1**2 * 780))
    assert_allclose(row["prevented"], 18.0)
    # DiD of rates with its Poisson standard error: areas 0.01 km2 (target) and a_c, three months each
    a_c = out.counts.loc["control", "area_km2"]
    did_se = np.sqrt((40 + 20) / (0.01 * 3) ** 2 + (400 + 380) / (a_c * 3) ** 2)
    assert_allclose(row["did_per_km2_month_high"] - row["did_per_km2_month"], 1.959964 * did_se, rtol=1e-5)
    assert row["wdd_verdict"] == "not distinguishable from zero"  # -10.5 +/- 1.96 * 12.2 covers 0
    ratio, low, high = review.rate_ratio(20, 40, 380, 400)
    assert_allclose(
        [row["relative_effect"], row["relative_effect_low"], row["relative_effect_high"]],
        [ratio - 1, low - 1, high - 1],
    )
    assert row["effect_verdict"] == "fell, distinguishable from zero"
    assert row["buffer_relative_low"] < 0 < row["buffer_relative_high"]
    assert "not distinguishable from zero" in row["wdq_verdict"]
    assert "95% interval" in out.to_text() and "± 12 incidents" in out.to_text()


def test_tiny_counts_are_not_distinguishable_from_zero() -> None:
    spec: dict[tuple[str, str], int] = {}
    for region, before, after in (("target", 6, 3), ("buffer", 5, 5), ("control", 300, 300)):
        _even(spec, region, ["2024-02"], before)
        _even(spec, region, ["2024-03"], after)
    out = review.review_operation(
        _incidents(spec), footprint=FOOTPRINT, start="2024-03-01", end="2024-03-31", borough=BOROUGH, buffer_m=100
    )
    row = out.comparisons.loc["before"]
    assert_allclose(row["relative_effect"], -0.5)
    assert row["effect_verdict"] == "not distinguishable from zero"
    assert row["wdq_meaningful"]  # the quotient can be computed ...
    assert row["wdq_verdict"].startswith("the target's change relative to the control is not distinguishable")
    assert "WDQ not read" in out.to_text()  # ... but is not read


# ------------------------------------------------------------------ baselines that overlap
def _flat(months: list[str]) -> pd.DataFrame:
    spec: dict[tuple[str, str], int] = {}
    for m in months:
        spec[("target", m)], spec[("buffer", m)], spec[("control", m)] = 30, 30, 300
    return _incidents(spec)


def test_year_earlier_overlapping_an_operation_longer_than_12_months_is_refused() -> None:
    inc = _flat(list(periods_range("2022-01", "2025-12")))
    out = review.review_operation(
        inc, footprint=FOOTPRINT, start="2024-07-01", end="2025-12-31", borough=BOROUGH, buffer_m=100
    )
    assert out.windows["year_earlier"] == ("2023-07", "2024-12", 18)
    status = out.comparisons.loc["year_earlier", "status"]
    assert status.startswith("the operation lasts 18 months") and "include 6 of the operation's own months" in status
    assert np.isnan(out.comparisons.loc["year_earlier", "relative_effect"])
    assert out.comparisons.loc["before", "status"] == "used"
    assert "same months a year earlier" not in out.to_text().split("Caution")[0]  # not presented as a baseline
    assert out.params["baselines"]["year_earlier"] == status


def test_twelve_month_operation_has_one_baseline_not_two() -> None:
    inc = _flat(list(periods_range("2023-01", "2025-12")))
    out = review.review_operation(
        inc, footprint=FOOTPRINT, start="2025-01-01", end="2025-12-31", borough=BOROUGH, buffer_m=100
    )
    assert out.windows["before"][:2] == out.windows["year_earlier"][:2] == ("2024-01", "2024-12")
    assert "one baseline, not two agreeing ones" in out.comparisons.loc["year_earlier", "status"]
    assert np.isnan(out.comparisons.loc["year_earlier", "relative_effect"])
    assert out.to_text().count("\nAgainst ") == 1


def test_partly_shared_baselines_are_stated_and_short_ones_both_used() -> None:
    inc = _flat(list(periods_range("2023-01", "2025-12")))
    # 8 months: before 2024-05..2024-12, year earlier 2024-01..2024-08 share 2024-05..08 (4 months)
    out = review.review_operation(
        inc, footprint=FOOTPRINT, start="2025-01-01", end="2025-08-31", borough=BOROUGH, buffer_m=100
    )
    assert "share 4 of their 8 months" in " ".join(out.caveats)
    assert (out.comparisons["status"] == "used").all()
    # 3 months: no overlap, two baselines
    out = review.review_operation(
        inc, footprint=FOOTPRINT, start="2025-01-01", end="2025-03-31", borough=BOROUGH, buffer_m=100
    )
    assert "share" not in " ".join(out.caveats) and (out.comparisons["status"] == "used").all()
    assert out.to_text().count("\nAgainst ") == 2


def test_before_window_shortened_by_the_data_start() -> None:
    inc = _flat(list(periods_range("2024-07", "2025-12")))
    out = review.review_operation(
        inc, footprint=FOOTPRINT, start="2025-01-01", end="2025-12-31", borough=BOROUGH, buffer_m=100
    )
    assert out.windows["before"] == ("2024-07", "2024-12", 6)
    row = out.comparisons.loc["before"]
    # the same monthly rate before and after: no change per month, and the WDD is 0 with the before counts doubled
    assert_allclose([row["target_change"], row["relative_effect"], row["wdd_local"]], [0, 0, 0], atol=1e-12)
    assert_allclose(row["wdd_local_se"], np.sqrt(360 + 4 * 180 + 0.1**2 * (3600 + 4 * 1800)))
    assert "only 6 of the operation's 12 months" in " ".join(out.caveats)


def periods_range(a: str, b: str) -> list[str]:
    from geo_csp import periods

    return [str(m) for m in periods.month_range(a, b)]


# ------------------------------------------------------------------ other live operations and the control
def test_other_live_operations_are_cut_out_of_the_control() -> None:
    import geopandas as gpd

    months_before, months_after = ["2024-01", "2024-02", "2024-03"], ["2024-04", "2024-05", "2024-06"]
    spec: dict[tuple[str, str], int] = {}
    for region, before, after in (("target", 40, 20), ("buffer", 30, 30), ("control", 400, 400)):
        _even(spec, region, months_before, before)
        _even(spec, region, months_after, after)
    inc = _incidents(spec)
    # another operation (800, 800)-(900, 900) where crime halved, live in the after window
    other = pd.DataFrame({"month": months_before * 20 + months_after * 10, "easting": 850.0, "northing": 850.0})
    inc = pd.concat([inc, other], ignore_index=True)
    register = gpd.GeoDataFrame(
        {
            "name": ["Test", "Other", "Day", "Old"],
            "start_date": pd.to_datetime(["2024-04-01", "2024-05-01", "2024-02-10", "2022-01-01"]),
            "end_date": pd.to_datetime(["2024-06-30", "2024-09-30", "2024-02-10", "2022-12-31"]),
        },
        geometry=[FOOTPRINT, shapely.box(800, 800, 900, 900), BOROUGH, shapely.box(400, 400, 600, 600)],
        crs="EPSG:27700",
    )
    plain = review.review_operation(
        inc, footprint=FOOTPRINT, start="2024-04-01", end="2024-06-30", borough=BOROUGH, buffer_m=100, name="Test"
    )
    cut = review.review_operation(
        inc,
        footprint=FOOTPRINT,
        start="2024-04-01",
        end="2024-06-30",
        borough=BOROUGH,
        buffer_m=100,
        name="Test",
        operations=register,
    )
    # without the register the other operation's fall (60 -> 30) sits in the control
    assert plain.counts.loc["control", "before"] == 460 and plain.counts.loc["control", "after"] == 430
    # with it, the control is the clean rest of the borough: 400 -> 400, so the relative effect is -50 %
    assert cut.counts.loc["control", "before"] == 400 and cut.counts.loc["control", "after"] == 400
    assert_allclose(cut.comparisons.loc["before", "relative_effect"], -0.5)
    assert_allclose(cut.counts.loc["control", "area_km2"], plain.counts.loc["control", "area_km2"] - 0.01)
    assert cut.params["control_excludes"] == ["Other (01 May 2024 to 30 Sep 2024)"]
    # a borough-wide day of action cannot be cut out: it is named; an operation outside the windows is ignored
    assert cut.params["borough_wide_operations_in_windows"] == ["Day (10 Feb 2024)"]
    text = " ".join(cut.caveats)
    assert "cut out of the control area: Other" in text and "cannot be cut out: Day (10 Feb 2024)" in text
    assert "Old" not in text


def test_operations_register_without_columns_is_an_error() -> None:
    inc = _flat(["2024-01", "2024-02"])
    with pytest.raises(SchemaError, match="`operations` has no 'start_date' column"):
        review.review_operation(
            inc,
            footprint=FOOTPRINT,
            start="2024-02-01",
            end="2024-02-29",
            borough=BOROUGH,
            operations=pd.DataFrame({"name": ["x"], "end_date": ["2024-01-01"], "geometry": [FOOTPRINT]}),
        )


# ------------------------------------------------------------------ regression to the mean / pre-trend
def _history(target: dict[str, int]) -> pd.DataFrame:
    spec: dict[tuple[str, str], int] = {}
    for m in periods_range("2023-01", "2025-12"):
        spec[("target", m)] = target.get(m, 30)
        spec[("buffer", m)], spec[("control", m)] = 30, 600
    return _incidents(spec)


def test_before_window_check_flags_a_peak_and_a_pre_trend() -> None:
    kw = {"footprint": FOOTPRINT, "start": "2025-04-01", "end": "2025-06-30", "borough": BOROUGH, "buffer_m": 100}
    flat = review.review_operation(_history({}), **kw)
    check = flat.before_check
    assert check["status"] == "not unusual" and check["earlier_months"] == 24 and check["before_months"] == 3
    assert_allclose(check["ratio"], 1.0)
    assert check["earlier_windows"] == 22  # 3-month windows within the 24 earlier months
    # a peak in the three months before (60 a month against 30): unusually high
    peak = review.review_operation(_history({"2025-01": 60, "2025-02": 60, "2025-03": 60}), **kw)
    assert peak.before_check["status"] == "unusually high"
    assert_allclose(peak.before_check["ratio"], 2.0)
    assert peak.before_check["ratio_low"] > 1
    assert peak.before_check["earlier_windows_lower"] == 22
    assert "UNUSUALLY HIGH" in peak.to_text() and "regression to the mean" in peak.to_text()
    # already falling: 15 a month in the before window
    low = review.review_operation(_history({"2025-01": 15, "2025-02": 15, "2025-03": 15}), **kw)
    assert low.before_check["status"] == "already falling"
    # steady counts: no overdispersion caveat; counts swinging 10/50 a month: intervals flagged as too narrow
    assert flat.before_check["dispersion"] == 0.0
    assert not any("times as much as Poisson" in c for c in flat.caveats)
    swings = {m: (10 if i % 2 else 50) for i, m in enumerate(periods_range("2023-01", "2025-03"))}
    swing = review.review_operation(_history(swings), **kw)
    # 27 months alternating 50/10 (14 x 50, 13 x 10): mean 30.74, sample variance 415.38 -> 13.51
    values = np.array([50 if i % 2 == 0 else 10 for i in range(27)], dtype=float)
    assert_allclose(swing.before_check["dispersion"], values.var(ddof=1) / values.mean())
    assert any("13.5 times as much as Poisson" in c and "3.7 times wider" in c for c in swing.caveats)
    # the data start with the before window: cannot be checked
    short = review.review_operation(_history({}), **{**kw, "start": "2023-04-01", "end": "2023-06-30"})
    assert short.before_check["status"] == "not checked"


@pytest.mark.slow
def test_before_window_check_false_alarm_rate_under_the_null() -> None:
    # stationary Poisson history, no peak: the rule flags about 5 % of before windows or fewer
    rng = np.random.default_rng(7)
    n_rep, flagged = 120, 0
    for _ in range(n_rep):
        monthly = np.vstack([rng.poisson(30, 36), rng.poisson(30, 36), rng.poisson(600, 36)]).astype(float)
        check = review._before_check(monthly, before=(24, 26), data_lo=0, has_control=True, confidence=0.95)
        flagged += check["status"] != "not unusual"
    assert flagged / n_rep <= 0.05 + 0.04  # 120 replicates: binomial sd of the rate ~2 points


# ------------------------------------------------------------------ repeated one-day operations
def _days(dates: list[str], geoms: list[shapely.Geometry], name: str = "Avro") -> pd.DataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"name": name, "start_date": pd.to_datetime(dates), "end_date": pd.to_datetime(dates)},
        geometry=geoms,
        crs="EPSG:27700",
    )


def test_pooled_borough_wide_days_of_action() -> None:
    # 100 a month everywhere, except 80 in the action months (2024-03, 2024-07): matched 02, 04, 06, 08
    spec = {("target", m): 100 for m in periods_range("2024-01", "2024-12")}
    spec[("target", "2024-03")] = spec[("target", "2024-07")] = 80
    out = review.review_repeated(
        _incidents(spec), operations=_days(["2024-03-14", "2024-07-18"], [BOROUGH] * 2), borough=BOROUGH, name="Avro"
    )
    p = out.pooled
    assert (p["action_months"], p["matched_months"], p["target_action"], p["target_matched"]) == (2, 4, 160, 400)
    assert_allclose(p["ratio"], (160 / 2) / (400 / 4))
    assert not p["with_control"]
    assert out.dates["matched_months"].tolist() == ["2024-02, 2024-04", "2024-06, 2024-08"]
    _, low, high = review.rate_ratio(160, 400, after_months=2, before_months=4)
    assert_allclose([p["ratio_low"], p["ratio_high"]], [low, high])
    assert p["verdict"] == "fell, distinguishable from zero"
    assert "a thirtieth of its month" in out.to_text()
    json.dumps(out.to_dict())


def test_pooled_rotating_days_with_a_control() -> None:
    # two districts, each with a day of action in its month; the rest of the borough is the control
    west, east = shapely.box(-900, -900, -500, -500), shapely.box(500, 500, 900, 900)
    rows = []
    for m in periods_range("2024-01", "2024-06"):
        n_west = 20 if m == "2024-02" else 40
        n_east = 30  # no effect in the east
        rows += [(m, -700.0, -700.0)] * n_west + [(m, 700.0, 700.0)] * n_east + [(m, 0.0, 0.0)] * 200
    inc = pd.DataFrame(rows, columns=["month", "easting", "northing"])
    out = review.review_repeated(
        inc, operations=_days(["2024-02-08", "2024-05-09"], [west, east]), borough=BOROUGH, name="Rotate", buffer_m=50
    )
    d = out.dates.set_index("month")
    assert d.loc["2024-02", "target_action"] == 20 and d.loc["2024-02", "target_matched"] == 80
    assert d.loc["2024-05", "target_action"] == 30 and d.loc["2024-05", "target_matched"] == 60
    # the other district is in each day's control: West's control = east + centre
    assert d.loc["2024-02", "control_action"] == 230 and d.loc["2024-02", "control_matched"] == 460
    p = out.pooled
    assert p["with_control"]
    assert_allclose(p["ratio"], (50 / 140) / ((230 + 240) / (460 + 480)))
    json.dumps(out.to_dict())


def test_pooling_refuses_long_operations() -> None:
    ops = _days(["2024-02-08"], [FOOTPRINT]).assign(end_date=pd.to_datetime(["2024-03-08"]))
    with pytest.raises(ParameterError, match="lasting more than one day"):
        review.review_repeated(_flat(["2024-01", "2024-02", "2024-03"]), operations=ops, borough=BOROUGH)
