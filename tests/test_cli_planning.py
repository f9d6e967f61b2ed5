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
from geo_csp.demo import DemoPaths

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(demo_borough: DemoPaths) -> Path:
    return demo_borough.out_dir


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
    # ranked by the default priority score, with its evidence
    assert doc["measure"] == "predicted_n" and "predicted_n" in table.columns
    assert doc["evidence"].startswith("On your data, over the last 12 rolling months, this selection found ")
    assert doc["priority"]["predictor"] in {r["method"] for r in doc["priority"]["summary"]}
    assert "anonymised snap points" in doc["camera_sites_caveat"]
    assert "anonymised snap points" in json.loads(Path(f"{out}.json").read_text())["locations_note"]
    assert json.loads(Path(f"{out}.json").read_text())["layers"]["cctv"].endswith("cctv.csv")


@pytest.mark.slow
def test_route_command_on_demo_network(demo: Path, tmp_path: Path) -> None:
    gpx, sheet = tmp_path / "walk.gpx", tmp_path / "walk.html"
    doc = _run(
        "route",
        "--store",
        str(demo / "store"),
        "--start",
        "HUB-01",
        "--budget-min",
        "90",
        "--gpx",
        str(gpx),
        "--sheet",
        str(sheet),
        "--json",
    )
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
    doc = _run(
        "route",
        "--store",
        str(demo / "store"),
        "--layers-dir",
        str(layers_dir),
        "--start",
        "Moorside",
        "--budget-min",
        "60",
        "--gpx",
        str(gpx),
        "--offline",
        "--json",
    )
    assert doc["straight_line_estimate"] and "STRAIGHT-LINE ESTIMATE" in doc["note"]
    assert "STRAIGHT-LINE ESTIMATE" in gpx.read_text()


@pytest.mark.slow
def test_review_command_json(demo: Path) -> None:
    doc = _run("review", "--store", str(demo / "store"), "--operation", "Heartbeat", "--json")
    assert doc["operation"] == "Heartbeat"
    assert doc["windows"]["after"] == {"first": "2025-01", "last": "2025-12", "months": 12}
    before = doc["comparisons"]["before"]
    assert before["relative_effect_low"] < before["relative_effect"] < before["relative_effect_high"] < 0
    assert before["wdd_se"] > 0 and before["wdd_verdict"].startswith("fewer incidents than expected")
    assert "one baseline" in doc["comparisons"]["year_earlier"]["status"]
    assert doc["params"]["control_excludes"] == ["Lantern (01 Jan 2024 to 31 Dec 2025)"]
    assert doc["before_check"]["status"] == "not unusual"
    assert doc["sources"] == ["police_uk_street"] and doc["crime_types"] == "all"
    assert any("Regression to the mean" in c for c in doc["caveats"])


@pytest.mark.slow
def test_review_command_crime_type_and_group(demo: Path) -> None:
    every = _run("review", "--store", str(demo / "store"), "--operation", "Heartbeat", "--json")
    one = _run(
        "review", "--store", str(demo / "store"), "--operation", "Heartbeat", "--crime-type", "Shoplifting", "--json"
    )
    group = _run("review", "--store", str(demo / "store"), "--operation", "Heartbeat", "--group", "violence", "--json")
    assert one["crime_types"] == ["Shoplifting"] and group["group"] == "violence"
    assert "Violence and sexual offences" in group["crime_types"]
    totals = [d["counts"]["target"]["after"] for d in (every, one, group)]
    assert 0 < totals[1] < totals[0] and 0 < totals[2] < totals[0]


@pytest.mark.slow
def test_review_command_pools_one_day_operations(demo: Path) -> None:
    doc = _run("review", "--store", str(demo / "store"), "--operation", "Avro", "--json")
    assert doc["pooled"]["action_months"] == 8 and doc["pooled"]["verdict"] == "not distinguishable from zero"
    assert len(doc["dates"]) == 8
    one = _run("review", "--store", str(demo / "store"), "--operation", "Avro", "--date", "2025-07-17", "--json")
    assert one["windows"]["after"]["first"] == "2025-07"


@pytest.mark.slow
def test_review_command_unknown_operation(demo: Path) -> None:
    result = runner.invoke(app, ["review", "--store", str(demo / "store"), "--operation", "Nope"])
    assert result.exit_code != 0
    assert "no operation named 'Nope'" in str(result.exception)


def test_planning_modules_import_no_heavy_library_at_top_level() -> None:
    """``geo-csp --help`` must not load geopandas/pandas/shapely/the analysis through these modules."""
    import ast

    import geo_csp.cli._common as common
    import geo_csp.cli.planning_cmd as mod

    heavy = {"geopandas", "pandas", "numpy", "pyarrow", "pyogrio", "shapely", "osmnx", "networkx"}
    heavy_pkg = {
        "boundaries",
        "coverage",
        "harm",
        "layers",
        "priorities",
        "review",
        "routes",
        "store",
        "analysis",
        "hotspots",
    }
    for module in (mod, common):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        top: set[str] = set()
        for node in tree.body:  # module level only (TYPE_CHECKING blocks are ifs, not imports)
            if isinstance(node, ast.Import):
                top |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                top |= {node.module.split(".")[0]} | {a.name for a in node.names if node.module == "geo_csp"}
        assert not top & (heavy | heavy_pkg), (module.__name__, sorted(top & (heavy | heavy_pkg)))
        assert "hotspots_cmd" not in Path(module.__file__).read_text(encoding="utf-8")


@pytest.mark.slow
def test_route_command_through_named_areas_reaches_every_area(demo: Path, tmp_path: Path) -> None:
    gpx = tmp_path / "areas.gpx"
    doc = _run(
        "route",
        "--store",
        str(demo / "store"),
        "--start",
        "HUB-01",
        "--budget-min",
        "90",
        "--places",
        "areas",
        "--gpx",
        str(gpx),
        "--json",
    )
    visited = [s["name"] for s in doc["stops"]]
    # stops are micro-places: the busiest cells of each area, Koper's dwell at each
    assert all(": stop " in n for n in visited) and doc["total_min"] <= 90
    assert "Bury Town Centre: stop 1 of 2" in visited
    assert all(s["dwell_min"] == 12 for s in doc["stops"])
    # the demo's SYNTHETIC walking network covers the whole borough: no stop is left out as unreachable,
    # only for want of time within the 90-minute budget
    assert not [s for s in doc["skipped"] if s["reason"].startswith("unreachable")]
    ids = [s["stop_id"] for s in doc["stops"] + doc["skipped"]]  # every candidate cell is visited or listed, once
    assert len(ids) == len(set(ids)) and not any(i.startswith("HS-") for i in ids)
    assert [w.name.split(". ", 1)[1] for w in gpxpy.parse(gpx.read_text()).waypoints] == visited
    text = runner.invoke(
        app,
        [
            "route",
            "--store",
            str(demo / "store"),
            "--start",
            "HUB-01",
            "--budget-min",
            "90",
            "--places",
            "areas",
            "--gpx",
            str(gpx),
        ],
    )
    assert text.exit_code == 0, text.output
    assert "Not reachable" not in text.output  # the whole borough is walkable on the demo network


@pytest.mark.slow
def test_route_cells_are_named_after_their_area(demo: Path, tmp_path: Path) -> None:
    doc = _run(
        "route",
        "--store",
        str(demo / "store"),
        "--start",
        "HUB-01",
        "--budget-min",
        "90",
        "--gpx",
        str(tmp_path / "w.gpx"),
        "--json",
    )
    assert all(": cell " in s["name"] for s in doc["stops"] + doc["skipped"])
    assert any(s["name"].startswith("Bury Town Centre: cell ") for s in doc["stops"])


def test_route_and_coverage_option_errors(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "route",
            "--store",
            str(tmp_path),
            "--start",
            "x",
            "--budget-min",
            "60",
            "--gpx",
            str(tmp_path / "w.gpx"),
            "--places",
            "streets",
        ],
    )
    assert res.exit_code != 0 and "--places must be cells or areas" in str(res.exception)
    res = runner.invoke(
        app, ["coverage", "--store", str(tmp_path), "--out", str(tmp_path / "g.csv"), "--measure", "count"]
    )
    assert res.exit_code != 0 and "--measure must be predicted, harm or n" in str(res.exception)
