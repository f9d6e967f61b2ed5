"""Tests of geo_csp.store: idempotency, revisions, atomicity under SIGKILL, the lock and the read API."""

from __future__ import annotations

import json
import os
import re
import socket
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pytest

from geo_csp import _errors, ingest, qualifiers, schema, settings, store

BAD = Path(__file__).parent / "data" / "bad"
HEADER = ",".join(schema.POLICE_UK_STREET_HEADER)


def _street(path: Path, rows: list[tuple[str, str, str, str]], force: str = "Other Constabulary") -> Path:
    """Write a police.uk street CSV of (month, crime type, lon, lat) rows (the corpus uses "test")."""
    lines = [HEADER] + [f",{m},{force},{force},{lon},{lat},On or near X,E01,Bury 001A,{c},," for m, c, lon, lat in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def two_months(tmp_path: Path) -> Path:
    return _street(
        tmp_path / "jan_feb.csv",
        [("2019-01", "Burglary", "-2.29", "53.59")] * 3 + [("2019-02", "Drugs", "-2.30", "53.60")] * 2,
    )


def test_identical_rows_are_not_duplicates(two_months: Path, tmp_path: Path) -> None:
    report = ingest.ingest_paths([two_months], store_dir=tmp_path / "s")
    assert report.totals["accepted"] == 5
    df = store.read_incidents(tmp_path / "s")
    assert df[schema.INCIDENT_ID].is_unique and len(df) == 5


def test_same_bytes_again_adds_nothing(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    ingest.ingest_paths([two_months], store_dir=s)
    before = store.read_incidents(s)
    again = ingest.ingest_paths([two_months, two_months], store_dir=s)
    assert again.totals["accepted"] == 0 and again.totals["rows_read"] == 0
    assert [f.status for f in again.files] == ["skipped: already in store"] * 2
    pd.testing.assert_frame_equal(store.read_incidents(s), before)
    assert len(store.read_manifest(s)["files"]) == 1


def test_reingesting_everything_adds_zero_rows(tmp_path: Path) -> None:
    s = tmp_path / "s"
    street = [BAD / n for n in ("zero_coords.csv", "2019-06-test-stop-and-search.csv")]
    partner = [BAD / "partner_bad_dates.csv"]
    first = ingest.ingest_paths(street, store_dir=s)
    first_partner = ingest.ingest_paths(partner, store_dir=s, mapping=BAD / "partner.toml")
    assert first.totals["accepted"] == 2 and first_partner.totals["accepted"] == 1
    status = store.store_status(s)
    second = ingest.ingest_paths(street + partner, store_dir=s, mapping=BAD / "partner.toml")
    assert second.totals["accepted"] == 0 and second.totals["quarantined"] == 0
    assert store.store_status(s)["rows"] == status["rows"] == 3
    assert store.store_status(s)["quarantined"] == status["quarantined"] == 8


def test_republished_month_replaces_not_adds(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    first = ingest.ingest_paths([two_months], store_dir=s)
    old_id = first.files[0].file_id
    (old_jan,) = [p["path"] for p in store.read_manifest(s)["files"][old_id]["parts"] if p["month"] == "2019-01"]
    assert old_jan == f"incidents/source={schema.SOURCE_STREET}/force=other/2019-01_{old_id}.parquet"
    assert (s / old_jan).exists()
    jan_v2 = _street(tmp_path / "jan_v2.csv", [("2019-01", "Burglary", "-2.29", "53.59")] * 4)
    report = ingest.ingest_paths([jan_v2], store_dir=s)
    (f,) = report.files
    assert f.superseded == (
        {"file_id": old_id, "source": schema.SOURCE_STREET, "force": "other", "month": "2019-01", "rows": 3},
    )
    df = store.read_incidents(s)
    assert df.groupby(schema.MONTH).size().to_dict() == {"2019-01": 4, "2019-02": 2}
    manifest = store.read_manifest(s)
    assert manifest["files"][old_id]["active"] is True  # still holds February
    assert manifest["files"][old_id]["superseded_by"][0]["file_id"] == f.file_id
    assert not (s / old_jan).exists()  # the superseded part is deleted after the commit
    # February re-published too: the first file is now wholly replaced
    feb_v2 = _street(tmp_path / "feb_v2.csv", [("2019-02", "Drugs", "-2.30", "53.60")])
    ingest.ingest_paths([feb_v2], store_dir=s)
    status = store.store_status(s)
    assert status["rows"] == 5 and status["files"] == 2 and status["superseded_files"] == 1
    # the older revision's bytes are recognised and do not come back
    again = ingest.ingest_paths([two_months], store_dir=s)
    assert again.files[0].status == "skipped: already in store"
    assert store.store_status(s)["rows"] == 5


def test_later_file_in_one_ingest_wins(two_months: Path, tmp_path: Path) -> None:
    jan_v2 = _street(tmp_path / "jan_v2.csv", [("2019-01", "Burglary", "-2.29", "53.59")] * 4)
    ingest.ingest_paths([two_months, jan_v2], store_dir=tmp_path / "s")
    df = store.read_incidents(tmp_path / "s")
    assert df.groupby(schema.MONTH).size().to_dict() == {"2019-01": 4, "2019-02": 2}
    assert len(list((tmp_path / "s" / "incidents").rglob("*.parquet"))) == 2


def test_partner_revision_by_source_and_month(tmp_path: Path) -> None:
    s = tmp_path / "s"
    ingest.ingest_paths([BAD / "partner_duplicate_id.csv"], store_dir=s, mapping=BAD / "partner.toml")
    v2 = tmp_path / "asb_v2.csv"
    v2.write_text(
        "Ref,Date reported,Type,Longitude,Latitude,Priority\nR9,05/02/2023 10:00,Noise nuisance,-2.2971,53.5933,1\n",
        encoding="utf-8",
    )
    (f,) = ingest.ingest_paths([v2], store_dir=s, mapping=BAD / "partner.toml").files
    assert [x["month"] for x in f.superseded] == ["2023-02"]
    assert store.read_incidents(s)[schema.CRIME_ID].tolist() == ["R9"]


def _snapshot(s: Path) -> tuple[bytes, pd.DataFrame, pd.DataFrame]:
    return (s / store.MANIFEST_NAME).read_bytes(), store.read_incidents(s), store.read_quarantine(s)


def test_killed_ingest_leaves_store_unchanged(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    ingest.ingest_paths([two_months, BAD / "zero_coords.csv"], store_dir=s)
    manifest_before, incidents_before, quarantine_before = _snapshot(s)
    parts_before = set((s / "incidents").rglob("*.parquet"))
    # a revision of January plus a new file: the kill comes after parts are written, before commit
    jan_v2 = _street(tmp_path / "jan_v2.csv", [("2019-01", "Robbery", "-2.29", "53.59")] * 7)
    env = {**os.environ, store.PAUSE_ENV: "60"}
    code = "import sys; from geo_csp.cli import main; sys.argv[0] = 'geo-csp'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "ingest", str(jan_v2), str(BAD / "half_coords.csv"), "--store", str(s)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = set((s / "incidents").rglob("*.parquet")) - parts_before
            if len(new) >= 2 and (s / "quarantine").exists() and len(list((s / "quarantine").iterdir())) >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the ingest subprocess never wrote its parts")
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    manifest_after, incidents_after, quarantine_after = _snapshot(s)
    assert manifest_after == manifest_before
    pd.testing.assert_frame_equal(incidents_after, incidents_before)
    pd.testing.assert_frame_equal(quarantine_after, quarantine_before)
    assert parts_before <= set((s / "incidents").rglob("*.parquet"))  # superseded part not deleted
    # the killed process left its lock (naming its pid) and its staged parts: the next writer on
    # this host sees the process is gone, takes the lock over and removes the leftovers
    lock = json.loads((s / store.LOCK_NAME).read_text(encoding="utf-8"))
    assert lock["pid"] == proc.pid
    staged = set((s / "incidents").rglob("*.parquet")) - parts_before
    assert staged
    with store.store_transaction(s) as txn:
        assert not staged & set((s / "incidents").rglob("*.parquet"))  # the killed ingest's parts are gone
        assert f"took over the lock left by an ingest that is no longer running (pid {proc.pid} on" in txn.notes[0]
        assert re.fullmatch(r"removed [3-9] file\(s\) an interrupted ingest had staged but not committed", txn.notes[1])
    assert not (s / store.LOCK_NAME).exists()
    (s / store.LOCK_NAME).write_text(json.dumps(lock))  # left again: the ingest says so in its report
    report = ingest.ingest_paths([jan_v2, BAD / "half_coords.csv"], store_dir=s)
    assert report.totals["accepted"] == 8
    assert any(f"(pid {proc.pid} on" in n for n in report.notes), report.notes
    assert not (s / store.LOCK_NAME).exists()
    df = store.read_incidents(s)
    assert df.groupby([schema.FORCE, schema.MONTH]).size().to_dict() == {
        ("other", "2019-01"): 7,
        ("other", "2019-02"): 2,
        ("test", "2019-01"): 1,
    }
    # leftovers of the killed ingest were removed: every file on disk is listed
    listed = {p["path"] for e in store.read_manifest(s)["files"].values() for p in e["parts"]}
    on_disk = {str(p.relative_to(s)) for p in (s / "incidents").rglob("*") if p.is_file()}
    assert on_disk == listed


def test_lock_of_another_host_is_reported_with_its_host(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    s.mkdir()
    (s / store.LOCK_NAME).write_text(json.dumps({"pid": 4242, "host": "ingest-box-7", "since": "x"}))
    with pytest.raises(_errors.StoreError, match=r"locked by an ingest on another host \(pid 4242 on ingest-box-7"):
        ingest.ingest_paths([two_months], store_dir=s)
    assert (s / store.LOCK_NAME).exists()  # not ours to remove


def test_lock_of_a_live_process_without_flock_is_respected(two_months: Path, tmp_path: Path) -> None:
    """A lock naming a running process of this host (an older writer that did not flock) is kept."""
    s = tmp_path / "s"
    s.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        holder = {"pid": sleeper.pid, "host": socket.gethostname(), "since": "x"}
        (s / store.LOCK_NAME).write_text(json.dumps(holder))
        with pytest.raises(_errors.StoreError, match=rf"locked by another ingest \(pid {sleeper.pid} on"):
            ingest.ingest_paths([two_months], store_dir=s)
    finally:
        sleeper.kill()
        sleeper.wait()
    # the same lock once that process is gone: taken over
    report = ingest.ingest_paths([two_months], store_dir=s)
    assert any("took over the lock" in n for n in report.notes)


def test_lock_refuses_concurrent_writer(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    with store.store_transaction(s):
        with pytest.raises(_errors.StoreError, match=r"locked by another ingest \(pid \d+"):
            ingest.ingest_paths([two_months], store_dir=s)
    assert not (s / store.LOCK_NAME).exists()
    ingest.ingest_paths([two_months], store_dir=s)


def test_read_filters_and_columns(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    ingest.ingest_paths([two_months, BAD / "unlocated_ok.csv"], store_dir=s)
    assert len(store.read_incidents(s)) == 8
    assert len(store.read_incidents(s, months="2019-02")) == 2
    assert len(store.read_incidents(s, months=["2019-01"], crime_types=["Burglary"])) == 5
    assert len(store.read_incidents(s, located_only=True)) == 6
    assert len(store.read_incidents(s, sources=["council_asb"])) == 0
    assert len(store.read_incidents(s, forces="other")) == 5
    df = store.read_incidents(s, columns=[schema.MONTH, schema.LOCATED])
    assert list(df.columns) == [schema.MONTH, schema.LOCATED]
    assert df[schema.MONTH].map(type).eq(str).all()
    with pytest.raises(_errors.SchemaError, match="unknown column"):
        store.read_incidents(s, columns=["nope"])


def test_incidents_to_gdf(two_months: Path, tmp_path: Path) -> None:
    s = tmp_path / "s"
    ingest.ingest_paths([BAD / "unlocated_ok.csv"], store_dir=s)
    df = store.read_incidents(s)
    gdf = store.incidents_to_gdf(df)
    assert isinstance(gdf, gpd.GeoDataFrame) and gdf.crs == settings.WORKING_CRS
    assert gdf.index.tolist() == df.index[df[schema.LOCATED]].tolist()
    assert gdf.geometry.x.iloc[0] == df.loc[gdf.index[0], schema.EASTING]
    with pytest.raises(_errors.SchemaError, match="easting"):
        store.incidents_to_gdf(df[[schema.MONTH]])


def test_status_and_missing_store(two_months: Path, tmp_path: Path) -> None:
    with pytest.raises(_errors.StoreNotFoundError, match="geo-csp ingest"):
        store.store_status(tmp_path / "none")
    s = tmp_path / "s"
    ingest.ingest_paths([two_months, BAD / "zero_coords.csv"], store_dir=s)
    status = store.store_status(s)
    assert {k: status[k] for k in ("rows", "quarantined", "unlocated", "sources", "forces", "months", "files")} == {
        "rows": 6,
        "quarantined": 2,
        "unlocated": 0,
        "sources": [schema.SOURCE_STREET],
        "forces": ["other", "test"],
        "months": ["2019-01", "2019-02"],
        "files": 2,
    }
    reports = list((s / "reports").glob("*.json"))
    assert len(reports) == 1
    assert json.loads(reports[0].read_text())["totals"]["accepted"] == 6


def test_store_config_round_trip(tmp_path: Path) -> None:
    assert store.store_config(tmp_path) == {}
    config = {"borough": "Bury", "synthetic": True, "wards": "boundaries/bury_wards.geojson"}
    store.write_store_config(tmp_path, config)
    assert store.store_config(tmp_path) == config
    with pytest.raises(_errors.StoreError, match="JSON-serialisable"):
        store.write_store_config(tmp_path, {"path": Path("x")})
    assert store.store_config(tmp_path) == config


def test_store_config_is_read_typed_and_validated_once(tmp_path: Path) -> None:
    empty = store.read_config(tmp_path)
    assert empty == store.StoreConfig(tmp_path) and empty.borough is None and not empty.synthetic
    assert empty.path("wards") is None and not empty.is_bury
    store.write_store_config(
        tmp_path,
        {
            "borough": "Bury",
            "synthetic": True,
            "wards": "boundaries/bury_wards.geojson",
            "lsoas": None,
            "layers_dir": "",
            "boundary": "/abs/outline.gpkg",
            "comparators": ["Bolton", "E08000002"],
            "layers": {"cctv": "cams.csv"},
            "truth": "../truth.json",
        },
    )
    config = store.read_config(tmp_path)
    assert config.is_bury and config.synthetic and config.borough == "Bury"
    assert config.path("wards") == tmp_path / "boundaries/bury_wards.geojson"
    assert config.path("boundary") == Path("/abs/outline.gpkg")  # absolute paths are kept
    assert config.lsoas is None and config.layers_dir is None  # null and empty text are "not configured"
    assert config.comparators == ("Bolton", "E08000002") and dict(config.layers) == {"cctv": "cams.csv"}
    assert dict(config.extra) == {"truth": "../truth.json"}  # other keys are kept as written
    with pytest.raises(AttributeError):
        config.borough = "Bolton"  # type: ignore[misc]
    with pytest.raises(_errors.ParameterError, match="'truth' is not a file of the store config"):
        config.path("truth")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ([], "must hold a JSON object"),
        ({"wards": 3}, "'wards' must be text or null"),
        ({"synthetic": "yes"}, "'synthetic' must be true or false"),
        ({"population_unit": "msoa"}, "'population_unit' must be one of"),
        ({"comparators": "Bolton"}, "'comparators' must be a list"),
        ({"layers": ["cctv.csv"]}, "'layers' must map a layer kind to a file path"),
    ],
)
def test_a_bad_store_config_is_refused_naming_the_file_and_key(tmp_path: Path, raw, match) -> None:
    (tmp_path / store.CONFIG_NAME).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(_errors.StoreError, match=match) as caught:
        store.read_config(tmp_path)
    assert str(tmp_path / store.CONFIG_NAME) in str(caught.value)


def test_part_options_and_older_parts_read_together(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    s = tmp_path / "s"
    a = _street(tmp_path / "2019-01-other-street.csv", [("2019-01", "Burglary", "-2.3", "53.6")] * 3)
    ingest.ingest_paths([a], store_dir=s)
    part = next((s / "incidents").rglob("*.parquet"))
    meta = pq.ParquetFile(part).metadata.row_group(0)
    columns = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    # the part's key, the derived id and the columns with no value are not written into it
    left_out = {
        *store.PART_KEY_COLUMNS,
        schema.INCIDENT_ID,
        schema.OCCURRED_DATE,
        schema.OCCURRED_AT,
        schema.OCCURRED_FROM,
        schema.OCCURRED_TO,
        schema.OBJECT_OF_SEARCH,
        schema.CRIME_ID,
        schema.OUTCOME,
        schema.CONTEXT,
        *qualifiers.QUALIFIER_COLUMNS,  # police.uk records no qualifier
        schema.SEVERITY,
        schema.TRAVEL_MODE,
    }  # blank in this file
    assert set(columns) == set(schema.INCIDENT_COLUMNS) - left_out
    assert {c for c, m in columns.items() if m.is_stats_set} == {schema.LOCATED}
    assert columns[schema.LINE].compression == "UNCOMPRESSED"
    assert "DELTA_BINARY_PACKED" in columns[schema.LINE].encodings  # rising line numbers
    assert columns[schema.EASTING].compression == "UNCOMPRESSED"
    manifest = store.read_manifest(s)
    (entry,) = manifest["files"].values()
    full = store.read_incidents(s)
    assert (full[schema.INCIDENT_ID] == [f"{entry['file_id']}:{line}" for line in (2, 3, 4)]).all()
    assert (full[schema.SOURCE] == schema.SOURCE_STREET).all() and (full[schema.FORCE] == "other").all()
    assert (full[schema.MONTH] == "2019-01").all() and (full[schema.FILE_ID] == entry["file_id"]).all()
    assert full[schema.OCCURRED_AT].isna().all() and full[schema.OBJECT_OF_SEARCH].isna().all()
    # a part written the earlier way (every column, snappy and statistics everywhere), in the
    # earlier layout (a folder per month), reads alongside the new ones and is kept by the next ingest
    table = pa.Table.from_pandas(full, schema=schema.INCIDENT_SCHEMA, preserve_index=False)
    old_rel = f"incidents/source={schema.SOURCE_STREET}/force=other/month=2019-01/{entry['file_id']}.parquet"
    (s / old_rel).parent.mkdir(parents=True)
    pq.write_table(table, s / old_rel, compression="snappy", write_statistics=True)
    part.unlink()
    entry["parts"][0]["path"] = old_rel
    (s / store.MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    b = _street(tmp_path / "2019-02-other-street.csv", [("2019-02", "Robbery", "-2.2", "53.5")] * 2)
    ingest.ingest_paths([b], store_dir=s)
    got = store.read_incidents(s, located_only=True)
    assert sorted(got[schema.MONTH]) == ["2019-01"] * 3 + ["2019-02"] * 2
    assert got[schema.EASTING].notna().all()
    assert (s / old_rel).exists()
    old_rows = got[got[schema.MONTH] == "2019-01"].reset_index(drop=True)
    pd.testing.assert_frame_equal(old_rows, full)  # the old part reads as the new one did
    assert got[schema.INCIDENT_ID].str.fullmatch(r"[0-9a-f]{16}:\d+").all()
