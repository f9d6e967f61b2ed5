"""The CLI and the app agree: the same cube parameters and defaults, the same study area, wards and places.

``geo-csp hotspots``/``areas`` and the app make their :class:`geo_csp.cube.CubeParams` with
:func:`geo_csp.cube.choices_to_params` and take the store's :func:`geo_csp.geography.study_geography`.

Three stores: the demo (configured as Bury: Bury's shipped outline, wards and places), a configured store near
Blackburn (a boundary file of two halves, four wards, one named place) and an unconfigured store near Blackburn
(the data's extent, with a warning). For each, the CLI's study context and the app's run geography are compared
field by field, and on the two Blackburn stores the CLI's and the app's hotspot runs give the same units.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _synthetic import random_incidents
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from geo_csp import boundaries, geography, ingest, schema, store
from geo_csp.cli import app

RUNNER = CliRunner()
X0, Y0 = 366_000.0, 426_000.0  # south-west corner of a 4 km x 4 km square near Blackburn, far from Bury
WARD_NAMES = ["Alderbank", "Brookfold", "Cinderhill", "Dunmoor"]
FIELDS = ("study_area", "units", "wards", "named_places")


def _police_csv(path: Path) -> Path:
    """police.uk street rows over the square, 12 months of 2023, a cluster in its north-east ward."""
    frame = random_incidents(1500, seed=11, months=12, centre=(X0 + 2000, Y0 + 2000), spread_m=700.0)
    frame = frame[
        frame[schema.EASTING].between(X0 + 10, X0 + 3990) & frame[schema.NORTHING].between(Y0 + 10, Y0 + 3990)
    ]
    months = frame[schema.MONTH].str.replace("2021", "2023").str.replace("2022", "2024")
    pd.DataFrame(
        {
            "Crime ID": "",
            "Month": months,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": np.round(frame[schema.LON], 6),
            "Latitude": np.round(frame[schema.LAT], 6),
            "Location": [f"On or near Street {k % 30}" for k in range(len(frame))],
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": frame[schema.CRIME_TYPE],
            "Last outcome category": "",
            "Context": "",
        }
    ).to_csv(path, index=False)
    return path


def _store(root: Path) -> Path:
    store_dir = root / "store"
    ingest.ingest_paths([_police_csv(root / "street.csv")], store_dir=store_dir)
    return store_dir


@pytest.fixture(scope="module")
def configured(tmp_path_factory) -> Path:
    """A store near Blackburn configured with a boundary of two halves, four wards and one named place."""
    root = tmp_path_factory.mktemp("configured")
    store_dir = _store(root)
    boxes = [
        shapely.box(X0 + i * 2000, Y0 + j * 2000, X0 + (i + 1) * 2000, Y0 + (j + 1) * 2000)
        for j in (0, 1)
        for i in (0, 1)
    ]
    gpd.GeoDataFrame(
        {"ward_code": [f"X0500000{k}" for k in range(4)], "ward_name": WARD_NAMES}, geometry=boxes, crs=27700
    ).to_file(root / "wards.geojson", driver="GeoJSON")
    halves = [shapely.box(X0, Y0, X0 + 4000, Y0 + 2000), shapely.box(X0, Y0 + 2000, X0 + 4000, Y0 + 4000)]
    gpd.GeoDataFrame({"name": ["south", "north"]}, geometry=halves, crs=27700).to_file(
        root / "outline.geojson", driver="GeoJSON"
    )
    gpd.GeoDataFrame(
        {"name": ["Old Mill Quarter"]}, geometry=[shapely.Point(X0 + 3000, Y0 + 3000).buffer(300)], crs=27700
    ).to_file(root / "places.geojson", driver="GeoJSON")
    store.write_store_config(
        store_dir,
        {
            "borough": "Blackburn Test",
            "boundary": "../outline.geojson",
            "wards": "../wards.geojson",
            "named_places": "../places.geojson",
        },
    )
    return store_dir


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory) -> Path:
    """The same incidents near Blackburn, in a store with no config."""
    return _store(tmp_path_factory.mktemp("unconfigured"))


def _cli_and_app(store_dir: Path, unit: str = "h3") -> tuple[dict, dict]:
    from geo_csp import runcache
    from geo_csp.app import cache
    from geo_csp.cli._common import study_context

    cli = study_context(store_dir, None, unit=unit)
    # what the app's hotspot run is given (cache.hotspot_run -> runcache.store_run)
    shown = runcache.run_geography(cache.study(str(store_dir), cache.store_stamp(str(store_dir))), unit)
    return {k: cli[k] for k in FIELDS}, shown


def _assert_same_frames(cli: dict, shown: dict) -> None:
    assert set(shown) == set(FIELDS)
    for name in FIELDS:
        a, b = cli[name], shown[name]
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.crs == b.crs, name
            assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
            assert shapely.equals(a.geometry.to_numpy(), b.geometry.to_numpy()).all(), name


def test_demo_cli_and_app_take_bury_s_shipped_geography(demo_borough):
    cli, shown = _cli_and_app(demo_borough.store_dir)
    _assert_same_frames(cli, shown)
    bury = shapely.union_all(boundaries.load_borough().geometry.to_numpy())
    assert len(cli["study_area"]) == 1 and shapely.equals(cli["study_area"].geometry.iloc[0], bury)
    assert cli["wards"] is None  # the analysis takes Bury's shipped wards of the data's era
    assert len(cli["named_places"]) == len(boundaries.load_named_places())
    assert geography.study_geography(demo_borough.store_dir).source == "shipped Bury boundary (store config)"


def test_configured_store_runs_on_its_boundary_dissolved_to_one_row(configured):
    cli, shown = _cli_and_app(configured, unit="ward")
    _assert_same_frames(cli, shown)
    area = cli["study_area"]
    assert len(area) == 1 and area.geometry.iloc[0].area == pytest.approx(16e6)  # the two halves, one outline
    assert sorted(cli["units"][schema.WARD_NAME]) == WARD_NAMES and sorted(cli["wards"][schema.WARD_NAME]) == WARD_NAMES
    assert list(cli["named_places"]["name"]) == ["Old Mill Quarter"]
    study = geography.study_geography(configured)
    assert study.source.endswith("outline.geojson") and study.warning is None and study.shipped == ()


def test_unconfigured_store_outside_bury_runs_on_the_data_extent_with_a_warning(unconfigured):
    cli, shown = _cli_and_app(unconfigured)
    _assert_same_frames(cli, shown)
    assert cli["study_area"] is None and cli["units"] is None and cli["named_places"] is None
    assert len(cli["wards"]) == 0  # no Bury ward names for another borough's hotspot areas
    study = geography.study_geography(unconfigured)
    assert study.source == "data extent"
    assert "extent of the data" in study.warning and "geo-csp configure" in study.warning


@pytest.mark.parametrize("which", ["configured", "unconfigured"])
def test_cli_and_app_hotspot_runs_give_the_same_units(which, request, tmp_path):
    from geo_csp.app import cache

    store_dir = request.getfixturevalue(which)
    out = tmp_path / "units.parquet"
    result = RUNNER.invoke(app, ["hotspots", "--store", str(store_dir), "--resolution", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    cli = gpd.read_parquet(out)
    months = tuple(sorted(store.read_incidents(store_dir, columns=[schema.MONTH])[schema.MONTH].unique()))
    run = cache.hotspots(
        str(store_dir),
        cache.store_stamp(str(store_dir)),
        months,
        unit="h3",
        resolution=9,
        crime_types=None,
        group=None,
        measure="count",
        sources=None,
    )
    columns = [schema.UNIT_ID, schema.N, schema.GI_Z, schema.CATEGORY, schema.AREA_ID, schema.WARD_NAME]
    assert len(cli) == len(run.units) > 0 and cli[schema.N].sum() == run.units[schema.N].sum() > 1000
    assert_frame_equal(
        pd.DataFrame(cli[columns]).reset_index(drop=True),
        pd.DataFrame(run.units[columns]).reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )
    study = geography.study_geography(store_dir)
    if study.warning:
        assert study.warning in run.metadata["warnings"]
        assert " ".join(study.warning.split()) in " ".join(result.output.split())  # said on screen too


def test_choices_make_the_library_s_cube_params():
    from geo_csp.cube import CubeParams, choices_to_params

    assert choices_to_params() == CubeParams()
    assert choices_to_params(crime_types=[], sources=()) == CubeParams()  # nothing picked: no filter
    p = choices_to_params(unit="ward", crime_types=["Burglary", "Robbery"], sources=["police_uk_street"])
    assert p == CubeParams(unit="ward", crime_types=("Burglary", "Robbery"), sources=("police_uk_street",))


def test_cli_and_app_defaults_are_the_library_s():
    import inspect

    from geo_csp.app import cache
    from geo_csp.cli import hotspots_cmd
    from geo_csp.cube import CubeParams

    library = CubeParams()
    for command in (hotspots_cmd.hotspots_command, hotspots_cmd.areas_command):
        options = inspect.signature(command).parameters
        for name in ("unit", "period", "partial_periods", "measure"):
            assert options[name].default == getattr(library, name), (command.__name__, name)
        assert options["resolution"].default is None and options["crime_type"].default is None
    assert inspect.signature(cache.hotspots).parameters["period"].default == library.period == "month"
    assert (library.unit, library.measure, library.partial_periods) == ("h3", "count", "drop")
