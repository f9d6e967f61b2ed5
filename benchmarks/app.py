"""Time the app's first hotspot map and a rerun for the demo borough (AppTest, in-process).

Usage: ``python benchmarks/app.py [DEMO_DIR]``. Builds the SYNTHETIC demo in ``DEMO_DIR`` (default a
temporary folder) if it has no store, then prints: the first Map page render (cold caches: reading the
store, the hotspot analysis, the folium map), a rerun with the same choices (what a pan, zoom or
unrelated widget costs), and a period switch.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def main() -> None:
    from geo_csp.demo import make_demo

    demo_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="geo-csp-demo-"))
    if not (demo_dir / "store" / "manifest.json").exists():
        t = time.perf_counter()
        make_demo(demo_dir)
        print(f"demo build: {time.perf_counter() - t:.2f} s")
    os.environ["GEO_CSP_DEMO_DIR"] = str(demo_dir)
    os.environ["GEO_CSP_STORE"] = str(demo_dir / "store")
    import geo_csp.analysis  # noqa: F401 - import cost is not part of a render

    at = AppTest.from_file(APP, default_timeout=300)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception, [e.message for e in at.exception]
    units = next(m.value for m in at.metric if m.label == "Units")
    t = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - t
    t = time.perf_counter()
    at.selectbox(key="period").set_value("Last 24 months").run()
    switch = time.perf_counter() - t
    print(f"first map render (cold caches): {first:.2f} s  [{units} H3 units; goal < 3 s]")
    print(f"rerun, same choices:            {rerun:.3f} s")
    print(f"period switch (new analysis):   {switch:.2f} s")


if __name__ == "__main__":
    main()
