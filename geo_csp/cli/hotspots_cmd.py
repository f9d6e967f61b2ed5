"""``geo-csp hotspots``, ``geo-csp areas`` and ``geo-csp backtest``: classified units, named areas, back-tests.

The study area is ``--boundary`` when given, else the store's configured borough (Bury's shipped
boundary when the config names Bury), else the extent of the data. Every output file carries the
run's metadata (every parameter, the software version): in the GeoParquet schema metadata under
``geo_csp``, in a ``geo_csp_metadata`` table of a GeoPackage, and always in a sidecar ``FILE.json``.

The heavy libraries (geopandas, pandas, pyarrow, the analysis modules) are imported inside the
functions that use them, so that ``geo-csp --help`` does not load them through this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from geo_csp import settings
from geo_csp._errors import ParameterError
from geo_csp.cli._app import app, console, out

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo_csp import analysis

__all__ = ["write_geo"]

_STORE = typer.Option("--store", help="Store folder.")
_BOUNDARY = typer.Option("--boundary", help="Study-area polygon file (GeoJSON/GPKG); default the store's borough.")
_UNIT = typer.Option("--unit", help="Spatial unit: h3, ward or lsoa.")
_RES = typer.Option("--resolution", help="H3 resolution 7-11 (default chosen for the area and reported).")
_PERIOD = typer.Option("--period", help="month or quarter (financial) or year.")
_TYPES = typer.Option("--crime-type", help="police.uk category to include (repeatable).")
_GROUP = typer.Option("--group", help="Crime group: neighbourhood, serious_acquisitive, violence, asb, drugs.")
_SOURCE = typer.Option("--source", help="Source to include (repeatable; default all).")
_MEASURE = typer.Option("--measure", help="count, harm or rate (per 1,000 residents; wards/LSOAs).")
_OUT = typer.Option("--out", help="Output file: .parquet (GeoParquet) or .gpkg.")
METADATA_KEY = "geo_csp"


def _context(store_dir: Path, boundary: Path | None) -> dict[str, Any]:
    """Study area, named places and wards from ``--boundary`` or the store's config."""
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


def _incidents(store_dir: Path, crime_types: list[str] | None, sources: list[str] | None) -> pd.DataFrame:
    from geo_csp import store

    frame = store.read_incidents(store_dir, crime_types=crime_types or None, sources=sources or None, located_only=True)
    if frame.empty:
        raise ParameterError(f"the store {store_dir} has no located incidents for these filters; ingest data first")
    return frame


def _jsonable(value: Any) -> Any:
    import numpy as np

    return json.loads(json.dumps(value, default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))


def write_geo(frame: gpd.GeoDataFrame, path: Path, metadata: dict[str, Any], *, layer: str) -> None:
    """Write a GeoDataFrame as GeoParquet or GeoPackage with the run metadata inside and beside it."""
    import pandas as pd
    import pyarrow.parquet as pq
    import pyogrio

    path = Path(path)
    meta = json.dumps(_jsonable(metadata))
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


def _run(store_dir, boundary, unit, resolution, period, crime_type, group, source, measure,
         previous: gpd.GeoDataFrame | None = None) -> analysis.HotspotResult:
    from geo_csp import analysis, hotspots

    ctx = _context(store_dir, boundary)
    result = analysis.run_hotspots(
        _incidents(store_dir, crime_type, source), unit=unit, resolution=resolution, period=period,
        crime_types=crime_type or None, group=group, sources=source or None, measure=measure,
        study_area=ctx["study_area"], named_places=ctx["named_places"], wards=ctx["wards"],
        previous_areas=previous, params=hotspots.HotspotParams(),
    )
    result.metadata.update({"store": str(store_dir), "study_area": ctx["study_area_source"],
                            "synthetic": bool(ctx["config"].get("synthetic", False))})
    if "resolution_reason" in result.metadata:
        console.print(result.metadata["resolution_reason"])
    return result


@app.command("hotspots")
def hotspots_command(
    out_path: Annotated[Path, _OUT],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    unit: Annotated[str, _UNIT] = "h3",
    resolution: Annotated[int | None, _RES] = None,
    period: Annotated[str, _PERIOD] = "month",
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    measure: Annotated[str, _MEASURE] = "count",
) -> None:
    """Classify every unit (Gi*, Mann-Kendall, ArcGIS pattern, Chainey category) and write one row per unit."""
    result = _run(store_dir, boundary, unit, resolution, period, crime_type, group, source, measure)
    write_geo(result.units, out_path, result.metadata, layer="hotspot_units")
    counts = result.units["category"].astype(object).value_counts()
    console.print(f"wrote {len(result.units)} units to {out_path}; " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("areas")
def areas_command(
    out_path: Annotated[Path, _OUT],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    unit: Annotated[str, _UNIT] = "h3",
    resolution: Annotated[int | None, _RES] = None,
    period: Annotated[str, _PERIOD] = "month",
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    measure: Annotated[str, _MEASURE] = "count",
    previous: Annotated[Path | None, typer.Option("--previous", help="Areas file of an earlier run: keep its ids.")] = None,
) -> None:
    """Merge contiguous hot units into named hotspot areas and write one row per area."""
    import geopandas as gpd

    prev = None
    if previous is not None:
        layer = "hotspot_areas" if previous.suffix.lower() == ".gpkg" else None
        prev = (gpd.read_parquet(previous) if previous.suffix.lower() == ".parquet"
                else gpd.read_file(previous, layer=layer)).to_crs(settings.WORKING_CRS)
    result = _run(store_dir, boundary, unit, resolution, period, crime_type, group, source, measure, prev)
    areas = result.areas
    write_geo(areas, out_path, result.metadata, layer="hotspot_areas")
    table = Table(title=f"{len(areas)} hotspot areas", title_justify="left")
    for col in ("area_id", "name", "category", "n", "share_of_crime", "share_of_area"):
        table.add_column(col)
    for rec in areas.head(20).to_dict("records"):
        table.add_row(rec["area_id"], rec["name"], str(rec["category"]), f"{rec['n']:.0f}",
                      f"{rec['share_of_crime']:.1%}", f"{rec['share_of_area']:.1%}")
    console.print(table)
    changes = result.metadata["area_changes"]
    if previous is not None:
        console.print(f"new areas: {changes['new'] or 'none'}; vanished: {changes['vanished'] or 'none'}")


@app.command("backtest")
def backtest_command(
    split: Annotated[str, typer.Option("--split", help="First month measured (YYYY-MM); earlier months select.")],
    store_dir: Annotated[Path, _STORE] = settings.DEFAULT_STORE_DIR,
    boundary: Annotated[Path | None, _BOUNDARY] = None,
    unit: Annotated[str, _UNIT] = "h3",
    resolution: Annotated[int | None, _RES] = None,
    crime_type: Annotated[list[str] | None, _TYPES] = None,
    group: Annotated[str | None, _GROUP] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    area_share: Annotated[float, typer.Option("--area-share", help="Share of the study area selected.")] = 0.05,
    sweep: Annotated[bool, typer.Option("--sweep", help="Also sweep H3 resolutions 7-11.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")] = False,
) -> None:
    """Back-test: hotspots from the months before --split, measured on the months from it (PAI, hit rate, RRI)."""
    from geo_csp import backtest

    ctx = _context(store_dir, boundary)
    inc = _incidents(store_dir, crime_type, source)
    table = backtest.backtest(inc, split=split, unit=unit, resolution=resolution, study_area=ctx["study_area"],
                              crime_types=crime_type or None, group=group, area_shares=(area_share,))
    doc: dict[str, Any] = {
        rec["method"]: {k: rec[k] for k in ("pai", "ppai", "hit_rate", "rri", "pei", "area_share", "n_units")}
        for rec in table.to_dict("records")
    }
    doc["metadata"] = {**table.attrs, "area_share_target": area_share, "study_area": ctx["study_area_source"]}
    if sweep:
        doc["resolution_sweep"] = backtest.resolution_sweep(
            inc, split=split, area_share=area_share, study_area=ctx["study_area"],
            crime_types=crime_type or None, group=group).to_dict("records")
    doc = _jsonable(doc)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    view = Table(title=f"Back-test from {split}: {area_share:.0%} of the area", title_justify="left")
    for col in ("selection", "PAI", "hit rate", "RRI", "PEI"):
        view.add_column(col)
    for name in backtest.METHODS:
        r = doc[name]
        view.add_row(name, f"{r['pai']:.2f}", f"{r['hit_rate']:.1%}", f"{r['rri']:.2f}", f"{r['pei']:.2f}")
    out.print(view)
