"""The running app in a real headless browser (Debian's chromium driven by Playwright).

Starts ``streamlit run app.py`` on a free localhost port against a demo borough built in a temporary
folder, checks that the Leaflet map really rendered inside the streamlit-folium iframe (a blank map
box, e.g. from a CDN that cannot be reached, fails), that switching the period changes the hotspots,
that every page opens, and drives the weekly meeting as a chair would (one browser session): the
offline map with its names, a ward and a range of months, a click on a hotspot for its story, the
map for the minutes, a walkabout through every named area on its map, its GPX and printable sheet,
and the meeting sheet, with no console error and no page error on the way.

Screenshots go to the folder named by ``GEO_CSP_SHOTS_DIR`` (a new temporary folder when unset; never
in the repository), with ``timings.json`` (seconds per step of the meeting). Skips when chromium or
Playwright is absent; never needs the internet.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import pytest

from _browser import RERUN_RACES, chromium, nav, need_chromium, new_page, wait_idle
from _serve import streamlit_app
from geo_csp.demo import DemoPaths

pytestmark = [pytest.mark.browser, pytest.mark.slow]
T = TypeVar("T")

#: The folder the screenshots go to (for a person to look at); a new temporary folder when unset.
SHOTS_ENV = "GEO_CSP_SHOTS_DIR"
RENDER_TIMEOUT_MS = 90_000
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
PAGES = {
    "map": "",
    "trends": "trends",
    "gaps": "gaps",
    "walkabout": "walkabout",
    "review": "review",
    "evidence": "evidence",
    "data": "data",
}


@functools.lru_cache(maxsize=1)
def shots_dir() -> Path:
    """Where this run's screenshots go: ``$GEO_CSP_SHOTS_DIR``, else a new temporary folder."""
    given = os.environ.get(SHOTS_ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="geo-csp-screenshots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_borough: DemoPaths) -> Iterator[str]:
    """URL of a running app on a demo borough built in a temporary folder; stopped afterwards."""
    need_chromium()
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    with streamlit_app(
        store_dir=demo_borough.out_dir / "store", demo_dir=demo_borough.out_dir, log_path=log_path
    ) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    with chromium() as b:
        yield b


def _open(browser: object, url: str):  # noqa: ANN202 - playwright Page
    page = new_page(browser, timeout_ms=RENDER_TIMEOUT_MS, downloads=True)
    page.goto(url)
    page.wait_for_selector('[data-testid="stSidebar"]')
    return page


def _wait_idle(page: object) -> None:
    wait_idle(page, timeout_ms=RENDER_TIMEOUT_MS)


def _map_frame(page: object) -> object:
    """The map's iframe once it is the only one: while a rerun replaces the map, Streamlit briefly keeps
    the stale iframe beside the new one."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            f"() => document.querySelectorAll('{MAP_FRAME}').length === 1", timeout=RENDER_TIMEOUT_MS
        )
    except PlaywrightTimeout:
        page.screenshot(path=str(shots_dir() / "map_frame_timeout.png"), full_page=True)
        frames = page.locator(MAP_FRAME).count()
        errors = page.locator('[data-testid="stException"]').all_inner_texts()
        pytest.fail(
            f"the map iframe count stayed {frames}, not 1, for {RENDER_TIMEOUT_MS / 1000:.0f} s; "
            f"app exceptions: {errors or 'none'}; page text: {page.inner_text('body')[:1500]!r}"
        )
    return page.frame_locator(MAP_FRAME)


def _map_state(page: object) -> dict[str, object]:
    frame = _map_frame(page)
    frame.locator("path.geo-csp-unit").first.wait_for(state="attached")
    return {
        "units": frame.locator("path.geo-csp-unit").count(),
        "fills": sorted(frame.locator("path.geo-csp-unit").evaluate_all("els => els.map(e => e.getAttribute('fill'))")),
        "areas": frame.locator("path.geo-csp-area").count(),
        "interactive": frame.locator(".leaflet-interactive").count(),
        "layers": [t.strip() for t in frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()],
        "tiles": frame.locator(".leaflet-tile").count(),
        "synthetic": " ".join(frame.locator(".geo-csp-synthetic").all_inner_texts()),
        "scale": [t.strip() for t in frame.locator(".leaflet-control-scale-line").all_inner_texts()],
        "legend": " ".join(frame.locator(".geo-csp-legend").all_inner_texts()),
        "operations": frame.locator("path.geo-csp-layer-operations").count(),
        "hubs": frame.locator("path.geo-csp-layer-hubs").count(),
    }


def _across_reruns(page: object, read: Callable[[], T]) -> T:
    """``read()``, again if a Streamlit rerun swapped the map's iframe while it ran: the old iframe was
    detached, or the stale one stood beside the new one ("strict mode violation"). Bounded by
    RENDER_TIMEOUT_MS; any other error is raised."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while True:
        try:
            return read()
        except PlaywrightError as exc:
            if not any(m in str(exc) for m in RERUN_RACES) or time.monotonic() > deadline:
                raise
            page.wait_for_timeout(250)


def _settled_map(page: object, *, unlike: list[str] | None = None) -> dict[str, object]:
    """The map once it is fully drawn: as many unit polygons as the Units metric (and, given ``unlike``,
    fills that differ from those). Polls, bounded by RENDER_TIMEOUT_MS: after a rerun the iframe is
    redrawn, and a count taken mid-redraw would be short."""
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while True:
        state = _across_reruns(page, lambda: _map_state(page))
        drawn = state["units"] == _metric(page, "Hexagons mapped") and state["areas"] == _metric(
            page, "Named hotspot areas"
        )
        if (drawn and (unlike is None or state["fills"] != unlike)) or time.monotonic() > deadline:
            return state
        page.wait_for_timeout(250)


def _metric(page: object, label: str) -> int:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return int(re.sub(r"[^0-9]", "", box.locator('[data-testid="stMetricValue"]').inner_text()))


def _choose(page: object, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]', has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    _wait_idle(page)


def test_map_renders_hotspots_and_layers_and_period_changes_them(browser: object, server: str) -> None:
    page = _open(browser, server)
    _wait_idle(page)
    before = _settled_map(page)
    page.screenshot(path=str(shots_dir() / "page_map.png"), full_page=True)
    # every unit of the analysis is drawn as one Leaflet polygon, and every named area as an outline
    assert before["units"] == _metric(page, "Hexagons mapped") > 50
    assert before["areas"] == _metric(page, "Named hotspot areas") >= 1
    assert before["interactive"] >= before["units"] + before["areas"]
    assert "Named hotspot areas" in before["layers"]
    assert any(name.startswith("Hotspots") for name in before["layers"])
    assert {
        "CCTV camera views",
        "Recorded walkabouts",
        "Operations",
        "Community hubs",
        "Place, ward and street names",
    } <= set(before["layers"])
    assert before["tiles"] == 0  # offline default: no basemap
    assert "SYNTHETIC" in before["synthetic"]
    assert len(before["scale"]) == 1 and re.fullmatch(r"\d+ k?m", before["scale"][0])  # metric only
    # the demo's days of action cover the whole borough: listed in the legend, not drawn over the hotspots
    assert "Borough-wide, not drawn" in before["legend"]
    assert 1 <= before["operations"] < 10
    assert before["hubs"] >= 1

    mapped = _metric(page, "Incidents mapped")
    _choose(page, "Period", "Last 24 months")
    after = _settled_map(page, unlike=before["fills"])
    assert _metric(page, "Incidents mapped") > mapped
    page.screenshot(path=str(shots_dir() / "page_map_24_months.png"), full_page=True)
    assert after["units"] == _metric(page, "Hexagons mapped")
    assert after["fills"] != before["fills"]  # the classes moved with the period
    page.context.close()


@pytest.mark.parametrize("name", ["trends", "gaps", "review", "evidence", "data"])
def test_other_pages_render(browser: object, server: str, name: str) -> None:
    page = _open(browser, f"{server}/{PAGES[name]}")
    _wait_idle(page)
    page.screenshot(path=str(shots_dir() / f"page_{name}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").count() >= 1
    page.context.close()


#: The two URLs Streamlit's frontend probes under a page's path when a page is opened by its address
#: (``/walkabout/_stcore/health``), which the server answers 404 (Streamlit issue #7074): the only
#: console errors forgiven, and only under a page path, never at the root.
STREAMLIT_PAGE_PROBES = ("/_stcore/health", "/_stcore/host-config")


def _forgiven(message: object) -> bool:
    url = urlparse(str(message.location.get("url", "")))
    return (
        "status of 404" in message.text
        and url.path.endswith(STREAMLIT_PAGE_PROBES)
        and url.path not in STREAMLIT_PAGE_PROBES
    )


def _watch(page: object, errors: list[str]) -> None:
    """Every console error (but :data:`STREAMLIT_PAGE_PROBES`' 404s) and every page error, into ``errors``."""

    def console(message: object) -> None:
        if message.type == "error" and not _forgiven(message):
            errors.append(f"console: {message.text} at {message.location.get('url', '')}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))


def test_console_filter_forgives_only_streamlits_page_probes() -> None:
    class Message:  # what playwright's ConsoleMessage offers the filter
        def __init__(self, text: str, url: str) -> None:
            self.text, self.location, self.type = text, {"url": url}, "error"

    not_found = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert _forgiven(Message(not_found, "http://127.0.0.1:8501/walkabout/_stcore/health"))
    assert _forgiven(Message(not_found, "http://127.0.0.1:8501/walkabout/_stcore/host-config"))
    assert not _forgiven(Message(not_found, "http://127.0.0.1:8501/_stcore/health"))  # the root must answer
    assert not _forgiven(Message(not_found, "http://127.0.0.1:8501/walkabout/static/app.js"))
    assert not _forgiven(Message("net::ERR_NAME_NOT_RESOLVED", "https://fonts.example/walkabout/_stcore/health"))
    assert not _forgiven(Message("TypeError: x is undefined", "http://127.0.0.1:8501/walkabout/_stcore/health"))


def _download(page: object, name: str, target: Path) -> bytes:
    with page.expect_download(timeout=RENDER_TIMEOUT_MS) as info:
        page.get_by_role("button", name=name).click()
    info.value.save_as(str(target))
    return target.read_bytes()


def _until(page: object, read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """``read()`` once ``done`` holds for it (polled, bounded by RENDER_TIMEOUT_MS), then the app idle."""
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while not done(value := _across_reruns(page, read)) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    _wait_idle(page)
    return value


def _keys(page: object, label: str, key: str, times: int) -> None:
    """Press ``key`` on the slider thumb labelled ``label`` (Streamlit's hidden input[type=range]). Each press
    sends the slider's value (a rerun outside a form); the caller waits for what the last one changes."""
    thumb = page.locator(f'input[type="range"][aria-label^="{label}"]').first
    thumb.focus()
    for _ in range(times):
        page.keyboard.press(key)
        page.wait_for_timeout(60)
    thumb.blur()


def _caption_text(page: object) -> str:
    return " ".join(page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())


#: Where the route's line lies and where the map looks, from inside the map's iframe.
ROUTE_IN_VIEW_JS = """() => {
    const lines = [...document.querySelectorAll('path.geo-csp-layer-walkabout')]
        .map(el => window.map._targets[L.Util.stamp(el)]).filter(l => l && l.getBounds);
    if (!lines.length) { return null; }
    const route = lines.reduce((b, l) => b.extend(l.getBounds()), L.latLngBounds(lines[0].getBounds()));
    const view = window.map.getBounds(), top = window.map.getContainer().getBoundingClientRect().top;
    const notes = [...document.querySelectorAll('.geo-csp-synthetic, .geo-csp-offline')]
        .map(el => el.getBoundingClientRect().bottom - top);
    return {inView: view.contains(route), routeDeg: route.getNorth() - route.getSouth(),
            viewDeg: view.getNorth() - view.getSouth(),
            routeTopPx: window.map.latLngToContainerPoint(route.getNorthWest()).y,
            notesBottomPx: Math.max(0, ...notes)};
}"""


def test_meeting_as_a_chair_runs_it(browser: object, server: str, tmp_path: Path) -> None:
    """The weekly meeting in one browser session, driven as a user: the offline map with its names, a ward
    and a range of months, a click on a hotspot for its story, the map for the minutes, a walkabout through
    every named area seen on its map, its GPX and printable sheet, and the meeting sheet's route; no console
    error (but Streamlit's own page probes) and no page error or app exception on the way."""
    shots = shots_dir()
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(step: str) -> None:
        assert page.locator('[data-testid="stException"]').count() == 0, f"an app exception at {step}"
        nonlocal clock
        now = time.monotonic()
        timings[step] = round(now - clock, 2)
        clock = now

    errors: list[str] = []
    page = new_page(browser, timeout_ms=RENDER_TIMEOUT_MS, downloads=True)
    context = page.context
    _watch(page, errors)
    response = page.goto(server)
    assert response is not None and response.status == 200  # the root itself answered
    page.wait_for_selector('[data-testid="stSidebar"]')
    _wait_idle(page)
    state = _settled_map(page)
    lap("first map")
    # no tiles offline: the labelled fallback, with places, wards and streets named from the store
    assert state["tiles"] == 0 and "Place, ward and street names" in state["layers"]
    assert "offline map" in _caption_text(page)
    names = _across_reruns(page, lambda: _map_frame(page).locator(".geo-csp-name").count())
    assert names > 0
    page.screenshot(path=str(shots / "1_map.png"))

    # a ward: the incidents mapped fall to that ward's
    whole = _metric(page, "Incidents mapped")
    page.locator('[data-testid="stMultiSelect"]', has_text="Wards or neighbourhood areas").first.click()
    page.get_by_role("option", name="Moorside", exact=True).first.click()
    page.keyboard.press("Escape")
    in_ward = _until(page, lambda: _metric(page, "Incidents mapped"), lambda v: v != whole)
    assert 0 < in_ward < whole
    assert "ward: Moorside" in _until(page, lambda: _caption_text(page), lambda t: "ward: Moorside" in t)
    lap("ward filter")

    # a range of months: Apr to Sep 2025, moved with the keyboard on the slider's two thumbs
    _choose(page, "Period", "Choose months…")
    page.locator('input[type="range"][aria-label^="From and to month"]').first.wait_for(state="attached")
    # both thumbs before one wait: the reruns asked for while a run is busy are merged into one by the app
    _keys(page, "From and to month — start", "ArrowRight", 3)  # Jan 2025 -> Apr 2025
    _keys(page, "From and to month — end", "ArrowLeft", 3)  # Dec 2025 -> Sep 2025
    words = "Apr 2025 to Sep 2025 (6 months)"
    assert words in _until(page, lambda: _caption_text(page), lambda t: words in t)
    in_range = _until(page, lambda: _metric(page, "Incidents mapped"), lambda v: v != in_ward)
    assert 0 < in_range < in_ward
    _settled_map(page)
    page.screenshot(path=str(shots / "2_map_ward_and_months.png"))
    lap("month range")

    # a click on the hotspot named on the map (its name is written inside it): its story opens
    areas = page.locator('[data-testid="stSelectbox"]', has_text="Hotspot area").first
    assert areas.locator("input").input_value().startswith("(none")
    frame = _map_frame(page)
    label = frame.locator(".geo-csp-label", has_text="Moorside").first
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    story = page.locator(".st-key-hotspot_story")
    story.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    _wait_idle(page)
    chosen = areas.locator("input").input_value()  # the areas of this ward and range, numbered afresh
    assert re.fullmatch(r"HS-\d{4}: Moorside", chosen), chosen
    assert page.get_by_role("heading", name=f"Moorside ({chosen.split(':')[0]})").count() == 1
    text = story.inner_text()
    assert "incidents in" in text and "Trend over the months" in text
    story.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "3_hotspot_story.png"))
    lap("click to story")

    # the map for the minutes
    page.get_by_role("button", name="Prepare the map for download").click()
    page.get_by_role("button", name="Download the map (PNG)").wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    png = _download(page, "Download the map (PNG)", tmp_path / "map.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    pdf = _download(page, "Download the map (PDF)", tmp_path / "map.pdf")
    assert pdf[:5] == b"%PDF-"
    lap("map downloads")

    # back to the whole borough and the last 12 months, then a walkabout through every named area
    page.locator('[data-testid="stMultiSelect"]', has_text="Wards or neighbourhood areas").first.get_by_role(
        "button", name="Clear all"
    ).click()
    _wait_idle(page)
    _choose(page, "Period", "Last 12 months")
    assert _until(page, lambda: _metric(page, "Incidents mapped"), lambda v: v == whole) == whole
    named = _metric(page, "Named hotspot areas")
    assert named == 4  # the demo's four named areas
    # the planner's own heading replaced the map's and its run finished: its form is drawn, or never will be
    assert nav(page, "Walkabout planner", timeout_ms=RENDER_TIMEOUT_MS) == "Walkabout planner"
    stops = page.locator('[data-testid="stMultiSelect"]', has_text="Stops").first
    assert stops.is_visible(), page.inner_text("body")[:1500]
    tags = _until(page, lambda: stops.locator("[data-tag]").count(), lambda n: n >= named)
    assert tags == named  # pre-filled with every area
    # the default two hours reaches only some of them: the chair gives the walk six hours
    _keys(page, "Time budget (minutes)", "End", 1)  # in the planner's form: sent with the button
    page.get_by_role("button", name="Plan walkabout").click()
    _wait_idle(page)
    reached = page.locator('[data-testid="stMetric"]', has_text="Hotspot areas reached").first
    value = _until(page, lambda: reached.locator('[data-testid="stMetricValue"]').inner_text(), bool)
    assert value.strip() == f"{named} of {named}"
    assert "of 360 min" in page.locator('[data-testid="stMetric"]', has_text="Total").first.inner_text()
    numbered = _across_reruns(
        page,
        lambda: (
            _map_frame(page).locator(".geo-csp-stop").first.wait_for(state="attached"),
            _map_frame(page).locator(".geo-csp-stop").all_inner_texts(),
        )[1],
    )
    assert "Start / finish" in numbered and {"1", str(named)} <= {t.strip() for t in numbered}
    view = _across_reruns(page, lambda: _map_frame(page).locator("body").evaluate(ROUTE_IN_VIEW_JS))
    assert view is not None, "no walkabout route drawn on the map"
    assert view["inView"] and view["routeDeg"] > 0.3 * view["viewDeg"]  # the map opens on the route, fitted
    assert view["routeTopPx"] > view["notesBottomPx"] > 0, view  # and no part of it under the map's notes
    assert "unreachable" not in page.inner_text("body")
    page.locator('[data-testid="stMetric"]', has_text="Hotspot areas reached").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "4_walkabout.png"))
    _across_reruns(page, lambda: page.locator(MAP_FRAME).screenshot(path=str(shots / "4_walkabout_route.png")))
    lap("walkabout")
    gpx = _download(page, "Download GPX", tmp_path / "walk.gpx").decode("utf-8")
    assert "<gpx" in gpx and gpx.count("<trkpt") > 10
    sheet = _download(page, "Download printable sheet (HTML)", tmp_path / "sheet.html").decode("utf-8")
    assert "<img" in sheet and "data:image/png;base64," in sheet
    lap("walkabout downloads")

    assert nav(page, "Meeting sheet", timeout_ms=RENDER_TIMEOUT_MS) == "Meeting sheet"
    page.get_by_role("button", name="Download the meeting sheet's route (PDF)").wait_for()
    page.screenshot(path=str(shots / "5_meeting_sheet.png"))
    route = _download(page, "Download the meeting sheet's route (PDF)", tmp_path / "route.pdf")
    assert route[:5] == b"%PDF-"
    assert page.locator('[data-testid="stException"]').count() == 0
    lap("meeting sheet")
    context.close()
    timings["total"] = round(sum(timings.values()), 2)
    (shots / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print(f"screenshots in {shots}; seconds per step: {timings}")
    assert errors == [], errors
