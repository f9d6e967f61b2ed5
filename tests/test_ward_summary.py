"""Counts, rates and change with exact intervals on a run of few wards, and why Gi* says what it says."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import stats

from geo_csp import hotspot_run, schema, ward_summary
from geo_csp.cube import CubeParams
from geo_csp._errors import ParameterError
from geo_csp.settings import WORKING_CRS

from _synthetic import incidents


def test_poisson_interval_known_answers():
    # Garwood's exact limits, as tabulated (e.g. Ulm 1990): 0 -> (0, 3.689), 10 -> (4.795, 18.390)
    low, high = ward_summary.poisson_rate_interval(np.array([0, 1, 10]), 1.0)
    np.testing.assert_allclose(low, [0.0, 0.02532, 4.7954], atol=1e-4)
    np.testing.assert_allclose(high, [3.6889, 5.5716, 18.3904], atol=1e-4)
    # a rate: 10 events over 2.5 units of exposure, 90% interval
    low, high = ward_summary.poisson_rate_interval(10, 2.5, confidence=0.9)
    assert low == pytest.approx(stats.chi2.ppf(0.05, 20) / 2 / 2.5, rel=1e-12)
    assert high == pytest.approx(stats.chi2.ppf(0.95, 22) / 2 / 2.5, rel=1e-12)
    assert np.isnan(ward_summary.poisson_rate_interval(3, 0.0)[0])
    with pytest.raises(ParameterError, match="confidence"):
        ward_summary.poisson_rate_interval(3, 1.0, confidence=95)


def test_poisson_interval_covers_at_least_its_level_under_the_null():
    rng = np.random.default_rng(18)
    for mean in (2.0, 15.0):
        n = rng.poisson(mean, size=20_000)
        low, high = ward_summary.poisson_rate_interval(n, 1.0)
        cover = float(((low <= mean) & (mean <= high)).mean())
        assert 0.95 <= cover <= 0.99, (mean, cover)  # exact intervals are conservative


def test_rate_ratio_interval_is_the_exact_conditional_binomial():
    ratio, low, high = ward_summary.rate_ratio_interval(20, 10)
    ci = stats.binomtest(20, 30).proportion_ci(confidence_level=0.95, method="exact")
    assert ratio == pytest.approx(2.0)
    assert low == pytest.approx(ci.low / (1 - ci.low), rel=1e-9)
    assert high == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    # by hand: Clopper-Pearson 0.47186..0.82714 for p, so R = p / (1 - p) = 0.8935..4.7846
    assert (low, high) == pytest.approx((0.8935, 4.7846), abs=1e-3)
    # exposures: 20 in 6 months against 10 in 3 months is no change (ratio 1), the interval scales by 1/2
    r2, l2, h2 = ward_summary.rate_ratio_interval(20, 10, exposure_after=6.0, exposure_before=3.0)
    assert (r2, l2, h2) == pytest.approx((1.0, low / 2, high / 2))
    # edges: nothing before -> unbounded above; nothing after -> 0 below; nothing at all -> NaN
    r, lo, hi = ward_summary.rate_ratio_interval(np.array([5, 0, 0]), np.array([0, 5, 0]))
    assert np.isinf(r[0]) and np.isinf(hi[0]) and lo[0] > 0
    assert r[1] == 0 and lo[1] == 0 and np.isfinite(hi[1])
    assert np.isnan(r[2]) and np.isnan(lo[2]) and np.isnan(hi[2])


def test_rate_ratio_interval_holds_its_level_under_the_null():
    rng = np.random.default_rng(8)
    after, before = rng.poisson(12.0, size=20_000), rng.poisson(6.0, size=20_000)  # true ratio 2 per unit time
    _, low, high = ward_summary.rate_ratio_interval(after, before, exposure_after=2.0, exposure_before=1.0)
    cover = float(((low <= 1.0) & (1.0 <= high)).mean())
    assert 0.95 <= cover <= 0.99, cover


@pytest.fixture(scope="module")
def nine_wards():
    """A 3 x 3 grid of 1 km wards of 1,000 residents; the corner ward 'A: "high" <b>' has 200 incidents
    (50 in Jan-Jun, 150 in Jul-Dec), every other ward 12 (one a month)."""
    boxes = [shapely.box(x * 1000, y * 1000, x * 1000 + 1000, y * 1000 + 1000) for y in range(3) for x in range(3)]
    boxes = [shapely.affinity.translate(b, 380_000, 405_000) for b in boxes]
    names = ['A: "high" <b>', *[f"Ward {i}" for i in range(1, 9)]]
    wards = gpd.GeoDataFrame(
        {schema.WARD_CODE: [f"E0{i}" for i in range(9)], schema.WARD_NAME: names, schema.POPULATION: 1000.0},
        geometry=boxes,
        crs=WORKING_CRS,
    )
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    xs, ys, ms = [], [], []
    for i, b in enumerate(boxes):
        c = b.centroid
        per_month = [50 // 6 + (k < 50 % 6) for k in range(6)] + [25] * 6 if i == 0 else [1] * 12
        for m, k in zip(months, per_month, strict=True):
            xs += [c.x] * k
            ys += [c.y] * k
            ms += [m] * k
    data = incidents(xs, ys, ms)
    run = hotspot_run.run_hotspots(
        data, cube_params=CubeParams(unit="ward", months=("2022-01", "2022-12")), units=wards
    )
    return run, ward_summary.summarise_few_units(run)


def test_few_wards_lead_with_rates_change_and_why(nine_wards):
    run, summary = nine_wards
    assert ward_summary.applies("ward", len(run.units)) and not ward_summary.applies("h3", 5)
    assert not ward_summary.applies("ward", hotspot_run.MIN_POLYGON_UNITS)
    top = summary.table.iloc[0]
    assert top["name"] == 'A: "high" <b>' and top[schema.N] == 200
    assert top[schema.RATE_PER_1000] == pytest.approx(200.0)  # 200 a year per 1,000 residents
    low, high = ward_summary.poisson_rate_interval(200, 1.0)
    assert (top["rate_low"], top["rate_high"]) == pytest.approx((float(low), float(high)))
    assert top["share_pct"] == pytest.approx(200 / (200 + 8 * 12) * 100)
    assert (top["n_before"], top["n_after"], top["change"]) == (50, 150, "up")
    ratio, lo, hi = (float(v) for v in ward_summary.rate_ratio_interval(150, 50))
    assert (top["change_ratio"], top["change_low"], top["change_high"]) == pytest.approx((ratio, lo, hi))
    assert top["n_neighbours"] == 3 and top["neighbours_mean"] == pytest.approx(1.0)
    others = summary.table.iloc[1:]
    assert set(others["change"]) == {"no clear change"}
    lead = summary.text()
    assert lead.startswith('A: "high" <b> has the highest rate: 200.0 per 1,000')
    assert "Gi* compares a ward together with its neighbours" in lead
    assert "Gi* adds its low neighbours in, so the local total does not stand out" in top["why_gi"]
    assert "use H3 cells (--unit h3, the default) or LSOAs (--unit lsoa)" in lead
    assert summary.metadata["periods_compared"] == "2022-07..2022-12 against 2022-01..2022-06"
    assert summary.metadata["rule"] == ward_summary.FEW_UNITS
    shown = summary.for_people()
    assert shown.iloc[0]["Rate per 1,000 a year (95% interval)"] == f"200.0 ({float(low):.1f} to {float(high):.1f})"


def test_h3_runs_have_no_few_units_summary():
    data = incidents(
        [380_500.0, 380_700.0, 380_900.0], [405_500.0, 405_600.0, 405_700.0], ["2022-01", "2022-02", "2022-02"]
    )
    run = hotspot_run.run_hotspots(
        data,
        cube_params=CubeParams(months=("2022-01", "2022-02")),
        study_area=shapely.box(380_000, 405_000, 381_500, 406_500),
    )
    with pytest.raises(ParameterError, match="ward or LSOA"):
        ward_summary.summarise_few_units(run)
