"""geo-csp: geospatial hotspot and place-based targeting for Community Safety Partnerships.

The package is a chain of pure functions on (Geo)DataFrames, one module per domain concept:
``ingest`` and ``store`` (the lossless incident store), ``boundaries`` (wards, LSOAs, population),
``grid`` (H3 cells and cubes), ``hotspots`` and ``trends`` (Gi*, Mann-Kendall, emerging classes),
``areas`` (named hotspot areas), ``layers``/``coverage``/``routes`` (partner activity and planning),
``evidence``/``maps`` (documents, disclosure control) and ``demo`` (the synthetic demo borough).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo-csp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
