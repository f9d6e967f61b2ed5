"""Headless chromium on the running app, and the waits that say when Streamlit has finished a step.

A step waits for what it needs, not for a fixed time: :func:`wait_idle` returns once the app's script
has finished its run (``stApp``'s ``data-test-script-state`` is ``notRunning``, never ``initial``, and no
running status, spinner or placeholder is shown), the page has not changed for :data:`QUIET_MS`, and
every iframe (the map) has drawn and has not changed for as long either. Pages opened through
:func:`new_page` record when their documents last changed (a ``MutationObserver`` in every frame).
Playwright is imported only when a browser is started, so the modules using this one skip without it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long the page and its iframes stay unchanged before a step trusts them to be drawn: longer than the
#: time between a click's own change of the page and the app's answer that its rerun has started.
QUIET_MS = 300
POLL_MS = 100
#: Shown while the script runs (the status widget lingers for its 200 ms fade-out).
BUSY = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-testid="stSkeleton"]'
#: Playwright errors that mean a Streamlit rerun swapped an iframe mid-read (read again, not failed).
RERUN_RACES = ("detached", "strict mode violation")
#: Run in every frame before its own scripts: the time the document last changed, in ``__geoCspChanged``.
CHANGES_JS = """(() => {
    window.__geoCspChanged = performance.now();
    new MutationObserver(() => { window.__geoCspChanged = performance.now(); })
        .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();"""
#: The app's script has finished (a first run has happened) and the page has been still for ``quiet`` ms.
APP_IDLE_JS = """([busy, quiet]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelector(busy) === null
        && performance.now() - (window.__geoCspChanged ?? 0) >= quiet;
}"""
#: An iframe has loaded, drawn its map if it is streamlit-folium's (``#map_div``), and been still.
FRAME_IDLE_JS = """quiet => document.readyState === 'complete'
    && (document.getElementById('map_div') === null
        || document.querySelector('.leaflet-container .leaflet-map-pane') !== null)
    && performance.now() - (window.__geoCspChanged ?? 0) >= quiet"""


def need_chromium() -> None:
    """Skip the test when Debian's chromium or Playwright is absent (before an app is built for it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium package to run browser tests)")
    pytest.importorskip("playwright.sync_api")


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright; skips the test when either is absent."""
    need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, *, timeout_ms: float, downloads: bool = False) -> Page:
    """A page in a new context whose frames record their changes for :func:`wait_idle`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=downloads)
    context.add_init_script(CHANGES_JS)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return page


def _settled(page: Page) -> bool:
    """Whether the app and every iframe are idle, read once (an iframe swapped mid-read is not idle)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return bool(page.evaluate(APP_IDLE_JS, [BUSY, QUIET_MS])) and all(
            frame.evaluate(FRAME_IDLE_JS, QUIET_MS) for frame in page.main_frame.child_frames
        )
    except PlaywrightError as exc:
        if any(m in str(exc) for m in RERUN_RACES):
            return False
        raise


def wait_idle(page: Page, *, timeout_ms: float) -> None:
    """Wait until the app's script has finished and the page and its iframes are drawn and still
    (see the module docstring); fails naming the page when that takes longer than ``timeout_ms``."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_ms / 1000
    while not _settled(page):
        left = (deadline - time.monotonic()) * 1000
        if left <= 0:
            state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
            pytest.fail(f"{page.url} not settled after {timeout_ms / 1000:.0f} s (script state {state!r})")
        try:  # wait in the browser for the app, then for each iframe, then read them all again
            page.wait_for_function(APP_IDLE_JS, arg=[BUSY, QUIET_MS], polling=POLL_MS, timeout=left)
            for frame in page.main_frame.child_frames:
                frame.wait_for_function(FRAME_IDLE_JS, arg=QUIET_MS, polling=POLL_MS, timeout=left)
        except PlaywrightTimeout:  # reported above, on the next turn
            pass
        except PlaywrightError as exc:
            if not any(m in str(exc) for m in RERUN_RACES):
                raise


#: After a click on a sidebar link: "opened" once the page's own heading replaced ``prev``, "ignored" when
#: the app has been idle and the page unchanged for ``quiet`` ms without it (the click was lost).
NAV_JS = f"""([prev, busy, quiet]) => {{
    const h = document.querySelector('h1');
    if (h !== null && h.innerText !== prev) {{ return 'opened'; }}
    return ({APP_IDLE_JS})([busy, quiet]) ? 'ignored' : false;
}}"""
#: How long an app that has not started the rerun asked for is left before the link is clicked again.
LOST_CLICK_MS = 3000


def nav(page: Page, title: str, *, timeout_ms: float) -> str:
    """Open the page ``title`` from the sidebar, as a user does, and return its heading once it is drawn.

    Waits for the new page's own heading to replace the last one's (however late the rerun starts
    under load), clicking the link again if the app stayed idle without it, then for the app to be idle.
    """
    heading = page.locator("h1").first.inner_text() if page.locator("h1").count() else ""
    link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        link.click()
        left = max(1.0, (deadline - time.monotonic()) * 1000)
        args = [heading, BUSY, LOST_CLICK_MS]
        if page.wait_for_function(NAV_JS, arg=args, polling=POLL_MS, timeout=left).json_value() == "opened":
            break
    wait_idle(page, timeout_ms=max(1.0, (deadline - time.monotonic()) * 1000))
    return page.locator("h1").first.inner_text()
