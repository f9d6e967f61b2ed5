"""The checks the library's entry points share: a frame's CRS and its required columns.

Each refuses bad input with one line naming the argument, what is wrong and how to fix it, raising the
error class the caller names (:class:`~geo_csp._errors.CRSError` and
:class:`~geo_csp._errors.SchemaError` by default).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from geo_csp._errors import CRSError, GeoCspError, SchemaError
from geo_csp.settings import WORKING_CRS


def require_working_crs(frame: Any, what: str, *, error: type[GeoCspError] = CRSError) -> None:
    """Refuse ``frame`` (a GeoDataFrame or GeoSeries) unless it is in EPSG:27700, where distances and
    areas are measured; ``what`` names it in the message (e.g. ``"`units`"``)."""
    if frame.crs is None or frame.crs != WORKING_CRS:
        raise error(f"{what} is in {frame.crs}, not {WORKING_CRS}; reproject it with .to_crs('{WORKING_CRS}')")


def require_columns(
    frame: Any, columns: Iterable[str], what: str, *, fix: str, error: type[GeoCspError] = SchemaError
) -> None:
    """Refuse ``frame`` unless it has every one of ``columns``; the message names ``what`` lacks which
    columns, then ``fix`` (how to get a frame that has them)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{what} lacks column(s) {missing}; {fix}")
