"""What the wheel carries: every data file the package reads at run time matches its package-data globs."""

from __future__ import annotations

import tomllib
from pathlib import Path

from geo_csp import boundaries, maps, settings

REPO = Path(__file__).resolve().parent.parent


def _shipped(path: Path) -> bool:
    """Whether setuptools puts ``path`` in the wheel: one of its package's package-data globs expands to it."""
    globs = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    return any(
        path.resolve() in {p.resolve() for p in REPO.joinpath(*package.split(".")).glob(pattern)}
        for package, patterns in globs.items()
        for pattern in patterns
    )


def test_bury_geography_ships_in_the_wheel() -> None:
    files = [*boundaries.BURY_WARDS.values(), *boundaries.BURY_LSOAS.values(), boundaries.BURY_BOROUGH,
             boundaries.BURY_NAMED_PLACES]
    assert all(f.is_file() for f in files)
    assert all(f.is_relative_to(settings.PACKAGE_DIR) for f in files)
    assert [f.name for f in files if not _shipped(f)] == []


def test_typing_marker_and_map_assets_ship() -> None:
    assert _shipped(settings.PACKAGE_DIR / "py.typed")
    assets = [p for p in maps.LEAFLET_DIR.rglob("*") if p.is_file()]
    assert assets and [p.name for p in assets if not _shipped(p)] == []


def test_a_file_outside_the_globs_is_not_shipped() -> None:
    assert not _shipped(REPO / "README.md")
