"""``geo-csp ingest`` and ``geo-csp status``: load files into the incident store and summarise it.

With ``--json`` stdout carries only the JSON document (the contract for scripts); the rich table,
notes and progress bar go to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from geo_csp import settings
from geo_csp.cli._app import app, console

# geo_csp.ingest, geo_csp.store (pandas, pyproj, pyarrow) and rich's widgets are imported inside the
# commands, so that `geo-csp --help` and every other command start without them.

_STORE_OPT = typer.Option("--store", help="Store folder.", show_default=True)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files (.csv, .csv.gz, .xlsx), archive folders or .zip.")],
    store_dir: Annotated[Path, _STORE_OPT] = settings.DEFAULT_STORE_DIR,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML column mapping for partner extracts.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON report on stdout.")] = False,
) -> None:
    """Ingest police.uk and partner files into the store (all-or-nothing, idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from geo_csp import ingest

    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json or not console.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(path).name)

        report = ingest.ingest_paths(paths, store_dir=store_dir, mapping=mapping, progress=progress)
    data = report.to_dict()
    if as_json:
        typer.echo(json.dumps({"files": data["files"], "totals": data["totals"]}, indent=2))
        return
    table = Table(title=f"Ingest into {store_dir}", title_justify="left")
    for name, justify in (
        ("file", "left"),
        ("rows read", "right"),
        ("accepted", "right"),
        ("unlocated", "right"),
        ("quarantined", "right"),
        ("reasons", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for f in data["files"] + [{"path": "TOTAL", "status": "", **data["totals"]}]:
        reasons = ", ".join(f"{k} {v}" for k, v in f["reasons"].items())
        status = f.get("status", "")
        base = Path(f["path"]).name if f["path"] != "TOTAL" else "TOTAL"  # the full path is in the JSON report
        name = base if status in ("ingested", "") else f"{base} ({status})"
        table.add_row(
            name, f"{f['rows_read']:,}", f"{f['accepted']:,}", f"{f['unlocated']:,}", f"{f['quarantined']:,}", reasons
        )
    console.print(table)
    for f in data["files"]:
        for s in f["superseded"]:
            console.print(
                f"replaced {s['source']}/{s['force']}/{s['month']} of file {s['file_id']}"
                f" ({s['rows']:,} rows) with {f['path']}"
            )
    for note in data["notes"]:
        console.print(f"note: {note}")
    console.print(f"report: {data['report']}")


@app.command("status")
def status_command(
    store_dir: Annotated[Path, _STORE_OPT] = settings.DEFAULT_STORE_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Summarise the store: rows, quarantined, sources, forces and months."""
    from rich.table import Table

    from geo_csp import store

    status = store.store_status(store_dir)
    if as_json:
        typer.echo(json.dumps(status, indent=2))
        return
    table = Table(title=f"Store {store_dir}", show_header=False, title_justify="left")
    table.add_column("item")
    table.add_column("value")
    months = status["months"]
    span = f"{months[0]} .. {months[-1]} ({len(months)} months)" if months else "none"
    for item, value in (
        ("rows", f"{status['rows']:,}"),
        ("unlocated", f"{status['unlocated']:,}"),
        ("quarantined", f"{status['quarantined']:,}"),
        ("sources", ", ".join(f"{k} ({v:,})" for k, v in status["rows_by_source"].items()) or "none"),
        ("forces", ", ".join(status["forces"]) or "none"),
        ("months", span),
        ("input files", f"{status['files']} active, {status['superseded_files']} superseded"),
    ):
        table.add_row(item, value)
    console.print(table)
