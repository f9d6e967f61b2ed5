"""Hostile inputs through the real ``geo-csp ingest`` process: compression bombs, a sparse giant,
devices and named pipes stop within seconds and a few hundred MB, with a one-line error.

Each case runs the CLI in a subprocess and reads that child's own peak resident memory (its
``VmHWM``); the bombs are made at test time (tests/_hostile.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import _hostile

MAPPING = Path(__file__).parent / "data" / "bad" / "partner_xlsx.toml"
PEAK_MB = 500
WALL_S = 10.0

EXPECTED = {
    "gzip_bomb": r"refused as a likely compression bomb: it reached \d+ MB of text from [\d,]+ compressed bytes",
    "gzip_multimember_bomb": r"refused as a likely compression bomb",
    "zip_bomb": r"bomb\.zip!2019-01/2019-01-bomb-street\.csv: expands to more than 1,024 MB",
    "zip_lying_bomb": r"lying\.zip!2019-01/2019-01-bomb-street\.csv: cannot be read \(Bad CRC-32",
    "gzip_in_zip_bomb": r"nested\.zip!2019-01/2019-01-bomb-street\.csv\.gz: refused as a likely compression bomb",
    "xlsx_bomb": r"bomb\.xlsx!xl/worksheets/sheet1\.xml: expands to more than 1,024 MB",
    "sparse_giant": r"giant\.csv: expands to more than 1,024 MB of text \(4,096 MB or more\)",
    "fifo": r"2019-01-pipe-street\.csv: not a regular file \(a named pipe\)",
    "/dev/zero": r"/dev/zero: not a regular file \(a character device\)",
}


def _run_cli(args: list[str], store: Path) -> tuple[int, str, float, float]:
    """Exit code, stderr, wall seconds and peak MB of one ``geo-csp ingest`` child process.

    The peak is the child's own ``VmHWM`` (high-water resident memory of its program, written by an
    exit hook): ``ru_maxrss`` of a child also counts the parent's pages it held between fork and exec.
    """
    status_file = store.parent / "child-status.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(status_file)!r}, 'w').write(open('/proc/self/status').read()))\n"
        "from geo_csp.cli import main\nsys.argv[0] = 'geo-csp'\nmain()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "ingest", *args, "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        _, err_bytes = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"geo-csp ingest {args} still running after 60 s")
    wall = time.monotonic() - start
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status_file.read_text(), re.M)
    assert hwm is not None
    return proc.returncode, err_bytes.decode("utf-8", errors="replace"), wall, int(hwm[1]) / 1024


@pytest.mark.parametrize("name", [*_hostile.BOMBS, "fifo", "/dev/zero"])
def test_hostile_input_stops_fast_in_bounded_memory(name: str, tmp_path: Path) -> None:
    path = Path(name) if name.startswith("/") else _hostile.MAKERS[name](tmp_path)
    args = [str(path)] + (["--mapping", str(MAPPING)] if path.suffix == ".xlsx" else [])
    code, err, wall, peak_mb = _run_cli(args, tmp_path / "store")
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geo-csp: error: "), err
    assert "Traceback" not in err
    assert re.search(EXPECTED[name], lines[0]), lines[0]
    assert peak_mb < PEAK_MB, f"{name}: peak {peak_mb:.0f} MB"
    assert wall < WALL_S, f"{name}: {wall:.1f} s"
    assert not list((tmp_path / "store").rglob("*.parquet"))


def test_folder_with_a_named_pipe_skips_it_with_a_note(tmp_path: Path) -> None:
    from geo_csp import ingest

    folder = _hostile.folder_with_fifo(tmp_path)
    report = ingest.ingest_paths([folder], store_dir=tmp_path / "store")
    assert report.totals["accepted"] == 1
    assert any("2019-01-pipe-street.csv: skipped (a named pipe, not a regular file)" in n for n in report.notes)
