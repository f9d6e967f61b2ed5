"""Tests of the ``geo-csp ingest`` and ``geo-csp status`` commands.

In process through typer's ``CliRunner`` (and ``geo_csp.cli.main`` for the one-line error format);
one real subprocess checks the installed console script's exit code and stderr.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geo_csp import schema
from geo_csp.cli import app, main

BAD = Path(__file__).parent / "data" / "bad"
CONTRACT_KEYS = {"path", "rows_read", "accepted", "unlocated", "quarantined", "reasons"}


def _invoke(*args: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(app, list(args))


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the console script's entry point in process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["geo-csp", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def test_ingest_json_contract(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    result = _invoke("ingest", str(BAD / "zero_coords.csv"), str(BAD / "unlocated_ok.csv"), "--store", s, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stdout is only the JSON document
    assert set(report) == {"files", "totals"}
    assert all(CONTRACT_KEYS <= set(f) for f in report["files"])
    assert CONTRACT_KEYS - {"path"} <= set(report["totals"])
    assert report["files"][0]["reasons"] == {"zero_coordinates": 2}
    assert report["totals"]["rows_read"] == report["totals"]["accepted"] + report["totals"]["quarantined"]


def test_ingest_table_on_stderr_and_status(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    result = _invoke("ingest", str(BAD / "bad_month.csv"), "--store", s)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "bad_month 4" in result.stderr and "TOTAL" in result.stderr
    status = _invoke("status", "--store", s, "--json")
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert {k: data[k] for k in ("rows", "quarantined", "sources", "forces", "months")} == {
        "rows": 1,
        "quarantined": 4,
        "sources": [schema.SOURCE_STREET],
        "forces": ["test"],
        "months": ["2019-01"],
    }
    human = _invoke("status", "--store", s)
    assert human.exit_code == 0 and "quarantined" in human.stderr and human.stdout == ""


def test_ingest_with_mapping_and_reingest(tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    args = (
        "ingest",
        str(BAD / "partner_bad_row.xlsx"),
        "--mapping",
        str(BAD / "partner_xlsx.toml"),
        "--store",
        s,
        "--json",
    )
    first = json.loads(_invoke(*args).stdout)
    assert first["totals"]["accepted"] == 2 and first["totals"]["reasons"] == {"bad_date": 1}
    second = json.loads(_invoke(*args).stdout)
    assert second["totals"]["accepted"] == 0
    assert second["files"][0]["status"] == "skipped: already in store"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("ingest", str(BAD / "truncated.csv.gz"), "--json"), "truncated or corrupt gzip"),
        (
            ("ingest", str(BAD / "partner_bad_dates.csv"), "--mapping", str(BAD / "mapping_bad_toml.toml")),
            "mapping_bad_toml.toml",
        ),
        (("ingest", "MISSING/missing.csv"), "no such file or folder"),
        (("status", "--json"), "no store at"),
    ],
    ids=["truncated-gzip", "bad-mapping", "missing-file", "no-store"],
)
def test_errors_are_one_line_with_nonzero_exit(
    args: tuple[str, ...],
    match: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s = tmp_path / "s"
    args = tuple(str(tmp_path / a) if a.startswith("MISSING/") else a for a in args)
    code, out, err = _main(monkeypatch, capsys, *args, "--store", str(s))
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geo-csp: error: "), err
    assert match in lines[0]
    assert not (s / "manifest.json").exists()


def test_python_dash_m_runs_the_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["geo-csp", "ingest", "--help"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("geo_csp.cli", run_name="__main__")
    assert exc.value.code == 0
    assert "--mapping" in capsys.readouterr().out


def test_console_script_exit_code_and_error_line(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("geo-csp")
    if not script.exists():
        pytest.skip("the geo-csp console script is not installed next to this Python (pip install -e .)")
    missing = tmp_path / "missing.csv"
    result = subprocess.run(
        [str(script), "ingest", str(missing), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"geo-csp: error: {missing}: no such file or folder; check the path"]


@pytest.mark.parametrize("module", ["ingest_cmd", "demo_cmd"])
def test_command_modules_import_no_heavy_library_at_load(module: str) -> None:
    # `geo-csp --help` imports every command module: heavy libraries belong inside the commands.
    import ast

    import geo_csp.cli

    source = (Path(geo_csp.cli.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    top = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            top += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            top += [f"{node.module}.{a.name}" for a in node.names]
    heavy = (
        "geo_csp.ingest",
        "geo_csp.store",
        "geo_csp.demo",
        "pandas",
        "geopandas",
        "pyarrow",
        "numpy",
        "rich.progress",
        "rich.table",
    )
    assert [name for name in top if name.startswith(heavy)] == []
