"""``geo-csp backtest --sweep`` on real police.uk data of a county force: the bound is stated and honoured.

Lancashire's street file (Nov 2018 - Feb 2019) and its 14 districts: Blackpool (35 km2) keeps every
resolution within the cell cap, and resolution 11 (cells about 50 m across) is skipped for being finer than
Blackpool's snap points are apart (69 m, median distance to the nearest); the whole force (3,066 km2) skips
resolutions 10 and 11 for their cell counts (about 204,000 and 1.4 million).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geo_csp import backtest, grid
from geo_csp.cli import app

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def lancashire(real_file, tmp_path_factory) -> dict:
    from geo_csp import ingest

    street = real_file("police-uk-street-lancashire-2018-19", "lancashire_street_2018-11_to_2019-02.csv.gz")
    districts = real_file("lancashire-asb-2022", "lancashire_districts_2022.geojson")
    store_dir = tmp_path_factory.mktemp("lancashire") / "store"
    ingest.ingest_paths([street], store_dir=store_dir)
    return {"store": store_dir, "districts": districts}


def _sweep(lancashire: dict, *extra: str) -> dict:
    args = ["backtest", "--store", str(lancashire["store"]), "--boundary", str(lancashire["districts"])]
    result = RUNNER.invoke(app, [*args, *extra, "--sweep", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout[result.stdout.index("{") :])


@pytest.mark.slow
def test_sweep_of_a_district_skips_cells_finer_than_the_snap_points(lancashire):
    doc = _sweep(lancashire, "--district", "Blackpool")
    bound = doc["resolution_sweep_bound"]
    assert bound["max_cells"] == backtest.SWEEP_MAX_CELLS
    assert 65.0 < bound["snap_spacing_m"] < 75.0  # Blackpool's snap points: 69 m apart (median)
    assert grid.cell_across_m(11) < bound["snap_spacing_m"] < grid.cell_across_m(10)
    assert [r["resolution"] for r in doc["resolution_sweep"]] == [7, 8, 9, 10]
    (note,) = doc["resolution_sweep_skipped"]
    assert note.startswith("resolution 11 skipped: its cells are 50 m across, less than the 69 m")
    # the command's own back-test (resolution 10, chosen for a 35 km2 district) is the sweep's row 10
    assert doc["metadata"]["resolution"] == 10
    row10 = next(r for r in doc["resolution_sweep"] if r["resolution"] == 10)
    default = next(r for r in doc["summary"] if r["method"] == "default")
    assert row10["pai_default"] == pytest.approx(default["pai_mean"], rel=1e-12)
    assert row10["n_units"] == doc["metadata"]["n_units"]


@pytest.mark.slow
def test_sweep_of_a_whole_county_force_is_bounded_by_cells_and_says_so(lancashire):
    doc = _sweep(lancashire)
    assert doc["metadata"]["resolution"] == 9  # patrol-sized cells for a county force, not 5 km2 ones
    rows = doc["resolution_sweep"]
    assert [r["resolution"] for r in rows] == [7, 8, 9]
    assert all(r["n_units"] <= backtest.SWEEP_MAX_CELLS for r in rows)
    skipped = doc["resolution_sweep_skipped"]
    assert [s.split(":")[0] for s in skipped] == ["resolution 10 skipped", "resolution 11 skipped"]
    assert "about 203,778 cells over the study area (more than 150,000)" in skipped[0]
    assert "--district NAME" in skipped[1]
    # printed for people: the table, each resolution skipped and the rule
    args = ["backtest", "--store", str(lancashire["store"]), "--boundary", str(lancashire["districts"]), "--sweep"]
    text = " ".join(RUNNER.invoke(app, args).output.split())
    assert "resolution 10 skipped: about 203,778 cells" in text
    assert "Swept: resolutions giving at most 150,000 cells over the study area whose cells are at least" in text


def test_sweep_help_states_the_bound_the_library_applies():
    text = " ".join(RUNNER.invoke(app, ["backtest", "--help"]).output.split())
    assert f"more than {backtest.SWEEP_MAX_CELLS:,} cells over the study area" in text.replace("│ ", "")
