"""The Map page (the app's first screen) does not import what only other pages use.

osmnx (the demo's street network, walk routes) and matplotlib (printable maps, evidence packs) each
take about a second to import; the Map page's first run must not wait for them. Nor, once the view's
run and map are saved in the store, for scipy.stats, scipy.optimize, scipy.sparse.csgraph and
scikit-learn (the analysis). Checked in fresh Python processes, where nothing is imported yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from geo_csp.demo import DemoPaths

ROOT = Path(__file__).resolve().parent.parent
#: Modules only some pages need, by what needs them.
LATER = ("osmnx", "matplotlib", "networkx", "weasyprint")
#: Modules only the hotspot analysis needs: a saved run is read without them.
ANALYSIS = ("scipy.stats", "scipy.optimize", "scipy.sparse.csgraph", "sklearn")

_SCRIPT = """
import json, sys
later = {later!r}
import geo_csp.app.cache, geo_csp.app.widgets, geo_csp.app.folium_view
on_import = sorted(m for m in later if m in sys.modules)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=180)
at.run()
assert not at.exception, [e.message for e in at.exception]
assert at.title[0].value == "Hotspot map"
print(json.dumps({{"on_import": on_import, "after_map": sorted(m for m in later if m in sys.modules)}}))
"""


def test_map_page_imports_neither_osmnx_nor_matplotlib(demo_borough: DemoPaths) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GEO_CSP_DEMO_DIR": str(demo_borough.out_dir),
        "GEO_CSP_STORE": str(demo_borough.out_dir / "store"),
        "GEO_CSP_OFFLINE": "1",
    }
    script = _SCRIPT.format(later=(*LATER, *ANALYSIS), app=str(ROOT / "app.py"))

    def imported() -> dict[str, list[str]]:
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = imported()  # the view may be new to the store: the analysis runs
    assert first["on_import"] == []
    assert not set(first["after_map"]) & set(LATER)
    assert imported() == {"on_import": [], "after_map": []}  # a restart: the run and the map are read


def test_the_server_watches_no_source_files() -> None:
    """After every rerun Streamlit's source watcher walks every loaded module (geopandas, sklearn, ...) to
    see what to watch; a meeting's app is not edited while it runs, so the server is set not to watch."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["runOnSave"] is False
    assert config["server"]["address"] == "localhost" and config["browser"]["gatherUsageStats"] is False
