"""Ingest throughput on the real Lancashire police.uk file (62,950 rows).

Prints rows per second of :func:`geo_csp.ingest.ingest_paths` into a fresh store (read, validate,
project, write Parquet, commit) and its ratio to a bare ``pyarrow.csv.read_csv`` of the same bytes
(the goal is a ratio of at least 0.5). Skips with a message when the shared data is absent.

Run: ``python benchmarks/ingest.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

from geo_csp import ingest, settings

LANCASHIRE = "police-uk-street-lancashire-2018-19/lancashire_street_2018-11_to_2019-02.csv.gz"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is reported)")
    args = parser.parse_args()
    path = settings.SHARED_REAL_DATA_DIR / LANCASHIRE
    if not path.exists():
        print(f"skipped: shared real data absent ({LANCASHIRE} under SHARED_REAL_DATA_DIR)")
        return
    raw = path.read_bytes()

    def bare() -> None:  # the same bytes: gunzip + parse, pyarrow's defaults (type inference)
        pacsv.read_csv(io.BytesIO(gzip.decompress(raw)))

    rows = 0

    with tempfile.TemporaryDirectory() as tmp:
        stores = iter(Path(tmp) / f"store{i}" for i in range(args.repeat + 1))

        def full() -> None:  # a fresh store each time; deleting it afterwards is not timed
            nonlocal rows
            rows = ingest.ingest_paths([path], store_dir=next(stores)).totals["rows_read"]

        full()  # warm-up: imports, pyproj database
        bare()
        # Interleaved, so a machine busy with other work slows both sides alike.
        fulls, bares = [], []
        for _ in range(args.repeat):
            fulls.append(_timed(full))
            bares.append(_timed(bare))
    t_full, m_full = min(fulls), statistics.median(fulls)
    t_bare, m_bare = min(bares), statistics.median(bares)
    print(f"file: {LANCASHIRE} ({len(raw) / 1e6:.1f} MB gzipped, {rows:,} rows)")
    print(f"pyarrow.csv.read_csv: {t_bare * 1e3:8.1f} ms best, {m_bare * 1e3:8.1f} ms median"
          f"  ({rows / t_bare:,.0f} rows/s)")
    print(f"geo-csp ingest:       {t_full * 1e3:8.1f} ms best, {m_full * 1e3:8.1f} ms median"
          f"  ({rows / t_full:,.0f} rows/s)")
    print(f"ratio (ingest rows/s / read_csv rows/s): {t_bare / t_full:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
