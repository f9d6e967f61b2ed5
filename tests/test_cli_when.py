"""``geo-csp when`` on the demo borough: the town centre's time profile from the council ASB extract."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from geo_csp.cli import app

runner = CliRunner()


def test_when_town_centre_evening_peak(demo_borough, tmp_path):
    store = str(demo_borough.store_dir)
    csv = tmp_path / "profile.csv"
    png = tmp_path / "profile.png"
    result = runner.invoke(
        app, ["when", "--store", store, "--area", "Bury Town Centre", "--csv", str(csv), "--png", str(png)]
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "council_asb" in result.output and "Busiest window: 18:00-" in result.output
    profile = pd.read_csv(csv, index_col=0)
    assert profile.shape == (7, 24) and profile.index.tolist()[0] == "Mon"
    total = profile.to_numpy().sum()
    evening = profile[[str(h) for h in range(18, 24)]].to_numpy().sum()
    assert evening / total > 0.5  # the demo's council ASB is an evening problem in the town centre
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_when_refuses_police_uk_and_unknown_places(demo_borough):
    store = str(demo_borough.store_dir)
    result = runner.invoke(app, ["when", "--store", store, "--source", "police_uk_street"])
    assert result.exit_code != 0 and "month only" in str(result.exception)
    result = runner.invoke(app, ["when", "--store", store, "--area", "Atlantis"])
    assert result.exit_code != 0 and "not a hotspot area" in str(result.exception)


def test_nearrepeat_refuses_police_uk_and_runs_on_timed_records(demo_borough, tmp_path):
    store = str(demo_borough.store_dir)
    result = runner.invoke(app, ["nearrepeat", "--store", store])  # the demo's burglaries are police.uk only
    assert result.exit_code != 0 and "months only" in str(result.exception)
    csv = tmp_path / "series.csv"
    result = runner.invoke(
        app,
        [
            "nearrepeat",
            "--store",
            store,
            "--source",
            "council_asb",
            "--crime-type",
            "Anti-social behaviour",
            "--permutations",
            "99",
            "--csv",
            str(csv),
        ],
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "99 permutations" in result.output and "Knox ratio" in result.output
    assert csv.exists()
