"""``geo-csp hotspots``, ``areas`` and ``backtest`` on a small store built from police.uk-format files."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from typer.testing import CliRunner

from _synthetic import random_incidents
from geo_csp import schema
from geo_csp.cli import app


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    from geo_csp import ingest, store

    inc = random_incidents(1500, seed=3, months=12)
    rows = pd.DataFrame({
        "Crime ID": "", "Month": inc.month, "Reported by": "Greater Manchester Police",
        "Falls within": "Greater Manchester Police", "Longitude": inc.lon.round(6), "Latitude": inc.lat.round(6),
        "Location": inc.location, "LSOA code": "", "LSOA name": "", "Crime type": inc.crime_type,
        "Last outcome category": "", "Context": ""})
    src = tmp_path_factory.mktemp("src")
    for month, group in rows.groupby("Month"):
        (src / month).mkdir()
        group.to_csv(src / month / f"{month}-greater-manchester-street.csv", index=False)
    out = tmp_path_factory.mktemp("store")
    ingest.ingest_paths([src], store_dir=out)
    store.write_store_config(out, {"borough": "Bury"})
    return out


def test_hotspots_writes_geoparquet_and_gpkg_with_metadata(store_dir, tmp_path):
    runner = CliRunner()
    for name in ("units.parquet", "units.gpkg"):
        res = runner.invoke(app, ["hotspots", "--store", str(store_dir), "--unit", "h3", "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    units = gpd.read_parquet(tmp_path / "units.parquet")
    for col in ("unit_id", "n", "harm", "gi_z", "gi_p", "mk_tau", "mk_p", "pattern", "category", "area_id", "explanation"):
        assert col in units.columns
    meta = json.loads(pq.read_schema(tmp_path / "units.parquet").metadata[b"geo_csp"])
    assert meta["unit"] == "h3" and meta["resolution"] == 9 and "hotspot_params" in meta
    assert meta["study_area"].startswith("shipped Bury boundary")
    gpkg = gpd.read_file(tmp_path / "units.gpkg", layer="hotspot_units")
    assert len(gpkg) == len(units)
    table = pyogrio.read_dataframe(tmp_path / "units.gpkg", layer="geo_csp_metadata")
    assert json.loads(table["value"].iloc[0])["unit"] == "h3"
    assert json.loads((tmp_path / "units.parquet.json").read_text())["period"] == "month"


def test_ward_quarters_and_areas(store_dir, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["hotspots", "--store", str(store_dir), "--unit", "ward", "--period", "quarter",
                              "--group", "neighbourhood", "--out", str(tmp_path / "w.parquet")])
    assert res.exit_code == 0, res.output
    assert len(gpd.read_parquet(tmp_path / "w.parquet")) == 17
    res = runner.invoke(app, ["areas", "--store", str(store_dir), "--out", str(tmp_path / "areas.gpkg")])
    assert res.exit_code == 0, res.output
    found = gpd.read_file(tmp_path / "areas.gpkg", layer="hotspot_areas")
    assert {schema.AREA_ID, schema.AREA_NAME, "category", "n"} <= set(found.columns)
    res = runner.invoke(app, ["areas", "--store", str(store_dir), "--previous", str(tmp_path / "areas.gpkg"),
                              "--out", str(tmp_path / "areas2.parquet")])
    assert res.exit_code == 0, res.output
    again = gpd.read_parquet(tmp_path / "areas2.parquet")
    assert sorted(again[schema.AREA_ID]) == sorted(found[schema.AREA_ID])  # same data, same ids


def test_backtest_json(store_dir):
    res = CliRunner().invoke(app, ["backtest", "--store", str(store_dir), "--split", "2021-09", "--area-share", "0.05", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    for method in ("method", "kde", "last_period"):
        assert {"pai", "hit_rate", "rri"} <= set(doc[method])
        assert doc[method]["area_share"] <= 0.05 + 1e-9
    assert doc["metadata"]["split"] == "2021-09"


def test_bad_output_suffix(store_dir, tmp_path):
    res = CliRunner().invoke(app, ["hotspots", "--store", str(store_dir), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code != 0
    assert "parquet" in str(res.exception) or "parquet" in res.output


def test_command_module_imports_no_heavy_library_at_top_level():
    """``geo-csp --help`` must not load geopandas/pandas/the analysis through this module."""
    import ast
    from pathlib import Path

    import geo_csp.cli.hotspots_cmd as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:  # module level only (TYPE_CHECKING blocks are ifs, not imports)
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            top |= {node.module.split(".")[0]} | {f"{node.module}.{a.name}" for a in node.names}
    heavy = {"geopandas", "pandas", "numpy", "pyarrow", "pyogrio", "shapely", "geo_csp.analysis", "geo_csp.backtest",
             "geo_csp.store", "geo_csp.boundaries", "geo_csp.hotspots"}
    assert not top & heavy, sorted(top & heavy)
