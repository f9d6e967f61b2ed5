"""The running app on a store that is not Bury, in a real headless browser (Debian's chromium, Playwright).

The store is made as a new user would make it, through the command line, from real public data: the
Lancashire ASB points (2022) ingested through a column mapping, configured with Ribble Valley's outline,
the force-wide 2022 ward file and the mid-2020 ward population (``geo-csp configure``). ``streamlit run
app.py`` serves it on a free localhost port (offline: no tiles), and every page listed in the sidebar is
opened from the sidebar, as a user does: no console error, no uncaught page error and no exception shown
on any of them, the map drawn with Ribble Valley's cells and none of Bury's names (nor the SYNTHETIC
label). Skips when the real data, chromium or Playwright is absent; never needs the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _browser import nav, need_chromium, new_page, wait_idle
from _serve import streamlit_app
from geo_csp.cli import app
from test_browser import MAP_FRAME, RENDER_TIMEOUT_MS
from test_browser import browser as chromium  # noqa: F401 - its `browser` fixture, here on this `server`
from test_real_other_forces import MAPPING, _district

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RUNNER = CliRunner()
BURY_NAMES = ("Bury Town Centre", "Moorside", "Radcliffe", "Ramsbottom", "Prestwich", "Whitefield")


def _cli(*args: object) -> None:
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.output, result.exception)


@pytest.fixture(scope="module")
def server(real_file, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the app serving a Ribble Valley store of real Lancashire ASB data; stopped afterwards."""
    need_chromium()
    points = real_file("lancashire-asb-2022", "lancashire_asb_2022_points.csv.gz")
    wards = real_file("lancashire-asb-2022", "lancashire_wards_2022.gpkg")
    population = real_file("lancashire-asb-2022", "lancashire_ward_population_mid2020.csv")
    real_file("lancashire-asb-2022", "lancashire_districts_2022.geojson")
    root = tmp_path_factory.mktemp("ribble_valley")
    (root / "asb.toml").write_text(MAPPING, encoding="utf-8")
    store_dir = root / "store"
    _cli("ingest", points, "--mapping", root / "asb.toml", "--store", store_dir)
    outline = _district(root, "Ribble Valley")
    _cli(
        "configure", "--store", store_dir, "--borough", "Ribble Valley", "--boundary", outline,
        "--wards", wards, "--population", population,
    )  # fmt: skip
    (root / "demo").mkdir()  # no demo borough: the app serves the configured store only
    with streamlit_app(store_dir=store_dir, demo_dir=root / "demo", log_path=root / "streamlit.log") as url:
        yield url


def test_every_page_of_a_non_bury_store_opens_without_an_error(
    chromium: object,  # noqa: F811 - the fixture imported above
    server: str,
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    page = new_page(chromium, timeout_ms=RENDER_TIMEOUT_MS)
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(server)
    page.wait_for_selector('[data-testid="stSidebar"]')
    wait_idle(page, timeout_ms=RENDER_TIMEOUT_MS)

    # the map: Leaflet really drew Ribble Valley's cells in the streamlit-folium iframe
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("path.geo-csp-unit").first.wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
    assert frame.locator("path.geo-csp-unit").count() > 100
    body = page.inner_text("body") + frame.locator("body").inner_text()
    assert "Hexagons mapped" in body and "lancashire_asb" in body and "SYNTHETIC" not in body
    assert not any(name in body for name in BURY_NAMES), body

    links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    titles = [t.strip().splitlines()[-1] for t in links]  # each link's text after its icon's name
    assert len(titles) >= 10 and "Map" in titles  # every page the app lists
    shown: dict[str, list[str]] = {}
    for title in titles[1:]:  # the map is open already
        nav(page, title, timeout_ms=RENDER_TIMEOUT_MS)  # its own heading drawn, its run finished
        page.screenshot(path=str(tmp_path / f"{title.lower().replace(' ', '_')}.png"), full_page=True)
        shown[title] = page.locator('[data-testid="stException"]').all_inner_texts()
    page.context.close()
    assert {t: e for t, e in shown.items() if e} == {}, shown
    assert errors == [], errors
