"""Hotspot outputs as files: GeoParquet or GeoPackage with the run's metadata inside and beside them.

Every written layer carries the metadata of the run that made it (every parameter, the software
version): in the GeoParquet schema metadata under :data:`METADATA_KEY`, in a ``geo_csp_metadata``
table of a GeoPackage, and always in a sidecar ``FILE.json``, so a map or a list can be reproduced.

numpy, pandas, pyarrow and pyogrio are imported by the functions that use them, so that the command line
(``geo-csp --help``) imports this module without loading them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo_csp._errors import ParameterError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["METADATA_KEY", "jsonable", "write_geo"]

#: Key of the run metadata in a GeoParquet file's schema metadata (and the GeoPackage table's prefix).
METADATA_KEY = "geo_csp"


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
        raise ParameterError(f"{path}: write a .parquet (GeoParquet) or .gpkg file; no other format keeps the metadata")
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
        pyogrio.write_dataframe(
            pd.DataFrame({"key": [METADATA_KEY], "value": [meta]}),
            path,
            layer=f"{METADATA_KEY}_metadata",
            driver="GPKG",
        )
    Path(f"{path}.json").write_text(meta + "\n", encoding="utf-8")
