"""The comparator pack: known answers on three hand-made districts, the metadata, the CLI and its errors,
public mode, and the real GMP burglary pack checked against a geopandas spatial join."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from typer.testing import CliRunner

from geo_csp import schema
from geo_csp._errors import DenominatorError, ParameterError, SchemaError
from geo_csp._escape import markdown_literal
from geo_csp.cli import app, main
from geo_csp.comparator import (
    CHANGE_PCT,
    COUNT,
    PLACE,
    RANK,
    RATE,
    REGION_RATE,
    YEAR_AGO_COUNT,
    ComparatorParams,
    comparator_pack,
    comparator_pack_from_files,
    crime_type_display,
    read_records,
    write_comparator,
)
from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.table import RANK as TABLE_RANK
from geo_csp.table import Measure, TableParams, partnership_table
import _synthetic

MAPPINGS = Path(__file__).parent / "data" / "mappings"
POPS = {"A": 1000, "B": 4000, "C": 2000}
DISTRICTS = gpd.GeoDataFrame(
    {"code": list(POPS), "name": ["Ash", "Birch", "Cedar"], "population": list(POPS.values())},
    geometry=[shapely.box(380_000 + 1000 * k, 410_000, 381_000 + 1000 * k, 411_000) for k in range(3)],
    crs="EPSG:27700",
)
MONTHS = [f"{y}-{m:02d}" for y, m in [(2022, m) for m in range(4, 13)] + [(2023, m) for m in range(1, 7)]]
LATEST = ("2023-04", "2023-05", "2023-06")  # Q1 Apr-Jun 2023


def _hand_records() -> pd.DataFrame:
    """Burglaries a month: Ash 2 (4 in the latest quarter), Birch 10, Cedar 3, over Apr 2022 - Jun 2023 (five
    complete quarters); plus 1 in March 2022 (an incomplete quarter), 2 outside every district, 1 without
    coordinates and 5 vehicle crimes."""
    parts = []
    for month in MONTHS:
        for k, n in enumerate((4 if month in LATEST else 2, 10, 3)):
            parts.append(_synthetic.incidents(np.full(n, 380_500.0 + 1000 * k), np.full(n, 410_500.0), month))
    parts.append(_synthetic.incidents([380_500.0], [410_500.0], "2022-03"))
    parts.append(_synthetic.incidents([390_000.0, 390_100.0], [410_500.0, 410_500.0], "2023-05"))
    parts.append(_synthetic.incidents([np.nan], [np.nan], "2023-05", located=False))
    parts.append(_synthetic.incidents(np.full(5, 381_500.0), np.full(5, 410_500.0), "2023-04", "Vehicle crime"))
    return pd.concat(parts, ignore_index=True).assign(**{schema.OBJECT_OF_SEARCH: None})


def _params(**kw) -> ComparatorParams:
    base = {"district": "Birch", "crime_types": ("Burglary",), "code_col": "code", "name_col": "name", "region": "Test"}
    return ComparatorParams(**{**base, **kw})


def test_hand_made_districts_known_answer():
    records = _hand_records()
    before = records.copy()
    pack = comparator_pack(records, boundaries=DISTRICTS, params=_params())
    pd.testing.assert_frame_equal(records, before)  # input unchanged
    d = pack.districts
    assert list(d.index) == ["A", "B", "C"]
    # latest quarter: 12, 30, 9 burglaries over 1,000, 4,000 and 2,000 residents
    np.testing.assert_array_equal(d[COUNT], [12, 30, 9])
    np.testing.assert_allclose(d[RATE], [12.0, 7.5, 4.5])
    np.testing.assert_array_equal(d[PLACE], [3, 2, 1])
    assert d[RANK].tolist() == ["highest of 3", "2nd lowest of 3", "lowest of 3"]
    # a year earlier (Q1 Apr-Jun 2022): 6, 30, 9
    np.testing.assert_array_equal(d[YEAR_AGO_COUNT], [6, 30, 9])
    np.testing.assert_allclose(d[CHANGE_PCT], [100.0, 0.0, 0.0])
    assert pack.region == {COUNT: 51.0, "mean_count": 17.0, RATE: pytest.approx(51_000 / 7000)}
    assert pack.metadata["quarters"] == [
        "Q1 Apr-Jun 2022",
        "Q2 Jul-Sep 2022",
        "Q3 Oct-Dec 2022",
        "Q4 Jan-Mar 2023",
        "Q1 Apr-Jun 2023",
    ]
    np.testing.assert_array_equal(pack.quarterly.loc["B"], [30] * 5)
    np.testing.assert_array_equal(pack.quarterly.loc["Test"], [45, 45, 45, 45, 51])
    np.testing.assert_allclose(pack.rates.loc["A"], [6.0, 6.0, 6.0, 6.0, 12.0])
    # every record accounted for: 12 x 15 + 3 x 17 inside
    assert pack.accounting == {
        "other_crime_type": 5,
        "incomplete_quarter": 1,
        "earlier_quarter": 0,
        "unlocated": 1,
        "outside_districts": 2,
        "inside_districts": 231,
        "records": 240,
    }
    assert pack.accounting["records"] == len(records)
    assert pack.summary == (
        "Birch: Burglary in Q1 Apr-Jun 2023, 7.50 per 1,000 residents (30), 2nd lowest of 3 districts in Test "
        "(average 7.29 per 1,000)."
    )
    assert pack.display.index.tolist() == ["Cedar", "Birch (focus)", "Ash", "Test (average)"]
    assert pack.display.iloc[2, -1] == "+100% from 6.00"
    assert pack.audit is None


def test_fewer_quarters_account_for_the_earlier_ones():
    pack = comparator_pack(_hand_records(), boundaries=DISTRICTS, params=_params(n_quarters=1))
    assert pack.metadata["quarters"] == ["Q1 Apr-Jun 2023"]
    assert pack.metadata["year_ago_quarter"] == "Q1 Apr-Jun 2022"
    assert pack.accounting["earlier_quarter"] == 9 * 15  # Jul 2022 - Mar 2023
    assert pack.accounting["inside_districts"] == 3 * 15 + 3 * 17
    assert sum(v for k, v in pack.accounting.items() if k != "records") == pack.accounting["records"] == 240
    np.testing.assert_array_equal(pack.districts[YEAR_AGO_COUNT], [6, 30, 9])


def test_year_on_year_not_available_without_the_year_earlier_quarter():
    records = _hand_records()
    recent = records[records[schema.MONTH] >= "2022-07"]
    pack = comparator_pack(recent, boundaries=DISTRICTS, params=_params())
    assert pack.metadata["year_ago_quarter"] is None
    assert pack.districts[YEAR_AGO_COUNT].isna().all()
    assert (pack.display.iloc[:3, -1] == "not available").all()


def test_place_equals_the_partnership_table_rank():
    """The pack's places are the ranks the quarterly table shows with the other districts as comparators (in
    public mode where the pack shows one: it suppresses more, since it publishes every district and the total)."""
    records = _hand_records()
    areas = DISTRICTS.rename(columns={"code": "area_code", "name": "area_name"})
    rate = Measure("rate", "Burglaries per 1,000", (schema.SOURCE_STREET,), ("Burglary",), per_1000=True)
    for public in (False, True):
        pack = comparator_pack(records, boundaries=DISTRICTS, params=_params(public=public))
        for code, name in zip(areas["area_code"], areas["area_name"]):
            t = partnership_table(
                records, areas, params=TableParams(area=name, n_quarters=1, public=public), measures=(rate,)
            )
            shown = t.values.loc["rate", TABLE_RANK]
            expected = pack.districts.loc[code, PLACE]
            if public and np.isnan(expected):  # the pack hides more: the region total is published too
                assert code in {"A", "C"}
                continue
            assert shown == expected, (public, name)


def test_metadata_carries_the_params(tmp_path):
    params = _params(n_quarters=2, region="Testshire")
    pack = comparator_pack(_hand_records(), boundaries=DISTRICTS, params=params, provenance={"records": "hand-made"})
    written = write_comparator(pack, tmp_path)
    assert set(written) == {"comparator.html", "comparator.xlsx", "comparator.csv", "comparator.json"}
    meta = json.loads((tmp_path / "comparator.json").read_text())
    assert meta["params"] == {
        "district": "Birch",
        "crime_types": ["Burglary"],
        "n_quarters": 2,
        "region": "Testshire",
        "code_col": "code",
        "name_col": "name",
        "population_code_col": "area_code",
        "population_col": None,
        "public": False,
        "disclosure": params.disclosure.to_dict(),
    }
    assert meta["accounting"]["records"] == 240 and meta["place"] == 2 and meta["of"] == 3
    assert meta["rank"] == "2nd lowest of 3" and meta["district_code"] == "B"
    assert meta["provenance"] == {"records": "hand-made"}
    csv = pd.read_csv(tmp_path / "comparator.csv", index_col=0)
    assert csv.loc["B", "count Q1 Apr-Jun 2023"] == 30 and csv.loc["C", "per 1,000 Q4 Jan-Mar 2023"] == 4.5
    page = (tmp_path / "comparator.html").read_text()
    assert "2nd lowest of 3 districts in Testshire" in page and "Records: 240" in page
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "comparator.xlsx")
    assert wb.sheetnames == ["Latest quarter", "Per 1,000 by quarter", "Counts by quarter", "Notes"]
    assert wb["Counts by quarter"]["C3"].value == 30  # Birch, Q1 Apr-Jun 2023


def test_public_mode_suppresses_and_audits(tmp_path):
    """Cedar's 9 burglaries are below 10: suppressed, and one more cell so that the region total does not give
    it away; rates from the rounded counts, hidden places, the audit written."""
    pack = comparator_pack(_hand_records(), boundaries=DISTRICTS, params=_params(public=True, district="Cedar"))
    d = pack.districts
    assert np.isnan(d.loc["C", COUNT]) and d.loc["C", RANK] == SUPPRESSED_MARK and np.isnan(d.loc["C", PLACE])
    assert d.loc["B", COUNT] == 30 and d.loc["B", RATE] == 7.5
    assert np.isnan(d.loc["A", COUNT])  # 12 is the smallest other cell of the quarter: secondary suppression
    published = pack.quarterly.to_numpy()
    assert np.all(np.isnan(published) | (published % 5 == 0))  # no unpublished count in the pack
    assert pack.region[COUNT] == 50  # 51 rounded
    audit = pack.audit
    assert audit is not None
    assert {("C", "Q1 Apr-Jun 2023"), ("A", "Q1 Apr-Jun 2023")} <= set(zip(audit["row"], audit["column"]))
    assert pack.summary.startswith("Cedar: Burglary in Q1 Apr-Jun 2023 is suppressed")
    written = write_comparator(pack, tmp_path)
    assert "disclosure_audit.csv" in written
    assert len(pd.read_csv(written["disclosure_audit.csv"])) == len(audit)
    assert any("suppressed" in n and "10" in n for n in pack.notes)
    assert json.loads(written["comparator.json"].read_text())["params"]["public"] is True


def test_crime_types_each_with_their_place(tmp_path):
    """Burglary and vehicle crime: each type's count, rate and place for the focus district, the types together
    as the main table."""
    pack = comparator_pack(
        _hand_records(), boundaries=DISTRICTS, params=_params(crime_types=("Burglary", "Vehicle crime"))
    )
    assert pack.accounting["other_crime_type"] == 0 and pack.accounting["inside_districts"] == 236
    t = pack.by_crime_type
    assert t is not None and list(t.index) == ["Burglary", "Vehicle crime"]
    np.testing.assert_array_equal(t[COUNT], [30, 5])
    np.testing.assert_allclose(t[RATE], [7.5, 1.25])
    assert t[RANK].tolist() == ["2nd lowest of 3", "highest of 3"]  # Ash and Cedar had no vehicle crime
    np.testing.assert_allclose(t[REGION_RATE], [51_000 / 7000, 5000 / 7000])
    np.testing.assert_array_equal(pack.districts[COUNT], [12, 35, 9])
    shown = crime_type_display(pack)
    assert shown is not None and shown.index.tolist() == ["Burglary", "Vehicle crime", "All of these"]
    assert shown.loc["All of these", "Per 1,000 residents"] == "8.75"
    written = write_comparator(pack, tmp_path)
    assert pd.read_csv(written["comparator_by_crime_type.csv"], index_col=0).loc["Vehicle crime", COUNT] == 5
    assert "Birch by crime type, Q1 Apr-Jun 2023" in written["comparator.html"].read_text()
    assert comparator_pack(_hand_records(), boundaries=DISTRICTS, params=_params()).by_crime_type is None


def _two_type_records() -> pd.DataFrame:
    """A month: burglaries Ash 20, Birch 50, Cedar 15; vehicle crimes 10 each, but Birch's latest quarter has 5
    (all in April 2023)."""
    parts = []
    for month in MONTHS:
        for k, (burglary, vehicle) in enumerate([(20, 10), (50, 10), (15, 10)]):
            if k == 1 and month in LATEST:
                vehicle = 5 if month == "2023-04" else 0
            x = 380_500.0 + 1000 * k
            parts.append(_synthetic.incidents(np.full(burglary, x), np.full(burglary, 410_500.0), month))
            parts.append(_synthetic.incidents(np.full(vehicle, x), np.full(vehicle, 410_500.0), month, "Vehicle crime"))
    return pd.concat(parts, ignore_index=True)


def test_public_crime_types_cannot_be_worked_out_from_the_totals():
    """Birch's 5 vehicle crimes are suppressed; its total is the sum of its types, so one of total and burglary
    is hidden too, and likewise the region's (the sum of the districts') so that no difference gives the 5 away."""
    params = _params(crime_types=("Burglary", "Vehicle crime"), public=True)
    pack = comparator_pack(_two_type_records(), boundaries=DISTRICTS, params=params)
    t = pack.by_crime_type
    assert t is not None and np.isnan(t.loc["Vehicle crime", COUNT]) and t.loc["Vehicle crime", RANK] == SUPPRESSED_MARK
    assert np.isnan([pack.districts.loc["B", COUNT], t.loc["Burglary", COUNT]]).sum() == 1  # one more, not both
    # the region's vehicle crimes (65) minus Ash's and Cedar's (30 each) would give Birch's 5: one is hidden
    audit = pack.audit
    assert audit is not None
    hidden = set(audit.loc[audit["column"] == "Q1 Apr-Jun 2023", "row"])
    assert "B | Vehicle crime" in hidden and hidden & {"A | Vehicle crime", "C | Vehicle crime", "Test | Vehicle crime"}
    # everything else of the latest quarter stands: Ash 90 and Cedar 75, the region's 255 burglaries
    np.testing.assert_array_equal(pack.districts.loc[["A", "C"], COUNT], [90, 75])
    assert t.loc["Burglary", REGION_RATE] == pytest.approx(255 * 1000 / 7000)
    assert pack.region[COUNT] == 320  # 255 + 65


def test_bad_inputs_are_refused_with_the_fix():
    records = _hand_records()
    with pytest.raises(ParameterError, match=r"'Elm' is not among the districts .*\(Ash, Birch, Cedar\)"):
        comparator_pack(records, boundaries=DISTRICTS, params=_params(district="Elm"))
    with pytest.raises(SchemaError, match=r"no column\(s\) \['LAD21CD'\].*--code-col"):
        comparator_pack(records, boundaries=DISTRICTS, params=_params(code_col="LAD21CD"))
    few = records[records[schema.MONTH].isin(["2023-04", "2023-05"])]
    with pytest.raises(SchemaError, match="no complete financial quarter.*2023-04 to 2023-05"):
        comparator_pack(few, boundaries=DISTRICTS, params=_params())
    with pytest.raises(DenominatorError, match=r"no residents for district\(s\) Cedar \(C\)"):
        comparator_pack(records, boundaries=DISTRICTS, population=pd.Series({"A": 1, "B": 2}), params=_params())
    with pytest.raises(SchemaError, match="records lack column"):
        comparator_pack(records.drop(columns=schema.EASTING), boundaries=DISTRICTS, params=_params())
    with pytest.raises(
        ParameterError, match=r"\['Burglery'\] are in no record; the records hold \['Burglary', 'Vehicle crime'\]"
    ):
        comparator_pack(records, boundaries=DISTRICTS, params=_params(crime_types=("Burglery",)))
    with pytest.raises(ParameterError, match="crime_types must be a tuple"):
        _params(crime_types="Burglary")
    with pytest.raises(ParameterError, match="n_quarters"):
        _params(n_quarters=0)


# --- files and the command line ---------------------------------------------------------------------------

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)


def _write_archive(folder: Path, records: pd.DataFrame) -> Path:
    """The records as a police.uk archive folder (YYYY-MM/YYYY-MM-test-street.csv)."""
    to_lonlat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    for month, part in records.groupby(schema.MONTH):
        lon, lat = to_lonlat.transform(part[schema.EASTING].to_numpy(), part[schema.NORTHING].to_numpy())
        lines = [
            f",{month},Test Police,Test Police,{f'{x:.6f}' if np.isfinite(x) else ''},{f'{y:.6f}' if np.isfinite(y) else ''},"
            f"On or near Test Street,,,{t},,\n"
            for x, y, t in zip(lon, lat, part[schema.CRIME_TYPE])
        ]
        (folder / month).mkdir(parents=True, exist_ok=True)
        (folder / month / f"{month}-test-street.csv").write_text(STREET_HEADER + "".join(lines), encoding="utf-8")
    return folder


@pytest.fixture()
def hand_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    archive = _write_archive(tmp_path / "archive", _hand_records())
    bounds = tmp_path / "districts.geojson"
    DISTRICTS.drop(columns="population").to_crs("EPSG:4326").to_file(bounds, driver="GeoJSON")
    pop = tmp_path / "population.csv"
    pd.DataFrame({"code": list(POPS), "usual_residents_population": list(POPS.values())}).to_csv(pop, index=False)
    return archive, bounds, pop


def _cli(archive: Path, bounds: Path, pop: Path, out: Path, *extra: str) -> list[str]:
    return [
        "comparator",
        str(archive),
        "--boundaries",
        str(bounds),
        "--population",
        str(pop),
        "--population-code-col",
        "code",
        "--code-col",
        "code",
        "--name-col",
        "name",
        "--crime-type",
        "Burglary",
        "--out",
        str(out),
        *extra,
    ]


def test_cli_writes_the_pack_from_an_archive_folder(hand_files, tmp_path):
    archive, bounds, pop = hand_files
    result = CliRunner().invoke(app, _cli(archive, bounds, pop, tmp_path / "out", "--district", "birch"))
    assert result.exit_code == 0, result.output
    assert "Birch: Burglary in Q1 Apr-Jun 2023, 7.50 per 1,000 residents (30), 2nd lowest of 3" in result.stdout
    assert "records: 240 = 231 inside a district + 2 outside every district + 1 in incomplete quarters" in result.stdout
    meta = json.loads((tmp_path / "out" / "comparator.json").read_text())
    assert meta["accounting"]["unlocated"] == 1 and meta["accounting"]["other_crime_type"] == 5
    assert meta["params"]["population_col"] is None  # the one 'population' column, found
    assert "usual_residents_population" in meta["provenance"]["population"]
    assert not (tmp_path / "out" / "disclosure_audit.csv").exists()
    public = CliRunner().invoke(app, _cli(archive, bounds, pop, tmp_path / "pub", "--district", "Cedar", "--public"))
    assert public.exit_code == 0, public.output
    assert (tmp_path / "pub" / "disclosure_audit.csv").exists() and "do not publish" in public.stderr


def test_later_file_for_the_same_month_replaces_the_earlier(hand_files, tmp_path):
    archive, _, _ = hand_files
    again = _write_archive(tmp_path / "again", _hand_records()[lambda f: f[schema.MONTH] == "2023-06"].iloc[:3])
    records, summary = read_records([archive, again])
    assert summary["replaced"] == 17 and summary["records"] == 240 - 17 + 3
    assert (records[schema.MONTH] == "2023-06").sum() == 3


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["geo-csp", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0), capsys.readouterr().err


def test_cli_errors_name_the_choices(hand_files, tmp_path, monkeypatch, capsys):
    archive, bounds, pop = hand_files
    code, err = _main(monkeypatch, capsys, *_cli(archive, bounds, pop, tmp_path / "o", "--district", "Elm"))
    assert code == 1
    assert err.strip() == (
        "geo-csp: error: district 'Elm' is not among the districts of the boundaries (Ash, Birch, Cedar); "
        "check --district"
    )
    args = _cli(archive, bounds, pop, tmp_path / "o", "--district", "Ash")
    args[args.index("--name-col") + 1] = "LAD21NM"
    code, err = _main(monkeypatch, capsys, *args)
    assert code == 1 and "no column(s) ['LAD21NM']" in err and "'name'" in err
    short = _write_archive(tmp_path / "short", _hand_records()[lambda f: f[schema.MONTH] == "2023-04"])
    code, err = _main(monkeypatch, capsys, *_cli(short, bounds, pop, tmp_path / "o", "--district", "Ash"))
    assert code == 1 and "no complete financial quarter" in err
    assert not (tmp_path / "o").exists()


# --- the real GMP burglary pack ----------------------------------------------------------------------------


@pytest.mark.slow
def test_real_gm_burglary_pack_for_bury(real_file, tmp_path):
    points = real_file("gmp-burglary-2016-2019", "gmp_burglary_points_2016-02_to_2019-01.csv.gz")
    las_path = real_file("gm-local-authorities", "gm_local_authority_2021_generalised.geojson")
    pop_path = real_file("population", "mid2017_population_lsoa11_ward_la_england_wales.csv.gz")
    params = ComparatorParams(
        district="Bury", crime_types=("Burglary",), region="Greater Manchester", population_col="population_mid2017"
    )
    start = time.perf_counter()
    pack = comparator_pack_from_files(
        [points],
        boundaries_path=las_path,
        population_path=pop_path,
        params=params,
        mapping=MAPPINGS / "gmp_burglary.toml",
    )
    seconds = time.perf_counter() - start
    acc = pack.accounting
    assert len(pack.districts) == 10 and acc["records"] == 92_666
    assert pack.metadata["quarters"][0] == "Q1 Apr-Jun 2016" and pack.metadata["quarter"] == "Q3 Oct-Dec 2018"

    # independent oracle: a geopandas spatial join of the raw points to the districts
    raw = pd.read_csv(points)
    pts = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["Longitude"], raw["Latitude"]), crs="EPSG:4326")
    las = gpd.read_file(las_path)
    joined = gpd.sjoin(pts.to_crs("EPSG:27700"), las.to_crs("EPSG:27700")[["area_code", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated()]
    incomplete = raw["Month"].isin(["2016-02", "2016-03", "2019-01"])  # Q4 Jan-Mar 2016 and 2019 are partial
    assert acc["incomplete_quarter"] == int(incomplete.sum())
    assert acc["outside_districts"] == int(joined["area_code"][~incomplete].isna().sum())
    assert acc["inside_districts"] == int(joined["area_code"][~incomplete].notna().sum())
    latest = joined[raw["Month"].isin(["2018-10", "2018-11", "2018-12"])]
    pop = pd.read_csv(pop_path, dtype={"area_code": str}).set_index("area_code")["population_mid2017"]
    counts = latest["area_code"].value_counts().reindex(pack.districts.index)
    rates = counts * 1000 / pop.loc[counts.index]
    np.testing.assert_array_equal(pack.districts[COUNT], counts)
    np.testing.assert_allclose(pack.districts[RATE], rates)
    bury = pack.districts.loc["E08000002"]
    assert bury[PLACE] == int((rates < rates["E08000002"]).sum()) + 1
    year_ago = joined[raw["Month"].isin(["2017-10", "2017-11", "2017-12"])]
    assert bury[YEAR_AGO_COUNT] == int((year_ago["area_code"] == "E08000002").sum())
    # the place equals the quarterly table's rank for the same data, GM's other districts as comparators
    areas = las.to_crs("EPSG:27700").assign(population=lambda f: f["area_code"].map(pop))
    records, _ = read_records(points, mapping=MAPPINGS / "gmp_burglary.toml")
    rate = Measure("rate", "Burglaries per 1,000", ("gmp_burglary_points",), ("Burglary",), per_1000=True)
    t = partnership_table(
        records.assign(**{schema.OBJECT_OF_SEARCH: None}),
        areas,
        params=TableParams(area="Bury", n_quarters=1),
        measures=(rate,),
    )
    assert t.values.loc["rate", TABLE_RANK] == bury[PLACE]
    # the figures these checks found (Bolton is 4th at 2.4788, a hair below Bury's 2.4838)
    assert (acc["inside_districts"], acc["outside_districts"], acc["incomplete_quarter"]) == (85_417, 39, 7_210)
    assert bury[COUNT] == 471 and bury[RATE] == pytest.approx(2.48, abs=0.005) and bury[RANK] == "5th lowest of 10"
    print(f"\n{pack.summary}\naccounting {acc}; {seconds:.1f} s from files")
    print(pack.display.to_string())
    write_comparator(pack, tmp_path)


# --- from a store, and the app's Comparators page ------------------------------------------------------------


@pytest.fixture()
def districts_store(hand_files, tmp_path: Path) -> Path:
    """A store of the hand-made records whose borough is Birch, the three districts its comparator areas."""
    from geo_csp.ingest import ingest_paths

    archive, _, _ = hand_files
    store = tmp_path / "store"
    ingest_paths([archive], store_dir=store)
    areas = tmp_path / "areas.geojson"
    DISTRICTS.rename(columns={"code": "area_code", "name": "area_name"}).to_file(areas, driver="GeoJSON")
    result = CliRunner().invoke(app, ["configure", "--store", str(store), "--borough", "Birch", "--areas", str(areas)])
    assert result.exit_code == 0, result.output
    return store


def test_pack_from_a_store_equals_the_pack_from_its_files(districts_store, hand_files):
    from geo_csp.comparator import comparator_from_store

    pack = comparator_from_store(districts_store, crime_types=["Burglary"], region="Test")
    archive, bounds, pop = hand_files
    params = _params(population_code_col="code")
    direct = comparator_pack_from_files(archive, boundaries_path=bounds, population_path=pop, params=params)
    pd.testing.assert_frame_equal(pack.districts, direct.districts)
    assert pack.accounting == direct.accounting and pack.summary == direct.summary
    with pytest.raises(SchemaError, match="no records of source"):
        comparator_from_store(districts_store, crime_types=["Burglary"], sources=["council_asb"])


def _comparators_page(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202 - AppTest
    """The app opened on ``store`` (offline), switched to the Comparators page."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("GEO_CSP_STORE", str(store))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("geo_csp/app/pages/comparators.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_app_comparators_page(districts_store, tmp_path, monkeypatch):
    at = _comparators_page(districts_store, tmp_path, monkeypatch)
    assert at.subheader[0].value.startswith(
        markdown_literal(
            "Birch: Burglary in Q1 Apr-Jun 2023, 7.50 per 1,000 residents (30), 2nd lowest of 3 districts in the region"
        )
    )  # shown as itself: Markdown signs backslashed
    shown = at.dataframe[0].value
    assert shown.index.tolist() == ["Cedar", "Birch (focus)", "Ash", "the region (average)"]
    assert any(markdown_literal("Records: 240 = 231 inside a district") in c.value for c in at.caption)
    at.multiselect(key="comparator_types").select("Vehicle crime").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "2nd lowest of 3" in at.subheader[0].value and len(at.dataframe) == 2  # the by-type table too
    assert at.dataframe[1].value.loc["Vehicle crime", "Place"] == "highest of 3"


def test_app_comparators_page_without_comparator_areas(hand_files, tmp_path, monkeypatch):
    from geo_csp.ingest import ingest_paths

    store = tmp_path / "plain"
    ingest_paths([hand_files[0]], store_dir=store)
    at = _comparators_page(store, tmp_path, monkeypatch)
    assert "has no comparator areas" in at.warning[0].value
    assert markdown_literal("geo-csp configure") in at.warning[0].value


def test_hostile_district_names_are_shown_as_themselves(tmp_path):
    """A boundary file's names reach the page, the spreadsheet and the CSV as text, never as markup or formula."""
    hostile = DISTRICTS.assign(name=["<script>alert(1)</script>", '=HYPERLINK("http://x")', "{{7*7}}"])
    pack = comparator_pack(_hand_records(), boundaries=hostile, params=_params(district="B"))
    written = write_comparator(pack, tmp_path)
    page = written["comparator.html"].read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    csv = pd.read_csv(written["comparator.csv"], index_col=0)
    assert csv.loc["B", "area_name"].startswith("'=")
    from openpyxl import load_workbook

    sheet = load_workbook(written["comparator.xlsx"])["Counts by quarter"]
    assert [sheet.cell(row=r, column=1).value for r in (2, 3)] == [
        "<script>alert(1)</script>",
        '\'=HYPERLINK("http://x")',
    ]


def test_cli_from_a_store(districts_store, hand_files, tmp_path):
    result = CliRunner().invoke(
        app, ["comparator", "--store", str(districts_store), "--crime-type", "Burglary", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "Birch: Burglary in Q1 Apr-Jun 2023, 7.50 per 1,000 residents (30), 2nd lowest of 3" in result.stdout
    other = CliRunner().invoke(
        app,
        [
            "comparator",
            "--store",
            str(districts_store),
            "--district",
            "Ash",
            "--crime-type",
            "Burglary",
            "--out",
            str(tmp_path / "a"),
        ],
    )
    assert other.exit_code == 0 and "Ash: Burglary in Q1 Apr-Jun 2023, 12.00 per 1,000" in other.stdout
    both = CliRunner().invoke(
        app,
        ["comparator", str(hand_files[0]), "--store", str(districts_store), "--crime-type", "Burglary", "--out", "x"],
    )
    assert both.exit_code == 1 and "give no RECORDS" in str(both.exception)
    neither = CliRunner().invoke(app, ["comparator", "--crime-type", "Burglary", "--out", "x"])
    assert neither.exit_code == 1 and "or --store DIR" in str(neither.exception)


@pytest.mark.slow
def test_real_gm_pack_from_a_store_and_the_partnership_table_agree(real_file, tmp_path):
    """The GMP burglary points ingested into a store whose comparator areas are GM's ten districts: the pack's
    place for Bury is the quarterly partnership table's rank, and the pack equals the one made from the file."""
    from geo_csp.comparator import comparator_from_store
    from geo_csp.ingest import ingest_paths
    from geo_csp.table import table_from_store

    points = real_file("gmp-burglary-2016-2019", "gmp_burglary_points_2016-02_to_2019-01.csv.gz")
    las_path = real_file("gm-local-authorities", "gm_local_authority_2021_generalised.geojson")
    pop_path = real_file("population", "mid2017_population_lsoa11_ward_la_england_wales.csv.gz")
    pop = pd.read_csv(pop_path, dtype={"area_code": str}).set_index("area_code")["population_mid2017"]
    areas = tmp_path / "gm.geojson"
    gpd.read_file(las_path).assign(population=lambda f: f["area_code"].map(pop)).to_file(areas, driver="GeoJSON")
    store = tmp_path / "store"
    ingest_paths([points], store_dir=store, mapping=MAPPINGS / "gmp_burglary.toml")
    result = CliRunner().invoke(app, ["configure", "--store", str(store), "--borough", "Bury", "--areas", str(areas)])
    assert result.exit_code == 0, result.output

    pack = comparator_from_store(store, crime_types=["Burglary"], sources=["gmp_burglary_points"])
    bury = pack.districts.loc["E08000002"]
    assert (bury[COUNT], bury[PLACE], bury[RANK]) == (471, 5, "5th lowest of 10")
    assert pack.accounting["inside_districts"] == 85_417 and pack.accounting["records"] == 92_666
    table = table_from_store(store, sources=["gmp_burglary_points"], n_quarters=1)
    assert table.values.loc["burglary", TABLE_RANK] == bury[PLACE]
    assert table.display.loc["Burglaries (residential and business)", TABLE_RANK] == bury[RANK]
    params = ComparatorParams(district="Bury", crime_types=("Burglary",), population_col="population_mid2017")
    direct = comparator_pack_from_files(
        points,
        boundaries_path=las_path,
        population_path=pop_path,
        params=params,
        mapping=MAPPINGS / "gmp_burglary.toml",
    )
    pd.testing.assert_frame_equal(pack.districts, direct.districts)
