"""Time the app's first hotspot map, a rerun and a period switch for the demo borough (AppTest).

Usage::

    python benchmarks/app.py [DEMO_DIR] [--repeat N] [--compare CHECKOUT]

Builds the SYNTHETIC demo in ``DEMO_DIR`` (default a temporary folder) if it has no store. Each
repeat runs in a fresh Python process (cold Streamlit caches, modules not yet imported except the
analysis, whose import is not part of a render) and times: Streamlit's own start (a one-line page,
which a running server has already paid), the first Map page render (importing the app and folium,
reading the store, the hotspot analysis, the folium map, the component), a rerun with the same choices (what a
pan, zoom or unrelated widget costs) and a switch to the last 24 months (a new analysis).

``--compare CHECKOUT`` also runs the app of another checkout of the repository (e.g. made with
``git worktree add /tmp/before <commit>``), interleaved with this one so machine load hits both
alike, and prints the medians before and after side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("start", "first", "rerun", "switch")
LABELS = {
    "start": "Streamlit start (a one-line page)",
    "first": "first map render (cold caches)",
    "rerun": "rerun, same choices",
    "switch": "period switch (new analysis)",
}
GOAL_FIRST_S = 3.0


def _one(demo_dir: Path, root: Path) -> dict[str, float]:
    """Time the three phases in this process, on the app of checkout ``root``."""
    os.environ["GEO_CSP_DEMO_DIR"] = str(demo_dir)
    os.environ["GEO_CSP_STORE"] = str(demo_dir / "store")
    import geo_csp.analysis  # noqa: F401 - import cost is not part of a render
    from streamlit.testing.v1 import AppTest

    t = time.perf_counter()  # the test harness's own start-up, which a running server has paid already
    AppTest.from_string("import streamlit as st\nst.write('ready')").run()
    start = time.perf_counter() - t
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception, [e.message for e in at.exception]
    units = next(m.value for m in at.metric if m.label == "Hexagons mapped")
    t = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - t
    t = time.perf_counter()
    at.selectbox(key="period").set_value("Last 24 months").run()
    switch = time.perf_counter() - t
    assert not at.exception, [e.message for e in at.exception]
    return {"start": start, "first": first, "rerun": rerun, "switch": switch, "units": units}


def _spawn(demo_dir: Path, root: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(demo_dir), "--one", str(root)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demo_dir", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per checkout (median reported)")
    parser.add_argument("--compare", type=Path, help="another checkout of the repository to time alongside")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child process: time one checkout once
    args = parser.parse_args()
    demo_dir = args.demo_dir or Path(tempfile.mkdtemp(prefix="geo-csp-demo-"))
    if args.one is not None:
        print(json.dumps(_one(demo_dir, args.one)))
        return
    if not (demo_dir / "store" / "manifest.json").exists():
        from geo_csp.demo import make_demo

        t = time.perf_counter()
        make_demo(demo_dir)
        print(f"demo build: {time.perf_counter() - t:.2f} s")
    roots = {"after": ROOT} if args.compare is None else {"before": args.compare.resolve(), "after": ROOT}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
    for _ in range(args.repeat):
        for name, root in roots.items():
            runs[name].append(_spawn(demo_dir, root))
    medians = {name: {p: statistics.median(r[p] for r in rs) for p in PHASES} for name, rs in runs.items()}
    units = runs["after"][0]["units"]
    print(f"demo borough, {units} H3 units; median of {args.repeat} fresh processes per checkout")
    header = "".join(f"{name:>10}" for name in roots)
    print(f"{'':34}{header}")
    for p in PHASES:
        cells = "".join(f"{medians[name][p]:>9.3f}s" for name in roots)
        goal = f"   goal < {GOAL_FIRST_S:.0f} s" if p == "first" else ""
        print(f"{LABELS[p] + ':':34}{cells}{goal}")


if __name__ == "__main__":
    main()
