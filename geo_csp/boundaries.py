"""Wards, LSOAs, the borough outline, named places and population denominators.

Bury's own geography ships in ``boundaries/`` (derived from ONS open data, see its PROVENANCE.md) so
that a fresh install works with no downloads. Any other borough works by passing its own ward/LSOA
file (GeoJSON/GPKG with a code and a name column) and a population CSV.

Every loader returns a GeoDataFrame in the working CRS (EPSG:27700) with fixed column names:
``ward_code, ward_name, population`` for wards, ``lsoa_code, lsoa_name, population`` for LSOAs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import grid, schema
from geo_csp._errors import CRSError, InputFileError, ParameterError, SchemaError
from geo_csp._validate import require_working_crs
from geo_csp.settings import BOUNDARIES_DIR, WORKING_CRS

BURY_WARDS = {2022: BOUNDARIES_DIR / "bury_wards_2022.geojson", 2017: BOUNDARIES_DIR / "bury_wards_2017.geojson"}
BURY_LSOAS = {2021: BOUNDARIES_DIR / "bury_lsoa_2021.geojson", 2011: BOUNDARIES_DIR / "bury_lsoa_2011.geojson"}
BURY_BOROUGH = BOUNDARIES_DIR / "bury_borough.geojson"
BURY_NAMED_PLACES = BOUNDARIES_DIR / "bury_named_places.geojson"

__all__ = [
    "assign_to_polygons",
    "load_borough",
    "select_district",
    "load_lsoas",
    "load_named_places",
    "load_wards",
    "lsoa_era_for_months",
    "mostly_in_shipped_borough",
    "read_boundary",
    "read_population",
]


def _read_vector(path: Path | str) -> gpd.GeoDataFrame:
    """The polygons of a boundary file in EPSG:27700, invalid ones made valid.

    A session reads the same few files again and again (every page and command asks for the store's wards,
    LSOAs and outline): the last few files read are kept, keyed by their size, times and inode, and
    each call gets its own copy.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"boundary file {path} does not exist; give a GeoJSON or GeoPackage path")
    stat = path.stat()
    frame: gpd.GeoDataFrame = _read_polygons(
        str(path.resolve()), str(path), (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    ).copy()
    return frame


@functools.lru_cache(maxsize=8)
def _read_polygons(resolved: str, given: str, stamp: tuple[int, ...]) -> gpd.GeoDataFrame:
    """:func:`_read_vector` of the file at ``resolved``, named ``given`` in errors; not to be modified."""
    del stamp  # the file's size, times and inode: part of the cache key only
    path = Path(given)
    try:
        frame = gpd.read_file(resolved)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputFileError(
            f"cannot read boundary file {path}: {exc}; it must be a GeoJSON or GeoPackage of polygons"
        ) from exc
    if frame.crs is None:
        raise CRSError(f"boundary file {path} has no CRS; save it with one (e.g. EPSG:27700 or EPSG:4326)")
    bad = ~frame.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise InputFileError(
            f"boundary file {path}: feature {int(np.flatnonzero(bad)[0])} is a {frame.geom_type[bad].iloc[0]}, "
            "not a polygon; boundaries must be polygons"
        )
    frame = frame.to_crs(WORKING_CRS)
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].to_numpy())
    return frame


def read_boundary(
    path: Path | str,
    *,
    code_col: str,
    name_col: str,
    kind: Literal["ward", "lsoa"] = "ward",
    population: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Read a user's ward or LSOA polygons and give them the fixed column names.

    Parameters
    ----------
    path
        GeoJSON or GeoPackage of polygons in any CRS (reprojected to EPSG:27700).
    code_col, name_col
        Columns holding the unit code (e.g. ``WD22CD``) and name.
    kind
        ``"ward"`` gives ``ward_code, ward_name``; ``"lsoa"`` gives ``lsoa_code, lsoa_name``.
    population
        Optional residents per unit, indexed by code (see :func:`read_population`).
    """
    frame = _read_vector(path)
    missing = [c for c in (code_col, name_col) if c not in frame.columns]
    if missing:
        raise SchemaError(f"boundary file {path} has no column(s) {missing}; its columns are {list(frame.columns)}")
    prefix = "ward" if kind == "ward" else "lsoa"
    out = gpd.GeoDataFrame(
        {
            f"{prefix}_code": frame[code_col].astype(str).to_numpy(),
            f"{prefix}_name": frame[name_col].astype(str).to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=WORKING_CRS,
    )
    dup = out[f"{prefix}_code"].duplicated()
    if dup.any():
        raise SchemaError(f"boundary file {path}: code {out[f'{prefix}_code'][dup].iloc[0]!r} appears twice")
    if population is not None:
        out[schema.POPULATION] = out[f"{prefix}_code"].map(population).to_numpy()
    elif "population" in frame.columns:
        out[schema.POPULATION] = pd.to_numeric(frame["population"], errors="coerce").to_numpy()
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


def read_population(path: Path | str, *, code_col: str, population_col: str) -> pd.Series:
    """Residents per unit from a CSV, as a Series indexed by unit code."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={code_col: str})
    except FileNotFoundError as exc:
        raise InputFileError(f"population file {path} does not exist") from exc
    missing = [c for c in (code_col, population_col) if c not in table.columns]
    if missing:
        raise SchemaError(f"population file {path} has no column(s) {missing}; it has {list(table.columns)}")
    values = pd.to_numeric(table[population_col], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
        raise SchemaError(f"population file {path}, line {row}: {population_col!r} is not a number")
    return pd.Series(values.to_numpy(), index=table[code_col].to_numpy(), name=schema.POPULATION)


def load_wards(path: Path | str | None = None, *, year: int = 2022) -> gpd.GeoDataFrame:
    """Ward polygons with ``ward_code, ward_name, population`` in EPSG:27700.

    Without ``path``, Bury's shipped wards: the 17 wards of 2022 (Census 2021 residents, summed from
    LSOAs by the ONS best-fit lookup) or, with ``year=2017``, the 17 pre-2022 wards (ONS mid-2017).
    A ``path`` must have ``ward_code`` and ``ward_name`` columns; use :func:`read_boundary` otherwise.
    """
    if path is None:
        if year not in BURY_WARDS:
            raise SchemaError(f"no shipped Bury wards for year={year}; choose one of {sorted(BURY_WARDS)}")
        path = BURY_WARDS[year]
    return read_boundary(path, code_col=schema.WARD_CODE, name_col=schema.WARD_NAME, kind="ward")


def load_lsoas(path: Path | str | None = None, *, era: int = 2021) -> gpd.GeoDataFrame:
    """LSOA polygons with ``lsoa_code, lsoa_name, population`` in EPSG:27700.

    police.uk files use 2011 LSOA codes up to early 2022 and 2021 codes after; pick the era that
    matches the data (:func:`lsoa_era_for_months`). Bury's 2021 LSOAs carry Census 2021 residents and
    their best-fit ``ward_code``; the 2011 LSOAs carry ONS mid-2017 estimates.
    """
    if path is None:
        if era not in BURY_LSOAS:
            raise SchemaError(f"no shipped Bury LSOAs for era={era}; choose 2011 or 2021")
        path = BURY_LSOAS[era]
    out = read_boundary(path, code_col="lsoa_code", name_col="lsoa_name", kind="lsoa")
    raw = gpd.read_file(path, columns=["ward_code"], ignore_geometry=True) if era == 2021 else None
    if raw is not None and "ward_code" in raw.columns:
        out.insert(len(out.columns) - 1, schema.WARD_CODE, raw["ward_code"].to_numpy())
    return out


def load_borough(path: Path | str | None = None, *, district: str | None = None) -> gpd.GeoDataFrame:
    """The borough outline (EPSG:27700); Bury by default.

    ``district`` picks one area of a file of several (a county's districts, a force's boroughs): the
    rows whose value in a text column equals it (case and surrounding spaces ignored; the first text
    column holding it is used). A name the file does not hold is a :class:`ParameterError` listing the
    names it does hold.
    """
    frame = _read_vector(path or BURY_BOROUGH)
    frame = frame[[c for c in frame.columns if c != "geometry"] + ["geometry"]]
    if district is None:
        return frame
    return select_district(frame, district, source=str(path or BURY_BOROUGH))


def _name_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns of a boundary file, the likeliest name column first (most distinct values, 'name' in it)."""
    text = [
        c for c in frame.columns if c != "geometry" and pd.api.types.infer_dtype(frame[c], skipna=False) == "string"
    ]
    return sorted(text, key=lambda c: (-("name" in c.lower() or "district" in c.lower()), -frame[c].nunique()))


def select_district(frame: gpd.GeoDataFrame, district: str, *, source: str) -> gpd.GeoDataFrame:
    """The rows of ``frame`` named ``district`` (see :func:`load_borough`); ``source`` names the file in errors."""
    want = district.strip().casefold()
    if not want:
        raise ParameterError(f"--district is empty; give the name of one area of {source}")
    columns = _name_columns(frame)
    for col in columns:
        hit = frame[col].str.strip().str.casefold().to_numpy() == want
        if hit.any():
            return frame[hit].reset_index(drop=True)
    if not columns:
        raise ParameterError(f"--district {district!r}: {source} has no text column of area names to choose from")
    names = sorted(frame[columns[0]].astype(str).unique())
    shown = ", ".join(names[:40]) + (f" and {len(names) - 40} more" if len(names) > 40 else "")
    raise ParameterError(
        f"--district {district!r} is not in {source}: its {columns[0]!r} column holds {shown}; pass one of them"
    )


def load_named_places(path: Path | str | None = None) -> gpd.GeoDataFrame:
    """Named places (``name``, ``kind``, polygon) used to name hotspot areas; Bury's by default.

    Bury's shipped places are approximate circles around well-known centres (town centres,
    Moorside, the Victoria Estate in Whitefield) drawn for this tool, not official boundaries.
    """
    frame = _read_vector(path or BURY_NAMED_PLACES)
    if "name" not in frame.columns:
        raise SchemaError(f"named-places file {path} needs a 'name' column")
    return frame


def mostly_in_shipped_borough(
    easting: np.ndarray, northing: np.ndarray, *, min_share: float = 0.5, counts: np.ndarray | None = None
) -> bool:
    """Whether at least ``min_share`` of the points lie inside Bury's shipped borough outline.

    The rule for using Bury's shipped wards, LSOAs and outline when the caller gave none: they stand
    for the data only when the data is mostly in Bury (a force-wide file holding Bury is not).

    Parameters
    ----------
    easting, northing
        Point coordinates in EPSG:27700 metres; NaN (unlocated) points are ignored.
    min_share
        Smallest share of the located points inside the outline, in (0, 1].
    counts
        Incidents at each point (distinct points with their multiplicities, e.g. from
        :func:`geo_csp.cube.located_points_dask`); default one per point.

    Returns
    -------
    bool
        ``False`` when there is no located point.
    """
    if not 0 < min_share <= 1:
        raise ParameterError(f"`min_share` must be in (0, 1]; got {min_share!r}")
    x = np.asarray(easting, dtype="float64")
    y = np.asarray(northing, dtype="float64")
    n = np.ones(len(x)) if counts is None else np.asarray(counts, dtype="float64")
    if n.shape != x.shape:
        raise ParameterError(f"`counts` must have one value per point ({len(x)}); got shape {n.shape}")
    ok = np.isfinite(x) & np.isfinite(y) & (n > 0)
    if not ok.any():
        return False
    outline = shapely.union_all(load_borough().geometry.to_numpy())
    shapely.prepare(outline)
    ux, uy, inverse = grid.unique_points(x[ok], y[ok])  # police.uk snap points repeat
    inside = shapely.intersects_xy(outline, ux, uy)[inverse]
    return bool(n[ok][inside].sum() >= min_share * n[ok].sum())


def lsoa_era_for_months(months: pd.Series | np.ndarray) -> int:
    """The LSOA era police.uk used for these months: 2011 before 2022, 2021 from 2022 on.

    Raises ``SchemaError`` when the months straddle the change (analyse each era separately).
    """
    m = pd.Series(months, dtype="string").dropna()
    if m.empty:
        return 2021
    early = (m < "2022-01").to_numpy()
    if early.all():
        return 2011
    if not early.any():
        return 2021
    raise SchemaError(
        "the months span the police.uk switch from 2011 to 2021 LSOA codes (January 2022); "
        "analyse LSOAs for each era separately or use wards or H3 cells"
    )


def assign_to_polygons(
    easting: np.ndarray, northing: np.ndarray, polygons: gpd.GeoDataFrame, *, code_col: str
) -> np.ndarray:
    """Code of the polygon containing each point (EPSG:27700 metres), or ``None`` outside all.

    Vectorised: each unique point is tested once with a shapely STRtree, since police.uk points repeat
    heavily (anonymised snap points). A point on a shared edge goes to the first polygon in order.
    NaN coordinates (unlocated incidents) get ``None``.
    """
    require_working_crs(polygons, "`polygons`")
    if code_col not in polygons.columns:
        raise SchemaError(f"polygons have no column {code_col!r}; they have {list(polygons.columns)}")
    x = np.asarray(easting, dtype="float64")
    y = np.asarray(northing, dtype="float64")
    out = np.full(x.shape[0], None, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return out
    ux, uy, inverse = grid.unique_points(x[ok], y[ok])
    points = shapely.points(ux, uy)
    tree = shapely.STRtree(polygons.geometry.to_numpy())
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    # first polygon (lowest position) per point
    order = np.lexsort((poly_idx, point_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    codes = np.full(len(ux), None, dtype=object)
    codes[point_idx[first]] = polygons[code_col].to_numpy()[poly_idx[first]]
    out[np.flatnonzero(ok)] = codes[inverse]
    return out
