"""What the wheel carries: a wheel built from this checkout holds Bury's geography (from ``boundaries/``),
the map assets the app serves and the typing marker."""

from __future__ import annotations

import os
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
def wheel_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built (offline, no build isolation) from a copy of this checkout."""
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
    return wheel


@pytest.fixture(scope="module")
def wheel_names(wheel_file: Path) -> set[str]:
    """The file names inside the wheel."""
    with zipfile.ZipFile(wheel_file) as zf:
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


#: Run with the installed wheel first on sys.path: the demo is built and the app's first page (the map) drawn.
_INSTALLED_APP = """
import sys
from pathlib import Path

import geo_csp
from geo_csp import settings
from streamlit.testing.v1 import AppTest

site = Path(sys.argv[1]).resolve()
assert Path(geo_csp.__file__).resolve().is_relative_to(site), geo_csp.__file__
assert settings.BOUNDARIES_DIR.resolve().is_relative_to(site), settings.BOUNDARIES_DIR
at = AppTest.from_file(sys.argv[2], default_timeout=300)
at.run()
assert not at.exception, [e.message for e in at.exception]
assert any("SYNTHETIC" in m.value for m in at.markdown), "no SYNTHETIC label on the demo's map page"
print("map page ok")
"""


@pytest.mark.slow
def test_an_installed_wheel_builds_the_demo_and_opens_the_map(wheel_file: Path, tmp_path: Path) -> None:
    """``pip install`` of the wheel (not editable), away from the checkout: ``geo-csp demo`` builds the demo
    borough from the wheel's own Bury geography and the app's first page opens on it."""
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the app's script beside the installed package (its pages are found relative to it), not the checkout
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(REPO / "app.py", app_dir / "app.py")
    shutil.copytree(REPO / ".streamlit", app_dir / ".streamlit")
    (app_dir / "geo_csp").symlink_to(site / "geo_csp", target_is_directory=True)
    demo = tmp_path / "demo"
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "PYTHONPATH": str(site),
        "GEO_CSP_DEMO_DIR": str(demo),
        "GEO_CSP_STORE": str(demo / "store"),
        "GEO_CSP_OFFLINE": "1",
    }
    built = subprocess.run(
        [sys.executable, "-m", "geo_csp.cli", "demo", "--out", str(demo), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert (demo / "store" / "manifest.json").is_file() and (demo / "SYNTHETIC.txt").is_file()
    shown = subprocess.run(
        [sys.executable, "-c", _INSTALLED_APP, str(site), str(app_dir / "app.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert shown.returncode == 0 and "map page ok" in shown.stdout, shown.stderr[-3000:]


def test_a_checkout_reads_its_geography_from_boundaries() -> None:
    assert (
        settings.BOUNDARIES_DIR == REPO / "boundaries" and (settings.BOUNDARIES_DIR / "bury_borough.geojson").is_file()
    )


def test_the_listed_packages_are_every_folder_of_modules() -> None:
    """pyproject lists the packages (to map boundaries/ in): a new module folder must be listed too."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "geo_csp").rglob("*.py")}
    assert listed == folders | {"geo_csp.boundary_files"}
