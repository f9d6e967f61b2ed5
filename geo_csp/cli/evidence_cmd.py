"""``geo-csp table`` and ``geo-csp evidence``: the quarterly partnership table and Safer Streets packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo_csp.cli._app import app, console, out
from geo_csp.settings import DEFAULT_STORE_DIR

StoreOpt = Annotated[Path, typer.Option("--store", help="The incident store folder.")]


@app.command()
def table(
    xlsx: Annotated[Path, typer.Option("--xlsx", help="Write the formatted table to this XLSX file.")],
    store: StoreOpt = DEFAULT_STORE_DIR,
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write a CSV.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML page.")] = None,
    area: Annotated[str | None, typer.Option("--area", help="Focus area (default the store's borough).")] = None,
    quarters: Annotated[
        int, typer.Option("--quarters", help="Number of financial quarters shown (with --period quarter).")
    ] = 5,
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="quarter (financial quarters, for scrutiny) or month (calendar months, for the board, "
            "with month-on-month and year-on-year columns).",
        ),
    ] = "quarter",
    months: Annotated[int, typer.Option("--months", help="Number of months shown (with --period month).")] = 13,
    public: Annotated[bool, typer.Option("--public", help="Apply disclosure control (10-5 rule).")] = False,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Count the police.uk crime measures from this store source instead (one holding police.uk "
            "categories, e.g. gmp_burglary_points); repeat for several.",
        ),
    ] = None,
    measures: Annotated[
        Path | None,
        typer.Option(
            "--measures",
            help="TOML file of the partnership's own measures (name, sources, crime types or a group, "
            'kind = "count" or "rate"), replacing the default ones; see the README.',
        ),
    ] = None,
    add_measures: Annotated[
        list[Path] | None,
        typer.Option("--add-measures", help="TOML file of measures added after the others; repeat for several."),
    ] = None,
) -> None:
    """Write the partnership table ("Tackling crime and ASB") of the store's borough: quarterly, or monthly."""
    from geo_csp._errors import ParameterError
    from geo_csp.table import (
        TABLE_PERIODS,
        measures_from_files,
        table_from_store,
        write_table_csv,
        write_table_html,
        write_table_xlsx,
    )

    if period not in TABLE_PERIODS:
        raise ParameterError(f"--period must be one of {', '.join(TABLE_PERIODS)}, not {period!r}")
    rows, files = measures_from_files(replace=measures, add=add_measures or ())
    t = table_from_store(
        store,
        area=area,
        public=public,
        n_quarters=quarters,
        period="month" if period == "month" else "quarter",
        n_months=months,
        sources=source or None,
        measures=rows,
        measure_files=files,
    )
    written = [write_table_xlsx(t, xlsx)]
    if csv is not None:
        written.append(write_table_csv(t, csv))
    if html is not None:
        written.append(write_table_html(t, html))
    if t.audit is not None and len(t.audit):
        audit = xlsx.with_name(xlsx.stem + "-disclosure-audit.csv")
        from geo_csp._escape import spreadsheet_safe

        spreadsheet_safe(t.audit).to_csv(audit, index=False)
        console.print(f"suppression audit (sensitive, do not publish): {audit}")
    out.print(t.display.to_string(), soft_wrap=True)
    for path in written:
        console.print(f"wrote {path}")


@app.command()
def evidence(
    area: Annotated[str, typer.Option("--area", help="Hotspot area, named place, ward, or polygon file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.html/pdf, data and manifest.")],
    store: StoreOpt = DEFAULT_STORE_DIR,
    public: Annotated[bool, typer.Option("--public", help="Disclosure control; no points or partner data.")] = False,
    points: Annotated[
        bool | None, typer.Option("--points/--no-points", help="Include incident points (never with --public).")
    ] = None,
    partner: Annotated[
        bool | None,
        typer.Option(
            "--partner/--no-partner",
            help="Include partner data; with --public, partner counts through disclosure control (never layers).",
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Store source counted and analysed (default police_uk_street), e.g. a council's ASB "
            "points in a store of partner data only; repeat for several.",
        ),
    ] = None,
) -> None:
    """Write a Safer Streets evidence pack for one area."""
    from geo_csp import schema
    from geo_csp.evidence import EvidenceParams, build_evidence, write_evidence

    params = EvidenceParams(
        area=area,
        public=public,
        include_points=points,
        include_partner=partner,
        sources=tuple(source or (schema.SOURCE_STREET,)),
    )
    pack = build_evidence(store, params)
    written = write_evidence(pack, out_dir)
    f = pack.figures
    share = f["share_of_borough_crime"]
    out.print(
        f"{f['area_name']} ({f['area_kind']}): "
        + (f"{share:.1%}" if share is not None else "a suppressed share")
        + f" of the borough's {f['concentration_of'].lower()} on {f['share_of_borough_land']:.1%} of its land; "
        f"{f['n_cells']} hotspot cells",
        soft_wrap=True,
    )
    for name, path in written.items():
        console.print(f"wrote {path}" + ("  (sensitive, do not publish)" if name == "disclosure_audit.csv" else ""))
