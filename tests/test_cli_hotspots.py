"""``geo-csp hotspots``, ``areas`` and ``backtest`` on a small store built from police.uk-format files."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from typer.testing import CliRunner

from _synthetic import random_incidents
from geo_csp import areas as areas_mod
from geo_csp import schema, store
from geo_csp.cube import CubeParams
from geo_csp.cli import app


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    from geo_csp import ingest, store

    inc = random_incidents(1500, seed=3, months=12)
    rows = pd.DataFrame(
        {
            "Crime ID": "",
            "Month": inc.month,
            "Reported by": "Greater Manchester Police",
            "Falls within": "Greater Manchester Police",
            "Longitude": inc.lon.round(6),
            "Latitude": inc.lat.round(6),
            "Location": inc.location,
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": inc.crime_type,
            "Last outcome category": "",
            "Context": "",
        }
    )
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
    for col in (
        "unit_id",
        "n",
        "harm",
        "gi_z",
        "gi_p",
        "mk_tau",
        "mk_p",
        "pattern",
        "category",
        "area_id",
        "explanation",
    ):
        assert col in units.columns
    meta = json.loads(pq.read_schema(tmp_path / "units.parquet").metadata[b"geo_csp"])
    assert meta["unit"] == "h3" and meta["resolution"] == 9 and "hotspot_params" in meta
    assert meta["study_area"].startswith("shipped Bury boundary")
    gpkg = gpd.read_file(tmp_path / "units.gpkg", layer="hotspot_units")
    assert len(gpkg) == len(units)
    table = pyogrio.read_dataframe(tmp_path / "units.gpkg", layer="geo_csp_metadata")
    assert json.loads(table["value"].iloc[0])["unit"] == "h3"
    assert json.loads((tmp_path / "units.parquet.json").read_text())["period"] == "month"
    # the whole CubeParams the options made, defaults included
    assert meta["cube_params"] == {**CubeParams().to_dict(), "unit": "h3"}


def test_ward_quarters_and_areas(store_dir, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "hotspots",
            "--store",
            str(store_dir),
            "--unit",
            "ward",
            "--period",
            "quarter",
            "--group",
            "neighbourhood",
            "--out",
            str(tmp_path / "w.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(gpd.read_parquet(tmp_path / "w.parquet")) == 17
    res = runner.invoke(app, ["areas", "--store", str(store_dir), "--out", str(tmp_path / "areas.gpkg")])
    assert res.exit_code == 0, res.output
    found = gpd.read_file(tmp_path / "areas.gpkg", layer="hotspot_areas")
    assert {schema.AREA_ID, schema.AREA_NAME, "category", "n"} <= set(found.columns)
    # every area says when its problem started, when it was first named and the store's latest police.uk month
    latest = store.latest_police_uk_month(store_dir)
    assert set(areas_mod.TIMELINE_COLUMNS) <= set(found.columns)
    assert len(found) and (found[areas_mod.LATEST_POLICE_UK_MONTH] == latest).all()
    assert (found[areas_mod.PROBLEM_STARTED].str.len() == 7).all() and (found[areas_mod.NAMING_DELAY] >= 0).all()
    assert "started" in res.output and f"latest month in the data from police.uk is {latest}" in res.output
    res = runner.invoke(
        app,
        [
            "areas",
            "--store",
            str(store_dir),
            "--previous",
            str(tmp_path / "areas.gpkg"),
            "--out",
            str(tmp_path / "areas2.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    again = gpd.read_parquet(tmp_path / "areas2.parquet")
    assert sorted(again[schema.AREA_ID]) == sorted(found[schema.AREA_ID])  # same data, same ids


def test_backtest_json(store_dir):
    res = CliRunner().invoke(
        app, ["backtest", "--store", str(store_dir), "--split", "2021-09", "--area-share", "0.05", "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    for method in ("gi_mean", "kde", "last_period", "counts", "learned", "ensemble"):
        assert {"pai", "hit_rate", "rri"} <= set(doc[method])
        assert doc[method]["area_share"] <= 0.05 + 1e-9
    assert doc["metadata"]["split"] == "2021-09"


def test_backtest_rolling_by_default(store_dir):
    res = CliRunner().invoke(app, ["backtest", "--store", str(store_dir), "--splits", "4", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["metadata"]["n_splits"] == len(doc["metadata"]["test_months"]) <= 4
    methods = {r["method"] for r in doc["summary"]}
    assert {"counts", "ewma", "kde", "learned", "ensemble", "default"} <= methods
    assert doc["evidence"].startswith("On your data, over the last ")
    assert doc["choice"]["predictor"] in doc["metadata"]["candidates"]
    text = CliRunner().invoke(app, ["backtest", "--store", str(store_dir), "--splits", "4"])
    assert text.exit_code == 0, text.output
    assert "Rolling back-test" in text.output and "counts alone found" in text.output


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
    heavy = {
        "geopandas",
        "pandas",
        "numpy",
        "pyarrow",
        "pyogrio",
        "shapely",
        "geo_csp.hotspot_run",
        "geo_csp.backtest",
        "geo_csp.store",
        "geo_csp.boundaries",
        "geo_csp.hotspots",
    }
    assert not top & heavy, sorted(top & heavy)


# --------------------------------------------------------------------------------------------------
# Another borough: wards from --boundary, residents from --population, no Bury geography leaking in
# --------------------------------------------------------------------------------------------------

_ELSEWHERE = (368_000.0, 428_000.0)  # Blackburn, outside Bury


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """A store of police.uk rows around Blackburn (no config), a 2x2 ward file and a population CSV."""
    from shapely.geometry import box

    from geo_csp import ingest

    inc = pd.concat(
        [
            random_incidents(1200, seed=5, months=6, centre=_ELSEWHERE, spread_m=1200.0),
            random_incidents(400, seed=6, months=6, centre=(_ELSEWHERE[0] + 600, _ELSEWHERE[1] + 600), spread_m=60.0),
        ]
    )
    rows = pd.DataFrame(
        {
            "Crime ID": "",
            "Month": inc.month,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": inc.lon.round(6),
            "Latitude": inc.lat.round(6),
            "Location": inc.location,
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": inc.crime_type,
            "Last outcome category": "",
            "Context": "",
        }
    )
    root = tmp_path_factory.mktemp("elsewhere")
    rows.to_csv(root / "lancashire-street.csv", index=False)
    ingest.ingest_paths([root / "lancashire-street.csv"], store_dir=root / "store")
    x0, y0 = _ELSEWHERE
    cells = [
        box(x0 - 4000 + 4000 * i, y0 - 4000 + 4000 * j, x0 + 4000 * i, y0 + 4000 * j) for j in (0, 1) for i in (0, 1)
    ]
    wards = gpd.GeoDataFrame(
        {
            "ward_code": ["E05000001", "E05000002", "E05000003", "E05000004"],
            "ward_name": ["South West", "South East", "North West", "North East"],
        },
        geometry=cells,
        crs="EPSG:27700",
    )
    wards.to_file(root / "wards.gpkg", driver="GPKG")
    wards[["geometry"]].to_file(root / "outline.geojson", driver="GeoJSON")
    pd.DataFrame(
        {"gss_code": wards["ward_code"], "ward": wards["ward_name"], "population": [4000.0, 5000.0, 8000.0, 10000.0]}
    ).to_csv(root / "pop.csv", index=False)
    pd.DataFrame({"gss_code": wards["ward_code"][:3], "population": [4000.0, 5000.0, 8000.0]}).to_csv(
        root / "pop_short.csv", index=False
    )
    located = inc[inc[schema.LOCATED]]
    inside = located[(abs(located.easting - x0) < 4000) & (abs(located.northing - y0) < 4000)]
    return {"root": root, "store": root / "store", "n_inside": len(inside)}


def _bury_ward_names() -> set[str]:
    from geo_csp import boundaries

    return set(boundaries.load_wards(year=2022)[schema.WARD_NAME]) | set(
        boundaries.load_wards(year=2017)[schema.WARD_NAME]
    )


def test_ward_units_come_from_a_ward_boundary_file(elsewhere, tmp_path):
    root = elsewhere["root"]
    res = CliRunner().invoke(
        app,
        [
            "hotspots",
            "--store",
            str(elsewhere["store"]),
            "--boundary",
            str(root / "wards.gpkg"),
            "--unit",
            "ward",
            "--out",
            str(tmp_path / "w.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    units = gpd.read_parquet(tmp_path / "w.parquet")
    assert sorted(units["unit_id"]) == ["E05000001", "E05000002", "E05000003", "E05000004"]
    assert set(units[schema.WARD_NAME]) == {"South West", "South East", "North West", "North East"}
    assert units["n"].sum() == elsewhere["n_inside"]  # every located incident inside counted once


def test_backtest_by_ward_uses_the_boundary_wards(elsewhere):
    root = elsewhere["root"]
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            "--store",
            str(elsewhere["store"]),
            "--boundary",
            str(root / "wards.gpkg"),
            "--unit",
            "ward",
            "--split",
            "2021-04",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["metadata"]["n_units"] == 4


def test_ward_units_outside_bury_without_wards_is_an_error(elsewhere, tmp_path):
    for extra in ([], ["--boundary", str(elsewhere["root"] / "outline.geojson")]):
        res = CliRunner().invoke(
            app,
            [
                "hotspots",
                "--store",
                str(elsewhere["store"]),
                "--unit",
                "ward",
                *extra,
                "--out",
                str(tmp_path / "w.parquet"),
            ],
        )
        assert res.exit_code != 0
        assert "no ward polygons" in str(res.exception) + res.output
        assert not (tmp_path / "w.parquet").exists()


@pytest.mark.parametrize("boundary", ["outline.geojson", None])
def test_h3_areas_outside_bury_carry_no_bury_ward_names(elsewhere, tmp_path, boundary):
    args = ["--boundary", str(elsewhere["root"] / boundary)] if boundary else []
    res = CliRunner().invoke(
        app,
        [
            "areas",
            "--store",
            str(elsewhere["store"]),
            "--unit",
            "h3",
            "--resolution",
            "9",
            *args,
            "--out",
            str(tmp_path / "a.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    found = gpd.read_parquet(tmp_path / "a.parquet")
    assert len(found) >= 1  # the planted 60 m cluster
    named = {n.split(":")[0] for n in found[schema.AREA_NAME].astype(str)}
    assert not named & _bury_ward_names(), named


def test_h3_areas_named_after_the_boundary_wards(elsewhere, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "areas",
            "--store",
            str(elsewhere["store"]),
            "--unit",
            "h3",
            "--resolution",
            "9",
            "--boundary",
            str(elsewhere["root"] / "wards.gpkg"),
            "--out",
            str(tmp_path / "a.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    names = gpd.read_parquet(tmp_path / "a.parquet")[schema.AREA_NAME].astype(str)
    assert names.str.startswith("North East").any(), names.tolist()  # the cluster is 600 m NE of the centre


def test_ward_rates_from_a_population_file(elsewhere, tmp_path):
    root = elsewhere["root"]
    res = CliRunner().invoke(
        app,
        [
            "hotspots",
            "--store",
            str(elsewhere["store"]),
            "--boundary",
            str(root / "wards.gpkg"),
            "--unit",
            "ward",
            "--measure",
            "rate",
            "--population",
            str(root / "pop.csv"),
            "--out",
            str(tmp_path / "r.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    units = gpd.read_parquet(tmp_path / "r.parquet").set_index("unit_id")
    assert units.loc["E05000004", "population"] == 10000.0
    # annualised: the store holds 6 months (2021-01..2021-06), so the yearly rate is twice the window's
    assert units["rate_per_1000"].to_numpy() == pytest.approx(
        (units["n"] * 1000 / units["population"] * 12 / 6).to_numpy(), rel=1e-12
    )


def test_population_file_errors_name_the_file_and_the_fix(elsewhere, tmp_path):
    root = elsewhere["root"]
    base = [
        "hotspots",
        "--store",
        str(elsewhere["store"]),
        "--boundary",
        str(root / "wards.gpkg"),
        "--unit",
        "ward",
        "--out",
        str(tmp_path / "r.parquet"),
    ]
    cases = [
        (
            ["--measure", "rate", "--population", str(root / "pop_short.csv")],
            r"has no row for 1 of the 4 units.*E05000004",
        ),
        (["--measure", "rate", "--population", str(root / "wards.gpkg.csv")], r"does not exist"),
        (["--measure", "rate", "--population", str(root / "lancashire-street.csv")], r"needs a code column"),
    ]
    for extra, pattern in cases:
        res = CliRunner().invoke(app, base + extra)
        assert res.exit_code != 0
        assert __import__("re").search(pattern, str(res.exception) + res.output), str(res.exception) + res.output
    res = CliRunner().invoke(
        app,
        [
            "hotspots",
            "--store",
            str(elsewhere["store"]),
            "--unit",
            "h3",
            "--population",
            str(root / "pop.csv"),
            "--out",
            str(tmp_path / "r.parquet"),
        ],
    )
    assert res.exit_code != 0
    assert "--unit ward or lsoa" in str(res.exception) + res.output


@pytest.mark.slow
def test_real_lancashire_wards_and_population(tmp_path, real_file):
    """Real police.uk Lancashire street data with the real 2022 Lancashire wards (a non-Bury borough)."""
    from geo_csp import ingest

    street = real_file("police-uk-street-lancashire-2018-19", "lancashire_street_2018-11_to_2019-02.csv.gz")
    wards = real_file("lancashire-asb-2022", "lancashire_wards_2022.gpkg")
    ingest.ingest_paths([street], store_dir=tmp_path / "store")
    res = CliRunner().invoke(
        app,
        [
            "areas",
            "--store",
            str(tmp_path / "store"),
            "--boundary",
            str(wards),
            "--unit",
            "ward",
            "--group",
            "neighbourhood",
            "--out",
            str(tmp_path / "a.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "a.parquet.json").read_text())
    assert meta["n_areas"] >= 1
    found = gpd.read_parquet(tmp_path / "a.parquet")
    lancs = set(gpd.read_file(wards, columns=["ward_name"], ignore_geometry=True)["ward_name"])
    assert {n.split(":")[0] for n in found[schema.AREA_NAME]} <= lancs
    res = CliRunner().invoke(
        app,
        [
            "hotspots",
            "--store",
            str(tmp_path / "store"),
            "--boundary",
            str(wards),
            "--unit",
            "ward",
            "--out",
            str(tmp_path / "w.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(gpd.read_parquet(tmp_path / "w.parquet")) == 271


def test_no_match_names_what_the_store_holds(elsewhere, tmp_path):
    for extra, pattern in (
        (
            ["--source", "stats19_casualties"],
            r"sources \['stats19_casualties'\]; it holds sources \['police_uk_street'\]",
        ),
        (["--crime-type", "Stop and search"], r"crime types \['Stop and search'\].*it holds"),
    ):
        res = CliRunner().invoke(
            app, ["hotspots", "--store", str(elsewhere["store"]), *extra, "--out", str(tmp_path / "x.parquet")]
        )
        assert res.exit_code != 0
        assert __import__("re").search(pattern, str(res.exception) + res.output), str(res.exception) + res.output


# --------------------------------------------------------------------------------------------------
# --weights / --distance-m and --rank-by
# --------------------------------------------------------------------------------------------------
def test_distance_band_weights_from_the_cli(store_dir, tmp_path):
    runner = CliRunner()
    # Bury's wards are ~1-3 km across: a 1.5 km band between centroids leaves most of them alone
    with pytest.warns(UserWarning, match="13 of 17 units have no neighbour within distance_m=1500 m"):
        res = runner.invoke(
            app,
            [
                "hotspots",
                "--store",
                str(store_dir),
                "--unit",
                "ward",
                "--weights",
                "distance",
                "--distance-m",
                "1500",
                "--out",
                str(tmp_path / "d.parquet"),
            ],
        )
    assert res.exit_code == 0, res.output
    assert "13 units have no neighbour under distance weights" in res.output
    meta = json.loads((tmp_path / "d.parquet.json").read_text())
    assert (meta["weights"], meta["distance_m"], meta["unit"]) == ("distance", 1500.0, "ward")
    assert meta["n_islands"] == 13 and len(meta["islands"]) == 13
    res = runner.invoke(
        app,
        [
            "hotspots",
            "--store",
            str(store_dir),
            "--unit",
            "ward",
            "--weights",
            "distance",
            "--distance-m",
            "4000",
            "--out",
            str(tmp_path / "d4.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "d4.parquet.json").read_text())["n_islands"] == 0
    res = runner.invoke(
        app,
        [
            "areas",
            "--store",
            str(store_dir),
            "--weights",
            "distance",
            "--distance-m",
            "400",
            "--out",
            str(tmp_path / "a.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "a.parquet.json").read_text())["weights"] == "distance"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--weights", "distance"], "needs `distance_m`"),
        (["--unit", "ward", "--weights", "h3"], "needs `unit='h3'`"),
        (["--distance-m", "500"], "only used with `weights='distance'`"),
        (["--rank-by", "rate_per_1000"], "H3 cells have no population"),
        (["--rank-by", "count"], "--rank-by must be one of n, harm, rate_per_1000, gi_z"),
    ],
)
def test_weights_and_rank_errors(store_dir, tmp_path, args, match):
    res = CliRunner().invoke(app, ["hotspots", "--store", str(store_dir), *args, "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code != 0
    assert match in str(res.exception)
    assert not (tmp_path / "x.parquet").exists()


def test_rank_by_sorts_and_writes_the_rank(store_dir, tmp_path):
    runner = CliRunner()
    for by in ("n", "rate_per_1000"):
        res = runner.invoke(
            app,
            [
                "hotspots",
                "--store",
                str(store_dir),
                "--unit",
                "ward",
                "--rank-by",
                by,
                "--out",
                str(tmp_path / f"{by}.parquet"),
            ],
        )
        assert res.exit_code == 0, res.output
        units = gpd.read_parquet(tmp_path / f"{by}.parquet")
        assert units["rank"].is_monotonic_increasing and units["rank"].iloc[0] == 1
        assert units[by].is_monotonic_decreasing
        expected = units[by].rank(method="min", ascending=False).astype("int64")
        assert (units["rank"] == expected).all()
        assert json.loads((tmp_path / f"{by}.parquet.json").read_text())["rank_by"] == by


# --------------------------------------------------------------------------------------------------
# --dask / --scheduler: the same run over the store on Dask
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster in this process (threads: fast to start), reached by its address like a remote one."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _table(path):
    return pd.DataFrame(gpd.read_parquet(path))


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # dask's parquet reader on pandas 3
def test_hotspots_and_areas_on_dask_equal_the_memory_run(store_dir, tmp_path, scheduler):
    runner = CliRunner()
    for command in ("hotspots", "areas"):
        paths = {}
        for backend, extra in (("memory", []), ("dask", ["--dask", "--scheduler", scheduler])):
            paths[backend] = tmp_path / f"{command}-{backend}.parquet"
            res = runner.invoke(
                app,
                [command, "--store", str(store_dir), "--group", "neighbourhood", *extra, "--out", str(paths[backend])],
            )
            assert res.exit_code == 0, res.output
        mem, dsk = _table(paths["memory"]), _table(paths["dask"])
        assert len(mem) > 0
        pd.testing.assert_frame_equal(mem, dsk)
        meta = {b: json.loads(p.with_name(p.name + ".json").read_text()) for b, p in paths.items()}
        assert (meta["memory"].pop("backend"), meta["dask"].pop("backend")) == ("memory", "dask")
        assert meta["dask"].pop("scheduler") == scheduler
        assert meta["memory"] == meta["dask"]
        assert (mem["category"].astype(str).str.contains("hotspot")).any()  # hot cells, and areas of them


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--dask", "--unit", "ward"], "--dask aggregates H3 cells only"),
        (["--dask", "--workers", "0"], "--workers must be a positive number"),
        (["--dask", "--weights", "distance"], "needs `distance_m`"),
    ],
)
def test_dask_option_errors(store_dir, tmp_path, args, match):
    res = CliRunner().invoke(app, ["hotspots", "--store", str(store_dir), *args, "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code != 0
    assert match in str(res.exception)
    assert not (tmp_path / "x.parquet").exists()


def test_areas_size_limits_from_the_cli_are_the_librarys_and_reach_the_metadata(store_dir, tmp_path):
    runner = CliRunner()
    metas = {}
    for name, extra in {"default": [], "small": ["--max-area-km2", "0.3"], "none": ["--max-area-km2", "0"]}.items():
        out_path = tmp_path / f"{name}.parquet"
        res = runner.invoke(app, ["areas", "--store", str(store_dir), "--out", str(out_path), *extra])
        assert res.exit_code == 0, res.output
        metas[name] = json.loads(pq.read_schema(out_path).metadata[b"geo_csp"])["area_params"]
        found = gpd.read_parquet(out_path)
        limit = metas[name]["max_area_km2"]
        if limit is not None and len(found):
            # a part may exceed the limit only if it is a single unit (a cell is never cut)
            assert (found["area_km2"] <= limit + 1e-9).all() or (
                found.loc[found["area_km2"] > limit, "n_units"] == 1
            ).all()
    # the CLI's default is the library's, not a copy of it
    assert metas["default"] == areas_mod.AreaParams().to_dict()
    assert metas["small"]["max_area_km2"] == 0.3
    assert metas["none"]["max_area_km2"] is None
    res = runner.invoke(
        app, ["areas", "--store", str(store_dir), "--out", str(tmp_path / "x.parquet"), "--max-area-km2", "-1"]
    )
    assert res.exit_code != 0 and "--max-area-km2" in str(res.exception)  # main() prints it as one line


def test_flag_group_hotspots_count_flagged_partner_records(store_dir, tmp_path):
    """``--group domestic`` counts the records flagged domestic (of the source that records the flag); on a
    police.uk-only store it is refused with what to load."""
    from geo_csp import ingest
    from geo_csp.column_mapping import mapping_from_dict

    rng = np.random.default_rng(5)
    n = 60
    domestic = np.where(np.arange(n) % 3 == 0, "Y", np.where(np.arange(n) % 3 == 1, "N", ""))  # 20 Y, 20 N, 20 blank
    csv = tmp_path / "force.csv"
    pd.DataFrame(
        {
            "Ref": [f"r{i}" for i in range(n)],
            "Date": [f"2024-0{1 + i % 3}-1{i % 9}" for i in range(n)],
            "Type": "Violence and sexual offences",
            "X": -2.297 + rng.normal(0, 0.004, n).round(5),
            "Y": 53.593 + rng.normal(0, 0.003, n).round(5),
            "DA": domestic,
        }
    ).to_csv(csv, index=False)
    mapping = mapping_from_dict(
        {
            "source": "force_crime",
            "columns": {"id": "Ref", "date": "Date", "category": "Type", "lon": "X", "lat": "Y", "domestic": "DA"},
        }
    )
    flagged_store = tmp_path / "store"
    ingest.ingest_paths([csv], store_dir=flagged_store, mapping=mapping)
    out = tmp_path / "domestic.parquet"
    res = CliRunner().invoke(
        app, ["hotspots", "--store", str(flagged_store), "--group", "domestic", "--resolution", "9", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "Domestic abuse: counting the sources that record domestic (force_crime" in " ".join(res.output.split())
    units = gpd.read_parquet(out)
    assert int(units["n"].sum()) == 20  # the 20 flagged Y; N and blank (unknown) are not counted
    meta = json.loads((tmp_path / "domestic.parquet.json").read_text())
    assert meta["cube_params"]["group"] == "domestic"
    res = CliRunner().invoke(
        app, ["hotspots", "--store", str(store_dir), "--group", "domestic", "--out", str(tmp_path / "x.parquet")]
    )
    assert res.exit_code != 0
    assert "police.uk records carry no domestic flag; load a partner extract with a domestic column" in str(
        res.exception
    )
