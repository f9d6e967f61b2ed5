"""Coverage of hotspots by CCTV, walkabouts, operations and hubs; the gap list; camera siting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import coverage as cv
from geo_csp.cube import CubeParams
from geo_csp import layers
from geo_csp._errors import CRSError, ParameterError, SchemaError
from geo_csp.demo import DemoPaths
from geo_csp.settings import WORKING_CRS


def _square(x: float, y: float, size: float = 100.0) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    # three 100 m squares in a row, 100 m apart
    return gpd.GeoDataFrame(
        {"area_id": ["a", "b", "c"], "name": ["A", "B", "C"], "harm": [10.0, 30.0, 20.0], "n": [1, 3, 2]},
        geometry=[_square(0, 0), _square(200, 0), _square(400, 0)],
        crs=WORKING_CRS,
    )


@pytest.fixture
def layers_by_hand() -> dict[str, gpd.GeoDataFrame]:
    views = gpd.GeoDataFrame(
        {"camera_id": ["v1", "v2"]},
        # v1 covers the right half of A (5,000 of 10,000 m2); v2 overlaps B in its 10 x 10 m corner x 290-300 (100 m2)
        geometry=[shapely.box(50, 0, 150, 100), shapely.box(290, 90, 310, 100)],
        crs=WORKING_CRS,
    )
    routes = gpd.GeoDataFrame(
        {"date": pd.to_datetime(["2024-05-01", "2023-01-01", "2024-04-20"])},
        geometry=[
            shapely.LineString([(250, 140), (260, 300)]),  # 40 m above B, recent
            shapely.LineString([(450, -10), (450, 110)]),  # through C, too old
            shapely.LineString([(-100, 170), (100, 170)]),  # 70 m above A: beyond 50 m
        ],
        crs=WORKING_CRS,
    )
    operations = gpd.GeoDataFrame(
        {
            "name": ["Op C", "Old op", "Day"],
            "type": ["targeted", "targeted", "day_of_action"],
            "start_date": pd.to_datetime(["2024-04-01", "2022-01-01", "2024-04-15"]),
            "end_date": pd.to_datetime(["2024-04-30", "2022-02-01", "2024-04-15"]),
        },
        geometry=[_square(420, 20, 20), _square(0, 0, 50), shapely.box(-1000, -1000, 1000, 1000)],
        crs=WORKING_CRS,
    )
    hubs = gpd.GeoDataFrame({"name": ["Hub"]}, geometry=[shapely.Point(0, -30)], crs=WORKING_CRS)
    return {"views": views, "walkabouts": routes, "operations": operations, "hubs": hubs}


def test_coverage_known_answers(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    before = areas.copy()
    params = cv.CoverageParams(as_of="2024-05-10", weeks=8, cctv_min_share=0.25)
    out = cv.coverage(areas, **layers_by_hand, params=params)
    # CCTV: A 5000/10000; B 100/10000; C nothing
    assert_allclose(out["cctv_share"], [0.5, 0.01, 0.0])
    assert out["cctv_covered"].tolist() == [True, False, False]  # B's 1 % is below the 25 % asked for
    default = cv.coverage(areas, views=layers_by_hand["views"])
    assert default["cctv_covered"].tolist() == [True, False, False]  # default 5 %: B's clipped corner is not enough
    any_view = cv.coverage(areas, views=layers_by_hand["views"], params=cv.CoverageParams(cctv_min_share=0))
    assert any_view["cctv_covered"].tolist() == [True, True, False]  # 0: any view reaching in
    exactly = cv.coverage(areas, views=layers_by_hand["views"], params=cv.CoverageParams(cctv_min_share=0.5))
    assert exactly["cctv_covered"].tolist() == [True, False, False]  # A's 50 % meets a 50 % threshold
    assert default.attrs["coverage_params"]["cctv_min_share"] == 0.05
    # walkabouts: only the recent one within 50 m of B
    assert out["walkabout_n"].tolist() == [0, 1, 0]
    assert out["walkabout_last"].iloc[1] == pd.Timestamp("2024-05-01")
    # operations: targeted Op C inside C in the period; the old one and the day of action do not count
    assert out["operations"].tolist() == ["", "", "Op C"]
    assert out["operation_covered"].tolist() == [False, False, True]
    # hubs: distance from (0, -30) to each square
    assert_allclose(out["hub_distance_m"], [30.0, np.hypot(200, 30), np.hypot(400, 30)])
    pd.testing.assert_frame_equal(areas, before)  # input unchanged
    assert out.index.equals(areas.index)
    assert out.attrs["coverage_params"]["as_of"] == "2024-05-10"


def test_day_of_action_counts_when_asked(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    params = cv.CoverageParams(as_of="2024-05-10", operation_types=("targeted", "day_of_action"))
    out = cv.coverage(areas, operations=layers_by_hand["operations"], params=params)
    assert out["operations"].tolist() == ["Day", "Day", "Day; Op C"]


def test_missing_layers_are_unknown_not_uncovered(areas: gpd.GeoDataFrame) -> None:
    out = cv.coverage(areas)
    assert out["cctv_covered"].isna().all() and out["walkabout_covered"].isna().all()
    gaps = cv.gap_list(out, measure="harm")
    assert gaps.shares == {"all": 0.0}


def test_gap_list_ranking_and_shares(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    out = cv.coverage(areas, **layers_by_hand, params=cv.CoverageParams(as_of="2024-05-10", cctv_min_share=0.25))
    gaps = cv.gap_list(out, measure="harm", borough_total=120.0)
    # A: no walkabout, no operation (2 gaps); B: no CCTV, no operation (2); C: no CCTV, no walkabout (2)
    # -> all tie on gaps, ranked by harm: B (30), C (20), A (10)
    assert gaps.table["id"].tolist() == ["b", "c", "a"]
    assert gaps.table["rank"].tolist() == [1, 2, 3]
    assert_allclose(gaps.shares["cctv"], (30 + 20) / 120)
    assert_allclose(gaps.shares["walkabout"], (10 + 20) / 120)
    assert_allclose(gaps.shares["operation"], (10 + 30) / 120)
    assert gaps.shares["all"] == 0.0
    assert gaps.table.loc[0, "gaps"] == "no CCTV view; no operation"
    assert gaps.total_label == "borough total harm"


def test_uncovered_hotspot_ranks_first_even_with_less_harm(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    extra = gpd.GeoDataFrame(
        {"area_id": ["d"], "name": ["D"], "harm": [5.0], "n": [1]}, geometry=[_square(0, 1000)], crs=WORKING_CRS
    )
    both = pd.concat([areas, extra], ignore_index=True)
    params = cv.CoverageParams(as_of="2024-05-10", cctv_min_share=0.25)
    gaps = cv.gap_list(cv.coverage(both, **layers_by_hand, params=params), measure="harm")
    assert gaps.table["id"].iloc[0] == "d"
    assert gaps.table["gaps"].iloc[0] == "no CCTV view; no recent walkabout; no operation"
    assert_allclose(gaps.shares["all"], 5 / 65)
    assert gaps.total_label == "total harm of the hotspots given"


def test_gap_list_ranks_by_the_priority_score_by_default(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    scored = areas.assign(predicted_n=[4.0, 1.0, 2.0])  # A, B, C: expected incidents next month
    out = cv.coverage(scored, **layers_by_hand, params=cv.CoverageParams(as_of="2024-05-10", cctv_min_share=0.25))
    gaps = cv.gap_list(out, borough_total=14.0)
    assert gaps.measure == "predicted_n" and gaps.total_label == "borough total expected incidents next month"
    assert gaps.table["id"].tolist() == ["a", "c", "b"]  # all tie on two gaps, then by predicted_n
    assert_allclose(gaps.table["share_of_total"], [4 / 14, 2 / 14, 1 / 14])


def test_gap_list_to_gdf_puts_each_area_polygon_on_its_row(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    out = cv.coverage(areas, **layers_by_hand, params=cv.CoverageParams(as_of="2024-05-10", cctv_min_share=0.25))
    gaps = cv.gap_list(out, measure="harm", borough_total=120.0)
    before = gaps.table.copy()
    frame = cv.gap_list_to_gdf(gaps, covered=out)
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs == WORKING_CRS
    assert list(frame.columns) == [*gaps.table.columns, "geometry"]
    assert frame["id"].tolist() == ["b", "c", "a"]  # the gap list's order, not the areas'
    assert [g.bounds for g in frame.geometry] == [(200, 0, 300, 100), (400, 0, 500, 100), (0, 0, 100, 100)]
    pd.testing.assert_frame_equal(gaps.table, before)  # the gap list unchanged
    fewer = cv.gap_list_to_gdf(gaps, covered=out[out["area_id"] != "c"])
    assert fewer.geometry.isna().tolist() == [False, True, False]  # no polygon for an id covered lacks
    with pytest.raises(SchemaError, match="neither 'area_id' nor 'unit_id'"):
        cv.gap_list_to_gdf(gaps, covered=out.drop(columns="area_id"))
    with pytest.raises(SchemaError, match="no identifier column 'hotspot'"):
        cv.gap_list_to_gdf(gaps, covered=out, id_col="hotspot")


def test_gap_list_to_dict_document(areas: gpd.GeoDataFrame, layers_by_hand: dict) -> None:
    out = cv.coverage(areas, **layers_by_hand, params=cv.CoverageParams(as_of="2024-05-10", cctv_min_share=0.25))
    gaps = cv.gap_list(out, measure="harm", borough_total=120.0)
    sites = pd.DataFrame({"rank": [1], "easting": [250.0], "northing": [50.0]})
    doc = cv.gap_list_to_dict(gaps, camera_sites=sites)
    assert list(doc) == ["gaps", "shares_uncovered", "total", "total_label", "camera_sites", "camera_sites_caveat"]
    rows = doc["gaps"]
    assert isinstance(rows, list) and [r["id"] for r in rows] == ["b", "c", "a"]
    assert "walkabout_last" not in rows[0] and "walkabout_n" in rows[0]  # the date stays in the files only
    assert (
        doc["total"] == 120.0 and doc["total_label"] == "borough total harm" and doc["shares_uncovered"] is gaps.shares
    )
    assert doc["camera_sites"] == [{"rank": 1, "easting": 250.0, "northing": 50.0}]
    assert doc["camera_sites_caveat"] == cv.SITING_CAVEAT
    assert cv.gap_list_to_dict(gaps, camera_sites=pd.DataFrame())["camera_sites"] == []


def test_coverage_input_errors(areas: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="reproject it with .to_crs"):
        cv.coverage(areas.to_crs("EPSG:4326"))
    with pytest.raises(ParameterError, match="cctv_min_share"):
        cv.CoverageParams(cctv_min_share=1)
    with pytest.raises(SchemaError, match="compute it with coverage.coverage"):
        cv.gap_list(areas, measure="harm")
    with pytest.raises(SchemaError, match="add_priority"):
        cv.gap_list(cv.coverage(areas))


def test_site_cameras_greedy_known_answer() -> None:
    # demand: 3 points of harm 5 at x=0, 2 points of harm 4 at x=500, 1 point of harm 9 at x=1000
    demand = gpd.GeoDataFrame(
        {"harm": [5, 5, 5, 4, 4, 9]},
        geometry=shapely.points([(0, 0), (10, 0), (0, 10), (500, 0), (505, 0), (1000, 0)]),
        crs=WORKING_CRS,
    )
    candidates = gpd.GeoDataFrame(
        {"cand": ["west", "middle", "east", "west2"]},
        geometry=shapely.points([(5, 5), (500, 5), (1000, 5), (0, 5)]),
        crs=WORKING_CRS,
    )
    chosen = cv.site_cameras(candidates, demand, radius_m=50, n_cameras=3)
    assert chosen["cand"].tolist() == ["west", "east", "middle"]  # 15, then 9, then 8
    assert_allclose(chosen["new_weight"], [15, 9, 8])
    assert_allclose(chosen["share_of_uncovered"], np.array([15, 24, 32]) / 32)
    # with the west cluster already in view, east comes first and only two cameras add anything
    views = gpd.GeoDataFrame(geometry=[shapely.box(-20, -20, 20, 20)], crs=WORKING_CRS)
    chosen = cv.site_cameras(candidates, demand, radius_m=50, n_cameras=3, views=views)
    assert chosen["cand"].tolist() == ["east", "middle"]


# ------------------------------------------------------------------ real data
@pytest.mark.slow
def test_real_trafford_cctv_coverage_within_100m(real_file: Callable[..., Path]) -> None:
    cams = layers.read_cctv(real_file("cctv-trafford", "trafford_cctv_cameras.csv"))
    wards = gpd.read_file(real_file("gm-wards", "gm_wards_2022_generalised.geojson")).to_crs(WORKING_CRS)
    las = gpd.read_file(real_file("gm-local-authorities", "gm_local_authority_2021_generalised.geojson")).to_crs(
        WORKING_CRS
    )
    # the camera file uses Trafford's post-2023 ward codes, which are not in the 2022 ward file: pick
    # Trafford's wards by borough instead (ward inside the Trafford outline)
    assert not wards["area_code"].isin(cams["area_code"]).any()
    trafford = las.loc[las["area_name"] == "Trafford"].geometry.iloc[0]
    t_wards = wards[wards.geometry.representative_point().within(trafford)].rename(columns={"area_code": "area_id"})
    assert len(t_wards) == 21
    assert cams.geometry.within(shapely.union_all(t_wards.geometry.to_numpy())).all()
    views = layers.camera_views(cams, default_radius_m=100.0)
    out = cv.coverage(t_wards, views=views)
    borough_share = float((out["cctv_share"] * t_wards.area).sum() / t_wards.area.sum())
    # oracle: exact circles via a fine buffer, measured independently
    exact = shapely.union_all(shapely.buffer(cams.geometry.to_numpy(), 100.0, quad_segs=64))
    oracle = shapely.intersection(exact, shapely.union_all(t_wards.geometry.to_numpy())).area / t_wards.area.sum()
    assert_allclose(borough_share, oracle, rtol=0.005)
    assert 0.03 < borough_share < 0.04  # measured: 3.6 % of Trafford lies within 100 m of a council camera


# ------------------------------------------------------------------ SYNTHETIC demo borough
@pytest.fixture(scope="module")
def demo(demo_borough: DemoPaths) -> Path:
    return demo_borough.out_dir


def _planted_places(folder: Path) -> gpd.GeoDataFrame:
    from _planning_demo import geojson_to_bng, truth

    spots = truth(folder)["hotspots"]
    return gpd.GeoDataFrame(
        {
            "area_id": [s["name"] for s in spots],
            "name": [s["name"] for s in spots],
            "harm": [float(sum(s["planted_rows"])) for s in spots],
        },
        geometry=[geojson_to_bng(s["polygon"]) for s in spots],
        crs=WORKING_CRS,
    )


def _grid_share_in_views(
    polygon: shapely.Geometry, cams: pd.DataFrame, *, default_radius_m: float, step_m: float = 4.0
) -> float:
    """Independent oracle: share of a 4 m point grid in the polygon that any camera sees, by plain
    trigonometry (distance <= range and compass angle within bearing +- fov/2; a circle without bearing)."""
    x0, y0, x1, y1 = polygon.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, step_m) + step_m / 2, np.arange(y0, y1, step_m) + step_m / 2)
    inside = shapely.contains_xy(polygon, gx, gy)
    px, py = gx[inside], gy[inside]
    seen = np.zeros(len(px), dtype=bool)
    cx, cy = shapely.get_x(cams.geometry.to_numpy()), shapely.get_y(cams.geometry.to_numpy())
    for i in range(len(cams)):  # a few dozen cameras
        r = cams["range_m"].iloc[i] if np.isfinite(cams["range_m"].iloc[i]) else default_radius_m
        dx, dy = px - cx[i], py - cy[i]
        near = np.hypot(dx, dy) <= r
        if np.isfinite(cams["bearing_deg"].iloc[i]):
            angle = np.degrees(np.arctan2(dx, dy)) % 360
            off = np.abs((angle - cams["bearing_deg"].iloc[i] + 180) % 360 - 180)
            near &= off <= cams["fov_deg"].iloc[i] / 2
        seen |= near
    return float(seen.mean())


@pytest.mark.slow
def test_demo_cctv_and_walkabout_coverage_match_hand_computed(demo: Path) -> None:
    from _planning_demo import truth

    places = _planted_places(demo)
    cams = layers.read_cctv(demo / "layers" / "cctv.csv")
    assert cams["bearing_deg"].isna().sum() == 3  # the planted cameras with an unknown view
    views = layers.camera_views(cams, default_radius_m=50.0)
    routes = layers.read_routes(demo / "layers" / "walkabouts.gpx")
    out = cv.coverage(
        places,
        views=views,
        walkabouts=routes,
        params=cv.CoverageParams(as_of="2025-12-31", weeks=27, walk_distance_m=50.0),
    )
    for i, row in out.iterrows():
        oracle = _grid_share_in_views(row.geometry, cams, default_radius_m=50.0)
        assert_allclose(row["cctv_share"], oracle, atol=0.003), row["name"]
    planted = truth(demo)["coverage"]
    by_name = out.set_index("name")
    for place, cams_in in planted["cctv"].items():
        assert (by_name.loc[place, "cctv_share"] > 0) == bool(cams_in), place
        # every walkabout planted for a place is counted there, and no other
        assert by_name.loc[place, "walkabout_n"] == len(planted["walkabouts"][place]), place
    assert by_name.loc["Moorside", "cctv_share"] == 0 and by_name.loc["Moorside", "walkabout_n"] == 0
    # default 8 weeks to 31 Dec 2025: only the walks of 24 Nov (town centre) and 18 Dec (Victoria Estate)
    recent = cv.coverage(places, walkabouts=routes, params=cv.CoverageParams(as_of="2025-12-31"))
    assert recent.set_index("name")["walkabout_n"].to_dict() == {
        "Bury Town Centre": 1,
        "Moorside": 0,
        "Victoria Estate": 1,
        "Radcliffe Town Centre": 0,
    }


@pytest.mark.slow
def test_demo_moorside_first_in_gap_list(demo: Path) -> None:
    from _planning_demo import incidents

    from geo_csp import boundaries, hotspot_run

    inc = incidents(demo)
    borough = boundaries.load_borough()
    result = hotspot_run.run_hotspots(
        inc, cube_params=CubeParams(measure="harm"), study_area=borough, named_places=boundaries.load_named_places()
    )
    lay = demo / "layers"
    out = cv.coverage(
        result.areas,
        views=layers.camera_views(layers.read_cctv(lay / "cctv.csv")),
        walkabouts=layers.read_routes(lay / "walkabouts.gpx"),
        operations=layers.read_operations(lay / "operations.geojson", borough=borough),
        hubs=layers.read_hubs(lay / "hubs.csv"),
    )
    gaps = cv.gap_list(out, measure="harm", borough_total=float(result.units["harm"].sum()))
    first = gaps.table.iloc[0]
    assert first["name"] == "Moorside"
    assert first["gaps"] == "no CCTV view; no recent walkabout; no operation"
    assert first["nearest_hub"].startswith("Moorside community hub")
    town = gaps.table.set_index("name").loc["Bury Town Centre"]
    assert town["cctv_covered"] and town["walkabout_covered"] and town["operations"] == "Heartbeat"
    assert gaps.shares["all"] >= first["share_of_total"] > 0


def test_site_cameras_in_hotspots_known_answer(areas: gpd.GeoDataFrame) -> None:
    # burglary (harm from the CCHI) at one snap point in B, and 3 ASB at another in C; one outside all areas
    inc = pd.DataFrame(
        {
            "easting": [250.0, 450.0, 450.0, 450.0, 5000.0],
            "northing": [50.0, 50.0, 50.0, 50.0, 50.0],
            "crime_type": [
                "Burglary",
                "Anti-social behaviour",
                "Anti-social behaviour",
                "Anti-social behaviour",
                "Burglary",
            ],
        }
    )
    by_count = cv.site_cameras_in_hotspots(areas, inc, measure="n", n_cameras=2, radius_m=30)
    assert by_count[["easting", "northing"]].to_numpy().tolist() == [[450.0, 50.0], [250.0, 50.0]]
    assert_allclose(by_count["new_weight"], [3, 1])
    assert by_count["area_id"].tolist() == ["c", "b"] and by_count["area_name"].tolist() == ["C", "B"]
    assert by_count.attrs["caveat"] == cv.SITING_CAVEAT and "anonymised snap points" in cv.SITING_CAVEAT
    from geo_csp import harm

    w = harm.incident_harm(pd.Series(["Burglary", "Anti-social behaviour"]))
    by_harm = cv.site_cameras_in_hotspots(areas, inc, measure="harm", n_cameras=1, radius_m=30)
    assert_allclose(by_harm["new_weight"].iloc[0], max(w[0], 3 * w[1]))
    with pytest.raises(SchemaError, match="crime_type"):
        cv.site_cameras_in_hotspots(areas, inc.drop(columns="crime_type"))


def test_gap_list_high_harm_with_one_gap_outranks_low_harm_with_two(
    areas: gpd.GeoDataFrame, layers_by_hand: dict
) -> None:
    # A (harm 10) is in CCTV view only: 2 gaps. E (harm 100) has CCTV and a recent walk but no operation: 1 gap.
    extra = gpd.GeoDataFrame(
        {"area_id": ["e"], "name": ["E"], "harm": [100.0], "n": [1]},
        geometry=[shapely.box(50, 50, 150, 150)],
        crs=WORKING_CRS,
    )
    both = pd.concat([areas.iloc[[0]], extra], ignore_index=True)
    routes = layers_by_hand["walkabouts"].assign(date=pd.Timestamp("2024-05-01"))
    out = cv.coverage(
        both,
        views=layers_by_hand["views"],
        walkabouts=routes.iloc[[2]],
        operations=layers_by_hand["operations"],
        params=cv.CoverageParams(as_of="2024-05-10"),
    )
    gaps = cv.gap_list(out, measure="harm")
    assert gaps.table["n_gaps"].tolist() == [1, 2]
    assert gaps.table["id"].tolist() == ["e", "a"]
