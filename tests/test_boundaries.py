"""Bury's shipped geography, user boundary files, and point-in-polygon assignment."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import boundaries, schema
from geo_csp._errors import CRSError, InputFileError, SchemaError


def test_shipped_bury_geography_and_population():
    wards = boundaries.load_wards()
    assert len(wards) == 17 and wards.crs == "EPSG:27700"
    assert list(wards.columns) == [schema.WARD_CODE, schema.WARD_NAME, schema.POPULATION, "geometry"]
    assert int(wards[schema.POPULATION].sum()) == 193_859  # Census 2021 usual residents (PROVENANCE.md)
    lsoas = boundaries.load_lsoas(era=2021)
    assert len(lsoas) == 120 and int(lsoas[schema.POPULATION].sum()) == 193_859
    assert set(lsoas[schema.WARD_CODE]) == set(wards[schema.WARD_CODE])
    assert len(boundaries.load_wards(year=2017)) == 17 and len(boundaries.load_lsoas(era=2011)) == 120
    assert "Victoria Estate" in set(boundaries.load_named_places()["name"])


def test_assign_to_polygons_known_answer_repeated_and_unlocated_points():
    squares = gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs="EPSG:27700"
    )
    x = np.array([5.0, 15.0, 5.0, 10.0, 30.0, np.nan])
    y = np.array([5.0, 5.0, 5.0, 5.0, 5.0, np.nan])
    codes = boundaries.assign_to_polygons(x, y, squares, code_col="code")
    # repeated point once per distinct pair; a shared edge goes to the first polygon; outside and NaN -> None
    assert codes.tolist() == ["A", "B", "A", "A", None, None]
    with pytest.raises(CRSError, match="to_crs"):
        boundaries.assign_to_polygons(x, y, squares.to_crs(4326), code_col="code")
    with pytest.raises(SchemaError, match="no column 'ward_code'"):
        boundaries.assign_to_polygons(x, y, squares, code_col="ward_code")


def test_ward_centroids_land_in_their_own_ward():
    wards = boundaries.load_wards()
    pts = wards.geometry.representative_point()
    codes = boundaries.assign_to_polygons(pts.x.to_numpy(), pts.y.to_numpy(), wards, code_col=schema.WARD_CODE)
    assert codes.tolist() == wards[schema.WARD_CODE].tolist()
    assert boundaries.mostly_in_shipped_borough(pts.x.to_numpy(), pts.y.to_numpy())
    assert not boundaries.mostly_in_shipped_borough(np.array([368_000.0]), np.array([428_000.0]))  # Blackburn


def test_lsoa_era_follows_the_police_uk_switch():
    assert boundaries.lsoa_era_for_months(["2019-01", "2021-12"]) == 2011
    assert boundaries.lsoa_era_for_months(pd.Series(["2022-01", "2024-05"])) == 2021
    with pytest.raises(SchemaError, match="span the police.uk switch"):
        boundaries.lsoa_era_for_months(["2021-12", "2022-01"])


def test_user_boundary_file_errors_name_the_fix(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        boundaries.read_boundary(tmp_path / "none.gpkg", code_col="c", name_col="n")
    path = tmp_path / "wards.geojson"
    gpd.GeoDataFrame(
        {"WD_CD": ["X1", "X1"], "WD_NM": ["a", "b"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:27700",
    ).to_file(path)
    with pytest.raises(SchemaError, match=r"no column\(s\) \['code'\]"):
        boundaries.read_boundary(path, code_col="code", name_col="WD_NM")
    with pytest.raises(SchemaError, match="appears twice"):
        boundaries.read_boundary(path, code_col="WD_CD", name_col="WD_NM")
    lines = tmp_path / "lines.geojson"
    gpd.GeoDataFrame({"c": ["x"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs="EPSG:27700").to_file(lines)
    with pytest.raises(InputFileError, match="not a polygon"):
        boundaries.read_boundary(lines, code_col="c", name_col="c")


def test_a_boundary_file_read_again_is_not_read_again_and_each_reader_gets_its_own_copy(tmp_path, monkeypatch):
    path = tmp_path / "wards.geojson"
    squares = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    gpd.GeoDataFrame({"WD_CD": ["X1", "X2"], "WD_NM": ["a", "b"]}, geometry=squares, crs="EPSG:27700").to_file(path)
    reads: list[str] = []
    read_file = gpd.read_file
    monkeypatch.setattr(gpd, "read_file", lambda p, *a, **k: (reads.append(str(p)), read_file(p, *a, **k))[1])
    first = boundaries.read_boundary(path, code_col="WD_CD", name_col="WD_NM")
    second = boundaries.read_boundary(tmp_path / "." / "wards.geojson", code_col="WD_CD", name_col="WD_NM")
    assert len(reads) == 1
    pd.testing.assert_frame_equal(first, second)
    first.loc[first.index[0], "geometry"] = shapely.box(0, 0, 1, 1)  # a caller changing its frame
    third = boundaries.read_boundary(path, code_col="WD_CD", name_col="WD_NM")
    assert third.geometry.area.tolist() == [10_000.0, 10_000.0] and len(reads) == 1
    # the file written again is read again, even at the same size
    gpd.GeoDataFrame({"WD_CD": ["X1", "X3"], "WD_NM": ["a", "c"]}, geometry=squares, crs="EPSG:27700").to_file(path)
    assert boundaries.read_boundary(path, code_col="WD_CD", name_col="WD_NM")["ward_code"].tolist() == ["X1", "X3"]
    assert len(reads) == 2


def test_district_of_a_multi_district_file(tmp_path):
    from geo_csp._errors import ParameterError

    path = tmp_path / "districts.geojson"
    gpd.GeoDataFrame(
        {"code": ["E07000001", "E07000002", "E07000003"], "district": ["Ribble Valley", "Preston", "Pendle"]},
        geometry=[shapely.box(i * 1000, 0, i * 1000 + 1000, 1000) for i in range(3)],
        crs="EPSG:27700",
    ).to_file(path, driver="GeoJSON")
    assert len(boundaries.load_borough(path)) == 3
    one = boundaries.load_borough(path, district="  preston ")  # case and spaces ignored
    assert list(one["district"]) == ["Preston"] and one.geometry.iloc[0].bounds == (1000, 0, 2000, 1000)
    assert list(boundaries.load_borough(path, district="E07000003")["district"]) == ["Pendle"]  # a code works too
    with pytest.raises(ParameterError) as err:
        boundaries.load_borough(path, district="Burnley")
    message = str(err.value)
    assert (
        "--district 'Burnley' is not in" in message
        and "'district' column holds Pendle, Preston, Ribble Valley" in message
    )
    with pytest.raises(ParameterError, match="empty"):
        boundaries.load_borough(path, district=" ")
