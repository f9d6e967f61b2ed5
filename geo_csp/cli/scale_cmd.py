"""``geo-csp national-demo`` and ``geo-csp cube``: national volumes and the Dask backend.

``national-demo`` writes a SYNTHETIC national police.uk archive (43 forces, any number of
incidents) for benchmarks and trials; ingest it with ``geo-csp ingest``. ``cube`` builds the
H3 unit x period cube from a store, in memory or on Dask (a local cluster, or a running
``dask.distributed`` scheduler given by ``--dask ADDRESS``), and writes it in long form
(``unit_id, period, n, harm``) as Parquet with its parameters beside it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from geo_csp import settings
from geo_csp._errors import ParameterError
from geo_csp.cli._app import app, console, out
from geo_csp.cli._common import BOUNDARY_HELP, DISTRICT_HELP, GROUP_HELP, study_area_option, cube_params


@app.command("national-demo")
def national_demo_command(
    incidents: Annotated[int, typer.Option("--incidents", help="Total incidents (rows) to write.")] = 2_000_000,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the archive (YYYY-MM/YYYY-MM-<force>-street.csv).")
    ] = (settings.DATA_DIR / "national"),
    months: Annotated[int, typer.Option("--months", help="Consecutive months.")] = 36,
    start: Annotated[str, typer.Option("--start", help="First month, YYYY-MM.")] = "2021-01",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 20240601,
    as_json: Annotated[bool, typer.Option("--json", help="Print only a JSON summary on stdout.")] = False,
) -> None:
    """Write a SYNTHETIC national police.uk street archive (43 forces) for benchmarks."""
    from geo_csp.national_demo import generate_national

    t0 = time.perf_counter()
    summary = generate_national(out_dir, n_incidents=incidents, start_month=start, n_months=months, seed=seed)
    seconds = time.perf_counter() - t0
    result = {
        "out": str(summary.out_dir),
        "files": len(summary.files),
        "rows": summary.rows,
        "located_rows": summary.located_rows,
        "snap_points": summary.snap_points,
        "months": list(summary.months),
        "forces": list(summary.forces),
        "bytes": summary.bytes_written,
        "seconds": round(seconds, 2),
    }
    if as_json:
        out.print_json(json.dumps(result))
        return
    console.print(
        f"[bold]{settings.SYNTHETIC_LABEL}[/bold] national archive: {summary.rows:,} incidents, "
        f"{len(summary.files):,} files ({summary.bytes_written / 1e9:.2f} GB) in {summary.out_dir} in {seconds:.0f} s; "
        f"ingest it with `geo-csp ingest {summary.out_dir} --store DIR`"
    )


@app.command("cube")
def cube_command(
    store_dir: Annotated[Path, typer.Option("--store", help="The incident store.")] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, typer.Option("--boundary", help=BOUNDARY_HELP)] = None,
    district: Annotated[str | None, typer.Option("--district", help=DISTRICT_HELP)] = None,
    out_file: Annotated[Path, typer.Option("--out", help="Parquet file for the long-form cube.")] = Path(
        "cube.parquet"
    ),
    resolution: Annotated[int, typer.Option("--resolution", help="H3 resolution (7-11).")] = 9,
    period: Annotated[str, typer.Option("--period", help="month, quarter or year.")] = "month",
    crime_type: Annotated[
        list[str] | None, typer.Option("--crime-type", help="Keep only this category (repeatable).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help=GROUP_HELP + " Flag groups need --backend memory.")
    ] = None,
    force: Annotated[list[str] | None, typer.Option("--force", help="Keep only this force (repeatable).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="memory or dask.")] = "dask",
    dask_address: Annotated[
        str | None,
        typer.Option("--dask", help="Address of a running dask scheduler (tcp://host:8786); default a local cluster."),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Workers of the local cluster.")] = 2,
    zero_fill: Annotated[
        str,
        typer.Option(
            "--zero-fill",
            help="study_area (every cell of the data's extent) or neighbours (occupied cells and their ring).",
        ),
    ] = "study_area",
    as_json: Annotated[bool, typer.Option("--json", help="Print only a JSON summary on stdout.")] = False,
) -> None:
    """Build the H3 unit x period cube of a store, in memory or on Dask, and write it as Parquet."""
    from geo_csp import cluster, cube, geography, store

    if backend not in ("memory", "dask"):
        raise ParameterError(f"--backend must be memory or dask, not {backend!r}")
    if backend == "memory" and (dask_address is not None or zero_fill != "study_area"):
        raise ParameterError("--dask and --zero-fill neighbours need --backend dask")
    t0 = time.perf_counter()
    study_area, study_source = study_area_option(store_dir, boundary, district) or geography.store_study_area(store_dir)
    params = cube_params(resolution=resolution, period=period, crime_type=crime_type, group=group, zero_fill=zero_fill)
    if backend == "memory":
        incidents = store.read_incidents(store_dir, forces=force or None)
        result = cube.build_cube(incidents, params, study_area=study_area)
    else:
        with cluster.dask_client(dask_address, n_workers=workers) as client:
            result = cube.build_cube_dask(store_dir, params, study_area=study_area, forces=force or None, client=client)
    frame = result.to_frame()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out_file, index=False)
    meta = {**result.params, "cube_params": params.to_dict(), "study_area": study_source}
    Path(f"{out_file}.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - t0
    summary = {
        "out": str(out_file),
        "units": int(result.n.shape[0]),
        "periods": int(result.n.shape[1]),
        "incidents": int(result.n.sum()),
        "backend": backend,
        "seconds": round(seconds, 2),
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    console.print(
        f"cube: {summary['units']:,} H3 res-{resolution} cells x {summary['periods']} {period}s, "
        f"{summary['incidents']:,} incidents ({backend}) in {seconds:.1f} s -> {out_file}"
    )
