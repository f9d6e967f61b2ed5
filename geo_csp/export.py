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

__all__ = ["METADATA_KEY", "TABLE_SUFFIXES", "jsonable", "write_geo", "write_table"]

#: Formats :func:`write_table` writes.
TABLE_SUFFIXES = (".csv", ".xlsx")

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


def write_table(
    frame: Any, path: Path, metadata: dict[str, Any], *, title: str, notes: tuple[str, ...] = ()
) -> list[Path]:
    """Write a table as CSV or XLSX with its metadata beside it (``FILE.json``) and, in a workbook, inside it.

    A CSV holds the table only (text that a spreadsheet would run as a formula is made inert); a workbook
    has the table on its first sheet under ``title`` and an ``About`` sheet with the notes and every
    metadata entry. Returns the files written.
    """
    import pandas as pd

    from geo_csp._escape import spreadsheet_safe, spreadsheet_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ParameterError(f"{path}: write a .csv or .xlsx file, not {path.suffix or 'a file without a suffix'!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = jsonable(metadata)
    table = pd.DataFrame(frame)
    if suffix == ".csv":
        spreadsheet_safe(table).to_csv(path, lineterminator="\n")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = "Table"
        ws["A1"] = spreadsheet_text(title)
        ws["A1"].font = Font(bold=True, size=13)
        header = [str(table.index.name or ""), *map(str, table.columns)]
        for j, h in enumerate(header, start=1):
            ws.cell(row=3, column=j, value=spreadsheet_text(h)).font = Font(bold=True)
        for i, (label, row) in enumerate(table.iterrows(), start=4):
            for j, v in enumerate([label, *row.tolist()], start=1):
                ws.cell(row=i, column=j, value=None if pd.isna(v) else spreadsheet_text(jsonable(v)))
        about = wb.create_sheet("About")
        lines = [*notes, *(f"{k}: {json.dumps(v)}" for k, v in meta.items())]
        for i, line in enumerate(lines, start=1):
            about.cell(row=i, column=1, value=spreadsheet_text(line))
        wb.save(path)
    sidecar = Path(f"{path}.json")
    sidecar.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return [path, sidecar]
