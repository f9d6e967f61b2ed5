"""What the wheel carries: a wheel built from this checkout holds Bury's geography (from ``boundaries/``),
the map assets the app serves and the typing marker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from geo_csp import maps, settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel built (offline, no build isolation) from a copy of this checkout."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".ci", "data", "maps", "tests", "benchmarks", "build", "dist", "*.egg-info", "__pycache__"
        ),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "out"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (root / "out").glob("geo_csp-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


@pytest.mark.slow
def test_the_wheel_carries_bury_geography(wheel_names: set[str]) -> None:
    shipped = sorted(
        p.name for p in (REPO / "boundaries").iterdir() if p.suffix == ".geojson" or p.name == "PROVENANCE.md"
    )
    assert len(shipped) == 7  # borough, wards 2017/2022, LSOAs 2011/2021, named places, provenance
    assert [n for n in shipped if f"geo_csp/boundary_files/{n}" not in wheel_names] == []


@pytest.mark.slow
def test_the_wheel_carries_map_assets_and_the_typing_marker(wheel_names: set[str]) -> None:
    assert "geo_csp/py.typed" in wheel_names
    assets = [p.relative_to(settings.PACKAGE_DIR.parent).as_posix() for p in maps.LEAFLET_DIR.rglob("*") if p.is_file()]
    assert assets and [a for a in assets if a not in wheel_names] == []


def test_a_checkout_reads_its_geography_from_boundaries() -> None:
    assert (
        settings.BOUNDARIES_DIR == REPO / "boundaries" and (settings.BOUNDARIES_DIR / "bury_borough.geojson").is_file()
    )


def test_the_listed_packages_are_every_folder_of_modules() -> None:
    """pyproject lists the packages (to map boundaries/ in): a new module folder must be listed too."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "geo_csp").rglob("*.py")}
    assert listed == folders | {"geo_csp.boundary_files"}
