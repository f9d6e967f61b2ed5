"""Shared fixtures: the real public data beside the repo (skipped when absent) and the demo borough."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo_csp.settings import SHARED_REAL_DATA_DIR

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real public data (``../shared/data/real``); the test skips when it is absent."""
    if not SHARED_REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL_DATA_DIR.name!r} beside the repository is absent")
    return SHARED_REAL_DATA_DIR


def real_file(real_data: Path, *parts: str) -> Path:
    """A file under the real-data folder, skipping the test when that one file is absent."""
    path = real_data.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data file {'/'.join(parts)} is absent")
    return path
