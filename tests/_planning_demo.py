"""Helpers reading the SYNTHETIC demo borough (the session fixture ``demo_borough`` in conftest.py) for the planning tests."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_csp.settings import WORKING_CRS


def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def geojson_to_bng(geom: dict) -> shapely.Geometry:
    """A WGS84 GeoJSON geometry from truth.json as EPSG:27700."""
    return gpd.GeoSeries([shapely.from_geojson(json.dumps(geom))], crs="EPSG:4326").to_crs(WORKING_CRS).iloc[0]


def incidents(folder: Path, **kwargs: object) -> pd.DataFrame:
    from geo_csp import store

    return store.read_incidents(folder / "store", located_only=True, **kwargs)
