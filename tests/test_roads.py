"""STATS19 road casualties: the reader's fields on hand-made rows, and casualties per ward."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import roads, schema
from geo_csp._errors import InputFileError, ParameterError, SchemaError

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


# ------------------------------------------------------------------ the measure by ward


def _hand_rows() -> pd.DataFrame:
    """9 STATS19 casualties (one unlocated, one outside the wards, one in 2023) and a police.uk row."""
    n = 10
    return pd.DataFrame(
        {
            schema.SOURCE: [schema.SOURCE_STATS19] * (n - 1) + [schema.SOURCE_STREET],
            schema.MONTH: ["2024-01", "2024-01", "2024-02", "2024-03", "2024-03", "2024-06", "2023-12", "2024-02"]
            + ["2024-02", "2024-01"],
            schema.EASTING: [10.0, 10.0, 150.0, 150.0, 160.0, 20.0, 30.0, 500.0, np.nan, 10.0],
            schema.NORTHING: [10.0, 10.0, 50.0, 50.0, 60.0, 20.0, 30.0, 50.0, np.nan, 10.0],
            schema.WEIGHT: [1.0] * n,
            schema.SEVERITY: ["Fatal", "Slight", "Serious", "Slight", "Slight", "Serious", "Slight", "Slight", "Slight"]
            + [None],
            schema.TRAVEL_MODE: ["Car", "Car", "Pedestrian", "Car", None, "Pedal Cycle", "Car", "Car", "Car", None],
            schema.CRIME_ID: ["c1", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", None],
        }
    )


def _wards_with_people() -> gpd.GeoDataFrame:
    return _wards().assign(**{schema.POPULATION: [2000.0, np.nan]})


def test_ward_casualty_table_known_answers() -> None:
    """By severity and mode, KSI, collisions and rates per 1,000 a year, counted by hand."""
    params = roads.CasualtyParams(first_month="2024-01", last_month="2024-06")
    t = roads.ward_casualty_table(_hand_rows(), _wards_with_people(), params=params)
    assert list(t.columns[: len(roads.CASUALTY_TABLE_COLUMNS)]) == list(roads.CASUALTY_TABLE_COLUMNS)
    # W1 (West): c1 Fatal Car, c1 Slight Car, c5 Serious Pedal Cycle (c6 is in 2023: outside the months)
    west = t.loc["W1"]
    assert [west[c] for c in ("casualties", "fatal", "serious", "slight", "killed_or_seriously_injured")] == [
        3,
        1,
        1,
        1,
        2,
    ]
    assert west["collisions"] == 2
    # 3 casualties / 2,000 residents x 1,000 x 12 / 6 months = 3.0 a year; KSI 2 -> 2.0
    assert west["casualties_per_1000_a_year"] == pytest.approx(3.0)
    assert west["ksi_per_1000_a_year"] == pytest.approx(2.0)
    east = t.loc["W2"]
    assert [east[c] for c in ("casualties", "fatal", "serious", "slight", "collisions")] == [3, 0, 1, 2, 3]
    assert np.isnan(east["casualties_per_1000_a_year"])  # no population: not available, never 0
    # modes, most casualties first, 'not recorded' last
    modes = [c for c in t.columns if c.startswith(roads.MODE_PREFIX)]
    assert modes == ["mode: Car", "mode: Pedal Cycle", "mode: Pedestrian", "mode: not recorded"]
    assert t[modes].values.tolist() == [[2, 1, 0, 0], [1, 0, 1, 1]]
    # the first columns are casualties_by_ward's
    by_ward = roads.casualties_by_ward(_hand_rows(), _wards(), months=("2024-01", "2024-06"))
    assert t[list(roads.WARD_COLUMNS)].equals(by_ward)
    meta = t.attrs["metadata"]
    assert meta["params"] == {"first_month": "2024-01", "last_month": "2024-06"} and meta["n_months"] == 6
    assert (meta["casualties_read"], meta["casualties_unlocated"], meta["casualties_outside_months"]) == (9, 1, 1)
    assert (meta["casualties_counted"], meta["casualties_in_wards"], meta["casualties_outside_wards"]) == (7, 6, 1)
    # default months: the rows' own span, 2023-12 to 2024-06 (7 months), so c6 counts in W1
    whole = roads.ward_casualty_table(_hand_rows(), _wards_with_people())
    assert whole.attrs["metadata"]["months"] == ["2023-12", "2024-06"] and whole.loc["W1", "casualties"] == 4
    assert whole.loc["W1", "casualties_per_1000_a_year"] == pytest.approx(4 / 2000 * 1000 * 12 / 7)


def test_ward_casualty_table_refusals() -> None:
    with pytest.raises(SchemaError, match="no STATS19"):
        roads.ward_casualty_table(_hand_rows().iloc[9:], _wards())
    with pytest.raises(ParameterError, match="swap them"):
        roads.CasualtyParams(first_month="2024-06", last_month="2024-01")
    with pytest.raises(SchemaError, match="2024-13"):
        roads.CasualtyParams(first_month="2024-13")
    with pytest.raises(SchemaError, match="reproject"):
        roads.ward_casualty_table(_hand_rows(), _wards().to_crs("EPSG:4326"))


# ------------------------------------------------------------------ geo-csp casualties

BURY_E, BURY_N = 380_000.0, 410_000.0  # a point in Bury (British National Grid)


def _write_hand_files(tmp_path):
    """A TfGM-layout file of 5 casualties and two 1 km wards in Bury; lon/lat from the grid points."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    points = [(200, 200), (200, 200), (1500, 300), (1500, 700), (5000, 5000)]  # 2 West, 2 East, 1 outside
    sev = ["Fatal", "Slight", "Serious", "Slight", "Slight"]
    mode = ["Pedestrian", "Car", "Car", "Pedal Cycle", "Car"]
    ref = ["R1", "R1", "R2", "R3", "R4"]
    lines = [GM_HEADER]
    for (dx, dy), s, m, r in zip(points, sev, mode, ref, strict=True):
        lon, lat = to_wgs.transform(BURY_E + dx, BURY_N + dy)
        lines.append(
            f"{r},2024-03-05,2024,Mar,Tue,8,{m},08:15:00,{s},{s},1,2,Male,26-35,Daylight,30,Bury,{lon:.6f},{lat:.6f}"
        )
    stats19 = tmp_path / "stats19.csv"
    stats19.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wards = gpd.GeoDataFrame(
        {"WD22CD": ["W1", "W2"], "WD22NM": ["West", "=1+1 East"]},
        geometry=[
            shapely.box(BURY_E, BURY_N, BURY_E + 1000, BURY_N + 1000),
            shapely.box(BURY_E + 1000, BURY_N, BURY_E + 2000, BURY_N + 1000),
        ],
        crs="EPSG:27700",
    )
    wards_path = tmp_path / "wards.geojson"
    wards.to_file(wards_path)
    pop = tmp_path / "pop.csv"
    pop.write_text("ward,residents\nW1,1000\nW2,4000\n", encoding="utf-8")
    return stats19, wards_path, pop


def test_cli_casualties_writes_csv_and_xlsx_with_metadata(tmp_path) -> None:
    import json

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from geo_csp.cli import app

    stats19, wards_path, pop = _write_hand_files(tmp_path)
    base = ["casualties", str(stats19), "--store", str(tmp_path / "nostore"), "--wards", str(wards_path)]
    base += ["--ward-code-col", "WD22CD", "--ward-name-col", "WD22NM", "--population", str(pop)]
    base += ["--population-code-col", "ward", "--population-col", "residents"]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "4 casualties in 2 wards, 2024-03 to 2024-03 (1 months): 2 killed or seriously injured, 1 fatal" in (
        result.output
    )
    table = pd.read_csv(tmp_path / "out.csv", index_col=0)
    assert table.loc["W1", ["casualties", "fatal", "slight", "collisions"]].tolist() == [2, 1, 1, 1]
    assert table.loc["W2", ["casualties", "serious", "slight", "collisions"]].tolist() == [2, 1, 1, 2]
    # 2 / 1,000 x 1,000 x 12 / 1 month = 24 a year; 2 / 4,000 -> 6
    assert table["casualties_per_1000_a_year"].tolist() == pytest.approx([24.0, 6.0])
    assert table.loc["W1", "mode: Pedestrian"] == 1 and table.loc["W2", "mode: Pedal Cycle"] == 1
    assert table.loc["W2", "ward_name"] == "'=1+1 East"  # a formula-looking name is inert in a spreadsheet
    meta = json.loads((tmp_path / "out.csv.json").read_text(encoding="utf-8"))
    assert meta["inputs"] == [
        {"file": "stats19.csv", "rows_accepted": 5, "rows_quarantined": 0, "quarantine_reasons": {}}
    ]
    assert meta["casualties_outside_wards"] == 1 and meta["params"] == {"first_month": None, "last_month": None}
    assert meta["population"].startswith("pop.csv") and "geo_csp_version" in meta
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 0, result.output + str(result.exception)
    wb = load_workbook(tmp_path / "out.xlsx")
    rows = list(wb["Table"].iter_rows(values_only=True))
    assert rows[0][0] == "Road casualties per ward (STATS19)" and rows[2][:3] == (
        "ward_code",
        "ward_name",
        "casualties",
    )
    assert rows[3][:3] == ("W1", "West", 2)
    about = [r[0] for r in wb["About"].iter_rows(values_only=True)]
    assert about[0].startswith("4 casualties in 2 wards") and any(a.startswith("rules: ") for a in about)
    assert (tmp_path / "out.xlsx.json").is_file()
    # --months as every command takes it, on the months of the casualty data read
    result = runner.invoke(app, [*base, "--months", "last-1", "--out", str(tmp_path / "last.csv")])
    assert result.exit_code == 0, result.output + str(result.exception)
    meta = json.loads((tmp_path / "last.csv.json").read_text(encoding="utf-8"))
    assert meta["params"] == {"first_month": "2024-03", "last_month": "2024-03"}
    assert pd.read_csv(tmp_path / "last.csv", index_col=0)["casualties"].tolist() == table["casualties"].tolist()


def test_cli_casualties_clear_errors(tmp_path) -> None:
    from typer.testing import CliRunner

    from geo_csp.cli import app

    stats19, wards_path, pop = _write_hand_files(tmp_path)
    runner = CliRunner()
    wards = ["--wards", str(wards_path), "--ward-code-col", "WD22CD", "--ward-name-col", "WD22NM"]
    nostore = ["--store", str(tmp_path / "nostore")]
    street = tmp_path / "street.csv"
    street.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n,2024-01,GMP,GMP,-2.3,53.59,On or near X,E01,Bury 001A,Burglary,,\n",
        encoding="utf-8",
    )
    cases = [
        ([str(tmp_path / "missing.csv"), *nostore, *wards], "does not exist"),
        ([str(street), *nostore, *wards], "is not a STATS19 file"),
        ([str(stats19), *nostore, *wards, "--out", str(tmp_path / "out.txt")], "write a .csv or .xlsx"),
        ([str(stats19), *nostore, *wards, "--months", "2024-3:2024-06"], "'2024-3:2024-06' is not a choice of months"),
        (
            [str(stats19), *nostore, *wards, "--months", "2024-01:2024-03"],
            "reaches outside the casualty data's months (2024-03..2024-03, 1 months)",
        ),
        ([str(stats19), *nostore, "--wards", str(wards_path)], "no column(s) ['ward_code', 'ward_name']"),
        ([str(stats19), *nostore, *wards, "--population", str(pop)], "has no column(s) ['code', 'population']"),
        (
            [str(stats19), *nostore, *wards, "--population", str(pop), "--population-code-col", "residents"]
            + ["--population-col", "residents"],
            "none of the 2 ward codes",
        ),
        ([*nostore, *wards], "no store at"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["casualties", *args])
        assert result.exit_code != 0, args
        assert message in str(result.exception), (args, str(result.exception))


@pytest.mark.slow
def test_real_gm_stats19_ward_table_for_bury_matches_a_geopandas_join(tmp_path, real_file) -> None:
    """geo-csp casualties on the GM extract with Bury's 2022 wards: every ward's severities and modes equal an
    independent spatial join of the published points; Bury 2019-01 to 2024-06: 1,409 casualties, 269 KSI, 25 fatal."""
    from typer.testing import CliRunner

    from geo_csp import boundaries
    from geo_csp.cli import app

    path = _gm_file(real_file)
    out = tmp_path / "bury.csv"
    result = CliRunner().invoke(
        app,
        ["casualties", str(path), "--store", str(tmp_path / "none"), "--wards", str(boundaries.BURY_WARDS[2022])]
        + ["--out", str(out)],
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    table = pd.read_csv(out, index_col=0)
    assert len(table) == 17
    assert (table["casualties"].sum(), table["killed_or_seriously_injured"].sum(), table["fatal"].sum()) == (
        1409,
        269,
        25,
    )
    assert table["collisions"].sum() == 1080
    wards = boundaries.load_wards()
    raw = pd.read_csv(path)
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs="EPSG:4326").to_crs(
        "EPSG:27700"
    )
    joined = gpd.sjoin(pts, wards[[schema.WARD_CODE, "geometry"]], predicate="intersects")
    joined = joined[~joined.index.duplicated()]
    for column, severity in (("fatal", "Fatal"), ("serious", "Serious"), ("slight", "Slight")):
        expected = joined[joined["casualty_severity"] == severity].groupby(schema.WARD_CODE).size()
        assert table[column].tolist() == expected.reindex(table.index, fill_value=0).tolist(), column
    by_mode = joined.groupby([schema.WARD_CODE, "mode"]).size().unstack(fill_value=0).reindex(table.index, fill_value=0)
    modes = [c.removeprefix(roads.MODE_PREFIX) for c in table.columns if c.startswith(roads.MODE_PREFIX)]
    assert sorted(modes) == sorted(by_mode.columns[by_mode.sum() > 0])
    for mode in modes:
        assert table[roads.MODE_PREFIX + mode].tolist() == by_mode[mode].tolist(), mode
    # rates: casualties / Census 2021 residents x 1,000 x 12 / 66 months
    pop = wards.set_index(schema.WARD_CODE)[schema.POPULATION].reindex(table.index)
    assert table["casualties_per_1000_a_year"].to_numpy() == pytest.approx(
        (table["casualties"] / pop * 1000 * 12 / 66).to_numpy()
    )
    assert table.loc[table["casualties_per_1000_a_year"].idxmax(), "ward_name"] == "Bury East"  # 187, 2.66 a year


def test_app_road_casualties_page_reads_the_configured_file(demo_borough, tmp_path, monkeypatch) -> None:
    """The app's Road casualties page on a copy of the demo store whose config names a hand-made STATS19 file:
    3 casualties in Bury East (2 collisions, one serious), 1 in Moorside, 1 outside Bury."""
    import shutil
    from pathlib import Path

    from pyproj import Transformer
    from streamlit.testing.v1 import AppTest

    from geo_csp import boundaries, store
    from geo_csp._escape import markdown_literal

    root = tmp_path / "demo"
    shutil.copytree(demo_borough.out_dir, root)
    wards = boundaries.load_wards().set_index(schema.WARD_NAME)
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    east, moor = (wards.loc[n, "geometry"].representative_point() for n in ("Bury East", "Moorside"))
    points = [(east.x, east.y), (east.x, east.y), (east.x + 1, east.y), (moor.x, moor.y), (300_000, 300_000)]
    sev = ["Serious", "Slight", "Slight", "Slight", "Fatal"]
    ref = ["R1", "R1", "R2", "R3", "R4"]
    lines = [GM_HEADER]
    for (x, y), s, r in zip(points, sev, ref, strict=True):
        lon, lat = to_wgs.transform(x, y)
        lines.append(f"{r},2024-05-02,2024,May,Thu,17,Car,17:40:00,{s},{s},1,2,Male,26-35,Daylight,30,Bury,{lon},{lat}")
    (root / "store" / "stats19.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store.update_store_config(root / "store", {"stats19": "stats19.csv"})
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(root))
    monkeypatch.setenv("GEO_CSP_STORE", str(root / "store"))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("geo_csp/app/pages/roads.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Road casualties"
    assert at.radio(key="roads_source").value == "The store's STATS19 file (stats19.csv)"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Casualties in the wards": "4",
        "Killed or seriously injured": "1",
        "Fatal": "0",
        "Collisions": "3",
    }
    table = at.dataframe[0].value.set_index("Ward")
    assert table.loc["Bury East", ["Casualties", "Serious", "Slight", "Collisions"]].tolist() == [3, 1, 2, 2]
    assert table.loc["Moorside", "Casualties"] == 1 and table["Casualties"].sum() == 4
    assert table.loc["Bury East", "Casualties per 1,000 a year"] == pytest.approx(
        3 / wards.loc["Bury East", schema.POPULATION] * 1000 * 12
    )
    assert "Mode: Car" in table.columns
    caption = " ".join(c.value for c in at.caption)  # shown literally: Markdown signs backslashed
    assert markdown_literal("From stats19.csv (5 rows); 2024-05 to 2024-05 (1 months).") in caption
    assert "1 casualties fell outside the wards" in caption
    assert [b.label for b in at.get("download_button")] == ["Download the table (CSV)"]
    at.radio(key="roads_source").set_value("A file I upload").run()
    assert not at.exception and any("Upload a STATS19 file" in i.value for i in at.info)


def test_configure_stats19_names_the_file_for_the_app(tmp_path) -> None:
    """geo-csp configure --stats19 checks the header and writes the file into the config (relative to the store)."""
    from typer.testing import CliRunner

    from geo_csp import store
    from geo_csp.cli import app

    store_dir = tmp_path / "store"
    store_dir.mkdir()
    stats19, _, pop = _write_hand_files(store_dir)
    runner = CliRunner()
    result = runner.invoke(app, ["configure", "--store", str(store_dir), "--stats19", str(stats19)])
    assert result.exit_code == 0, result.output + str(result.exception)
    config = store.read_config(store_dir)
    assert config.stats19 == "stats19.csv" and config.path("stats19") == stats19
    result = runner.invoke(app, ["configure", "--store", str(store_dir), "--stats19", str(pop)])
    assert result.exit_code != 0 and "is not a STATS19 file" in str(result.exception)
    result = runner.invoke(app, ["configure", "--store", str(store_dir), "--unset", "stats19"])
    assert result.exit_code == 0 and store.read_config(store_dir).stats19 is None


def test_cli_casualties_on_the_stores_wards(demo_borough, tmp_path) -> None:
    """Without --wards the store's wards (the demo's: Bury's 17, with Census 2021 residents) are counted on."""
    import json

    from typer.testing import CliRunner

    from geo_csp.cli import app

    stats19, _, _ = _write_hand_files(tmp_path)
    out = tmp_path / "bury.csv"
    result = CliRunner().invoke(
        app, ["casualties", str(stats19), "--store", str(demo_borough.store_dir), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    table = pd.read_csv(out, index_col=0)
    assert len(table) == 17 and table["casualties"].sum() == 4 and table["population"].notna().all()
    meta = json.loads((tmp_path / "bury.csv.json").read_text(encoding="utf-8"))
    assert meta["wards"].startswith("the store's wards") and meta["population"].startswith("population column")
    assert meta["casualties_outside_wards"] == 1  # the point 5 km north-east of the others is outside Bury
