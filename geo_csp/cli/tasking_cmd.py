"""``geo-csp tasking``: the one-page tasking sheet for the last period (HTML, PDF and XLSX)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from geo_csp import settings
from geo_csp.cli._app import app, console, out
from geo_csp.cli._common import MONTHS


@app.command("tasking")
def tasking_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for tasking.html, tasking.pdf and tasking.xlsx.")],
    store_dir: Annotated[Path, typer.Option("--store", help="Store folder.")] = settings.DEFAULT_STORE_DIR,
    period: Annotated[
        str, typer.Option("--period", help="month (police.uk) or, for timed partner sources, week, fortnight or 28day.")
    ] = "month",
    months: Annotated[str, MONTHS] = "all",
    group: Annotated[str | None, typer.Option("--group", help="Crime group (default all crime and ASB).")] = None,
    crime_type: Annotated[list[str] | None, typer.Option("--crime-type", help="Category (repeatable).")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Source (repeatable; default police.uk street crime).")
    ] = None,
    unit: Annotated[str, typer.Option("--unit", help="h3, ward or lsoa.")] = "h3",
    layers_dir: Annotated[
        Path | None,
        typer.Option(
            "--layers-dir",
            help="Folder of partner layers (cctv, walkabouts, operations, hubs) for the coverage gaps; "
            "default the store's configured layers folder.",
        ),
    ] = None,
) -> None:
    """What changed in the last period: entered, remained and left hot spots, escalation, repeat locations,
    coverage gaps, stops."""
    from geo_csp import backtest, coverage, schema, store, tasking
    from geo_csp.cli._common import cube_params, hotspots_from_store, read_counted, study_context
    from geo_csp.cli._common import partner_layers_dir, read_partner_layers, study_borough

    params = cube_params(
        unit=unit, period=period, crime_type=crime_type, group=group, source=source, months=months, store_dir=store_dir
    )
    result = hotspots_from_store(store_dir, params)
    ctx = study_context(store_dir, None)
    # the default priority score ranks the stops and the gaps, as `geo-csp coverage` and the app do
    result = backtest.add_priority(result, study_area=ctx["study_area"], cache_dir=Path(store_dir) / "cache")
    counted = (
        params if source else dataclasses.replace(params, sources=tuple(result.metadata.get("sources") or ()) or None)
    )
    incidents = read_counted(store_dir, counted)
    if params.months is not None:  # repeat locations of the months analysed, as the app's Tasking page counts them
        incidents = incidents[incidents[schema.MONTH].between(*params.months)]
    gaps = None
    folder = partner_layers_dir(store_dir, layers_dir)
    if folder is not None and len(result.areas):
        lay = read_partner_layers(
            store_dir, layers_dir, {}, study_borough(ctx, incidents), radius_m=50.0, places=ctx["named_places"]
        )
        covered = coverage.coverage(
            result.areas, views=lay.views, walkabouts=lay.walkabouts, operations=lay.operations, hubs=lay.hubs
        )
        column = schema.PREDICTED_N if schema.PREDICTED_N in result.areas.columns else schema.N
        gaps = coverage.gap_list(covered, measure=column, borough_total=float(result.units[column].sum()))
    sheet = tasking.tasking_sheet(result, incidents, gaps=gaps, synthetic=store.read_config(store_dir).synthetic)
    written = tasking.write_tasking(sheet, out_dir)
    for name, table in sheet.comparisons.items():
        counts = table["status"].value_counts()
        out.print(
            f"{name}: {counts.get('entered', 0)} entered, {counts.get('remained', 0)} remained, "
            f"{counts.get('left', 0)} left (Jaccard {sheet.jaccard[name]:.2f}); "
            f"{int(table['escalating'].sum())} escalating",
            soft_wrap=True,
        )
    out.print(sheet.gaps_summary(), soft_wrap=True)
    for path in written.values():
        console.print(f"wrote {path}")
