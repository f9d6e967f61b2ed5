"""``geo-csp hotspots``, ``geo-csp areas`` and ``geo-csp backtest``: classified units, named areas, back-tests.

The study area is ``--boundary`` when given, else the store's (:func:`geo_csp.geography.study_geography`, as
the app takes it): its configured boundary dissolved to one outline, Bury's shipped boundary when the config
names Bury or the store configures nothing and its data lie in Bury, else the extent of the data (with a
warning on screen and in the metadata). Every output file carries the
run's metadata (every parameter, the software version): in the GeoParquet schema metadata under
``geo_csp``, in a ``geo_csp_metadata`` table of a GeoPackage, and always in a sidecar ``FILE.json``.

``--dask`` runs ``hotspots`` and ``areas`` over the store on Dask: the cube is aggregated from the
store's force/month partitions (:func:`geo_csp.cube.build_cube_dask`), so a force's or a nation's
store is never loaded into one table, and the result is the in-memory one (H3 cells only). Give
``--scheduler tcp://HOST:8786`` for a running ``dask.distributed`` cluster; without it a local
cluster of ``--workers`` processes runs for the command.

The heavy libraries (geopandas, pandas, pyarrow, the analysis modules) are imported inside the
functions that use them, so that ``geo-csp --help`` does not load them through this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict, cast

import typer
from rich.table import Table

from geo_csp import settings
from geo_csp._errors import ParameterError
from geo_csp.cli._app import app, console, out
from geo_csp.cli._common import (
    BOUNDARY_HELP,
    DISTRICT_HELP,
    GROUP_HELP,
    MONTHS,
    cube_params,
    hotspots_from_store,
    print_counted,
    read_counted,
    write_geo,
)
from geo_csp.cli._common import jsonable as _jsonable
from geo_csp.cli._common import study_context as _context

__all__ = ["write_geo"]

_STORE = typer.Option("--store", help="Store folder.")
_BOUNDARY = typer.Option("--boundary", help=BOUNDARY_HELP)
_DISTRICT = typer.Option("--district", help=DISTRICT_HELP)
_POPULATION = typer.Option(
    "--population",
    help="CSV of residents per ward/LSOA of --boundary (a ward_code, "
    "lsoa_code, gss_code or code column and a population column), for --measure rate.",
)
_UNIT = typer.Option("--unit", help="Spatial unit: h3, ward or lsoa.")
_RES = typer.Option("--resolution", help="H3 resolution 7-11 (default chosen for the area and reported).")
_PERIOD = typer.Option(
    "--period",
    help="month, quarter (financial), year; for timed partner sources week, fortnight or "
    "28day (police.uk has months only); or auto (chosen from the data's span, the rule reported).",
)
_TYPES = typer.Option("--crime-type", help="police.uk category to include (repeatable).")
_GROUP = typer.Option("--group", help=GROUP_HELP)
_SOURCE = typer.Option(
    "--source",
    help="Source to count (repeatable; 'all' for every source). Default: "
    "victim-reported police.uk street records only; stop and search and partner sources such as "
    "council ASB are counted only when named, and a mixed run says so.",
)
_PARTIAL = typer.Option(
    "--partial-periods",
    help="drop (default) or keep the quarters/financial years the data "
    "cover only in part; kept ones are compared as counts per month.",
)
_PUBLIC = typer.Option(
    "--public-space",
    help="Leave out violence whose location label places it in a dwelling (partner labels; police.uk labels never do).",
)
_PROACTIVE = typer.Option(
    "--exclude-proactive",
    help="Leave out police.uk Drugs and Possession of weapons (mostly found by police activity rather than reported).",
)
_MEASURE = typer.Option(
    "--measure",
    help="count, harm, rate (per 1,000 residents; wards/LSOAs) or rate_eb (those "
    "rates Empirical-Bayes smoothed, so wards of few residents do not lead).",
)
_OUT = typer.Option("--out", help="Output file: .parquet (GeoParquet) or .gpkg.")
_WEIGHTS = typer.Option(
    "--weights",
    help="Spatial weights: auto (h3 k-ring for cells, queen for wards/LSOAs), "
    "h3, queen or distance (unit centroids within --distance-m).",
)
_DISTANCE = typer.Option("--distance-m", help="Distance band radius in metres (with --weights distance).")
_DASK = typer.Option(
    "--dask",
    help="Aggregate the cube from the store on Dask (H3 units; a local cluster unless "
    "--scheduler is given): for a force's or a nation's store. Same result as in memory.",
)
_SCHEDULER = typer.Option("--scheduler", help="Address of a running dask scheduler (tcp://host:8786); implies --dask.")
_WORKERS = typer.Option("--workers", help="Worker processes of the local Dask cluster (--dask without --scheduler).")
_RANK_BY = typer.Option(
    "--rank-by",
    help="Sort the units by n, harm, rate_per_1000 (per 1,000 residents a year; "
    "wards/LSOAs) or gi_z, highest first, and write a `rank` column (1 = highest).",
)


class _AreaSizes(TypedDict, total=False):
    """The --max-area-km2/--min-area-km2 given; AreaParams keeps its own default for the others."""

    max_area_km2: float | None
    min_area_km2: float


def _run_on_backend(
    store_dir: Path,
    *,
    unit: str,
    resolution: int | None,
    period: str,
    months: str,
    partial_periods: str,
    crime_type: list[str] | None,
    group: str | None,
    source: list[str] | None,
    exclude_proactive: bool,
    public_space: bool,
    measure: str,
    boundary: Path | None,
    district: str | None,
    population: Path | None,
    weights: str,
    distance_m: float | None,
    dask: bool,
    scheduler: str | None,
    workers: int,
    previous: Any = None,
    area_params: Any = None,
) -> Any:
    """The one hotspot run of ``geo-csp hotspots`` and ``geo-csp areas``: their options made into one
    :class:`geo_csp.cube.CubeParams` (:func:`geo_csp.cli._common.cube_params`), run in memory on the store's
    located incidents, or on Dask over the store itself.

    The study area, wards and places are the store's (:func:`geo_csp.geography.study_geography`, as the app
    takes them) unless ``--boundary``/``--district`` give one. The Dask run makes the same
    :func:`geo_csp.hotspot_run.run_hotspots` call with the store folder and ``backend="dask"`` and adds
    ``scheduler`` to the metadata.
    """
    params = cube_params(
        unit=unit,
        resolution=resolution,
        period=period,
        crime_type=crime_type,
        group=group,
        source=source,
        exclude_proactive=exclude_proactive,
        public_space=public_space,
        measure=measure,
        partial_periods=partial_periods,
        months=months,
        store_dir=store_dir,
    )
    context = dict(
        boundary=boundary,
        district=district,
        previous=previous,
        population=population,
        weights=weights,
        distance_m=distance_m,
        area_params=area_params,
    )
    if not dask and scheduler is None:
        return hotspots_from_store(store_dir, params, **context)
    from geo_csp import cluster, hotspot_run

    if params.public_space:
        raise ParameterError("--public-space reads each incident's location label in memory: drop --dask")
    if params.unit != "h3":
        raise ParameterError(
            f"--dask aggregates H3 cells only, not --unit {params.unit}: ward and LSOA cubes are small, "
            "run them without --dask"
        )
    if isinstance(workers, bool) or workers < 1:
        raise ParameterError(f"--workers must be a positive number of worker processes; got {workers!r}")
    hotspot_run.resolve_weights(params.unit, weights, distance_m)  # fail before starting a cluster
    with cluster.dask_client(scheduler, n_workers=workers) as client:
        result = hotspots_from_store(store_dir, params, backend="dask", client=client, **context)
    result.metadata["scheduler"] = scheduler or f"local cluster of {workers} workers"
    return result


@app.command("hotspots")
def hotspots_command(
    out_path: Annotated[Path, _OUT],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    unit: Annotated[str, _UNIT] = settings.DEFAULT_UNIT,
    resolution: Annotated[int | None, _RES] = None,
    period: Annotated[str, _PERIOD] = settings.DEFAULT_PERIOD,
    months: Annotated[str, MONTHS] = "all",
    partial_periods: Annotated[str, _PARTIAL] = settings.DEFAULT_PARTIAL_PERIODS,
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    exclude_proactive: Annotated[bool, _PROACTIVE] = False,
    public_space: Annotated[bool, _PUBLIC] = False,
    measure: Annotated[str, _MEASURE] = settings.DEFAULT_MEASURE,
    population: Annotated[Path | None, _POPULATION] = None,
    weights: Annotated[str, _WEIGHTS] = "auto",
    distance_m: Annotated[float | None, _DISTANCE] = None,
    rank_by: Annotated[str | None, _RANK_BY] = None,
    dask: Annotated[bool, _DASK] = False,
    scheduler: Annotated[str | None, _SCHEDULER] = None,
    workers: Annotated[int, _WORKERS] = 2,
) -> None:
    """Classify every unit (Gi*, Mann-Kendall, ArcGIS pattern, Chainey category) and write one row per unit."""
    from geo_csp import hotspot_run

    if rank_by is not None and rank_by not in hotspot_run.RANK_MEASURES:
        raise ParameterError(f"--rank-by must be one of {', '.join(hotspot_run.RANK_MEASURES)}, not {rank_by!r}")
    if rank_by == "rate_per_1000" and unit == "h3":
        raise ParameterError(
            "--rank-by rate_per_1000 needs residents: H3 cells have no population; "
            "use --unit ward or lsoa, or rank by n, harm or gi_z"
        )
    result = _run_on_backend(
        store_dir,
        unit=unit,
        resolution=resolution,
        period=period,
        months=months,
        partial_periods=partial_periods,
        crime_type=crime_type,
        group=group,
        source=source,
        exclude_proactive=exclude_proactive,
        public_space=public_space,
        measure=measure,
        boundary=boundary,
        district=district,
        population=population,
        weights=weights,
        distance_m=distance_m,
        dask=dask,
        scheduler=scheduler,
        workers=workers,
    )
    units = result.units
    if rank_by is not None:
        by = cast("hotspot_run.RankMeasure", rank_by)  # one of RANK_MEASURES (checked above)
        units = hotspot_run.rank_units(units, by=by).sort_values("rank", kind="stable")
        result.metadata["rank_by"] = rank_by
    write_geo(units, out_path, result.metadata, layer="hotspot_units")
    counts = result.units["category"].astype(object).value_counts()
    console.print(f"wrote {len(result.units)} units to {out_path}; " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("areas")
def areas_command(
    out_path: Annotated[Path, _OUT],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    unit: Annotated[str, _UNIT] = settings.DEFAULT_UNIT,
    resolution: Annotated[int | None, _RES] = None,
    period: Annotated[str, _PERIOD] = settings.DEFAULT_PERIOD,
    months: Annotated[str, MONTHS] = "all",
    partial_periods: Annotated[str, _PARTIAL] = settings.DEFAULT_PARTIAL_PERIODS,
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    exclude_proactive: Annotated[bool, _PROACTIVE] = False,
    public_space: Annotated[bool, _PUBLIC] = False,
    measure: Annotated[str, _MEASURE] = settings.DEFAULT_MEASURE,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="Areas file of an earlier run: keep its ids.")
    ] = None,
    population: Annotated[Path | None, _POPULATION] = None,
    weights: Annotated[str, _WEIGHTS] = "auto",
    distance_m: Annotated[float | None, _DISTANCE] = None,
    max_area_km2: Annotated[
        float | None,
        typer.Option(
            "--max-area-km2",
            help="Largest area a beat is asked to cover, km2: a larger contiguous group is split into "
            "contiguous parts of at most this size (0: no limit; default the library's beat size, "
            "written into the output's area_params).",
        ),
    ] = None,
    min_area_km2: Annotated[
        float | None, typer.Option("--min-area-km2", help="Smallest area kept, km2 (default 0: any size).")
    ] = None,
    dask: Annotated[bool, _DASK] = False,
    scheduler: Annotated[str | None, _SCHEDULER] = None,
    workers: Annotated[int, _WORKERS] = 2,
) -> None:
    """Merge contiguous hot units into named hotspot areas and write one row per area."""
    import geopandas as gpd

    from geo_csp.areas import AreaParams

    sizes: _AreaSizes = {}
    if max_area_km2 is not None:
        if max_area_km2 < 0:
            raise ParameterError(f"--max-area-km2 must be >= 0 (0: no limit); got {max_area_km2}")
        sizes["max_area_km2"] = max_area_km2 or None
    if min_area_km2 is not None:
        sizes["min_area_km2"] = min_area_km2
    area_params = AreaParams(**sizes)

    prev = None
    if previous is not None:
        layer = "hotspot_areas" if previous.suffix.lower() == ".gpkg" else None
        prev = (
            gpd.read_parquet(previous)
            if previous.suffix.lower() == ".parquet"
            else gpd.read_file(previous, layer=layer)
        ).to_crs(settings.WORKING_CRS)
    result = _run_on_backend(
        store_dir,
        unit=unit,
        resolution=resolution,
        period=period,
        months=months,
        partial_periods=partial_periods,
        crime_type=crime_type,
        group=group,
        source=source,
        exclude_proactive=exclude_proactive,
        public_space=public_space,
        measure=measure,
        boundary=boundary,
        district=district,
        previous=prev,
        population=population,
        weights=weights,
        distance_m=distance_m,
        area_params=area_params,
        dask=dask,
        scheduler=scheduler,
        workers=workers,
    )
    areas = result.areas
    write_geo(areas, out_path, result.metadata, layer="hotspot_areas")
    table = Table(title=f"{len(areas)} hotspot areas", title_justify="left")
    for col in ("area_id", "name", "category", "n", "share_of_crime", "share_of_area", "started", "named"):
        table.add_column(col)
    for rec in areas.head(20).to_dict("records"):
        table.add_row(
            rec["area_id"],
            rec["name"],
            str(rec["category"]),
            f"{rec['n']:.0f}",
            f"{rec['share_of_crime']:.1%}",
            f"{rec['share_of_area']:.1%}",
            str(rec.get("problem_started") or "-"),
            str(rec.get("first_named") or "not yet"),
        )
    console.print(table)
    if "timeline_rule" in result.metadata:
        console.print(result.metadata["timeline_rule"])
    changes = result.metadata["area_changes"]
    if previous is not None:
        console.print(f"new areas: {changes['new'] or 'none'}; vanished: {changes['vanished'] or 'none'}")


def _split_backtest(
    inc: Any, *, split: str, common: dict[str, Any], area_share: float, study_area_source: Any
) -> tuple[dict[str, Any], str, list[tuple[Any, ...]], str | None, dict[str, Any]]:
    """The one-split back-test of ``geo-csp backtest --split``: document, title, table rows, sentence, lattice."""
    from geo_csp import backtest

    table = backtest.backtest(inc, split=split, **common)
    doc: dict[str, Any] = {
        rec["method"]: {k: rec[k] for k in ("pai", "ppai", "hit_rate", "rri", "pei", "area_share", "n_units")}
        for rec in table.to_dict("records")
    }
    doc["metadata"] = {
        **table.attrs,
        "area_share_target": area_share,
        "study_area": study_area_source,
        "counted": inc.attrs["counted"],
    }
    title = f"Back-test from {split}: {area_share:.0%} of the study area"
    rows = [
        (m, doc[m]["pai"], None, doc[m]["hit_rate"], doc[m]["pei"], doc[m]["rri"], None)
        for m in (*backtest.BASELINES, "learned", "ensemble")
        if m in doc
    ]
    sentence, lattice = None, table.attrs["lattice"]
    return doc, title, rows, sentence, lattice


def _rolling_backtest(
    inc: Any,
    *,
    splits: int,
    horizon_months: int,
    common: dict[str, Any],
    area_share: float,
    study_area_source: Any,
) -> tuple[dict[str, Any], str, list[tuple[Any, ...]], str | None, dict[str, Any], Any]:
    """The rolling back-test of ``geo-csp backtest``: document, title, table rows, sentence, lattice and result."""
    from geo_csp import backtest

    result = backtest.rolling_backtest(inc, n_splits=splits, horizon_months=horizon_months, **common)
    doc = {
        "summary": result.summary.to_dict("records"),
        "choice": result.choice(area_share=area_share),
        "evidence": result.sentence(area_share=area_share),
        "metadata": {
            **result.metadata,
            "area_share_target": area_share,
            "study_area": study_area_source,
            "counted": inc.attrs["counted"],
        },
    }
    n = result.metadata["n_splits"]
    title = (
        f"Rolling back-test, {n} split{'s' if n != 1 else ''} ({result.metadata['test_months'][0]}.."
        f"{result.metadata['test_months'][-1]}, {horizon_months} month{'s' if horizon_months != 1 else ''} "
        f"ahead): {area_share:.0%} of the study area"
    )
    rows = []
    for m in (*backtest.BASELINES, "learned", "ensemble", "default"):
        r = result.row(m, area_share=area_share)
        rows.append(
            (m, r["pai_mean"], r["pai_sd"], r["hit_rate_mean"], r["pei_mean"], r["rri_mean"], r["beats_counts"])
        )
    sentence, lattice = doc["evidence"], result.metadata["lattice"]
    return doc, title, rows, sentence, lattice, result


def _print_backtest(title: str, rows: list[tuple[Any, ...]], *, sentence: str | None, lattice: dict[str, Any]) -> None:
    """The back-test's table of selections, its note, and its evidence sentence (else the lattice note)."""
    view = Table(title=title, title_justify="left")
    for col in ("selection", "PAI", "PAI sd", "hit rate", "PEI", "RRI", "beats counts"):
        view.add_column(col)
    fmt: Callable[[Any, str], str] = lambda v, f: "" if v is None or v != v else format(v, f)  # noqa: E731 - NaN and None print blank
    for name, pai, sd, hit, pei, rri, beats in rows:
        view.add_row(
            name, fmt(pai, ".2f"), fmt(sd, ".2f"), fmt(hit, ".1%"), fmt(pei, ".2f"), fmt(rri, ".2f"), fmt(beats, ".0%")
        )
    out.print(view)
    out.print(
        "kde and ewma are their best bandwidth and half-life in hindsight (flattering them); "
        "default is the selection the product uses, chosen on earlier splits only."
    )
    if sentence:
        out.print(sentence)
    elif lattice["flag"]:
        out.print(lattice["note"])


@app.command("backtest")
def backtest_command(
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="One split instead of the rolling back-test: first month measured (YYYY-MM); "
            "earlier months select, every month from it is measured.",
        ),
    ] = None,
    splits: Annotated[
        int,
        typer.Option(
            "--splits", help="Rolling back-test: the last N months, one split each (fewer when the data hold fewer)."
        ),
    ] = 12,
    horizon_months: Annotated[
        int, typer.Option("--horizon-months", help="Months measured after each split (1; 3 for a quarter).")
    ] = 1,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    district: Annotated[str | None, _DISTRICT] = None,
    unit: Annotated[str, _UNIT] = settings.DEFAULT_UNIT,
    resolution: Annotated[int | None, _RES] = None,
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    exclude_proactive: Annotated[bool, _PROACTIVE] = False,
    area_share: Annotated[float, typer.Option("--area-share", help="Share of the study area selected.")] = 0.05,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Also sweep H3 resolutions 7-11 (rolling, same area budget), bounded: resolutions with more than "
            "150,000 cells over the study area, or cells narrower than the data's snap points are apart, are "
            "skipped and named.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")] = False,
) -> None:
    """Back-test every predictor: rolling origin over the last --splits months (default), or one --split.

    PAI = hit rate / share of the study area, the selected cells clipped to the study area; the
    default selection's figures are out of sample (chosen on earlier splits only).
    """
    params = cube_params(
        unit=unit,
        resolution=resolution,
        crime_type=crime_type,
        group=group,
        source=source,
        exclude_proactive=exclude_proactive,
    )
    ctx = _context(store_dir, boundary, district=district, unit=params.unit)
    inc = read_counted(store_dir, params)
    if not as_json:
        print_counted(inc.attrs["counted"])
    common = dict(
        unit=params.unit,
        resolution=params.resolution,
        study_area=ctx["study_area"],
        units=ctx["units"],
        crime_types=params.crime_types,
        group=params.group,
        area_shares=(area_share,),
    )
    if split is not None:
        doc, title, rows, sentence, lattice = _split_backtest(
            inc, split=split, common=common, area_share=area_share, study_area_source=ctx["study_area_source"]
        )
        result = None
    else:
        doc, title, rows, sentence, lattice, result = _rolling_backtest(
            inc,
            splits=splits,
            horizon_months=horizon_months,
            common=common,
            area_share=area_share,
            study_area_source=ctx["study_area_source"],
        )
    if sweep:
        # the command's own rolling back-test (H3, the default or given resolution) is one of the sweep's rows
        done = {int(result.metadata["resolution"]): result} if result is not None and params.unit == "h3" else {}
        doc["resolution_sweep"], doc["resolution_sweep_skipped"], doc["resolution_sweep_bound"] = _sweep(
            inc,
            ctx["study_area"],
            area_share=area_share,
            done=done,
            crime_types=params.crime_types,
            group=params.group,
            n_splits=splits,
            horizon_months=horizon_months,
        )
    doc = _jsonable(doc)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    _print_backtest(title, rows, sentence=sentence, lattice=lattice)
    if sweep:
        _print_sweep(doc["resolution_sweep"], area_share=area_share)
        out.print(doc["resolution_sweep_bound"]["rule"].capitalize() + ".")


def _sweep(
    inc: Any, study_area: Any, *, area_share: float, **options: Any
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """The bounded resolution sweep (:func:`geo_csp.backtest.resolution_sweep`) with a progress bar: its rows,
    a sentence per resolution skipped (printed) and the bound."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from geo_csp import backtest

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("resolution sweep", total=None)

        def progress(step: int, total: int, resolution: int) -> None:
            bar.update(task, completed=step, total=total, description=f"resolution sweep: H3 res {resolution}")

        result = backtest.resolution_sweep(
            inc, area_share=area_share, study_area=study_area, progress=progress, **options
        )
        bar.update(task, completed=len(result.rows), total=len(result.rows))
    notes = result.skipped["reason"].tolist()
    for note in notes:
        console.print(note)
    return result.rows.to_dict("records"), notes, result.bound


def _print_sweep(rows: list[dict[str, Any]], *, area_share: float) -> None:
    """The resolution sweep as a table: cells, the real share of the area selected, PAI and hit rate."""
    import h3

    view = Table(title=f"H3 resolution sweep: {area_share:.0%} of the study area asked for", title_justify="left")
    for col in (
        "resolution",
        "cell km2",
        "cells",
        "area really selected",
        "PAI counts",
        "PAI Gi*",
        "PAI default",
        "hit rate default",
    ):
        view.add_column(col, justify="right")
    fmt: Callable[[Any, str], str] = lambda v, f: "" if v is None or v != v else format(v, f)  # noqa: E731 - NaN and None print blank
    for r in rows:
        view.add_row(
            str(r["resolution"]),
            f"{h3.average_hexagon_area(int(r['resolution']), unit='km^2'):.3f}",
            f"{r['n_units']:,}",
            fmt(r.get("area_share_counts"), ".1%"),
            fmt(r.get("pai_counts"), ".2f"),
            fmt(r.get("pai_gi_mean"), ".2f"),
            fmt(r.get("pai_default"), ".2f"),
            fmt(r.get("hit_rate_default"), ".1%"),
        )
    out.print(view)
    out.print(
        "area really selected: whole cells are selected, so at coarse resolutions it overshoots what was "
        "asked for and the PAI is not comparable."
    )
