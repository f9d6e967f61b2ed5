"""Shared fixtures: the real public data beside the repo (skipped when absent) and the demo borough."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from geo_csp.demo import DemoPaths, make_demo

os.environ.setdefault("MPLBACKEND", "Agg")

# Real public data kept beside the repository (``../shared/data/real``), never inside it.
REAL_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real public data (``../shared/data/real``); the test skips when it is absent."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data folder {REAL_DATA_DIR.name!r} beside the repository is absent")
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def real_file(real_data: Path) -> Callable[..., Path]:
    """A function of path parts giving a file under the real-data folder, skipping when that file is absent."""

    def find(*parts: str) -> Path:
        path = real_data.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"real data file {'/'.join(parts)} is absent")
        return path

    return find


@pytest.fixture(scope="session")
def demo_borough(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    """The SYNTHETIC demo borough (default seed) and its store, built once per test session; tests only read it."""
    return make_demo(tmp_path_factory.mktemp("demo-borough"))
