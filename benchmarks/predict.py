"""Benchmark: which predictor finds next month's crime, on the shared real data and the demo borough.

For each data set a rolling-origin back-test (:func:`geo_csp.backtest.rolling_backtest`: the last 12
months, or as many as the data allow after 2 months of history, one month ahead) scores every
predictor of :mod:`geo_csp.predict` at 5% of the study area, and prints per method the mean PAI and
hit rate with their spread (standard deviation over the splits) and how often it beat counts alone.

``default`` is the selection the product uses, chosen at each split on the earlier splits only (out
of sample). ``kde`` and ``ewma`` are their best bandwidth and half-life *in hindsight* (chosen on the
test months), which flatters them. ``ensemble`` (the default's usual choice) averages the ranks of
every EWMA half-life and the learned model: members fixed in the code, not chosen on any split (they
were set once, with these figures in view, when a flat-window ``counts`` member was found to pull the
ensemble below the EWMA on the demo). The last lines compare the default with the best single baseline
and time the demo's 12-split back-test (the product's target: under 15 s).

Data: police.uk street files of Lancashire (2018-11..2019-02) and Cumbria (2018-10..2019-02), GMP
burglary (36 months, all of Greater Manchester and the Bury clip), Lancashire ASB 2022 (12 months),
read from the shared real-data folder beside the repository (``../shared/data/real``, or ``--data DIR``;
missing files are skipped), and the SYNTHETIC demo borough, built in a temporary folder.

Run: ``python benchmarks/predict.py [--share 0.05] [--splits 12] [--only demo,lancashire_asb] [--data DIR]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
from pyproj import Transformer

from geo_csp import backtest, boundaries, predict, schema, store
from geo_csp.demo import make_demo

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
#: The real public data kept beside the repository, never inside it.
REAL_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

#: name -> (folder, file, column names month/crime type/lon/lat, Bury borough as study area)
DATASETS = {
    "lancashire_street": (
        "police-uk-street-lancashire-2018-19",
        "lancashire_street_2018-11_to_2019-02.csv.gz",
        ("Month", "Crime type", "Longitude", "Latitude"),
        False,
    ),
    "cumbria_street": (
        "police-uk-street-cumbria-2018-19",
        "cumbria_street_2018-10_to_2019-02.csv.gz",
        ("Month", "Crime type", "Longitude", "Latitude"),
        False,
    ),
    "gmp_burglary": (
        "gmp-burglary-2016-2019",
        "gmp_burglary_points_2016-02_to_2019-01.csv.gz",
        ("Month", "Crime.type", "Longitude", "Latitude"),
        False,
    ),
    "bury_burglary": (
        "gmp-burglary-2016-2019",
        "bury_burglary_points_2016-02_to_2019-01.csv.gz",
        ("Month", "Crime type", "Longitude", "Latitude"),
        True,
    ),
    "lancashire_asb": (
        "lancashire-asb-2022",
        "lancashire_asb_2022_points.csv.gz",
        ("month", "crime_type", "longitude", "latitude"),
        False,
    ),
}
SHOWN = (*predict.BASELINES, "learned", "ensemble", "default")


def read_points(path: Path, columns: tuple[str, str, str, str]) -> pd.DataFrame:
    """A police.uk-style points CSV as incidents with the store's columns the back-test reads."""
    month, kind, lon, lat = columns
    raw = pd.read_csv(path, usecols=list(columns))
    located = raw[lon].notna() & raw[lat].notna()
    raw = raw[located]
    x, y = _TO_BNG.transform(raw[lon].to_numpy(dtype="float64"), raw[lat].to_numpy(dtype="float64"))
    return pd.DataFrame(
        {
            schema.MONTH: raw[month].to_numpy(dtype=object),
            schema.CRIME_TYPE: raw[kind].to_numpy(dtype=object),
            schema.EASTING: x,
            schema.NORTHING: y,
            schema.LOCATED: True,
        }
    )


def demo_incidents() -> pd.DataFrame:
    """The demo borough's police.uk street crime (SYNTHETIC), built in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_demo(Path(tmp) / "demo")
        return store.read_incidents(paths.store_dir, sources=[schema.SOURCE_STREET], located_only=True)


def report(name: str, result: backtest.RollingBacktest, share: float, seconds: float) -> dict[str, float]:
    meta = result.metadata
    print(
        f"\n## {name}: {meta['n_units']:,} units (H3 res {meta['resolution']}), {len(meta['test_months'])} splits "
        f"{meta['test_months'][0]}..{meta['test_months'][-1]}, {seconds:.1f} s"
    )
    print("| method | PAI mean | PAI sd | hit rate mean | hit rate sd | beats counts |")
    print("| --- | --- | --- | --- | --- | --- |")
    out = {}
    for m in SHOWN:
        r = result.row(m, area_share=share)
        out[m] = float(r["pai_mean"])
        print(
            f"| {m} | {r['pai_mean']:.2f} | {r['pai_sd']:.2f} | {r['hit_rate_mean']:.1%} | {r['hit_rate_sd']:.1%} | "
            f"{r['beats_counts']:.0%} |"
        )
    print(
        f"kde best bandwidth {meta['kde_best']}, ewma best half-life {meta['ewma_best']} (both in hindsight); "
        f"default choices {sorted(set(meta['default_choices'][f'{share:g}'].values()))}"
    )
    if meta["lattice"]["flag"]:
        print(meta["lattice"]["note"])
    best = max(predict.BASELINES, key=lambda m: out[m])
    fixed = max(("counts", "last_period", "persistence", "gi_mean"), key=lambda m: out[m])
    verdict = "at least" if out["default"] >= out[best] - 1e-12 else "BELOW"
    print(
        f"default {out['default']:.3f} is {verdict} the best single baseline ({best} {out[best]:.3f}; "
        f"{out['default'] - out[best]:+.3f}); against the best baseline without a hindsight choice ({fixed} "
        f"{out[fixed]:.3f}): {out['default'] - out[fixed]:+.3f}"
    )
    print(result.sentence(area_share=share))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, default=0.05, help="area share of the selection")
    parser.add_argument("--splits", type=int, default=12, help="rolling splits (the last N months)")
    parser.add_argument("--data", type=Path, default=REAL_DATA_DIR, help="folder of the shared real data")
    parser.add_argument(
        "--only", default="", help="comma-separated data set names (demo and " + ", ".join(DATASETS) + ")"
    )
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    results = {}
    if not only or "demo" in only:
        inc = demo_incidents()
        borough = boundaries.load_borough()
        backtest.rolling_backtest(inc, study_area=borough, n_splits=1, area_shares=(args.share,))  # imports, warm-up
        start = time.perf_counter()
        result = backtest.rolling_backtest(inc, study_area=borough, n_splits=args.splits, area_shares=(args.share,))
        seconds = time.perf_counter() - start
        results["demo"] = report("demo (SYNTHETIC)", result, args.share, seconds)
        print(f"demo {args.splits}-split rolling back-test: {seconds:.1f} s (target under 15 s)")
    for name, (folder, file, columns, bury) in DATASETS.items():
        if only and name not in only:
            continue
        path = args.data / folder / file
        if not path.exists():
            print(f"\n## {name}: {path.name} is absent; skipped")
            continue
        inc = read_points(path, columns)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # points geocoded far from the force are reported in the metadata
            result = backtest.rolling_backtest(
                inc,
                study_area=boundaries.load_borough() if bury else None,
                n_splits=args.splits,
                area_shares=(args.share,),
            )
        results[name] = report(name, result, args.share, time.perf_counter() - start)
    if results:
        print(f"\n## mean PAI at {args.share:.0%} of the area")
        table = pd.DataFrame(results).T[list(SHOWN)]
        print(table.round(2).to_string())
        best = table[list(predict.BASELINES)].max(axis=1)
        print(
            "default minus best single baseline: "
            + ", ".join(f"{k} {v:+.3f}" for k, v in (table["default"] - best).items())
        )
        print(
            f"default at least the best baseline on {int((table['default'] >= best - 1e-12).sum())} of {len(table)}; "
            f"ahead on {int((table['default'] > best + 1e-12).sum())}"
        )


if __name__ == "__main__":
    main()
