"""Bounded, cached thin wrappers around library calls, keyed only on their (hashable) arguments.

Rules: every function here takes plain values (paths as strings, tuples, numbers), never reads a
widget, and is bounded (``max_entries``) so a long meeting does not grow memory without limit. The
store's manifest modification time (``stamp``) is part of every store-reading key, so an ingest
invalidates what it changes. Results cached with ``st.cache_resource`` are shared, not copied: callers
must treat them as read-only (the library never mutates its inputs).
"""

from __future__ import annotations

import importlib
import logging
import socket
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo_csp import boundaries, maps, schema, store

log = logging.getLogger(__name__)


def optional_module(name: str) -> ModuleType | None:
    """``geo_csp.<name>`` if this build has it, else ``None`` (the page then says it is unavailable)."""
    try:
        return importlib.import_module(f"geo_csp.{name}")
    except ImportError as exc:
        if exc.name and not exc.name.startswith(f"geo_csp.{name}") and exc.name != "geo_csp":
            raise  # the module exists but one of its own imports failed: a real error
        return None


def store_stamp(store_dir: str) -> float:
    """Modification time of the store's manifest (0.0 when there is no store); a cache key part."""
    try:
        return (Path(store_dir) / store.MANIFEST_NAME).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=4, show_spinner=False)
def ensure_demo(demo_dir: str) -> str:
    """Build the SYNTHETIC demo borough under ``demo_dir`` unless its store exists; the store path."""
    store_dir = Path(demo_dir) / "store"
    if not (store_dir / store.MANIFEST_NAME).exists():
        demo = optional_module("demo")
        if demo is None:
            raise RuntimeError("the demo borough generator is not available in this build")
        log.info("building the demo borough in %s", demo_dir)
        demo.make_demo(Path(demo_dir))
    return str(store_dir)


@st.cache_resource(ttl=600, max_entries=1, show_spinner=False)
def tiles_reachable(host: str = "a.basemaps.cartocdn.com", *, timeout_s: float = 1.0) -> bool:
    """Whether the basemap tile server answers (checked at most every 10 minutes)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


@st.cache_data(max_entries=16, show_spinner=False)
def status(store_dir: str, stamp: float) -> dict[str, Any]:
    """:func:`geo_csp.store.store_status`, plus the store's config under ``"config"``."""
    return {**store.store_status(store_dir), "config": store.store_config(store_dir)}


@st.cache_data(max_entries=8, show_spinner=False)
def incidents(store_dir: str, stamp: float, months: tuple[str, ...] | None) -> pd.DataFrame:
    """Incidents of the chosen months (all columns the analysis needs)."""
    return store.read_incidents(store_dir, months=list(months) if months else None)


@st.cache_data(max_entries=8, show_spinner=False)
def quarantine(store_dir: str, stamp: float) -> pd.DataFrame:
    """Every quarantined row of the store."""
    return store.read_quarantine(store_dir)


@st.cache_resource(max_entries=4, show_spinner=False)
def wards(path: str | None = None) -> gpd.GeoDataFrame:
    """Ward polygons (Bury's shipped wards by default)."""
    return boundaries.load_wards(path)


@st.cache_resource(max_entries=4, show_spinner=False)
def borough(path: str | None = None) -> gpd.GeoDataFrame:
    """The borough outline (Bury by default)."""
    return boundaries.load_borough(path)


@st.cache_resource(max_entries=4, show_spinner=False)
def named_places(path: str | None = None) -> gpd.GeoDataFrame:
    """Named places used to name hotspot areas (Bury's by default)."""
    return boundaries.load_named_places(path)


@st.cache_resource(max_entries=16, show_spinner=False)
def hotspots(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    unit: str,
    resolution: int | None,
    crime_types: tuple[str, ...] | None,
    group: str | None,
    measure: str,
    sources: tuple[str, ...] | None,
) -> Any:
    """:func:`geo_csp.analysis.run_hotspots` on the store's incidents for these choices."""
    analysis = optional_module("analysis")
    if analysis is None:
        raise RuntimeError("hotspot analysis is not available in this build")
    frame = incidents(store_dir, stamp, months)
    return analysis.run_hotspots(
        frame,
        unit=unit,
        resolution=resolution,
        period="month",
        months=(months[0], months[-1]),
        sources=list(sources) if sources else None,
        crime_types=list(crime_types) if crime_types else None,
        group=group,
        measure=measure,
        study_area=borough(),
        named_places=named_places(),
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def partner_layers(store_dir: str, stamp: float) -> dict[str, gpd.GeoDataFrame]:
    """Partner layers of the store (CCTV views, routes, operations, hubs), by layer name.

    Read from the paths in the store config's ``"layers"`` table, or else from a ``layers/`` folder
    beside the store (the demo borough's layout). Missing layers are left out.
    """
    layers = optional_module("layers")
    if layers is None:
        return {}
    return layers.load_layer_set(store_dir) if hasattr(layers, "load_layer_set") else _layers_from_folder(store_dir)


def _layers_from_folder(store_dir: str) -> dict[str, gpd.GeoDataFrame]:
    from geo_csp import layers

    config = store.store_config(store_dir).get("layers", {})
    folder = Path(store_dir).parent / "layers"

    def find(key: str, *patterns: str) -> Path | None:
        if key in config:
            return Path(config[key])
        for pattern in patterns:
            hits = sorted(folder.glob(pattern)) if folder.is_dir() else []
            if hits:
                return hits[0]
        return None

    out: dict[str, gpd.GeoDataFrame] = {}
    readers = {
        "cctv": (("cctv*.csv", "cctv*.geojson", "*camera*"), lambda p: layers.camera_views(layers.read_cctv(p))),
        "routes": (("*route*.gpx", "*walk*.gpx", "*.gpx", "*route*.geojson"), layers.read_routes),
        "operations": (("*operation*.geojson", "*operation*.gpkg"), layers.read_operations),
        "hubs": (("*hub*.csv", "*hub*.geojson"), layers.read_hubs),
    }
    for key, (patterns, reader) in readers.items():
        path = find(key, *patterns)
        if path is None:
            continue
        try:
            out[key] = reader(path)
        except Exception as exc:  # a bad partner file must not take the map down; the page says why
            log.warning("layer %s from %s not shown: %s", key, path, exc)
    return out


@st.cache_resource(max_entries=16, show_spinner=False)
def hotspot_folium(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    unit: str,
    resolution: int | None,
    crime_types: tuple[str, ...] | None,
    group: str | None,
    measure: str,
    sources: tuple[str, ...] | None,
    colour_by: str | None,
    basemap: str | None,
    synthetic: bool,
    selected_area: str | None,
    show_layers: tuple[str, ...],
) -> Any:
    """The Map page's folium map for these choices, built once and reused on every rerun."""
    result = hotspots(
        store_dir, stamp, months, unit=unit, resolution=resolution, crime_types=crime_types,
        group=group, measure=measure, sources=sources,
    )
    shown = {k: v for k, v in partner_layers(store_dir, stamp).items() if k in show_layers}
    return maps.hotspot_map(
        result.units,
        areas=result.areas,
        layers=shown,
        basemap=basemap,
        synthetic=synthetic,
        colour_by=colour_by,
        selected_area=selected_area,
    )


def area_series(
    store_dir: str, stamp: float, months: tuple[str, ...], *, area_id: str, **hotspot_args: Any
) -> pd.Series:
    """Incidents per period summed over the units of one hotspot area (for its sparkline)."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    mask = (result.units[schema.AREA_ID] == area_id).to_numpy()
    return pd.Series(result.cube.n[mask].sum(axis=0), index=[str(p) for p in result.cube.period_labels],
                     name=schema.N)


@st.cache_resource(max_entries=16, show_spinner=False)
def area_coverage(store_dir: str, stamp: float, months: tuple[str, ...], **hotspot_args: Any) -> pd.DataFrame | None:
    """:func:`geo_csp.coverage.coverage` of the named hotspot areas by the store's partner layers."""
    coverage = optional_module("coverage")
    if coverage is None:
        return None
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    layers = partner_layers(store_dir, stamp)
    covered = coverage.coverage(
        result.areas, views=layers.get("cctv"), routes=layers.get("routes"),
        operations=layers.get("operations"), hubs=layers.get("hubs"),
    )
    keep = [c for c in coverage.COVERAGE_COLUMNS if c in covered.columns]
    return pd.DataFrame(covered.set_index(schema.AREA_ID)[keep])
