"""Partner layers: readers, validation errors and camera view geometry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import gpxpy.gpx
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import layers
from geo_csp._errors import LayerError
from geo_csp.settings import WORKING_CRS


def _camera(bearing: float | None, fov: float | None, range_m: float | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bearing_deg": [bearing], "fov_deg": [fov], "range_m": [range_m]},
        geometry=[shapely.Point(400_000, 300_000)],
        crs=WORKING_CRS,
    ).astype({"bearing_deg": float, "fov_deg": float, "range_m": float})


def test_sector_area_known_answer() -> None:
    view = layers.camera_views(_camera(0.0, 90.0, 50.0))
    assert view["view"].iloc[0] == "sector"
    assert_allclose(view.area.iloc[0], np.pi * 50**2 / 4, rtol=0.005)


def test_sector_points_the_way_of_its_bearing() -> None:
    east = layers.camera_views(_camera(90.0, 60.0, 40.0)).geometry.iloc[0]
    centroid = east.centroid
    assert centroid.x > 400_000 + 20 and abs(centroid.y - 300_000) < 1
    north = layers.camera_views(_camera(0.0, 60.0, 40.0)).geometry.iloc[0]
    assert north.centroid.y > 300_000 + 20 and abs(north.centroid.x - 400_000) < 1


def test_circle_when_no_bearing_uses_default_radius() -> None:
    view = layers.camera_views(_camera(None, None, None), default_radius_m=30.0)
    assert view["view"].iloc[0] == "circle"
    assert_allclose(view.area.iloc[0], np.pi * 30**2, rtol=0.005)


def test_bearing_without_fov_uses_default_fov() -> None:
    view = layers.camera_views(_camera(180.0, None, 20.0), default_fov_deg=180.0)
    assert_allclose(view.area.iloc[0], np.pi * 20**2 / 2, rtol=0.005)


def test_read_cctv_csv_lonlat_and_easting_northing(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text(
        "camera_id,name,lon,lat,bearing_deg,fov_deg,range_m\nc1,Market St,-2.2966,53.5933,45,90,60\nc2,Rock,-2.29,53.59,,,\n"
    )
    cams = layers.read_cctv(a)
    assert list(cams.columns[:5]) == list(layers.CAMERA_COLUMNS)
    assert cams.crs == WORKING_CRS and len(cams) == 2
    assert np.isnan(cams["bearing_deg"].iloc[1]) and cams["range_m"].iloc[0] == 60
    b = tmp_path / "b.csv"
    b.write_text("id,easting,northing\n1,380000,410000\n")
    cams_b = layers.read_cctv(b)
    assert_allclose(shapely.get_coordinates(cams_b.geometry), [[380000, 410000]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("camera_id,lon,lat\nc1,-2.29,abc\n", r"line 2: 'lat' is 'abc', not a number"),
        ("camera_id,lon,lat\nc1,53.59,-2.29\n", r"line 2.*look swapped"),
        ("camera_id,x1,y1\nc1,1,2\n", r"no coordinate columns"),
        ("camera_id,lon,lat,fov_deg\nc1,-2.29,53.59,400\n", r"line 2: fov_deg must be between 0 and 360"),
    ],
)
def test_bad_cctv_files_name_the_line_and_fix(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "cams.csv"
    path.write_text(text)
    with pytest.raises(LayerError, match=match):
        layers.read_cctv(path)


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="does not exist"):
        layers.read_cctv(tmp_path / "none.csv")
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(LayerError, match="unknown format"):
        layers.read_cctv(tmp_path / "x.docx")


def _write_gpx(path: Path) -> None:
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="Moorside walk", description="Police; Council ASB team; Six Town Housing")
    seg = gpxpy.gpx.GPXTrackSegment()
    for i in range(3):
        seg.points.append(
            gpxpy.gpx.GPXTrackPoint(53.59 + i * 0.001, -2.29, time=pd.Timestamp(f"2024-05-03 18:0{i}", tz="UTC"))
        )
    track.segments.append(seg)
    gpx.tracks.append(track)
    path.write_text(gpx.to_xml())


def test_read_routes_gpx(tmp_path: Path) -> None:
    path = tmp_path / "walks.gpx"
    _write_gpx(path)
    routes = layers.read_routes(path)
    assert list(routes.columns[:4]) == list(layers.ROUTE_COLUMNS)
    assert routes["name"].iloc[0] == "Moorside walk"
    assert routes["partners"].iloc[0] == "Police; Council ASB team; Six Town Housing"
    assert routes["date"].iloc[0] == pd.Timestamp("2024-05-03")
    assert routes.crs == WORKING_CRS
    assert_allclose(routes.length.iloc[0], 222.4, rtol=0.01)  # 0.002 degrees of latitude


def test_read_routes_geojson_and_kml(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["w1"], "date": ["2024-04-02"], "partners": ["Police,Fire"]},
        geometry=[shapely.LineString([(-2.29, 53.59), (-2.28, 53.59)])],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "w.geojson")
    frame.to_file(tmp_path / "w.kml", driver="KML")
    for name in ("w.geojson", "w.kml"):
        routes = layers.read_routes(tmp_path / name)
        assert routes["name"].iloc[0] == "w1"
        assert routes.geom_type.iloc[0] == "LineString"
    routes = layers.read_routes(tmp_path / "w.geojson")
    assert routes["partners"].iloc[0] == "Police; Fire"
    assert routes["date"].iloc[0] == pd.Timestamp("2024-04-02")


def test_bad_routes(tmp_path: Path) -> None:
    (tmp_path / "bad.gpx").write_text("<gpx><trk><trkseg>")
    with pytest.raises(LayerError, match="not valid GPX"):
        layers.read_routes(tmp_path / "bad.gpx")
    pts = gpd.GeoDataFrame({"name": ["p"]}, geometry=[shapely.Point(-2.29, 53.59)], crs="EPSG:4326")
    pts.to_file(tmp_path / "pts.geojson")
    with pytest.raises(LayerError, match=r"feature 1: is a Point"):
        layers.read_routes(tmp_path / "pts.geojson")
    frame = gpd.GeoDataFrame(
        {"name": ["w"], "date": ["someday"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs="EPSG:4326"
    )
    frame.to_file(tmp_path / "d.geojson")
    with pytest.raises(LayerError, match="'date' is 'someday', not a date"):
        layers.read_routes(tmp_path / "d.geojson")


def _ops_file(path: Path, features: list[dict]) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def test_read_operations_footprints(tmp_path: Path) -> None:
    square = [[[-2.30, 53.59], [-2.29, 53.59], [-2.29, 53.60], [-2.30, 53.60], [-2.30, 53.59]]]
    _ops_file(
        tmp_path / "ops.geojson",
        [
            {
                "type": "Feature",
                "properties": {
                    "name": "Heartbeat",
                    "type": "targeted",
                    "start_date": "2024-03-01",
                    "end_date": "2024-05-31",
                    "notes": "town centre",
                    "footprint": "polygon",
                },
                "geometry": {"type": "Polygon", "coordinates": square},
            },
            {
                "type": "Feature",
                "properties": {
                    "name": "Avro 1",
                    "type": "day_of_action",
                    "start_date": "2024-04-10",
                    "end_date": "2024-04-10",
                    "notes": "",
                    "footprint": "borough",
                },
                "geometry": None,
            },
        ],
    )
    borough = gpd.GeoDataFrame(geometry=[shapely.box(370_000, 400_000, 390_000, 420_000)], crs=WORKING_CRS)
    ops = layers.read_operations(tmp_path / "ops.geojson", borough=borough)
    assert list(ops.columns[:6]) == list(layers.OPERATION_COLUMNS)
    assert_allclose(ops.area.iloc[1], 20_000**2)
    assert ops["start_date"].iloc[0] == pd.Timestamp("2024-03-01")
    with pytest.raises(LayerError, match=r"feature 2 \(Avro 1\): footprint is 'borough' but no borough"):
        layers.read_operations(tmp_path / "ops.geojson")


def test_bad_operation_dates(tmp_path: Path) -> None:
    _ops_file(
        tmp_path / "ops.geojson",
        [
            {
                "type": "Feature",
                "properties": {"name": "X", "start_date": "2024-05-01", "end_date": "2024-04-01"},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 51], [0.01, 51], [0.01, 51.01], [0, 51]]]},
            }
        ],
    )
    with pytest.raises(LayerError, match=r"feature 1 \(X\): end_date is before start_date"):
        layers.read_operations(tmp_path / "ops.geojson")


def test_read_hubs_csv(tmp_path: Path) -> None:
    path = tmp_path / "hubs.csv"
    path.write_text("hub_id,name,kind,lon,lat\nh1,Bury Library,library,-2.2966,53.5933\n")
    hubs = layers.read_hubs(path)
    assert list(hubs.columns[:3]) == list(layers.PLACE_COLUMNS)
    assert hubs["place_id"].iloc[0] == "h1" and hubs["kind"].iloc[0] == "library"


# ------------------------------------------------------------------ real data
@pytest.mark.slow
def test_real_trafford_cctv_csv_and_geojson_agree(real_file: Callable[..., Path]) -> None:
    csv = layers.read_cctv(real_file("cctv-trafford", "trafford_cctv_cameras.csv"))
    geo = layers.read_cctv(real_file("cctv-trafford", "trafford_cctv_cameras.geojson"))
    assert len(csv) == len(geo) == 163
    assert csv["bearing_deg"].isna().all()  # Trafford publishes no viewsheds: circles
    views = layers.camera_views(csv, default_radius_m=100.0)
    assert (views["view"] == "circle").all()
    assert_allclose(shapely.distance(csv.geometry.to_numpy(), geo.geometry.to_numpy()).max(), 0, atol=0.01)


@pytest.mark.slow
def test_real_bury_libraries_and_polling_stations_as_hubs(real_file: Callable[..., Path]) -> None:
    libs = layers.read_hubs(real_file("gm-partner-layers", "gm_libraries.csv"), kind="library")
    bury_libs = libs[libs["area_name"] == "Bury"]
    assert sorted(bury_libs["name"]) == [
        "Bury Library",
        "Prestwich Library and Adult Learning Centre",
        "Radcliffe Library",
        "Ramsbottom Library and Adult Learning Centre",
    ]
    polls = layers.read_hubs(real_file("gm-partner-layers", "gm_polling_stations_2022.csv"), kind="polling station")
    bury_polls = polls[polls["la_name"] == "Bury"]
    assert len(bury_polls) == 86
    # all inside Bury's bounding box in British National Grid metres
    x, y = bury_polls.geometry.x, bury_polls.geometry.y
    assert x.between(374_000, 386_000).all() and y.between(400_000, 418_000).all()


def test_walk_date_is_the_uk_calendar_day(tmp_path: Path) -> None:
    # 23:30 UTC on 1 June is 00:30 BST on 2 June: the walk happened on 2 June
    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="Late walk")
    seg = gpxpy.gpx.GPXTrackSegment()
    for i in range(2):
        seg.points.append(
            gpxpy.gpx.GPXTrackPoint(53.59 + i * 0.001, -2.29, time=pd.Timestamp(f"2024-06-01 23:3{i}", tz="UTC"))
        )
    track.segments.append(seg)
    gpx.tracks.append(track)
    path = tmp_path / "late.gpx"
    path.write_text(gpx.to_xml())
    assert layers.read_routes(path)["date"].iloc[0] == pd.Timestamp("2024-06-02")
    line = {"type": "LineString", "coordinates": [[-2.30, 53.59], [-2.29, 53.59]]}
    geo = tmp_path / "late.geojson"
    geo.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": line, "properties": {"date": "2024-06-01T23:30:00+00:00"}},
                    {"type": "Feature", "geometry": line, "properties": {"date": "2024-01-05"}},
                ],
            }
        )
    )
    assert layers.read_routes(geo)["date"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-01-05")]


def test_operation_with_a_line_footprint_names_its_type(tmp_path: Path) -> None:
    _ops_file(
        tmp_path / "ops.geojson",
        [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-2.30, 53.59], [-2.29, 53.59]]},
                "properties": {"name": "Op Line", "start_date": "2024-01-01", "end_date": "2024-01-31"},
            }
        ],
    )
    with pytest.raises(LayerError, match=r"feature 1 \(Op Line\): footprint must be a polygon, not a LineString"):
        layers.read_operations(tmp_path / "ops.geojson")


def _ops_named_place(path: Path) -> None:
    _ops_file(
        path,
        [
            {
                "type": "Feature",
                "properties": {
                    "name": "Lantern",
                    "start_date": "2024-04-01",
                    "end_date": "2024-04-30",
                    "footprint": "Prestwich",
                },
                "geometry": None,
            }
        ],
    )


def test_store_layers_one_rule_for_every_shell(tmp_path: Path) -> None:
    from geo_csp import store

    root = tmp_path / "store"
    root.mkdir()
    folder = tmp_path / "layers"  # beside the store: found without a layers_dir in the config
    folder.mkdir()
    (folder / "cameras.csv").write_text("camera_id,name,easting,northing\nc1,Rock,380000,410000\n")
    _write_gpx(folder / "routes.gpx")  # the older name of the walkabouts file
    (folder / "hubs.csv").write_text("hub_id,name,kind,lon,lat\nh1,Bury Library,library,-2.2966,53.5933\n")
    (folder / "borough_walk.graphml").write_text("<graphml/>")
    _ops_named_place(tmp_path / "mine.geojson")
    # the config's own table names the operations file, under a kind name older stores used for walkabouts too
    store.write_store_config(root, {"layers": {"operations": "../mine.geojson"}})
    place = shapely.box(380_000, 405_000, 382_000, 407_000)
    places = gpd.GeoDataFrame({"name": ["Prestwich"]}, geometry=[place], crs=WORKING_CRS)

    found = layers.store_layers(store.read_config(root), places=places, camera_radius_m=30.0)
    assert dict(found.files) == {
        "cctv": str(folder / "cameras.csv"),
        "walkabouts": str(folder / "routes.gpx"),
        "operations": str(root / "../mine.geojson"),
        "hubs": str(folder / "hubs.csv"),
    }
    assert found.missing == () and found.problems == ()
    assert found.walkabouts is not None and found.walkabouts["name"].iloc[0] == "Moorside walk"
    # the operation's named footprint is the store's own place, not a shipped one
    assert found.operations is not None and found.operations.geometry.iloc[0].equals(place)
    assert_allclose(found.views.area.iloc[0], np.pi * 30.0**2, rtol=2e-3)  # circle (polygon) of the radius given
    assert found.network == folder / "borough_walk.graphml"

    # a file given (a command's --walkabouts) comes first; the old "routes" key of the table is walkabouts
    _write_gpx(tmp_path / "other.gpx")
    store.write_store_config(root, {"layers": {"routes": "../other.gpx"}, "layers_dir": "../nowhere"})
    files = layers.layer_files(store.read_config(root))
    assert files["walkabouts"] == root / "../other.gpx" and files["cctv"] is None  # layers_dir wins over beside
    assert layers.layer_files(store.read_config(root), given={"walkabouts": folder / "routes.gpx"})["walkabouts"] == (
        folder / "routes.gpx"
    )
    with pytest.raises(LayerError, match="unknown partner layer"):
        layers.layer_files(None, given={"routes": folder / "routes.gpx"})


def test_store_layers_raise_or_skip_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "cctv.csv").write_text("camera_id,name\nc1,Rock\n")  # no coordinates
    (tmp_path / "hubs.csv").write_text("hub_id,name,kind,lon,lat\nh1,Bury Library,library,-2.2966,53.5933\n")
    with pytest.raises(LayerError, match="cctv.csv"):
        layers.store_layers(None, folder=tmp_path)
    found = layers.store_layers(None, folder=tmp_path, errors="skip")
    assert found.cameras is None and found.views is None and found.hubs is not None
    assert [k for k, _ in found.problems] == ["cctv"] and "cctv.csv" in found.problems[0][1]
    assert found.missing == ("walkabouts", "operations")
