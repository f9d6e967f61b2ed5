"""The tasking sheet: entered / remained / left on a hand-made two-period cube, escalation, repeat locations, files."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geo_csp import schema, tasking
from geo_csp.cli import app


def test_entered_left_remained_on_a_two_period_cube():
    units = pd.Index(["a", "b", "c", "d", "e"])
    hot_cold = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [-1, 0]])  # columns: before, last
    counts = np.array([[10, 12], [9, 3], [2, 14], [0, 12], [1, 1]], dtype=float)
    table, jaccard = tasking.change_lists(hot_cold, counts, units)
    assert table.loc["c", "status"] == "entered" and table.loc["a", "status"] == "remained"
    assert table.loc["b", "status"] == "left"
    assert jaccard == pytest.approx(1 / 3)  # {a} of {a, b, c}
    # d is hot in neither but escalates: 12 against 0 (P = 0.5 ** 12); c too (14 against 2)
    assert table.loc["d", "status"] == "" and bool(table.loc["d", "escalating"])
    assert table.loc["d", "p_escalation"] == pytest.approx(0.5**12)
    assert bool(table.loc["c", "escalating"]) and not bool(table.loc["a", "escalating"])
    assert "e" not in table.index  # cold before, nothing now
    assert list(table.index[:3]) == ["c", "a", "b"]  # entered, remained, left


def test_repeat_locations_count_windows_and_skip_generic_labels():
    frame = pd.DataFrame(
        {
            schema.MONTH: ["2025-12", "2025-11", "2025-08", "2025-01", "2025-12", "2025-12"],
            schema.LOCATION: [
                "On or near Elm Street",
                "On or near Elm Street",
                "On or near Elm Street",
                "On or near Elm Street",
                "On or near Parking Area",
                "On or near Oak Road",
            ],
        }
    )
    out = tasking.repeat_locations(frame, last_month="2025-12")
    assert out["location"].tolist() == ["On or near Elm Street", "On or near Oak Road"]
    assert out.iloc[0][["n_3m", "n_6m", "n_12m"]].tolist() == [2, 3, 4]


def test_tasking_sheet_on_the_demo_writes_one_page(demo_borough, tmp_path):
    result = CliRunner().invoke(app, ["tasking", "--store", str(demo_borough.store_dir), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "against the month before" in result.output and "against a year earlier" in result.output
    html = (tmp_path / "tasking.html").read_text(encoding="utf-8")
    assert "Caution" in html and "On or near" in html and "Recommended stops" in html
    pdf = (tmp_path / "tasking.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-"
    if shutil.which("pdfinfo"):  # one printable page
        info = subprocess.run(["pdfinfo", str(tmp_path / "tasking.pdf")], capture_output=True, text=True, check=True)
        pages = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
        assert pages.split()[1] == "1"
    sheets = pd.read_excel(tmp_path / "tasking.xlsx", sheet_name=None)
    assert {"hot spots 1", "hot spots 2", "repeat locations", "notes"} <= set(sheets)
    assert set(sheets["hot spots 1"]["status"].dropna()) <= {"entered", "remained", "left"}


def test_hotspot_timeline_known_answer():
    from types import SimpleNamespace

    import geopandas as gpd

    hot_cold = np.array([[0, 1, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]])
    cube = SimpleNamespace(
        period_labels=np.array([f"2025-0{m}" for m in range(1, 7)]),
        params={"period": "month", "months": ["2025-01", "2025-06"]},
    )
    result = SimpleNamespace(
        cube=cube,
        analysis=SimpleNamespace(hot_cold=hot_cold),
        metadata={"area_params": {"min_hot_periods": 3}},
        units=pd.DataFrame({schema.AREA_ID: ["HS-0001", "HS-0001", None]}),
        areas=gpd.GeoDataFrame({schema.AREA_ID: ["HS-0001"], schema.AREA_NAME: ["Elm Street"]}, geometry=[None]),
    )
    out = tasking.hotspot_timeline(result)
    # unit 0 hot in Feb, Apr, May: its third hot month is May; unit 1 first hot in Mar; unit 2 belongs to no area
    row = out.iloc[0]
    assert (
        row["problem_started"],
        row["first_named"],
        row["naming_delay_periods"],
        row["latest_police_uk_month"],
    ) == (
        "2025-02",
        "2025-05",
        3,
        "2025-06",
    )
    assert "timed partner data" in out.attrs["rule"] and "latest month in the data from police.uk" in out.attrs["rule"]
