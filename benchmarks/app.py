"""Time the app's first hotspot map, a rerun and a period switch for the demo borough (AppTest).

Usage::

    python benchmarks/app.py [DEMO_DIR] [--repeat N] [--compare CHECKOUT]

Builds the SYNTHETIC demo in ``DEMO_DIR`` (default a temporary folder) if it has no store.

What is timed
-------------
"Map" times run from the moment the app's script starts (``app.py`` begins to execute, as a
running Streamlit server starts it for a browser) to the moment the map element (the
streamlit-folium component) is sent to the browser; "page" times run to the end of the script (the
tables and buttons below the map as well). Each is also given as the CPU time the process spent to
the map (all threads), which the load of a shared machine changes less. The test harness's own start-up (which a running server
has already paid) is timed apart, and not counted in either.

The store is as ``geo-csp demo`` leaves it: the run of the app's opening view saved in it
(:func:`geo_csp.runcache.precompute_opening_view`), and no other run. Each repeat runs in a fresh
Python process with only Streamlit imported, and times in turn:

``fresh process``
    the first Map page of a server that has just started: every module of the app is imported during
    this run, and the in-memory caches are empty (what the first user after ``geo-csp demo`` waits for);
    the opening view's run is read from the store, the map drawn (and saved).
``fresh process, shown before``
    the same in another fresh process: the opening view's run and its drawn map are read from the
    store (what the first user after a restart of the app waits for).
``warm process``
    a new session after the in-memory caches were cleared (``st.cache_data`` / ``st.cache_resource``):
    the modules are imported; the store's geography and layers are read again, the run and the map
    read from the store.
``rerun``
    the same session run again with the same choices (what a pan, zoom or unrelated widget costs).
``period switch``
    the last 24 months instead of 12 (a new hotspot analysis, then saved in the store).
``no saved run``
    a new session after the in-memory caches were cleared and the store's saved runs and maps removed:
    the opening view's hotspot analysis runs and the map is drawn again (what a view never shown before
    costs in a running app, or any view after a store change).

``--compare CHECKOUT`` also runs the app of another checkout of the repository (e.g. made with
``git worktree add /tmp/before <commit>``), interleaved with this one so machine load hits both
alike, and prints the medians before and after side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = (
    "start",
    "fresh_map",
    "fresh_cpu",
    "fresh_page",
    "saved_fresh_map",
    "saved_fresh_cpu",
    "warm_map",
    "warm_cpu",
    "warm_page",
    "rerun_map",
    "rerun_cpu",
    "rerun_page",
    "switch_map",
    "switch_cpu",
    "unsaved_map",
    "unsaved_cpu",
)
LABELS = {
    "start": "harness start (not counted)",
    "fresh_map": "first map, fresh process",
    "fresh_cpu": "  CPU time to the map",
    "fresh_page": "  whole page, fresh process",
    "saved_fresh_map": "first map, fresh process, shown before",
    "saved_fresh_cpu": "  CPU time to the map",
    "warm_map": "first map, warm process",
    "warm_cpu": "  CPU time to the map",
    "warm_page": "  whole page, warm process",
    "rerun_map": "rerun, same choices: map",
    "rerun_cpu": "  CPU time to the map",
    "rerun_page": "  whole page, rerun",
    "switch_map": "period switch (new analysis): map",
    "switch_cpu": "  CPU time to the map",
    "unsaved_map": "first map, warm process, no saved run",
    "unsaved_cpu": "  CPU time to the map",
}
GOAL_S = {"warm_map": 1.0, "rerun_map": 1.0, "saved_fresh_map": 1.0}


class _Clock:
    """When the app's script started and when the map element was sent, from Streamlit's own hooks."""

    def __init__(self) -> None:
        from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        self.script_start = self.map_sent = self.cpu_start = self.cpu_map = float("nan")
        new_module, enqueue = LocalScriptRunner._new_module, ForwardMsgQueue.enqueue
        clock = self

        def _new_module(runner, name):  # type: ignore[no-untyped-def]  # the script's module, made just before it runs
            clock.script_start, clock.cpu_start = time.perf_counter(), time.process_time()
            return new_module(runner, name)

        def _enqueue(queue, msg):  # type: ignore[no-untyped-def]
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "component_instance" and (
                    "st_folium" in element.component_instance.component_name
                ):
                    clock.map_sent, clock.cpu_map = time.perf_counter(), time.process_time()
            return enqueue(queue, msg)

        LocalScriptRunner._new_module = _new_module  # type: ignore[method-assign]
        ForwardMsgQueue.enqueue = _enqueue  # type: ignore[method-assign]

    def run(self, run) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
        """Run ``run()``; the seconds from script start to the map sent and to the script's end, and the
        CPU seconds of this process from script start to the map sent."""
        self.script_start = self.map_sent = self.cpu_start = self.cpu_map = float("nan")
        run()
        end = time.perf_counter()
        return self.map_sent - self.script_start, end - self.script_start, self.cpu_map - self.cpu_start


def _one(demo_dir: Path, root: Path, *, only_fresh: bool = False) -> dict[str, float]:
    """Time the phases in this process, on the app of checkout ``root`` (``only_fresh``: the first only)."""
    os.environ["GEO_CSP_DEMO_DIR"] = str(demo_dir)
    os.environ["GEO_CSP_STORE"] = str(demo_dir / "store")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    clock = _Clock()
    t = time.perf_counter()  # the test harness's own start-up, which a running server has paid already
    AppTest.from_string("import streamlit as st\nst.write('ready')").run()
    start = time.perf_counter() - t
    out: dict[str, float] = {"start": start}

    def check(at: AppTest) -> None:
        assert not at.exception, [e.message for e in at.exception]

    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    out["fresh_map"], out["fresh_page"], out["fresh_cpu"] = clock.run(at.run)
    check(at)
    units = next(m.value for m in at.metric if m.label == "Hexagons mapped")
    modules = sorted(m for m in ("osmnx", "matplotlib", "networkx", "sklearn") if m in sys.modules)
    if only_fresh:
        return {**out, "units": units, "modules": modules}  # type: ignore[dict-item]
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    out["warm_map"], out["warm_page"], out["warm_cpu"] = clock.run(at.run)
    check(at)
    out["rerun_map"], out["rerun_page"], out["rerun_cpu"] = clock.run(at.run)
    out["switch_map"], _, out["switch_cpu"] = clock.run(at.selectbox(key="period").set_value("Last 24 months").run)
    check(at)
    st.cache_data.clear()
    st.cache_resource.clear()
    for saved in ("runs", "maps"):  # nothing saved: the analysis runs and the map is drawn
        shutil.rmtree(demo_dir / "store" / "cache" / saved, ignore_errors=True)
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    out["unsaved_map"], _, out["unsaved_cpu"] = clock.run(at.run)
    check(at)
    return {**out, "units": units, "modules": modules}  # type: ignore[dict-item]


def _spawn(demo_dir: Path, root: Path, *, only_fresh: bool = False) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(demo_dir), "--one", str(root)]
        + (["--only-fresh"] if only_fresh else []),
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
    parser.add_argument("--only-fresh", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    demo_dir = args.demo_dir or Path(tempfile.mkdtemp(prefix="geo-csp-demo-"))
    if args.one is not None:
        print(json.dumps(_one(demo_dir, args.one, only_fresh=args.only_fresh)))
        return
    if not (demo_dir / "store" / "manifest.json").exists():
        from geo_csp.demo import make_demo

        t = time.perf_counter()
        make_demo(demo_dir)
        print(f"demo build: {time.perf_counter() - t:.2f} s")
    store_dir = demo_dir / "store"

    def as_demo_leaves_it(root: Path) -> None:
        """The store as `geo-csp demo` of checkout ``root`` leaves it: nothing saved but, where that checkout
        saves runs, the run of its opening view."""
        for saved in ("runs", "maps"):
            shutil.rmtree(store_dir / "cache" / saved, ignore_errors=True)
        if (root / "geo_csp" / "runcache.py").is_file():
            code = "import sys; from geo_csp import runcache; runcache.precompute_opening_view(sys.argv[1])"
            env = {**os.environ, "PYTHONPATH": str(root)}
            subprocess.run([sys.executable, "-c", code, str(store_dir)], env=env, cwd=root, check=True)

    roots = {"after": ROOT} if args.compare is None else {"before": args.compare.resolve(), "after": ROOT}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
    for _ in range(args.repeat):
        for name, root in roots.items():
            as_demo_leaves_it(root)
            runs[name].append(_spawn(demo_dir, root))
            # then a restart: the opening view's run and map as the app saved them
            runs[name][-1].update(
                {f"saved_{k}": v for k, v in _spawn(demo_dir, root, only_fresh=True).items() if k.startswith("fresh")}
            )
    medians = {name: {p: statistics.median(r[p] for r in rs) for p in PHASES} for name, rs in runs.items()}
    units = runs["after"][0]["units"]
    print(f"demo borough, {units} H3 units; median of {args.repeat} fresh processes per checkout")
    print("times from the app's script start to the map sent (map) or to the script's end (page)")
    header = "".join(f"{name:>10}" for name in roots)
    print(f"{'':42}{header}")
    for p in PHASES:
        cells = "".join(f"{medians[name][p]:>9.3f}s" for name in roots)
        goal = f"   goal < {GOAL_S[p]:.0f} s" if p in GOAL_S else ""
        print(f"{LABELS[p] + ':':42}{cells}{goal}")
    for name in roots:
        print(
            f"{name}: imported by the first map: {', '.join(runs[name][0]['modules']) or 'none of'}"  # type: ignore[arg-type]
            " (of osmnx, matplotlib, networkx, sklearn)"
        )


if __name__ == "__main__":
    main()
