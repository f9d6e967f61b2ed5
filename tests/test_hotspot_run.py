"""The hotspot pipeline: output contract, metadata, stable ids, demo truth and real data end to end."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import pandas as pd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal

from _synthetic import random_incidents, read_points_csv
from geo_csp import areas, backtest, boundaries, hotspot_run, schema
from geo_csp.cube import CubeParams
from geo_csp._errors import ParameterError
from geo_csp.settings import WORKING_CRS


@pytest.fixture(scope="module")
def result():
    return hotspot_run.run_hotspots(
        random_incidents(3000, seed=2, months=12),
        cube_params=CubeParams(unit="h3", resolution=9),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
    )


def test_unit_contract(result):
    u = result.units
    assert list(u.columns) == [*hotspot_run.UNIT_COLUMNS, "geometry"]
    assert u.crs == WORKING_CRS and u[schema.UNIT_ID].is_unique and len(u) == len(result.cube.units)
    assert u[schema.N].dtype == np.float64 and u[schema.GI_Z].dtype == np.float64
    assert_allclose(u[schema.N].sum(), result.cube.n.sum())
    assert u[schema.GI_P].between(0, 1).all() and u[schema.EXPLANATION].str.len().gt(10).all()
    in_area = u[schema.AREA_ID].notna()
    assert set(u.loc[in_area, schema.AREA_ID]) == set(result.areas[schema.AREA_ID])
    for key in ("alpha", "fdr", "time_window", "k"):
        assert key in result.metadata["hotspot_params"]
    assert result.metadata["resolution"] == 9 and result.metadata["unit"] == "h3"
    json.dumps(result.metadata)  # every parameter is JSON-serialisable


def test_ward_units_carry_rates():
    r = hotspot_run.run_hotspots(random_incidents(2000, seed=4, months=12), cube_params=CubeParams(unit="ward"))
    u = r.units.set_index(schema.UNIT_ID)
    # 12 months analysed: the yearly rate is the window's count per 1,000 residents
    assert r.metadata["rate_months"] == 12
    assert_allclose(u[schema.RATE_PER_1000], u[schema.N] * 1000 / u[schema.POPULATION] * 12 / 12)
    assert (u[schema.WARD_CODE] == u.index).all()


def test_ids_stable_with_one_more_month():
    inc = random_incidents(4000, seed=7, months=13)
    first = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(unit="h3", resolution=9, months=("2021-01", "2021-12")),
        study_area=boundaries.load_borough(),
    )
    second = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(unit="h3", resolution=9, months=("2021-01", "2022-01")),
        study_area=boundaries.load_borough(),
        previous_areas=first.areas,
    )
    matched = {m["area_id"] for m in second.area_changes["matched"]}
    assert matched and matched <= set(first.areas[schema.AREA_ID])
    # every previous area is either matched or reported vanished; every new one continuing or new
    assert matched | set(second.area_changes["vanished"]) == set(first.areas[schema.AREA_ID])
    assert set(second.areas[schema.AREA_ID]) == matched | set(second.area_changes["new"])
    biggest = first.areas.iloc[0]
    again = second.areas[second.areas.intersects(biggest.geometry.representative_point())]
    assert again[schema.AREA_ID].tolist() == [biggest[schema.AREA_ID]]


# ------------------------------------------------------------------------------------------------
# Demo borough: the area rules (the planted truth itself: tests/test_demo.py)
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(demo_borough):
    from geo_csp import store

    paths = demo_borough
    inc = store.read_incidents(paths.store_dir, located_only=True, sources=[schema.SOURCE_STREET])
    res = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(unit="h3"),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
    )
    return res, inc


@pytest.mark.slow
def test_area_params_reach_the_areas_and_the_metadata(demo):
    res, inc = demo
    assert res.metadata["area_params"] == areas.AreaParams().to_dict()
    assert res.metadata["area_classes"] == list(areas.AREA_CLASSES)
    # every month hot: only units hot throughout may join an area, so fewer units in areas than by default
    n_periods = len(res.metadata["period_labels"])
    strict = areas.AreaParams(min_hot_periods=n_periods)
    rerun = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(unit="h3"),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
        area_params=strict,
    )
    assert rerun.metadata["area_params"]["min_hot_periods"] == n_periods
    in_areas = res.units[schema.AREA_ID].notna()
    strict_in_areas = rerun.units[schema.AREA_ID].notna()
    assert 0 < strict_in_areas.sum() < in_areas.sum()
    assert (res.units.loc[strict_in_areas.to_numpy(), schema.AREA_ID].notna()).all()  # a subset of the default's


@pytest.mark.slow
def test_every_demo_area_says_when_it_started_was_named_and_the_latest_police_uk_month(demo, demo_borough):
    from geo_csp import store

    res, inc = demo
    latest = store.latest_police_uk_month(demo_borough.store_dir)
    assert latest == inc[schema.MONTH].max() == res.metadata["latest_police_uk_month"]
    frame = res.areas[[schema.AREA_ID, *areas.TIMELINE_COLUMNS]]
    assert len(frame) == 4 and (frame[areas.LATEST_POLICE_UK_MONTH] == latest).all()
    labels = res.metadata["period_labels"]
    for rec in frame.to_dict("records"):  # named no earlier than started, by the min-hot-periods rule
        start, named = labels.index(rec[areas.PROBLEM_STARTED]), labels.index(rec[areas.FIRST_NAMED])
        assert rec[areas.NAMING_DELAY] == named - start >= 0
        members = (res.units[schema.AREA_ID] == rec[schema.AREA_ID]).to_numpy()
        hot = res.analysis.hot_cold[members] == 1
        assert hot[:, start].any() and not hot[:, :start].any()
        assert (hot[:, : named + 1].sum(axis=1) >= 3).any() and not (hot[:, :named].sum(axis=1) >= 3).any()
    assert "latest month in the data from police.uk is " + latest in res.metadata["timeline_rule"]


# ------------------------------------------------------------------------------------------------
# Real data (skipped when the shared folder is absent)
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_bury_burglary_end_to_end(real_file):
    inc = read_points_csv(real_file("gmp-burglary-2016-2019", "bury_burglary_points_2016-02_to_2019-01.csv.gz"))
    borough = boundaries.load_borough()
    res = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(unit="h3"),
        study_area=borough,
        wards=boundaries.load_wards(year=2017),
        named_places=boundaries.load_named_places(),
    )
    assert res.cube.n.sum() == len(inc)  # every row lies in Bury
    wards = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward"), units=boundaries.load_wards(year=2017))
    assert wards.cube.n.sum() == len(inc)
    table = backtest.backtest(inc, split="2018-02", study_area=borough)
    five = table[table["area_share_target"] == 0.05].set_index("method")
    print(
        "\nBury burglary areas:\n" + res.areas[[schema.AREA_ID, schema.AREA_NAME, schema.PATTERN, schema.N]].to_string()
    )
    print("back-test 2018-02, 5% of area:\n" + five[["pai", "hit_rate", "rri", "pei"]].to_string())
    assert len(res.areas) >= 1
    assert (five["pai"] > 1).all()


@pytest.mark.slow
def test_real_lancashire_asb_end_to_end(real_file):
    inc = read_points_csv(
        real_file("lancashire-asb-2022", "lancashire_asb_2022_points.csv.gz"),
        month="month",
        crime_type="crime_type",
        lon="longitude",
        lat="latitude",
        location="location",
    )
    wards = gpd.read_file(real_file("lancashire-asb-2022", "lancashire_wards_2022.gpkg")).to_crs(WORKING_CRS)
    pop = boundaries.read_population(
        real_file("lancashire-asb-2022", "lancashire_ward_population_mid2020.csv"),
        code_col="gss_code",
        population_col="population",
    )
    wards = wards.assign(population=wards["ward_code"].map(pop))
    blackburn = shapely.box(
        *gpd.GeoSeries.from_xy([-2.56, -2.42], [53.70, 53.78], crs="EPSG:4326").to_crs(WORKING_CRS).total_bounds
    )
    res = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="h3", resolution=10), study_area=blackburn, wards=wards
    )
    by_ward = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward"), units=wards)
    assert 0.95 * len(inc) <= by_ward.cube.n.sum() <= len(inc)  # ward polygons are generalised
    assert res.areas[schema.AREA_NAME].str.contains(": around ").any()
    assert not res.areas[schema.AREA_NAME].str.contains("On or near").any()
    table = backtest.backtest(inc, split="2022-07", study_area=blackburn, resolution=10)
    five = table[table["area_share_target"] == 0.05].set_index("method")
    print(
        "\nBlackburn ASB areas (top 10):\n"
        + res.areas[[schema.AREA_ID, schema.AREA_NAME, schema.PATTERN, schema.N]].head(10).to_string()
    )
    print("back-test 2022-07, 5% of area:\n" + five[["pai", "hit_rate", "rri", "pei"]].to_string())
    assert (five["pai"] > 1).all()


# ------------------------------------------------------------------------------------------------
# Weights choice: distance band on unit centroids, validated, recorded in metadata
# ------------------------------------------------------------------------------------------------
SIDE_M = 500.0
ORIGIN = (379_000.0, 409_000.0)  # inside Bury


def _squares(n_cols=5, n_rows=4, *, extra=()):
    """A ward-like grid of SIDE_M squares (row-major codes W00..), population 1000 + 100 x position."""
    from shapely.geometry import box

    x0, y0 = ORIGIN
    boxes = [
        box(x0 + i * SIDE_M, y0 + j * SIDE_M, x0 + (i + 1) * SIDE_M, y0 + (j + 1) * SIDE_M)
        for j in range(n_rows)
        for i in range(n_cols)
    ] + list(extra)
    codes = [f"W{k:02d}" for k in range(len(boxes))]
    return gpd.GeoDataFrame(
        {
            schema.WARD_CODE: codes,
            schema.WARD_NAME: [f"Ward {c}" for c in codes],
            schema.POPULATION: 1000.0 + 100.0 * np.arange(len(boxes)),
        },
        geometry=boxes,
        crs=WORKING_CRS,
    )


def _incidents_in(squares, *, n=600, months=12, seed=0):
    from _synthetic import incidents

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(squares), size=n)
    pick[: n // 4] = 6  # a hot square
    minx, miny, maxx, maxy = squares.bounds.to_numpy()[pick].T
    x = minx + rng.uniform(0.05, 0.95, n) * (maxx - minx)
    y = miny + rng.uniform(0.05, 0.95, n) * (maxy - miny)
    month = np.array([f"2021-{m + 1:02d}" for m in range(months)], dtype=object)[rng.integers(0, months, size=n)]
    return incidents(x, y, month)


def test_distance_band_equals_queen_and_rook_on_a_square_grid():
    """Hand count on a 5 x 4 grid: a band of 1.5 sides reaches the diagonal squares (queen), one side only
    the edge-sharing ones (rook: 2 at corners, 3 on edges, 4 inside)."""
    sq = _squares().set_index(schema.WARD_CODE, drop=False)
    queen = hotspot_run.unit_weights(sq, unit="ward", weights="queen")
    band = hotspot_run.unit_weights(sq, unit="ward", weights="distance", distance_m=1.5 * SIDE_M)
    assert (queen != band).nnz == 0 and queen.nnz == 2 * (4 * 4 + 5 * 3 + 2 * 4 * 3)
    rook = hotspot_run.unit_weights(sq, unit="ward", weights="distance", distance_m=SIDE_M)
    expected = np.array([[2, 3, 3, 3, 2], [3, 4, 4, 4, 3], [3, 4, 4, 4, 3], [2, 3, 3, 3, 2]]).ravel()
    assert_allclose(np.asarray(rook.sum(axis=1)).ravel(), expected)


def test_distance_band_run_equals_queen_run_and_a_direct_analyse_cube():
    from geo_csp import hotspots, weights

    sq = _squares()
    inc = _incidents_in(sq)
    by_queen = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward"), units=sq, weights="queen")
    by_band = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="ward"), units=sq, weights="distance", distance_m=1.5 * SIDE_M
    )
    assert_allclose(by_band.analysis.z, by_queen.analysis.z, rtol=0, atol=1e-12)
    centroids = gpd.GeoSeries(by_band.cube.units.geometry.centroid, crs=WORKING_CRS)
    direct = hotspots.analyse_cube(
        by_band.cube.n,
        weights.distance_band_weights(centroids, distance_m=750.0),
        params=hotspots.HotspotParams(),
        period_name="month",
    )
    assert_allclose(by_band.analysis.z, direct.z, rtol=0, atol=1e-12)
    assert_allclose(by_band.units[schema.GI_P].to_numpy(), direct.units[schema.GI_P].to_numpy(), atol=1e-12)
    assert (
        by_band.units[schema.PATTERN].astype(str).to_numpy() == direct.units[schema.PATTERN].astype(str).to_numpy()
    ).all()
    m = by_band.metadata
    assert (m["weights"], m["weights_requested"], m["distance_m"], m["n_islands"]) == ("distance", "distance", 750.0, 0)
    assert by_queen.metadata["weights"] == "queen" and by_queen.metadata["distance_m"] is None
    auto = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward"), units=sq)
    assert (auto.metadata["weights"], auto.metadata["weights_requested"]) == ("queen", "auto")
    json.dumps(m)


def test_distance_band_islands_are_reported():
    from shapely.geometry import box

    far = box(ORIGIN[0] + 6000, ORIGIN[1], ORIGIN[0] + 6000 + SIDE_M, ORIGIN[1] + SIDE_M)
    sq = _squares(extra=[far])
    with pytest.warns(UserWarning, match=r"1 of 21 units have no neighbour within distance_m=750 m \(W20\)"):
        res = hotspot_run.run_hotspots(
            _incidents_in(sq), cube_params=CubeParams(unit="ward"), units=sq, weights="distance", distance_m=750.0
        )
    assert res.metadata["n_islands"] == 1 and res.metadata["islands"] == ["W20"]
    assert res.units.loc["W20", schema.GI_Z] == 0.0 and res.units.loc["W20", schema.GI_P] == 1.0


def test_distance_band_on_h3_cells():
    inc = random_incidents(1500, seed=5, months=6)
    ring = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="h3", resolution=8))
    band = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="h3", resolution=8), weights="distance", distance_m=1000.0
    )
    assert band.metadata["weights"] == "distance" and band.metadata["distance_m"] == 1000.0
    assert ring.metadata["weights"] == "h3" and ring.metadata["distance_m"] is None
    # resolution-8 centres are ~800 m apart: a 1 km band finds each cell's ring-1 neighbours
    w_ring = hotspot_run.unit_weights(ring.cube.units, unit="h3", k=1)
    w_band = hotspot_run.unit_weights(band.cube.units, unit="h3", weights="distance", distance_m=1000.0)
    assert (w_ring != w_band).nnz == 0


@pytest.mark.parametrize(
    ("unit", "kwargs", "match"),
    [
        ("ward", {"weights": "distance"}, r"`weights='distance'` needs `distance_m`"),
        ("ward", {"weights": "h3"}, r"`weights='h3'` \(H3 k-ring\) needs `unit='h3'`, not 'ward'"),
        ("lsoa", {"weights": "h3"}, r"needs `unit='h3'`, not 'lsoa'"),
        ("h3", {"weights": "queen"}, r"`weights='queen'` is for ward/LSOA polygons"),
        (
            "ward",
            {"weights": "queen", "distance_m": 500.0},
            r"`distance_m` \(500.0\) is only used with `weights='distance'`",
        ),
        ("ward", {"distance_m": 500.0}, r"`distance_m` .* only used with `weights='distance'`"),
        ("ward", {"weights": "distance", "distance_m": -5.0}, r"`distance_m` must be a positive number of metres"),
        ("ward", {"weights": "distance", "distance_m": float("nan")}, r"`distance_m` must be a positive"),
        ("ward", {"weights": "knn"}, r"`weights` must be one of \('auto', 'h3', 'queen', 'distance'\)"),
    ],
)
def test_weights_errors_name_the_argument(unit, kwargs, match):
    from geo_csp._errors import ParameterError

    with pytest.raises(ParameterError, match=match):
        hotspot_run.run_hotspots(random_incidents(50, seed=1, months=2), CubeParams(unit=unit), **kwargs)


# ------------------------------------------------------------------------------------------------
# Ranking
# ------------------------------------------------------------------------------------------------
@pytest.fixture()
def small_units():
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {
            schema.UNIT_ID: ["a", "b", "c", "d"],
            schema.N: [5.0, 9.0, 5.0, 1.0],
            schema.HARM: [10.0, 2.0, 30.0, 4.0],
            schema.RATE_PER_1000: [2.5, 1.0, 0.5, 3.0],
            schema.GI_Z: [-1.2, 2.4, 0.0, 2.4],
        },
        geometry=[Point(i, 0) for i in range(4)],
        index=pd.Index(["a", "b", "c", "d"]),
        crs=WORKING_CRS,
    )


@pytest.mark.parametrize(
    ("by", "ranks"),
    [
        (schema.N, [2, 1, 2, 4]),  # ties share the lowest rank ("min"): 9 -> 1, 5 and 5 -> 2, 1 -> 4
        (schema.HARM, [2, 4, 1, 3]),
        (schema.RATE_PER_1000, [2, 3, 4, 1]),
        (schema.GI_Z, [4, 1, 3, 1]),
    ],
)
def test_rank_units_by_each_measure(small_units, by, ranks):
    before = small_units.copy()
    ranked = hotspot_run.rank_units(small_units, by=by)
    assert ranked[schema.RANK].tolist() == ranks and ranked[schema.RANK].dtype == np.int64
    assert list(ranked.columns) == [*before.columns[:-1], schema.RANK, "geometry"]
    assert ranked.index.equals(before.index) and ranked.crs == before.crs
    pd.testing.assert_frame_equal(small_units, before)  # input untouched
    assert "rank" not in small_units.columns


def test_rank_by_rate_without_population_is_a_denominator_error(small_units, result):
    from geo_csp._errors import DenominatorError, ParameterError, SchemaError

    with pytest.raises(DenominatorError, match=r"no population .* for unit\(s\) \['c'\].*rank them by n, harm or gi_z"):
        hotspot_run.rank_units(small_units.assign(rate_per_1000=[1.0, 2.0, np.nan, 3.0]), by=schema.RATE_PER_1000)
    with pytest.raises(DenominatorError, match="H3 cells have no residents"):
        hotspot_run.rank_units(result.units, by=schema.RATE_PER_1000)  # H3 cells
    assert hotspot_run.rank_units(result.units, by=schema.GI_Z)[schema.RANK].min() == 1
    with pytest.raises(ParameterError, match=r"`by` must be one of \('n', 'harm', 'rate_per_1000', 'gi_z'\)"):
        hotspot_run.rank_units(small_units, by="count")
    with pytest.raises(SchemaError, match="no 'harm' column"):
        hotspot_run.rank_units(small_units.drop(columns=schema.HARM), by=schema.HARM)


# ------------------------------------------------------------------------------------------------
# Annualised rates
# ------------------------------------------------------------------------------------------------
def test_rate_per_1000_is_per_year_over_the_analysed_window():
    """Hand count: 3 incidents in W00 (population 1000) over a 6-month window (three of its months without crime)
    is 3 x 1000 / 1000 x 12 / 6 = 6.0 per 1,000 residents a year; 2 in W01 (1100) is 3.6363..."""
    from _synthetic import incidents

    sq = _squares(2, 1)
    x0, y0 = ORIGIN
    inc = incidents(
        [x0 + 100, x0 + 200, x0 + 300, x0 + 600, x0 + 700],
        [y0 + 100] * 5,
        ["2021-04", "2021-05", "2021-05", "2021-08", "2021-08"],
    )
    res = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward", months=("2021-04", "2021-09")), units=sq)
    assert_allclose(res.units[schema.RATE_PER_1000].to_numpy(), [6.0, 2 * 1000 / 1100 * 2], rtol=1e-12)
    assert res.metadata["rate_months"] == 6
    assert res.metadata["rate_per_1000"].startswith(
        "incidents per 1,000 residents per year: the 6-month total over 2021-04..2021-09"
    )
    q = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="ward", months=("2021-04", "2021-09"), period="quarter"), units=sq
    )
    assert_allclose(q.units[schema.RATE_PER_1000].to_numpy(), res.units[schema.RATE_PER_1000].to_numpy())


def test_shipped_wards_name_areas_only_for_data_in_bury():
    bury = hotspot_run.run_hotspots(
        random_incidents(1500, seed=6, months=6), cube_params=CubeParams(unit="h3", resolution=9)
    )
    assert bury.metadata["wards"].startswith("shipped Bury wards")
    assert bury.units[schema.WARD_NAME].notna().any()
    preston = hotspot_run.run_hotspots(
        random_incidents(1500, seed=6, months=6, centre=(354_000.0, 429_000.0)),
        cube_params=CubeParams(unit="h3", resolution=9),
    )
    assert preston.metadata["wards"] is None
    assert preston.units[schema.WARD_NAME].isna().all()
    assert not preston.areas[schema.WARD_NAME].notna().any()
    assert len(preston.areas) and preston.areas[schema.AREA_NAME].str.startswith("Area: around Street ").all()
    assert preston.areas[schema.AREA_NAME].is_unique


def test_partial_periods_kept_on_request_are_analysed_per_month():
    from geo_csp import hotspots

    inc = random_incidents(3000, seed=4, months=15)  # 2021-01..2022-03: five whole financial quarters
    p = CubeParams(unit="h3", resolution=8, period="quarter")
    kw = dict(study_area=boundaries.load_borough())
    whole = hotspot_run.run_hotspots(inc, p, **kw)
    assert whole.metadata["partial_periods"]["partial"] == [] and len(whole.metadata["period_labels"]) == 5
    assert not any("partial" in w for w in whole.metadata["warnings"])
    inc = inc[inc[schema.MONTH] != "2021-01"]  # the extract now starts mid-quarter
    dropped = hotspot_run.run_hotspots(inc, p, **kw)
    assert any(
        "dropped partial financial quarters Q4 Jan-Mar 2021 (2 of 3 months" in w for w in dropped.metadata["warnings"]
    )
    assert len(dropped.metadata["period_labels"]) == 4
    kept = hotspot_run.run_hotspots(inc, dataclasses.replace(p, partial_periods="keep"), **kw)
    assert kept.metadata["period_months_covered"] == [2, 3, 3, 3, 3]
    w = hotspot_run.unit_weights(kept.cube.units, unit="h3")
    per_month = kept.cube.n / np.array([2.0, 3, 3, 3, 3])
    assert_allclose(kept.analysis.z, hotspots.gi_star(per_month, w, time_window=1).z)


def test_few_periods_and_few_wards_warn():
    inc = random_incidents(3000, seed=5, months=12)
    res = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="ward", period="quarter", months=("2021-04", "2022-03"))
    )
    found = " ".join(res.metadata["warnings"])
    assert "only 4 quarters" in found and "at least 10 periods" in found
    assert f"Gi* on only {len(res.units)} wards" in found
    monthly = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="h3", resolution=8), study_area=boundaries.load_borough()
    )
    assert monthly.metadata["warnings"] == []


@pytest.mark.slow
def test_demo_by_financial_year_analyses_whole_years(demo_borough):
    """The demo's 2023-01..2025-12 by financial year: two whole years; the persistent places stay Persistent."""
    from geo_csp import store

    inc = store.read_incidents(demo_borough.store_dir, located_only=True)
    res = hotspot_run.run_hotspots(
        inc,
        cube_params=CubeParams(period="year"),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
    )
    assert res.metadata["period_labels"] == ["2023/24", "2024/25"]
    text = " ".join(res.metadata["warnings"])
    assert "dropped partial financial years 2022/23 (3 of 12 months" in text and "2025/26 (9 of 12" in text
    assert "only 2 years" in text
    found = res.areas.set_index(schema.AREA_NAME)
    for name in ("Bury Town Centre", "Moorside"):
        assert found.loc[name, schema.PATTERN] == "Persistent Hot Spot", found[[schema.PATTERN]]
        assert found.loc[name, schema.CATEGORY] == "persistent hotspot"


def test_choices_are_in_the_metadata_and_described():
    inc = random_incidents(2000, seed=6, months=12)
    res = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(unit="h3", resolution=8), study_area=boundaries.load_borough()
    )
    meta = res.metadata
    assert meta["zero_fill_rule"] == "study_area" and "borough mask" in meta["scope"]
    assert meta["harm"]["index"] == "cchi" and "2016" in meta["harm"]["source"] and meta["harm"]["vintage"]
    assert meta["harm"]["weights"]["Possession of weapons"] == 0.0 and meta["harm"]["asb_weight_days"] == 1.0
    for key in ("alpha", "fdr", "time_window", "global_window", "permutations", "trend_test"):
        assert key in meta["hotspot_params"]
    text = hotspot_run.describe_run(meta)
    for part in (
        "every H3 cell of the study area",
        "alpha 0.05",
        "Benjamini-Hochberg FDR",
        "time window 1",
        "global window cube",
        "no permutations",
        "Mann-Kendall (spatial_z)",
        "ASB weight 1.0 days",
        "Cambridge Crime Harm Index",
    ):
        assert part in text, part
    near = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="h3", resolution=8, zero_fill="neighbours"))
    assert "occupied H3 cells" in near.metadata["scope"]
    css = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward", measure="harm", harm_index="css"))
    assert "approximate ONS Crime Severity Score" in hotspot_run.describe_run(css.metadata)


def test_empirical_bayes_rate_measure_on_wards():
    from geo_csp import cube as cube_mod

    inc = random_incidents(3000, seed=8, months=12)
    res = hotspot_run.run_hotspots(inc, cube_params=CubeParams(unit="ward", measure="rate_eb"))
    c = res.cube
    w = hotspot_run.unit_weights(c.units, unit="ward")
    from geo_csp import hotspots

    expected = hotspots.gi_star(cube_mod.empirical_bayes_rates_per_1000(c.n, c.population), w, time_window=1).z
    assert_allclose(res.analysis.z, expected)
    assert res.metadata["measure"] == "rate_eb"


def test_run_hotspots_takes_cube_params_and_writes_them_into_the_metadata(result):
    p = CubeParams(unit="h3", resolution=9, measure="harm")
    events = random_incidents(3000, seed=2, months=12)
    by_value = hotspot_run.run_hotspots(
        events, p, study_area=boundaries.load_borough(), named_places=boundaries.load_named_places()
    )
    assert by_value.metadata["cube_params"] == p.to_dict()
    assert by_value.metadata["measure"] == "harm"
    # the same choices given as keyword options make the same run
    by_options = hotspot_run.run_hotspots(
        events,
        cube_params=CubeParams(unit="h3", resolution=9, measure="harm"),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
    )
    assert_frame_equal(by_value.units.drop(columns="geometry"), by_options.units.drop(columns="geometry"))
    assert result.metadata["cube_params"] == CubeParams(unit="h3", resolution=9).to_dict()
    # the cube's fields are not keyword options of run_hotspots: a different choice is a different value
    with pytest.raises(TypeError, match="resolution"):
        hotspot_run.run_hotspots(events, p, resolution=8)  # type: ignore[call-arg]
    with pytest.raises(ParameterError, match="`cube_params` must be a CubeParams"):
        hotspot_run.run_hotspots(events, {"unit": "h3"})  # type: ignore[arg-type]


def test_trend_series_sums_each_area_over_its_units_per_period(result):
    table = hotspot_run.trend_series(result)
    assert list(table.index) == [str(p) for p in result.cube.period_labels]
    assert list(table.columns) == result.areas[schema.AREA_ID].tolist() and len(table.columns) > 0
    for area_id in table.columns:  # the hand sum over the area's units
        mask = (result.units[schema.AREA_ID] == area_id).to_numpy()
        assert_allclose(table[area_id].to_numpy(), result.cube.n[mask].sum(axis=0))
        assert_allclose(table[area_id].sum(), result.areas.set_index(schema.AREA_ID).loc[area_id, schema.N])
    units = hotspot_run.trend_series(result, by="unit")
    assert units.shape == result.cube.n.T.shape and list(units.columns) == result.units[schema.UNIT_ID].tolist()
    assert_allclose(units.to_numpy().sum(), result.cube.n.sum())
    with pytest.raises(ParameterError, match="`by` must be 'area' or 'unit'"):
        hotspot_run.trend_series(result, by="ward")  # type: ignore[arg-type]
