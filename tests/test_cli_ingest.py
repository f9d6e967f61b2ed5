"""Tests of the ``geo-csp ingest`` and ``geo-csp status`` commands (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from geo_csp import schema

BAD = Path(__file__).parent / "data" / "bad"
CONTRACT_KEYS = {"path", "rows_read", "accepted", "unlocated", "quarantined", "reasons"}
_CODE = "import sys; from geo_csp.cli import main; sys.argv[0] = 'geo-csp'; main()"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _CODE, *args], capture_output=True, text=True, timeout=120)


def test_ingest_json_contract(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    result = _run("ingest", str(BAD / "zero_coords.csv"), str(BAD / "unlocated_ok.csv"), "--store", s, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # stdout is only the JSON document
    assert set(report) == {"files", "totals"}
    assert all(CONTRACT_KEYS <= set(f) for f in report["files"])
    assert CONTRACT_KEYS - {"path"} <= set(report["totals"])
    assert report["files"][0]["reasons"] == {"zero_coordinates": 2}
    assert report["totals"]["rows_read"] == report["totals"]["accepted"] + report["totals"]["quarantined"]


def test_ingest_table_on_stderr_and_status(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    result = _run("ingest", str(BAD / "bad_month.csv"), "--store", s)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "bad_month 4" in result.stderr and "TOTAL" in result.stderr
    status = _run("status", "--store", s, "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert {k: data[k] for k in ("rows", "quarantined", "sources", "forces", "months")} == {
        "rows": 1, "quarantined": 4, "sources": [schema.SOURCE_STREET], "forces": ["test"],
        "months": ["2019-01"]}
    human = _run("status", "--store", s)
    assert human.returncode == 0 and "quarantined" in human.stderr


def test_ingest_with_mapping_and_reingest(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    args = ("ingest", str(BAD / "partner_bad_row.xlsx"), "--mapping", str(BAD / "partner_xlsx.toml"),
            "--store", s, "--json")
    first = json.loads(_run(*args).stdout)
    assert first["totals"]["accepted"] == 2 and first["totals"]["reasons"] == {"bad_date": 1}
    second = json.loads(_run(*args).stdout)
    assert second["totals"]["accepted"] == 0
    assert second["files"][0]["status"] == "skipped: already in store"


def test_errors_are_one_line_with_nonzero_exit(tmp_path: Path) -> None:
    s = tmp_path / "s"
    for args in (
        ("ingest", str(BAD / "truncated.csv.gz"), "--store", str(s), "--json"),
        ("ingest", str(BAD / "partner_bad_dates.csv"), "--mapping", str(BAD / "mapping_bad_toml.toml"),
         "--store", str(s)),
        ("ingest", str(tmp_path / "missing.csv"), "--store", str(s)),
        ("status", "--store", str(tmp_path / "nowhere"), "--json"),
    ):
        result = _run(*args)
        assert result.returncode != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("geo-csp: error: "), result.stderr
    assert not (s / "manifest.json").exists()
