"""The Dask backend: the same cube, Gi* and classes as in memory, and ingest memory bounded by file size."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal

from geo_csp import (
    boundaries,
    cluster,
    cube,
    grid,
    hotspot_run,
    hotspots,
    ingest,
    national_demo,
    schema,
    store,
    weights,
)
from geo_csp.cube import CubeParams
from geo_csp._errors import ParameterError, SchemaError, StoreNotFoundError
from geo_csp.cube import _dask as cube_dask

# dask's parquet reader calls a pandas API that pandas 3.1 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")


@pytest.fixture(scope="module")
def demo_store(demo_borough):
    return demo_borough.store_dir


@pytest.fixture(scope="module")
def demo_incidents(demo_store) -> pd.DataFrame:
    return store.read_incidents(demo_store)


@pytest.fixture(scope="module")
def borough() -> gpd.GeoDataFrame:
    return boundaries.load_borough()


def assert_same_cube(mem: cube.Cube, dsk: cube.Cube) -> None:
    """Same units (ids and geometry), periods, counts; harm equal up to summation order."""
    assert mem.units.index.equals(dsk.units.index)
    assert mem.units.crs == dsk.units.crs
    assert mem.units.geometry.geom_equals_exact(dsk.units.geometry, 0.0).all()
    np.testing.assert_array_equal(mem.period_keys, dsk.period_keys)
    np.testing.assert_array_equal(mem.period_labels, dsk.period_labels)
    np.testing.assert_array_equal(mem.n, dsk.n)
    assert_allclose(dsk.harm, mem.harm, rtol=1e-12, atol=1e-9)
    assert_frame_equal(mem.locations.reset_index(drop=True), dsk.locations.reset_index(drop=True))
    assert dsk.params.pop("backend") == "dask"
    assert mem.params == dsk.params


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": 9},
        {},  # resolution from the data's extent: the extra hull pass
        {"resolution": 10, "period": "quarter", "group": "neighbourhood"},
        {"resolution": 8, "months": ("2022-01", "2023-06"), "crime_types": ["Burglary", "Anti-social behaviour"]},
        {"resolution": 9, "sources": [schema.SOURCE_STREET], "harm_index": "css", "asb_weight_days": 3.0},
    ],
)
def test_dask_cube_equals_memory_cube_on_the_demo(demo_store, demo_incidents, kwargs):
    mem = cube.build_cube(demo_incidents, CubeParams(**kwargs))
    dsk = cube.build_cube_dask(demo_store, CubeParams(**kwargs), scheduler="synchronous", batch_partitions=5)
    assert dsk.n.sum() > 0
    assert_same_cube(mem, dsk)


def test_dask_cube_with_study_area_and_given_cells(demo_store, demo_incidents, borough):
    mem = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9), study_area=borough)
    dsk = cube.build_cube_dask(
        demo_store, cube_params=CubeParams(resolution=9), study_area=borough, scheduler="threads"
    )
    assert_same_cube(mem, dsk)
    # given cells (half of them): incidents elsewhere are dropped and counted the same way
    cells = mem.units.iloc[::2]
    mem2 = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9), units=cells)
    dsk2 = cube.build_cube_dask(demo_store, cube_params=CubeParams(resolution=9), units=cells, scheduler="synchronous")
    assert mem2.params["dropped_outside_units"] > 0
    assert_same_cube(mem2, dsk2)


def test_neighbours_zero_fill_equals_the_memory_cube_on_those_cells(demo_store, demo_incidents):
    dsk = cube.build_cube_dask(
        demo_store, cube_params=CubeParams(resolution=10, zero_fill="neighbours"), scheduler="synchronous"
    )
    occupied = dsk.units.index[dsk.n.sum(axis=1) > 0]
    cells = grid.neighbour_cells(occupied.to_numpy(dtype=object), k=1)
    assert dsk.units.index.equals(pd.Index(cells, name=schema.UNIT_ID))
    assert len(occupied) < len(cells) < 7 * len(occupied)
    hull = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=10))
    assert len(cells) < len(hull.units)
    np.testing.assert_array_equal(hull.n.sum(axis=0), dsk.n.sum(axis=0))  # nothing lost
    units = gpd.GeoDataFrame(
        geometry=[None] * len(cells), index=pd.Index(cells, name=schema.UNIT_ID), crs=dsk.units.crs
    )
    mem = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=10), units=units)
    assert dsk.params.pop("zero_fill").startswith("occupied cells")
    assert_same_cube(mem, dsk)
    with pytest.raises(ParameterError, match="zero_fill"):
        cube.build_cube_dask(demo_store, cube_params=CubeParams(zero_fill="everything"))


def test_gi_star_z_and_classes_from_the_dask_cube_are_identical(demo_store, demo_incidents, borough):
    mem = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9), study_area=borough)
    with cluster.dask_client(n_workers=2, processes=False) as client:
        dsk = cube.build_cube_dask(demo_store, cube_params=CubeParams(resolution=9), study_area=borough, client=client)
    w = weights.h3_weights(mem.units.index.to_numpy(dtype=object), k=1)
    a = hotspots.analyse_cube(mem.n, w, params=hotspots.HotspotParams(time_window=1))
    b = hotspots.analyse_cube(dsk.n, w, params=hotspots.HotspotParams(time_window=1))
    np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.hot_cold, b.hot_cold)
    assert_frame_equal(a.units, b.units)
    assert (a.hot_cold == 1).any()  # the demo's planted hotspots are there


def test_dask_client_connects_to_a_running_scheduler_by_address(demo_store, demo_incidents, monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(cube_dask, "POLYGON_CHUNK", 500)  # cell polygons in chunks on the workers too
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as local:
        with cluster.dask_client(local.scheduler_address) as client:
            assert client.scheduler.address == local.scheduler_address
            dsk = cube.build_cube_dask(demo_store, cube_params=CubeParams(resolution=9))  # the active client runs it
    assert_same_cube(cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9)), dsk)
    with pytest.raises(ParameterError, match="cannot reach a dask scheduler"):
        with cluster.dask_client("tcp://127.0.0.1:9", timeout_s=1.0):
            pass


def test_dask_dataframe_input_and_store_reader(demo_store, demo_incidents):
    ddf = store.read_store_dask(demo_store, columns=[*cube.CUBE_COLUMNS, schema.LOCATION])
    assert ddf.npartitions == len(store.store_part_paths(demo_store))
    located = store.read_store_dask(
        demo_store, located_only=True, crime_types="Burglary", columns=[schema.CRIME_TYPE, schema.LOCATED]
    ).compute()
    assert located[schema.LOCATED].all() and set(located[schema.CRIME_TYPE]) == {"Burglary"}
    expected = store.read_incidents(demo_store, located_only=True, crime_types="Burglary")
    assert len(located) == len(expected)
    mem = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9))
    dsk = cube.build_cube_dask(ddf, cube_params=CubeParams(resolution=9), scheduler="synchronous")
    assert_same_cube(mem, dsk)


def test_store_part_paths_prune_by_partition(demo_store):
    status = store.store_status(demo_store)
    every = store.store_part_paths(demo_store)
    one_month = store.store_part_paths(demo_store, months=status["months"][0])
    street = store.store_part_paths(demo_store, sources=schema.SOURCE_STREET)
    assert 0 < len(one_month) < len(every) and 0 < len(street) < len(every)
    assert all(Path(p).name.startswith(f"{status['months'][0]}_") for p in one_month)
    assert every == sorted(every, key=lambda p: p.split("/incidents/")[1].split("/")[:3])


def test_errors_name_the_problem(demo_store, tmp_path):
    with pytest.raises(ParameterError, match="H3 cubes only"):
        cube.build_cube_dask(demo_store, cube_params=CubeParams(unit="ward"))
    with pytest.raises(ParameterError, match="store folder or a dask DataFrame"):
        cube.build_cube_dask(pd.DataFrame({"month": []}))
    with pytest.raises(ParameterError, match="no part of the store"):
        store.read_store_dask(demo_store, forces="no-such-force")
    with pytest.raises(StoreNotFoundError, match="no store"):
        cube.build_cube_dask(tmp_path / "nothing")
    with pytest.raises(SchemaError, match="lacks column"):
        cube.build_cube_dask(store.read_store_dask(demo_store, columns=[schema.MONTH]))
    with pytest.raises(ParameterError, match="batch_partitions"):
        cube.build_cube_dask(demo_store, batch_partitions=0)
    with pytest.raises(ParameterError, match="no incidents match"):
        cube.build_cube_dask(
            demo_store, cube_params=CubeParams(crime_types=["Not a type"], resolution=9), scheduler="synchronous"
        )
    with pytest.raises(ParameterError, match="n_workers"):
        with cluster.dask_client(n_workers=0):
            pass


def test_national_generator_writes_the_archive_layout(tmp_path):
    summary = national_demo.generate_national(
        tmp_path, n_incidents=5_000, n_months=3, n_snap_points=2_000, forces=("cumbria", "gwent"), seed=7
    )
    assert summary.rows == 5_000 and len(summary.files) == 6
    names = sorted(p.relative_to(tmp_path).as_posix() for p in summary.files)
    assert names[0] == "2021-01/2021-01-cumbria-street.csv"
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in summary.files])
    assert tuple(rows.columns) == schema.POLICE_UK_STREET_HEADER
    assert len(rows) == 5_000
    assert set(rows["Crime type"]) <= set(schema.CRIME_TYPES)
    assert (rows["Longitude"] == "").sum() == 5_000 - summary.located_rows
    assert rows.loc[rows["LSOA code"].str.startswith("W01"), "Falls within"].eq("Gwent Police").all()
    again = national_demo.generate_national(
        tmp_path / "again", n_incidents=5_000, n_months=3, n_snap_points=2_000, forces=("cumbria", "gwent"), seed=7
    )
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(summary.files, again.files, strict=True))
    with pytest.raises(ParameterError, match="unknown force"):
        national_demo.generate_national(tmp_path, n_incidents=10, forces=("atlantis",))


_INGEST_RSS = textwrap.dedent(
    """
    import resource, sys
    from geo_csp.ingest import ingest_paths
    report = ingest_paths(sys.argv[1:-1], store_dir=sys.argv[-1])
    print(sum(f.accepted for f in report.files), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def test_streaming_ingest_memory_does_not_grow_with_the_number_of_files(tmp_path):
    summary = national_demo.generate_national(
        tmp_path / "in", n_incidents=8 * 30_000, n_months=8, n_snap_points=20_000, forces=("lancashire",), seed=3
    )
    files = [str(p) for p in summary.files]

    def run(paths: list[str], name: str) -> tuple[int, float]:
        out = subprocess.run(
            [sys.executable, "-c", _INGEST_RSS, *paths, str(tmp_path / name)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows, rss_kb = out.stdout.split()
        return int(rows), int(rss_kb) / 1024.0

    rows2, rss2 = run(files[:2], "two")
    rows8, rss8 = run(files, "eight")
    assert rows8 > 3.5 * rows2  # four times the data...
    assert rss8 < 1.25 * rss2 + 40.0, (rss2, rss8)  # ...in about the same memory


def test_peak_rss_includes_children():
    before = cluster.peak_rss_mb(children=False)
    subprocess.run([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"], check=True)
    assert cluster.peak_rss_mb() >= before + 250.0


def test_cli_national_demo_then_cube_on_both_backends(tmp_path):
    from typer.testing import CliRunner

    from geo_csp.cli import app
    from geo_csp.ingest import ingest_paths

    runner = CliRunner()
    res = runner.invoke(
        app, ["national-demo", "--incidents", "6000", "--months", "3", "--out", str(tmp_path / "nat"), "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = __import__("json").loads(res.stdout)
    assert summary["rows"] == 6000 and summary["files"] == 43 * 3
    ingest_paths([tmp_path / "nat"], store_dir=tmp_path / "store")
    frames = {}
    for backend in ("memory", "dask"):
        target = tmp_path / f"cube-{backend}.parquet"
        res = runner.invoke(
            app,
            [
                "cube",
                "--store",
                str(tmp_path / "store"),
                "--out",
                str(target),
                "--resolution",
                "7",
                "--backend",
                backend,
                "--force",
                "lancashire",
                "--force",
                "cumbria",
                "--workers",
                "1",
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
        frames[backend] = pd.read_parquet(target)
    assert frames["memory"]["n"].sum() > 0
    assert_frame_equal(frames["memory"].drop(columns="harm"), frames["dask"].drop(columns="harm"))
    assert_allclose(frames["memory"]["harm"], frames["dask"]["harm"], rtol=1e-12)
    res = runner.invoke(app, ["cube", "--store", str(tmp_path / "store"), "--backend", "gpu"])
    assert res.exit_code != 0 and "memory or dask" in str(res.exception)


@pytest.fixture(scope="module")
def demo_inputs(demo_borough):
    return demo_borough  # its input files (the tests ingest them into stores of their own)


def _store_content(store_dir) -> pd.DataFrame:
    frame = store.read_incidents(store_dir).drop(columns=[schema.FILE_ID])
    return frame.sort_values([schema.INCIDENT_ID]).reset_index(drop=True)


@pytest.mark.parametrize("processes", [False, True])  # worker threads, or worker processes (all sent pickled)
def test_dask_ingest_builds_the_same_store_in_bounded_batches(processes, demo_inputs, tmp_path):
    inputs = [demo_inputs.police_uk_dir, demo_inputs.council_csv]
    from geo_csp.ingest import ingest_paths

    mem = ingest_paths(inputs, store_dir=tmp_path / "mem", mapping=demo_inputs.council_mapping)
    seen: list[int] = []
    with cluster.dask_client(n_workers=2, processes=processes) as client:
        dsk = ingest.ingest_paths_dask(
            inputs,
            store_dir=tmp_path / "dsk",
            mapping=demo_inputs.council_mapping,
            client=client,
            ahead=3,
            progress=lambda done, total, path: seen.append(done),
        )
        # the same Dask ingest through the library's one entry point
        again = ingest_paths(
            inputs, store_dir=tmp_path / "dsk", mapping=demo_inputs.council_mapping, backend="dask", client=client
        )
    assert seen == list(range(1, len(dsk.files) + 1))
    assert dsk.totals == mem.totals and dsk.totals["quarantined"] > 0
    assert [f.to_dict() for f in dsk.files] == [f.to_dict() for f in mem.files]
    assert_frame_equal(_store_content(tmp_path / "mem"), _store_content(tmp_path / "dsk"))
    assert_frame_equal(store.read_quarantine(tmp_path / "mem"), store.read_quarantine(tmp_path / "dsk"))
    assert again.totals["accepted"] == 0 and all(f.status.startswith("skipped") for f in again.files)
    assert store.store_status(tmp_path / "dsk")["rows"] == store.store_status(tmp_path / "mem")["rows"]
    with pytest.raises(ParameterError, match="ahead"):
        ingest.ingest_paths_dask(inputs, store_dir=tmp_path / "x", ahead=0)
    with pytest.raises(ParameterError, match="backend must be 'memory' or 'dask'"):
        ingest_paths(inputs, store_dir=tmp_path / "y", backend="spark")


def test_build_cube_backend_dask_equals_memory(demo_store, demo_incidents, borough):
    """One entry point: `build_cube(backend="dask")` on a store folder gives the in-memory cube."""
    mem = cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9), study_area=borough)
    dsk = cube.build_cube(demo_store, cube_params=CubeParams(resolution=9), study_area=borough, backend="dask")
    assert_same_cube(mem, dsk)
    with pytest.raises(ParameterError, match="'memory' or 'dask'"):
        cube.build_cube(demo_incidents, backend="spark")


def test_dask_cube_leaves_far_off_points_out_like_the_memory_cube(tmp_path):
    """police.uk puts a few points far from their force: both backends take the same data extent."""
    from geo_csp import ingest

    rng = np.random.default_rng(5)
    n = 3000
    lon = np.r_[rng.normal(-2.30, 0.02, n), [-1.89, -0.12, -1.90]]  # Bury-ish cluster + Birmingham, London
    lat = np.r_[rng.normal(53.59, 0.01, n), [52.48, 51.50, 52.49]]
    csv = tmp_path / "2023-01-test-street.csv"
    pd.DataFrame(
        {
            "Crime ID": "",
            "Month": "2023-01",
            "Reported by": "Test",
            "Falls within": "Test",
            "Longitude": np.round(lon, 6),
            "Latitude": np.round(lat, 6),
            "Location": "On or near X",
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": "Burglary",
            "Last outcome category": "",
            "Context": "",
        }
    ).to_csv(csv, index=False)
    ingest.ingest_paths([csv], store_dir=tmp_path / "store")
    frame = store.read_incidents(tmp_path / "store")
    with pytest.warns(UserWarning, match="3 of 3003 located incidents"):
        mem = cube.build_cube(frame, cube_params=CubeParams(resolution=9))
    with pytest.warns(UserWarning, match="3 of 3003 located incidents"):
        dsk = cube.build_cube_dask(tmp_path / "store", cube_params=CubeParams(resolution=9), scheduler="synchronous")
    assert mem.params["n_outside_extent"] == 3
    assert_same_cube(mem, dsk)


def assert_same_run(mem, dsk) -> None:
    """Two hotspot runs agree: the same cube, Gi* arrays, unit table and areas; only the backend differs."""
    assert_same_cube(mem.cube, dsk.cube)
    np.testing.assert_array_equal(mem.analysis.z, dsk.analysis.z)
    np.testing.assert_array_equal(mem.analysis.hot_cold, dsk.analysis.hot_cold)
    assert_frame_equal(mem.units, dsk.units)
    assert_frame_equal(mem.areas, dsk.areas)
    assert (mem.metadata.pop("backend"), dsk.metadata.pop("backend")) == ("memory", "dask")
    assert mem.metadata == dsk.metadata


def test_run_hotspots_on_dask_equals_the_memory_run_on_the_demo(demo_store, demo_incidents):
    """The same call on a store folder: Bury's default wards are found from the store's points on Dask."""
    mem = hotspot_run.run_hotspots(demo_incidents, cube_params=CubeParams(resolution=9))
    with cluster.dask_client(n_workers=1, processes=False) as client:
        dsk = hotspot_run.run_hotspots(demo_store, cube_params=CubeParams(resolution=9), backend="dask", client=client)
    assert mem.metadata["wards"].startswith("shipped Bury wards")
    assert len(mem.areas) > 0 and (mem.units[schema.PATTERN].astype(str).str.contains("Hot")).any()
    assert_same_run(mem, dsk)


def test_run_hotspots_on_dask_with_neighbour_cells_and_filters(demo_store, demo_incidents, borough):
    kwargs = dict(
        cube_params=CubeParams(resolution=10, group="neighbourhood", period="quarter", zero_fill="neighbours"),
        study_area=borough,
        wards=boundaries.load_wards(year=2022),
    )
    mem = hotspot_run.run_hotspots(demo_incidents, **kwargs)
    dsk = hotspot_run.run_hotspots(store.read_store_dask(demo_store), **kwargs)  # not a DataFrame: on Dask
    assert mem.metadata["zero_fill"].startswith("occupied cells")
    assert len(mem.units) < len(
        cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=10), study_area=borough).units
    )
    assert_same_run(mem, dsk)
    with pytest.raises(ParameterError, match="`backend` must be one of"):
        hotspot_run.run_hotspots(demo_incidents, backend="spark")
    with pytest.raises(ParameterError, match="not a pandas DataFrame already in memory: pass the store folder"):
        hotspot_run.run_hotspots(demo_incidents, backend="dask")
    with pytest.raises(ParameterError, match="dask backend builds H3 cubes only"):
        hotspot_run.run_hotspots(demo_store, cube_params=CubeParams(unit="ward"))


def test_located_points_count_every_located_incident(demo_store, demo_incidents, borough):
    x, y, n = cube.located_points_dask(demo_store, scheduler="synchronous")
    located = demo_incidents[demo_incidents[schema.LOCATED]]
    assert n.sum() == len(located) and len(x) == len(located[[schema.EASTING, schema.NORTHING]].drop_duplicates())
    inside = cube.clip_to_study_area(demo_incidents, shapely.union_all(borough.geometry.to_numpy()))
    assert cube.located_points_dask(demo_store, study_area=borough, scheduler="synchronous")[2].sum() == inside.sum()


def test_categorical_read_gives_the_same_table_and_cube(demo_store, demo_incidents):
    """The national in-memory read: repeating text as categoricals, the same values and the same cube."""
    cat = store.read_incidents(demo_store, categorical=True)
    assert {c for c in cat.columns if isinstance(cat[c].dtype, pd.CategoricalDtype)} == set(store.CATEGORICAL_COLUMNS)
    plain = cat.astype({c: demo_incidents[c].dtype for c in store.CATEGORICAL_COLUMNS})
    assert_frame_equal(plain, demo_incidents)
    assert cat.memory_usage(deep=True).sum() < 0.7 * demo_incidents.memory_usage(deep=True).sum()
    a, b = (
        cube.build_cube(demo_incidents, cube_params=CubeParams(resolution=9)),
        cube.build_cube(cat, cube_params=CubeParams(resolution=9)),
    )
    assert a.units.index.equals(b.units.index) and a.params == b.params
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_array_equal(a.harm, b.harm)
    assert_frame_equal(a.locations, b.locations)
    empty = store.read_incidents(demo_store, months=["1990-01"], columns=[schema.MONTH], categorical=True)
    assert len(empty) == 0 and isinstance(empty[schema.MONTH].dtype, pd.CategoricalDtype)
