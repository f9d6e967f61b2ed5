"""Benchmark: the full hot spot pipeline against esda per period + pymannkendall per unit.

Times :func:`geo_csp.hotspots.analyse_cube` (space-time Gi* for all periods + BH FDR + Mann-Kendall +
ArcGIS and Chainey classes + explanations) on a borough-size cube and a large cube of synthetic counts
on real H3 resolution-9 cells around central Manchester, and the peer loop on the same cube: esda
``G_Local(star=True, transform="B")`` once per period plus ``pymannkendall.original_test`` once per unit.
Weight construction is timed separately and excluded from both sides. When the peer loop would be
slow it is timed on a sample of periods / units and extrapolated linearly (the output says so).

Run: ``.venv/bin/python benchmarks/hotspots.py [--borough-cells 2000] [--large-cells 50000]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import h3
import libpysal
import numpy as np
import pymannkendall
from esda import G_Local

from geo_csp.hotspots import HotspotParams, analyse_cube
from geo_csp.weights import h3_weights

MANCHESTER = h3.latlng_to_cell(53.4808, -2.2426, 9)


def cells_around(centre: str, n_cells: int) -> list[str]:
    """The ``n_cells`` H3 cells nearest ``centre`` (ring by ring)."""
    out: list[str] = [centre]
    k = 1
    while len(out) < n_cells:
        out.extend(sorted(h3.grid_ring(centre, k)))
        k += 1
    return out[:n_cells]


def synthetic_counts(cells: list[str], n_periods: int, seed: int) -> np.ndarray:
    """Poisson counts with a smooth background, a few persistent and one emerging cluster."""
    rng = np.random.default_rng(seed)
    latlng = np.array([h3.cell_to_latlng(c) for c in cells])
    centres = latlng[rng.choice(len(cells), size=8, replace=False)]
    d2 = ((latlng[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    clusters = np.exp(-d2 / (2 * 0.004**2))
    base = 0.3 + 3 * clusters[:, :6].sum(axis=1)
    t = np.linspace(0, 1, n_periods)
    rate = base[:, None] + 4 * clusters[:, 6:7] * t[None, :] ** 2
    return rng.poisson(rate).astype(np.float64)


def time_ours(values: np.ndarray, w, params: HotspotParams, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        analyse_cube(values, w, params=params, period_name="month")
        best = min(best, time.perf_counter() - start)
    return best


def time_peer(values: np.ndarray, w, *, max_periods: int, max_units: int, seed: int) -> tuple[float, str]:
    """esda per period + pymannkendall per unit; sampled and extrapolated when the cube is large."""
    n_units, n_periods = values.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw = libpysal.weights.WSP(w).to_W(silence_warnings=True)
    periods = np.arange(min(n_periods, max_periods))
    z = np.empty((n_units, len(periods)))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, t in enumerate(periods):
            z[:, j] = G_Local(values[:, t], lw, transform="B", star=True, permutations=0).Zs
    esda_s = (time.perf_counter() - start) * n_periods / len(periods)
    rng = np.random.default_rng(seed)
    units = np.sort(rng.choice(n_units, size=min(n_units, max_units), replace=False))
    series = np.tile(z, int(np.ceil(n_periods / z.shape[1])))[:, :n_periods]  # a z series of full length
    start = time.perf_counter()
    for i in units:
        pymannkendall.original_test(series[i])
    mk_s = (time.perf_counter() - start) * n_units / len(units)
    notes = []
    if len(periods) < n_periods:
        notes.append(f"esda timed on {len(periods)} of {n_periods} periods x{n_periods / len(periods):.1f}")
    if len(units) < n_units:
        notes.append(f"pymannkendall timed on {len(units):,} of {n_units:,} units x{n_units / len(units):.1f}")
    return esda_s + mk_s, "; ".join(notes) or "full run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borough-cells", type=int, default=2000)
    parser.add_argument("--large-cells", type=int, default=50_000)
    parser.add_argument("--periods", type=int, default=36)
    parser.add_argument("--time-window", type=int, default=1)
    parser.add_argument("--peer-max-periods", type=int, default=36, help="periods of esda timed before extrapolating")
    parser.add_argument(
        "--peer-max-units", type=int, default=5000, help="units of pymannkendall timed before extrapolating"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    params = HotspotParams(time_window=args.time_window)
    rows = []
    for label, n_cells in (("borough", args.borough_cells), ("large", args.large_cells)):
        cells = cells_around(MANCHESTER, n_cells)
        start = time.perf_counter()
        w = h3_weights(cells, k=params.k)
        weights_s = time.perf_counter() - start
        values = synthetic_counts(cells, args.periods, args.seed)
        ours = time_ours(values, w, params, args.repeats)
        # the per-period esda reference is the time_window=0 statistic; time ours on that too
        ours_spatial = time_ours(values, w, HotspotParams(time_window=0, global_window="period"), args.repeats)
        peer, note = time_peer(
            values, w, max_periods=args.peer_max_periods, max_units=args.peer_max_units, seed=args.seed
        )
        n_sig = int((analyse_cube(values, w, params=params).hot_cold != 0).sum())
        rows.append((label, n_cells, args.periods, weights_s, ours, ours_spatial, peer, note, n_sig))

    print(
        f"geo-csp hot spot pipeline (Gi* all periods + BH FDR + Mann-Kendall + classes + explanations), best of {args.repeats}"
    )
    print("H3 res-9 cells around central Manchester, synthetic Poisson counts; weights built once (not in the ratio)")
    header = f"{'cube':<8} {'units':>7} {'periods':>7} {'weights s':>9} {'ours s (tw=1)':>13} {'ours s (tw=0)':>13} {'peer s':>9} {'ratio':>7}  peer timing"
    print(header)
    print("-" * len(header))
    for label, n, t, ws, ours, ours0, peer, note, _ in rows:
        print(
            f"{label:<8} {n:>7,} {t:>7} {ws:>9.3f} {ours:>13.3f} {ours0:>13.3f} {peer:>9.2f} {peer / ours:>6.0f}x  {note}"
        )
    print("ratio = peer (esda G_Local per period + pymannkendall per unit) / ours (space-time, time_window=1)")
    for label, n, t, *_rest, n_sig in rows:
        print(f"{label}: {n_sig:,} of {n * t:,} bins significant at FDR 5%")


if __name__ == "__main__":
    main()
