"""``geo-csp casualties``: STATS19 road casualties per ward, by severity and mode, per 1,000 residents a year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from geo_csp import settings
from geo_csp.cli._app import app, console, out


def casualty_wards(
    store_dir: Path,
    wards_path: Path | None,
    *,
    code_col: str,
    name_col: str,
    population: Path | None,
    population_code_col: str,
    population_col: str,
) -> tuple[Any, str, str]:
    """The wards counted on (a file, else the store's), with population, and where both came from."""
    from geo_csp import boundaries, geography, schema, store
    from geo_csp._errors import ParameterError

    if wards_path is not None:
        wards = boundaries.read_boundary(wards_path, code_col=code_col, name_col=name_col, kind="ward")
        ward_source = f"{wards_path.name} (columns {code_col}, {name_col})"
    else:
        wards = geography.store_geography(store_dir).wards
        if wards is None:
            raise ParameterError(
                f"the store {store_dir} has no wards; give --wards FILE (ward polygons) or configure the store's "
                "wards with geo-csp configure --wards"
            )
        ward_source = f"the store's wards ({store.store_label(store_dir)})"
    pop_source = (
        f"population column of {ward_source}"
        if schema.POPULATION in wards.columns and wards[schema.POPULATION].notna().all()
        else "none"
    )
    if population is not None:
        pop = boundaries.read_population(population, code_col=population_code_col, population_col=population_col)
        pop = pop[~pop.index.duplicated()]
        missing = sorted(set(wards[schema.WARD_CODE]) - set(pop.index.astype(str)))
        if len(missing) == len(wards):
            raise ParameterError(
                f"population file {population} has none of the {len(wards)} ward codes (e.g. {missing[0]!r}) in "
                f"its column {population_code_col!r}; give the column of ward codes with --population-code-col"
            )
        wards = wards.assign(**{schema.POPULATION: wards[schema.WARD_CODE].map(pop).to_numpy(dtype="float64")})
        pop_source = f"{population.name} (columns {population_code_col}, {population_col})" + (
            f"; {len(missing)} ward(s) without a population: {', '.join(missing[:5])}" if missing else ""
        )
    return wards, ward_source, pop_source


@app.command("casualties")
def casualties_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="STATS19 road casualty CSVs (DfT's collision files or TfGM's casualty rows); default the "
            "store's STATS19 rows."
        ),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the table here: .csv or .xlsx (metadata in FILE.json).")
    ] = None,
    store_dir: Annotated[
        Path, typer.Option("--store", help="Store folder: its wards (and STATS19 rows when no file is given).")
    ] = settings.DEFAULT_STORE_DIR,
    wards_path: Annotated[
        Path | None, typer.Option("--wards", help="Ward polygons (GeoJSON/GPKG, any CRS); default the store's wards.")
    ] = None,
    ward_code_col: Annotated[str, typer.Option("--ward-code-col", help="Ward code column of --wards.")] = "ward_code",
    ward_name_col: Annotated[str, typer.Option("--ward-name-col", help="Ward name column of --wards.")] = "ward_name",
    population: Annotated[
        Path | None,
        typer.Option("--population", help="CSV of residents by ward code (default the wards' population)."),
    ] = None,
    population_code_col: Annotated[
        str, typer.Option("--population-code-col", help="Ward code column of --population.")
    ] = "code",
    population_col: Annotated[
        str, typer.Option("--population-col", help="Residents column of --population.")
    ] = "population",
    months: Annotated[
        str,
        typer.Option(
            "--months",
            help="Months counted, as every command takes them: all (default: every month of the casualty data), "
            "last-N (its N latest months) or YYYY-MM:YYYY-MM.",
        ),
    ] = "all",
) -> None:
    """Road casualties per ward (STATS19): by severity and mode of travel, KSI, collisions, rates per 1,000 a year."""
    import pandas as pd

    import geo_csp
    from geo_csp import export, ingest, periods, roads, schema, store
    from geo_csp._errors import InputFileError

    if files:
        rows, read = ingest.read_stats19_files(files)
    else:
        rows = store.read_incidents(store_dir, sources=[schema.SOURCE_STATS19])
        if not len(rows):
            raise InputFileError(
                f"the store {store_dir} holds no STATS19 road casualties; give the STATS19 files "
                "(geo-csp casualties FILE.csv) or ingest them first"
            )
        read = [{"store": store.store_label(store_dir), "rows": len(rows)}]
    window = periods.resolve_months(months, rows[schema.MONTH].dropna().unique(), held_by="casualty data")
    first_month, last_month = window or (None, None)
    params = roads.CasualtyParams(first_month=first_month, last_month=last_month)
    wards, ward_source, pop_source = casualty_wards(
        store_dir,
        wards_path,
        code_col=ward_code_col,
        name_col=ward_name_col,
        population=population,
        population_code_col=population_code_col,
        population_col=population_col,
    )
    table = roads.ward_casualty_table(rows, wards, params=params)
    meta = table.attrs["metadata"]
    metadata = {
        "geo_csp_version": geo_csp.__version__,
        "what": "STATS19 road casualties per ward",
        **meta,
        "inputs": read,
        "wards": ward_source,
        "population": pop_source,
    }
    first, last = meta["months"]
    summary = (
        f"{meta['casualties_in_wards']:,} casualties in {len(table)} wards, {first} to {last} "
        f"({meta['n_months']} months): {int(table['killed_or_seriously_injured'].sum()):,} killed or seriously "
        f"injured, {int(table['fatal'].sum()):,} fatal, {int(table['collisions'].sum()):,} collisions; "
        f"{meta['casualties_outside_wards']:,} casualties fell outside the wards"
        + (f", {meta['casualties_outside_months']:,} outside the months" if meta["casualties_outside_months"] else "")
        + (f", {meta['casualties_unlocated']:,} had no point" if meta["casualties_unlocated"] else "")
    )
    out.print(summary, soft_wrap=True)
    shown = table.copy()
    for col in ("casualties_per_1000_a_year", "ksi_per_1000_a_year"):
        shown[col] = shown[col].round(2)
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        out.print(shown.to_string(), soft_wrap=True)
    console.print(
        f"wards: {ward_source}; population: {pop_source}; months {first} to {last} "
        f"(--from/--to; default the data's span); {meta['rules']['rate']}",
        soft_wrap=True,
    )
    if out_path is not None:
        notes = (summary + ".", *meta["rules"].values())
        for path in export.write_table(
            table, out_path, metadata, title="Road casualties per ward (STATS19)", notes=notes
        ):
            console.print(f"wrote {path}")
