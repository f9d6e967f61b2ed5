"""Back-testing: measures on hand-worked examples, the PAI denominator, rolling splits, the bandwidth sweep."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import h3
import shapely
from numpy.testing import assert_allclose
from scipy import sparse
from scipy.stats import rankdata

from _synthetic import incidents
from geo_csp import backtest, boundaries, predict
from geo_csp.cube import CubeParams
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


def test_pai_denominator_is_the_study_area_and_cells_are_clipped_to_it():
    """Four 100 m squares in a row; the study area ends half-way through the fourth.

    Clipped areas: 10,000, 10,000, 10,000 and 5,000 m2, so A = 35,000 m2 (not the 40,000 of the
    squares). Future counts 6, 2, 1, 1 (N = 10). A 2/7 budget is 10,000 m2: unit 0 alone, hit rate
    0.6, a/A = 10,000 / 35,000, PAI = 0.6 x 3.5 = 2.1 (2.4 with the squares' area). A 3/7 budget
    (15,000 m2) with unit 3 ranked second takes units 0 and 3: 7/10 of the crime in 15,000 m2,
    PAI = 0.7 / (3/7) = 1.6333.
    """
    squares = shapely.box(np.arange(4) * 100.0, 0.0, np.arange(1, 5) * 100.0, 100.0)
    study = shapely.box(0.0, 0.0, 350.0, 100.0)
    area = predict.clipped_areas(squares, study)
    assert_allclose(area, [1e4, 1e4, 1e4, 5e3])
    future = np.array([6.0, 2.0, 1.0, 1.0])
    total = shapely.area(study)
    sel = backtest.select_by_area(np.array([9.0, 1.0, 0.0, 0.5]), area, area_share=2 / 7, total_area_m2=total)
    assert sel.tolist() == [True, False, False, False]
    m = backtest.evaluate_selection(sel, future, area, total_area_m2=total)
    assert_allclose([m["hit_rate"], m["area_share"], m["pai"]], [0.6, 2 / 7, 2.1], rtol=1e-12)
    unclipped = backtest.evaluate_selection(sel, future, shapely.area(squares))
    assert_allclose(unclipped["pai"], 2.4, rtol=1e-12)  # what the old denominator said
    sel = backtest.select_by_area(np.array([9.0, 0.0, 0.0, 5.0]), area, area_share=3 / 7, total_area_m2=total)
    assert sel.tolist() == [True, False, False, True]
    m = backtest.evaluate_selection(sel, future, area, total_area_m2=total, area_share=3 / 7)
    assert_allclose(m["pai"], 0.7 / (3 / 7), rtol=1e-12)
    # PAI_max within 15,000 m2: densest first is unit 0 (6 per 10,000 m2), then unit 1 (2 per 10,000,
    # tied in density with unit 3 and ahead on count), which would make 20,000 m2: unit 0 alone,
    # PAI 2.1; so PEI = 1.6333 / 2.1 = 0.7778
    assert_allclose(m["pei"], (0.7 / (3 / 7)) / 2.1, rtol=1e-12)


def test_the_area_budget_is_the_same_square_metres_at_every_resolution(planted):
    borough = boundaries.load_borough()
    a = shapely.area(borough.geometry.iloc[0])
    for res in (8, 9):
        result = backtest.rolling_backtest(
            planted, study_area=borough, resolution=res, n_splits=2, area_shares=(0.05,), methods=("counts",)
        )
        assert_allclose(result.metadata["study_area_m2"], a, rtol=1e-9)
        assert_allclose(result.metadata["units_area_m2"], a, rtol=1e-6)  # clipped cells tile the borough
        assert (result.splits["area_share"] <= 0.05 + 1e-9).all()


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
    # budget 40% of 10 = 4: unit 0 (5) does not fit, but the top unit is always kept
    assert backtest.select_by_area(scores, area, area_share=0.4).tolist() == [True, False, False, False]
    # budget 70% = 7: units 0, 1 (cum 6), unit 2 would make 7: kept (<=)
    assert backtest.select_by_area(scores, area, area_share=0.7).tolist() == [True, True, True, False]
    # ties broken by the tie-break values
    assert backtest.select_by_area(
        np.array([1.0, 1.0]), np.ones(2), area_share=0.5, tiebreak=np.array([0.0, 3.0])
    ).tolist() == [False, True]
    with pytest.raises(ParameterError, match="area_share"):
        backtest.select_by_area(scores, area, area_share=0)


def test_rolling_splits_never_train_on_a_test_month():
    for n_months, horizon in ((36, 1), (36, 3), (5, 1), (12, 3)):
        splits = backtest.rolling_splits(n_months, n_splits=12, horizon_months=horizon)
        assert len(splits) == min(12, n_months - horizon - 1)
        for train, test in splits:
            assert len(test) == horizon and train.size >= 2
            assert train.max() < test.min() and not set(train) & set(test)
            assert train.tolist() == list(range(test[0]))  # every earlier month, no gap
        assert splits[-1][1][-1] == n_months - 1  # the last split ends with the data
    assert [t[0] for _, t in backtest.rolling_splits(36)] == list(range(24, 36))
    with pytest.raises(ParameterError, match="2 months of history"):
        backtest.rolling_splits(2)


def _inputs(n: np.ndarray, *, side: int) -> predict.PredictionInputs:
    """A side x side grid of 100 m cells with rook neighbours."""
    ij = np.array([(i, j) for j in range(side) for i in range(side)], dtype=float)
    idx = np.arange(side * side).reshape(side, side)
    rows = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    cols = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    w = sparse.csr_matrix((np.ones(rows.size * 2), (np.r_[rows, cols], np.r_[cols, rows])), shape=(side**2,) * 2)
    return predict.PredictionInputs(
        n=n,
        w=w,
        centroids=ij * 100 + 50,
        area_m2=np.full(side * side, 1e4),
        month_of_year=np.arange(n.shape[1]) % 12 + 1,
    )


def test_no_predictor_reads_the_months_it_predicts():
    rng = np.random.default_rng(1)
    n = rng.poisson(rng.gamma(1.0, 1.0, size=(64, 1)), size=(64, 20)).astype(float)
    clean = _inputs(n, side=8)
    for end in (6, 14):
        poisoned = n.copy()
        poisoned[:, end:] = rng.poisson(50.0, size=poisoned[:, end:].shape)
        dirty = _inputs(poisoned, side=8)
        for name in predict.predictor_names(clean):
            assert_allclose(
                predict.score(name, dirty, end),
                predict.score(name, clean, end),
                rtol=1e-12,
                err_msg=f"{name} at month {end} read a later month",
            )


def test_a_learned_fit_of_the_same_inputs_is_made_once_and_each_caller_gets_its_own_copy(monkeypatch):
    rng = np.random.default_rng(11)
    n = rng.poisson(rng.gamma(1.0, 1.0, size=(49, 1)), size=(49, 18)).astype(float)
    fits: list[int] = []
    fit = predict._fit_learned

    def counted(inputs: predict.PredictionInputs, end: int) -> np.ndarray:
        fits.append(end)
        return fit(inputs, end)

    monkeypatch.setattr(predict, "_fit_learned", counted)
    monkeypatch.setattr(predict, "_LEARNED_FITS", type(predict._LEARNED_FITS)())
    first = predict.score("learned", _inputs(n, side=7), 15)
    again = predict.score("learned", _inputs(n.copy(), side=7), 15)  # new inputs, same data: not fitted again
    assert fits == [15]
    assert_allclose(again, first, rtol=0)
    assert again is not first and again.flags.writeable
    again[:] = -1.0  # a caller writing to its scores does not change the next caller's
    assert_allclose(predict.score("learned", _inputs(n, side=7), 15), first, rtol=0)
    # the kept scores are those of a fit made now
    assert_allclose(fit(_inputs(n, side=7), 15), first, rtol=0)
    # any change to what a fit reads is a new fit: a count, the month, the neighbours, the calendar, a parameter
    changed = n.copy()
    changed[3, 2] += 1
    predict.score("learned", _inputs(changed, side=7), 15)
    predict.score("learned", _inputs(n, side=7), 14)
    rook = _inputs(n, side=7)
    sparser = sparse.csr_matrix(rook.w.multiply(rng.random(rook.w.shape) > 0.3))
    predict.score("learned", dataclasses.replace(rook, w=sparser, _cache={}), 15)
    predict.score("learned", dataclasses.replace(rook, month_of_year=(rook.month_of_year % 12) + 1, _cache={}), 15)
    predict.score("learned", dataclasses.replace(rook, params=predict.PredictParams(seed=1), _cache={}), 15)
    assert fits == [15, 15, 14, 15, 15, 15]
    # only the most recently used fits are kept
    monkeypatch.setattr(predict, "LEARNED_FITS_KEPT", 2)
    predict.score("learned", _inputs(n, side=7), 13)
    assert len(predict._LEARNED_FITS) == 2


def test_ensemble_averages_the_ranks_of_every_ewma_half_life_and_the_learned_model():
    rng = np.random.default_rng(5)
    n = rng.poisson(rng.gamma(1.0, 1.0, size=(36, 1)), size=(36, 16)).astype(float)
    inputs = _inputs(n, side=6)
    assert predict.ensemble_members(inputs) == ("ewma_3m", "ewma_6m", "ewma_12m", "learned")
    end = 12
    ranks = [rankdata(predict.score(m, inputs, end)) / 36 for m in predict.ensemble_members(inputs)]
    assert_allclose(predict.score("ensemble", inputs, end), np.mean(ranks, axis=0), rtol=1e-12)
    # known answer on the EWMA members alone: 3 units, months 0..2, half-life 1 month -> weights 1/4, 1/2, 1
    tiny = predict.PredictionInputs(
        n=np.array([[4.0, 0.0, 0.0], [0.0, 0.0, 1.5], [0.0, 2.0, 0.0]]),
        w=sparse.csr_matrix(np.ones((3, 3))),
        centroids=np.zeros((3, 2)),
        area_m2=np.ones(3),
        month_of_year=np.array([1, 2, 3]),
        params=predict.PredictParams(ewma_half_lives_months=(1.0,)),
    )
    assert_allclose(predict.score("ewma_1m", tiny, 3), [1.0, 1.5, 1.0])


def test_bandwidth_sweep_is_tied_to_cell_size_and_the_best_is_reported():
    rng = np.random.default_rng(3)
    side = 12
    rate = np.full(side * side, 0.05)
    rate[[30, 31, 42, 43, 100]] = [3.0, 2.0, 2.5, 1.5, 4.0]  # a tight cluster and a single hot cell
    n = rng.poisson(rate[:, None], size=(side * side, 15)).astype(float)
    inputs = _inputs(n, side=side)
    assert inputs.spacing_m == 100.0
    assert inputs.bandwidths_m == (100.0, 200.0, 400.0)  # 1, 2, 4 x the 100 m spacing
    assert predict.kde_names(inputs) == ("kde_100m", "kde_200m", "kde_400m")
    result = backtest.rolling_backtest_inputs(
        inputs,
        month_labels=[f"2022-{m:02d}" for m in range(1, 13)] + ["2023-01", "2023-02", "2023-03"],
        splits=backtest.rolling_splits(15, n_splits=6),
        area_shares=(0.05,),
    )
    kde = {m: result.row(m)["pai_mean"] for m in predict.kde_names(inputs)}
    best = max(kde, key=kde.get)
    assert result.metadata["kde_best"] == {"0.05": best}
    assert_allclose(result.row("kde")["pai_mean"], kde[best])
    assert kde["kde_100m"] > kde["kde_400m"]  # wide kernels smear tight hot cells into their empty neighbours
    ewma = {m: result.row(m)["pai_mean"] for m in predict.ewma_names(inputs)}
    assert_allclose(result.row("ewma")["pai_mean"], max(ewma.values()))


def test_pick_predictor_leaves_the_ensemble_only_for_a_clear_winner():
    names = ("counts", "ewma_6m", "ensemble")
    close = pd.DataFrame(
        {"counts": [5.0, 5.2, 4.9, 5.1], "ewma_6m": [5.1, 5.0, 5.0, 5.0], "ensemble": [5.0, 5.1, 5.0, 5.0]}
    )
    assert backtest.pick_predictor(close, names) == "ensemble"
    clear = close.assign(counts=close["ensemble"] + [0.5, 0.6, 0.55, 0.5])
    assert backtest.pick_predictor(clear, names) == "counts"
    assert backtest.pick_predictor(clear.iloc[:2], names) == "ensemble"  # too few splits to switch


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
    assert {"counts", "ewma", "kde", "gi_mean", "learned", "ensemble"} <= set(table["method"])
    assert list(table.columns) == [
        "method",
        "area_share_target",
        "hit_rate",
        "pai",
        "area_share",
        "n_units",
        "ppai",
        "rri",
        "pei",
    ]
    five = table[table["area_share_target"] == 0.05].set_index("method")
    # the cluster (~20% of crime in well under 1% of the area) is found by every predictor
    assert (five["pai"] > 3).all()
    assert (five["area_share"] <= 0.05 + 1e-9).all()
    assert table.attrs["train_months"] == 8 and table.attrs["test_months"] == 4
    assert not table.attrs["lattice"]["flag"]
    with pytest.raises(ParameterError, match="split 2022-01"):
        backtest.backtest(planted, split="2022-01")


def test_rolling_backtest_summary_and_evidence_sentence(planted):
    result = backtest.rolling_backtest(planted, study_area=boundaries.load_borough(), resolution=9, area_shares=(0.05,))
    assert result.metadata["test_months"] == [f"2022-{m:02d}" for m in range(3, 13)]  # 10 splits after 2 months
    counts = result.row("counts")
    assert counts["n_splits"] == 10 and counts["beats_counts"] == 0
    assert {"hit_rate_mean", "hit_rate_sd", "pai_mean", "pai_sd", "pei_mean", "rri_mean"} <= set(result.summary)
    default = result.row("default")
    per_split = result.splits[result.splits["method"] == "default"]
    assert_allclose(default["pai_mean"], per_split["pai"].mean())
    text = result.sentence()
    assert text.startswith("On your data, over the last 10 rolling months, this selection found ")
    assert f"counts alone found {counts['hit_rate_mean']:.0%}" in text
    choice = result.choice()
    assert choice["predictor"] in result.metadata["candidates"] and choice["n_splits"] == 10


def test_the_snap_point_lattice_is_flagged():
    """Each fine cell holds one snap point that repeats every month: counts find ~all of next month."""
    rng = np.random.default_rng(7)
    borough = boundaries.load_borough()
    snaps = np.column_stack([rng.uniform(378_000, 382_000, 40), rng.uniform(408_000, 412_000, 40)])
    pick = rng.integers(0, 40, 2400)
    months = np.array([f"2022-{m:02d}" for m in range(1, 13)], dtype=object)[rng.integers(0, 12, 2400)]
    inc = incidents(snaps[pick, 0], snaps[pick, 1], months)
    result = backtest.rolling_backtest(
        inc, study_area=borough, resolution=11, n_splits=3, area_shares=(0.05,), methods=("counts",)
    )
    lattice = result.metadata["lattice"]
    assert lattice["flag"] and lattice["median_snap_points"] == 1
    assert "snap-point lattice" in result.sentence(method="counts")


def test_resolution_sweep(planted):
    sweep = backtest.resolution_sweep(
        planted,
        resolutions=(8, 9),
        study_area=boundaries.load_borough(),
        n_splits=3,
        methods=("counts", "ewma_6m", "gi_mean"),
    ).rows
    assert sweep["resolution"].tolist() == [8, 9]
    assert sweep["n_units"].is_monotonic_increasing
    assert {"pai_gi_mean", "pai_counts", "pai_ewma", "pai_default", "lattice"} <= set(sweep.columns)
    # the share of the study area really selected: whole cells, at most the budget, near it at fine cells
    assert (sweep["area_share_counts"] <= 0.05 + 1e-9).all() and sweep["area_share_counts"].iloc[-1] > 0.045


def test_sweep_is_bounded_and_printed(planted, capsys):
    from geo_csp import grid
    from geo_csp.cli.hotspots_cmd import _print_sweep, _sweep

    county = shapely.box(350_000, 380_000, 410_000, 430_000)  # 3,000 km2 around Bury: res 11 would be 1.4M cells
    rows, skipped, bound = _sweep(planted, county, area_share=0.05, n_splits=2, methods=("counts",))
    assert [r["resolution"] for r in rows] == [7, 8, 9]  # res 10: ~200,000 cells, res 11: ~1.4M
    assert [n.split(":")[0] for n in skipped] == ["resolution 10 skipped", "resolution 11 skipped"]
    assert "split the area" in skipped[0]
    assert (
        3.0e9 / h3.average_hexagon_area(9, unit="m^2")
        < grid.PATROL_MAX_CELLS
        < 3.0e9 / h3.average_hexagon_area(10, unit="m^2")
    )
    assert bound["max_cells"] == grid.PATROL_MAX_CELLS and "at most 150,000 cells" in bound["rule"]
    _print_sweep(rows, area_share=0.05)
    text = capsys.readouterr().out
    assert "area really selected" in text and "resolution sweep" in text


def test_snap_spacing_is_the_median_distance_to_the_nearest_distinct_point():
    # a 100 m grid of 5 x 4 snap points, each repeated 3 times, and one point 30 m from a corner
    gx, gy = np.meshgrid(np.arange(5) * 100.0, np.arange(4) * 100.0)
    x, y = np.r_[np.repeat(gx.ravel(), 3), -30.0], np.r_[np.repeat(gy.ravel(), 3), 0.0]
    # 19 grid points at 100 m from their nearest, the corner and the extra point at 30 m: median 100
    assert backtest.snap_spacing_m(x, y) == pytest.approx(100.0)
    assert np.isnan(backtest.snap_spacing_m(np.array([1.0, 1.0]), np.array([2.0, 2.0])))  # one distinct point


def test_sweep_plan_states_and_applies_both_bounds():
    from geo_csp import grid

    county = shapely.box(0, 0, 60_000, 50_000)  # 3,000 km2
    kept, skipped, bound = backtest.sweep_plan(county, snap_spacing=77.0)
    # res 10: 3e9 / 15,047 m2 = ~199,000 cells (more than 150,000); res 11 (50 m across) is finer than 77 m
    # and also has ~1.4M cells: the cell cap is the reason given first
    assert kept == [7, 8, 9] and skipped["resolution"].tolist() == [10, 11]
    assert skipped["n_cells"].iloc[0] == pytest.approx(3e9 / h3.average_hexagon_area(10, unit="m^2"))
    assert all("more than 150,000" in r for r in skipped["reason"])
    town = shapely.box(0, 0, 10_000, 10_000)  # 100 km2: res 11 is 46,500 cells, within the cap
    kept, skipped, bound = backtest.sweep_plan(town, snap_spacing=77.0)
    assert kept == [7, 8, 9, 10] and skipped["resolution"].tolist() == [11]
    assert skipped["cell_across_m"].iloc[0] == pytest.approx(grid.cell_across_m(11))
    assert grid.cell_across_m(11) < 77.0 < grid.cell_across_m(10)
    assert "less than the 77 m between the data's snap points" in skipped["reason"].iloc[0]
    assert bound == {
        "max_cells": 150_000,
        "snap_spacing_m": 77.0,
        "rule": "swept: resolutions giving at most 150,000 cells over the study area whose cells are at least "
        "as wide as the data's snap points are apart (77 m, median)",
    }
    kept, skipped, bound = backtest.sweep_plan(county, snap_spacing=float("nan"), max_cells=None)
    assert kept == [7, 8, 9, 10, 11] and skipped.empty and bound["rule"].endswith("any number of cells")
    with pytest.raises(ParameterError, match="max_cells"):
        backtest.sweep_plan(town, snap_spacing=77.0, max_cells=0)


def test_resolution_sweep_honours_the_bound_reuses_done_runs_and_reports_progress(planted):
    borough = boundaries.load_borough()
    area_km2 = float(borough.area.iloc[0]) / 1e6  # about 99 km2: res 11 is ~46,000 cells
    assert 40_000 < area_km2 * 1e6 / h3.average_hexagon_area(11, unit="m^2") < 50_000
    common = dict(study_area=borough, n_splits=2, methods=("counts",))
    done = {9: backtest.rolling_backtest(planted, resolution=9, area_shares=(0.05,), **common)}
    calls: list[tuple[int, int, int]] = []
    sweep = backtest.resolution_sweep(
        planted,
        resolutions=(8, 9, 10, 11),
        max_cells=20_000,  # res 11 has more: skipped
        done=done,
        progress=lambda *a: calls.append(a),
        **common,
    )
    assert sweep.rows["resolution"].tolist() == [8, 9, 10] and sweep.skipped["resolution"].tolist() == [11]
    assert calls == [(0, 3, 8), (1, 3, 9), (2, 3, 10)]
    row9 = sweep.rows.set_index("resolution").loc[9]
    assert row9["pai_counts"] == done[9].row("counts", area_share=0.05)["pai_mean"]
    # 3,800 points on a 50 m grid over 99 km2: the median distinct point has its nearest 2 x 1 steps away
    assert sweep.bound["snap_spacing_m"] == pytest.approx(np.hypot(100.0, 50.0))
    # the bound is honoured: no resolution past the cap or finer than the snap points is ever run
    assert (sweep.rows["n_units"] <= 20_000).all()
    tight = backtest.resolution_sweep(planted, resolutions=(9, 10), max_cells=5_000, **common)
    assert tight.rows["resolution"].tolist() == [9] and "more than 5,000" in tight.skipped["reason"].iloc[0]


def test_kde_kernel_keeps_only_occupied_columns_and_equals_the_full_kernel():
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 2000, size=(300, 2))
    n = np.zeros((300, 6))
    n[rng.integers(0, 300, 40), rng.integers(0, 6, 40)] = rng.integers(1, 5, 40)
    inputs = predict.PredictionInputs(
        n=n,
        w=sparse.identity(300, format="csr"),
        centroids=centres,
        area_m2=np.full(300, 1e4),
        month_of_year=np.arange(6) % 12 + 1,
    )
    h = 250.0
    d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    full = np.where(d <= inputs.params.kde_cutoff_sd * h, np.exp(-0.5 * (d / h) ** 2), 0.0)
    np.fill_diagonal(full, 1.0)
    k = inputs.kernel(h)
    occupied = n.sum(axis=1) > 0
    assert_allclose(k.toarray()[:, occupied], full[:, occupied], rtol=1e-12, atol=0)
    assert k[:, ~occupied].nnz == 0
    counts = n[:, :4].sum(axis=1)
    assert_allclose(k @ counts, full @ counts, rtol=1e-12)


def test_priority_scores_pick_by_back_test_add_up_and_are_cached(planted, tmp_path):
    from geo_csp import hotspot_run, schema

    borough = boundaries.load_borough()
    result = hotspot_run.run_hotspots(planted, cube_params=CubeParams(resolution=9), study_area=borough)
    ranked = backtest.add_priority(result, study_area=borough, cache_dir=tmp_path)
    meta = ranked.metadata["priority"]
    assert meta["predictor"] in {r["method"] for r in meta["summary"]} and meta["settings"]["area_share"] == 0.05
    assert meta["evidence"].startswith("On your data, over the last 10 rolling months")
    units = ranked.units
    # expected incidents next month: they add up to the mean monthly total of the last 3 months
    assert_allclose(units[schema.PREDICTED_N].sum(), result.cube.n[:, -3:].sum() / 3, rtol=1e-9)
    assert (units[schema.PREDICTED_N] >= 0).all()
    by_area = units.groupby(schema.AREA_ID)[schema.PREDICTED_N].sum()
    assert_allclose(ranked.areas[schema.PREDICTED_N], ranked.areas[schema.AREA_ID].map(by_area))
    assert ranked.areas[schema.AREA_ID].tolist() == result.areas[schema.AREA_ID].tolist()  # same patrollable areas
    # the town-centre cluster holds the most expected crime
    top = units.sort_values(schema.PREDICTED_N, ascending=False).iloc[0]
    assert shapely.distance(top.geometry, shapely.Point(380_400, 410_900)) < 400
    assert len(list(tmp_path.glob("priority-*.json"))) == 1
    again = backtest.add_priority(result, study_area=borough, cache_dir=tmp_path)  # from the cache: same choice
    assert again.metadata["priority"]["predictor"] == meta["predictor"]
    assert_allclose(again.units[schema.PREDICTED_N], units[schema.PREDICTED_N])
    named = backtest.add_priority(result, study_area=borough, predictor="counts")
    assert named.metadata["priority"]["evidence"] is None
    with pytest.raises(ParameterError, match="unknown predictor"):
        backtest.add_priority(result, predictor="crystal_ball")


def test_a_run_by_quarter_gets_no_priority_score_and_says_why(planted, tmp_path):
    from geo_csp import hotspot_run, schema

    borough = boundaries.load_borough()
    result = hotspot_run.run_hotspots(
        planted, cube_params=CubeParams(resolution=9, period="quarter"), study_area=borough
    )
    out = backtest.add_priority(result, study_area=borough, cache_dir=tmp_path)
    assert schema.PREDICTED_N not in out.units.columns and schema.PREDICTED_N not in out.areas.columns
    assert (
        "forecasts the next month" in out.metadata["priority"]["note"] and out.metadata["priority"]["evidence"] is None
    )
    assert "priority" not in result.metadata and not list(tmp_path.iterdir())  # the input run is left as it was
