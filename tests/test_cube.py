"""The unit x period cube: conservation invariants, zero-filling, filters, rates and contracts."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal

from _synthetic import incidents, random_incidents
import h3

from geo_csp import boundaries, cube, grid, harm, schema
from geo_csp.cube import CubeParams
from geo_csp._errors import DenominatorError, ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return random_incidents(3000, seed=1, months=14)


@pytest.fixture(scope="module")
def borough() -> gpd.GeoDataFrame:
    return boundaries.load_borough()


def _inside(frame: pd.DataFrame, area) -> int:
    ok = frame[schema.LOCATED].to_numpy() & frame[schema.EASTING].notna().to_numpy()
    pts = shapely.points(frame.loc[ok, schema.EASTING], frame.loc[ok, schema.NORTHING])
    return int(shapely.intersects(shapely.union_all(area.geometry.to_numpy()), pts).sum())


def test_h3_totals_equal_located_incidents_in_area_and_input_unchanged(events, borough):
    before = events.copy()
    c = cube.build_cube(events, cube_params=CubeParams(unit="h3", resolution=9), study_area=borough)
    assert_frame_equal(events, before)
    assert c.n.sum() == _inside(events, borough)
    assert c.params["n_incidents_in_area"] == c.n.sum()
    inside = cube.clip_to_study_area(events, shapely.union_all(borough.geometry.to_numpy()))
    assert_allclose(c.harm.sum(), harm.incident_harm(events.loc[inside, schema.CRIME_TYPE]).sum())


def test_zero_filled_every_unit_and_period(events, borough):
    c = cube.build_cube(events, cube_params=CubeParams(unit="h3", resolution=8), study_area=borough)
    assert c.n.shape == (len(c.units), 14)
    assert list(c.period_labels) == [f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01", "2022-02"]
    frame = c.to_frame()
    assert len(frame) == len(c.units) * 14
    assert not frame.duplicated([schema.UNIT_ID, schema.PERIOD]).any()
    assert (c.n == 0).any()  # empty bins present as zeros
    assert list(frame.columns) == [schema.UNIT_ID, schema.PERIOD, schema.N, schema.HARM]
    assert frame[schema.N].dtype == np.float64 and frame[schema.HARM].dtype == np.float64
    assert c.units.crs == WORKING_CRS and c.units.index.name == schema.UNIT_ID
    # the cells cover the whole borough
    assert (
        shapely.union_all(c.units.geometry.to_numpy()).buffer(1).covers(shapely.union_all(borough.geometry.to_numpy()))
    )


def test_h3_children_sum_to_parents(events, borough):
    child = cube.build_cube(events, cube_params=CubeParams(unit="h3", resolution=10), study_area=borough)
    parent = cube.aggregate_h3(child, resolution=8)
    assert parent.n.sum() == child.n.sum()
    assert_allclose(parent.n.sum(axis=0), child.n.sum(axis=0))
    # oracle: each incident's res-10 cell, its parent by h3 directly, counted with pandas
    inside = cube.clip_to_study_area(events, shapely.union_all(borough.geometry.to_numpy()))
    sel = events[inside]
    cells10 = grid.points_to_cells(sel[schema.EASTING], sel[schema.NORTHING], resolution=10)
    parents = [h3.cell_to_parent(c, 8) for c in cells10]
    expected = pd.crosstab(pd.Series(parents, name="p"), sel[schema.MONTH].to_numpy())
    got = pd.DataFrame(parent.n, index=parent.units.index, columns=parent.period_labels)
    assert_allclose(got.loc[expected.index, expected.columns].to_numpy(), expected.to_numpy())
    assert got.drop(index=expected.index).to_numpy().sum() == 0
    # (H3 children do not nest exactly in their parent's hexagon, so a direct res-8 cube may place
    # a point near an edge in a neighbouring cell: aggregation follows the H3 hierarchy.)


def test_wards_sum_to_the_borough(events, borough):
    wards = cube.build_cube(events, cube_params=CubeParams(unit="ward"))
    whole = cube.build_cube(events, cube_params=CubeParams(unit="h3", resolution=8), study_area=borough)
    assert len(wards.units) == 17
    assert_allclose(wards.n.sum(axis=0), whole.n.sum(axis=0))
    lsoas = cube.build_cube(events, cube_params=CubeParams(unit="lsoa"), units=boundaries.load_lsoas(era=2021))
    assert_allclose(lsoas.n.sum(axis=0), whole.n.sum(axis=0))


def test_filters_groups_sources_and_quarters(events, borough):
    nb = cube.build_cube(events, cube_params=CubeParams(unit="ward", group="neighbourhood"))
    mask = events[schema.CRIME_TYPE].isin(harm.CRIME_GROUPS["neighbourhood"])
    assert nb.n.sum() == _inside(events[mask], borough)
    assert nb.params["group"] == "neighbourhood"
    q = cube.build_cube(events, cube_params=CubeParams(unit="ward", period="quarter", partial_periods="keep"))
    assert list(q.period_labels) == [
        "Q4 Jan-Mar 2021",
        "Q1 Apr-Jun 2021",
        "Q2 Jul-Sep 2021",
        "Q3 Oct-Dec 2021",
        "Q4 Jan-Mar 2022",
    ]
    assert q.n.sum() == cube.build_cube(events, cube_params=CubeParams(unit="ward")).n.sum()
    assert q.params["period_months_covered"] == [3, 3, 3, 3, 2]
    whole = cube.build_cube(
        events, cube_params=CubeParams(unit="ward", period="quarter")
    )  # 2022-01..02 is a partial quarter
    assert list(whole.period_labels) == list(q.period_labels[:4])
    assert_allclose(whole.n, q.n[:, :4])
    assert whole.params["months"] == ["2021-01", "2021-12"]
    assert (
        cube.build_cube(
            events, cube_params=CubeParams(unit="ward", sources=["council_asb"], months=("2021-01", "2021-02"))
        ).n.sum()
        == 0
    )


def test_locations_strip_on_or_near(events, borough):
    c = cube.build_cube(events, cube_params=CubeParams(unit="ward"))
    assert c.locations[schema.N].sum() == c.n.sum()
    assert c.locations["location"].str.startswith("Street ").all()


def test_rates_per_1000_by_hand():
    wards = boundaries.load_wards()
    two = wards.iloc[:2].copy()
    two[schema.POPULATION] = [2000.0, 500.0]
    pts = shapely.point_on_surface(two.geometry.to_numpy())
    x = np.r_[np.repeat(shapely.get_x(pts[0]), 3), shapely.get_x(pts[1])]
    y = np.r_[np.repeat(shapely.get_y(pts[0]), 3), shapely.get_y(pts[1])]
    c = cube.build_cube(
        incidents(x, y, ["2022-05", "2022-05", "2022-06", "2022-06"]), cube_params=CubeParams(unit="ward"), units=two
    )
    # ward 0: 2 in May, 1 in June over 2,000 residents -> 1.0 and 0.5 per 1,000
    # ward 1: 0 in May, 1 in June over 500 residents -> 0.0 and 2.0 per 1,000
    assert_allclose(c.rates(), [[1.0, 0.5], [0.0, 2.0]])
    two.loc[two.index[1], schema.POPULATION] = np.nan
    c2 = cube.build_cube(incidents(x, y, "2022-05"), cube_params=CubeParams(unit="ward"), units=two)
    with pytest.raises(DenominatorError, match=two[schema.WARD_CODE].iloc[1]):
        c2.rates()
    h = cube.build_cube(incidents(x, y, "2022-05"), cube_params=CubeParams(unit="h3", resolution=9), study_area=two)
    with pytest.raises(DenominatorError, match="no population for unit"):
        h.rates()


def test_errors():
    bad = incidents([380_000.0], [410_000.0], "2022-05").drop(columns=schema.LOCATED)
    with pytest.raises(SchemaError, match="located"):
        cube.build_cube(bad, cube_params=CubeParams(unit="ward"))
    ok = incidents([380_000.0], [410_000.0], "2022-05")
    with pytest.raises(ParameterError, match="unit"):
        cube.build_cube(ok, cube_params=CubeParams(unit="msoa"))
    with pytest.raises(ParameterError, match="no incidents match"):
        cube.build_cube(ok, cube_params=CubeParams(unit="ward", crime_types=["Drugs"]))


# ------------------------------------------------------------------------------------------------
# Study extent without a boundary, default wards/LSOAs only for Bury's data, the no-match error
# ------------------------------------------------------------------------------------------------
FAR = ([530_000.0, 407_000.0, 300_000.0], [180_000.0, 287_000.0, 600_000.0])  # London, Birmingham, Scotland


def test_data_extent_known_answer():
    # 9 points at 0..800 m along a line and one 50 km away: median 450 m from the ends,
    # distances 450, 350, ..., 350, 450 (and ~49.5 km); 90% quantile 450 + 0.1 x (49,550 - 450)
    x = np.r_[np.arange(9) * 100.0, 50_000.0]
    y = np.zeros(10)
    hull, keep, radius = cube.data_extent(x, y)
    assert keep.tolist() == [True] * 9 + [False]
    d = np.abs(x - 450.0)
    assert_allclose(radius, 3 * np.quantile(d, 0.9))
    assert hull.equals(shapely.LineString([(0, 0), (800, 0)]))
    _, keep1, radius1 = cube.data_extent(np.zeros(4), np.zeros(4))
    assert keep1.all() and radius1 == cube.EXTENT_MIN_RADIUS_M
    with pytest.raises(ParameterError, match="study_area"):
        cube.data_extent(np.array([np.nan]), np.array([np.nan]))


def test_data_extent_ends_at_the_first_wide_gap_beyond_the_quantile():
    rng = np.random.default_rng(1)
    r = 10_000.0 * np.sqrt(rng.random(400))  # uniform disc of 10 km: q90 ~ 9.5 km, cap ~ 28 km
    t = rng.uniform(0, 2 * np.pi, 400)
    x = np.r_[r * np.cos(t), 20_000.0, 0.0, -21_000.0]  # three points 20-21 km out: inside the cap, past a 10 km gap
    y = np.r_[r * np.sin(t), 0.0, 20_500.0, 0.0]
    hull, keep, radius = cube.data_extent(x + 380_000.0, y + 410_000.0)
    assert keep.tolist() == [True] * 400 + [False] * 3
    assert_allclose(radius, np.hypot(x[:400] - np.median(x), y[:400] - np.median(y)).max())
    assert radius < 3 * np.quantile(np.hypot(x - np.median(x), y - np.median(y)), 0.9)
    # a second area holding 10% of the points past the gap is data, not misplaced points: kept
    second = np.full(45, 25_000.0) + rng.uniform(0, 500, 45)
    _, keep2, _ = cube.data_extent(np.r_[x[:400], second] + 380_000.0, np.r_[y[:400], np.zeros(45)] + 410_000.0)
    assert keep2.all()
    # no gap wider than 5 km: everything is kept
    _, keep_all, _ = cube.data_extent(x[:401] * 0.5 + 380_000.0, y[:401] * 0.5 + 410_000.0, min_gap_m=6_000.0)
    assert keep_all.all()


def test_far_outliers_are_left_out_of_the_data_extent_and_reported():
    base = random_incidents(600, seed=5, months=3)
    far = incidents(*FAR, "2021-02", location="On or near Far Street")
    both = pd.concat([base, far], ignore_index=True)
    clean = cube.build_cube(base, cube_params=CubeParams(unit="h3"))
    with pytest.warns(UserWarning, match=r"3 of \d+ located incidents .* pass `study_area`"):
        c = cube.build_cube(both, cube_params=CubeParams(unit="h3"))
    located = int(base[schema.LOCATED].sum())
    assert c.params["n_outside_extent"] == 3
    assert c.n.sum() == located == c.params["n_incidents_in_area"]
    assert c.params["resolution"] == clean.params["resolution"]  # not forced coarse by the outliers
    assert_allclose(c.params["study_area_km2"], clean.params["study_area_km2"])
    assert c.params["study_area_km2"] < 500
    assert "n_outside_extent" not in clean.params
    # a study area that holds them counts them
    box = shapely.box(250_000.0, 150_000.0, 600_000.0, 650_000.0)
    with_box = cube.build_cube(both, cube_params=CubeParams(unit="h3", resolution=7), study_area=box)
    assert with_box.n.sum() == located + 3


def test_mostly_in_shipped_borough():
    rng = np.random.default_rng(0)
    bury = shapely.point_on_surface(shapely.union_all(boundaries.load_borough().geometry.to_numpy()))
    inside_x, inside_y = np.full(6, shapely.get_x(bury)), np.full(6, shapely.get_y(bury))
    out_x, out_y = rng.uniform(500_000, 520_000, 4), rng.uniform(180_000, 190_000, 4)
    assert boundaries.mostly_in_shipped_borough(np.r_[inside_x, out_x], np.r_[inside_y, out_y])  # 60%
    assert boundaries.mostly_in_shipped_borough(
        np.r_[inside_x[:4], out_x], np.r_[inside_y[:4], out_y]
    )  # 4/8: at the threshold
    assert not boundaries.mostly_in_shipped_borough(np.r_[inside_x[:3], out_x], np.r_[inside_y[:3], out_y])  # 3/7
    assert boundaries.mostly_in_shipped_borough(np.r_[inside_x[:3], out_x], np.r_[inside_y[:3], out_y], min_share=0.4)
    assert boundaries.mostly_in_shipped_borough(np.r_[inside_x[:1], np.nan], np.r_[inside_y[:1], np.nan])
    assert not boundaries.mostly_in_shipped_borough(np.array([]), np.array([]))
    # distinct points with their incident counts give the same answer as the points repeated
    xs, ys = np.r_[inside_x[:3], out_x], np.r_[inside_y[:3], out_y]
    assert not boundaries.mostly_in_shipped_borough(xs, ys, counts=np.ones(len(xs)))  # 3/7
    heavy = np.r_[[2, 1, 1], np.ones(len(out_x))]  # 4/8: at the threshold
    assert boundaries.mostly_in_shipped_borough(xs, ys, counts=heavy)
    assert boundaries.mostly_in_shipped_borough(np.repeat(xs, heavy.astype(int)), np.repeat(ys, heavy.astype(int)))
    with pytest.raises(ParameterError, match="one value per point"):
        boundaries.mostly_in_shipped_borough(xs, ys, counts=np.ones(2))
    with pytest.raises(ParameterError, match="min_share"):
        boundaries.mostly_in_shipped_borough(inside_x, inside_y, min_share=0)


def test_shipped_wards_and_lsoas_only_for_data_in_bury(events):
    preston = random_incidents(500, seed=3, months=3, centre=(354_000.0, 429_000.0))
    for kind in ("ward", "lsoa"):
        with pytest.raises(ParameterError, match=r"pass `units=`.*--boundary"):
            cube.build_cube(preston, cube_params=CubeParams(unit=kind))
    # a study area in Bury with the Preston data: no data there, the area decides (it is Bury)
    borough = boundaries.load_borough()
    assert (
        len(
            cube.build_cube(
                preston, cube_params=CubeParams(unit="ward", months=("2021-01", "2021-03")), study_area=borough
            ).units
        )
        == 17
    )
    assert (
        len(cube.build_cube(events, cube_params=CubeParams(unit="ward")).units) == 17
    )  # Bury's data keeps the shipped wards
    mixed = pd.concat([events.iloc[:1000], preston.iloc[:100]], ignore_index=True)  # mostly Bury
    assert cube.build_cube(mixed, cube_params=CubeParams(unit="ward")).n.sum() == _inside(events.iloc[:1000], borough)


def test_no_match_error_names_the_filters_and_what_the_data_holds():
    ok = incidents(
        [380_000.0, 380_100.0, 380_200.0],
        [410_000.0, 410_100.0, 410_200.0],
        "2022-05",
        ["Burglary", "Robbery", "Burglary"],
    )
    with pytest.raises(
        ParameterError,
        match=r"no incidents match crime types \['Drugs'\]: the data holds crime types "
        r"'Burglary' \(2\), 'Robbery' \(1\); sources 'police_uk_street' \(3\)",
    ):
        cube.build_cube(ok, cube_params=CubeParams(unit="ward", crime_types=["Drugs"]))
    with pytest.raises(ParameterError, match=r"crime types \['Drugs'\] \(group 'drugs'\): the data holds"):
        cube.build_cube(ok, cube_params=CubeParams(unit="ward", group="drugs"))
    with pytest.raises(ParameterError, match=r"match sources \['council_asb'\]: the data holds .*give `months`"):
        cube.build_cube(ok, cube_params=CubeParams(unit="ward", sources=["council_asb"]))


@pytest.mark.slow
def test_real_lancashire_street_extent_leaves_out_points_geocoded_far_away(real_file):
    from _synthetic import read_points_csv

    path = real_file("police-uk-street-lancashire-2018-19", "lancashire_street_2018-11_to_2019-02.csv.gz")
    inc = read_points_csv(path)
    with pytest.warns(UserWarning, match=r"50 of 58938 located incidents"):
        c = cube.build_cube(inc, cube_params=CubeParams(unit="h3"))
    assert c.params["n_outside_extent"] == 50
    assert 60_000 < c.params["extent_radius_m"] < 62_000
    assert c.params["study_area_km2"] < 6_500  # the hull of every point: 113,878 km2
    assert c.n.sum() == 58938 - 50


# ------------------------------------------------------------------------------------------------
# National volumes in memory: categorical text, each distinct point once, neighbour cells only
# ------------------------------------------------------------------------------------------------
def _as_categorical(frame: pd.DataFrame) -> pd.DataFrame:
    text = [schema.MONTH, schema.CRIME_TYPE, schema.LOCATION] + ([schema.SOURCE] if schema.SOURCE in frame else [])
    return frame.astype({c: "category" for c in text})


def assert_cube_equal(a: cube.Cube, b: cube.Cube) -> None:
    assert a.units.index.equals(b.units.index)
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_array_equal(a.harm, b.harm)
    np.testing.assert_array_equal(a.period_keys, b.period_keys)
    assert_frame_equal(a.locations, b.locations)
    assert a.params == b.params


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": 9},
        {"unit": "ward", "period": "quarter"},
        {"resolution": 10, "crime_types": ["Burglary"], "months": ("2022-03", "2022-09")},
    ],
)
def test_categorical_text_gives_the_same_cube(events, borough, kwargs):
    before = events.copy()
    plain = cube.build_cube(events, CubeParams(**kwargs), study_area=borough)
    assert_cube_equal(plain, cube.build_cube(_as_categorical(events), CubeParams(**kwargs), study_area=borough))
    assert_frame_equal(events, before)


def test_counts_harm_and_locations_equal_a_row_by_row_oracle(events, borough):
    c = cube.build_cube(events, cube_params=CubeParams(resolution=9), study_area=borough)
    inside = cube.clip_to_study_area(events, shapely.union_all(borough.geometry.to_numpy()))
    rows = events[inside]
    lon, lat = grid._TO_LONLAT.transform(rows[schema.EASTING].to_numpy(), rows[schema.NORTHING].to_numpy())
    cells = np.array([h3.latlng_to_cell(a, o, 9) for a, o in zip(lat, lon)])
    frame = pd.DataFrame(
        {
            "cell": cells,
            "month": rows[schema.MONTH].to_numpy(),
            "harm": harm.incident_harm(rows[schema.CRIME_TYPE].to_numpy()),
            "location": rows[schema.LOCATION].str.replace("On or near ", "", regex=False).to_numpy(),
        }
    )
    expected = frame.groupby(["cell", "month"]).agg(n=("harm", "size"), harm=("harm", "sum"))
    months = list(c.period_labels)
    got_n = pd.DataFrame(c.n, index=c.units.index, columns=months).stack()
    got_h = pd.DataFrame(c.harm, index=c.units.index, columns=months).stack()
    np.testing.assert_array_equal(got_n[expected.index].to_numpy(), expected["n"].to_numpy())
    assert_allclose(got_h[expected.index].to_numpy(), expected["harm"].to_numpy(), rtol=1e-12)
    assert got_n.sum() == len(rows)
    oracle = frame.groupby(["cell", "location"]).size()
    got = c.locations.set_index([schema.UNIT_ID, "location"])[schema.N]
    assert got.sort_index().to_dict() == oracle.sort_index().to_dict()


def test_neighbours_zero_fill_keeps_occupied_cells_and_their_ring(events):
    full = cube.build_cube(events, cube_params=CubeParams(resolution=10))
    near = cube.build_cube(events, cube_params=CubeParams(resolution=10, zero_fill="neighbours"))
    occupied = full.units.index[full.n.sum(axis=1) > 0].to_numpy(dtype=object)
    ring = set(occupied) | {c for o in occupied for c in h3.grid_disk(o, 1)}
    assert set(near.units.index) == ring and len(near.units) < len(full.units)
    np.testing.assert_array_equal(near.n.sum(axis=0), full.n.sum(axis=0))  # nothing lost
    assert near.params.pop("zero_fill") == "occupied cells and their 1-ring neighbours"
    assert near.params == full.params
    assert set(
        cube.build_cube(
            events, cube_params=CubeParams(resolution=10, zero_fill="neighbours", zero_fill_k=0)
        ).units.index
    ) == set(occupied)
    with pytest.raises(ParameterError, match="`zero_fill` must be one of"):
        cube.build_cube(events, cube_params=CubeParams(zero_fill="everywhere"))
    with pytest.raises(ParameterError, match="`zero_fill_k` must be an integer >= 0"):
        cube.build_cube(events, cube_params=CubeParams(zero_fill="neighbours", zero_fill_k=-1))


def test_bad_or_missing_month_is_named(events):
    bad = events.copy()
    bad[schema.MONTH] = bad[schema.MONTH].astype(object)
    bad.loc[bad.index[7], schema.MONTH] = "2022-13"
    with pytest.raises(SchemaError, match="month value '2022-13' is not a month"):
        cube.build_cube(bad, cube_params=CubeParams(resolution=9))
    bad.loc[bad.index[7], schema.MONTH] = None
    with pytest.raises(SchemaError, match="month value .* is not a month"):
        cube.build_cube(_as_categorical(bad), cube_params=CubeParams(resolution=9))


def test_partial_financial_years_are_dropped_and_named(borough):
    """2023-01..2025-12 by financial year: 2022/23 (3 months) and 2025/26 (9) are partial."""
    months = [
        str(m) for m in np.repeat(np.array(["2023-01", "2023-06", "2024-06", "2025-12"], dtype=object), [3, 4, 5, 6])
    ]
    frame = incidents(np.full(18, 380_500.0), np.full(18, 410_500.0), months)
    built = cube.build_cube(frame, cube_params=CubeParams(unit="ward", period="year"), study_area=borough)
    assert list(built.period_labels) == ["2023/24", "2024/25"]
    assert built.n.sum() == 9 and built.params["months"] == ["2023-04", "2025-03"]
    assert built.params["n_incidents_in_area"] == 9
    info = built.params["partial_periods"]
    assert [(p["label"], p["months_covered"], p["months"]) for p in info["partial"]] == [
        ("2022/23", 3, ["2023-01", "2023-03"]),
        ("2025/26", 9, ["2025-04", "2025-12"]),
    ]
    assert info["n_incidents_dropped"] == 9
    (message,) = built.params["warnings"]
    assert "dropped partial financial years 2022/23 (3 of 12 months, 2023-01..2023-03)" in message
    assert "2025/26 (9 of 12 months, 2025-04..2025-12)" in message
    kept = cube.build_cube(
        frame, cube_params=CubeParams(unit="ward", period="year", partial_periods="keep"), study_area=borough
    )
    assert list(kept.period_labels) == ["2022/23", "2023/24", "2024/25", "2025/26"]
    assert kept.params["period_months_covered"] == [3, 12, 12, 9] and kept.n.sum() == 18
    assert "kept partial financial years" in kept.params["warnings"][0]
    monthly = cube.build_cube(frame, cube_params=CubeParams(unit="ward"), study_area=borough)
    assert monthly.params["partial_periods"]["partial"] == [] and monthly.params["warnings"] == []
    with pytest.raises(ParameterError, match="every year of 2023-01..2023-06 is partial"):
        cube.build_cube(
            frame[frame[schema.MONTH] < "2023-07"],
            cube_params=CubeParams(unit="ward", period="year"),
            study_area=borough,
        )
    with pytest.raises(ParameterError, match="partial_periods"):
        cube.build_cube(frame, cube_params=CubeParams(unit="ward", period="year", partial_periods="trim"))


def test_partial_quarters_when_an_extract_starts_mid_quarter():
    from geo_csp import periods

    assert periods.partial_periods("2023-02", "2023-12", period="quarter") == [
        {
            "key": int(periods.period_keys(["2023-02"], period="quarter")[0]),
            "label": "Q4 Jan-Mar 2023",
            "months_covered": 2,
            "months_in_period": 3,
            "months": ["2023-02", "2023-03"],
        }
    ]
    assert periods.partial_periods("2023-04", "2024-03", period="quarter") == []
    assert periods.partial_periods("2023-04", "2024-03", period="year") == []
    assert periods.partial_periods("2023-02", "2023-12", period="month") == []


def test_empirical_bayes_rates_equal_esda_smoothing():
    import warnings

    from esda.smoothing import Empirical_Bayes

    rng = np.random.default_rng(11)
    pop = pd.Series(rng.integers(300, 12_000, 40).astype(float), index=[f"W{i}" for i in range(40)])
    counts = rng.poisson((pop.to_numpy() * 0.004)[:, None] * rng.uniform(0.3, 3.0, (40, 1)), (40, 6)).astype(float)
    ours = cube.empirical_bayes_rates_per_1000(counts, pop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.column_stack([Empirical_Bayes(counts[:, t], pop.to_numpy()).r.ravel() for t in range(6)]) * 1000
    assert_allclose(ours, theirs, rtol=1e-10)
    raw = cube.rates_per_1000(counts, pop)
    small = pop.to_numpy() < np.median(pop.to_numpy())
    pooled = counts.sum(axis=0) / pop.sum() * 1000
    # smoothing pulls the small wards' rates towards the period's pooled rate more than the large ones'
    pull = np.abs(ours - raw) / np.maximum(np.abs(raw - pooled), 1e-12)
    assert pull[small].mean() > pull[~small].mean()
    # no between-ward variance beyond Poisson noise: every ward gets the pooled rate (esda would weigh negatively)
    same = cube.empirical_bayes_rates_per_1000(np.round(pop.to_numpy()[:, None] * 0.001), pop)
    assert_allclose(same, np.full((40, 1), np.round(pop.to_numpy() * 0.001).sum() / pop.sum() * 1000), rtol=1e-12)
    with pytest.raises(DenominatorError, match="no population"):
        cube.empirical_bayes_rates_per_1000(counts, pop.where(pop > 1000))


def test_cube_params_are_validated_once_frozen_hashable_and_json_ready():
    p = cube.CubeParams(
        unit="ward",
        period="quarter",
        months=["2021-01", "2021-12"],
        crime_types=["Burglary", "Robbery"],
        groups={"mine": ["Burglary"]},
        sources="police_uk_street",
    )
    # iterables become tuples, so equal choices are one (hashable) cache key
    assert p.months == ("2021-01", "2021-12") and p.crime_types == ("Burglary", "Robbery")
    assert p.sources == ("police_uk_street",) and p.groups == (("mine", ("Burglary",)),)
    same = cube.CubeParams(
        unit="ward",
        period="quarter",
        months=("2021-01", "2021-12"),
        crime_types=("Burglary", "Robbery"),
        groups={"mine": ("Burglary",)},
        sources=["police_uk_street"],
    )
    assert p == same and hash(p) == hash(same) and len({p, same}) == 1
    with pytest.raises(AttributeError):
        p.unit = "h3"  # type: ignore[misc]
    d = p.to_dict()
    assert set(d) == set(cube.CUBE_PARAM_NAMES)
    assert d["groups"] == {"mine": ["Burglary"]} and d["months"] == ["2021-01", "2021-12"]
    assert json.loads(json.dumps(d)) == d
    assert dataclasses.replace(p, unit="h3") == cube.CubeParams(**{**d, "unit": "h3", "groups": {"mine": ["Burglary"]}})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": "msoa"}, "`unit` must be one of"),
        ({"period": "day"}, "`period` must be 'auto' or one of"),
        ({"resolution": 16}, "H3 resolution must be an integer 0-15"),
        ({"measure": "mean"}, "`measure` must be one of"),
        ({"harm_index": "nope"}, "harm index must be one of"),
        ({"zero_fill": "ocean"}, "`zero_fill` must be one of"),
        ({"zero_fill_k": -1}, "`zero_fill_k` must be an integer"),
        ({"partial_periods": "trim"}, "`partial_periods` must be one of"),
        ({"months": ("2021-01", "2021-06", "2021-12")}, r"`months` must be \(first, last\)"),
    ],
)
def test_cube_params_refuse_bad_choices_naming_the_field(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        cube.CubeParams(**kwargs)


def test_build_cube_takes_cube_params_as_one_value(events, borough):
    p = cube.CubeParams(resolution=8, period="quarter", group="neighbourhood")
    by_value = cube.build_cube(events, p, study_area=borough)
    by_keyword = cube.build_cube(events, study_area=borough, cube_params=p)
    assert_allclose(by_value.n, by_keyword.n)
    assert_allclose(by_value.harm, by_keyword.harm)
    assert list(by_value.units.index) == list(by_keyword.units.index)
    # a different choice is a different value; the fields are not keyword options of build_cube
    assert cube.build_cube(events, dataclasses.replace(p, period="month"), study_area=borough).n.shape[1] == 14
    with pytest.raises(TypeError, match="period"):
        cube.build_cube(events, p, study_area=borough, period="month")  # type: ignore[call-arg]
    with pytest.raises(ParameterError, match="`cube_params` must be a CubeParams"):
        cube.build_cube(events, {"unit": "h3"}, study_area=borough)  # type: ignore[arg-type]
    # what only an analysis applies is refused rather than silently ignored
    with pytest.raises(ParameterError, match="applied by geo_csp.hotspot_run.run_hotspots"):
        cube.build_cube(events, dataclasses.replace(p, exclude_proactive=True), study_area=borough)
