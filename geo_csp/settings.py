"""Immutable constants shared by every module: coordinate systems, paths and fixed column names."""

from __future__ import annotations

from pathlib import Path
from typing import Final

WORKING_CRS: Final = "EPSG:27700"  # British National Grid: every distance and area is in metres here
DISPLAY_CRS: Final = "EPSG:4326"  # WGS84 lon/lat: only for maps and exported display files

PACKAGE_DIR: Final = Path(__file__).resolve().parent
# A source checkout keeps its store and maps in the repository's data/ and maps/ folders; an installed
# package uses data/ and maps/ under the working folder (what the README's commands write to).
REPO_DIR: Final = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").is_file() else Path()
# Bury's shipped geography: the repository's boundaries/ folder, which the wheel carries inside the
# package as boundary_files/ (setup.py), so an installed package has it too.
_PACKAGED_BOUNDARIES = PACKAGE_DIR / "boundary_files"
BOUNDARIES_DIR: Final = _PACKAGED_BOUNDARIES if _PACKAGED_BOUNDARIES.is_dir() else REPO_DIR / "boundaries"
DATA_DIR: Final = REPO_DIR / "data"
MAPS_DIR: Final = REPO_DIR / "maps"
DEMO_DIR: Final = DATA_DIR / "demo"
DEFAULT_STORE_DIR: Final = DATA_DIR / "store"

# Mainland Great Britain in British National Grid metres (with a margin). police.uk publishes a few
# points far outside a force; they stay accepted but anything outside this box is not in England/Wales.
GB_BOUNDS_M: Final = (0.0, 0.0, 700_000.0, 1_300_000.0)
# England and Wales in lon/lat, used to recognise swapped or out-of-country coordinates.
EW_LON_RANGE: Final = (-6.5, 2.0)
EW_LAT_RANGE: Final = (49.8, 55.9)

SYNTHETIC_LABEL: Final = "SYNTHETIC"
OGL_ATTRIBUTION: Final = "Contains public sector information licensed under the Open Government Licence v3.0"
BOUNDARY_ATTRIBUTION: Final = "Contains National Statistics and OS data © Crown copyright and database right 2022"
OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors"
#: What every output driven by police.uk locations must say about them (data.police.uk/about).
SNAP_POINT_NOTE: Final = (
    "police.uk locations are anonymised snap points, not where crimes happened: each crime is moved to the "
    "nearest of a fixed set of map points (street centres, public places, commercial premises), so crime piles "
    "up on those points, sites and counts near an edge can fall on either side, and no point is an address."
)
#: The short form, for map legends and chart footers.
SNAP_POINT_SHORT: Final = "Crime locations: police.uk anonymised snap points, not addresses."

# Limits on what one input may expand to (compression bombs): a file is refused, with a one-line
# error, as soon as its text passes MAX_INPUT_TEXT_BYTES, or, once past INPUT_RATIO_FLOOR_BYTES, as
# soon as it has expanded more than MAX_COMPRESSION_RATIO times the compressed bytes read so far
# (police.uk CSVs compress 5-7 times, partner extracts rarely 20; a bomb compresses about 1,000).
MAX_INPUT_TEXT_BYTES: Final = 1 << 30
MAX_COMPRESSION_RATIO: Final = 100
INPUT_RATIO_FLOOR_BYTES: Final = 32 << 20

# What a hotspot run counts by default (the fields of geo_csp.cube.CubeParams): one value for the library, the
# CLI's options and the app, so that each states the same default.
DEFAULT_UNIT: Final = "h3"
DEFAULT_PERIOD: Final = "month"
DEFAULT_MEASURE: Final = "count"
DEFAULT_PARTIAL_PERIODS: Final = "drop"
DEFAULT_ZERO_FILL: Final = "study_area"
