"""``geo-csp demo``: write the SYNTHETIC demo borough and build its store.

With ``--json`` stdout carries only a JSON document of the written paths and counts; the summary
goes to stderr.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from geo_csp import settings
from geo_csp.cli._app import app, console


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the demo into.")] = settings.DEMO_DIR,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 2023,
    build_store: Annotated[bool, typer.Option("--store/--no-store", help="Ingest into OUT/store.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print only a JSON summary on stdout.")] = False,
) -> None:
    """Write the SYNTHETIC demo borough (Bury geography, planted hotspots) and build OUT/store."""
    from geo_csp.demo import load_truth, make_demo

    start = time.perf_counter()
    paths = make_demo(out_dir, seed=seed, build_store=build_store)
    seconds = time.perf_counter() - start
    opening = None
    if paths.store_dir is not None:  # the app's opening map, saved in the store so it opens at once
        from geo_csp import runcache

        opening = runcache.precompute_opening_view(paths.store_dir)
    counts = load_truth(paths.truth)["counts"]
    summary = {
        "paths": {k: (str(v) if v is not None else None) for k, v in asdict(paths).items()},
        "counts": counts,
        "seconds": round(seconds, 2),
        "opening_view_seconds": None if opening is None else round(opening, 2),
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(
        f"[bold]{settings.SYNTHETIC_LABEL}[/bold] demo borough written to {paths.out_dir} in {seconds:.1f} s: "
        f"{counts['street_rows']:,} police.uk street rows ({counts['street_unlocated']} unlocated), "
        f"{counts['stop_search_rows']:,} stop-and-search rows, council ASB extract, layers and truth.json"
    )
    if paths.store_dir is not None:
        console.print(f"store: {paths.store_dir}  (see `geo-csp status --store {paths.store_dir}`)")
        console.print(f"the app's opening map computed and saved in the store in {opening:.1f} s")
