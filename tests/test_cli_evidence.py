"""The ``table`` and ``evidence`` commands: files written, public mode, and the refusal message."""

from __future__ import annotations

import subprocess
import sys

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from geo_csp.cli import app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from geo_csp.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo"))


def _geo_csp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from geo_csp.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def test_table_command_writes_xlsx_csv_html(demo, tmp_path):
    res = CliRunner().invoke(app, ["table", "--store", str(demo.store_dir), "--xlsx", str(tmp_path / "t.xlsx"),
                                   "--csv", str(tmp_path / "t.csv"), "--html", str(tmp_path / "t.html")])
    assert res.exit_code == 0, res.output
    ws = load_workbook(tmp_path / "t.xlsx").active
    assert ws["A3"].value == "Measure" and ws["B3"].value == "Q3 Oct-Dec 2024" and ws["G3"].value == "Trend"
    assert "ASB reports to the council" in (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert "<table" in (tmp_path / "t.html").read_text(encoding="utf-8")


def test_table_command_public(demo, tmp_path):
    res = CliRunner().invoke(app, ["table", "--store", str(demo.store_dir), "--xlsx", str(tmp_path / "p.xlsx"),
                                   "--csv", str(tmp_path / "p.csv"), "--public"])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "p.csv").read_text(encoding="utf-8")
    assert "ASB reports to the council" not in text.split("# ")[0]
    assert "Counts below 10 are suppressed" in text


def test_evidence_command_public_pack(demo, tmp_path):
    out = tmp_path / "pack"
    res = CliRunner().invoke(app, ["evidence", "--store", str(demo.store_dir), "--area", "Bury Town Centre",
                                   "--out", str(out), "--public"])
    assert res.exit_code == 0, res.output
    assert {"report.html", "report.pdf", "manifest.json", "area.gpkg"} <= {p.name for p in out.iterdir()}
    assert "hotspot cells" in res.stdout


def test_evidence_command_refuses_points_in_public_mode(demo, tmp_path):
    res = _geo_csp("evidence", "--store", str(demo.store_dir), "--area", "Bury Town Centre",
                   "--out", str(tmp_path / "x"), "--public", "--points")
    assert res.returncode == 1
    assert "incident points cannot be exported in public mode" in res.stderr
    assert not (tmp_path / "x").exists()
