"""The H3 resolution sweep (``geo-csp backtest --sweep``) on a whole county force's real police.uk data.

The store is built (not timed) from the real Lancashire street file (62,950 rows, 4 months) or the
Cumbria one (18,384 rows, 5 months) in ``../shared/data/real``; Lancashire's study area is the force's
14 districts (3,066 km2), Cumbria's the data's extent. It prints:

- the bound the sweep applies (:func:`geo_csp.backtest.sweep_plan`): the resolutions run, those skipped and
  why (more than :data:`geo_csp.backtest.SWEEP_MAX_CELLS` cells, or cells narrower than the data's snap
  points are apart), and the resolution the tool chooses by itself for the force
  (:func:`geo_csp.grid.default_resolution`);
- wall and CPU seconds of the whole command (``geo-csp backtest --sweep``: the rolling back-test at the
  chosen resolution, then the sweep, which reuses that back-test for its own row), best of ``--repeat``;
- with ``--kernel``, the KDE kernel at the chosen resolution built over every pair of cells (as before) and
  over occupied columns only (:meth:`geo_csp.predict.PredictionInputs.kernel`), with the largest difference
  of the KDE scores (0: the same scores);
- with ``--unbounded``, each resolution 7-11 back-tested with no bound (minutes: resolution 11 of a county
  is over a million cells).

Run: ``python benchmarks/sweep.py [--force lancashire|cumbria] [--repeat N] [--kernel] [--unbounded]``.
Skips with a message when the shared data is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

# Real public data kept beside the repository (``../shared/data/real``), never inside it.
REAL_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
FORCES = {
    "lancashire": (
        "police-uk-street-lancashire-2018-19/lancashire_street_2018-11_to_2019-02.csv.gz",
        "lancashire-asb-2022/lancashire_districts_2022.geojson",
    ),
    "cumbria": ("police-uk-street-cumbria-2018-19/cumbria_street_2018-10_to_2019-02.csv.gz", None),
}


def _timed(fn) -> tuple[float, float, object]:
    """Wall and process CPU seconds of ``fn()`` and its result."""
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", choices=sorted(FORCES), default="lancashire")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--kernel", action="store_true", help="also time the KDE kernel, all pairs against occupied")
    parser.add_argument("--unbounded", action="store_true", help="also back-test every resolution 7-11 (slow)")
    args = parser.parse_args()
    street, districts = FORCES[args.force]
    if not (REAL_DATA_DIR / street).exists():
        print(f"skipped: real data file {street} is absent")
        return

    import geopandas as gpd
    import numpy as np
    from typer.testing import CliRunner

    from geo_csp import backtest, cube as cube_mod, grid, ingest, schema, store
    from geo_csp.cli import app
    from geo_csp.settings import WORKING_CRS

    with tempfile.TemporaryDirectory() as tmp:
        store_dir = Path(tmp) / "store"
        with contextlib.redirect_stdout(io.StringIO()):
            ingest.ingest_paths([REAL_DATA_DIR / street], store_dir=store_dir)
        inc = store.read_incidents(store_dir)
        boundary = None if districts is None else REAL_DATA_DIR / districts
        area = None if boundary is None else gpd.read_file(boundary).to_crs(WORKING_CRS)
        located = inc[schema.LOCATED].to_numpy(dtype=bool)
        x, y = inc[schema.EASTING].to_numpy()[located], inc[schema.NORTHING].to_numpy()[located]
        geom = cube_mod.data_extent(x, y)[0] if area is None else grid.as_geometry(area)
        inside = cube_mod.clip_to_study_area(inc, geom)
        spacing = backtest.snap_spacing_m(
            inc[schema.EASTING].to_numpy()[inside], inc[schema.NORTHING].to_numpy()[inside]
        )
        kept, skipped, bound = backtest.sweep_plan(geom, snap_spacing=spacing)
        chosen, reason = grid.default_resolution(geom)
        print(f"{args.force}: {int(inside.sum()):,} located incidents in {geom.area / 1e6:,.0f} km2")
        print(reason)
        print(bound["rule"] + f"; runs resolutions {kept}")
        for r in skipped["reason"]:
            print("  " + r)

        cmd = ["backtest", "--store", str(store_dir), "--sweep", "--json"]
        if boundary is not None:
            cmd += ["--boundary", str(boundary)]
        runner = CliRunner()
        best = None
        for _ in range(args.repeat):
            wall, cpu, res = _timed(lambda: runner.invoke(app, cmd))
            assert res.exit_code == 0, res.output
            best = (wall, cpu) if best is None or wall < best[0] else best
        print(f"geo-csp backtest --sweep: {best[0]:.1f} s wall, {best[1]:.1f} s CPU (best of {args.repeat})")

        if args.kernel:
            from scipy import sparse
            from scipy.spatial import cKDTree

            _, inputs, _, _ = backtest._prepare(
                inc, unit="h3", resolution=chosen, study_area=area, units=None, crime_types=None,
                group=None, sources=None, params=None, predict_params=None,
            )  # fmt: skip
            counts = inputs.n.sum(axis=1)
            for h in inputs.bandwidths_m:

                def every_pair(h: float = h) -> sparse.csr_matrix:
                    tree = cKDTree(inputs.centroids)
                    d = tree.sparse_distance_matrix(tree, inputs.params.kde_cutoff_sd * h, output_type="coo_matrix")
                    k = sparse.coo_matrix((np.exp(-0.5 * (d.data / h) ** 2), (d.row, d.col)), shape=d.shape).tocsr()
                    return (k + sparse.identity(k.shape[0], format="csr") - sparse.diags(k.diagonal())).tocsr()

                t_all, _, k_all = _timed(every_pair)
                t_occ, _, k_occ = _timed(lambda h=h: inputs.kernel(h))
                diff = float(np.abs(k_all @ counts - k_occ @ counts).max())
                print(
                    f"KDE kernel res {chosen}, bandwidth {h:.0f} m: every pair {t_all:.2f} s ({k_all.nnz:,} pairs), "
                    f"occupied columns {t_occ:.2f} s ({k_occ.nnz:,}); largest score difference {diff:g}"
                )

        if args.unbounded:
            for res in grid.H3_RESOLUTIONS:
                wall, cpu, out = _timed(
                    lambda res=res: backtest.rolling_backtest(inc, resolution=res, study_area=area, area_shares=(0.05,))
                )
                print(f"unbounded res {res}: {out.metadata['n_units']:,} cells, {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
