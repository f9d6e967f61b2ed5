"""Pieces shared by the ``geo-csp`` command modules: the study context, the store's incidents, one hotspot
run, JSON-safe metadata and writing a GeoDataFrame with its run metadata.

Heavy libraries (geopandas, pandas, numpy, pyarrow, the analysis modules) are imported inside the
functions that use them, so that importing a command module (and ``geo-csp --help``) stays light.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo_csp._errors import ParameterError
from geo_csp.cli._app import console

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo_csp import analysis

__all__ = ["METADATA_KEY", "jsonable", "read_located", "run_hotspots", "study_context", "write_geo"]

METADATA_KEY = "geo_csp"


def study_context(store_dir: Path, boundary: Path | None) -> dict[str, Any]:
    """Study area, named places and wards from ``--boundary`` or the store's config.

    Returns a dictionary with ``config`` (the store config), ``study_area`` (GeoDataFrame or None),
    ``study_area_source`` (where it came from, for metadata), ``named_places`` and ``wards``.
    """
    from geo_csp import boundaries, store

    config = store.store_config(store_dir)
    ctx: dict[str, Any] = {"config": config, "study_area": None, "named_places": None, "wards": None,
                           "study_area_source": "data extent"}

    def _path(key: str) -> Path | None:
        value = config.get(key)
        return None if not value else (Path(store_dir) / value if not Path(value).is_absolute() else Path(value))

    is_bury = str(config.get("borough", "")).lower() == "bury"
    if boundary is not None:
        ctx["study_area"] = boundaries.load_borough(boundary)
        ctx["study_area_source"] = str(boundary)
    elif _path("boundary") is not None:
        ctx["study_area"] = boundaries.load_borough(_path("boundary"))
        ctx["study_area_source"] = str(_path("boundary"))
    elif is_bury:
        ctx["study_area"] = boundaries.load_borough()
        ctx["study_area_source"] = "shipped Bury boundary (store config)"
    if _path("named_places") is not None:
        ctx["named_places"] = boundaries.load_named_places(_path("named_places"))
    elif is_bury:
        ctx["named_places"] = boundaries.load_named_places()
    if _path("wards") is not None:
        ctx["wards"] = boundaries.load_wards(_path("wards"))
    return ctx


def read_located(store_dir: Path, crime_types: list[str] | None, sources: list[str] | None) -> pd.DataFrame:
    """The store's located incidents for these filters; a clear error when there are none."""
    from geo_csp import store

    frame = store.read_incidents(store_dir, crime_types=crime_types or None, sources=sources or None, located_only=True)
    if frame.empty:
        raise ParameterError(
            f"the store {store_dir} has no located incidents for crime types {crime_types or 'all'} and sources "
            f"{sources or 'all'}; ingest data first (geo-csp ingest) or widen --crime-type/--source"
        )
    return frame


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, NaN/NaT as None and anything else unknown as text."""
    import numpy as np
    import pandas as pd

    def _default(v: Any) -> Any:
        if isinstance(v, np.generic):
            return None if isinstance(v, np.floating) and not np.isfinite(v) else v.item()
        try:
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        return str(v)

    def _finite(v: Any) -> Any:  # json writes float NaN as the non-standard NaN token: make it null
        if isinstance(v, float) and not np.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: _finite(x) for k, x in v.items()}
        if isinstance(v, list):
            return [_finite(x) for x in v]
        return v

    return _finite(json.loads(json.dumps(value, default=_default)))


def write_geo(frame: gpd.GeoDataFrame, path: Path, metadata: dict[str, Any], *, layer: str) -> None:
    """Write a GeoDataFrame as GeoParquet or GeoPackage with the run metadata inside and beside it.

    The metadata go in the GeoParquet schema metadata under ``geo_csp``, in a ``geo_csp_metadata``
    table of a GeoPackage, and always in a sidecar ``FILE.json``.
    """
    import pandas as pd
    import pyarrow.parquet as pq
    import pyogrio

    path = Path(path)
    meta = json.dumps(jsonable(metadata))
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".gpkg"):
        raise ParameterError(f"--out {path}: use a .parquet (GeoParquet) or .gpkg file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = frame.copy()
    for col in plain.columns:
        if isinstance(plain[col].dtype, pd.CategoricalDtype):
            plain[col] = plain[col].astype(object)
    if suffix == ".parquet":
        plain.to_parquet(path, index=False)
        table = pq.read_table(path)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY.encode(): meta.encode()})
        pq.write_table(table, path)
    else:
        if path.exists():
            path.unlink()
        plain.to_file(path, layer=layer, driver="GPKG")
        pyogrio.write_dataframe(pd.DataFrame({"key": [METADATA_KEY], "value": [meta]}), path,
                                layer=f"{METADATA_KEY}_metadata", driver="GPKG")
    Path(f"{path}.json").write_text(meta + "\n", encoding="utf-8")


def run_hotspots(store_dir, boundary, unit, resolution, period, crime_type, group, source, measure,
                 previous: gpd.GeoDataFrame | None = None) -> analysis.HotspotResult:
    """One hotspot run (units, named areas, metadata) on the store, as ``geo-csp hotspots``/``areas`` make it."""
    from geo_csp import analysis, hotspots

    ctx = study_context(store_dir, boundary)
    result = analysis.run_hotspots(
        read_located(store_dir, crime_type, source), unit=unit, resolution=resolution, period=period,
        crime_types=crime_type or None, group=group, sources=source or None, measure=measure,
        study_area=ctx["study_area"], named_places=ctx["named_places"], wards=ctx["wards"],
        previous_areas=previous, params=hotspots.HotspotParams(),
    )
    result.metadata.update({"store": str(store_dir), "study_area": ctx["study_area_source"],
                            "synthetic": bool(ctx["config"].get("synthetic", False))})
    if "resolution_reason" in result.metadata:
        console.print(result.metadata["resolution_reason"])
    return result
