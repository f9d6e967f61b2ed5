"""``geo-csp coverage``, ``geo-csp route`` and ``geo-csp review``: partner coverage, walkabouts, operation reviews.

Partner layers are found by the one rule the app and evidence packs use too
(:func:`geo_csp.layers.store_layers`): the files given with ``--cctv``, ``--walkabouts``, ``--operations``,
``--hubs`` and ``--network``, else the store config's ``layers`` table, else the layers folder
(``--layers-dir``, the config's ``layers_dir``, or ``layers/`` beside the store) with ``cctv``,
``walkabouts``, ``operations``, ``hubs`` in any supported suffix and ``*.graphml`` as the walking network.
Operations are drawn on the study area and the store's own named places. Hotspots come from the
same run as ``geo-csp areas`` (H3 cells by harm). With ``--json`` stdout carries only JSON.

The heavy libraries (geopandas, pandas, numpy, shapely, osmnx, the analysis modules) are imported inside
the commands, so that ``geo-csp --help`` does not load them through this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

import typer
from rich.table import Table

from geo_csp import settings
from geo_csp._errors import LayerError, NetworkError, ParameterError
from geo_csp.cli._app import app, console
from geo_csp.cli._common import (
    BOUNDARY_HELP,
    DISTRICT_HELP,
    GROUP_HELP,
    MONTHS,
    counted_sources,
    jsonable,
    print_counted,
    cube_params,
    hotspots_from_store,
    partner_layer_file,
    partner_layers_dir,
    read_counted,
    read_partner_layers,
    study_borough,
    study_context,
    write_geo,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo_csp import coverage, hotspot_run

_STORE = typer.Option("--store", help="Store folder.")
_BOUNDARY = typer.Option("--boundary", help=BOUNDARY_HELP)
_DISTRICT = typer.Option("--district", help=DISTRICT_HELP)
_LAYERS = typer.Option("--layers-dir", help="Folder of partner layers (default: the store config's layers_dir).")
_PUBLIC = typer.Option(
    "--public-space",
    help="Leave out violence whose location label places it in a dwelling "
    "(partner labels; police.uk labels never do), so plans are not steered by harm patrols cannot reach.",
)
_SOURCE = typer.Option(
    "--source",
    help="Source to count (repeatable; 'all' for every source). Default: "
    "victim-reported police.uk street records only; stop and search and partner sources are "
    "counted only when named.",
)
_TYPES = typer.Option("--crime-type", help="police.uk category to include (repeatable).")
_GROUP = typer.Option("--group", help=GROUP_HELP)
_PROACTIVE = typer.Option(
    "--exclude-proactive",
    help="Leave out police.uk Drugs and Possession of weapons (mostly found by police activity rather than reported).",
)
_MEASURE = typer.Option(
    "--measure",
    help="Rank hotspots by: predicted (default: expected incidents next month "
    "from the predictor the rolling back-test picks on this store's data), harm or n (count).",
)
_JSON = typer.Option("--json", help="Print only JSON on stdout.")
_MEASURES = ("predicted", "harm", "n")
#: The column each --measure ranks by.
_COLUMNS = {"predicted": "predicted_n", "harm": "harm", "n": "n"}
_LABELS = {"predicted": "expected next month", "harm": "harm", "n": "incidents"}
#: What a walkabout visits (--places): the busiest cells, or micro-places inside hotspot areas.
_PlaceKind = Literal["cells", "areas"]
_PLACES: tuple[_PlaceKind, ...] = ("cells", "areas")


class _ShareOption(TypedDict, total=False):
    """--cctv-min-share when given; else CoverageParams keeps its own default."""

    cctv_min_share: float


def _check_measure(measure: str) -> None:
    if measure not in _MEASURES:
        raise ParameterError(f"--measure must be predicted, harm or n (count), not {measure!r}")


def _hotspots(
    store_dir: Path,
    boundary: Path | None,
    source: list[str] | None,
    measure: str,
    *,
    public_space: bool = False,
    district: str | None = None,
    months: str = "all",
) -> tuple[hotspot_run.HotspotResult, dict[str, Any], pd.DataFrame]:
    """The hotspot run ``geo-csp areas`` would make (H3 cells) with the default priority score, its context
    and the incidents (of the ``--months`` analysed).

    ``predicted_n`` (:func:`geo_csp.backtest.add_priority`) comes from the predictor a rolling back-test
    picks on the store's own data; the choice is cached in the store's ``cache`` folder.
    """
    from geo_csp import backtest

    from geo_csp import schema

    params = cube_params(
        source=source,
        measure="harm" if measure == "harm" else "count",
        public_space=public_space,
        months=months,
        store_dir=store_dir,
    )
    result = hotspots_from_store(store_dir, params, boundary=boundary, district=district)
    ctx = study_context(store_dir, boundary, district=district)
    result = backtest.add_priority(result, study_area=ctx["study_area"], cache_dir=Path(store_dir) / "cache")
    incidents = read_counted(store_dir, params)
    if params.months is not None:
        incidents = incidents[incidents[schema.MONTH].between(*params.months)]
    return result, ctx, incidents


def _evidence(result: hotspot_run.HotspotResult, measure: str) -> str:
    """The plan's "how well it predicts" line (the default priority score's rolling back-test)."""
    text = result.metadata["priority"].get("evidence") or ""
    if measure != "predicted" and text:
        return f"Ranked by {_LABELS[measure]}, not by the default priority score, whose record is: {text}"
    return text


def _timed(store_dir: Path) -> pd.DataFrame:
    """Every located incident of the store with the columns patrol timing reads; the priorities keep the
    timed victim-reported ones (:func:`geo_csp.sources.timing_incidents`)."""
    from geo_csp import schema, store

    return store.read_incidents(
        store_dir,
        located_only=True,
        columns=[schema.EASTING, schema.NORTHING, schema.OCCURRED_AT, schema.SOURCE, schema.CRIME_TYPE],
    )


def _camera_sites(
    result: hotspot_run.HotspotResult,
    incidents: pd.DataFrame,
    *,
    views: gpd.GeoDataFrame | None,
    measure: str,
    radius_m: float,
    n_cameras: int,
) -> pd.DataFrame:
    """Sites for ``n_cameras`` new cameras in the hotspot areas (--cameras); an empty frame for none or no area."""
    import pandas as pd

    from geo_csp import coverage

    if n_cameras <= 0 or not len(result.areas):
        return pd.DataFrame()
    return coverage.site_cameras_in_hotspots(
        result.areas,
        incidents,
        measure="harm" if measure == "harm" else "n",
        radius_m=radius_m,
        n_cameras=n_cameras,
        views=views,
    )


def _gap_metadata(
    result: hotspot_run.HotspotResult, gaps: coverage.GapList, *, layers: dict[str, str | None], column: str
) -> dict[str, Any]:
    """What the gap list's files carry: the hotspot run's metadata, the coverage parameters, layers and shares."""
    return {
        **result.metadata,
        "coverage_params": gaps.params,
        "layers": layers,
        "measure": column,
        "locations_note": settings.SNAP_POINT_NOTE,
        "shares_uncovered": gaps.shares,
        "total": gaps.total,
        "total_label": gaps.total_label,
    }


def _write_gap_list(
    gaps: coverage.GapList, out_path: Path, *, covered: gpd.GeoDataFrame, metadata: dict[str, Any]
) -> None:
    """The gap list as --out: a CSV with its metadata beside it, or a GeoPackage/GeoParquet of area polygons."""
    from geo_csp import coverage

    suffix = out_path.suffix.lower()
    if suffix not in (".csv", ".gpkg", ".parquet"):
        raise ParameterError(f"--out {out_path}: use .csv, .gpkg or .parquet")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        from geo_csp._escape import spreadsheet_safe

        spreadsheet_safe(gaps.table).to_csv(out_path, index=False)
        Path(f"{out_path}.json").write_text(json.dumps(jsonable(metadata)) + "\n", encoding="utf-8")
    else:
        write_geo(coverage.gap_list_to_gdf(gaps, covered=covered), out_path, metadata, layer="gap_list")


def _gap_table(gaps: coverage.GapList, *, measure: str) -> Table:
    """The gap list as a table: rank, hotspot, the measure, its share and what covers each hotspot."""
    import pandas as pd

    label = _LABELS[measure]
    table = Table(
        title=f"Gap list by {label} (activity up to {gaps.params.get('as_of')}; CCTV-covered = at least "
        f"{gaps.params.get('cctv_min_share', 0):.0%} of the area in view)",
        title_justify="left",
    )
    for col in (
        "rank",
        "hotspot",
        label,
        "share of borough",
        "in CCTV view",
        "walkabouts",
        "operations",
        "nearest hub (m)",
        "not covered by",
    ):
        table.add_column(col)
    for row in gaps.table.itertuples():
        table.add_row(
            str(row.rank),
            str(row.name),
            f"{getattr(row, gaps.measure):,.{1 if measure == 'predicted' else 0}f}",
            f"{row.share_of_total:.1%}",
            f"{row.cctv_share:.0%}" if pd.notna(row.cctv_share) else "not known",
            str(row.walkabout_n) if pd.notna(row.walkabout_n) else "not known",
            (str(row.operations) or "none") if pd.notna(row.operations) else "not known",
            f"{row.hub_distance_m:,.0f}" if pd.notna(row.hub_distance_m) else "not known",
            str(row.gaps),
        )
    return table


def _print_gap_list(
    gaps: coverage.GapList, siting: pd.DataFrame, *, measure: str, evidence: str, out_path: Path
) -> None:
    """The gap list's table, the shares not covered, the camera sites with their caveat, evidence and file."""
    from geo_csp import coverage

    console.print(_gap_table(gaps, measure=measure))
    console.print(
        f"Share of {gaps.total_label} in hotspots not covered: "
        + ", ".join(f"{k} {v:.1%}" for k, v in gaps.shares.items() if k != "all")
        + f"; by no activity at all {gaps.shares['all']:.1%}."
    )
    for row in siting.itertuples():
        console.print(
            f"Camera site {row.rank}: ({row.easting:.0f}, {row.northing:.0f}) in {row.area_name}, "
            f"covers {row.new_weight:,.0f} more {'harm' if measure == 'harm' else 'incidents'} "
            f"({row.share_of_uncovered:.0%} of uncovered, cumulative)"
        )
    console.print(evidence)
    if len(siting):
        console.print(f"[yellow]{coverage.SITING_CAVEAT}[/]")
    console.print(f"wrote {out_path}")


@app.command("coverage")
def coverage_command(
    out_path: Annotated[Path, typer.Option("--out", help="Gap list: .csv, or .gpkg/.parquet with area polygons.")],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    layers_dir: Annotated[Path | None, _LAYERS] = None,
    cctv: Annotated[Path | None, typer.Option("--cctv", help="CCTV cameras (CSV/GeoJSON/GPKG).")] = None,
    walkabouts: Annotated[
        Path | None, typer.Option("--walkabouts", help="Walkabout routes (GPX/GeoJSON/GPKG/KML).")
    ] = None,
    operations: Annotated[Path | None, typer.Option("--operations", help="Operations (GeoJSON/GPKG).")] = None,
    hubs: Annotated[Path | None, typer.Option("--hubs", help="Community hubs (CSV/GeoJSON/GPKG).")] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    public_space: Annotated[bool, _PUBLIC] = False,
    measure: Annotated[str, _MEASURE] = "predicted",
    months: Annotated[str, MONTHS] = "all",
    camera_radius_m: Annotated[
        float, typer.Option("--camera-radius-m", help="View radius of cameras without range.")
    ] = 50.0,
    cctv_min_share: Annotated[
        float | None,
        typer.Option(
            "--cctv-min-share",
            help="Share of an area that must be in camera view to count as CCTV-covered "
            "(default: the library default, see coverage.CoverageParams).",
        ),
    ] = None,
    walk_distance_m: Annotated[
        float, typer.Option("--walk-distance-m", help="A walk this close covers an area.")
    ] = 50.0,
    weeks: Annotated[int, typer.Option("--weeks", help="Walkabouts and operations of the last N weeks count.")] = 8,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last day of the period (YYYY-MM-DD).")] = None,
    cameras: Annotated[int, typer.Option("--cameras", help="Suggest sites for this many new cameras (0: none).")] = 3,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """The gap list: hotspot areas ranked by what CCTV, walkabouts and operations do not reach."""
    from geo_csp import coverage

    _check_measure(measure)
    result, ctx, incidents = _hotspots(
        store_dir, boundary, source, measure, public_space=public_space, district=district, months=months
    )
    borough = study_borough(ctx, incidents)
    lay = read_partner_layers(
        store_dir,
        layers_dir,
        {"cctv": cctv, "walkabouts": walkabouts, "operations": operations, "hubs": hubs},
        borough,
        radius_m=camera_radius_m,
        places=ctx["named_places"],
    )
    share_kw: _ShareOption = {} if cctv_min_share is None else {"cctv_min_share": cctv_min_share}
    params = coverage.CoverageParams(walk_distance_m=walk_distance_m, weeks=weeks, as_of=as_of, **share_kw)
    covered = coverage.coverage(
        result.areas,
        views=lay.views,
        walkabouts=lay.walkabouts,
        operations=lay.operations,
        hubs=lay.hubs,
        params=params,
    )
    column = _COLUMNS[measure]
    gaps = coverage.gap_list(covered, measure=column, borough_total=float(result.units[column].sum()))
    siting = _camera_sites(
        result, incidents, views=lay.views, measure=measure, radius_m=camera_radius_m, n_cameras=cameras
    )
    meta = _gap_metadata(result, gaps, layers=dict(lay.files), column=column)
    _write_gap_list(gaps, out_path, covered=covered, metadata=meta)
    doc = {
        **coverage.gap_list_to_dict(gaps, camera_sites=siting),
        "out": str(out_path),
        "params": gaps.params,
        "measure": column,
        "evidence": _evidence(result, measure),
        "priority": result.metadata["priority"],
    }
    if as_json:
        typer.echo(json.dumps(jsonable(doc), indent=2))
        return
    _print_gap_list(gaps, siting, measure=measure, evidence=_evidence(result, measure), out_path=out_path)


def _find_hub(hubs: gpd.GeoDataFrame, key: str, option: str = "--start") -> gpd.GeoDataFrame:
    exact = hubs[(hubs["place_id"].astype(str).str.lower() == key.lower()) | (hubs["name"].str.lower() == key.lower())]
    if len(exact) == 1:
        return exact
    partial = hubs[hubs["name"].str.lower().str.contains(key.lower(), regex=False)]
    if len(partial) == 1:
        return partial
    listing = "; ".join(f"{i} ({n})" for i, n in zip(hubs["place_id"], hubs["name"], strict=True))
    raise ParameterError(f"{option} {key!r} matches {len(partial)} hubs; give one of: {listing}")


def _check_route_options(*, measure: str, places: str, stops: int, stops_per_area: int) -> _PlaceKind:
    """Refuse a walkabout's measure, --places, --stops or --stops-per-area out of range; the --places checked."""
    _check_measure(measure)
    if places not in _PLACES:
        raise ParameterError(f"--places must be cells or areas, not {places!r}")
    if stops < 1:
        raise ParameterError(f"--stops must be at least 1, not {stops}")
    if stops_per_area < 1:
        raise ParameterError(f"--stops-per-area must be at least 1, not {stops_per_area}")
    return places


def _walk_network(
    network: Path | None,
    *,
    folder: Path | None,
    offline: bool,
    stops: Any,
    hubs: tuple[Any, Any],
    store_dir: Path,
) -> Any:
    """The walking network of a walkabout: --network, else the layers folder's first GraphML, else (not
    --offline) OpenStreetMap's around the stops and hubs; None when there is none (a warning is printed)."""
    import shapely

    from geo_csp import routes

    graph = None
    if network is None and folder is not None:
        found = sorted(folder.glob("*.graphml"))
        network = found[0] if found else None
    if network is not None:
        graph = routes.load_network(network)
    elif not offline:
        area = shapely.union_all([*stops.geometry.to_numpy(), *(hub.geometry.iloc[0] for hub in hubs)])
        try:
            graph = routes.network_for_area(
                shapely.convex_hull(area).buffer(300.0), cache_dir=Path(store_dir) / "networks"
            )
        except NetworkError as exc:
            console.print(f"[yellow]{exc}[/]")
    return graph


def _write_route(plan: Any, *, gpx_path: Path, sheet: Path | None) -> None:
    """The walkabout as --gpx and, with --sheet, as a printable HTML sheet."""
    gpx_path.parent.mkdir(parents=True, exist_ok=True)
    gpx_path.write_text(plan.to_gpx(), encoding="utf-8")
    if sheet is not None:
        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_text(plan.to_html(title=f"Walkabout from {plan.start_name}"), encoding="utf-8")


def _route_document(
    plan: Any, result: hotspot_run.HotspotResult, *, places: str, measure: str, gpx_path: Path, sheet: Path | None
) -> dict[str, Any]:
    """The walkabout's --json document: the plan, its stops, the files written and the priority's record."""
    return {
        "start": plan.start_name,
        "end": plan.end_name,
        "places": places,
        "length_m": plan.length_m,
        "walk_min": plan.walk_min,
        "dwell_min": plan.dwell_min,
        "total_min": plan.total_min,
        "budget_min": plan.budget_min,
        "straight_line_estimate": plan.straight_line,
        "priority_total": plan.priority_total,
        "stops": plan.stops.to_dict(orient="records"),
        "skipped": plan.skipped.to_dict(orient="records"),
        "note": plan.note,
        "gpx": str(gpx_path),
        "sheet": str(sheet) if sheet else None,
        "params": plan.params,
        "measure": _COLUMNS[measure],
        "evidence": _evidence(result, measure),
        "priority": result.metadata["priority"],
    }


def _print_route(plan: Any, *, evidence: str, gpx_path: Path, sheet: Path | None) -> None:
    """The walkabout's stops table, skipped and unreachable stops, evidence and files written."""
    table = Table(
        title=f"Walkabout from {plan.start_name}: {plan.length_m / 1000:.2f} km, "
        f"{plan.total_min:.0f} of {plan.budget_min:.0f} min",
        title_justify="left",
    )
    for col in ("#", "stop", "arrive (min)", "stay (min)", "purpose"):
        table.add_column(col)
    for s in plan.stops.itertuples():
        table.add_row(str(s.order), str(s.name), f"{s.arrive_min:.0f}", f"{s.dwell_min:.0f}", str(s.purpose))
    console.print(table)
    unreachable = plan.skipped[plan.skipped["reason"].str.startswith("unreachable")]
    console.print(f"{plan.note} {len(plan.skipped)} candidate stops not visited ({len(unreachable)} unreachable).")
    for s in unreachable.itertuples():
        console.print(f"[yellow]Not reachable: {s.name} ({s.reason}).[/]")
    console.print(evidence)
    console.print(f"wrote {gpx_path}" + (f" and {sheet}" if sheet else ""))


@app.command("route")
def route_command(
    start: Annotated[str, typer.Option("--start", help="Start hub: its id or (part of) its name.")],
    budget_min: Annotated[float, typer.Option("--budget-min", help="Minutes for walking and stops in total.")],
    gpx_path: Annotated[Path, typer.Option("--gpx", help="GPX file to write (for a phone).")],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    end: Annotated[str | None, typer.Option("--end", help="End hub (default: the start hub).")] = None,
    network: Annotated[
        Path | None, typer.Option("--network", help="Walking network: GraphML or OSM XML (.osm/.osm.gz).")
    ] = None,
    sheet: Annotated[Path | None, typer.Option("--sheet", help="Printable HTML sheet to write.")] = None,
    layers_dir: Annotated[Path | None, _LAYERS] = None,
    hubs_file: Annotated[Path | None, typer.Option("--hubs", help="Community hubs file.")] = None,
    places: Annotated[
        str,
        typer.Option(
            "--places",
            help="Stops: 'cells' (top hotspot cells) or 'areas' "
            "(the top named hotspot areas, stopping at the busiest cells inside each: "
            "Koper's dwell applies at micro-places).",
        ),
    ] = "cells",
    stops: Annotated[int, typer.Option("--stops", help="Candidate stops: the top N hotspot cells or areas.")] = 15,
    stops_per_area: Annotated[
        int,
        typer.Option("--stops-per-area", help="With --places areas: micro-place stops (busiest cells) in each area."),
    ] = 2,
    dwell_min: Annotated[float, typer.Option("--dwell-min", help="Minutes at each stop (Koper: 10-15).")] = 12.0,
    walk_speed_kmh: Annotated[float, typer.Option("--walk-speed-kmh", help="Walking speed.")] = 4.8,
    measure: Annotated[str, _MEASURE] = "predicted",
    source: Annotated[list[str] | None, _SOURCE] = None,
    public_space: Annotated[bool, _PUBLIC] = False,
    months: Annotated[str, MONTHS] = "all",
    offline: Annotated[bool, typer.Option("--offline", help="Never download a network from OpenStreetMap.")] = False,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Plan a walkabout from a hub through the top hotspot cells (or areas) within a time budget."""
    from geo_csp import layers, priorities, routes

    place_kind = _check_route_options(measure=measure, places=places, stops=stops, stops_per_area=stops_per_area)
    result, _, incidents = _hotspots(
        store_dir, boundary, source, measure, public_space=public_space, district=district, months=months
    )
    folder = partner_layers_dir(store_dir, layers_dir)
    hubs_path = partner_layer_file(store_dir, "hubs", hubs_file, layers_dir)
    if hubs_path is None:
        raise LayerError("no hubs layer: give --hubs FILE (CSV with hub_id, name, lon, lat) or a store with layers_dir")
    hubs = layers.read_hubs(hubs_path)
    start_hub = _find_hub(hubs, start)
    end_hub = _find_hub(hubs, end, "--end") if end else start_hub
    candidates = priorities.walkabout_candidates(
        result,
        incidents=_timed(store_dir),
        places=place_kind,
        params=priorities.PatrolParams(measure=_COLUMNS[measure], top_n=stops, stops_per_place=stops_per_area),
    )

    graph = _walk_network(
        network, folder=folder, offline=offline, stops=candidates, hubs=(start_hub, end_hub), store_dir=store_dir
    )
    if graph is None:
        console.print(
            "[bold yellow]No street network: the plan below is a STRAIGHT-LINE ESTIMATE "
            f"(straight distances x {routes.DETOUR_FACTOR}); give --network FILE for a walkable route.[/]"
        )
    plan = routes.plan_walkabout(
        candidates,
        start=start_hub,
        end=end_hub,
        budget_min=budget_min,
        walk_speed_kmh=walk_speed_kmh,
        dwell_min=dwell_min,
        network=graph,
        start_name=str(start_hub["name"].iloc[0]),
        end_name=str(end_hub["name"].iloc[0]),
    )
    _write_route(plan, gpx_path=gpx_path, sheet=sheet)
    doc = _route_document(plan, result, places=places, measure=measure, gpx_path=gpx_path, sheet=sheet)
    if as_json:
        typer.echo(json.dumps(jsonable(doc), indent=2))
        return
    _print_route(plan, evidence=_evidence(result, measure), gpx_path=gpx_path, sheet=sheet)


def _named_operations(
    store_dir: Path,
    operation: str,
    *,
    operations: Path | None,
    layers_dir: Path | None,
    borough: Any,
    ctx: dict[str, Any],
) -> tuple[Any, Any]:
    """The store's operations layer and its operations named ``operation`` (any case); refused when none is."""
    from geo_csp import layers

    path = partner_layer_file(store_dir, "operations", operations, layers_dir)
    if path is None:
        raise LayerError("no operations layer: give --operations FILE or a store whose config has layers_dir")
    ops = layers.read_operations(path, borough=borough, places=ctx["named_places"])
    chosen = ops[ops["name"].str.lower() == operation.lower()]
    if chosen.empty:
        raise ParameterError(f"no operation named {operation!r} in {path}; it has {sorted(set(ops['name']))}")
    return ops, chosen


def _operation_on(chosen: Any, operation: str, *, date: str) -> Any:
    """The named operations starting on --date; refused when the date is not a date or none starts then."""
    import pandas as pd

    try:
        day = pd.Timestamp(date)
    except ValueError as exc:
        raise ParameterError(f"--date {date!r} is not a date; write it as YYYY-MM-DD") from exc
    dates = ", ".join(d.date().isoformat() for d in chosen["start_date"])
    chosen = chosen[chosen["start_date"] == day]
    if chosen.empty:
        raise ParameterError(f"operation {operation!r} has no start_date {date}; its start dates are {dates}")
    return chosen


def _print_pooled_review(pooled: Any, operation: str, *, n_dates: int) -> None:
    """The review of one-day operations pooled over their dates: action months against neighbouring months."""
    console.print(f"{operation}: {n_dates} one-day operations, pooled over their dates (--date DATE reviews one).")
    table = Table(
        title=f"Operation {pooled.operation}: action months against neighbouring months", title_justify="left"
    )
    for col in ("action day", "month", "matched months", "incidents (action month)", "incidents (matched)"):
        table.add_column(col)
    for r in pooled.dates.itertuples():
        table.add_row(r.date, r.month, r.matched_months, f"{r.target_action:,.0f}", f"{r.target_matched:,.0f}")
    console.print(table)
    console.print(pooled.to_text())


def _pooled_review(
    incidents: pd.DataFrame,
    chosen: Any,
    operation: str,
    *,
    borough: Any,
    buffer_m: float,
    counted: dict[str, Any],
    as_json: bool,
) -> None:
    """One-day operations of one name reviewed pooled over their dates, printed or (--json) as JSON."""
    from geo_csp import review

    pooled = review.review_repeated(
        incidents, operations=chosen, borough=borough, name=str(chosen["name"].iloc[0]), buffer_m=buffer_m
    )
    if as_json:
        typer.echo(json.dumps(jsonable({**pooled.to_dict(), **counted}), indent=2))
        return
    _print_pooled_review(pooled, operation, n_dates=len(chosen))


def _print_review(result: Any, *, buffer_m: float, sources: list[str], group: str | None, types: Any) -> None:
    """An operation's review: incidents by window and area, what was counted, and the effect text."""
    import pandas as pd

    from geo_csp import review

    table = Table(title=f"Operation {result.operation}: incidents by window", title_justify="left")
    table.add_column("area")
    for col in ("before", "same months a year earlier", "after (operation months)", "km²"):
        table.add_column(col, justify="right")
    labels = {"target": "operation area", "buffer": f"{buffer_m:g} m ring around it", "control": "rest of borough"}
    usable = {w: w == "after" or result.comparisons.loc[w, "status"] == "used" for w in review.WINDOWS}
    for region, row in result.counts.iterrows():
        table.add_row(
            labels.get(str(region), str(region)),
            *(
                f"{row[c]:,.0f}" if pd.notna(row[c]) and usable[c] else "not used" if not usable[c] else "none"
                for c in review.WINDOWS
            ),
            f"{row['area_km2']:.2f}",
        )
    console.print(table)
    what = f"crime group {group!r}" if group else "crime types " + (", ".join(types) if types else "all")
    console.print(f"Counted: sources {', '.join(sources)}; {what}.")
    console.print(result.to_text())


@app.command("review")
def review_command(
    operation: Annotated[str, typer.Option("--operation", help="Operation name (as in the operations layer).")],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    operations: Annotated[Path | None, typer.Option("--operations", help="Operations file (GeoJSON/GPKG).")] = None,
    layers_dir: Annotated[Path | None, _LAYERS] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Start date, when several operations share the name "
            "(default: one-day operations are pooled over their dates, "
            "longer ones reviewed at their latest).",
        ),
    ] = None,
    buffer_m: Annotated[float, typer.Option("--buffer-m", help="Width of the displacement ring.")] = 200.0,
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    exclude_proactive: Annotated[bool, _PROACTIVE] = False,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Before/after review of an operation: relative effect, WDD and WDQ with intervals, against the rest of
    the borough (other live operations cut out), with a check that the before window was not a peak."""
    import shapely

    from geo_csp import harm, review
    from geo_csp import sources as sources_mod

    params = cube_params(crime_type=crime_type, group=group, source=source, exclude_proactive=exclude_proactive)
    ctx = study_context(store_dir, boundary, district=district)
    incidents = read_counted(store_dir, params)
    counted_info = incidents.attrs["counted"]
    sources = list(counted_info["sources"] or [])
    types = sources_mod.counted_crime_types(
        harm.resolve_crime_types(params.crime_types, params.group),
        counted_sources(store_dir, source, exclude_proactive=params.exclude_proactive),
    )
    print_counted(counted_info)
    borough = study_borough(ctx, incidents)
    outline = shapely.union_all(borough.geometry.to_numpy())
    ops, chosen = _named_operations(
        store_dir, operation, operations=operations, layers_dir=layers_dir, borough=borough, ctx=ctx
    )
    counted = {
        "sources": sources,
        "crime_types": list(types) if types else "all",
        "group": group,
        "counted": counted_info,
    }
    if date is not None:
        chosen = _operation_on(chosen, operation, date=date)
    elif len(chosen) > 1 and bool(((chosen["end_date"] - chosen["start_date"]).dt.days < 1).all()):
        _pooled_review(
            incidents, chosen, operation, borough=outline, buffer_m=buffer_m, counted=counted, as_json=as_json
        )
        return
    elif len(chosen) > 1:
        dates = ", ".join(d.date().isoformat() for d in chosen["start_date"])
        console.print(f"[yellow]{operation} has {len(chosen)} dates ({dates}); reviewing the latest. Use --date.[/]")
        chosen = chosen.sort_values("start_date").tail(1)
    op = chosen.iloc[0]
    result = review.review_operation(
        incidents,
        footprint=op.geometry,
        start=op["start_date"],
        end=op["end_date"],
        borough=outline,
        operations=ops,
        name=str(op["name"]),
        buffer_m=buffer_m,
    )
    if as_json:
        typer.echo(json.dumps(jsonable({**result.to_dict(), **counted}), indent=2))
        return
    _print_review(result, buffer_m=buffer_m, sources=sources, group=group, types=types)
