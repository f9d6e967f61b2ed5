"""Pieces shared by the ``geo-csp`` command modules: the cube parameters a command's options make, the study
context, the store's incidents and one hotspot run. Writing a layer with its run metadata is
:func:`geo_csp.export.write_geo` (re-exported here for the commands).

Heavy libraries (geopandas, pandas, numpy, pyarrow, the analysis modules) are imported inside the
functions that use them, so that importing a command module (and ``geo-csp --help``) stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from geo_csp import settings
from geo_csp._errors import LayerError, ParameterError
import typer

from geo_csp.cli._app import console
from geo_csp.export import METADATA_KEY, jsonable, write_geo

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo_csp import hotspot_run, periods
    from geo_csp import cube as cube_mod
    from geo_csp import layers as layers_mod

__all__ = [
    "BOUNDARY_HELP",
    "MONTHS",
    "METADATA_KEY",
    "counted_sources",
    "jsonable",
    "partner_layer_file",
    "partner_layers_dir",
    "read_partner_layers",
    "study_borough",
    "print_counted",
    "cube_params",
    "hotspots_from_store",
    "read_counted",
    "read_located",
    "study_context",
    "write_geo",
]


#: The ``--boundary`` option of every command that reads a study area (hotspots, areas, backtest, coverage,
#: route, review, cube): one help text, one default (the store's borough, :func:`geo_csp.geography.store_study_area`).
BOUNDARY_HELP = (
    "Study-area polygon file (GeoJSON/GPKG); default the store's borough (geo-csp configure). "
    "With ward_code and ward_name columns it also gives the wards (--unit ward)."
)
GROUP_HELP = (
    "Crime group: neighbourhood, serious_acquisitive, violence, asb, drugs; or a flag group counted from partner "
    "records by their qualifier (police.uk records none): domestic, knife, vawg, alcohol_related, drug_related."
)
DISTRICT_HELP = (
    "One area of a boundary file of several (a county's districts): its name in a text column of "
    "--boundary, or of the store's configured boundary without --boundary; a wrong name lists the names."
)

#: The ``--months`` option of every command that runs hotspots on a store (hotspots, areas, tasking, coverage,
#: route): one help text, one default (every month, as ``CubeParams(months=None)``), one parser
#: (:func:`geo_csp.periods.resolve_months`).
MONTHS = typer.Option(
    "--months",
    help="Months analysed: all (default: every month of the store), last-N (the N latest months of the store, "
    "e.g. last-12 as the app's 'Last 12 months') or YYYY-MM:YYYY-MM.",
)

#: Share of a study area that must lie inside Bury's outline for the shipped Bury wards/LSOAs to apply
#: to a store whose config does not name Bury.
BURY_SHARE_MIN = 0.5
#: Columns tried, in order, as the unit code of a ``--population`` CSV.
POPULATION_CODE_COLUMNS = ("ward_code", "lsoa_code", "gss_code", "code")


def _in_bury(study_area: gpd.GeoDataFrame) -> bool:
    """Whether at least :data:`BURY_SHARE_MIN` of the study area lies inside Bury's shipped outline."""
    import shapely

    from geo_csp import boundaries

    area = shapely.union_all(study_area.geometry.to_numpy())
    bury = shapely.union_all(boundaries.load_borough().geometry.to_numpy())
    return bool(area.area > 0 and shapely.intersection(area, bury).area >= BURY_SHARE_MIN * area.area)


def _with_population(
    polygons: gpd.GeoDataFrame, path: Path, *, code_col: str, source: str, required: bool
) -> gpd.GeoDataFrame:
    """``polygons`` with the residents of a population CSV (code column found by name), checked to match."""
    import pandas as pd

    from geo_csp import boundaries, schema

    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except FileNotFoundError as exc:
        raise ParameterError(
            f"--population {path} does not exist; give a CSV with a code and a population column"
        ) from exc
    found = [c for c in POPULATION_CODE_COLUMNS if c in header]
    if not found or schema.POPULATION not in header:
        raise ParameterError(
            f"--population {path} has columns {header}; it needs a code column (one of "
            f"{', '.join(POPULATION_CODE_COLUMNS)}) and a {schema.POPULATION!r} column"
        )
    pop = boundaries.read_population(path, code_col=found[0], population_col=schema.POPULATION)
    pop = pop[~pop.index.duplicated()]
    values = polygons[code_col].map(pop)
    missing = polygons.loc[values.isna().to_numpy(), code_col].astype(str).tolist()
    if required and missing:
        raise ParameterError(
            f"--population {path} has no row for {len(missing)} of the {len(polygons)} units of {source} "
            f"(e.g. {', '.join(missing[:5])}); its {found[0]!r} codes must match their {code_col!r} (same "
            "boundary year), or use --measure count/harm"
        )
    return polygons.assign(**{schema.POPULATION: values.to_numpy(dtype="float64")})


def study_area_option(store_dir: Path, boundary: Path | None, district: str | None) -> tuple[Any, str] | None:
    """The study area ``--boundary FILE [--district NAME]`` give, and its label; ``None`` without either.

    ``--district`` alone picks the area from the store's configured boundary file.
    """
    from geo_csp import boundaries, store

    if boundary is None and district is None:
        return None
    if boundary is None:
        boundary = store.read_config(store_dir).path("boundary")
        if boundary is None:
            raise ParameterError(
                f"--district {district!r} needs a boundary file of areas: pass --boundary FILE, or configure one "
                f"(geo-csp configure --store {store_dir} --boundary FILE)"
            )
    label = f"{boundary} ({district})" if district else str(boundary)
    return boundaries.load_borough(boundary, district=district), label


def study_context(
    store_dir: Path,
    boundary: Path | None,
    *,
    district: str | None = None,
    unit: str = "h3",
    population: Path | None = None,
    measure: str = "count",
) -> dict[str, Any]:
    """Study area, named places, wards and the polygon units from ``--boundary`` or the store's config.

    Returns a dictionary with ``config`` (the store's :class:`geo_csp.store.StoreConfig`), ``study_area`` (GeoDataFrame or None),
    ``study_area_source`` (where it came from, for metadata), ``named_places``, ``wards`` (as
    :attr:`geo_csp.geography.StudyGeography.run_wards`), ``units`` (the ward or LSOA polygons of ``unit``;
    ``None`` for H3 cells or Bury's shipped ones) and ``warning`` (why the study area is the data's extent).

    Without ``--boundary``/``--district`` these are the store's :func:`geo_csp.geography.study_geography`, as
    the app takes them. A ``--boundary`` file with ``ward_code`` and ``ward_name`` columns also gives the
    wards. Bury's shipped wards and LSOAs are used only for a store configured as Bury or a study area mostly
    inside Bury: elsewhere a ward/LSOA unit without its polygons is an error and H3 areas get no ward names.
    """
    from geo_csp import boundaries, geography, schema, store

    config = store.read_config(store_dir)
    chosen = study_area_option(store_dir, boundary, district)
    ctx: dict[str, Any] = {"config": config, "units": None, "warning": None}
    if chosen is None:  # the store's own, as the app, the table and evidence packs take it
        study = geography.study_geography(store_dir)
        ctx.update(study.run_inputs(unit), study_area_source=study.source, warning=study.warning)
        own = ctx["units"]
        bury_ok = config.is_bury or bool(study.shipped)
    else:
        ctx["study_area"], ctx["study_area_source"] = chosen
        named = config.path("named_places")
        ctx["named_places"] = (
            boundaries.load_named_places(named)
            if named is not None
            else boundaries.load_named_places()
            if config.is_bury
            else None
        )
        wards_too = {schema.WARD_CODE, schema.WARD_NAME} <= set(ctx["study_area"].columns)
        ctx["wards"] = None
        if boundary is not None and district is None and wards_too:
            ctx["wards"] = boundaries.load_wards(boundary)
        elif config.wards is not None:
            # the configured wards with their code/name columns and population (`geo-csp configure`), those
            # belonging to this study area (more than half their area inside it)
            ctx["wards"] = geography.configured_units(config, "ward", outline=ctx["study_area"])
        lsoas = geography.configured_units(config, "lsoa", outline=ctx["study_area"])
        own = {"ward": ctx["wards"], "lsoa": lsoas}.get(unit)
        bury_ok = config.is_bury or _in_bury(ctx["study_area"])
    if unit in ("ward", "lsoa") and own is None and not bury_ok:
        where = (
            f"the study area {boundary}"
            if boundary is not None
            else f"the borough {config.borough!r} of this store (its config has no {unit}s)"
            if config.borough
            else "this store (its config names no borough)"
        )
        raise ParameterError(
            f"--unit {unit}: no {unit} polygons for {where}, and Bury's shipped {unit}s only fit a study area in "
            f"Bury; configure them (geo-csp configure --store {store_dir} --{unit}s FILE) or give --boundary a "
            f"file of your {unit}s with {unit}_code and {unit}_name columns"
            + (' (or name them as "lsoas" in the store\'s config.json)' if unit == "lsoa" else "")
            + ", or use --unit h3"
        )
    if population is not None:
        if own is None:
            raise ParameterError(
                f"--population {population} needs the {unit} polygons it belongs to: use --unit ward or lsoa "
                "with a --boundary file of those polygons (H3 cells and the shipped Bury units have their own)"
            )
        code_col = schema.WARD_CODE if unit == "ward" else schema.LSOA_CODE
        own = _with_population(
            own, population, code_col=code_col, source=ctx["study_area_source"], required=measure in ("rate", "rate_eb")
        )
        if unit == "ward":
            ctx["wards"] = own
    ctx["units"] = own
    if ctx["wards"] is None and not bury_ok:
        ctx["wards"] = geography.empty_wards()
    return ctx


def counted_sources(
    store_dir: Path, sources: list[str] | None, *, exclude_proactive: bool = False, group: str | None = None
) -> Any:
    """What a command counts (:func:`geo_csp.sources.select_sources` against the store's sources)."""
    from geo_csp import sources as sources_mod

    return sources_mod.select_sources(
        Path(store_dir), sources or None, exclude_proactive=exclude_proactive, group=group
    )


def print_counted(counted: dict[str, Any] | Any) -> None:
    """Say on screen what a run counted (``metadata["counted"]`` or a ``SourceSelection``); loud when mixed."""
    info = counted if isinstance(counted, dict) else counted.to_dict()
    style = "bold yellow" if info.get("mixed") else "dim"
    console.print(f"[{style}]{info['note']}[/]", highlight=False)


def read_located(
    store_dir: Path,
    crime_types: list[str] | None,
    sources: list[str] | None,
    group: str | None = None,
    *,
    exclude_proactive: bool = False,
) -> pd.DataFrame:
    """The store's located incidents for these filters; a clear error (naming what the store holds) when none.

    ``sources`` follows the one source contract (:mod:`geo_csp.sources`): by default police.uk street
    records only; ``frame.attrs["counted"]`` holds the selection's metadata.
    """
    from geo_csp import harm, schema, store
    from geo_csp import sources as sources_mod

    counted = counted_sources(store_dir, sources, exclude_proactive=exclude_proactive, group=group)
    types = sources_mod.counted_crime_types(harm.resolve_crime_types(crime_types or None, group), counted)
    frame = store.read_incidents(
        store_dir,
        crime_types=list(types) if types else None,
        sources=list(counted.sources) if counted.sources else None,
        located_only=True,
    )
    if frame.empty or (types is not None and not frame[schema.CRIME_TYPE].isin(list(types)).any()):
        held = store.read_incidents(store_dir, located_only=True, columns=[schema.SOURCE, schema.CRIME_TYPE])
        wanted = (
            f"group {group!r}" + (f" ({', '.join(types)})" if types is not None else "")
            if group
            else f"crime types {crime_types or 'all'}"
        )
        raise ParameterError(
            f"the store {store_dir} has no located incidents of {wanted} in sources "
            f"{list(counted.sources) if counted.sources else 'all'}; it holds "
            f"sources {sorted(held[schema.SOURCE].unique()) or 'none'} with crime types "
            f"{sorted(held[schema.CRIME_TYPE].unique())[:20] or 'none'}: ingest data first (geo-csp ingest) or "
            "change --group/--crime-type/--source (police.uk street records are counted unless --source names others)"
        )
    frame.attrs["counted"] = counted.to_dict()
    return frame


def cube_params(
    *,
    unit: str = settings.DEFAULT_UNIT,
    resolution: int | None = None,
    period: str = settings.DEFAULT_PERIOD,
    crime_type: list[str] | None = None,
    group: str | None = None,
    source: list[str] | None = None,
    exclude_proactive: bool = False,
    public_space: bool = False,
    measure: str = settings.DEFAULT_MEASURE,
    partial_periods: str = settings.DEFAULT_PARTIAL_PERIODS,
    zero_fill: str = settings.DEFAULT_ZERO_FILL,
    months: str = "all",
    store_dir: Path | None = None,
) -> cube_mod.CubeParams:
    """The one :class:`geo_csp.cube.CubeParams` a command's options make (:func:`geo_csp.cube.choices_to_params`,
    as the app makes its own), checked before any file is read.

    Keyword names are the commands' option names (``--crime-type``, ``--source``: repeatable, empty
    means none); every command that counts incidents builds its parameters here. ``months`` is the
    ``--months`` text (:func:`geo_csp.periods.resolve_months` on the months of ``store_dir``'s manifest); the
    months chosen are said on screen.
    """
    from geo_csp.cube import choices_to_params

    window = None
    if months.strip().lower() != "all":
        from geo_csp import periods, store

        if store_dir is None:
            raise ParameterError(f"--months {months!r} needs the store whose months it chooses")
        held = store.store_status(store_dir)["months"]
        window = periods.resolve_months(months, held)
        if window is not None:
            n = len(periods.month_range(*window))
            console.print(
                f"--months {months}: {n} months, {window[0]}..{window[1]} (the store holds {held[0]}..{held[-1]})",
                highlight=False,
            )
    # The options arrive as text and go on as they are: CubeParams refuses a unit, period, measure,
    # partial-periods or zero-fill value outside its choices (ParameterError naming them).
    return choices_to_params(
        unit=cast("cube_mod.UnitKind", unit),
        months=window,
        resolution=resolution,
        period=cast("periods.PeriodKind | Literal['auto']", period),
        crime_types=crime_type,
        group=group,
        sources=source,
        exclude_proactive=exclude_proactive,
        public_space=public_space,
        measure=cast("cube_mod.Measure", measure),
        partial_periods=cast("cube_mod.PartialPeriods", partial_periods),
        zero_fill=cast("cube_mod.ZeroFill", zero_fill),
    )


def read_counted(store_dir: Path, params: cube_mod.CubeParams) -> pd.DataFrame:
    """:func:`read_located` for what ``params`` counts (crime types, group, sources, proactive records)."""
    return read_located(
        store_dir,
        list(params.crime_types) if params.crime_types else None,
        list(params.sources) if params.sources else None,
        params.group,
        exclude_proactive=params.exclude_proactive,
    )


def hotspots_from_store(
    store_dir: Path,
    params: cube_mod.CubeParams,
    *,
    boundary: Path | None = None,
    district: str | None = None,
    previous: gpd.GeoDataFrame | None = None,
    population: Path | None = None,
    weights: str = "auto",
    distance_m: float | None = None,
    area_params: Any = None,
    backend: hotspot_run.Backend = "memory",
    client: Any = None,
) -> hotspot_run.HotspotResult:
    """One hotspot run (units, named areas, metadata) on the store, as ``geo-csp hotspots``/``areas`` make it.

    ``params`` (:func:`cube_params`) says what is counted and how; ``weights`` and ``distance_m`` are
    :func:`geo_csp.hotspot_run.run_hotspots`'s spatial weights (``--weights auto|h3|queen|distance``,
    ``--distance-m``); they are checked before the store is read. ``area_params`` (a
    :class:`geo_csp.areas.AreaParams`, default its defaults) says how hot units become named areas. With ``backend="dask"`` the same call
    runs over the store folder itself on ``client`` (a ``dask.distributed`` client), never loading the
    incidents into one frame; in memory it runs on the store's located incidents.
    """
    from geo_csp import hotspot_run, hotspots

    hotspot_run.resolve_weights(params.unit, weights, distance_m)  # fail before reading the store
    ctx = study_context(
        store_dir, boundary, district=district, unit=params.unit, population=population, measure=params.measure
    )
    incidents = store_dir if backend == "dask" else read_counted(store_dir, params)
    result = hotspot_run.run_hotspots(
        incidents,
        params,
        study_area=ctx["study_area"],
        units=ctx["units"],
        named_places=ctx["named_places"],
        wards=ctx["wards"],
        previous_areas=previous,
        area_params=area_params,
        params=hotspots.HotspotParams(),
        weights=cast("hotspot_run.WeightsKind", weights),  # resolve_weights refused any other text above
        distance_m=distance_m,
        backend=backend,
        client=client,
    )
    result.metadata.update(
        {
            "store": str(store_dir),
            "study_area": ctx["study_area_source"],
            "synthetic": ctx["config"].synthetic,
        }
    )
    if ctx["warning"]:
        result.metadata.setdefault("warnings", []).append(ctx["warning"])
    print_counted(result.metadata["counted"])
    console.print(f"[dim]{hotspot_run.describe_run(result.metadata)}[/]", highlight=False)
    for warning in result.metadata.get("warnings", []):
        console.print(f"[yellow]Warning: {warning}[/]", highlight=False)
    if "resolution_reason" in result.metadata:
        console.print(result.metadata["resolution_reason"])
    if result.metadata.get("n_islands"):
        console.print(
            f"{result.metadata['n_islands']} units have no neighbour under {result.metadata['weights']} "
            f"weights (Gi* z = 0 for them): {', '.join(result.metadata['islands'])}"
        )
    print_few_units(result)
    return result


def partner_layers_dir(store_dir: Path, layers_dir: Path | None) -> Path | None:
    """``--layers-dir`` (checked to be a folder), else the store's own (:func:`geo_csp.layers.layers_folder`)."""
    from geo_csp import layers, store

    if layers_dir is not None:
        if not layers_dir.is_dir():
            raise LayerError(
                f"--layers-dir {layers_dir} is not a folder; give the folder that holds cctv.csv, hubs.csv ..."
            )
        return layers_dir
    folder = layers.layers_folder(store.read_config(store_dir))
    return folder if folder is not None and folder.is_dir() else None


def partner_layer_file(store_dir: Path, kind: str, given: Path | None, layers_dir: Path | None) -> Path | None:
    """The file of one partner layer by the store's one rule (:func:`geo_csp.layers.layer_files`)."""
    from geo_csp import layers, store

    folder = partner_layers_dir(store_dir, layers_dir)
    return layers.layer_files(store.read_config(store_dir), folder=folder, given={kind: given})[kind]


def study_borough(ctx: dict[str, Any], incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """The study area, or (without one) the convex hull of the incidents buffered by 200 m."""
    import geopandas as gpd
    import shapely

    from geo_csp import schema
    from geo_csp.settings import WORKING_CRS

    if ctx["study_area"] is not None:
        return ctx["study_area"]
    hull = shapely.convex_hull(shapely.multipoints(incidents[[schema.EASTING, schema.NORTHING]].to_numpy()))
    return gpd.GeoDataFrame(geometry=[hull.buffer(200.0)], crs=WORKING_CRS)


def read_partner_layers(
    store_dir: Path,
    layers_dir: Path | None,
    files: dict[str, Path | None],
    borough: gpd.GeoDataFrame,
    *,
    radius_m: float,
    places: gpd.GeoDataFrame | None,
) -> layers_mod.PartnerLayers:
    """The store's partner layers (:func:`geo_csp.layers.store_layers`), operations drawn on the study area and
    the store's own named places; the layers not found are named on screen."""
    from geo_csp import layers, store

    found = layers.store_layers(
        store.read_config(store_dir),
        folder=partner_layers_dir(store_dir, layers_dir),
        given=files,
        borough=borough,
        places=places,
        camera_radius_m=radius_m,
    )
    if found.missing:
        console.print(f"[yellow]no {', '.join(found.missing)} layer given: those columns are left unknown[/]")
    return found


def print_few_units(result: hotspot_run.HotspotResult) -> None:
    """On a run of few wards/LSOAs (:func:`geo_csp.ward_summary.applies`): lead with counts, rates and change.

    Prints the lead and a table (count, share, rate with its interval, change with its interval, why
    Gi* says what it says) and writes both into ``result.metadata["few_units"]``, so every output file
    of the run carries them.
    """
    from rich.table import Table
    from rich.text import Text

    from geo_csp import ward_summary

    if not ward_summary.applies(str(result.metadata.get("unit")), len(result.units)):
        return
    summary = ward_summary.summarise_few_units(result)
    result.metadata["few_units"] = {**summary.metadata, "lead": summary.lead}
    for sentence in summary.lead:
        console.print(sentence, highlight=False, markup=False)
    t = summary.table
    table = Table(title=f"{result.metadata['unit'].capitalize()}s: counts, rates and change (95% intervals)")
    for col in ("name", "n", "share %", "rate /1,000/yr", "interval", "change", "ratio (interval)", "Gi* z", "pattern"):
        table.add_column(col, justify="left" if col in ("name", "change", "pattern") else "right")
    for row in t.itertuples(index=False):
        r = row._asdict()
        table.add_row(
            Text(str(r["name"])),
            f"{r['n']:,.0f}",
            f"{r['share_pct']:.1f}",
            "n/a" if r["rate_per_1000"] != r["rate_per_1000"] else f"{r['rate_per_1000']:.1f}",
            "" if r["rate_low"] != r["rate_low"] else f"{r['rate_low']:.1f}-{r['rate_high']:.1f}",
            str(r["change"]),
            ""
            if r["change_ratio"] != r["change_ratio"]
            else f"{r['change_ratio']:.2f} ({r['change_low']:.2f}-{r['change_high']:.2f})",
            f"{r['gi_z']:.2f}",
            str(r["pattern"]),
        )
    console.print(table)
