"""The coverage, route and review commands on the SYNTHETIC demo store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gpxpy
import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_csp.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from _planning_demo import demo_dir

    return demo_dir(tmp_path_factory)


def _run(*args: str) -> dict:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + str(result.exception)
    return json.loads(result.stdout)


@pytest.mark.slow
def test_coverage_command_writes_gap_list(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "gaps.csv"
    doc = _run("coverage", "--store", str(demo / "store"), "--out", str(out), "--json")
    table = pd.read_csv(out)
    assert table["name"].iloc[0] == "Moorside" == doc["gaps"][0]["name"]
    assert set(doc["shares_uncovered"]) == {"cctv", "walkabout", "operation", "all"}
    assert len(doc["camera_sites"]) == 3
    assert json.loads(Path(f"{out}.json").read_text())["layers"]["cctv"].endswith("cctv.csv")


@pytest.mark.slow
def test_route_command_on_demo_network(demo: Path, tmp_path: Path) -> None:
    gpx, sheet = tmp_path / "walk.gpx", tmp_path / "walk.html"
    doc = _run("route", "--store", str(demo / "store"), "--start", "HUB-01", "--budget-min", "90",
               "--gpx", str(gpx), "--sheet", str(sheet), "--json")
    assert not doc["straight_line_estimate"] and doc["total_min"] <= 90
    assert len(doc["stops"]) >= 2
    assert gpxpy.parse(gpx.read_text()).tracks
    assert "Koper 1995" in sheet.read_text()


@pytest.mark.slow
def test_route_command_without_network_is_a_labelled_estimate(demo: Path, tmp_path: Path) -> None:
    layers_dir = tmp_path / "layers"
    layers_dir.mkdir()
    shutil.copy(demo / "layers" / "hubs.csv", layers_dir / "hubs.csv")
    gpx = tmp_path / "walk.gpx"
    doc = _run("route", "--store", str(demo / "store"), "--layers-dir", str(layers_dir), "--start", "Moorside",
               "--budget-min", "60", "--gpx", str(gpx), "--offline", "--json")
    assert doc["straight_line_estimate"] and "STRAIGHT-LINE ESTIMATE" in doc["note"]
    assert "STRAIGHT-LINE ESTIMATE" in gpx.read_text()


@pytest.mark.slow
def test_review_command_json(demo: Path) -> None:
    doc = _run("review", "--store", str(demo / "store"), "--operation", "Heartbeat", "--json")
    assert doc["operation"] == "Heartbeat"
    assert doc["windows"]["after"] == {"first": "2025-01", "last": "2025-12", "months": 12}
    assert doc["comparisons"]["before"]["wdq"] < 0
    assert any("Regression to the mean" in c for c in doc["caveats"])


@pytest.mark.slow
def test_review_command_unknown_operation(demo: Path) -> None:
    result = runner.invoke(app, ["review", "--store", str(demo / "store"), "--operation", "Nope"])
    assert result.exit_code != 0
    assert "no operation named 'Nope'" in str(result.exception)
