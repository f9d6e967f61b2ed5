"""The tasking sheet: entered / remained / left on a hand-made two-period cube, escalation, repeat locations, files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pypdfium2
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
    assert len(pypdfium2.PdfDocument(pdf)) == 1, "the tasking sheet is one printable page"
    # a sheet for the meeting: SYNTHETIC on demo data, plain column names, numbers as people write them
    assert "SYNTHETIC demo data" in html
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    for technical in ("unit_id", "n_last", "n_before", "p_escalation", "predicted_n", "n_3m", "naming_delay_periods"):
        assert technical not in headers, technical
    assert {"Cell", "Incidents", "Compared", "p (rise)", "Last 3 months", "Priority"} <= set(headers)
    assert not re.findall(r">\s*-?\d+\.\d{4,}\s*<", html), "unrounded numbers on the printed sheet"
    sheets = pd.read_excel(tmp_path / "tasking.xlsx", sheet_name=None)
    assert {"hot spots 1", "hot spots 2", "repeat locations", "coverage gaps", "notes"} <= set(sheets)
    # the coverage gaps of the demo's partner layers: the sheet's list is the coverage command's
    assert "<h2>Coverage gaps</h2>" in html and "sits in hotspots no activity reaches" in result.output
    gaps = sheets["coverage gaps"]
    assert len(gaps) == 4 and gaps["rank"].tolist() == [1, 2, 3, 4]
    assert set(gaps["gaps"]) <= {"covered"} | {g for g in gaps["gaps"] if g.startswith("no ")}
    assert set(sheets["hot spots 1"]["status"].dropna()) <= {"entered", "remained", "left"}
    assert {"unit_id", "n_last", "n_before", "p_escalation"} <= set(sheets["hot spots 1"].columns)  # downloads


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


def test_tasking_sheet_gaps_section_known_answer(tmp_path):
    from types import SimpleNamespace

    from geo_csp import coverage

    table = pd.DataFrame(
        {
            "rank": [1, 2],
            "id": ["HS-0002", "HS-0001"],
            "name": ["Moorside", "Bury Town Centre"],
            schema.PREDICTED_N: [30.0, 50.0],
            "share_of_total": [0.15, 0.25],
            "n_gaps": [2, 0],
            "gaps": ["no CCTV view; no recent walkabout", "covered"],
        }
    )
    gaps = coverage.GapList(
        table=table,
        shares={"cctv": 0.15, "walkabout": 0.15, "all": 0.15},
        measure=schema.PREDICTED_N,
        total=200.0,
        total_label="borough total expected incidents next month",
        params={},
    )
    base = dict(
        title="T",
        last_label="2025-12",
        comparisons={},
        jaccard={},
        totals={"2025-12": 10.0},
        locations=pd.DataFrame(columns=["location"]),
        stops=pd.DataFrame(),
        cautions=[],
    )
    sheet = tasking.TaskingSheet(**base, gaps=gaps)
    assert sheet.gaps_summary() == (
        "1 of 2 hotspot areas miss some partner activity (cctv, walkabout assessed); 15% of the borough total "
        "expected incidents next month sits in hotspots no activity reaches."
    )
    paths = tasking.write_tasking(sheet, tmp_path)
    page = paths["tasking.html"].read_text(encoding="utf-8")
    assert page.index("Moorside") < page.index("Bury Town Centre") and "no CCTV view; no recent walkabout" in page
    assert "15.0%" in page
    assert "SYNTHETIC" not in page  # real data: no demo banner
    xl = pd.read_excel(paths["tasking.xlsx"], sheet_name="coverage gaps")
    assert xl["id"].tolist() == ["HS-0002", "HS-0001"]
    # without partner layers the sheet says the gaps were not assessed (not that every area is covered)
    bare = tasking.TaskingSheet(**base)
    assert not bare.gaps_assessed and bare.gaps_summary().startswith("Coverage gaps not assessed")
    none_given = tasking.TaskingSheet(**base, gaps=SimpleNamespace(shares={"all": 0.0}, table=table))
    assert not none_given.gaps_assessed
