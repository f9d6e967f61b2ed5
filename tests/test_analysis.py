"""The hotspot pipeline: output contract, metadata, stable ids, demo truth and real data end to end."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from shapely.geometry import shape

from _synthetic import random_incidents, read_points_csv
from geo_csp import analysis, areas, backtest, boundaries, schema
from geo_csp.settings import SHARED_REAL_DATA_DIR, WORKING_CRS


@pytest.fixture(scope="module")
def result():
    return analysis.run_hotspots(random_incidents(3000, seed=2, months=12), unit="h3", resolution=9,
                                 study_area=boundaries.load_borough(), named_places=boundaries.load_named_places())


def test_unit_contract(result):
    u = result.units
    assert list(u.columns) == [*analysis.UNIT_COLUMNS, "geometry"]
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
    r = analysis.run_hotspots(random_incidents(2000, seed=4, months=12), unit="ward")
    u = r.units.set_index(schema.UNIT_ID)
    assert_allclose(u[schema.RATE_PER_1000], u[schema.N] * 1000 / u[schema.POPULATION])
    assert (u[schema.WARD_CODE] == u.index).all()


def test_ids_stable_with_one_more_month():
    inc = random_incidents(4000, seed=7, months=13)
    first = analysis.run_hotspots(inc, unit="h3", resolution=9, months=("2021-01", "2021-12"),
                                  study_area=boundaries.load_borough())
    second = analysis.run_hotspots(inc, unit="h3", resolution=9, months=("2021-01", "2022-01"),
                                   study_area=boundaries.load_borough(), previous_areas=first.areas)
    matched = {m["area_id"] for m in second.area_changes["matched"]}
    assert matched and matched <= set(first.areas[schema.AREA_ID])
    # every previous area is either matched or reported vanished; every new one continuing or new
    assert matched | set(second.area_changes["vanished"]) == set(first.areas[schema.AREA_ID])
    assert set(second.areas[schema.AREA_ID]) == matched | set(second.area_changes["new"])
    biggest = first.areas.iloc[0]
    again = second.areas[second.areas.intersects(biggest.geometry.representative_point())]
    assert again[schema.AREA_ID].tolist() == [biggest[schema.AREA_ID]]


# ------------------------------------------------------------------------------------------------
# Demo borough: planted truth
# ------------------------------------------------------------------------------------------------
TRUE_PATTERNS = {
    "persistent": {"Persistent Hot Spot"},
    "emerging": {"New Hot Spot", "Consecutive Hot Spot", "Intensifying Hot Spot"},
    "diminishing": {"Diminishing Hot Spot"},
}
#: Chainey's scheme has no "diminishing": a place still hot in >= 80% of months (Radcliffe falls from
#: 10x to 5x the borough density and stays hot) is persistent; one that cooled off would be former.
TRUE_CATEGORIES = {
    "persistent": {"persistent hotspot"},
    "emerging": {"emerging hotspot"},
    "diminishing": {"persistent hotspot", "former hotspot"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo_mod = pytest.importorskip("geo_csp.demo")
    from geo_csp import store

    paths = demo_mod.make_demo(tmp_path_factory.mktemp("demo"))
    inc = store.read_incidents(paths.store_dir, located_only=True, sources=[schema.SOURCE_STREET])
    truth = json.loads(paths.truth.read_text(encoding="utf-8"))
    res = analysis.run_hotspots(inc, unit="h3", study_area=boundaries.load_borough(),
                                named_places=boundaries.load_named_places())
    return res, truth


@pytest.mark.slow
def test_demo_planted_areas_recovered_with_the_right_class(demo):
    res, truth = demo
    found = res.areas.set_index(schema.AREA_NAME)
    for spot in truth["hotspots"]:
        poly = gpd.GeoSeries([shape(spot["polygon"])], crs="EPSG:4326").to_crs(WORKING_CRS).iloc[0]
        assert spot["name"] in found.index, f"{spot['name']} not found: {list(found.index)}"
        area = found.loc[spot["name"]]
        assert area.geometry.intersects(poly)
        assert area[schema.PATTERN] in TRUE_PATTERNS[spot["kind"]], (spot["name"], area[schema.PATTERN])
        assert area[schema.CATEGORY] in TRUE_CATEGORIES[spot["kind"]], (spot["name"], area[schema.CATEGORY])
    planted = {s["name"] for s in truth["hotspots"]}
    named = set(found.index)
    recall = len(planted & named) / len(planted)
    precision = len(planted & named) / len(named)
    print(f"\ndemo areas: {found[[schema.PATTERN, schema.CATEGORY, schema.N]].to_string()}\n"
          f"recall {recall:.2f}, precision {precision:.2f}")
    assert recall >= 0.9 and precision >= 0.9


# ------------------------------------------------------------------------------------------------
# Real data (skipped when the shared folder is absent)
# ------------------------------------------------------------------------------------------------
def _real(*parts):
    path = SHARED_REAL_DATA_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data file {'/'.join(parts)} is absent")
    return path


@pytest.mark.slow
def test_real_bury_burglary_end_to_end():
    inc = read_points_csv(_real("gmp-burglary-2016-2019", "bury_burglary_points_2016-02_to_2019-01.csv.gz"))
    borough = boundaries.load_borough()
    res = analysis.run_hotspots(inc, unit="h3", study_area=borough, wards=boundaries.load_wards(year=2017),
                                named_places=boundaries.load_named_places())
    assert res.cube.n.sum() == len(inc)  # every row lies in Bury
    wards = analysis.run_hotspots(inc, unit="ward", units=boundaries.load_wards(year=2017))
    assert wards.cube.n.sum() == len(inc)
    table = backtest.backtest(inc, split="2018-02", study_area=borough)
    five = table[table["area_share_target"] == 0.05].set_index("method")
    print("\nBury burglary areas:\n" + res.areas[[schema.AREA_ID, schema.AREA_NAME, schema.PATTERN, schema.N]].to_string())
    print("back-test 2018-02, 5% of area:\n" + five[["pai", "hit_rate", "rri", "pei"]].to_string())
    assert len(res.areas) >= 1
    assert (five["pai"] > 1).all()


@pytest.mark.slow
def test_real_lancashire_asb_end_to_end():
    inc = read_points_csv(_real("lancashire-asb-2022", "lancashire_asb_2022_points.csv.gz"), month="month",
                          crime_type="crime_type", lon="longitude", lat="latitude", location="location")
    wards = gpd.read_file(_real("lancashire-asb-2022", "lancashire_wards_2022.gpkg")).to_crs(WORKING_CRS)
    pop = boundaries.read_population(_real("lancashire-asb-2022", "lancashire_ward_population_mid2020.csv"),
                                     code_col="gss_code", population_col="population")
    wards = wards.assign(population=wards["ward_code"].map(pop))
    blackburn = shapely.box(*gpd.GeoSeries.from_xy([-2.56, -2.42], [53.70, 53.78], crs="EPSG:4326")
                            .to_crs(WORKING_CRS).total_bounds)
    res = analysis.run_hotspots(inc, unit="h3", resolution=10, study_area=blackburn, wards=wards)
    by_ward = analysis.run_hotspots(inc, unit="ward", units=wards)
    assert 0.95 * len(inc) <= by_ward.cube.n.sum() <= len(inc)  # ward polygons are generalised
    assert res.areas[schema.AREA_NAME].str.contains(": around ").any()
    assert not res.areas[schema.AREA_NAME].str.contains("On or near").any()
    table = backtest.backtest(inc, split="2022-07", study_area=blackburn, resolution=10)
    five = table[table["area_share_target"] == 0.05].set_index("method")
    print("\nBlackburn ASB areas (top 10):\n" + res.areas[[schema.AREA_ID, schema.AREA_NAME, schema.PATTERN, schema.N]].head(10).to_string())
    print("back-test 2022-07, 5% of area:\n" + five[["pai", "hit_rate", "rri", "pei"]].to_string())
    assert (five["pai"] > 1).all()
