"""Back-testing measures on hand-worked examples, the KDE bandwidth rule, and a planted-cluster back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from _synthetic import incidents
from geo_csp import backtest, boundaries
from geo_csp._errors import ParameterError

AREA = np.ones(10)  # ten units of equal area, A = 10
PAST = np.array([10, 8, 0, 0, 1, 1, 0, 0, 0, 0], dtype=float)  # N1 = 20
FUTURE = np.array([6, 2, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)  # N2 = 10


def test_hit_rate_pai_rri_pei_by_hand():
    sel = backtest.select_by_area(PAST, AREA, area_share=0.2)
    assert sel.tolist() == [True, True] + [False] * 8  # the two top past units fill 20% of the area
    m = backtest.evaluate_selection(sel, FUTURE, AREA, past=PAST, area_share=0.2)
    # hit rate n/N = (6 + 2) / 10 = 0.8; a/A = 2/10 = 0.2; PAI = 0.8 / 0.2 = 4.0
    # PAI in period 1 = (18/20) / 0.2 = 4.5; RRI = 4.0 / 4.5 = 0.8889
    # best two future units are the same (6 + 2), so PEI = 4.0 / 4.0 = 1
    assert_allclose([m["hit_rate"], m["pai"], m["rri"], m["pei"]], [0.8, 4.0, 4.0 / 4.5, 1.0], rtol=1e-12)
    other = np.zeros(10, dtype=bool)
    other[[2, 3]] = True
    m2 = backtest.evaluate_selection(other, FUTURE, AREA, past=PAST, area_share=0.2)
    # hit rate 2/10 = 0.2, PAI 1.0, PEI 1/4; no period-1 crime inside, so RRI is undefined
    assert_allclose([m2["hit_rate"], m2["pai"], m2["pei"]], [0.2, 1.0, 0.25])
    assert np.isnan(m2["rri"])


def test_ppai_by_hand():
    sel = backtest.select_by_area(PAST, AREA, area_share=0.2)
    # hit rate 0.8, a/A 0.2: PPAI = 0.8 / 0.2**0.5 = 1.78885; alpha 1 is PAI, alpha 0 the hit rate
    assert_allclose(backtest.evaluate_selection(sel, FUTURE, AREA)["ppai"], 0.8 / 0.2**0.5, rtol=1e-12)
    assert_allclose(backtest.evaluate_selection(sel, FUTURE, AREA, ppai_alpha=1.0)["ppai"], 4.0, rtol=1e-12)
    assert_allclose(backtest.evaluate_selection(sel, FUTURE, AREA, ppai_alpha=0.0)["ppai"], 0.8, rtol=1e-12)
    with pytest.raises(ParameterError, match="ppai_alpha"):
        backtest.evaluate_selection(sel, FUTURE, AREA, ppai_alpha=1.5)


def test_select_by_area_respects_unequal_areas_and_ties():
    area = np.array([5.0, 1.0, 1.0, 3.0])
    scores = np.array([9.0, 8.0, 8.0, 1.0])
    # budget 40% of 10 = 4: unit 0 (5) does not fit after nothing? it is the top unit and always kept
    assert backtest.select_by_area(scores, area, area_share=0.4).tolist() == [True, False, False, False]
    # budget 70% = 7: units 0, 1 (cum 6), unit 2 would make 7: kept (<=)
    assert backtest.select_by_area(scores, area, area_share=0.7).tolist() == [True, True, True, False]
    # ties broken by the tie-break values
    assert backtest.select_by_area(np.array([1.0, 1.0]), np.ones(2), area_share=0.5,
                                   tiebreak=np.array([0.0, 3.0])).tolist() == [False, True]
    with pytest.raises(ParameterError, match="area_share"):
        backtest.select_by_area(scores, area, area_share=0)


def test_silverman_bandwidth_by_hand():
    x = np.array([0.0, 100.0, 200.0, 300.0, 400.0])
    y = np.array([0.0, 0.0, 50.0, 50.0, 100.0])
    sx, sy = np.std(x, ddof=1), np.std(y, ddof=1)
    iqr_x, iqr_y = 200.0, 50.0
    expected = np.mean([1.06 * min(sx, iqr_x / 1.34), 1.06 * min(sy, iqr_y / 1.34)]) * 5 ** -0.2
    assert_allclose(backtest.silverman_bandwidth_m(x, y), expected)
    # a weight counts a point that many times
    w = np.array([2, 1, 2, 1, 1])
    assert_allclose(backtest.silverman_bandwidth_m(x, y, weights=w),
                    backtest.silverman_bandwidth_m(np.repeat(x, w), np.repeat(y, w)))


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    """Uniform background over Bury plus a persistent cluster in the town centre, 12 months."""
    rng = np.random.default_rng(5)
    borough = boundaries.load_borough().geometry.iloc[0]
    minx, miny, maxx, maxy = borough.bounds
    months = np.array([f"2022-{m:02d}" for m in range(1, 13)], dtype=object)
    bx, by = rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)
    cx, cy = rng.normal(380_400, 120, 800), rng.normal(410_900, 120, 800)
    snaps = lambda v: np.round(v / 50) * 50  # noqa: E731 - repeated snap points
    return incidents(snaps(np.r_[bx, cx]), snaps(np.r_[by, cy]), months[rng.integers(0, 12, 3800)])


def test_backtest_on_a_planted_cluster(planted):
    table = backtest.backtest(planted, split="2022-09", study_area=boundaries.load_borough(), resolution=9)
    assert set(table["method"]) == set(backtest.METHODS)
    assert list(table.columns) == ["method", "area_share_target", "hit_rate", "pai", "area_share", "n_units", "ppai", "rri", "pei"]
    five = table[table["area_share_target"] == 0.05].set_index("method")
    # the cluster (~20% of crime in well under 1% of the area) is found by all three
    assert (five["pai"] > 3).all()
    assert (five["area_share"] <= 0.05 + 1e-9).all()
    assert table.attrs["train_months"] == 8 and table.attrs["test_months"] == 4
    assert 50 < table.attrs["kde_bandwidth_m"] < 5000
    with pytest.raises(ParameterError, match="split 2022-01"):
        backtest.backtest(planted, split="2022-01")


def test_resolution_sweep(planted):
    sweep = backtest.resolution_sweep(planted, split="2022-09", resolutions=(8, 9),
                                      study_area=boundaries.load_borough())
    assert sweep["resolution"].tolist() == [8, 9]
    assert sweep["n_units"].is_monotonic_increasing
    assert {"pai_method", "pai_kde", "pai_last_period", "n_significant_units"} <= set(sweep.columns)
