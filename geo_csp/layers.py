"""Partner activity layers: CCTV cameras and their views, walkabout routes, operations, hubs and places.

Every reader returns a GeoDataFrame in the working CRS (EPSG:27700) with fixed column names first and the
file's other attribute columns after them (so a caller can still filter on, say, ``area_name``). A file
that cannot be used raises :class:`~geo_csp._errors.LayerError` naming the file, the feature (1-based
feature number, or the CSV line) and how to fix it; nothing is half-read.

Formats
-------
- CCTV cameras: CSV with ``lon``/``lat`` (or ``easting``/``northing``) columns, GeoJSON or GeoPackage of
  points; optional ``bearing_deg`` (compass degrees clockwise from north), ``fov_deg`` and ``range_m``.
  :func:`camera_views` turns them into view polygons: a sector when the bearing is known, otherwise a
  circle of ``default_radius_m``.
- Walkabout and patrol routes: GPX tracks (one track per walk; ``<name>``, ``<desc>`` listing the
  partners separated by ``"; "``, timestamped points), or GeoJSON/GPKG/KML lines with ``name``, ``date``
  and ``partners`` attributes.
- Operations: GeoJSON/GPKG with ``name``, ``type``, ``start_date``, ``end_date``, ``notes`` and
  ``footprint`` (``"polygon"``, ``"borough"`` or the name of a named place).
- Hubs and other places (schools, licensed premises, libraries): points as CSV or vector files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import store
from geo_csp._errors import LayerError
from geo_csp.settings import DISPLAY_CRS, EW_LAT_RANGE, EW_LON_RANGE, GB_BOUNDS_M, WORKING_CRS

if TYPE_CHECKING:  # gpxpy is imported where a GPX file is read
    from gpxpy.gpx import GPXRoute, GPXRoutePoint, GPXTrack, GPXTrackPoint

__all__ = [
    "LAYER_KINDS",
    "LAYER_STEMS",
    "LAYER_SUFFIXES",
    "PartnerLayers",
    "layer_files",
    "layers_folder",
    "store_layers",
    "CAMERA_COLUMNS",
    "OPERATION_COLUMNS",
    "PLACE_COLUMNS",
    "ROUTE_COLUMNS",
    "camera_views",
    "read_cctv",
    "read_hubs",
    "read_operations",
    "read_places",
    "read_routes",
]

CAMERA_COLUMNS = ("camera_id", "name", "bearing_deg", "fov_deg", "range_m")
ROUTE_COLUMNS = ("route_id", "name", "date", "partners")
OPERATION_COLUMNS = ("name", "type", "start_date", "end_date", "notes", "footprint")
PLACE_COLUMNS = ("place_id", "name", "kind")

_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".kml", ".shp", ".fgb"}
_LONLAT_PAIRS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))
_EN_PAIRS = (("easting", "northing"), ("eastings", "northings"))
# vertices on a sector's arc per degree of field of view: a 90-degree sector gets 45 arc segments,
# which keeps the polygon's area within 0.02 % of the true sector area
_ARC_SEGMENTS_PER_DEG = 0.5
UK_TZ = "Europe/London"  # walk dates are UK calendar days


# --------------------------------------------------------------------------------------------------
# Shared readers
# --------------------------------------------------------------------------------------------------
def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        raise LayerError(f"{what} file {path} does not exist; check the path")


def _find_col(columns: pd.Index, *names: str) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for name in names:
        if name in lower:
            found: str = lower[name]
            return found
    return None


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    _check_exists(path, what)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises several types for unreadable files
        raise LayerError(f"cannot read {what} file {path} as CSV: {exc}; save it as UTF-8 CSV with a header") from exc


def _numeric(table: pd.DataFrame, col: str, path: Path, what: str, *, required: bool) -> np.ndarray:
    """A column as floats; raise naming the first CSV line whose value is not a number."""
    raw = table[col]
    values: np.ndarray = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(values) & raw.notna().to_numpy()
    if required:
        bad |= np.isnan(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"{what} file {path}, line {i + 2}: {col!r} is {raw.iloc[i]!r}, not a number; fix or remove that row"
        )
    return values


def _points_from_table(table: pd.DataFrame, path: Path, what: str) -> gpd.GeoSeries:
    """Point geometry (EPSG:27700) from lon/lat or easting/northing columns of a CSV."""
    for x_name, y_name in _EN_PAIRS:
        x_col, y_col = _find_col(table.columns, x_name), _find_col(table.columns, y_name)
        if x_col and y_col:
            x = _numeric(table, x_col, path, what, required=True)
            y = _numeric(table, y_col, path, what, required=True)
            out = ~((x >= GB_BOUNDS_M[0]) & (x <= GB_BOUNDS_M[2]) & (y >= GB_BOUNDS_M[1]) & (y <= GB_BOUNDS_M[3]))
            if out.any():
                i = int(np.flatnonzero(out)[0])
                raise LayerError(
                    f"{what} file {path}, line {i + 2}: easting/northing ({x[i]}, {y[i]}) is outside Great "
                    "Britain; coordinates must be British National Grid metres (EPSG:27700)"
                )
            return gpd.GeoSeries(shapely.points(x, y), crs=WORKING_CRS)
    for x_name, y_name in _LONLAT_PAIRS:
        x_col, y_col = _find_col(table.columns, x_name), _find_col(table.columns, y_name)
        if x_col and y_col:
            lon = _numeric(table, x_col, path, what, required=True)
            lat = _numeric(table, y_col, path, what, required=True)
            out = ~(
                (lon >= EW_LON_RANGE[0])
                & (lon <= EW_LON_RANGE[1])
                & (lat >= EW_LAT_RANGE[0])
                & (lat <= EW_LAT_RANGE[1])
            )
            if out.any():
                i = int(np.flatnonzero(out)[0])
                swapped = EW_LON_RANGE[0] <= lat[i] <= EW_LON_RANGE[1] and EW_LAT_RANGE[0] <= lon[i] <= EW_LAT_RANGE[1]
                fix = "longitude and latitude look swapped" if swapped else "check the coordinates"
                raise LayerError(
                    f"{what} file {path}, line {i + 2}: lon/lat ({lon[i]}, {lat[i]}) is outside England and "
                    f"Wales; {fix}"
                )
            return gpd.GeoSeries(shapely.points(lon, lat), crs=DISPLAY_CRS).to_crs(WORKING_CRS)
    raise LayerError(
        f"{what} file {path} has no coordinate columns; give 'lon' and 'lat' (WGS84) or 'easting' and "
        f"'northing' (EPSG:27700). Its columns are {list(table.columns)}"
    )


def _read_vector(path: Path, what: str, *, geom_types: tuple[str, ...], layer: str | None = None) -> gpd.GeoDataFrame:
    _check_exists(path, what)
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(f"cannot read {what} file {path}: {exc}; give a GeoJSON, GeoPackage or KML file") from exc
    if frame.crs is None:
        raise LayerError(f"{what} file {path} has no CRS; save it with one (EPSG:27700 or EPSG:4326)")
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise LayerError(f"{what} file {path}, feature {i + 1}: has no geometry; give it one or remove it")
    wrong = ~frame.geom_type.isin(geom_types)
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise LayerError(
            f"{what} file {path}, feature {i + 1}: is a {frame.geom_type.iloc[i]}, but {what} must be "
            f"{' or '.join(geom_types)}; fix or remove that feature"
        )
    frame = frame.to_crs(WORKING_CRS)
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame = frame.set_geometry(shapely.make_valid(frame.geometry.to_numpy()))
    return frame


def _assemble(fixed: dict[str, object], rest: pd.DataFrame, geometry: gpd.GeoSeries | np.ndarray) -> gpd.GeoDataFrame:
    """Fixed columns first, the file's other attribute columns after, then the geometry."""
    extra = rest.drop(columns=[c for c in rest.columns if c in fixed or c == "geometry"], errors="ignore")
    data = {k: np.asarray(v) if not isinstance(v, pd.Series) else v.to_numpy() for k, v in fixed.items()}
    out = pd.DataFrame(data)
    for col in extra.columns:
        out[col] = extra[col].to_numpy()
    geom = geometry.to_numpy() if isinstance(geometry, gpd.GeoSeries) else geometry
    return gpd.GeoDataFrame(out, geometry=geom, crs=WORKING_CRS)


def _table_or_vector(path: Path, what: str, geom_types: tuple[str, ...]) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Attributes and geometry of a point layer given as CSV or as a vector file."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        table = _read_csv(path, what)
        if table.empty:
            raise LayerError(f"{what} file {path} has no rows")
        return table, _points_from_table(table, path, what)
    if suffix in _VECTOR_SUFFIXES:
        frame = _read_vector(path, what, geom_types=geom_types)
        if frame.empty:
            raise LayerError(f"{what} file {path} has no features")
        return pd.DataFrame(frame.drop(columns="geometry")), frame.geometry
    raise LayerError(
        f"{what} file {path}: unknown format {suffix!r}; give CSV (lon/lat or easting/northing), GeoJSON, "
        "GeoPackage or KML"
    )


def _optional_numeric(table: pd.DataFrame, names: tuple[str, ...], path: Path, what: str) -> np.ndarray:
    col = _find_col(table.columns, *names)
    if col is None:
        return np.full(len(table), np.nan)
    if table[col].dtype.kind in "fiu":
        numbers: np.ndarray = table[col].to_numpy(dtype="float64")
        return numbers
    return _numeric(table.astype({col: object}), col, path, what, required=False)


def _identifiers(table: pd.DataFrame, names: tuple[str, ...], prefix: str) -> np.ndarray:
    col = _find_col(table.columns, *names)
    if col is None:
        return np.array([f"{prefix}{i + 1}" for i in range(len(table))], dtype=object)
    ids: np.ndarray = table[col].astype("string").fillna("").to_numpy(dtype=object)
    blank = ids == ""
    ids[blank] = [f"{prefix}{i + 1}" for i in np.flatnonzero(blank)]
    return ids


def _names(table: pd.DataFrame, names: tuple[str, ...], fallback: np.ndarray) -> np.ndarray:
    col = _find_col(table.columns, *names)
    if col is None:
        return fallback.astype(object)
    values = table[col].astype("string").fillna("").to_numpy(dtype=object)
    return np.where(values == "", fallback, values)


# --------------------------------------------------------------------------------------------------
# CCTV
# --------------------------------------------------------------------------------------------------
def read_cctv(path: Path | str) -> gpd.GeoDataFrame:
    """Read CCTV camera points.

    Parameters
    ----------
    path
        CSV (``lon``/``lat`` or ``easting``/``northing``), GeoJSON or GeoPackage of points. Optional
        columns ``camera_id``, ``name`` (or ``location``), ``bearing_deg`` (compass degrees clockwise
        from north), ``fov_deg`` (field of view) and ``range_m``.

    Returns
    -------
    GeoDataFrame
        ``camera_id, name, bearing_deg, fov_deg, range_m`` (NaN where not given), the file's other
        columns, and point geometry in EPSG:27700.
    """
    path = Path(path)
    what = "CCTV"
    table, geometry = _table_or_vector(path, what, ("Point",))
    bearing = _optional_numeric(table, ("bearing_deg", "bearing", "direction"), path, what)
    fov = _optional_numeric(table, ("fov_deg", "fov", "field_of_view"), path, what)
    range_m = _optional_numeric(table, ("range_m", "range", "radius_m"), path, what)
    bad_fov = ~np.isnan(fov) & ((fov <= 0) | (fov > 360))
    bad_range = ~np.isnan(range_m) & (range_m <= 0)
    for bad, col, rule in ((bad_fov, "fov_deg", "between 0 and 360"), (bad_range, "range_m", "positive")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = f"line {i + 2}" if path.suffix.lower() in (".csv", ".txt") else f"feature {i + 1}"
            raise LayerError(f"CCTV file {path}, {where}: {col} must be {rule}; fix or leave it empty")
    ids = _identifiers(table, ("camera_id", "id", "fid"), "camera-")
    fixed = {
        "camera_id": ids,
        "name": _names(table, ("name", "location", "description"), ids),
        "bearing_deg": np.mod(bearing, 360.0),
        "fov_deg": fov,
        "range_m": range_m,
    }
    return _assemble(fixed, table, geometry)


def camera_views(
    cameras: gpd.GeoDataFrame,
    *,
    default_radius_m: float = 50.0,
    default_fov_deg: float = 90.0,
) -> gpd.GeoDataFrame:
    """The area each camera sees: a sector when its bearing is known, a circle otherwise.

    Parameters
    ----------
    cameras
        Output of :func:`read_cctv` (EPSG:27700).
    default_radius_m
        Range used when a camera has no ``range_m``; also the circle radius for cameras without a bearing.
    default_fov_deg
        Field of view for a camera with a bearing but no ``fov_deg``.

    Returns
    -------
    GeoDataFrame
        The cameras' attribute columns plus ``view`` (``"sector"`` or ``"circle"``) and ``view_radius_m``,
        with polygon geometry, index preserved.
    """
    if cameras.crs is None or cameras.crs != WORKING_CRS:
        raise LayerError(f"cameras are in {cameras.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
    if default_radius_m <= 0 or not 0 < default_fov_deg <= 360:
        raise LayerError("default_radius_m must be positive and default_fov_deg in (0, 360]")
    n = len(cameras)
    radius = cameras.get("range_m", pd.Series(np.nan, index=cameras.index)).to_numpy(dtype="float64")
    radius = np.where(np.isnan(radius), default_radius_m, radius)
    bearing = cameras.get("bearing_deg", pd.Series(np.nan, index=cameras.index)).to_numpy(dtype="float64")
    fov = cameras.get("fov_deg", pd.Series(np.nan, index=cameras.index)).to_numpy(dtype="float64")
    fov = np.where(np.isnan(fov), default_fov_deg, fov)
    x = shapely.get_x(cameras.geometry.to_numpy())
    y = shapely.get_y(cameras.geometry.to_numpy())
    geoms = np.empty(n, dtype=object)
    is_sector = ~np.isnan(bearing) & (fov < 360)
    # circles (vectorised buffer; 64 segments keeps the area within 0.2 % of pi r^2)
    circ = ~is_sector
    if circ.any():
        geoms[circ] = shapely.buffer(cameras.geometry.to_numpy()[circ], radius[circ], quad_segs=16)
    if is_sector.any():
        k = int(np.ceil(_ARC_SEGMENTS_PER_DEG * 360))  # same vertex count for every sector
        t = np.linspace(0.0, 1.0, k + 1)
        b, f, r = bearing[is_sector, None], fov[is_sector, None], radius[is_sector, None]
        theta = np.deg2rad(b - f / 2 + f * t)  # compass angles along the arc
        ax = x[is_sector, None] + r * np.sin(theta)
        ay = y[is_sector, None] + r * np.cos(theta)
        cx, cy = x[is_sector, None], y[is_sector, None]
        ring_x = np.hstack([cx, ax, cx])
        ring_y = np.hstack([cy, ay, cy])
        geoms[is_sector] = shapely.polygons(np.stack([ring_x, ring_y], axis=-1))
    out = cameras.drop(columns="geometry").copy()
    out["view"] = np.where(is_sector, "sector", "circle")
    out["view_radius_m"] = radius
    return gpd.GeoDataFrame(out, geometry=geoms, crs=WORKING_CRS, index=cameras.index)


# --------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------
def _first_day(times: list[Any]) -> pd.Timestamp:
    """UK calendar day (Europe/London, midnight, tz-naive) of the earliest timestamp, or NaT.

    GPX times are UTC: a walk starting at 00:30 BST on 2 June is at 23:30 UTC on 1 June, and its day is
    2 June. Naive times are taken as UTC, as the GPX standard defines them.
    """
    if not times:
        return pd.NaT
    first = pd.Timestamp(min(times))
    first = first.tz_localize("UTC") if first.tzinfo is None else first
    return first.tz_convert(UK_TZ).tz_localize(None).normalize()


def _read_gpx(path: Path) -> gpd.GeoDataFrame:
    import gpxpy
    import gpxpy.gpx

    _check_exists(path, "route")
    try:
        with path.open(encoding="utf-8") as handle:
            gpx = gpxpy.parse(handle)
    except (gpxpy.gpx.GPXException, ValueError, UnicodeDecodeError) as exc:
        raise LayerError(f"route file {path} is not valid GPX: {exc}; export it again from the GPS app") from exc
    rows: list[dict[str, object]] = []
    walks: list[tuple[str, GPXTrack | GPXRoute, list[GPXTrackPoint | GPXRoutePoint]]] = [
        ("track", t, [p for seg in t.segments for p in seg.points]) for t in gpx.tracks
    ]
    walks += [("route", r, list(r.points)) for r in gpx.routes]
    for i, (label, walk, points) in enumerate(walks):
        if len(points) < 2:
            raise LayerError(
                f"route file {path}, {label} {i + 1} ({walk.name or 'unnamed'}): has {len(points)} point(s); "
                "a walk needs at least 2 points, fix or remove it"
            )
        rows.append(
            {
                "route_id": f"{label}-{i + 1}",
                "name": walk.name or f"{label}-{i + 1}",
                "date": _first_day([p.time for p in points if p.time is not None]),
                "partners": "; ".join(s.strip() for s in (walk.description or "").split(";") if s.strip()),
                "n_points": len(points),
                "coords": [(p.longitude, p.latitude) for p in points],
            }
        )
    if not rows:
        raise LayerError(f"route file {path} has no tracks or routes; record the walk as a GPX track")
    table = pd.DataFrame(rows)
    lines = gpd.GeoSeries([shapely.LineString(c) for c in table.pop("coords")], crs=DISPLAY_CRS).to_crs(WORKING_CRS)
    table["date"] = pd.to_datetime(table["date"])
    return gpd.GeoDataFrame(table, geometry=lines.to_numpy(), crs=WORKING_CRS)


def read_routes(path: Path | str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read walkabout or patrol routes.

    Parameters
    ----------
    path
        GPX (tracks or routes; ``<desc>`` lists partners separated by ``";"``; the date is the first
        point's time), or GeoJSON/GPKG/KML lines with optional ``name``, ``date`` and ``partners``.
    layer
        Layer of a multi-layer file (GeoPackage, KML).

    Returns
    -------
    GeoDataFrame
        ``route_id, name, date`` (datetime64, midnight of the UK calendar day; NaT when unknown), ``partners`` (``"; "``-separated
        text), the file's other columns and line geometry in EPSG:27700.
    """
    path = Path(path)
    if path.suffix.lower() == ".gpx":
        return _read_gpx(path)
    if path.suffix.lower() not in _VECTOR_SUFFIXES:
        raise LayerError(f"route file {path}: unknown format {path.suffix!r}; give GPX, GeoJSON, GeoPackage or KML")
    frame = _read_vector(path, "route", geom_types=("LineString", "MultiLineString"), layer=layer)
    if frame.empty:
        raise LayerError(f"route file {path} has no features")
    table = pd.DataFrame(frame.drop(columns="geometry"))
    date_col = _find_col(table.columns, "date", "start_date", "walked_on", "timestamp", "begin")
    if date_col is None:
        dates = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    else:
        dates = pd.to_datetime(table[date_col], errors="coerce", utc=True)
        bad = dates.isna() & table[date_col].notna() & (table[date_col].astype(str) != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise LayerError(
                f"route file {path}, feature {i + 1}: {date_col!r} is {table[date_col].iloc[i]!r}, not a date; "
                "write it as YYYY-MM-DD"
            )
        dates = dates.dt.tz_convert(UK_TZ).dt.tz_localize(None).dt.normalize()
    ids = _identifiers(table, ("route_id", "id"), "route-")
    partners_col = _find_col(table.columns, "partners", "partner", "agencies")
    partners = (
        table[partners_col]
        .astype("string")
        .fillna("")
        .str.replace(r"\s*[;,]\s*", "; ", regex=True)
        .to_numpy(dtype=object)
        if partners_col
        else np.full(len(table), "", dtype=object)
    )
    fixed = {
        "route_id": ids,
        "name": _names(table, ("name", "description"), ids),
        "date": dates.to_numpy(),
        "partners": partners,
    }
    out = _assemble(fixed, table, frame.geometry)
    out["date"] = pd.to_datetime(out["date"])
    return out


# --------------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------------
def read_operations(
    path: Path | str,
    *,
    borough: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read operations: name, type, footprint and dates.

    Parameters
    ----------
    path
        GeoJSON or GeoPackage. Each feature has ``name``, ``start_date`` and ``end_date`` (YYYY-MM-DD),
        optional ``type`` and ``notes``, and ``footprint``: ``"polygon"`` (its own geometry),
        ``"borough"`` (the whole borough, e.g. a day of action) or the name of a place in ``places``.
        Features whose footprint is not ``"polygon"`` may have null geometry.
    borough
        Borough outline, used for ``footprint == "borough"`` features.
    places
        Named places (``name`` column, polygons), used for named footprints.

    Returns
    -------
    GeoDataFrame
        ``name, type, start_date, end_date`` (datetime64), ``notes``, ``footprint``, the file's other
        columns and polygon geometry in EPSG:27700.
    """
    path = Path(path)
    frame = _read_operations_file(path)
    starts, ends = _operation_dates(frame, path)
    footprint = (
        frame["footprint"].astype("string").fillna("polygon").str.strip().to_numpy(dtype=object)
        if "footprint" in frame.columns
        else np.full(len(frame), "polygon", dtype=object)
    )
    geoms = _operation_footprints(frame, footprint, path, borough=borough, places=places)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    fixed = {
        "name": table["name"].astype(str).to_numpy(),
        "type": table["type"].astype("string").fillna("targeted").to_numpy(dtype=object)
        if "type" in table
        else np.full(len(table), "targeted", dtype=object),
        "start_date": starts.to_numpy(),
        "end_date": ends.to_numpy(),
        "notes": table["notes"].astype("string").fillna("").to_numpy(dtype=object)
        if "notes" in table
        else np.full(len(table), "", dtype=object),
        "footprint": footprint,
    }
    return _assemble(fixed, table, geoms)


def _read_operations_file(path: Path) -> gpd.GeoDataFrame:
    """The operations file's features in EPSG:27700, refused unless each has a name and both dates."""
    _check_exists(path, "operations")
    if path.suffix.lower() not in _VECTOR_SUFFIXES:
        raise LayerError(f"operations file {path}: unknown format {path.suffix!r}; give GeoJSON or GeoPackage")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:
        raise LayerError(f"cannot read operations file {path}: {exc}; give a GeoJSON or GeoPackage") from exc
    if frame.empty:
        raise LayerError(f"operations file {path} has no features")
    if frame.crs is None:
        raise LayerError(f"operations file {path} has no CRS; save it with one (EPSG:27700 or EPSG:4326)")
    frame = frame.to_crs(WORKING_CRS)
    for col in ("name", "start_date", "end_date"):
        if col not in frame.columns:
            raise LayerError(
                f"operations file {path} has no {col!r} property; every operation needs name, start_date and end_date"
            )
    return frame


def _operation_dates(frame: gpd.GeoDataFrame, path: Path) -> tuple[pd.Series, pd.Series]:
    """Each operation's start and end dates, refused when one is not a date or ends before it starts."""
    starts = pd.to_datetime(frame["start_date"], errors="coerce")
    ends = pd.to_datetime(frame["end_date"], errors="coerce")
    for col, values in (("start_date", starts), ("end_date", ends)):
        if values.isna().any():
            i = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise LayerError(
                f"operations file {path}, feature {i + 1} ({frame['name'].iloc[i]}): {col} is "
                f"{frame[col].iloc[i]!r}, not a date; write it as YYYY-MM-DD"
            )
    backwards = (ends < starts).to_numpy()
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise LayerError(
            f"operations file {path}, feature {i + 1} ({frame['name'].iloc[i]}): end_date is before start_date; swap them"
        )
    return starts, ends


def _operation_footprints(
    frame: gpd.GeoDataFrame,
    footprint: np.ndarray,
    path: Path,
    *,
    borough: gpd.GeoDataFrame | None,
    places: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """Each operation's polygon (made valid): its own geometry, else the borough or the place its
    ``footprint`` names; refused when there is none or it is not a polygon."""
    geoms = frame.geometry.to_numpy().copy()
    has_geom = ~(pd.isna(geoms) | shapely.is_empty(np.where(pd.isna(geoms), shapely.Point(), geoms)))
    for i in np.flatnonzero(~has_geom):  # at most a handful of operations: fill footprints by name
        key = str(footprint[i])
        if key.lower() == "borough":
            if borough is None or borough.empty:
                raise LayerError(
                    f"operations file {path}, feature {i + 1} ({frame['name'].iloc[i]}): footprint is 'borough' "
                    "but no borough outline was given; pass borough=load_borough()"
                )
            geoms[i] = shapely.union_all(borough.to_crs(WORKING_CRS).geometry.to_numpy())
        elif places is not None and key in set(places["name"]):
            geoms[i] = shapely.union_all(places.to_crs(WORKING_CRS).loc[places["name"] == key].geometry.to_numpy())
        else:
            raise LayerError(
                f"operations file {path}, feature {i + 1} ({frame['name'].iloc[i]}): no geometry and footprint "
                f"{key!r} is neither 'borough' nor a known place; draw its polygon or name a place"
            )
    poly = shapely.get_type_id(geoms)
    wrong = ~np.isin(poly, (3, 6))
    if wrong.any():
        bad = int(np.flatnonzero(wrong)[0])
        raise LayerError(
            f"operations file {path}, feature {bad + 1} ({frame['name'].iloc[bad]}): footprint must be a polygon, "
            f"not a {geoms[bad].geom_type}; draw the area the operation covered"
        )
    valid: np.ndarray = shapely.make_valid(geoms)
    return valid


# --------------------------------------------------------------------------------------------------
# Hubs and places
# --------------------------------------------------------------------------------------------------
def read_places(path: Path | str, *, kind: str | None = None) -> gpd.GeoDataFrame:
    """Read points of interest: community hubs, libraries, schools, licensed premises.

    Parameters
    ----------
    path
        CSV (``lon``/``lat`` or ``easting``/``northing``), GeoJSON or GeoPackage of points.
    kind
        Kind given to every row (e.g. ``"library"``); otherwise the file's ``kind`` or ``type`` column,
        or ``"place"``.

    Returns
    -------
    GeoDataFrame
        ``place_id, name, kind``, the file's other columns and point geometry in EPSG:27700.
    """
    path = Path(path)
    table, geometry = _table_or_vector(path, "places", ("Point",))
    ids = _identifiers(table, ("hub_id", "place_id", "id", "camera_id"), "place-")
    if kind is None:
        kind_col = _find_col(table.columns, "kind", "type", "category")
        kinds = (
            table[kind_col].astype("string").fillna("place").to_numpy(dtype=object)
            if kind_col
            else np.full(len(table), "place", dtype=object)
        )
    else:
        kinds = np.full(len(table), kind, dtype=object)
    fixed = {
        "place_id": ids,
        "name": _names(table, ("name", "community_hub", "premisesname", "location"), ids),
        "kind": kinds,
    }
    return _assemble(fixed, table, geometry)


def read_hubs(path: Path | str, *, kind: Literal["hub"] | str | None = None) -> gpd.GeoDataFrame:
    """Read community hubs (walkabout start points); same format and columns as :func:`read_places`."""
    return read_places(path, kind=kind)


# --------------------------------------------------------------------------------------------------
# A store's partner layers
# --------------------------------------------------------------------------------------------------
#: The partner layers a store can hold, by the one name each goes by (config keys, options, app pages).
LAYER_KINDS = ("cctv", "walkabouts", "operations", "hubs")
#: File names (without suffix) each layer is found under in a layers folder, in order; ``routes`` and
#: ``walks`` are the names older stores and exports used for walkabouts.
LAYER_STEMS: dict[str, tuple[str, ...]] = {
    "cctv": ("cctv", "cameras"),
    "walkabouts": ("walkabouts", "routes", "walks"),
    "operations": ("operations",),
    "hubs": ("hubs",),
}
#: Suffixes tried for each stem, in order.
LAYER_SUFFIXES = (".csv", ".geojson", ".gpkg", ".gpx", ".kml", ".json")
#: Older names of a layer kind in a config's ``"layers"`` table, read as the kind.
_OLD_KIND_NAMES = {"routes": "walkabouts"}


@dataclass(frozen=True)
class PartnerLayers:
    """A store's partner layers, read once (:func:`store_layers`); ``None`` where a layer is absent.

    Attributes
    ----------
    cameras, views
        CCTV cameras (:func:`read_cctv`) and the area each sees (:func:`camera_views`).
    walkabouts
        Recorded walkabout routes (:func:`read_routes`).
    operations
        Operations (:func:`read_operations`), footprints filled from the borough and places given.
    hubs
        Community hubs (:func:`read_hubs`).
    network
        The walking network file (the first ``*.graphml`` of the folder), or ``None``.
    files
        ``(kind, path)`` of each layer read, ``path`` ``None`` where none was found.
    problems
        ``(kind, message)`` of each layer file that could not be read (with ``errors="skip"``).
    """

    cameras: gpd.GeoDataFrame | None = None
    views: gpd.GeoDataFrame | None = None
    walkabouts: gpd.GeoDataFrame | None = None
    operations: gpd.GeoDataFrame | None = None
    hubs: gpd.GeoDataFrame | None = None
    network: Path | None = None
    files: tuple[tuple[str, str | None], ...] = ()
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def missing(self) -> tuple[str, ...]:
        """The layer kinds no file was found for."""
        return tuple(kind for kind, path in self.files if path is None)


def layers_folder(config: store.StoreConfig) -> Path | None:
    """A store's partner layers folder: its config's ``layers_dir``, else a ``layers`` folder beside the store
    (the demo borough's layout) when there is one, else ``None``."""
    configured = config.path("layers_dir")
    if configured is not None:
        return configured
    beside = config.store_dir.absolute().parent / "layers"
    return beside if beside.is_dir() else None


def layer_files(
    config: store.StoreConfig | None,
    *,
    folder: Path | None = None,
    given: dict[str, Path | None] | None = None,
) -> dict[str, Path | None]:
    """The file of each partner layer (:data:`LAYER_KINDS`), by one rule.

    In order: the file ``given`` for the kind (a command's ``--cctv``, ...); the config's ``"layers"``
    table (kind -> path, relative to the store; ``routes`` is read as ``walkabouts``); else
    ``<folder>/<stem><suffix>`` for the kind's :data:`LAYER_STEMS` and :data:`LAYER_SUFFIXES`.
    ``folder`` defaults to :func:`layers_folder`.
    """
    given = given or {}
    unknown = sorted(set(given) - set(LAYER_KINDS))
    if unknown:
        raise LayerError(f"unknown partner layer(s) {unknown}; the layers are {', '.join(LAYER_KINDS)}")
    table: dict[str, Path | None] = {}
    if config is not None:
        for kind, value in config.layers:
            table[_OLD_KIND_NAMES.get(kind, kind)] = store.config_path(config.store_dir, value)
        folder = folder if folder is not None else layers_folder(config)
    out: dict[str, Path | None] = {}
    for kind in LAYER_KINDS:
        path = given.get(kind) or table.get(kind)
        if path is None and folder is not None:
            path = next(
                (
                    folder / f"{stem}{suffix}"
                    for stem in LAYER_STEMS[kind]
                    for suffix in LAYER_SUFFIXES
                    if (folder / f"{stem}{suffix}").exists()
                ),
                None,
            )
        out[kind] = path
    return out


def store_layers(
    config: store.StoreConfig | None,
    *,
    folder: Path | None = None,
    given: dict[str, Path | None] | None = None,
    borough: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
    camera_radius_m: float = 50.0,
    errors: Literal["raise", "skip"] = "raise",
) -> PartnerLayers:
    """Every partner layer of a store, found by :func:`layer_files` and read by this module's readers.

    Parameters
    ----------
    config
        The store's config (:func:`geo_csp.store.read_config`); ``None`` for layers given as files only.
    folder, given
        As :func:`layer_files`: a layers folder instead of the config's, and files named one by one.
    borough, places
        The store's own outline and named places (:func:`geo_csp.geography.store_geography`): operations
        whose footprint is ``"borough"`` or a place's name are drawn on them, never on another borough's.
    camera_radius_m
        View radius of cameras with no ``range_m``.
    errors
        ``"raise"``: a file that cannot be read raises its :class:`LayerError`; ``"skip"``: it is left
        out and its message kept in ``problems`` (a map must still open).
    """
    if errors not in ("raise", "skip"):
        raise LayerError(f"`errors` must be 'raise' or 'skip', not {errors!r}")
    files = layer_files(config, folder=folder, given=given)
    folder = folder if folder is not None or config is None else layers_folder(config)
    readers: dict[str, Callable[[Path | str], gpd.GeoDataFrame]] = {
        "cctv": read_cctv,
        "walkabouts": read_routes,
        "operations": lambda p: read_operations(p, borough=borough, places=places),
        "hubs": read_hubs,
    }
    read: dict[str, gpd.GeoDataFrame | None] = dict.fromkeys(LAYER_KINDS)
    problems = []
    for kind, path in files.items():
        if path is None:
            continue
        try:
            read[kind] = readers[kind](path)
        except (LayerError, OSError, ValueError) as exc:  # readers name the file; a stray error is kept too
            if errors == "raise":
                raise
            problems.append((kind, str(exc)))
    cameras = read["cctv"]
    networks = sorted(folder.glob("*.graphml")) if folder is not None and folder.is_dir() else []
    return PartnerLayers(
        cameras=cameras,
        views=None if cameras is None else camera_views(cameras, default_radius_m=camera_radius_m),
        walkabouts=read["walkabouts"],
        operations=read["operations"],
        hubs=read["hubs"],
        network=networks[0] if networks else None,
        files=tuple((k, None if p is None else str(p)) for k, p in files.items()),
        problems=tuple(problems),
    )
