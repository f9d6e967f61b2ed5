"""Tests of geo_csp.hotspots: Gi* against esda, FDR against scipy, permutations, contracts."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import h3
import libpysal
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from shapely.geometry import box

from geo_csp import schema
from geo_csp._errors import ParameterError
from geo_csp.hotspots import CubeAnalysis, GiStarResult, HotspotParams, analyse_cube, gi_star
from geo_csp.trends import ARCGIS_PATTERNS, CHAINEY_CATEGORIES, mann_kendall
from geo_csp.weights import h3_weights, queen_weights, space_time_weights

MANCHESTER = h3.latlng_to_cell(53.4808, -2.2426, 9)


def _lw(w) -> libpysal.weights.W:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.WSP(w.tocsr()).to_W()


def _esda_z(y, w) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(y, _lw(w), transform="B", star=True, permutations=0).Zs


@pytest.fixture(scope="module")
def h3_w():
    cells = sorted(h3.grid_disk(MANCHESTER, 6))
    return h3_weights(cells, k=1)


@pytest.fixture(scope="module")
def queen_w():
    polys = gpd.GeoSeries([box(i, j, i + 1, j + 1) for j in range(9) for i in range(11)])
    return queen_weights(polys)


def _cube(n_units: int, n_periods: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 2.0, size=(n_units, 1))
    return rng.poisson(base * np.linspace(0.5, 1.5, n_periods)[None, :]).astype(np.float64)


def test_esda_six_point_example():
    points = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    y = np.array([2, 3, 3.2, 5, 8, 7])
    w = libpysal.weights.DistanceBand(points, threshold=15)
    w.transform = "O"
    res = gi_star(y[:, None], w.sparse, global_window="period", fdr=False)
    assert_allclose(res.z[0, 0], -1.39727626, rtol=1e-6)
    assert_allclose(res.z[:, 0], _esda_z(y, w.sparse), atol=1e-9)
    assert_allclose(res.p[0, 0], 2 * stats.norm.sf(1.39727626), rtol=1e-6)


@pytest.mark.parametrize("weights", ["h3_w", "queen_w"])
def test_gi_star_per_period_equals_esda(weights, request):
    w = request.getfixturevalue(weights)
    x = _cube(w.shape[0], 12, seed=3)
    res = gi_star(x, w, global_window="period", time_window=0)
    for t in range(x.shape[1]):
        assert_allclose(res.z[:, t], _esda_z(x[:, t], w), atol=1e-6)


@pytest.mark.parametrize("time_window", [0, 1, 3])
def test_space_time_gi_star_cube_window_equals_esda_on_flattened_cube(h3_w, time_window):
    x = _cube(h3_w.shape[0], 8, seed=11)
    res = gi_star(x, h3_w, time_window=time_window, global_window="cube")
    st = space_time_weights(h3_w, x.shape[1], time_window=time_window)
    expected = _esda_z(x.ravel(order="F"), st).reshape(x.shape[1], x.shape[0]).T
    assert_allclose(res.z, expected, atol=1e-6)


def test_fdr_equals_scipy_bh_per_period(h3_w):
    x = _cube(h3_w.shape[0], 6, seed=5)
    res = gi_star(x, h3_w, time_window=1, fdr=True, alpha=0.05)
    for t in range(x.shape[1]):
        assert_allclose(res.p_adjusted[:, t], stats.false_discovery_control(res.p[:, t], method="bh"), rtol=1e-12)
    expected = np.where(res.p_adjusted < 0.05, np.sign(res.z), 0).astype(np.int8)
    assert_array_equal(res.hot_cold, expected)
    plain = gi_star(x, h3_w, time_window=1, fdr=False)
    assert_array_equal(plain.p_adjusted, plain.p)


def _mc_agree(p_ours: np.ndarray, p_ref: np.ndarray, n_perm: int) -> None:
    """Both are estimates of the same probability from n_perm draws: compare within Monte Carlo error."""
    p_mid = np.clip((p_ours + p_ref) / 2, 1 / n_perm, 0.5)
    se = np.sqrt(2 * p_mid * (1 - p_mid) / n_perm)
    z = (p_ours - p_ref) / se
    assert np.mean(np.abs(z) > 3.5) <= 0.01, np.sort(np.abs(z))[-5:]
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) + 0.1


def test_permutation_p_matches_esda_p_sim_per_period(h3_w):
    n_perm = 999
    x = _cube(h3_w.shape[0], 1, seed=21)
    res = gi_star(x, h3_w, global_window="period", permutations=n_perm, seed=1, fdr=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(x[:, 0], _lw(h3_w), transform="B", star=True, permutations=n_perm, seed=2, n_jobs=1)
    assert res.p_sim is not None
    assert ((res.p_sim > 0) & (res.p_sim <= 0.5 + 1e-12)).all()
    _mc_agree(res.p_sim[:, 0], ref.p_sim, n_perm)
    assert_allclose(res.p, np.minimum(1, 2 * res.p_sim))


def test_permutation_p_matches_esda_on_space_time_cube(queen_w):
    n_perm = 999
    x = _cube(queen_w.shape[0], 3, seed=8)
    res = gi_star(x, queen_w, time_window=1, global_window="cube", permutations=n_perm, seed=4, fdr=False)
    st = space_time_weights(queen_w, x.shape[1], time_window=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(x.ravel(order="F"), _lw(st), transform="B", star=True, permutations=n_perm, seed=5, n_jobs=1)
    _mc_agree(res.p_sim.ravel(order="F"), ref.p_sim, n_perm)


def test_permutations_are_seeded(queen_w):
    x = _cube(queen_w.shape[0], 2, seed=1)
    a = gi_star(x, queen_w, global_window="period", permutations=199, seed=7)
    b = gi_star(x, queen_w, global_window="period", permutations=199, seed=7)
    assert_array_equal(a.p_sim, b.p_sim)


def test_zero_variance_period_and_islands_give_z0_p1():
    polys = gpd.GeoSeries([box(i, 0, i + 1, 1) for i in range(5)] + [box(20, 20, 21, 21)])
    with pytest.warns(UserWarning, match="no queen neighbour"):
        w = queen_weights(polys)
    x = np.array([[3, 1], [3, 5], [3, 9], [3, 0], [3, 2], [3, 40]], dtype=float)
    res = gi_star(x, w, global_window="period")
    assert np.isfinite(res.z).all() and np.isfinite(res.p).all()
    assert_array_equal(res.z[:, 0], 0.0)  # all counts equal in period 0
    assert_array_equal(res.p[:, 0], 1.0)
    assert res.z[5, 1] == 0.0 and res.p[5, 1] == 1.0  # island
    assert res.islands.tolist() == [False] * 5 + [True]
    assert_array_equal(res.hot_cold[5], 0)
    zero = gi_star(np.zeros((6, 3)), w)
    assert_array_equal(zero.z, 0.0)


def test_gi_star_does_not_mutate_inputs(h3_w):
    x = _cube(h3_w.shape[0], 4, seed=2)
    x_copy, w_copy = x.copy(), h3_w.copy()
    gi_star(x, h3_w, time_window=1, permutations=99, seed=0)
    assert_array_equal(x, x_copy)
    assert (h3_w != w_copy).nnz == 0


def test_gi_star_input_errors(h3_w):
    with pytest.raises(ParameterError, match="`w` must be a sparse"):
        gi_star(np.ones((3, 2)), h3_w)
    with pytest.raises(ParameterError, match="NaN"):
        gi_star(np.full((h3_w.shape[0], 2), np.nan), h3_w)
    with pytest.raises(ParameterError, match="global_window"):
        gi_star(np.ones((h3_w.shape[0], 2)), h3_w, time_window=1, global_window="period")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "`alpha` must be a number strictly between 0 and 1"),
        ({"alpha": 1.5}, "`alpha`"),
        ({"fdr": "yes"}, "`fdr`"),
        ({"time_window": -1}, "`time_window` must be an integer from 0"),
        ({"time_window": 1.5}, "`time_window`"),
        ({"global_window": "week"}, "`global_window` must be one of"),
        ({"permutations": 10}, "`permutations` must be 0 or an integer from 99"),
        ({"seed": -3}, "`seed`"),
        ({"trend_alpha": 0.0}, "`trend_alpha`"),
        ({"arcgis_share": 0.3}, "`arcgis_share` must be between 0.5 and 1"),
        ({"hotspot_prop": 1.2}, "`hotspot_prop`"),
        ({"persistent_prop": 0.05}, "`persistent_prop` must be above `hotspot_prop`"),
        ({"recent_prop": 0}, "`recent_prop`"),
        ({"recent_periods": 0}, "`recent_periods`"),
        ({"k": 0}, "`k` must be an integer H3 ring radius"),
        ({"k": True}, "`k`"),
    ],
)
def test_params_validation(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        HotspotParams(**kwargs)


def test_params_to_dict_roundtrip():
    p = HotspotParams(alpha=0.01, recent_periods=6)
    d = p.to_dict()
    assert d["alpha"] == 0.01 and d["recent_periods"] == 6 and d["global_window"] == "cube"
    assert HotspotParams(**d) == p


def test_analyse_cube_contract(h3_w):
    x = _cube(h3_w.shape[0], 24, seed=9)
    x_copy = x.copy()
    result = analyse_cube(x, h3_w, params=HotspotParams(), period_name="month")
    assert isinstance(result, CubeAnalysis) and isinstance(result.gi, GiStarResult)
    assert_array_equal(x, x_copy)
    units = result.units
    assert list(units.columns) == [
        schema.GI_Z,
        schema.GI_P,
        schema.MK_S,
        schema.MK_TAU,
        schema.MK_Z,
        schema.MK_P,
        schema.PATTERN,
        schema.CATEGORY,
        "n_hot_periods",
        "n_cold_periods",
        schema.EXPLANATION,
    ]
    assert units.index.equals(pd.RangeIndex(h3_w.shape[0]))
    for col in (schema.GI_Z, schema.GI_P, schema.MK_S, schema.MK_TAU, schema.MK_Z, schema.MK_P):
        assert units[col].dtype == np.float64
    assert units["n_hot_periods"].dtype == np.int64
    assert list(units[schema.PATTERN].cat.categories) == list(ARCGIS_PATTERNS)
    assert list(units[schema.CATEGORY].cat.categories) == list(CHAINEY_CATEGORIES)
    assert units[schema.EXPLANATION].str.contains(" of 24 months").all()
    assert result.z.shape == result.hot_cold.shape == x.shape
    assert result.hot_cold.dtype == np.int8
    assert_allclose(units[schema.GI_Z], result.z[:, -1])
    assert_array_equal(units["n_hot_periods"], (result.hot_cold == 1).sum(axis=1))
    assert units[schema.GI_P].between(0, 1).all() and units[schema.MK_TAU].between(-1, 1).all()
    assert result.metadata()["hotspot_params"]["time_window"] == 1


def test_analyse_cube_finds_planted_persistent_hotspot(h3_w):
    rng = np.random.default_rng(0)
    n = h3_w.shape[0]
    x = rng.poisson(2.0, size=(n, 36)).astype(float)
    centre = int(np.argmax(np.diff(h3_w.indptr)))
    block = np.r_[centre, h3_w[centre].indices]
    x[block] += 12
    units = analyse_cube(x, h3_w, params=HotspotParams()).units
    assert units.loc[centre, schema.PATTERN] in {"Persistent Hot Spot", "Intensifying Hot Spot", "Diminishing Hot Spot"}
    assert units.loc[centre, schema.CATEGORY] == "persistent hotspot"


def _null_false_trend_rate(trend_test: str, *, replicates: int = 6, mean: float = 2.0) -> float:
    """Share of cells with a Mann-Kendall p < 0.05 on stationary Poisson cubes (469 cells, 36 months)."""
    cells = np.array(sorted(h3.grid_disk(MANCHESTER, 12)), dtype=object)  # 469 cells
    w = h3_weights(cells, k=1)
    params = HotspotParams(trend_test=trend_test)
    rates = []
    for seed in range(replicates):
        x = np.random.default_rng(seed).poisson(mean, (len(cells), 36)).astype(float)
        rates.append((analyse_cube(x, w, params=params).units[schema.MK_P] < 0.05).mean())
    return float(np.mean(rates))


def test_trend_test_holds_its_size_under_a_stationary_null():
    """The default trend (Mann-Kendall on the time-window-0 Gi* z) calls 5% +/- 2 points of stationary
    cells at 5%; ArcGIS's series (space-time z, time window 1) calls about three times that."""
    default = _null_false_trend_rate("spatial_z")
    assert 0.03 <= default <= 0.07, default
    assert 0.03 <= _null_false_trend_rate("counts") <= 0.07
    assert _null_false_trend_rate("arcgis", replicates=2) > 0.10  # why it is not the default


def test_trend_test_names_and_equivalences(h3_w):
    x = np.random.default_rng(3).poisson(3.0, (h3_w.shape[0], 24)).astype(float)
    z0 = gi_star(x, h3_w, time_window=0).z
    default = analyse_cube(x, h3_w).units
    assert_allclose(default[schema.MK_P], mann_kendall(z0)[schema.MK_P])
    arcgis = analyse_cube(x, h3_w, params=HotspotParams(trend_test="arcgis")).units
    assert_allclose(arcgis[schema.MK_P], mann_kendall(gi_star(x, h3_w, time_window=1).z)[schema.MK_P])
    same = analyse_cube(x, h3_w, params=HotspotParams(time_window=0, trend_test="arcgis")).units
    assert_allclose(same[schema.MK_P], default[schema.MK_P])
    counts = analyse_cube(x, h3_w, params=HotspotParams(trend_test="counts")).units
    assert_allclose(counts[schema.MK_P], mann_kendall(x)[schema.MK_P])
    with pytest.raises(ParameterError, match="trend_test"):
        HotspotParams(trend_test="mk")
