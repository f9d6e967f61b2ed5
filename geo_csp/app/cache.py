"""Bounded, cached thin wrappers around library calls, keyed only on their (hashable) arguments.

Rules: every function here takes plain values (paths as strings, tuples, numbers), never reads a
widget, and is bounded (``max_entries``) so a long meeting does not grow memory without limit. The
store's manifest modification time (``stamp``) is part of every store-reading key, so an ingest
invalidates what it changes. Results cached with ``st.cache_resource`` are shared, not copied: callers
must treat them as read-only (the library never mutates its inputs).
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

# what only some pages use is imported where it is used (demo: osmnx; figures, evidence: matplotlib; routes:
# networkx; review, table, ingest), so the Map page's first run does not wait for them
from geo_csp import (
    coverage,
    display,
    harm,
    layers,
    maps,
    periods,
    runcache,
    schema,
    store,
    story,
    trends,
)
from geo_csp import cube as cube_mod
from geo_csp import geography as geography_mod
from geo_csp import hotspot_run as hotspot_run_mod
from geo_csp import priorities as prio
from geo_csp._errors import GeoCspError
from geo_csp.app import folium_view
from geo_csp import settings
from geo_csp.settings import WORKING_CRS

log = logging.getLogger(__name__)


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
        from geo_csp import demo

        log.info("building the demo borough in %s", demo_dir)
        demo.make_demo(Path(demo_dir))
    return str(store_dir)


OFFLINE_ENV = "GEO_CSP_OFFLINE"  # "1": never probe or load tiles (the offline map)


def _connects(host: str, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


@st.cache_resource(ttl=600, max_entries=2, show_spinner=False)
def tiles_reachable(host: str = "tile.openstreetmap.org", *, timeout_s: float = 1.0) -> bool:
    """Whether the OpenStreetMap tile server answers, probed once per 10 minutes and bounded by
    ``timeout_s`` including the name lookup (a hung DNS never holds the page). ``GEO_CSP_OFFLINE=1``
    answers ``False`` without probing."""
    import concurrent.futures
    import os

    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return False
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo-csp-tile-probe")
    try:
        return pool.submit(_connects, host, timeout_s).result(timeout=timeout_s + 0.5)
    except concurrent.futures.TimeoutError:
        return False
    finally:
        pool.shutdown(wait=False)


@st.cache_data(max_entries=16, show_spinner=False)
def status(store_dir: str, stamp: float) -> dict[str, Any]:
    """:func:`geo_csp.store.store_status`, plus the store's :class:`geo_csp.store.StoreConfig` under ``"config"``."""
    return {**store.store_status(store_dir), "config": store.read_config(store_dir)}


#: Store columns the hotspot analysis reads (:func:`geo_csp.cube.build_cube`): the rest are never loaded.
HOTSPOT_COLUMNS = runcache.HOTSPOT_COLUMNS
hotspot_columns = runcache.hotspot_columns


@st.cache_data(max_entries=8, show_spinner=False)
def incidents(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...] | None,
    *,
    sources: tuple[str, ...] | None = None,
    columns: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Incidents of the chosen months (and sources), with the given columns (default all)."""
    return store.read_incidents(
        store_dir,
        months=list(months) if months else None,
        sources=list(sources) if sources else None,
        columns=list(columns) if columns else None,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def quarantine(store_dir: str, stamp: float) -> pd.DataFrame:
    """Every quarantined row of the store."""
    return store.read_quarantine(store_dir)


@st.cache_resource(max_entries=8, show_spinner=False)
def study(store_dir: str, stamp: float) -> geography_mod.StudyGeography:
    """The store's study area, wards and places by the one rule of every shell
    (:func:`geo_csp.geography.study_geography`); a configured geography that cannot be read is logged and
    the data's extent used (the page still opens)."""
    try:
        return geography_mod.study_geography(store_dir)
    except GeoCspError as exc:
        log.warning("store %s: its geography cannot be read, the study area is the data's extent: %s", store_dir, exc)
        return geography_mod.StudyGeography(None, "data extent", None, f"the store's geography cannot be read: {exc}")


def geography(store_dir: str, stamp: float) -> geography_mod.StoreGeography | None:
    """The store's own geography (:attr:`geo_csp.geography.StudyGeography.geography`): its configured outline,
    wards, LSOAs and named places, Bury's shipped ones only for a Bury store; ``None`` when the study area is
    the data's extent."""
    return study(store_dir, stamp).geography


def wards(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """The store's ward polygons, or ``None``."""
    return study(store_dir, stamp).wards


def borough(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """The store's borough outline (one row, EPSG:27700), or ``None``."""
    return study(store_dir, stamp).study_area


def named_places(store_dir: str, stamp: float) -> gpd.GeoDataFrame | None:
    """Named places used to name hotspot areas, or ``None``."""
    return study(store_dir, stamp).named_places


def _outline(store_dir: str, stamp: float) -> Any:
    frame = borough(store_dir, stamp)
    return None if frame is None else frame.geometry.union_all()


def hotspots(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    unit: cube_mod.UnitKind,
    resolution: int | None,
    crime_types: tuple[str, ...] | None,
    group: str | None,
    measure: cube_mod.Measure,
    sources: tuple[str, ...] | None,
    ward_names: tuple[str, ...] = (),
    period: periods.PeriodKind | Literal["auto"] = settings.DEFAULT_PERIOD,
) -> Any:
    """:func:`hotspot_run` for the sidebar's choices (``months``: the chosen, consecutive months).

    ``period`` is the period kind (month, quarter, or for timed sources week, fortnight, 28day, or auto).
    """
    params = cube_mod.choices_to_params(
        unit=unit,
        resolution=resolution,
        period=period,
        months=(months[0], months[-1]),
        crime_types=crime_types,
        group=group,
        sources=sources,
        measure=measure,
    )
    return hotspot_run(store_dir, stamp, params, ward_names=ward_names)


@st.cache_resource(max_entries=16, show_spinner=False)
def hotspot_run(store_dir: str, stamp: float, params: cube_mod.CubeParams, *, ward_names: tuple[str, ...] = ()) -> Any:
    """:func:`geo_csp.hotspot_run.run_hotspots` of ``params`` on the store's incidents, cached on ``params`` as one key.

    ``ward_names`` (the store's ward names) limits the analysis to those wards: they are the study area,
    and with ``unit="ward"`` the units. The run is saved in the store (:func:`geo_csp.runcache.cached_store_run`), so a view computed once opens
    at once after a restart too.
    """

    def compute() -> Any:
        months = tuple(periods.month_range(*params.months).tolist()) if params.months else None
        frame = incidents(store_dir, stamp, months, sources=params.sources, columns=hotspot_columns(params.group))
        return runcache.store_run(
            store_dir, params, ward_names=ward_names, incidents=frame, study=study(store_dir, stamp)
        )

    return runcache.cached_store_run(store_dir, params, ward_names=ward_names, compute=compute)


def chosen_wards(store_dir: str, stamp: float, ward_names: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The store's wards of these names (EPSG:27700); a name the store does not have is an error."""
    return runcache.chosen_wards(wards(store_dir, stamp), ward_names)


@st.cache_data(max_entries=4, show_spinner=False)
def street_names(store_dir: str, stamp: float) -> gpd.GeoDataFrame:
    """Street label points of the store's police.uk locations (:func:`geo_csp.maps.street_labels`), all months."""
    frame = incidents(
        store_dir, stamp, None, columns=(schema.LOCATION, schema.EASTING, schema.NORTHING, schema.LOCATED)
    )
    return maps.street_labels(frame)


def _layers_folder(store_dir: str) -> Path:
    """The store's partner layers folder (:func:`geo_csp.layers.layers_folder`); where it has none, the
    ``layers/`` folder beside the store that uploaded layers are saved into."""
    folder = layers.layers_folder(store.read_config(store_dir))
    return (folder or Path(store_dir).absolute().parent / "layers").resolve()


@st.cache_resource(max_entries=8, show_spinner=False)
def store_layers(store_dir: str, stamp: float) -> layers.PartnerLayers:
    """The store's partner layers (:func:`geo_csp.layers.store_layers`), operations drawn on its own outline
    and places; a layer file that cannot be read is logged and left out (the page still opens)."""
    found = layers.store_layers(
        store.read_config(store_dir),
        folder=_layers_folder(store_dir),
        borough=borough(store_dir, stamp),
        places=named_places(store_dir, stamp),
        errors="skip",
    )
    for kind, message in found.problems:
        log.warning("layer %s not shown: %s", kind, message)
    return found


def partner_layers(store_dir: str, stamp: float) -> dict[str, gpd.GeoDataFrame]:
    """Partner layers of the store by map layer name (``cctv`` views, ``walkabouts``, ``operations``,
    ``hubs``); missing layers are left out."""
    found = store_layers(store_dir, stamp)
    shown = {"cctv": found.views, "walkabouts": found.walkabouts, "operations": found.operations, "hubs": found.hubs}
    return {k: v for k, v in shown.items() if v is not None}


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
    period: str = settings.DEFAULT_PERIOD,
    colour_by: str | None,
    basemap: str | None,
    synthetic: bool,
    selected_area: str | None,
    show_layers: tuple[str, ...],
    ward_names: tuple[str, ...] = (),
    change: str | None = None,
) -> Any:
    """The Map page's folium map for these choices (:func:`geo_csp.maps.hotspot_map`); not cached itself.

    The offline map (``basemap=None``) carries the names of places, wards and streets from the store;
    ``change`` (``"month"`` or ``"year"``) colours the units by the change in incidents instead
    (:func:`change_units`).
    """
    args: dict[str, Any] = dict(
        unit=unit,
        resolution=resolution,
        crime_types=crime_types,
        group=group,
        measure=measure,
        sources=sources,
        ward_names=ward_names,
        period=period,
    )
    result = hotspots(store_dir, stamp, months, **args)
    units = result.units
    if change is not None:
        units, colour_by = change_units(store_dir, stamp, months, against=change, **args), maps.CHANGE_COLUMN
    shown = {k: v for k, v in partner_layers(store_dir, stamp).items() if k in show_layers}
    names: dict[str, Any] = {}
    if basemap is None:
        ward_frame = wards(store_dir, stamp)
        if ward_frame is not None and ward_names:
            ward_frame = ward_frame[ward_frame[schema.WARD_NAME].astype(str).isin(ward_names)]
        streets = street_names(store_dir, stamp)
        outline = shapely.union_all(units.geometry.to_numpy())
        names = {
            "places": named_places(store_dir, stamp),
            "wards": ward_frame,
            "streets": streets[shapely.intersects(outline, streets.geometry.to_numpy())],
        }
    return maps.hotspot_map(
        units,
        areas=result.areas,
        layers=shown,
        basemap=basemap,
        synthetic=synthetic,
        colour_by=colour_by,
        selected_area=selected_area,
        **names,
    )


#: The change view's column of entered / remained / left hot spots (:func:`geo_csp.tasking.change_lists`).
HOTSPOT_CHANGE = maps.HOTSPOT_CHANGE_COLUMN
#: What the change view compares the last month of the period with.
CHANGE_AGAINST = {"month": 1, "year": 12}


def change_window(months: tuple[str, ...]) -> tuple[str, ...]:
    """The 13 months ending with the last of ``months``: both comparisons (a month and a year before) are
    counted from one run over them."""
    end = pd.Period(months[-1], freq="M")
    return tuple(periods.month_range(str(end - 12), str(end)).tolist())


@st.cache_resource(max_entries=8, show_spinner=False)
def change_units(
    store_dir: str, stamp: float, months: tuple[str, ...], *, against: str, **hotspot_args: Any
) -> gpd.GeoDataFrame:
    """The units of the chosen run with ``n_this`` (incidents in the period's last month), ``n_before`` (a
    month or a year before) and ``n_change`` (this minus before), counted on the same units."""
    if against not in CHANGE_AGAINST:
        raise ValueError(f"against={against!r}: use one of {sorted(CHANGE_AGAINST)}")
    window = change_window(months)
    before = -1 - CHANGE_AGAINST[against]
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    counts = hotspots(store_dir, stamp, window, **{**hotspot_args, "measure": "count"})
    n = (
        pd.DataFrame(
            counts.cube.n[:, [before, -1]],
            index=counts.units[schema.UNIT_ID].to_numpy(),
            columns=["n_before", "n_this"],
        )
        .reindex(result.units[schema.UNIT_ID].to_numpy())
        .fillna(0.0)
    )
    out = result.units.assign(n_this=n["n_this"].to_numpy(), n_before=n["n_before"].to_numpy())
    out = out.assign(n_change=out["n_this"] - out["n_before"])
    # entered / left / remained hot spots between the two months: the tasking sheet's own lists, from the Gi*
    # hot/cold of the chosen measure over the same 13 months
    from geo_csp import tasking

    hot = hotspots(store_dir, stamp, window, **hotspot_args)
    lists, jaccard = tasking.change_lists(hot.analysis.hot_cold, hot.cube.n, hot.cube.units.index, before=before)
    status = lists["status"].reindex(out[schema.UNIT_ID].to_numpy()).fillna("")
    out = out.assign(**{HOTSPOT_CHANGE: status.to_numpy(dtype=object)})
    out.attrs["compared"] = (window[before], window[-1])
    out.attrs["jaccard"] = jaccard
    return out


#: Rendered maps kept in a store's ``cache/maps`` folder (about 0.7 MB each on the demo).
SAVED_MAPS = 16
#: Libraries whose version changes a rendered map.
_MAP_LIBRARIES = ("folium", "branca", "jinja2", "streamlit-folium")


def _layer_files(store_dir: str) -> list[Path]:
    """Every file the store's partner layers may be read from (the layers folder and the files its config names)."""
    config = store.read_config(store_dir)
    folder = _layers_folder(store_dir)
    found = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    named = [store.config_path(store_dir, value) for _, value in config.layers]
    return found + [p for p in named if p is not None]


@st.cache_resource(max_entries=16, show_spinner=False)
def hotspot_map_view(store_dir: str, stamp: float, months: tuple[str, ...], *, key: str, **map_args: Any) -> Any:
    """The Map page's map for these choices, rendered once (:func:`folium_view.prepare`) and reused on every rerun.

    The rendered map is also saved in the store (:func:`geo_csp.runcache.cached_json`, keyed by the store, its
    layer files, the code, the map libraries and every choice), so it opens at once after a restart too.
    """
    map_key = runcache.store_key(
        store_dir,
        "map 1",
        {"months": list(months), "key": key, "map_args": sorted(map_args.items())},
        files=_layer_files(store_dir),
        libraries=_MAP_LIBRARIES,
    )

    def render() -> dict[str, Any]:
        prepared = folium_view.prepare(hotspot_folium(store_dir, stamp, months, **map_args), key=key)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(prepared).items()}

    saved = runcache.cached_json(store_dir, "maps", map_key, render, keep=SAVED_MAPS)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}  # links are tuples
    return folium_view.PreparedMap(**fields)


def area_series(
    store_dir: str, stamp: float, months: tuple[str, ...], *, area_id: str, **hotspot_args: Any
) -> pd.Series:
    """Incidents per period summed over the units of one hotspot area (for its sparkline)."""
    table = hotspot_run_mod.trend_series(hotspots(store_dir, stamp, months, **hotspot_args))
    values = table[area_id] if area_id in table.columns else pd.Series(0.0, index=table.index)
    return values.rename(schema.N)


@st.cache_resource(max_entries=16, show_spinner=False)
def area_coverage(store_dir: str, stamp: float, months: tuple[str, ...], **hotspot_args: Any) -> pd.DataFrame | None:
    """:func:`geo_csp.coverage.coverage` of the named hotspot areas by the store's partner layers."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    layers = partner_layers(store_dir, stamp)
    covered = coverage.coverage(
        result.areas,
        views=layers.get("cctv"),
        walkabouts=layers.get("walkabouts"),
        operations=layers.get("operations"),
        hubs=layers.get("hubs"),
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
    return hotspot_run_mod.trend_series(
        hotspots(store_dir, stamp, months, **args), by="unit" if level == "ward" else "area"
    )


@st.cache_data(max_entries=16, show_spinner=False)
def series_trends(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`geo_csp.trends.mann_kendall` of every column of a series table, with a plain verdict."""
    mk = trends.mann_kendall(table.to_numpy(dtype="float64").T).set_axis(table.columns)
    verdict = pd.Series("no significant trend", index=mk.index)
    verdict[(mk[schema.MK_P] < 0.05) & (mk[schema.MK_TAU] > 0)] = "increasing (p < 0.05)"
    verdict[(mk[schema.MK_P] < 0.05) & (mk[schema.MK_TAU] < 0)] = "decreasing (p < 0.05)"
    return mk.assign(trend=verdict)


@st.cache_resource(max_entries=16, show_spinner=False)
def covered_areas(
    store_dir: str, stamp: float, months: tuple[str, ...], **hotspot_args: Any
) -> gpd.GeoDataFrame | None:
    """Named hotspot areas with their partner coverage columns (:func:`geo_csp.coverage.coverage`)."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    layers = partner_layers(store_dir, stamp)
    return coverage.coverage(
        result.areas,
        views=layers.get("cctv"),
        walkabouts=layers.get("walkabouts"),
        operations=layers.get("operations"),
        hubs=layers.get("hubs"),
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def gaps(store_dir: str, stamp: float, months: tuple[str, ...], *, rank_by: str, **hotspot_args: Any) -> Any:
    """The ranked gap list (:func:`geo_csp.coverage.gap_list`) against the borough's total."""
    covered = covered_areas(store_dir, stamp, months, **hotspot_args)
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    return coverage.gap_list(covered, measure=rank_by, borough_total=float(result.units[rank_by].sum()))


@st.cache_resource(max_entries=16, show_spinner=False)
def priorities(
    store_dir: str, stamp: float, months: tuple[str, ...], *, rank_by: str, top_n: int, **hotspot_args: Any
) -> gpd.GeoDataFrame:
    """Patrol priorities of the named hotspot areas (:func:`geo_csp.priorities.patrol_priorities`)."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    frame = incidents(store_dir, stamp, months)
    return prio.patrol_priorities(
        result.areas,
        incidents=frame[frame[schema.LOCATED]],
        params=prio.PatrolParams(measure=rank_by, top_n=top_n),
        units=result.units,
    )


@st.cache_resource(max_entries=4, show_spinner=False)
def walk_network(store_dir: str, stamp: float) -> Any:
    """The walking network shipped with the store's layers (a GraphML file), or ``None``."""
    from geo_csp import routes

    network = store_layers(store_dir, stamp).network
    return routes.load_network(network) if network is not None else None


@st.cache_resource(max_entries=16, show_spinner=False)
def walkabout(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    hub: str,
    stop_ids: tuple[str, ...],
    budget_min: float,
    dwell_min: float,
    use_network: bool,
    rank_by: str,
    **hotspot_args: Any,
) -> Any:
    """A walkabout plan (:func:`geo_csp.routes.plan_walkabout`) from a hub through chosen priority areas,
    stopping at each area's busiest cells (micro-places: :func:`geo_csp.priorities.micro_place_stops`)."""
    from geo_csp import routes

    frame = incidents(store_dir, stamp, months)
    stops = prio.walkabout_candidates(  # the candidate stops `geo-csp route --places areas` plans from
        hotspots(store_dir, stamp, months, **hotspot_args),
        incidents=frame[frame[schema.LOCATED]],
        places="areas",
        params=prio.PatrolParams(measure=rank_by, top_n=25),
        area_ids=stop_ids,
    )
    looks = {
        a: look_for(store_dir, stamp, months, area_id=a, **hotspot_args)
        for a in dict.fromkeys(stops[schema.AREA_ID].astype(str))
    }
    stops = stops.assign(purpose=stops[schema.AREA_ID].astype(str).map(looks) + " " + stops["purpose"].astype(str))
    hubs = partner_layers(store_dir, stamp)["hubs"]
    start = hubs[hubs["name"].astype(str) == hub].iloc[[0]]
    return routes.plan_walkabout(
        stops,
        start=start,
        budget_min=budget_min,
        dwell_min=dwell_min,
        network=walk_network(store_dir, stamp) if use_network else None,
        start_name=hub,
    )


def look_for(store_dir: str, stamp: float, months: tuple[str, ...], *, area_id: str, **hotspot_args: Any) -> str:
    """What to look for at a hotspot area on a walkabout: its crimes, busiest street, pattern and trend."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    if area_id not in set(result.areas[schema.AREA_ID].astype(str)):
        return "Visible presence"
    _, facts = area_story(store_dir, stamp, months, area_id=area_id, months_label="", **hotspot_args)
    parts = []
    if facts.get("crime_mix"):
        parts.append("Mostly " + ", ".join(f"{k.lower()} ({100 * v:.0f}%)" for k, v in facts["crime_mix"][:2]))
    if facts.get("top_street") and pd.notna(facts["top_street"]):
        parts.append(f"busiest street {facts['top_street']}")
    if facts.get("pattern") and pd.notna(facts["pattern"]):
        parts.append(str(facts["pattern"]).lower())
    parts.append(f"trend {facts['trend']}")
    return "; ".join(parts) + "."


def walk_hub(store_dir: str, stamp: float, hub: str) -> gpd.GeoDataFrame:
    """The hub of this name (one row, EPSG:27700)."""
    hubs = partner_layers(store_dir, stamp)["hubs"]
    return hubs[hubs["name"].astype(str) == hub].iloc[[0]].to_crs(WORKING_CRS)


@st.cache_resource(max_entries=8, show_spinner=False)
def walk_map_view(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    key: str,
    plan_args: dict[str, Any],
    basemap: str | None,
    synthetic: bool,
    **hotspot_args: Any,
) -> Any:
    """The walkabout page's map: hotspots, the route, numbered stops, the start hub; opened on the route."""
    plan = walkabout(store_dir, stamp, months, **plan_args, **hotspot_args)
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    names: dict[str, Any] = {}
    if basemap is None:
        streets = street_names(store_dir, stamp)
        names = {"places": named_places(store_dir, stamp), "wards": wards(store_dir, stamp), "streets": streets}
    hub = walk_hub(store_dir, stamp, plan_args["hub"])
    m = maps.hotspot_map(
        result.units,
        areas=result.areas,
        layers={"walkabout": plan.route_frame(), "hubs": partner_layers(store_dir, stamp)["hubs"]},
        basemap=basemap,
        synthetic=synthetic,
        **names,
    )
    maps.add_route(m, plan.stops, hub=hub, route=plan.route_frame())
    return folium_view.prepare(m, key=key)


@st.cache_data(max_entries=8, show_spinner=False)
def walk_map_png(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    plan_args: dict[str, Any],
    synthetic: bool,
    **hotspot_args: Any,
) -> bytes:
    """The walkabout's printable route map (hotspots, route, numbered stops, start hub) as PNG bytes."""
    from geo_csp import figures

    plan = walkabout(store_dir, stamp, months, **plan_args, **hotspot_args)
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    fill, legend = maps.unit_colours(result.units, colour_by=schema.PATTERN)
    fig = figures.meeting_map(
        result.units,
        fill=fill.tolist(),
        legend=legend,
        legend_title="Hot spot pattern",
        areas=result.areas,
        route=plan.route_frame(),
        stops=plan.stops,
        hub=walk_hub(store_dir, stamp, plan_args["hub"]),
        synthetic=synthetic,
        figsize_in=(10.0, 7.0),
    )
    return figures.figure_bytes(fig, format="png", dpi=110)


@st.cache_data(max_entries=8, show_spinner=False)
def walk_sheet(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    plan_args: dict[str, Any],
    title: str,
    start_clock: str,
    synthetic: bool,
    fmt: str,
    **hotspot_args: Any,
) -> bytes:
    """The printable walkabout sheet (route map, stops, times, what to look for) as HTML or PDF bytes."""
    import base64

    plan = walkabout(store_dir, stamp, months, **plan_args, **hotspot_args)
    png = walk_map_png(store_dir, stamp, months, plan_args=plan_args, synthetic=synthetic, **hotspot_args)
    map_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    page: str = plan.to_html(title=title, map_uri=map_uri, start_clock=start_clock)
    if fmt == "html":
        return page.encode("utf-8")
    import weasyprint

    return bytes(weasyprint.HTML(string=page).write_pdf())


@st.cache_resource(max_entries=16, show_spinner=False)
def operation_review(
    store_dir: str,
    stamp: float,
    *,
    name: str,
    buffer_m: float,
    sources: tuple[str, ...] | None,
    crime_types: tuple[str, ...] | None,
    group: str | None,
    date: str | None = None,
) -> Any:
    """The review of one operation of the store's layers, over all months.

    :func:`geo_csp.review.review_operation` of the operation (its row starting on ``date`` when several
    share the name, else the latest), with the other operations of the register cut out of the control;
    or, for a name shared by one-day operations and no ``date``, :func:`geo_csp.review.review_repeated`
    pooled over their dates.
    """
    from geo_csp import review

    operations = partner_layers(store_dir, stamp)["operations"]
    rows = operations[operations["name"].astype(str) == name].sort_values("start_date")
    frame = store.read_incidents(
        store_dir,
        sources=list(sources) if sources else None,
        crime_types=harm.resolve_crime_types(crime_types, group),
        located_only=True,
        columns=[schema.MONTH, schema.EASTING, schema.NORTHING, schema.CRIME_TYPE],
    )
    if date is None and len(rows) > 1 and bool(((rows["end_date"] - rows["start_date"]).dt.days < 1).all()):
        return review.review_repeated(
            frame, operations=rows, borough=_outline(store_dir, stamp), name=name, buffer_m=buffer_m
        )
    if date is not None:
        rows = rows[rows["start_date"] == pd.Timestamp(date)]
    row = rows.iloc[-1]
    return review.review_operation(
        frame,
        footprint=row.geometry,
        start=row["start_date"],
        end=row["end_date"],
        borough=_outline(store_dir, stamp),
        operations=operations,
        name=name,
        buffer_m=buffer_m,
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def partnership_table(
    store_dir: str, stamp: float, *, public: bool, n_quarters: int = 5, period: str = "quarter", n_months: int = 13
) -> Any:
    """:func:`geo_csp.table.table_from_store`: the partnership table, quarterly or monthly (``period``),
    disclosure-controlled if public."""
    from geo_csp import table

    return table.table_from_store(
        store_dir,
        public=public,
        n_quarters=n_quarters,
        period="month" if period == "month" else "quarter",
        n_months=n_months,
    )


def table_files(result: Any) -> dict[str, bytes]:
    """The partnership table written as CSV, HTML and XLSX (bytes by file name: ``partnership_table.*``, or
    ``partnership_table_monthly.*`` for the monthly table), through the library writers."""
    import tempfile

    from geo_csp import table

    stem = "partnership_table" + ("_monthly" if result.metadata.get("period") == "month" else "")
    writers = {"csv": table.write_table_csv, "html": table.write_table_html, "xlsx": table.write_table_xlsx}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {f"{stem}.{ext}": write(result, Path(tmp) / f"{stem}.{ext}") for ext, write in writers.items()}
        return {name: Path(p).read_bytes() for name, p in paths.items()}


def evidence_pack(
    store_dir: str,
    stamp: float,
    *,
    area: str,
    public: bool,
    area_polygon: gpd.GeoDataFrame | None = None,
) -> dict[str, bytes]:
    """The evidence pack of an area (:func:`geo_csp.evidence.build_evidence` then ``write_evidence``), as bytes.

    ``area`` is a named place or ward; or, with ``area_polygon`` (a hotspot area of the current run),
    the pack's title, and the outline itself goes into the pack's parameters (and so its manifest), so
    the pack covers exactly the area on the map and can be rebuilt from its manifest.
    """
    import tempfile

    from geo_csp import evidence

    params = (
        evidence.EvidenceParams(
            area=area, area_label=area, area_polygon_wkt=evidence.polygon_wkt(area_polygon), public=public
        )
        if area_polygon is not None
        else evidence.EvidenceParams(area=area, public=public)
    )
    with tempfile.TemporaryDirectory() as tmp:
        pack = evidence.build_evidence(store_dir, params)
        written = evidence.write_evidence(pack, Path(tmp) / "pack")
        return {Path(p).name: Path(p).read_bytes() for p in written.values() if Path(p).is_file()}


def ingest_files(store_dir: str, paths: tuple[str, ...], mapping: dict[str, Any] | None) -> pd.DataFrame:
    """Ingest uploaded files (:func:`geo_csp.ingest.ingest_paths`); the per-file report as a table.

    Not cached: it changes the store, whose new manifest time then invalidates every cached read.
    """
    from geo_csp import ingest
    from geo_csp import column_mapping as column_mapping_mod

    column_mapping = column_mapping_mod.mapping_from_dict(mapping, origin="mapping form") if mapping else None
    report = ingest.ingest_paths(list(paths), store_dir=store_dir, mapping=column_mapping)
    rows = report.to_dict()["files"]
    return pd.DataFrame(
        [
            {
                **{k: v for k, v in r.items() if k != "reasons"},
                "reasons": ", ".join(f"{k}: {n}" for k, n in r["reasons"].items()),
            }
            for r in rows
        ]
    )


_LAYER_FILE_NAMES = {"cctv": "cctv", "walkabouts": "walkabouts", "operations": "operations", "hubs": "hubs"}


def add_layer_files(store_dir: str, kind: str, paths: tuple[str, ...]) -> pd.DataFrame:
    """Validate partner layer files with :mod:`geo_csp.layers` and copy them into the store's layers folder."""
    import shutil

    readers: dict[str, Callable[[Path], gpd.GeoDataFrame]] = {
        "cctv": layers.read_cctv,
        "walkabouts": layers.read_routes,
        "hubs": layers.read_hubs,
        "operations": lambda p: layers.read_operations(
            p, borough=borough(store_dir, 0.0), places=named_places(store_dir, 0.0)
        ),
    }
    folder = _layers_folder(store_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in map(Path, paths):
        frame = readers[kind](p)  # raises LayerError naming the file and feature
        target = folder / f"{_LAYER_FILE_NAMES[kind]}{''.join(p.suffixes)}"
        shutil.copyfile(p, target)
        rows.append({"file": p.name, "layer": kind, "features": len(frame), "saved_as": str(target)})
    store_layers.clear()
    return pd.DataFrame(rows)


@st.cache_data(max_entries=8, show_spinner=False)
def map_export(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    colour_by: str,
    change: str | None,
    title: str,
    subtitle: str,
    synthetic: bool,
    **hotspot_args: Any,
) -> dict[str, bytes]:
    """The Map page's current view as PNG and PDF bytes for the minutes (:func:`geo_csp.figures.meeting_map`),
    drawn once, keyed by format."""
    from geo_csp import figures

    result = hotspots(store_dir, stamp, months, **hotspot_args)
    units = result.units
    if change is not None:
        units, colour_by = change_units(store_dir, stamp, months, against=change, **hotspot_args), maps.CHANGE_COLUMN
    fill, legend = maps.unit_colours(units, colour_by=colour_by)
    ward_frame = wards(store_dir, stamp)
    if ward_frame is not None and hotspot_args.get("ward_names"):
        ward_frame = chosen_wards(store_dir, stamp, hotspot_args["ward_names"])
    fig = figures.meeting_map(
        units,
        fill=fill.tolist(),
        legend=legend,
        legend_title=display.label(colour_by),
        areas=result.areas,
        wards=ward_frame,
        title=title,
        subtitle=subtitle,
        synthetic=synthetic,
    )
    return figures.figure_files(fig, formats=("png", "pdf"))


@st.cache_data(max_entries=32, show_spinner=False)
def area_story(
    store_dir: str, stamp: float, months: tuple[str, ...], *, area_id: str, months_label: str, **hotspot_args: Any
) -> tuple[str, dict[str, Any]]:
    """The one-paragraph story of a hotspot area (:func:`geo_csp.story.area_story`) and its facts."""
    result = hotspots(store_dir, stamp, months, **hotspot_args)
    area = result.areas.set_index(schema.AREA_ID, drop=False).loc[area_id]
    mask = (result.units[schema.AREA_ID] == area_id).to_numpy()
    columns = hotspot_columns(hotspot_args.get("group"))
    frame = incidents(store_dir, stamp, months, sources=hotspot_args.get("sources"), columns=columns)
    frame = frame[frame[schema.LOCATED].fillna(False).astype(bool)]
    inside = shapely.contains_xy(area.geometry, frame[schema.EASTING].to_numpy(), frame[schema.NORTHING].to_numpy())
    types = harm.resolve_crime_types(hotspot_args.get("crime_types"), hotspot_args.get("group"))
    picked = frame[inside]
    picked = picked[cube_mod.filter_mask(picked, crime_types=types, group=hotspot_args.get("group"))]
    cover = covered_areas(store_dir, stamp, months, **hotspot_args)
    cover_row = None
    if cover is not None:
        rows = cover[cover[schema.AREA_ID] == area_id]
        cover_row = rows.iloc[0] if len(rows) else None
    facts = story.area_facts(
        area,
        hot_cold=result.analysis.hot_cold[mask],
        counts=result.cube.n[mask],
        period_labels=[str(p) for p in result.cube.period_labels],
        coverage=cover_row,
        operations=partner_layers(store_dir, stamp).get("operations"),
        crime_mix=picked[schema.CRIME_TYPE].value_counts(),
    )
    facts.pop("series", None)
    return story.area_story(facts, months_label=months_label), facts


@st.cache_data(max_entries=16, show_spinner=False)
def area_time_profile(
    store_dir: str,
    stamp: float,
    months: tuple[str, ...],
    *,
    area: str | None,
    sources: tuple[str, ...] | None,
    share: float,
    aoristic: bool,
) -> tuple[pd.DataFrame, dict[str, Any], str]:
    """:func:`geo_csp.timeprofile.area_time_profile` of a named place, ward, H3 cell (or the whole store)."""
    from geo_csp import geography as geography_mod
    from geo_csp import timeprofile

    frame = store.read_incidents(
        store_dir,
        months=list(months) if months else None,
        sources=list(sources) if sources else None,
        located_only=True,
    )
    label, geom = "the whole borough", None
    if area is not None:
        geo = geography(store_dir, stamp)
        if geo is None:
            raise RuntimeError("this store has no named places or wards to choose from")
        polygon, kind = geography_mod.resolve_place(area, geo)
        label, geom = f"{polygon['name'].iloc[0]} ({kind})", polygon.geometry.iloc[0]
    profile, window, _ = timeprofile.area_time_profile(frame, geom, aoristic=aoristic, share=share)
    return profile, window, label


@st.cache_data(max_entries=8, show_spinner=False)
def tasking_files(store_dir: str, stamp: float, months: tuple[str, ...], **hotspot_args: Any) -> dict[str, Any]:
    """The tasking sheet (:func:`geo_csp.tasking.tasking_sheet`) of the chosen run: its tables and file bytes."""
    import tempfile

    from geo_csp import tasking

    result = hotspots(store_dir, stamp, months, **hotspot_args)
    frame = incidents(store_dir, stamp, months, sources=hotspot_args.get("sources"), columns=HOTSPOT_COLUMNS)
    gap_list = None
    if len(result.areas) and partner_layers(store_dir, stamp):
        rank_by = schema.PREDICTED_N if schema.PREDICTED_N in result.areas.columns else schema.N
        gap_list = gaps(store_dir, stamp, months, rank_by=rank_by, **hotspot_args)
    sheet = tasking.tasking_sheet(result, frame, gaps=gap_list, synthetic=store.read_config(store_dir).synthetic)
    with tempfile.TemporaryDirectory() as tmp:
        paths = tasking.write_tasking(sheet, tmp)
        files = {name: path.read_bytes() for name, path in paths.items()}
    return {
        "comparisons": sheet.comparisons,
        "jaccard": sheet.jaccard,
        "locations": sheet.locations,
        "stops": sheet.stops,
        "gaps_summary": sheet.gaps_summary(),
        "gaps": sheet.gaps.table if sheet.gaps is not None and sheet.gaps_assessed else None,
        "cautions": sheet.cautions,
        "last": sheet.last_label,
        "files": files,
    }


@st.cache_resource(max_entries=8, show_spinner=False)
def comparator(
    store_dir: str,
    stamp: float,
    *,
    crime_types: tuple[str, ...],
    sources: tuple[str, ...] | None,
    public: bool,
    n_quarters: int | None,
    region: str,
) -> Any:
    """:func:`geo_csp.comparator.comparator_from_store`: the borough among its comparator areas."""
    from geo_csp import comparator as comparator_mod

    return comparator_mod.comparator_from_store(
        store_dir, crime_types=crime_types, sources=sources, public=public, n_quarters=n_quarters, region=region
    )


def comparator_files(pack: Any) -> dict[str, bytes]:
    """The comparator pack written by :func:`geo_csp.comparator.write_comparator` (bytes by file name)."""
    import tempfile

    from geo_csp import comparator as comparator_mod

    with tempfile.TemporaryDirectory() as tmp:
        return {name: path.read_bytes() for name, path in comparator_mod.write_comparator(pack, tmp).items()}
