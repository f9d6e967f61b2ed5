"""Hotspot runs saved in a store (geo_csp.runcache): read back exactly, keyed by all they depend on, bounded."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from streamlit.testing.v1 import AppTest

from geo_csp import hotspot_run, runcache, store
from geo_csp.demo import DemoPaths

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture()
def demo_copy(demo_borough: DemoPaths, tmp_path: Path) -> Path:
    """A copy of the demo borough (its store gets runs and maps saved in it), with nothing saved."""
    out = tmp_path / "demo"
    shutil.copytree(demo_borough.out_dir, out, ignore=shutil.ignore_patterns("runs", "maps"))
    return out


@pytest.fixture(scope="module")
def opening(demo_borough: DemoPaths) -> hotspot_run.HotspotResult:
    store_dir = demo_borough.out_dir / "store"
    return runcache.store_run(store_dir, runcache.opening_params(store_dir))


def _runs(store_dir: Path) -> list[str]:
    folder = store_dir / "cache" / "runs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def assert_same_run(a: hotspot_run.HotspotResult, b: hotspot_run.HotspotResult) -> None:
    assert_geodataframe_equal(a.units, b.units)
    assert_geodataframe_equal(a.areas, b.areas)
    assert_geodataframe_equal(a.cube.units, b.cube.units)
    pd.testing.assert_frame_equal(a.cube.locations, b.cube.locations)
    pd.testing.assert_frame_equal(a.analysis.units, b.analysis.units)
    for name in ("period_keys", "period_labels", "n", "harm"):
        x, y = getattr(a.cube, name), getattr(b.cube, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    for field in dataclasses.fields(a.analysis.gi):
        x, y = getattr(a.analysis.gi, field.name), getattr(b.analysis.gi, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), field.name
        else:
            assert x == y, field.name
    assert a.analysis.params == b.analysis.params
    assert a.cube.params == b.cube.params
    assert json.dumps(a.metadata, sort_keys=True) == json.dumps(b.metadata, sort_keys=True)
    assert a.area_changes == b.area_changes


def test_opening_params_are_the_apps_defaults(demo_borough: DemoPaths) -> None:
    params = runcache.opening_params(demo_borough.out_dir / "store")
    months = store.store_status(demo_borough.out_dir / "store")["months"]
    assert params.months == (months[-12], months[-1])  # the demo's 36 months: the last 12
    assert (params.unit, params.resolution, params.period, params.measure) == ("h3", None, "month", "count")
    assert params.sources == ("police_uk_street",) and params.crime_types is None and params.group is None


def test_a_saved_run_reads_back_exactly(opening: hotspot_run.HotspotResult, tmp_path: Path) -> None:
    assert len(opening.areas) >= 1 and "predicted_n" in opening.units.columns
    runcache.save_run(opening, tmp_path / "run")
    assert_same_run(opening, runcache.load_run(tmp_path / "run"))
    assert not list(tmp_path.glob(".run.tmp-*"))  # written through a temporary folder, then renamed


def test_a_part_json_would_change_is_refused_and_nothing_written(
    opening: hotspot_run.HotspotResult, tmp_path: Path
) -> None:
    changed = dataclasses.replace(opening, metadata={**opening.metadata, "months": ("2025-01", "2025-12")})
    with pytest.raises(TypeError, match=r"metadata\.months: a tuple does not survive JSON"):
        runcache.save_run(changed, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_cached_store_run_computes_once_then_reads(demo_copy: Path, opening: hotspot_run.HotspotResult) -> None:
    store_dir = demo_copy / "store"
    params = runcache.opening_params(store_dir)
    calls = []

    def compute() -> hotspot_run.HotspotResult:
        calls.append(1)
        return runcache.store_run(store_dir, params)

    first = runcache.cached_store_run(store_dir, params, compute=compute)
    again = runcache.cached_store_run(store_dir, params, compute=compute)
    assert len(calls) == 1 and _runs(store_dir) == [runcache.run_key(store_dir, params)]
    assert_same_run(first, opening)  # the same figures as the shared demo's run
    assert_same_run(again, first)
    # a run that cannot be read is computed again and replaced
    (store_dir / "cache" / "runs" / _runs(store_dir)[0] / "n.npy").write_bytes(b"not an array")
    assert_same_run(runcache.cached_store_run(store_dir, params, compute=compute), first)
    assert len(calls) == 2
    assert_same_run(runcache.load_run(store_dir / "cache" / "runs" / _runs(store_dir)[0]), first)


def test_the_key_changes_with_the_store_the_params_and_the_wards(demo_copy: Path) -> None:
    store_dir = demo_copy / "store"
    params = runcache.opening_params(store_dir)
    key = runcache.run_key(store_dir, params)
    assert runcache.run_key(store_dir, params) == key  # stable
    assert runcache.run_key(store_dir, dataclasses.replace(params, measure="harm")) != key
    assert runcache.run_key(store_dir, params, ward_names=("Radcliffe West",)) != key
    config = store.store_config(store_dir)
    store.write_store_config(store_dir, {**config, "label": "another label"})  # `geo-csp configure`
    assert runcache.run_key(store_dir, params) != key
    store.write_store_config(store_dir, config)
    assert runcache.run_key(store_dir, params) == key
    manifest = store_dir / store.MANIFEST_NAME  # an ingest rewrites the manifest
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert runcache.run_key(store_dir, params) != key


def test_at_most_max_runs_are_kept_the_least_recently_used_removed(
    demo_copy: Path, opening: hotspot_run.HotspotResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = demo_copy / "store"
    monkeypatch.setattr(runcache, "MAX_RUNS", 2)
    params = runcache.opening_params(store_dir)
    views = [dataclasses.replace(params, measure=m) for m in ("count", "harm", "count")]
    keys = [runcache.run_key(store_dir, p) for p in views]
    runcache.cached_store_run(store_dir, views[0], compute=lambda: opening)
    runcache.cached_store_run(store_dir, views[1], compute=lambda: opening)
    assert _runs(store_dir) == sorted(keys[:2])
    runcache.cached_store_run(store_dir, views[2], compute=lambda: pytest.fail("count is saved"))  # used again
    other = dataclasses.replace(params, measure="count", months=(params.months[0], params.months[0]))
    runcache.cached_store_run(store_dir, other, compute=lambda: opening)
    assert _runs(store_dir) == sorted([keys[0], runcache.run_key(store_dir, other)])  # harm was least recent


def test_the_apps_first_map_reads_the_precomputed_opening_view(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = demo_copy / "store"
    assert runcache.precompute_opening_view(store_dir) > 0
    saved = _runs(store_dir)
    assert len(saved) == 1
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_copy))
    monkeypatch.setenv("GEO_CSP_STORE", str(store_dir))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert _runs(store_dir) == saved  # the app's opening view is the saved one: nothing new computed
    result = runcache.load_run(store_dir / "cache" / "runs" / saved[0])
    assert next(m.value for m in at.metric if m.label == "Hexagons mapped") == f"{len(result.units):,}"
    assert next(m.value for m in at.metric if m.label == "Named hotspot areas") == f"{len(result.areas):,}"


def test_cached_json_computes_once_and_refuses_what_json_would_change(demo_copy: Path) -> None:
    store_dir = demo_copy / "store"
    calls = []

    def compute() -> dict:
        calls.append(1)
        return {"script": "L.map()", "links": ["a.css", "b.css"], "n": 3}

    key = runcache.store_key(store_dir, "test", {"a": 1})
    assert runcache.store_key(store_dir, "test", {"a": 2}) != key
    assert runcache.cached_json(store_dir, "things", key, compute) == compute()
    assert runcache.cached_json(store_dir, "things", key, compute) == compute()
    assert len(calls) == 3  # computed once by cached_json, twice here
    assert [p.name for p in (store_dir / "cache" / "things").iterdir()] == [f"{key}.json"]
    with pytest.raises(TypeError, match=r"things\.links: a tuple does not survive JSON"):
        runcache.cached_json(store_dir, "things", "other", lambda: {"links": ("a.css",)})
    assert not (store_dir / "cache" / "things" / "other.json").exists()


def test_the_rendered_map_is_saved_and_read_back_after_a_restart(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from geo_csp.app import cache

    store_dir = demo_copy / "store"
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_copy))
    monkeypatch.setenv("GEO_CSP_STORE", str(store_dir))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    maps = list((store_dir / "cache" / "maps").iterdir())
    assert len(maps) == 1
    sent = [c.proto.json_args for c in at.get("component_instance")]
    assert len(sent) == 1 and "L.map(" in sent[0]  # the map component, with its script
    st.cache_data.clear()  # a restart: nothing in memory
    st.cache_resource.clear()

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the map was drawn again instead of read from the store")

    monkeypatch.setattr(cache, "hotspot_folium", not_again)
    again = AppTest.from_file(APP, default_timeout=180)
    again.run()
    assert not again.exception, [e.message for e in again.exception]
    assert list((store_dir / "cache" / "maps").iterdir()) == maps
    assert [c.proto.json_args for c in again.get("component_instance")] == sent  # the same map sent
