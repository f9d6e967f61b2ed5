"""STATS19 road casualties: the reader's fields on hand-made rows, and casualties per ward."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import roads, schema
from geo_csp._errors import InputFileError, SchemaError

GM_HEADER = (
    "AREFNO,date,year,month,day,hour,mode,output_time,collision_severity,casualty_severity,number_vehicles,"
    "number_casualties,sex,ageband,light_conditions,speed_limit,area_name,lon,lat"
)


def _frame(text: str) -> pd.DataFrame:
    lines = [line.split(",") for line in text.strip().splitlines()]
    return pd.DataFrame(lines[1:], columns=lines[0], dtype=object)


def _checks(rows: roads.Stats19Rows) -> dict[str, list[int]]:
    return {code: np.flatnonzero(mask).tolist() for code, mask in rows.checks if mask.any()}


def test_casualty_layout_known_answers() -> None:
    text = "\n".join(
        [
            GM_HEADER,
            "A1,2024-01-01,2024,Jan,Mon,12,Pedestrian,12:03:00,Serious,Serious,1,2,Female,36-45,Daylight,30,Bury,-2.3,53.59",
            "A1,2024-01-01,2024,Jan,Mon,12,Car,12:03:00,Serious,Slight,1,2,Male,Over 75,Daylight,30,Bury,-2.3,53.59",
            "A2,2024-07-01,2024,Jul,Mon,,Car,,Slight,Slight,2,1,-1,-1,Dark,30,Bury,-2.29,53.6",  # no time: date only
            "A3,2024-02-30,2024,Feb,Fri,1,Car,01:00:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",  # no such day
            "A4,2024-02-01,2024,Feb,Thu,1,Car,25:00:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",  # no such hour
            "A5,2024-02-01,2024,Feb,Thu,1,Car,01:00:00,Minor,Minor,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",  # severity
            ",2024-02-01,2024,Feb,Thu,1,Car,01:00:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",  # no ref
            "A6,2024-02-01,2024,Feb,Thu,1,Car,01:00:00,Slight,Slight,1,1,Robot,26-35,Dark,30,Bury,-2.3,53.59",  # sex
        ]
    )
    rows = roads.parse_stats19(_frame(text))
    assert rows.layout == "casualty" and (rows.x_column, rows.y_column, rows.crs) == ("lon", "lat", "EPSG:4326")
    assert rows.collision_id.iloc[:3].tolist() == ["A1", "A1", "A2"]
    assert rows.local.iloc[0] == pd.Timestamp("2024-01-01 12:03:00")
    assert rows.local.iloc[2] == pd.Timestamp("2024-07-01") and rows.has_time.tolist()[:3] == [True, True, False]
    assert rows.severity.iloc[:3].tolist() == ["Serious", "Slight", "Slight"]  # the casualty's, not the collision's
    assert rows.travel_mode.iloc[:2].tolist() == ["Pedestrian", "Car"]
    assert rows.victim_sex.iloc[:2].tolist() == ["female", "male"] and pd.isna(rows.victim_sex.iloc[2])
    assert rows.victim_age_band.iloc[:2].tolist() == ["36-45", "76+"] and pd.isna(rows.victim_age_band.iloc[2])
    assert rows.casualties.tolist() == [1.0] * 8  # one row per casualty
    assert _checks(rows) == {"bad_date": [3, 4], "bad_severity": [5], "missing_required": [6], "bad_sex": [7]}


def test_dft_collision_layout_known_answers() -> None:
    text = "\n".join(
        [
            "accident_index,accident_year,location_easting_osgr,location_northing_osgr,longitude,latitude,"
            "accident_severity,number_of_vehicles,number_of_casualties,date,day_of_week,time",
            "2019010128300,2019,380000,410000,-2.3,53.59,3,2,3,18/02/2019,2,17:50",
            "2019010128301,2019,380100,410100,-2.3,53.59,1,1,1,31/12/2019,3,23:59",
            "2019010128302,2019,380100,410100,-2.3,53.59,4,1,1,31/12/2019,3,23:59",  # code 4 is no severity
            "2019010128303,2019,380100,410100,-2.3,53.59,2,1,0,31/12/2019,3,23:59",  # no casualty
            "2019010128304,2019,380100,410100,-2.3,53.59,2,1,1.5,31/12/2019,3,23:59",
        ]
    )
    rows = roads.parse_stats19(_frame(text))
    assert rows.layout == "collision" and rows.crs == "EPSG:4326"
    assert rows.local.iloc[:2].tolist() == [pd.Timestamp("2019-02-18 17:50"), pd.Timestamp("2019-12-31 23:59")]
    assert rows.severity.iloc[:2].tolist() == ["Slight", "Fatal"]
    assert rows.casualties[:2].tolist() == [3.0, 1.0]  # a collision row stands for its casualties
    assert rows.travel_mode.isna().all()  # DfT's collision file has no mode of travel
    assert _checks(rows) == {"bad_severity": [2], "bad_casualties": [3, 4]}


def test_dft_casualty_codes() -> None:
    text = "\n".join(
        [
            "accident_index,date,time,casualty_severity,casualty_type,sex_of_casualty,age_band_of_casualty,"
            "location_easting_osgr,location_northing_osgr",
            "X1,01/03/2020,08:15,2,0,2,4,380000,410000",
            "X2,01/03/2020,08:15,3,9,1,11,380000,410000",
            "X3,01/03/2020,08:15,3,-1,9,-1,380000,410000",
        ]
    )
    rows = roads.parse_stats19(_frame(text))
    assert rows.layout == "casualty" and rows.crs == "EPSG:27700"
    assert rows.travel_mode.iloc[:2].tolist() == ["Pedestrian", "Car occupant"] and pd.isna(rows.travel_mode.iloc[2])
    assert rows.victim_sex.iloc[:2].tolist() == ["female", "male"] and pd.isna(rows.victim_sex.iloc[2])
    assert rows.victim_age_band.iloc[:2].tolist() == ["16-20", "76+"] and pd.isna(rows.victim_age_band.iloc[2])
    assert rows.severity.tolist() == ["Serious", "Slight", "Slight"] and not _checks(rows)


def test_not_stats19() -> None:
    assert roads.stats19_layout(["Crime ID", "Month", "Longitude", "Latitude"]) is None
    # the DfT casualty file alone has no date or point: refused, naming what it needs
    with pytest.raises(InputFileError, match="not a STATS19 layout.*a date"):
        roads.parse_stats19(pd.DataFrame(columns=["accident_index", "casualty_severity", "casualty_type"]))


def _wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {schema.WARD_CODE: ["W1", "W2"], schema.WARD_NAME: ["West", "East"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
        crs="EPSG:27700",
    )


def test_casualties_by_ward_hand_counted() -> None:
    inc = pd.DataFrame(
        {
            schema.SOURCE: [schema.SOURCE_STATS19] * 6 + [schema.SOURCE_STREET],
            schema.MONTH: ["2024-01", "2024-01", "2024-02", "2024-02", "2024-03", "2024-01", "2024-01"],
            schema.EASTING: [10.0, 10.0, 150.0, 150.0, 150.0, 500.0, 10.0],
            schema.NORTHING: [10.0, 10.0, 50.0, 50.0, 50.0, 50.0, 10.0],
            schema.WEIGHT: [1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.0],
            schema.SEVERITY: ["Fatal", "Slight", "Serious", "Slight", "Slight", "Slight", None],
            schema.CRIME_ID: ["c1", "c1", "c2", "c3", "c4", "c5", None],
        }
    )
    out = roads.casualties_by_ward(inc, _wards())
    assert list(out.columns) == list(roads.WARD_COLUMNS)
    assert out.loc["W1"].tolist() == ["West", 2, 1, 1, 1]
    assert out.loc["W2"].tolist() == ["East", 6, 3, 0, 3]
    assert out.attrs["counted"]["outside_wards"] == 1 and out.attrs["counted"]["casualties"] == 9
    feb = roads.casualties_by_ward(inc, _wards(), months=("2024-02", "2024-02"))
    assert feb["casualties"].tolist() == [0, 4]
    with pytest.raises(SchemaError, match="no STATS19"):
        roads.casualties_by_ward(inc.iloc[6:], _wards())
    with pytest.raises(SchemaError, match="reproject"):
        roads.casualties_by_ward(inc, _wards().to_crs("EPSG:4326"))


def test_reader_through_ingest_quarantines_with_reasons(tmp_path) -> None:
    from geo_csp import ingest

    text = "\n".join(
        [
            GM_HEADER,
            "A1,2024-01-01,2024,Jan,Mon,12,Pedestrian,12:03:00,Serious,Serious,1,2,Female,36-45,Daylight,30,Bury,-2.3,53.59",
            "A1,2024-01-01,2024,Jan,Mon,12,Car,12:03:00,Serious,Slight,1,2,Male,Over 75,Daylight,30,Bury,-2.3,53.59",
            "A2,2024-07-01,2024,Jul,Mon,,Car,,Slight,Slight,2,1,-1,-1,Dark,30,Bury,-2.29,53.6",
            "A3,2024-02-30,2024,Feb,Fri,1,Car,01:00:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",
            "A5,2024-02-01,2024,Feb,Thu,1,Car,01:00:00,Minor,Minor,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",
            "A6,2024-02-01,2024,Feb,Thu,1,Car,01:00:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,0,0",
            "A7,2024-03-31,2024,Mar,Sun,1,Car,01:30:00,Slight,Slight,1,1,Male,26-35,Dark,30,Bury,-2.3,53.59",
        ]
    )
    path = tmp_path / "stats19.csv"
    path.write_text(text + "\n", encoding="utf-8")
    accepted, quarantined = ingest.read_file(path)
    acc = accepted.to_pandas()
    assert (acc[schema.SOURCE] == schema.SOURCE_STATS19).all() and (acc[schema.CRIME_TYPE] == "Road casualty").all()
    assert acc[schema.LINE].tolist() == [2, 3, 4, 8]
    # honest timestamps: 12:03 GMT is 12:03 UTC; 01:30 on the spring-forward night does not exist in the
    # UK and goes to 02:00 BST (01:00 UTC), the first clock time after it, as in every reader; a row with
    # no time keeps its day only
    assert acc[schema.OCCURRED_AT].iloc[0] == pd.Timestamp("2024-01-01 12:03", tz="UTC")
    assert pd.isna(acc[schema.OCCURRED_AT].iloc[2]) and str(acc[schema.OCCURRED_DATE].iloc[2]) == "2024-07-01"
    assert acc[schema.OCCURRED_AT].iloc[3] == pd.Timestamp("2024-03-31 01:00", tz="UTC")
    assert acc[schema.MONTH].tolist() == ["2024-01", "2024-01", "2024-07", "2024-03"]
    assert acc[schema.SEVERITY].tolist() == ["Serious", "Slight", "Slight", "Slight"]
    assert acc[schema.TRAVEL_MODE].tolist()[:2] == ["Pedestrian", "Car"]
    assert acc[schema.VICTIM_SEX].tolist()[:2] == ["female", "male"]
    assert acc[schema.CRIME_ID].tolist() == ["A1", "A1", "A2", "A7"] and acc[schema.WEIGHT].tolist() == [1.0] * 4
    q = quarantined.to_pandas()
    assert q[[schema.LINE, "reason"]].values.tolist() == [
        [5, "bad_date"],
        [6, "bad_severity"],
        [7, "zero_coordinates"],
    ]
    assert "date=2024-02-30" in q["message"].iloc[0] and "casualty_severity=Minor" in q["message"].iloc[1]


def _gm_file(real_file):
    return real_file("gm-road-casualties-2019-2024", "gm_stats19_road_casualties_2019-01_to_2024-06.csv.gz")


def test_real_gm_stats19_casualties_per_ward_for_bury(tmp_path, real_file) -> None:
    from geo_csp import boundaries, ingest, store

    path = _gm_file(real_file)
    (f,) = ingest.ingest_paths([path], store_dir=tmp_path).files
    assert (f.rows_read, f.accepted, f.quarantined) == (20435, 20435, 0)  # PROVENANCE: 20,435 casualty rows
    inc = store.read_incidents(tmp_path)
    assert inc[schema.OCCURRED_AT].notna().all()
    assert inc[schema.SEVERITY].value_counts().to_dict() == {"Slight": 16270, "Serious": 3823, "Fatal": 342}
    assert inc[schema.TRAVEL_MODE].value_counts()["Pedestrian"] == 3612
    wards = boundaries.load_wards()  # Bury's 17 wards of 2022
    table = roads.casualties_by_ward(inc, wards)
    assert len(table) == 17
    # oracle: geopandas' spatial join of the published points to the wards, counted independently
    raw = pd.read_csv(path)
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs="EPSG:4326").to_crs(
        "EPSG:27700"
    )
    joined = gpd.sjoin(pts, wards[[schema.WARD_CODE, "geometry"]], predicate="intersects")
    joined = joined[~joined.index.duplicated()]
    expected = joined.groupby(schema.WARD_CODE).size().reindex(table.index, fill_value=0)
    assert table["casualties"].tolist() == expected.tolist()
    ksi = joined[joined["casualty_severity"].isin(["Fatal", "Serious"])].groupby(schema.WARD_CODE).size()
    assert table["killed_or_seriously_injured"].tolist() == ksi.reindex(table.index, fill_value=0).tolist()
    assert (
        table["collisions"].tolist()
        == joined.groupby(schema.WARD_CODE)["AREFNO"].nunique().reindex(table.index, fill_value=0).tolist()
    )
    # the published borough name agrees to within the points on Bury's edge (generalised outlines)
    assert abs(int(table["casualties"].sum()) - 1401) <= 15
