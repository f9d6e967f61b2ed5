"""Tests of geo_csp.ingest: the bad-input corpus, real police.uk/partner files, parsers and time rules."""

from __future__ import annotations

import contextlib
import gzip
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import _hostile
from geo_csp import _errors, ingest, schema, settings, store
from geo_csp.ingest import _limits, inputs, parsers
from geo_csp.ingest import batches as ingest_batches

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
MAPPINGS = DATA / "mappings"
CASES = tomllib.loads((BAD / "expected.toml").read_text(encoding="utf-8"))["case"]


# --------------------------------------------------------------------------------------------------
# The bad-input corpus (table-driven from tests/data/bad/expected.toml)
# --------------------------------------------------------------------------------------------------
def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c["file"] for c in CASES}) >= 60
    for case in CASES:  # every case says what must happen
        assert ("error" in case and "match" in case) != ("accepted" in case and "reasons" in case), case


def _case_path(case: dict, folder: Path) -> Path:
    """The input of a corpus case: a corpus file, a file made now (``make``) or a system path."""
    if "make" in case:
        folder.mkdir(parents=True, exist_ok=True)
        return _hostile.MAKERS[case["make"]](folder)
    return Path(case["path"]) if "path" in case else BAD / case["file"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}|{c.get('mapping', '')}" for c in CASES])
def test_bad_input(case: dict, tmp_path: Path) -> None:
    mapping = BAD / case["mapping"] if "mapping" in case else None
    store_dir = tmp_path / "store"
    path = _case_path(case, tmp_path / "made")
    if "error" in case:
        with pytest.raises(getattr(_errors, case["error"]), match=case["match"]):
            ingest.ingest_paths([path], store_dir=store_dir, mapping=mapping)
        # nothing of a refused file is written
        assert not (store_dir / store.MANIFEST_NAME).exists()
        assert not list(store_dir.rglob("*.parquet"))
        return
    report = ingest.ingest_paths([path], store_dir=store_dir, mapping=mapping)
    (f,) = report.files
    assert f.accepted == case["accepted"]
    assert f.unlocated == case.get("unlocated", 0)
    assert f.reasons == case["reasons"]
    assert f.rows_read == f.accepted + f.quarantined
    for note in case.get("notes", []):
        assert any(re.search(note, n) for n in report.notes), (note, report.notes)
    quarantine = store.read_quarantine(store_dir)
    assert sorted(quarantine[schema.LINE]) == case.get("lines", [])
    assert set(quarantine["reason"]) <= set(schema.REASONS)
    assert (quarantine["file"] == f.path).all()
    assert quarantine["message"].str.len().gt(10).all()
    incidents = store.read_incidents(store_dir)
    assert len(incidents) == f.accepted
    assert not incidents[schema.LINE].isin(quarantine[schema.LINE]).any()
    if "locations" in case:
        assert incidents.sort_values(schema.LINE)[schema.LOCATION].tolist() == case["locations"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}|{c.get('mapping', '')}" for c in CASES])
def test_cli_gives_one_line_and_no_traceback(
    case: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``geo-csp ingest`` on every corpus case: exit 0, or exit 1 with one line naming the input."""
    from geo_csp.cli import main

    path = _case_path(case, tmp_path / "made")
    args = ["geo-csp", "ingest", str(path), "--store", str(tmp_path / "store")]
    if "mapping" in case:
        args += ["--mapping", str(BAD / case["mapping"])]
    monkeypatch.setattr("sys.argv", args)
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    if "error" in case:
        assert exit_info.value.code == 1
        (line,) = err.strip().splitlines()
        assert line.startswith("geo-csp: error: ") and re.search(case["match"], line), line
    else:
        assert exit_info.value.code in (0, None), err


def test_quarantine_message_names_the_value(tmp_path: Path) -> None:
    ingest.ingest_paths([BAD / "bad_month.csv"], store_dir=tmp_path)
    q = store.read_quarantine(tmp_path).set_index(schema.LINE)
    assert "Month=2019-13" in q.loc[2, "message"]
    assert '"Crime ID":"m1"' in q.loc[2, "raw"]


def test_malformed_row_keeps_its_text(tmp_path: Path) -> None:
    ingest.ingest_paths([BAD / "extra_field.csv"], store_dir=tmp_path)
    q = store.read_quarantine(tmp_path)
    assert q["raw"].iloc[0].endswith(',extra"}')


def test_refused_file_aborts_the_whole_ingest(tmp_path: Path) -> None:
    ingest.ingest_paths([BAD / "zero_coords.csv"], store_dir=tmp_path)
    before = store.read_manifest(tmp_path)
    with pytest.raises(_errors.InputFileError, match="truncated"):
        ingest.ingest_paths([BAD / "half_coords.csv", BAD / "truncated.csv.gz"], store_dir=tmp_path)
    assert store.read_manifest(tmp_path) == before
    assert len(list((tmp_path / "incidents").rglob("*.parquet"))) == 1


# --------------------------------------------------------------------------------------------------
# Parsers (property-based)
# --------------------------------------------------------------------------------------------------
@given(st.integers(0, 9999), st.integers(-5, 20))
def test_valid_months_property(year: int, month: int) -> None:
    text = f"{year:04d}-{month:02d}" if month >= 0 else f"{year:04d}-{month}"
    assert bool(ingest.valid_months([text])[0]) == (1 <= month <= 12)


@given(st.text(max_size=12))
def test_valid_months_rejects_non_months(text: str) -> None:
    expected = re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text) is not None
    assert bool(ingest.valid_months([text])[0]) == expected


@hsettings(max_examples=200)
@given(
    st.floats(-10, 10, allow_nan=False),
    st.floats(45, 60, allow_nan=False),
)
def test_classify_coordinates_property(lon: float, lat: float) -> None:
    _, _, reason, located = ingest.classify_coordinates([repr(lon)], [repr(lat)])
    lon_ok = settings.EW_LON_RANGE[0] <= lon <= settings.EW_LON_RANGE[1]
    lat_ok = settings.EW_LAT_RANGE[0] <= lat <= settings.EW_LAT_RANGE[1]
    assert bool(located[0]) == (lon_ok and lat_ok)
    assert (reason[0] == "") == bool(located[0])
    if not located[0]:
        assert reason[0] in {"out_of_country", "swapped_coordinates"}
    # swapping the text of an accepted point is always recognised as swapped
    if located[0]:
        _, _, r2, _ = ingest.classify_coordinates([repr(lat)], [repr(lon)])
        assert r2[0] == "swapped_coordinates"


@given(st.text(alphabet="0123456789.-+eE ,abc", max_size=10))
def test_parse_numbers_matches_python_float_on_plain_decimals(text: str) -> None:
    value = ingest.parse_numbers([text])[0]
    plain = re.fullmatch(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*", text)
    if plain:
        assert value == pytest.approx(float(text))
    else:
        assert np.isnan(value)


def test_classify_coordinates_cases() -> None:
    lon, lat, reason, located = ingest.classify_coordinates(
        ["-2.29", "", "", "0", "x", "53.59", "2.35"], ["53.59", "", "53.6", "0", "1", "-2.29", "48.85"]
    )
    assert reason.tolist() == [
        "",
        "",
        "half_coordinates",
        "zero_coordinates",
        "non_numeric_coordinates",
        "swapped_coordinates",
        "out_of_country",
    ]
    assert located.tolist() == [True, False, False, False, False, False, False]
    assert_allclose(lon[0], -2.29)
    assert np.isnan(lon[1:]).all()


def _snap_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    """police.uk-like coordinate texts: repeated snap points plus blanks, zeros, swaps and words."""
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(-5.5, 1.7, 300), 6)
    lat = np.round(rng.uniform(50.1, 55.7, 300), 6)
    pick = rng.integers(0, 300, n)
    x, y = [f"{v:.6f}" for v in lon[pick]], [f"{v:.6f}" for v in lat[pick]]
    odd = [
        ("", ""),
        ("", "53.6"),
        ("0", "0"),
        ("53.59", "-2.29"),
        ("2.35", "48.85"),
        ("nan", "52"),
        ("-0.0", "51.5"),
        ("0.0", "51.5"),
        ("-0.000000", "51.500000"),
    ]
    for i, (a, b) in enumerate(odd):
        x[i * 7], y[i * 7] = a, b
    return x, y


def _direct(x: list[str], y: list[str]) -> tuple[np.ndarray, ...]:
    """The oracle: the text path (each distinct text pair parsed by parse_numbers and checked), its
    points projected by pyproj without the run's memo."""
    return parsers._classify_distinct(pa.array(x), pa.array(y), settings.DISPLAY_CRS)


@pytest.mark.parametrize("points", [None, "shared"])
def test_coordinates_fast_path_equals_per_row_oracle(points: str | None) -> None:
    x, y = _snap_texts(3000, seed=1)
    memo = parsers.SnapPoints() if points else None
    for half in (slice(0, 1500), slice(1000, 3000)):  # overlapping calls: the second reuses the memo
        got = parsers.parse_coordinates(x[half], y[half], crs=settings.DISPLAY_CRS, points=memo)
        want = _direct(x[half], y[half])
        assert parsers._plain_numbers(pa.array(x[half])) is not None  # the fast path was taken
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.tobytes() == w.tobytes() if g.dtype != object else g.tolist() == w.tolist()
    if memo is not None:  # each distinct located point projected once over both calls
        lon, lat, *_ = _direct(x, y)
        ok = ~np.isnan(lon)
        assert len(memo) == len(pd.unique(pd.Series(lon[ok] + 0.0) + 1j * pd.Series(lat[ok])))


def test_coordinates_text_path_when_values_are_not_plain() -> None:
    x, y = _snap_texts(500, seed=2)
    x[3], y[5] = " -2.5 ", "53.1\t"  # blanks around numbers: not castable, parsed on the text path
    assert parsers._plain_numbers(pa.array(x)) is None and parsers._plain_numbers(pa.array(y)) is None
    got = parsers.parse_coordinates(x, y, crs=settings.DISPLAY_CRS, points=parsers.SnapPoints())
    want = _direct(x, y)
    assert got[2].tolist() == want[2].tolist()
    for g, w in zip(got[:2] + got[3:], want[:2] + want[3:], strict=True):
        assert g.tobytes() == w.tobytes()


@pytest.mark.parametrize("decimals", [6, 9])  # police.uk's six (int64 keys), or more (exact bits)
@pytest.mark.parametrize("private_table", [True, False])
def test_snap_points_equal_pyproj_across_threads(private_table: bool, decimals: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    lon = np.round(rng.uniform(-5.5, 1.7, 2000), decimals)
    lat = np.round(rng.uniform(50.1, 55.7, 2000), decimals)
    assert (parsers._microdegree_keys(lon, lat) is None) == (decimals > 6)
    memo = parsers.SnapPoints(private_table=private_table)  # pandas' hash table, or the public fallback
    assert (memo._hashtable is not None) == private_table
    picks = [rng.integers(0, 2000, 5000) for _ in range(16)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: memo.project(lon[i], lat[i]), picks))
    transformer = parsers._transformer(settings.DISPLAY_CRS, settings.WORKING_CRS)
    for idx, (east, north) in zip(picks, results, strict=True):
        want_e, want_n = transformer.transform(lon[idx], lat[idx])
        assert east.tobytes() == np.asarray(want_e).tobytes() and north.tobytes() == np.asarray(want_n).tobytes()
    assert len(memo) == len(np.unique(np.concatenate(picks)))


def test_microdegree_keys_are_exact() -> None:
    """Two values share an int64 key only if they are equal (or are -0.0 and 0.0)."""
    lon = np.array([-2.909043, -2.909044, 0.0, -0.0, 1.7, -5.5])
    lat = np.array([54.550761, 54.550761, 51.5, 51.5, 50.100001, 55.7])
    key = parsers._microdegree_keys(lon, lat)
    assert key is not None and len(set(key.tolist())) == 5 and key[2] == key[3]
    assert parsers._microdegree_keys(lon + 1e-9, lat) is None  # a seventh decimal: not keyed this way
    assert parsers._microdegree_keys(np.array([-2.5]), np.array([np.nextafter(53.5, 54)])) is None


def test_classify_british_national_grid() -> None:
    lon, lat, reason, located = ingest.classify_coordinates(["380500"], ["410900"], crs="EPSG:27700")
    assert reason[0] == "" and located[0]
    assert_allclose([lon[0], lat[0]], [-2.296, 53.594], atol=2e-3)  # Bury town centre, SD 805 109
    # round trip: the street path projects the lon/lat back to the same grid point
    accepted, _ = ingest.read_file(BAD / "partner_easting_northing.csv", mapping=BAD / "partner_en.toml")
    row = accepted.to_pylist()[0]
    assert_allclose([row[schema.EASTING], row[schema.NORTHING]], [380500, 410900], atol=1e-3)


def test_force_slug() -> None:
    assert ingest.force_slug("Lancashire Constabulary") == "lancashire"
    assert ingest.force_slug("Greater Manchester Police") == "greater-manchester"
    assert ingest.force_slug("Devon & Cornwall Police") == "devon-and-cornwall"
    assert ingest.force_slug("Metropolitan Police Service") == "metropolitan"
    assert ingest.force_slug("Police Service of Northern Ireland") == "northern-ireland"


# --------------------------------------------------------------------------------------------------
# Contract of accepted rows
# --------------------------------------------------------------------------------------------------
def test_street_rows_contract(tmp_path: Path) -> None:
    accepted, quarantined = ingest.read_file(BAD / "unlocated_ok.csv")
    assert accepted.schema == schema.INCIDENT_SCHEMA
    assert quarantined.schema == schema.QUARANTINE_SCHEMA
    df = accepted.to_pandas()
    raw = (BAD / "unlocated_ok.csv").read_bytes()
    import hashlib

    file_id = hashlib.sha256(raw).hexdigest()[:16]
    assert df[schema.INCIDENT_ID].tolist() == [f"{file_id}:2", f"{file_id}:3", f"{file_id}:4"]
    assert df[schema.OCCURRED_DATE].isna().all() and df[schema.OCCURRED_AT].isna().all()
    assert (df[schema.MONTH] == "2019-01").all()
    assert df[schema.FORCE].unique().tolist() == ["test"]  # from "Falls within"
    assert df[schema.LOCATED].tolist() == [False, True, False]
    assert_allclose(df.loc[1, [schema.EASTING, schema.NORTHING]].astype(float), [380901.27, 410419.09], atol=0.05)
    assert df[schema.CRIME_ID].tolist() == ["u1", "a1", "u2"]
    assert df[schema.CONTEXT].isna().all()
    assert (df[schema.WEIGHT] == 1.0).all()


def test_stop_search_times_and_month() -> None:
    accepted, _ = ingest.read_file(BAD / "2019-06-test-stop-and-search.csv")
    row = accepted.to_pylist()[0]
    assert row[schema.CRIME_TYPE] == schema.STOP_AND_SEARCH_TYPE
    assert row[schema.OBJECT_OF_SEARCH] == "Controlled drugs"
    assert row[schema.FORCE] == "test"
    assert str(row[schema.OCCURRED_AT]) == "2019-06-01 10:00:00+00:00"
    assert str(row[schema.OCCURRED_DATE]) == "2019-06-01"


def test_partner_local_time_to_utc(tmp_path: Path) -> None:
    csv_path = tmp_path / "asb.csv"
    csv_path.write_text(
        "Ref,Date reported,Type,Longitude,Latitude,Priority\n"
        "A,15/07/2023 00:30,Noise nuisance,-2.2971,53.5933,3\n"
        "B,15/01/2023 00:30,Begging,-2.2971,53.5933,\n",
        encoding="utf-8",
    )
    accepted, _ = ingest.read_file(csv_path, mapping=BAD / "partner.toml")
    df = accepted.to_pandas()
    # BST: 00:30 local on 15 July is 23:30 UTC on 14 July; month and date stay local
    assert str(df.loc[0, schema.OCCURRED_AT]) == "2023-07-14 23:30:00+00:00"
    assert str(df.loc[0, schema.OCCURRED_DATE]) == "2023-07-15"
    assert df.loc[0, schema.MONTH] == "2023-07"
    assert str(df.loc[1, schema.OCCURRED_AT]) == "2023-01-15 00:30:00+00:00"
    assert df[schema.CRIME_TYPE].tolist() == ["Anti-social behaviour", "Begging"]
    assert df[schema.WEIGHT].tolist() == [3.0, 1.0]
    assert df[schema.SOURCE].unique().tolist() == ["council_asb"]
    assert df[schema.FORCE].unique().tolist() == ["council_asb"]
    assert df[schema.CRIME_ID].tolist() == ["A", "B"]


def test_partner_date_only_has_no_time(tmp_path: Path) -> None:
    accepted, _ = ingest.read_file(BAD / "partner_easting_northing.csv", mapping=BAD / "partner_en.toml")
    df = accepted.to_pandas()
    assert df[schema.OCCURRED_AT].isna().all()
    assert df[schema.OCCURRED_DATE].astype(str).unique().tolist() == ["2023-02-03"]
    assert (df[schema.CRIME_TYPE] == "Fly-tipping").all()
    assert_allclose(df.loc[0, [schema.EASTING, schema.NORTHING]].astype(float), [380500, 410900], atol=1e-3)


def test_archive_folder_and_zip(tmp_path: Path) -> None:
    header = ",".join(schema.POLICE_UK_STREET_HEADER)
    folder = tmp_path / "archive"
    for month, force in [("2019-01", "lancashire"), ("2019-02", "lancashire"), ("2019-01", "cumbria")]:
        d = folder / month
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{month}-{force}-street.csv").write_text(
            f"{header}\n,{month},{force},{force},-2.5,53.7,,,,Drugs,,\n,{month},{force},{force},,,,,,Robbery,,\n",
            encoding="utf-8",
        )
    (folder / "2019-01" / "2019-01-lancashire-outcomes.csv").write_text("x\n", encoding="utf-8")
    report = ingest.ingest_paths([folder], store_dir=tmp_path / "s1")
    assert report.totals["accepted"] == 6 and report.totals["unlocated"] == 3
    assert any("outcomes" in n for n in report.notes)
    status = store.store_status(tmp_path / "s1")
    assert status["forces"] == ["cumbria", "lancashire"] and status["months"] == ["2019-01", "2019-02"]
    import shutil

    zip_path = Path(shutil.make_archive(str(tmp_path / "archive"), "zip", folder))
    report = ingest.ingest_paths([zip_path], store_dir=tmp_path / "s2")
    assert report.totals["accepted"] == 6
    assert report.files[0].path.startswith(f"{zip_path}!")
    # the same member bytes give the same file ids, so the zip adds nothing to the folder's store
    again = ingest.ingest_paths([zip_path], store_dir=tmp_path / "s1")
    assert again.totals["accepted"] == 0
    assert {f.status for f in again.files} == {"skipped: already in store"}


def test_gzip_and_plain_give_same_rows(tmp_path: Path) -> None:
    plain = BAD / "unlocated_ok.csv"
    gz = tmp_path / "u.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a, _ = ingest.read_file(plain)
    b, _ = ingest.read_file(gz)
    cols = [c for c in schema.INCIDENT_COLUMNS if c not in (schema.INCIDENT_ID, schema.FILE_ID)]
    assert a.select(cols).equals(b.select(cols))


# --------------------------------------------------------------------------------------------------
# Real shared files
# --------------------------------------------------------------------------------------------------
LANCASHIRE_TYPES = {
    "Violence and sexual offences": 20557,
    "Anti-social behaviour": 14073,
    "Other theft": 5152,
    "Burglary": 5022,
    "Public order": 4370,
    "Criminal damage and arson": 3991,
    "Vehicle crime": 3403,
    "Shoplifting": 2922,
    "Other crime": 1031,
    "Drugs": 776,
    "Theft from the person": 512,
    "Bicycle theft": 509,
    "Robbery": 360,
    "Possession of weapons": 272,
}
CUMBRIA_TYPES = {
    "Violence and sexual offences": 6613,
    "Anti-social behaviour": 3315,
    "Criminal damage and arson": 2273,
    "Public order": 1344,
    "Other theft": 1232,
    "Shoplifting": 1196,
    "Burglary": 797,
    "Vehicle crime": 498,
    "Drugs": 440,
    "Other crime": 348,
    "Bicycle theft": 96,
    "Possession of weapons": 94,
    "Robbery": 74,
    "Theft from the person": 64,
}


@pytest.mark.parametrize(
    ("rel", "rows", "types", "unlocated", "months"),
    [
        (
            "police-uk-street-lancashire-2018-19/lancashire_street_2018-11_to_2019-02.csv.gz",
            62950,
            LANCASHIRE_TYPES,
            4012,
            {"2018-11": 17135, "2018-12": 15379, "2019-01": 15402, "2019-02": 15034},
        ),
        (
            "police-uk-street-cumbria-2018-19/cumbria_street_2018-10_to_2019-02.csv.gz",
            18384,
            CUMBRIA_TYPES,
            77,
            {"2018-10": 4022, "2018-11": 3755, "2018-12": 3699, "2019-01": 3484, "2019-02": 3424},
        ),
    ],
    ids=["lancashire", "cumbria"],
)
def test_real_street_files(
    rel: str, rows: int, types: dict, unlocated: int, months: dict, tmp_path: Path, real_file: Callable[..., Path]
) -> None:
    path = real_file(rel)
    report = ingest.ingest_paths([path], store_dir=tmp_path)
    (f,) = report.files
    assert f.rows_read == rows == f.accepted + f.quarantined
    # per-crime-type counts of the rows read equal PROVENANCE.md
    df = store.read_incidents(tmp_path)
    q = store.read_quarantine(tmp_path)
    read_types = pd.concat([df[schema.CRIME_TYPE], q["raw"].map(lambda r: pd.read_json(r, typ="series")["Crime type"])])
    assert read_types.value_counts().to_dict() == types
    assert df.groupby(schema.MONTH).size().to_dict() == months
    assert f.unlocated == unlocated == int((~df[schema.LOCATED]).sum())
    assert df[schema.OCCURRED_DATE].isna().all() and df[schema.OCCURRED_AT].isna().all()
    assert df[schema.INCIDENT_ID].is_unique


def test_real_lancashire_keeps_birmingham_points(tmp_path: Path, real_file: Callable[..., Path]) -> None:
    path = real_file("police-uk-street-lancashire-2018-19/lancashire_street_2018-11_to_2019-02.csv.gz")
    ingest.ingest_paths([path], store_dir=tmp_path)
    df = store.read_incidents(tmp_path, located_only=True)
    birmingham = df[df[schema.LSOA_NAME].str.startswith("Birmingham", na=False)]
    assert len(birmingham) > 0
    assert set(df[schema.FORCE]) == {"lancashire"}
    assert df[schema.EASTING].between(0, 700_000).all()


def test_real_stop_search_june_2019(tmp_path: Path, real_file: Callable[..., Path]) -> None:
    path = real_file("police-uk-stop-search-gmp-2019/gmp_stop_and_search_2019-06.csv.gz")
    (f,) = ingest.ingest_paths([path], store_dir=tmp_path).files
    assert (f.rows_read, f.accepted, f.unlocated, f.quarantined) == (907, 907, 10, 0)
    df = store.read_incidents(tmp_path)
    assert df[schema.OCCURRED_AT].notna().all()
    assert df[schema.OCCURRED_AT].min() == pd.Timestamp("2019-05-31T23:01:00Z")
    assert df[schema.OCCURRED_AT].max() == pd.Timestamp("2019-06-30T22:25:00Z")
    assert (df[schema.MONTH] == "2019-06").all()  # 31 May 23:xx UTC is 1 June in BST
    assert (df[schema.CRIME_TYPE] == schema.STOP_AND_SEARCH_TYPE).all()
    assert (df[schema.OBJECT_OF_SEARCH] == "Controlled drugs").sum() == 505
    assert df[schema.OBJECT_OF_SEARCH].isna().sum() == 3
    assert df[schema.CONTEXT].value_counts().to_dict() == {
        "Person search": 742,
        "Person and Vehicle search": 125,
        "Vehicle search": 40,
    }


def test_real_gmp_burglary_via_mapping(tmp_path: Path, real_file: Callable[..., Path]) -> None:
    path = real_file("gmp-burglary-2016-2019/gmp_burglary_points_2016-02_to_2019-01.csv.gz")
    (f,) = ingest.ingest_paths([path], store_dir=tmp_path, mapping=MAPPINGS / "gmp_burglary.toml").files
    assert (f.rows_read, f.accepted, f.quarantined, f.unlocated) == (92666, 92666, 0, 0)
    df = store.read_incidents(
        tmp_path, columns=[schema.MONTH, schema.CRIME_TYPE, schema.OCCURRED_DATE, schema.LON, schema.LAT]
    )
    assert df[schema.MONTH].nunique() == 36
    assert (df[schema.MONTH].min(), df[schema.MONTH].max()) == ("2016-02", "2019-01")
    assert df[schema.OCCURRED_DATE].isna().all()  # month only: no day invented
    assert (df[schema.CRIME_TYPE] == "Burglary").all()
    assert df.groupby(schema.MONTH).size().between(2135, 3054).all()
    assert_allclose([df[schema.LON].min(), df[schema.LON].max()], [-2.7193, -1.9814], atol=1e-4)


def test_real_stats19_via_mapping(tmp_path: Path, real_file: Callable[..., Path]) -> None:
    path = real_file("gm-road-casualties-2019-2024/gm_stats19_road_casualties_2019-01_to_2024-06.csv.gz")
    (f,) = ingest.ingest_paths([path], store_dir=tmp_path, mapping=MAPPINGS / "stats19_casualties.toml").files
    assert (f.rows_read, f.accepted, f.quarantined) == (20435, 20435, 0)
    df = store.read_incidents(tmp_path)
    assert df[schema.OCCURRED_AT].notna().all()
    assert df[schema.CRIME_TYPE].value_counts().to_dict() == {
        "Road casualty: slight": 16270,
        "Road casualty: serious": 3823,
        "Road casualty: fatal": 342,
    }
    years = pd.to_datetime(df[schema.OCCURRED_DATE]).dt.year.value_counts().to_dict()
    assert years == {2019: 4897, 2020: 3218, 2021: 3895, 2022: 3563, 2023: 3242, 2024: 1620}
    raw = pd.read_csv(path, dtype=str)
    first = df.sort_values(schema.LINE).iloc[0]
    local = pd.Timestamp(f"{raw.loc[0, 'date']} {raw.loc[0, 'output_time']}", tz="Europe/London")
    assert first[schema.OCCURRED_AT] == local.tz_convert("UTC")
    assert (df[schema.LOCATION] == "Bury").sum() == 1401


# --------------------------------------------------------------------------------------------------
# Months: a police.uk file's rows carry the month the file is published for
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("2019-06-greater-manchester-stop-and-search.csv", "2019-06"),
        ("2019-06-lancashire-street.csv.gz", "2019-06"),
        ("gmp_stop_and_search_2019-06.csv.gz", "2019-06"),
        ("gmp_stop_and_search_2018-12_edited.csv.gz", "2018-12"),
        ("lancashire_street_2018-11_to_2019-02.csv.gz", None),  # a range: not a monthly file
        ("gmp_stop_and_search.csv", None),
        ("gmp_2019-13_stop_and_search.csv", None),  # not a month
        ("x12019-06.csv", None),  # part of a longer number
    ],
)
def test_file_month(name: str, month: str | None) -> None:
    assert ingest.file_month(name) == month


_STOP_ROW = "Person search,{date},False,,53.59,-2.29,Male,18-24,,,Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,,False"


def _stop_file(path: Path, dates: list[str]) -> Path:
    rows = [_STOP_ROW.format(date=d) for d in dates]
    path.write_text("\n".join([",".join(schema.POLICE_UK_STOP_SEARCH_HEADER), *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("order", ["june_first", "july_first"])
def test_stop_search_late_row_stays_in_its_file_month(order: str, tmp_path: Path) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London, yet police.uk published it in the June file.
    june = _stop_file(
        tmp_path / "2019-06-gmp-stop-and-search.csv",
        ["2019-05-31T23:30:00+00:00", "2019-06-15T12:00:00+00:00", "2019-06-30T23:30:00+00:00"],
    )
    july = _stop_file(
        tmp_path / "2019-07-gmp-stop-and-search.csv", ["2019-07-01T09:00:00+00:00", "2019-07-20T12:00:00+00:00"]
    )
    s = tmp_path / "store"
    for path in [june, july] if order == "june_first" else [july, june]:
        report = ingest.ingest_paths([path], store_dir=s)
        assert report.files[0].superseded == ()  # neither file replaces any part of the other
    df = store.read_incidents(s).sort_values(schema.OCCURRED_AT).reset_index(drop=True)
    assert len(df) == 5  # no row lost
    assert df[schema.MONTH].tolist() == ["2019-06"] * 3 + ["2019-07"] * 2
    late = df.iloc[2]
    assert str(late[schema.OCCURRED_AT]) == "2019-06-30 23:30:00+00:00"  # kept exact
    assert str(late[schema.OCCURRED_DATE]) == "2019-07-01"  # its London calendar day
    assert str(df.loc[0, schema.OCCURRED_DATE]) == "2019-06-01"
    assert store.store_status(s)["rows"] == 5


def test_stop_search_republished_month_replaces_only_that_month(tmp_path: Path) -> None:
    s = tmp_path / "store"
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    ingest.ingest_paths(
        [
            _stop_file(
                tmp_path / "v1" / "2019-06-gmp-stop-and-search.csv",
                ["2019-06-10T12:00:00+00:00", "2019-06-30T23:30:00+00:00"],
            )
        ],
        store_dir=s,
    )
    ingest.ingest_paths(
        [_stop_file(tmp_path / "v1" / "2019-07-gmp-stop-and-search.csv", ["2019-07-10T12:00:00+00:00"])], store_dir=s
    )
    # a corrected June file (one more row) replaces June only, the July file is untouched
    report = ingest.ingest_paths(
        [
            _stop_file(
                tmp_path / "v2" / "2019-06-gmp-stop-and-search.csv",
                ["2019-06-10T12:00:00+00:00", "2019-06-11T12:00:00+00:00", "2019-06-30T23:30:00+00:00"],
            )
        ],
        store_dir=s,
    )
    assert [(x["month"], x["rows"]) for x in report.files[0].superseded] == [("2019-06", 2)]
    df = store.read_incidents(s)
    assert df.groupby(schema.MONTH).size().to_dict() == {"2019-06": 3, "2019-07": 1}


def test_stop_search_without_month_in_name_uses_london_month(tmp_path: Path) -> None:
    path = _stop_file(tmp_path / "gmp_stop_and_search.csv", ["2019-06-30T23:30:00+00:00", "2019-06-30T22:30:00+00:00"])
    accepted, _ = ingest.read_file(path)
    df = accepted.to_pandas()
    assert df[schema.MONTH].tolist() == ["2019-07", "2019-06"]  # BST: 00:30 and 23:30 London time
    assert df[schema.FORCE].unique().tolist() == ["gmp"]


def test_street_row_of_another_month_is_quarantined_not_moved(tmp_path: Path) -> None:
    header = ",".join(schema.POLICE_UK_STREET_HEADER)
    row = ",{m},Test Police,Test Police,-2.29,53.59,On or near X,E01000001,Bury 001A,Burglary,,"
    jan = tmp_path / "2019-01-test-street.csv"
    jan.write_text("\n".join([header, row.format(m="2019-01"), row.format(m="2019-02")]) + "\n", encoding="utf-8")
    feb = tmp_path / "2019-02-test-street.csv"
    feb.write_text("\n".join([header] + [row.format(m="2019-02")] * 3) + "\n", encoding="utf-8")
    s = tmp_path / "store"
    ingest.ingest_paths([feb], store_dir=s)
    report = ingest.ingest_paths([jan], store_dir=s)
    (f,) = report.files
    assert (f.rows_read, f.accepted, f.reasons) == (2, 1, {"month_outside_file": 1})
    assert f.superseded == ()  # the stray February row did not replace the February file
    df = store.read_incidents(s)
    assert df.groupby(schema.MONTH).size().to_dict() == {"2019-01": 1, "2019-02": 3}
    q = store.read_quarantine(s)
    assert q["reason"].tolist() == ["month_outside_file"] and q[schema.LINE].tolist() == [3]
    assert "Month=2019-02" in q["message"].iloc[0]


# --------------------------------------------------------------------------------------------------
# Many files: street files read and validated in batches
# --------------------------------------------------------------------------------------------------
_ROW = "{id},{m},{f} Police,{f} Police,{lon},{lat},On or near X,E01000001,Bury 001A,{t},,"


def _street_folder(root: Path) -> Path:
    """An archive folder whose street files cover every batch rule (bad rows, blank lines, CRLF,
    no final line end, header only, a file without a force in its name, a quoted value)."""
    header = ",".join(schema.POLICE_UK_STREET_HEADER)

    def rows(month: str, f: str, n: int, **over: str) -> list[str]:
        out = []
        for i in range(n):
            kw = {
                "id": f"{f}{month}{i}",
                "m": month,
                "f": f.title(),
                "lon": f"{-2.3 + i * 0.001:.4f}",
                "lat": "53.59",
                "t": "Burglary",
            }
            out.append(_ROW.format(**{**kw, **over}) if i == 1 else _ROW.format(**kw))
        return out

    files = {
        "2019-01/2019-01-bury-street.csv": "\n".join([header, *rows("2019-01", "bury", 4)]) + "\n",
        "2019-01/2019-01-kent-street.csv": "\n".join([header, *rows("2019-01", "kent", 5, t="Bad type")]) + "\n",
        "2019-01/2019-01-leeds-street.csv": "\n".join(
            [header, rows("2019-01", "leeds", 3)[0], "", *rows("2019-01", "leeds", 3)[1:], ""]
        )
        + "\n",
        "2019-01/2019-01-york-street.csv": "\r\n".join([header, *rows("2019-01", "york", 3, lon="0", lat="0")]),
        "2019-02/2019-02-bury-street.csv": "\n".join([header, *rows("2019-02", "bury", 3, m="2019-03")]) + "\n",
        "2019-02/2019-02-kent-street.csv": header + "\n",
        "2019-02/2019-02-leeds-street.csv": "\n".join([header, *rows("2019-02", "leeds", 2, lon="x")]) + "\n",
        "2019-02/2019-02-york-street.csv": "\n".join(
            [
                header,
                *rows("2019-02", "york", 2),
                ',2019-02,York Police,York Police,-2.3,53.6,"On or near A, B",E01000001,Bury 001A,Drugs,,',
            ]
        )
        + "\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    gz = "\n".join([header, *rows("2019-02", "derby", 3, lat="")]) + "\n"
    (root / "2019-02" / "2019-02-derby-street.csv.gz").write_bytes(gzip.compress(gz.encode("utf-8")))
    return root


def _store_contents(s: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    acc = store.read_incidents(s).sort_values(schema.INCIDENT_ID).reset_index(drop=True)
    q = store.read_quarantine(s).sort_values([schema.FILE_ID, schema.LINE]).reset_index(drop=True)
    entries = {
        fid: {k: v for k, v in e.items() if k != "ingested_at"} for fid, e in store.read_manifest(s)["files"].items()
    }
    return acc, q, entries


def _alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every street file read on its own by the single-file reader (the oracle for batches)."""
    monkeypatch.setattr(ingest_batches, "street_text", lambda unit, raw_bytes: None)


@pytest.mark.parametrize("join_max_bytes", [_limits.JOIN_MAX_BYTES, 0])  # joined texts, or each parsed in place
def test_batches_give_what_files_read_alone_give(
    join_max_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_limits, "JOIN_MAX_BYTES", join_max_bytes)
    folder = _street_folder(tmp_path / "archive")
    assert len(ingest_batches.batches_of(ingest.expand_inputs(folder, []))) == 1  # the whole folder is one batch
    with monkeypatch.context() as m:  # and no file of it is read alone
        m.setattr(ingest_batches, "_prepare_alone", lambda *a, **k: pytest.fail("a street file was read alone"))
        batched = ingest.ingest_paths([folder], store_dir=tmp_path / "batched")
    with monkeypatch.context() as m:
        _alone(m)
        alone = ingest.ingest_paths([folder], store_dir=tmp_path / "alone")
    strip = lambda r: [{k: v for k, v in f.to_dict().items()} for f in r.files]  # noqa: E731
    assert strip(batched) == strip(alone)
    for got, want in zip(_store_contents(tmp_path / "batched"), _store_contents(tmp_path / "alone"), strict=True):
        if isinstance(got, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            assert got == want
    by_name = {Path(f.path).name: f for f in batched.files}
    assert by_name["2019-01-kent-street.csv"].reasons == {"unknown_crime_type": 1}
    assert by_name["2019-01-leeds-street.csv"].rows_read == 3  # blank lines are not rows
    assert by_name["2019-01-york-street.csv"].reasons == {"zero_coordinates": 1}  # CRLF, no final line end
    assert by_name["2019-02-bury-street.csv"].reasons == {"month_outside_file": 1}
    assert by_name["2019-02-kent-street.csv"].rows_read == 0
    assert by_name["2019-02-leeds-street.csv"].reasons == {"non_numeric_coordinates": 1}
    assert by_name["2019-02-york-street.csv"].accepted == 3
    assert by_name["2019-02-derby-street.csv.gz"].reasons == {"half_coordinates": 1}
    assert sum(f.rows_read for f in batched.files) == 4 + 5 + 3 + 3 + 3 + 0 + 2 + 3 + 3
    q = store.read_quarantine(tmp_path / "batched")
    leeds = q[q["file"].str.endswith("2019-01-leeds-street.csv")]
    assert leeds.empty
    kent = q[q["file"].str.endswith("2019-01-kent-street.csv")]
    assert kent[schema.LINE].tolist() == [3] and "Crime type=Bad type" in kent["message"].iloc[0]
    acc = store.read_incidents(tmp_path / "batched")
    leeds_lines = acc.loc[acc[schema.FORCE] == "leeds"].query("month == '2019-01'")[schema.LINE].tolist()
    assert sorted(leeds_lines) == [2, 4, 5]  # the blank line 3 is skipped, later lines keep their numbers
    # every column read back from the store, the ones its parts leave out too, equals the rows
    # ingest.read_file gives for each file on its own (INCIDENT_SCHEMA, built in full)
    want = pa.concat_tables([ingest.read_file(p)[0] for p in sorted(folder.rglob("*-street.csv*"))]).to_pandas()
    pd.testing.assert_frame_equal(
        _store_contents(tmp_path / "batched")[0], want.sort_values(schema.INCIDENT_ID).reset_index(drop=True)
    )


@pytest.mark.parametrize("join_max_bytes", [_limits.JOIN_MAX_BYTES, 0])
@pytest.mark.parametrize("odd", ["malformed", "quoted_line_break", "lone_cr", "cp1252"])
def test_batch_with_an_odd_file_reads_like_files_alone(
    odd: str, join_max_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_limits, "JOIN_MAX_BYTES", join_max_bytes)
    folder = _street_folder(tmp_path / "archive")
    header = ",".join(schema.POLICE_UK_STREET_HEADER)
    good = _ROW.format(id="o1", m="2019-01", f="Odd", lon="-2.3", lat="53.59", t="Drugs")
    texts = {
        "malformed": f"{header}\n{good}\n,2019-01,too,few\n{good}\n".encode(),
        "quoted_line_break": f'{header}\n{good}\n,2019-01,Odd,Odd,-2.3,53.6,"On or near\nA",E1,B,Drugs,,\n{good}\n'.encode(),
        "lone_cr": f"{header}\n{good}\r{good}\n".encode(),
        "cp1252": f"{header}\n{good}\n".replace("On or near X", "On or near Caf\u00e9").encode("cp1252"),
    }
    (folder / "2019-01" / "2019-01-odd-street.csv").write_bytes(texts[odd])
    batched = ingest.ingest_paths([folder], store_dir=tmp_path / "batched")
    with monkeypatch.context() as m:
        _alone(m)
        alone = ingest.ingest_paths([folder], store_dir=tmp_path / "alone")
    assert [f.to_dict() for f in batched.files] == [f.to_dict() for f in alone.files]
    for got, want in zip(_store_contents(tmp_path / "batched"), _store_contents(tmp_path / "alone"), strict=True):
        if isinstance(got, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            assert got == want
    odd_report = next(f for f in batched.files if Path(f.path).name == "2019-01-odd-street.csv")
    assert odd_report.rows_read == {"malformed": 3, "quoted_line_break": 3, "lone_cr": 2, "cp1252": 1}[odd]


@pytest.mark.parametrize("backend", ["memory", "dask"])
def test_a_refused_file_inside_a_batch_aborts_with_its_name(backend: str, tmp_path: Path) -> None:
    folder = _street_folder(tmp_path / "archive")
    empty = folder / "2019-01" / "2019-01-kent-street.csv"
    empty.write_bytes(b"")
    (folder / "2019-02" / "2019-02-leeds-street.csv").write_bytes(b"\x00\x01binary")  # a later refused file
    s = tmp_path / "store"
    with contextlib.ExitStack() as stack:
        client = None
        if backend == "dask":  # the batch is read on a worker; its error is raised here, in file order
            from geo_csp import cluster

            client = stack.enter_context(cluster.dask_client(n_workers=1, processes=False))
        with pytest.raises(_errors.InputFileError, match=r"2019-01-kent-street\.csv: the file is empty"):
            ingest.ingest_paths([folder], store_dir=s, backend=backend, client=client)
    assert not (s / store.MANIFEST_NAME).exists()
    assert list(s.rglob("*.parquet")) == []


def test_batches_are_bounded_by_bytes_and_by_file_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_limits, "BATCH_BYTES", 1000)
    units = [inputs.Unit(f"f{i}.csv", f"f{i}.csv", bytes, 300) for i in range(10)]
    units.insert(4, inputs.Unit("big.csv.gz", "big.csv.gz", bytes, 5000))  # 6x: a gzip's text is larger
    batches = ingest_batches.batches_of(units)
    assert [len(b) for b in batches] == [3, 1, 1, 3, 3]
    assert [u.path for b in batches for u in b] == [u.path for u in units]  # input order kept
    monkeypatch.setattr(_limits, "BATCH_FILES", 4)
    tiny = [inputs.Unit(f"t{i}.csv", f"t{i}.csv", bytes, 1) for i in range(10)]
    assert [len(b) for b in ingest_batches.batches_of(tiny)] == [4, 4, 2]


def test_the_writer_refuses_an_input_read_without_encoding(tmp_path: Path) -> None:
    # read_file's way of preparing (no Parquet bytes) must never pass for "already stored"
    folder = _street_folder(tmp_path / "archive")
    unit = ingest.expand_inputs(folder / "2019-01" / "2019-01-york-street.csv", [])[0]
    (item,) = ingest_batches.prepare_batch([unit], known=lambda _sha: None, mapping=None)
    assert item.staged.encoded is None and item.staged.accepted == item.accepted.num_rows > 0
    with pytest.raises(AssertionError, match="encode=True"):
        ingest.write_inputs(
            tmp_path / "s", lambda _txn: [item.staged], n_inputs=1, notes=[], mapping=None, progress=None
        )
    assert not (tmp_path / "s" / store.MANIFEST_NAME).exists()
    (encoded,) = ingest_batches.prepare_batch([unit], known=lambda _sha: None, mapping=None, encode=True)
    report = ingest.write_inputs(
        tmp_path / "s", lambda _txn: [encoded.staged], n_inputs=1, notes=[], mapping=None, progress=None
    )
    assert report.totals["accepted"] == encoded.accepted.num_rows


def test_files_staged_before_a_refused_batch_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_limits, "BATCH_BYTES", 1)  # one file per batch: earlier files are staged first
    folder = _street_folder(tmp_path / "archive")
    (folder / "2019-02" / "2019-02-york-street.csv").write_bytes(b"\x00\x01binary")  # the last file
    s = tmp_path / "store"
    with pytest.raises(_errors.InputFileError, match=r"2019-02-york-street\.csv: not a CSV"):
        ingest.ingest_paths([folder], store_dir=s)
    assert not (s / store.MANIFEST_NAME).exists()
    assert [p for p in s.rglob("*") if p.is_file()] == []  # every staged part and quarantine removed
    report = ingest.ingest_paths([folder / "2019-01"], store_dir=s)  # and the store still works
    assert report.totals["rows_read"] == 4 + 5 + 3 + 3
