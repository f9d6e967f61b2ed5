"""LSOA outputs keep the LSOA name beside its code: hotspot units, files, map tooltips, tasking sheet, stops.

Known answers: the names are those of the LSOA polygon file the run used (Bury's shipped 2011 LSOAs for the
synthetic incidents; the real Greater Manchester LSOA file, ``area_code``/``area_name``, for a configured
Trafford store), looked up by code.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from _synthetic import random_incidents
from geo_csp import boundaries, hotspot_run, maps, priorities, schema, tasking
from geo_csp.cli import app
from geo_csp.cube import CubeParams

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def lsoa_run() -> hotspot_run.HotspotResult:
    return hotspot_run.run_hotspots(random_incidents(3000, seed=5, months=12), CubeParams(unit="lsoa"))


def test_lsoa_units_carry_the_name_of_their_code(lsoa_run):
    u = lsoa_run.units
    assert list(u.columns[:2]) == [schema.UNIT_ID, schema.LSOA_NAME]
    shipped = boundaries.load_lsoas(era=2011).set_index(schema.LSOA_CODE)[schema.LSOA_NAME]
    assert len(u) > 50 and u[schema.LSOA_NAME].notna().all()
    assert (u[schema.LSOA_NAME].to_numpy() == shipped.reindex(u[schema.UNIT_ID]).to_numpy()).all()
    assert u[schema.LSOA_NAME].str.match(r"^Bury \d{3}[A-Z]$").all()


def test_h3_and_ward_units_have_no_lsoa_name():
    inc = random_incidents(1500, seed=6, months=12)
    for unit in ("h3", "ward"):
        r = hotspot_run.run_hotspots(inc, CubeParams(unit=unit, resolution=9 if unit == "h3" else None))
        assert schema.LSOA_NAME in r.units.columns and r.units[schema.LSOA_NAME].isna().all()


def test_map_tooltip_shows_lsoa_name_and_code(lsoa_run):
    html = maps.hotspot_map(lsoa_run.units).get_root().render()
    row = lsoa_run.units.iloc[0]
    assert f'"lsoa_name": "{row[schema.LSOA_NAME]}"' in html and f'"lsoa_code": "{row[schema.UNIT_ID]}"' in html
    assert '"LSOA"' in html and '"LSOA code"' in html  # the tooltip's aliases
    h3 = hotspot_run.run_hotspots(random_incidents(800, seed=1, months=6), CubeParams(unit="h3", resolution=9))
    assert '"LSOA code"' not in maps.hotspot_map(h3.units).get_root().render()


def test_tasking_sheet_names_each_lsoa_beside_its_code(lsoa_run, tmp_path):
    sheet = tasking.tasking_sheet(lsoa_run, random_incidents(3000, seed=5, months=12))
    names = lsoa_run.units.set_index(schema.UNIT_ID)[schema.LSOA_NAME]
    for table in sheet.comparisons.values():
        assert table.columns[0] == "lsoa" and len(table)
        assert (table["lsoa"] == names.reindex(table.index)).all()
    files = tasking.write_tasking(sheet, tmp_path)
    first = pd.read_excel(files["tasking.xlsx"], sheet_name="hot spots 1")
    assert list(first.columns[:2]) == [schema.UNIT_ID, "lsoa"]
    code, name = first.iloc[0][schema.UNIT_ID], first.iloc[0]["lsoa"]
    assert f'<th>{code}</th><td class="text">{name}</td>' in files["tasking.html"].read_text(encoding="utf-8")


def test_walkabout_stops_of_lsoas_name_the_lsoa(lsoa_run):
    stops = priorities.walkabout_candidates(
        lsoa_run, places="cells", params=priorities.PatrolParams(measure=schema.N, top_n=3)
    )
    names = lsoa_run.units.set_index(schema.UNIT_ID)[schema.LSOA_NAME]
    assert len(stops) == 3
    for stop_id, text in zip(stops["stop_id"], stops["name"], strict=True):
        assert f": LSOA {names[stop_id]} ({stop_id})" in text


@pytest.fixture(scope="module")
def trafford(real_file, tmp_path_factory) -> dict:
    """A real non-Bury store: GMP burglary points, Trafford's outline, GM 2011 LSOAs named in their file's
    ``area_name`` column, mid-2017 LSOA populations, all through the command line."""
    from pathlib import Path

    points = real_file("gmp-burglary-2016-2019", "gmp_burglary_points_2016-02_to_2019-01.csv.gz")
    lsoas = real_file("gm-lsoa", "gm_lsoa_2011_generalised.geojson")
    outline = real_file("gm-local-authorities", "gm_local_authority_2021_generalised.geojson")
    population = real_file("population", "mid2017_population_lsoa11_ward_la_england_wales.csv.gz")
    mapping = Path(__file__).parent / "data" / "mappings" / "gmp_burglary.toml"
    store_dir = tmp_path_factory.mktemp("trafford") / "store"
    steps = [
        ["ingest", "--store", str(store_dir), "--mapping", str(mapping), str(points)],
        ["configure", "--store", str(store_dir), "--borough", "Trafford", "--boundary", str(outline)]
        + ["--district", "Trafford", "--lsoas", str(lsoas), "--lsoa-code-col", "area_code"]
        + ["--lsoa-name-col", "area_name", "--population", str(population)]
        + ["--population-code-col", "area_code", "--population-col", "population_mid2017"],
    ]
    for args in steps:
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 0, (args[0], result.output, result.exception)
    return {"store": store_dir, "names": gpd.read_file(lsoas).set_index("area_code")["area_name"]}


@pytest.mark.slow
def test_configured_trafford_store_keeps_its_lsoa_names(trafford, tmp_path):
    store_dir, real = trafford["store"], trafford["names"]
    steps = [
        ["hotspots", "--store", str(store_dir), "--unit", "lsoa", "--source", "gmp_burglary_points"]
        + ["--out", str(tmp_path / "lsoa.gpkg")],
        ["tasking", "--store", str(store_dir), "--unit", "lsoa", "--source", "gmp_burglary_points"]
        + ["--out", str(tmp_path / "tasking")],
    ]
    for args in steps:
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 0, (args[0], result.output, result.exception)
    units = gpd.read_file(tmp_path / "lsoa.gpkg", layer="hotspot_units")
    assert len(units) == 138  # Trafford's 2011 LSOAs (more than half of their area inside the outline)
    assert (units[schema.LSOA_NAME].to_numpy() == real.reindex(units[schema.UNIT_ID]).to_numpy()).all()
    assert units[schema.LSOA_NAME].str.startswith("Trafford ").all()
    json.loads((tmp_path / "lsoa.gpkg.json").read_text(encoding="utf-8"))  # the sidecar metadata
    first = pd.read_excel(tmp_path / "tasking" / "tasking.xlsx", sheet_name="hot spots 1")
    assert len(first) and first["lsoa"].str.startswith("Trafford ").all()
    assert (first["lsoa"].to_numpy() == real.reindex(first[schema.UNIT_ID]).to_numpy()).all()


def _app_shows_lsoa_names(store_dir, names: pd.Series, monkeypatch, tmp_path) -> None:
    """The app with LSOAs chosen: the map's change table and the tasking sheet name each LSOA as ``names``."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_CSP_STORE", str(store_dir))
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(tmp_path))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.run()
    at.radio(key="unit").set_value("LSOAs").run()
    at.radio(key="map_view").set_value("Change on the month before").run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(d.value for d in at.dataframe if "LSOA" in d.value.columns)
    assert len(table) and (table["LSOA"].to_numpy() == names.reindex(table["Cell or area code"]).to_numpy()).all()
    at.switch_page("geo_csp/app/pages/tasking.py").run()
    assert not at.exception, [e.message for e in at.exception]
    lists = [d.value for d in at.dataframe if "LSOA" in d.value.columns]
    assert lists and all((t["LSOA"].to_numpy() == names.reindex(t.index).to_numpy()).all() for t in lists)


def test_app_pages_show_lsoa_names_beside_codes(demo_borough, monkeypatch, tmp_path):
    shipped = boundaries.load_lsoas(era=2021).set_index(schema.LSOA_CODE)[schema.LSOA_NAME]
    _app_shows_lsoa_names(demo_borough.out_dir / "store", shipped, monkeypatch, tmp_path)


@pytest.mark.slow
def test_app_pages_of_a_trafford_store_show_its_lsoa_names(trafford, monkeypatch, tmp_path):
    _app_shows_lsoa_names(trafford["store"], trafford["names"], monkeypatch, tmp_path)
