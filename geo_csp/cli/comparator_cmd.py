"""``geo-csp comparator``: every district's measures from a force's police.uk files, and one district's place."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geo_csp.cli._app import app, console, out
from geo_csp.geography import AREA_CODE, AREA_NAME

if TYPE_CHECKING:
    from geo_csp.comparator import ComparatorPack


def _print_pack(pack: ComparatorPack, *, quarters: int | None, region: str, public: bool) -> None:
    """The pack's summary, its tables (with several crime types, the by-type one too), where every record
    went on stdout; what was read and the quarters shown on stderr."""
    from geo_csp.comparator import crime_type_display

    acc = pack.accounting
    out.print(pack.summary, soft_wrap=True)
    out.print(pack.display.to_string(), soft_wrap=True)
    by_type = crime_type_display(pack)
    if by_type is not None:
        out.print(by_type.to_string(), soft_wrap=True)
    out.print(
        f"records: {acc['records']:,} = {acc['inside_districts']:,} inside a district + "
        f"{acc['outside_districts']:,} outside every district + {acc['incomplete_quarter']:,} in incomplete quarters"
        f" + {acc['earlier_quarter']:,} in earlier quarters + {acc['unlocated']:,} without coordinates"
        f" + {acc['other_crime_type']:,} of other crime types",
        soft_wrap=True,
    )
    console.print(f"read {pack.metadata['provenance']['records']}", soft_wrap=True)
    quarters_shown = pack.metadata["quarters"]
    console.print(
        f"quarters: {quarters_shown[0]} to {quarters_shown[-1]} ({len(quarters_shown)}"
        f"{'' if quarters is None else f' of --quarters {quarters}'}; default every complete quarter); "
        f"region {region!r}; boundaries {pack.metadata['provenance'].get('boundaries')}; public {public}",
        soft_wrap=True,
    )


@app.command("comparator")
def comparator_command(
    records: Annotated[
        list[Path] | None,
        typer.Argument(
            help="police.uk street CSVs (.csv/.csv.gz), archive folders or zips of the force; partner files of "
            "police.uk points with --mapping. Not with --store.",
        ),
    ] = None,
    boundaries: Annotated[
        Path | None,
        typer.Option("--boundaries", help="District polygons (GeoJSON/GPKG, any CRS), e.g. the force's boroughs."),
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(
            "--district", help="The focus district: a name or code of --boundaries (with --store: its borough)."
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Instead of files: a store's records, its borough among its comparator areas (configure --areas).",
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="With --store: the source counted (repeatable; default police_uk_street)."),
    ] = None,
    crime_type: Annotated[
        list[str] | None,
        typer.Option("--crime-type", help="police.uk crime type counted (repeatable: counted together); required."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for comparator.html/.xlsx/.csv/.json (and disclosure_audit.csv with --public); required.",
        ),
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option("--population", help="CSV of residents by district code (default the boundaries' population)."),
    ] = None,
    public: Annotated[bool, typer.Option("--public", help="Apply disclosure control (10-5 rule).")] = False,
    quarters: Annotated[
        int | None,
        typer.Option("--quarters", help="Number of latest complete financial quarters shown (default every one)."),
    ] = None,
    region: Annotated[
        str, typer.Option("--region", help="Name of the region the districts make up, e.g. 'Greater Manchester'.")
    ] = "the region",
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="TOML column mapping for partner files of police.uk points.")
    ] = None,
    code_col: Annotated[str, typer.Option("--code-col", help="Column of --boundaries with the district code.")] = (
        AREA_CODE
    ),
    name_col: Annotated[str, typer.Option("--name-col", help="Column of --boundaries with the district name.")] = (
        AREA_NAME
    ),
    population_code_col: Annotated[
        str, typer.Option("--population-code-col", help="Column of --population with the district code.")
    ] = AREA_CODE,
    population_col: Annotated[
        str | None,
        typer.Option(
            "--population-col",
            help="Column of --population with the residents (default 'population', else the one column "
            "whose name contains 'population').",
        ),
    ] = None,
) -> None:
    """The comparator pack: each district's count, rate per 1,000, place and year on year, latest quarter."""
    from geo_csp._errors import ParameterError
    from geo_csp.comparator import (
        ComparatorParams,
        comparator_from_store,
        comparator_pack_from_files,
        write_comparator,
    )

    if not crime_type or out_dir is None:
        raise ParameterError("give --crime-type (at least one) and --out DIR")
    if store is not None:
        if records or boundaries is not None or population is not None:
            raise ParameterError(
                "--store reads the store's records and comparator areas: give no RECORDS, --boundaries or --population with it"
            )
        pack = comparator_from_store(
            store,
            district=district,
            crime_types=tuple(crime_type),
            sources=tuple(source) if source else None,
            n_quarters=quarters,
            region=region,
            public=public,
        )
    else:
        if not records or boundaries is None or district is None:
            raise ParameterError(
                "give RECORDS (police.uk files, folders or zips), --boundaries FILE and --district NAME, or --store DIR"
            )
        params = ComparatorParams(
            district=district,
            crime_types=tuple(crime_type),
            n_quarters=quarters,
            region=region,
            code_col=code_col,
            name_col=name_col,
            population_code_col=population_code_col,
            population_col=population_col,
            public=public,
        )
        pack = comparator_pack_from_files(
            records, boundaries_path=boundaries, population_path=population, params=params, mapping=mapping
        )
    _print_pack(pack, quarters=quarters, region=region, public=public)
    for name, path in write_comparator(pack, out_dir).items():
        console.print(f"wrote {path}" + ("  (sensitive, do not publish)" if name == "disclosure_audit.csv" else ""))
