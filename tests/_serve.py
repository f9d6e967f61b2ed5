"""A real ``streamlit run app.py`` on a free localhost port against a given store, for browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 90
#: Hover every Leaflet shape and marker of a map page, returning the text of the tooltips that opened.
HOVER_JS = """() => {
    const seen = [];
    for (const el of document.querySelectorAll('.leaflet-interactive, .leaflet-marker-icon')) {
        el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
        for (const t of document.querySelectorAll('.leaflet-tooltip')) seen.push(t.innerText);
        el.dispatchEvent(new MouseEvent('mouseout', {bubbles: true}));
    }
    return seen.join('\\n');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_app(*, store_dir: Path, demo_dir: Path, log_path: Path) -> Iterator[str]:
    """The URL of the app serving ``store_dir`` (offline, no usage stats); stopped on exit."""
    port = free_port()
    env = {
        **os.environ,
        "GEO_CSP_DEMO_DIR": str(demo_dir),
        "GEO_CSP_STORE": str(store_dir),
        "PYTHONUNBUFFERED": "1",
        "GEO_CSP_OFFLINE": "1",
    }
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {proc.poll()}); see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()
