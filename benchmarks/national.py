"""Benchmark: national volumes end to end, in memory and on a local Dask cluster, against the peers.

For each size (default 2M, 5M and ``--incidents``, 20M) a synthetic national police.uk archive is
generated once (:func:`geo_csp.national_demo.generate_national`: 43 forces, 36 months, ~750,000 snap
points; not timed) and the whole pipeline runs twice, each time in a fresh subprocess:

- **memory**: ``ingest_paths`` (streaming, in batches of a few MB) into a fresh store,
  ``read_incidents`` of only the columns the cube needs with repeating text as categoricals, then
  ``run_hotspots`` (cube at H3 resolution 9 by month, weights, space-time Gi* with time window 1,
  BH FDR, Mann-Kendall, ArcGIS and Chainey classes, explanations, named areas);
- **dask**: the same streaming ingest, then the same ``run_hotspots`` call given the store folder
  and ``backend="dask"``: the cube is aggregated from the store on a local ``dask.distributed``
  cluster of 2 worker processes, its start-up counted (:func:`geo_csp.cube.build_cube_dask`), so
  only the cube and a few cube-sized arrays live in the run;
- **dask-ingest** (ingest only): :func:`geo_csp.ingest.ingest_paths_dask` on the same cluster shape,
  the in-memory ingest's batches read, validated and encoded on the workers and written in order by
  the run. On 2 cores the single writer and the workers share the CPU and every part's Parquet
  bytes travel between processes, so it is measured separately and the dask run above uses the
  streaming ingest.

Both use the national study area "occupied cells and their 1-ring neighbours"
(``zero_fill="neighbours"``) and the SYNTHETIC force areas as "wards" for area names. Peak memory
is the largest **sum of the resident set sizes of the run's process tree** (the run, the Dask
scheduler and workers), sampled every 0.1 s with psutil.
The two runs' unit tables (ids, counts, Gi* z, p, Mann-Kendall, classes, area ids) must be identical.

Once (at the first size) the statistics on the same cube are timed against the peers: esda
``G_Local(star=True)`` per period plus ``pymannkendall.original_test`` per cell (sampled and
extrapolated linearly when slow; the output says so), with the helpers of ``benchmarks/hotspots.py``.
Ingest is compared with a bare ``pyarrow.csv.read_csv`` of the same bytes at every size.

Run: ``.venv/bin/python benchmarks/national.py [--incidents 20000000] [--sizes 2000000 5000000]
[--work DIR] [--keep]``. Needs about 6 GB of disk per 20M incidents (CSV archive + two stores).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESOLUTION = 9
OUT_COLUMNS = ["unit_id", "n", "gi_z", "gi_p", "mk_s", "mk_tau", "mk_p", "pattern", "category", "area_id"]


# --------------------------------------------------------------------------------------------------
# One run (child process)
# --------------------------------------------------------------------------------------------------
def run_stage(backend: str, archive: Path, store_dir: Path, out: Path) -> dict[str, Any]:
    """Ingest + hotspots with one backend; writes the unit table to ``out``; returns timings."""
    from geo_csp import cluster, cube, hotspot_run, ingest, national_demo, schema, store
    from geo_csp.ingest import ingest_paths

    times: dict[str, Any] = {}
    wards = national_demo.force_areas()
    start = time.perf_counter()
    if backend == "memory":
        report = ingest_paths([archive], store_dir=store_dir)
        times["ingest_s"] = time.perf_counter() - start
        times["rows"] = int(report.totals["rows_read"])
        t = time.perf_counter()
        # only the columns the cube needs (and the street descriptions that name areas), repeating
        # text as categoricals (one small code per row)
        columns = [*cube.CUBE_COLUMNS, schema.LOCATION]
        incidents = store.read_incidents(store_dir, columns=columns, categorical=True)
        times["read_s"] = time.perf_counter() - t
        result = hotspot_run.run_hotspots(
            incidents, cube.CubeParams(resolution=RESOLUTION, zero_fill="neighbours"), wards=wards
        )
    elif backend == "dask-ingest":
        with cluster.dask_client(n_workers=2) as client:
            times["cluster_start_s"] = time.perf_counter() - start
            report = ingest.ingest_paths_dask([archive], store_dir=store_dir, client=client)
        times["ingest_s"] = time.perf_counter() - start
        times["rows"] = int(report.totals["rows_read"])
        return times
    else:
        report = ingest_paths([archive], store_dir=store_dir)
        times["ingest_s"] = time.perf_counter() - start
        times["rows"] = int(report.totals["rows_read"])
        t = time.perf_counter()
        with cluster.dask_client(n_workers=2) as client:
            times["cluster_start_s"] = time.perf_counter() - t
            result = hotspot_run.run_hotspots(
                store_dir,
                cube.CubeParams(resolution=RESOLUTION, zero_fill="neighbours"),
                wards=wards,
                backend="dask",
                client=client,
            )
    times["hotspots_s"] = time.perf_counter() - t
    times["total_s"] = time.perf_counter() - start
    table = pd.DataFrame(result.units.drop(columns="geometry"))[OUT_COLUMNS]
    table.to_parquet(out)
    np.save(out.with_suffix(".n.npy"), result.cube.n)
    times.update(
        cells=int(len(result.units)),
        occupied=int((result.cube.n.sum(axis=1) > 0).sum()),
        periods=int(result.cube.n.shape[1]),
        areas=int(len(result.areas)),
        hot_cells=int(result.units[schema.PATTERN].astype(str).str.contains("Hot").sum()),
    )
    return times


# --------------------------------------------------------------------------------------------------
# Parent: generation, subprocess runs with RSS sampling, peers, table
# --------------------------------------------------------------------------------------------------
def run_measured(args: list[str]) -> tuple[dict[str, Any], float]:
    """Run this script as a child with ``args``; return its JSON result and peak tree RSS (MB)."""
    import psutil

    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], stdout=subprocess.PIPE, text=True)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        rss += p.memory_info().rss
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"run {args} failed with exit code {proc.returncode}")
    return json.loads(stdout.strip().splitlines()[-1]), peak


def bare_csv_read_s(archive: Path, *, repeats: int = 3) -> float:
    """Best time of ``repeats`` reads of every CSV of the archive with pyarrow's defaults, one after another.

    The files' bytes are read once first (not timed), so the bare read, like the ingest right after
    it, reads from the page cache rather than paying the disk for both. The best of three, as one
    read can be slowed by anything else on the machine; the ingest is timed once, so the ratio
    errs against the ingest.
    """
    import pyarrow.csv as pacsv

    files = sorted(archive.glob("*/*-street.csv"))
    for path in files:
        path.read_bytes()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for path in files:
            pacsv.read_csv(path)
        best = min(best, time.perf_counter() - start)
    return best


def peers(n_path: Path, out_path: Path, *, max_periods: int, max_units: int) -> dict[str, Any]:
    """Ours vs esda per period + pymannkendall per cell on the cube of one run."""
    sys.path.insert(0, str(HERE))
    from hotspots import time_ours, time_peer  # benchmarks/hotspots.py

    from geo_csp.hotspots import HotspotParams
    from geo_csp.weights import h3_weights

    values = np.load(n_path)
    cells = pd.read_parquet(out_path, columns=["unit_id"])["unit_id"].to_numpy(dtype=object)
    start = time.perf_counter()
    w = h3_weights(cells, k=1)
    weights_s = time.perf_counter() - start
    ours = time_ours(values, w, HotspotParams(time_window=1), 1)
    ours0 = time_ours(values, w, HotspotParams(time_window=0, global_window="period"), 1)
    peer, note = time_peer(values, w, max_periods=max_periods, max_units=max_units, seed=0)
    return {
        "cells": len(cells),
        "weights_s": weights_s,
        "ours_s": ours,
        "ours_tw0_s": ours0,
        "peer_s": peer,
        "note": note,
    }


def compare(a: Path, b: Path) -> str:
    """The word "identical" when the two runs' unit tables are equal, else what differs."""
    x, y = pd.read_parquet(a), pd.read_parquet(b)
    if len(x) != len(y):
        return f"DIFFERENT: {len(x)} vs {len(y)} units"
    bad = [c for c in OUT_COLUMNS if not x[c].astype(str).equals(y[c].astype(str))]
    if np.load(a.with_suffix(".n.npy")).tobytes() != np.load(b.with_suffix(".n.npy")).tobytes():
        bad.append("cube n")
    return "identical" if not bad else f"DIFFERENT in {bad}"


def _parser() -> argparse.ArgumentParser:
    """The benchmark's options (the hidden --stage, --archive, --store and --out run one backend in a child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000_000, help="the largest size")
    parser.add_argument("--sizes", type=int, nargs="*", default=[2_000_000, 5_000_000], help="smaller sizes")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "geo-csp-national", help="scratch folder"
    )
    parser.add_argument(
        "--backends", nargs="*", default=["memory", "dask", "dask-ingest"], choices=["memory", "dask", "dask-ingest"]
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the esda/pymannkendall comparison")
    parser.add_argument("--peer-max-periods", type=int, default=6)
    parser.add_argument("--peer-max-units", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    parser.add_argument("--stage", choices=["memory", "dask", "dask-ingest"], help=argparse.SUPPRESS)
    parser.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def _ensure_archive(archive: Path, n: int) -> None:
    """Generate the national archive of ``n`` incidents unless a finished one (its README) is there."""
    from geo_csp.national_demo import generate_national

    marker = archive / "README.txt"
    if not marker.exists():
        shutil.rmtree(archive, ignore_errors=True)
        t = time.perf_counter()
        summary = generate_national(archive, n_incidents=n)
        print(
            f"generated {n:,} incidents in {time.perf_counter() - t:.0f} s "
            f"({summary.bytes_written / 1e9:.2f} GB, {len(summary.files)} files)",
            flush=True,
        )


def _run_backends(
    args: argparse.Namespace, archive: Path, n: int, rows: list[dict[str, Any]], *, size_gb: float, bare_s: float
) -> dict[str, Path]:
    """Run each backend's stage on the archive in a measured child process (rows appended); the unit tables."""
    outs: dict[str, Path] = {}
    for backend in args.backends:
        store_dir = args.work / f"store-{backend}-{n}"
        shutil.rmtree(store_dir, ignore_errors=True)
        out = args.work / f"units-{backend}-{n}.parquet"
        result, peak = run_measured(
            ["--stage", backend, "--archive", str(archive), "--store", str(store_dir), "--out", str(out)]
        )
        result.update(backend=backend, incidents=n, peak_rss_mb=peak, bare_read_s=bare_s, csv_gb=size_gb)
        rows.append(result)
        if backend != "dask-ingest":
            outs[backend] = out
        print(json.dumps(result), flush=True)
        if not args.keep:
            shutil.rmtree(store_dir, ignore_errors=True)
    return outs


def _print_report(rows: list[dict[str, Any]], sizes: list[int], peer_result: dict[str, Any] | None) -> None:
    """The table of every size and backend, the dask/memory ratios and the peer comparison."""
    print()
    print(
        f"machine: {os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, {platform.platform()}, Python {platform.python_version()}"
    )
    print(
        "pipeline: ingest -> cube (H3 res 9 x month) -> space-time Gi* (k=1, time window 1) + BH FDR -> "
        "Mann-Kendall -> classes -> named areas; SYNTHETIC national data, 43 forces, 36 months"
    )
    header = (
        f"{'incidents':>11} {'backend':<11} {'CSV GB':>6} {'ingest s':>8} {'bare read s':>11} {'ingest ratio':>12} "
        f"{'hotspots s':>10} {'total s':>8} {'peak RSS GB':>11} {'cells':>9} {'occupied':>9} {'areas':>6}  outputs"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["backend"] == "dask-ingest":
            print(
                f"{r['incidents']:>11,} {r['backend']:<11} {r['csv_gb']:>6.2f} {r['ingest_s']:>8.1f} {r['bare_read_s']:>11.1f} "
                f"{r['bare_read_s'] / r['ingest_s']:>12.2f} {'-':>10} {r['ingest_s']:>8.1f} {r['peak_rss_mb'] / 1024:>11.2f}"
            )
            continue
        print(
            f"{r['incidents']:>11,} {r['backend']:<11} {r['csv_gb']:>6.2f} {r['ingest_s']:>8.1f} {r['bare_read_s']:>11.1f} "
            f"{r['bare_read_s'] / r['ingest_s']:>12.2f} {r['hotspots_s']:>10.1f} {r['total_s']:>8.1f} "
            f"{r['peak_rss_mb'] / 1024:>11.2f} {r['cells']:>9,} {r['occupied']:>9,} {r['areas']:>6}  {r.get('outputs', '-')}"
        )
    print("ingest ratio = bare pyarrow.csv.read_csv time / ingest time on the same bytes (goal >= 0.5)")
    by = {(r["incidents"], r["backend"]): r for r in rows}
    for n in sizes:
        if (n, "memory") in by and (n, "dask") in by:
            m, d = by[(n, "memory")], by[(n, "dask")]
            print(
                f"{n:>11,}: dask / memory time {d['total_s'] / m['total_s']:.2f} (hotspots part "
                f"{d['hotspots_s'] / m['hotspots_s']:.2f}), peak RSS {d['peak_rss_mb'] / m['peak_rss_mb']:.2f}"
            )
    if peer_result is not None:
        p = peer_result
        print(
            f"peers on the {p['incidents']:,}-incident cube ({p['cells']:,} cells x 36 months; weights "
            f"{p['weights_s']:.1f} s, not in the ratio): ours {p['ours_s']:.1f} s (space-time) / "
            f"{p['ours_tw0_s']:.1f} s (per period), esda G_Local per period + pymannkendall per cell "
            f"{p['peer_s']:.0f} s -> {p['peer_s'] / p['ours_s']:.0f}x ({p['note']})"
        )


def main() -> None:
    args = _parser().parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.archive, args.store, args.out)))
        return

    sizes = sorted({*args.sizes, args.incidents})
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    peer_result: dict[str, Any] | None = None
    for n in sizes:
        archive = args.work / f"archive-{n}"
        _ensure_archive(archive, n)
        size_gb = sum(p.stat().st_size for p in archive.glob("*/*.csv")) / 1e9
        bare_s = bare_csv_read_s(archive)
        outs = _run_backends(args, archive, n, rows, size_gb=size_gb, bare_s=bare_s)
        if len(outs) == 2:
            verdict = compare(outs["memory"], outs["dask"])
            for r in rows:
                if r["incidents"] == n and r["backend"] != "dask-ingest":
                    r["outputs"] = verdict
        if peer_result is None and not args.no_peers and outs:
            first = next(iter(outs.values()))
            peer_result = peers(
                first.with_suffix(".n.npy"), first, max_periods=args.peer_max_periods, max_units=args.peer_max_units
            )
            peer_result["incidents"] = n
    _print_report(rows, sizes, peer_result)


def _ram_gb() -> float:
    with contextlib.suppress(Exception):
        import psutil

        return psutil.virtual_memory().total / 1e9
    return float("nan")


if __name__ == "__main__":
    main()
