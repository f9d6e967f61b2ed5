"""The ``table`` and ``evidence`` commands: files written, public mode, and the refusal message."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from geo_csp.cli import app


@pytest.fixture(scope="module")
def demo(demo_borough):
    return demo_borough


def _geo_csp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from geo_csp.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_table_command_writes_xlsx_csv_html(demo, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "table",
            "--store",
            str(demo.store_dir),
            "--xlsx",
            str(tmp_path / "t.xlsx"),
            "--csv",
            str(tmp_path / "t.csv"),
            "--html",
            str(tmp_path / "t.html"),
        ],
    )
    assert res.exit_code == 0, res.output
    ws = load_workbook(tmp_path / "t.xlsx").active
    assert ws["A3"].value == "Measure" and ws["B3"].value == "Q3 Oct-Dec 2024" and ws["G3"].value == "Trend"
    assert "ASB reports to the council" in (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert "<table" in (tmp_path / "t.html").read_text(encoding="utf-8")


def test_table_command_public(demo, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "table",
            "--store",
            str(demo.store_dir),
            "--xlsx",
            str(tmp_path / "p.xlsx"),
            "--csv",
            str(tmp_path / "p.csv"),
            "--public",
        ],
    )
    assert res.exit_code == 0, res.output
    text = (tmp_path / "p.csv").read_text(encoding="utf-8")
    # partner counts are published under the same rule as police.uk counts: rounded to 5, or suppressed
    council = pd.read_csv(tmp_path / "p.csv", comment="#", index_col=0).loc["ASB reports to the council"]
    counts = [float(v.replace(",", "")) for k, v in council.items() if k.startswith("Q") and v != "[c]"]
    assert counts and all(c % 5 == 0 and c >= 10 for c in counts)
    assert "Counts below 10 are suppressed" in text


def test_evidence_command_public_pack(demo, tmp_path):
    out = tmp_path / "pack"
    res = CliRunner().invoke(
        app, ["evidence", "--store", str(demo.store_dir), "--area", "Bury Town Centre", "--out", str(out), "--public"]
    )
    assert res.exit_code == 0, res.output
    assert {"report.html", "report.pdf", "manifest.json", "area.gpkg"} <= {p.name for p in out.iterdir()}
    assert "hotspot cells" in res.stdout


def test_evidence_command_refuses_points_in_public_mode(demo, tmp_path):
    res = _geo_csp(
        "evidence",
        "--store",
        str(demo.store_dir),
        "--area",
        "Bury Town Centre",
        "--out",
        str(tmp_path / "x"),
        "--public",
        "--points",
    )
    assert res.returncode == 1
    assert "incident points cannot be exported in public mode" in res.stderr
    assert not (tmp_path / "x").exists()


def test_command_module_imports_no_heavy_library_at_top_level():
    """``geo-csp --help`` must not load geopandas/pandas/the evidence code through this module."""
    import ast
    from pathlib import Path

    import geo_csp.cli.evidence_cmd as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:  # module level only
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            top |= {node.module.split(".")[0]} | {f"{node.module}.{a.name}" for a in node.names}
    heavy = {
        "geopandas",
        "pandas",
        "numpy",
        "pyarrow",
        "shapely",
        "matplotlib",
        "weasyprint",
        "openpyxl",
        "geo_csp.evidence",
        "geo_csp.table",
        "geo_csp.figures",
        "geo_csp.disclosure",
        "geo_csp.store",
    }
    assert not top & heavy, sorted(top & heavy)
    # and the commands still import them when they run
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    inner = {f"{n.module}" for f in ("table", "evidence") for n in ast.walk(fns[f]) if isinstance(n, ast.ImportFrom)}
    assert {"geo_csp.table", "geo_csp.evidence"} <= inner


def test_table_html_has_one_header_row(demo, tmp_path):
    import re

    res = CliRunner().invoke(
        app,
        [
            "table",
            "--store",
            str(demo.store_dir),
            "--xlsx",
            str(tmp_path / "t.xlsx"),
            "--html",
            str(tmp_path / "t.html"),
        ],
    )
    assert res.exit_code == 0, res.output
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    thead = re.search(r"<thead>(.*?)</thead>", page, flags=re.S).group(1)
    assert thead.count("<tr") == 1 and thead.startswith("<tr><th>Measure</th>")
    assert "Comparator: not available, as the store holds no data for comparator areas." in page
    ws = load_workbook(tmp_path / "t.xlsx").active
    notes = [r for r in range(1, ws.max_row + 1) if str(ws.cell(row=r, column=1).value or "")[:3] == "1. "]
    assert notes and ws.cell(row=notes[0], column=1).alignment.wrap_text
    assert any(str(rng).startswith(f"A{notes[0]}:") for rng in ws.merged_cells.ranges)
