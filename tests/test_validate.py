"""The shared CRS and column checks: what they refuse and the one-line message they give."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo_csp._errors import CRSError, LayerError, SchemaError
from geo_csp._validate import require_columns, require_working_crs


def _points(crs: str | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(380000, 410000)], crs=crs)


def test_working_crs_passes_and_refuses_with_the_fix() -> None:
    require_working_crs(_points("EPSG:27700"), "`units`")
    require_working_crs(_points("EPSG:27700").geometry, "`units`")  # a GeoSeries too
    with pytest.raises(CRSError, match=r"^`units` is in EPSG:4326, not EPSG:27700; reproject it with \.to_crs\("):
        require_working_crs(_points("EPSG:4326"), "`units`")
    with pytest.raises(CRSError, match="is in None"):
        require_working_crs(_points(None), "`units`")
    with pytest.raises(LayerError):  # the caller's own error class
        require_working_crs(_points("EPSG:3857"), "cameras", error=LayerError)


def test_required_columns_names_the_missing_ones_in_order() -> None:
    frame = _points("EPSG:27700")
    require_columns(frame, ["a", "geometry"], "`frame`", fix="unused")
    with pytest.raises(SchemaError, match=r"^`frame` lacks column\(s\) \['c', 'b'\]; read it with x$"):
        require_columns(frame, ["c", "a", "b"], "`frame`", fix="read it with x")
