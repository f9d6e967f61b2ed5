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

from geo_csp import maps, schema, store

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


#: Store columns the hotspot analysis reads (:func:`geo_csp.cube.build_cube`): the rest are never loaded.
HOTSPOT_COLUMNS = (schema.MONTH, schema.CRIME_TYPE, schema.EASTING, schema.NORTHING, schema.LOCATED,
                   schema.LOCATION, schema.SOURCE)


@st.cache_data(max_entries=8, show_spinner=False)
def incidents(
    store_dir: str, stamp: float, months: tuple[str, ...] | None, *,
    sources: tuple[str, ...] | None = None, columns: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Incidents of the chosen months (and sources), with the given columns (default all)."""
    return store.read_incidents(
        store_dir, months=list(months) if months else None, sources=list(sources) if sources else None,
        columns=list(columns) if columns else None,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def quarantine(store_dir: str, stamp: float) -> pd.DataFrame:
    """Every quarantined row of the store."""
    return store.read_quarantine(store_dir)


@st.cache_resource(max_entries=8, show_spinner=False)
def geography(store_dir: str, stamp: float) -> Any:
    """The store's own geography (:func:`geo_csp.geography.store_geography`): its configured outline, wards,
    LSOAs and named places, Bury's shipped ones only for a Bury store; ``None`` when the store names no
    geography and its data lie outside Bury (then the study area is the data's extent)."""
    from geo_csp import geography
    from geo_csp._errors import GeoCspError

    try:
        return geography.store_geography(store_dir)
    except GeoCspError as exc:
        log.info("store %s has no geography of its own: %s", store_dir, exc)
        return None


def wards(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """The store's ward polygons, or ``None``."""
    geo = geography(store_dir, stamp)
    return None if geo is None else geo.wards


def borough(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """The store's borough outline (one row, EPSG:27700), or ``None``."""
    geo = geography(store_dir, stamp)
    return None if geo is None else geo.outline


def named_places(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """Named places used to name hotspot areas, or ``None``."""
    geo = geography(store_dir, stamp)
    return None if geo is None else geo.named_places


def _outline(store_dir: str, stamp: float) -> Any:
    frame = borough(store_dir, stamp)
    return None if frame is None else frame.geometry.union_all()


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
    frame = incidents(store_dir, stamp, months, sources=sources, columns=HOTSPOT_COLUMNS)
    geo = geography(store_dir, stamp)
    own_units = None  # a configured store's own wards/LSOAs; Bury's shipped ones are chosen by the analysis
    if geo is not None and unit in ("ward", "lsoa") and f"{unit}s" not in geo.shipped:
        own_units = geo.wards if unit == "ward" else geo.lsoas
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
        study_area=borough(store_dir, stamp),
        named_places=named_places(store_dir, stamp),
        wards=wards(store_dir, stamp),
        units=own_units,
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def partner_layers(store_dir: str, stamp: float) -> dict[str, gpd.GeoDataFrame]:
    """Partner layers of the store (CCTV views, routes, operations, hubs), by layer name.

    Read from the paths in the store config's ``"layers"`` table, or else from its ``layers_dir``
    (default a ``layers/`` folder beside the store, the demo borough's layout). Missing layers are
    left out; a layer file that cannot be read is logged and left out.
    """
    layers = optional_module("layers")
    if layers is None:
        return {}
    return _layers_from_folder(store_dir, stamp)


def _layers_from_folder(store_dir: str, stamp: float) -> dict[str, gpd.GeoDataFrame]:
    from geo_csp import layers

    config = store.store_config(store_dir)
    folder = (Path(store_dir) / config.get("layers_dir", "../layers")).resolve()
    config = config.get("layers", {})

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
        "operations": (("*operation*.geojson", "*operation*.gpkg"),
                       lambda p: layers.read_operations(p, borough=borough(store_dir, stamp),
                                                        places=named_places(store_dir, stamp))),
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
    """The Map page's folium map for these choices (:func:`geo_csp.maps.hotspot_map`); not cached itself."""
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


@st.cache_resource(max_entries=16, show_spinner=False)
def hotspot_map_view(store_dir: str, stamp: float, months: tuple[str, ...], *, key: str, **map_args: Any) -> Any:
    """The Map page's map for these choices, rendered once (:func:`folium_view.prepare`) and reused on every rerun."""
    from geo_csp.app import folium_view

    return folium_view.prepare(hotspot_folium(store_dir, stamp, months, **map_args), key=key)


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


@st.cache_data(max_entries=16, show_spinner=False)
def series_table(
    store_dir: str, stamp: float, months: tuple[str, ...], *, level: str, **hotspot_args: Any
) -> pd.DataFrame:
    """Monthly incidents per hotspot area (``level="area"``) or per ward (``level="ward"``).

    Columns are area ids or ward names, rows the period labels.
    """
    args = dict(hotspot_args)
    if level == "ward":
        args.update(unit="ward", resolution=None)
    result = hotspots(store_dir, stamp, months, **args)
    n = result.cube.n
    labels = [str(p) for p in result.cube.period_labels]
    if level == "ward":
        names = result.units[schema.WARD_NAME].astype(str).to_numpy()
        return pd.DataFrame(n.T, index=labels, columns=names)
    ids = result.areas[schema.AREA_ID].to_numpy()
    unit_area = result.units[schema.AREA_ID].to_numpy(dtype=object)
    member = (unit_area[:, None] == ids[None, :]).astype("float64")  # units x areas
    return pd.DataFrame(n.T @ member, index=labels, columns=ids)


@st.cache_data(max_entries=16, show_spinner=False)
def series_trends(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`geo_csp.trends.mann_kendall` of every column of a series table, with a plain verdict."""
    from geo_csp import trends

    mk = trends.mann_kendall(table.to_numpy(dtype="float64").T).set_axis(table.columns)
    verdict = pd.Series("no significant trend", index=mk.index)
    verdict[(mk[schema.MK_P] < 0.05) & (mk[schema.MK_TAU] > 0)] = "increasing (p < 0.05)"
    verdict[(mk[schema.MK_P] < 0.05) & (mk[schema.MK_TAU] < 0)] = "decreasing (p < 0.05)"
    return mk.assign(trend=verdict)


@st.cache_resource(max_entries=16, show_spinner=False)
def covered_areas(store_dir: str, stamp: float, months: tuple[str, ...], **hotspot_args: Any) -> gpd.GeoDataFrame | None:
    """Named hotspot areas with their partner coverage columns (:func:`geo_csp.coverage.coverage`)."""
    coverage = optional_module("coverage")
    if coverage is None:
        return None
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    layers = partner_layers(store_dir, stamp)
    return coverage.coverage(
        result.areas, views=layers.get("cctv"), routes=layers.get("routes"),
        operations=layers.get("operations"), hubs=layers.get("hubs"),
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def gaps(store_dir: str, stamp: float, months: tuple[str, ...], *, rank_by: str, **hotspot_args: Any) -> Any:
    """The ranked gap list (:func:`geo_csp.coverage.gap_list`) against the borough's total."""
    from geo_csp import coverage

    covered = covered_areas(store_dir, stamp, months, **hotspot_args)
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    return coverage.gap_list(covered, measure=rank_by, borough_total=float(result.units[rank_by].sum()))


@st.cache_resource(max_entries=16, show_spinner=False)
def priorities(
    store_dir: str, stamp: float, months: tuple[str, ...], *, rank_by: str, top_n: int, **hotspot_args: Any
) -> gpd.GeoDataFrame:
    """Patrol priorities of the named hotspot areas (:func:`geo_csp.priorities.patrol_priorities`)."""
    from geo_csp import priorities as prio

    result = hotspots(store_dir, stamp, months, **hotspot_args)
    frame = incidents(store_dir, stamp, months)
    return prio.patrol_priorities(
        result.areas, incidents=frame[frame[schema.LOCATED]],
        params=prio.PatrolParams(measure=rank_by, top_n=top_n),
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def walk_network(store_dir: str, stamp: float) -> Any:
    """The walking network shipped with the store's layers (a GraphML file), or ``None``."""
    from geo_csp import routes

    folder = (Path(store_dir) / store.store_config(store_dir).get("layers_dir", "../layers")).resolve()
    files = sorted(folder.glob("*.graphml")) if folder.is_dir() else []
    return routes.load_network(files[0]) if files else None


@st.cache_resource(max_entries=16, show_spinner=False)
def walkabout(
    store_dir: str, stamp: float, months: tuple[str, ...], *, hub: str, stop_ids: tuple[str, ...],
    budget_min: float, dwell_min: float, use_network: bool, rank_by: str, **hotspot_args: Any,
) -> Any:
    """A walkabout plan (:func:`geo_csp.routes.plan_walkabout`) from a hub through chosen priority areas."""
    from geo_csp import routes

    prio = priorities(store_dir, stamp, months, rank_by=rank_by, top_n=25, **hotspot_args)
    stops = prio[prio["id"].astype(str).isin(stop_ids)].rename(columns={"id": "stop_id"})
    hubs = partner_layers(store_dir, stamp)["hubs"]
    start = hubs[hubs["name"].astype(str) == hub].iloc[[0]]
    return routes.plan_walkabout(
        stops, start=start, budget_min=budget_min, dwell_min=dwell_min,
        network=walk_network(store_dir, stamp) if use_network else None, start_name=hub,
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def operation_review(
    store_dir: str, stamp: float, *, name: str, buffer_m: float, sources: tuple[str, ...] | None,
    crime_types: tuple[str, ...] | None, group: str | None, date: str | None = None,
) -> Any:
    """The review of one operation of the store's layers, over all months.

    :func:`geo_csp.review.review_operation` of the operation (its row starting on ``date`` when several
    share the name, else the latest), with the other operations of the register cut out of the control;
    or, for a name shared by one-day operations and no ``date``, :func:`geo_csp.review.review_repeated`
    pooled over their dates.
    """
    from geo_csp import harm, review

    operations = partner_layers(store_dir, stamp)["operations"]
    rows = operations[operations["name"].astype(str) == name].sort_values("start_date")
    frame = store.read_incidents(
        store_dir, sources=list(sources) if sources else None,
        crime_types=harm.resolve_crime_types(crime_types, group), located_only=True,
        columns=[schema.MONTH, schema.EASTING, schema.NORTHING, schema.CRIME_TYPE],
    )
    if date is None and len(rows) > 1 and bool(((rows["end_date"] - rows["start_date"]).dt.days < 1).all()):
        return review.review_repeated(frame, operations=rows, borough=_outline(store_dir, stamp), name=name,
                                      buffer_m=buffer_m)
    if date is not None:
        rows = rows[rows["start_date"] == pd.Timestamp(date)]
    row = rows.iloc[-1]
    return review.review_operation(
        frame, footprint=row.geometry, start=row["start_date"], end=row["end_date"],
        borough=_outline(store_dir, stamp), operations=operations, name=name, buffer_m=buffer_m,
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def partnership_table(store_dir: str, stamp: float, *, public: bool, n_quarters: int) -> Any:
    """:func:`geo_csp.table.table_from_store`: the quarterly partnership table (disclosure-controlled if public)."""
    from geo_csp import table

    return table.table_from_store(store_dir, public=public, n_quarters=n_quarters)


def table_files(result: Any) -> dict[str, bytes]:
    """The quarterly table written as CSV, HTML and XLSX (bytes by file name), through the library writers."""
    import tempfile

    from geo_csp import table

    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "partnership_table.csv": table.write_table_csv(result, Path(tmp) / "partnership_table.csv"),
            "partnership_table.html": table.write_table_html(result, Path(tmp) / "partnership_table.html"),
            "partnership_table.xlsx": table.write_table_xlsx(result, Path(tmp) / "partnership_table.xlsx"),
        }
        return {name: Path(p).read_bytes() for name, p in paths.items()}


def evidence_pack(
    store_dir: str, stamp: float, *, area: str, public: bool, area_polygon: gpd.GeoDataFrame | None = None,
) -> dict[str, bytes]:
    """The evidence pack of an area (:func:`geo_csp.evidence.build_evidence` then ``write_evidence``), as bytes.

    ``area`` is a named place or ward; or, with ``area_polygon`` (a hotspot area of the current run),
    the pack's title, and the outline itself goes into the pack's parameters (and so its manifest), so
    the pack covers exactly the area on the map and can be rebuilt from its manifest.
    """
    import tempfile

    from geo_csp import evidence

    params = (evidence.EvidenceParams.for_polygon(area_polygon, label=area, public=public)
              if area_polygon is not None else evidence.EvidenceParams(area=area, public=public))
    with tempfile.TemporaryDirectory() as tmp:
        pack = evidence.build_evidence(store_dir, params)
        written = evidence.write_evidence(pack, Path(tmp) / "pack")
        return {Path(p).name: Path(p).read_bytes() for p in written.values() if Path(p).is_file()}


def ingest_files(store_dir: str, paths: tuple[str, ...], mapping: dict[str, Any] | None) -> pd.DataFrame:
    """Ingest uploaded files (:func:`geo_csp.ingest.ingest_paths`); the per-file report as a table.

    Not cached: it changes the store, whose new manifest time then invalidates every cached read.
    """
    from geo_csp import ingest, mapping as mapping_mod

    column_mapping = mapping_mod.mapping_from_dict(mapping, origin="mapping form") if mapping else None
    report = ingest.ingest_paths(list(paths), store_dir=store_dir, mapping=column_mapping)
    rows = report.to_dict()["files"]
    return pd.DataFrame(
        [{**{k: v for k, v in r.items() if k != "reasons"}, "reasons": ", ".join(f"{k}: {n}" for k, n in r["reasons"].items())}
         for r in rows]
    )


_LAYER_FILE_NAMES = {"cctv": "cctv", "walkabouts": "walkabouts", "operations": "operations", "hubs": "hubs"}


def add_layer_files(store_dir: str, kind: str, paths: tuple[str, ...]) -> pd.DataFrame:
    """Validate partner layer files with :mod:`geo_csp.layers` and copy them into the store's layers folder."""
    import shutil

    from geo_csp import layers

    readers = {"cctv": layers.read_cctv, "walkabouts": layers.read_routes, "hubs": layers.read_hubs,
               "operations": lambda p: layers.read_operations(p, borough=borough(store_dir, 0.0),
                                                              places=named_places(store_dir, 0.0))}
    folder = (Path(store_dir) / store.store_config(store_dir).get("layers_dir", "../layers")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in map(Path, paths):
        frame = readers[kind](p)  # raises LayerError naming the file and feature
        target = folder / f"{_LAYER_FILE_NAMES[kind]}{''.join(p.suffixes)}"
        shutil.copyfile(p, target)
        rows.append({"file": p.name, "layer": kind, "features": len(frame), "saved_as": str(target)})
    partner_layers.clear()
    return pd.DataFrame(rows)
