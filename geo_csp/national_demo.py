"""A synthetic national data set in the data.police.uk archive layout, for benchmarks (not tests).

:func:`generate_national` writes ``N`` street-level incidents over the 43 territorial forces of
England and Wales and a run of months, one CSV per force and month, as data.police.uk publishes them::

    <out>/YYYY-MM/YYYY-MM-<force>-street.csv      (the 12-column street header)

Everything is **SYNTHETIC** (the ``Context`` column says so on every row, and ``README.txt`` in the
output folder). The spatial structure is built to resemble police.uk, so that the number of occupied
H3 cells, distinct snap points and rows per file are realistic:

- each force has a centre and a radius (approximate, from the force's main urban area and size) and a
  share of national recorded crime (approximate, 2019-2023 order of magnitude);
- a force's anonymous **snap points** (about 750,000 nationally, the order of police.uk's map points)
  sit mostly in towns (Pareto-sized, Gaussian spread of 0.4-4 km around a town centre) with a rural
  scatter over the force area;
- each snap point has a lognormal "attractiveness", so crime concentrates on a few streets as it
  does in every city (a small share of places has most of the crime); about 5% of snap points trend
  up or down over the months so emerging and diminishing hotspots exist;
- crime types follow national proportions; about 2% of rows have no coordinates (police.uk publishes
  such rows) and the anti-social behaviour rows have no crime id, as on police.uk.

Every array operation is vectorised numpy; the only loops are over forces and months (one CSV each).
CSV text is written by :func:`pyarrow.csv.write_csv`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyproj import Transformer

from geo_csp import schema, settings
from geo_csp._errors import ParameterError
from geo_csp.periods import month_range

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["FORCES", "NationalSummary", "force_areas", "generate_national"]

# slug, name, centre lon, centre lat, share of national crime (%), radius (km). Approximate.
FORCES: Final[tuple[tuple[str, str, float, float, float, float], ...]] = (
    ("avon-and-somerset", "Avon and Somerset Constabulary", -2.62, 51.40, 2.7, 30),
    ("bedfordshire", "Bedfordshire Police", -0.45, 52.00, 0.9, 15),
    ("cambridgeshire", "Cambridgeshire Constabulary", -0.10, 52.35, 1.2, 28),
    ("cheshire", "Cheshire Constabulary", -2.55, 53.20, 1.5, 22),
    ("city-of-london", "City of London Police", -0.092, 51.515, 0.1, 1.2),
    ("cleveland", "Cleveland Police", -1.22, 54.57, 1.2, 12),
    ("cumbria", "Cumbria Constabulary", -2.90, 54.55, 0.5, 40),
    ("derbyshire", "Derbyshire Constabulary", -1.55, 53.05, 1.5, 22),
    ("devon-and-cornwall", "Devon & Cornwall Police", -4.00, 50.55, 2.4, 55),
    ("dorset", "Dorset Police", -2.10, 50.75, 0.9, 25),
    ("durham", "Durham Constabulary", -1.60, 54.70, 1.0, 20),
    ("dyfed-powys", "Dyfed-Powys Police", -3.90, 52.20, 0.6, 45),
    ("essex", "Essex Police", 0.55, 51.75, 3.0, 28),
    ("gloucestershire", "Gloucestershire Constabulary", -2.20, 51.85, 0.8, 20),
    ("greater-manchester", "Greater Manchester Police", -2.24, 53.48, 6.5, 15),
    ("gwent", "Gwent Police", -3.00, 51.70, 0.9, 15),
    ("hampshire", "Hampshire Constabulary", -1.30, 50.95, 3.2, 30),
    ("hertfordshire", "Hertfordshire Constabulary", -0.25, 51.80, 1.5, 20),
    ("humberside", "Humberside Police", -0.40, 53.70, 1.6, 25),
    ("kent", "Kent Police", 0.75, 51.25, 3.4, 32),
    ("lancashire", "Lancashire Constabulary", -2.60, 53.80, 2.8, 25),
    ("leicestershire", "Leicestershire Police", -1.13, 52.63, 1.6, 20),
    ("lincolnshire", "Lincolnshire Police", -0.35, 53.10, 0.9, 40),
    ("merseyside", "Merseyside Police", -2.95, 53.42, 2.8, 10),
    ("metropolitan", "Metropolitan Police Service", -0.12, 51.51, 15.5, 18),
    ("norfolk", "Norfolk Constabulary", 1.00, 52.65, 1.2, 35),
    ("north-wales", "North Wales Police", -3.50, 53.10, 1.0, 30),
    ("north-yorkshire", "North Yorkshire Police", -1.30, 54.10, 1.0, 45),
    ("northamptonshire", "Northamptonshire Police", -0.90, 52.30, 1.0, 22),
    ("northumbria", "Northumbria Police", -1.60, 55.00, 2.6, 20),
    ("nottinghamshire", "Nottinghamshire Police", -1.15, 53.00, 1.8, 18),
    ("south-wales", "South Wales Police", -3.40, 51.55, 2.1, 20),
    ("south-yorkshire", "South Yorkshire Police", -1.40, 53.45, 2.7, 15),
    ("staffordshire", "Staffordshire Police", -2.05, 52.85, 1.6, 22),
    ("suffolk", "Suffolk Constabulary", 1.00, 52.20, 0.9, 30),
    ("surrey", "Surrey Police", -0.45, 51.25, 1.4, 20),
    ("sussex", "Sussex Police", -0.30, 50.90, 2.5, 30),
    ("thames-valley", "Thames Valley Police", -1.10, 51.60, 3.6, 35),
    ("warwickshire", "Warwickshire Police", -1.55, 52.35, 0.7, 18),
    ("west-mercia", "West Mercia Police", -2.50, 52.30, 1.8, 40),
    ("west-midlands", "West Midlands Police", -1.90, 52.48, 5.5, 14),
    ("west-yorkshire", "West Yorkshire Police", -1.65, 53.78, 5.8, 18),
    ("wiltshire", "Wiltshire Police", -1.90, 51.35, 0.8, 25),
)
WELSH_FORCES: Final = frozenset({"dyfed-powys", "gwent", "north-wales", "south-wales"})

# National shares of the 14 police.uk categories (order of schema.CRIME_TYPES), roughly 2019-2023.
CRIME_TYPE_SHARES: Final = np.array(
    [0.22, 0.008, 0.06, 0.085, 0.02, 0.02, 0.075, 0.008, 0.085, 0.01, 0.06, 0.014, 0.06, 0.275]
)
_OUTCOMES: Final = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Status update unavailable",
    "Under investigation",
    "Awaiting court outcome",
    "Offender given a caution",
    "Local resolution",
    "Further investigation is not in the public interest",
)
_STREETS: Final = (
    "High Street",
    "Station Road",
    "Church Street",
    "Park Road",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Church Lane",
    "Mill Lane",
    "Queens Road",
    "Kings Road",
    "New Road",
    "School Lane",
    "Market Street",
    "Bridge Street",
    "North Street",
    "South Street",
    "West Street",
    "George Street",
    "Albert Road",
    "London Road",
    "York Road",
    "The Crescent",
    "Chapel Street",
    "Parking Area",
    "Supermarket",
    "Shopping Area",
    "Sports/Recreation Area",
    "Petrol Station",
    "Nightclub",
)
NATIONAL_SNAP_POINTS: Final = 750_000
UNLOCATED_SHARE: Final = 0.02
TREND_SHARE: Final = 0.05
_TO_LONLAT = Transformer.from_crs(settings.WORKING_CRS, settings.DISPLAY_CRS, always_xy=True)
_TO_BNG = Transformer.from_crs(settings.DISPLAY_CRS, settings.WORKING_CRS, always_xy=True)


@dataclass(frozen=True)
class NationalSummary:
    """What :func:`generate_national` wrote."""

    out_dir: Path
    files: tuple[Path, ...]
    rows: int
    located_rows: int
    snap_points: int
    months: tuple[str, ...]
    forces: tuple[str, ...]
    bytes_written: int
    seed: int


@dataclass(frozen=True)
class _ForcePoints:
    """One force's snap points and their per-point text (arrow arrays, taken per incident)."""

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray  # base attractiveness
    trend: np.ndarray  # log-rate change over the whole run
    location: pa.Array
    lsoa_code: pa.Array
    lsoa_name: pa.Array


def _force_points(
    rng: np.random.Generator, slug: str, lon0: float, lat0: float, radius_km: float, n_points: int
) -> _ForcePoints:
    """Snap points of one force: towns with Gaussian spread plus a rural scatter, in BNG metres."""
    x0, y0 = _TO_BNG.transform(lon0, lat0)
    radius_m = radius_km * 1000.0
    n_towns = int(np.clip(n_points // 600, 3, 120))
    size = rng.pareto(1.1, n_towns) + 1.0
    size /= size.sum()
    # The biggest town sits at the centre; the others spread over the force area.
    tx = x0 + rng.normal(0.0, radius_m / 2.0, n_towns)
    ty = y0 + rng.normal(0.0, radius_m / 2.0, n_towns)
    tx[0], ty[0] = x0, y0
    town_sigma = np.clip(4000.0 * np.sqrt(size / size.max()), 400.0, min(4000.0, radius_m / 2.0))
    n_rural = int(0.15 * n_points)
    n_urban = n_points - n_rural
    town = rng.choice(n_towns, size=n_urban, p=size)
    ux = tx[town] + rng.normal(0.0, 1.0, n_urban) * town_sigma[town]
    uy = ty[town] + rng.normal(0.0, 1.0, n_urban) * town_sigma[town]
    r = radius_m * np.sqrt(rng.uniform(0.0, 1.0, n_rural))
    theta = rng.uniform(0.0, 2.0 * np.pi, n_rural)
    x = np.concatenate([ux, x0 + r * np.cos(theta)])
    y = np.concatenate([uy, y0 + r * np.sin(theta)])
    lon, lat = _TO_LONLAT.transform(x, y)
    lon = np.clip(np.round(lon, 6), settings.EW_LON_RANGE[0] + 0.3, settings.EW_LON_RANGE[1] - 0.3)
    lat = np.clip(np.round(lat, 6), settings.EW_LAT_RANGE[0] + 0.3, settings.EW_LAT_RANGE[1] - 0.3)
    # Attractiveness: heavy-tailed, lower in the rural scatter.
    weight = rng.lognormal(0.0, 1.3, n_points)
    weight[n_urban:] *= 0.3
    trend = np.where(rng.uniform(size=n_points) < TREND_SHARE, rng.normal(0.0, 1.5, n_points), 0.0)
    # Text per point: a street name, and an LSOA (about 60 points per LSOA, ordered in space).
    street = rng.integers(0, len(_STREETS), n_points)
    location = pa.array(np.char.add("On or near ", np.asarray(_STREETS, dtype=str)[street]))
    lsoa = np.argsort(np.argsort(np.round(x, -3) * 1e7 + y)) // 60
    prefix = "W01" if slug in WELSH_FORCES else "E01"
    base = zlib.crc32(slug.encode()) % 30_000
    lsoa_code = pa.array(np.char.add(prefix, np.char.zfill((base + lsoa).astype(str), 6)))
    place = slug.replace("-", " ").title()
    lsoa_name = pa.array(
        np.char.add(
            np.char.add(f"{place} ", np.char.zfill((lsoa // 4).astype(str), 3)), np.asarray(list("ABCD"))[lsoa % 4]
        )
    )
    return _ForcePoints(lon, lat, weight, trend, location, lsoa_code, lsoa_name)


_HEX: Final = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _crime_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random 64-hex-digit ids, like police.uk's (vectorised through a byte lookup table)."""
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    hexed = np.ascontiguousarray(_HEX[raw]).view("S64").ravel()
    return pa.array(hexed, type=pa.binary()).cast(pa.string())


def _force_month_table(
    rng: np.random.Generator,
    pts: _ForcePoints,
    *,
    name: str,
    month: str,
    month_pos: float,
    n_rows: int,
    type_names: pa.Array,
    outcome_names: pa.Array,
) -> pa.Table:
    """One force's street CSV for one month, as an arrow table with the police.uk header."""
    rate = pts.weight * np.exp(pts.trend * (month_pos - 0.5))
    cum = np.cumsum(rate)
    point = np.searchsorted(cum, rng.uniform(0.0, cum[-1], n_rows), side="right")
    point = np.minimum(point, len(cum) - 1)
    ctype = rng.choice(len(schema.CRIME_TYPES), size=n_rows, p=CRIME_TYPE_SHARES / CRIME_TYPE_SHARES.sum())
    is_asb = ctype == schema.CRIME_TYPES.index("Anti-social behaviour")
    located = rng.uniform(size=n_rows) >= UNLOCATED_SHARE
    take = pa.array(point)
    ids = _crime_ids(rng, n_rows)
    ids = pc.if_else(pa.array(is_asb), pa.scalar(None, pa.string()), ids)
    outcome = pc.if_else(
        pa.array(is_asb),
        pa.scalar(None, pa.string()),
        outcome_names.take(pa.array(rng.integers(0, len(outcome_names), n_rows))),
    )
    mask = pa.array(~located)
    lon = pa.array(pts.lon[point], mask=~located)
    lat = pa.array(pts.lat[point], mask=~located)
    null_text = pa.scalar(None, pa.string())
    columns = [
        ids,
        pa.array(np.full(n_rows, month)),
        pa.array(np.full(n_rows, name)),
        pa.array(np.full(n_rows, name)),
        lon,
        lat,
        pc.if_else(mask, pa.scalar("No location"), pts.location.take(take)),
        pc.if_else(mask, null_text, pts.lsoa_code.take(take)),
        pc.if_else(mask, null_text, pts.lsoa_name.take(take)),
        type_names.take(pa.array(ctype)),
        outcome,
        pa.array(np.full(n_rows, settings.SYNTHETIC_LABEL)),
    ]
    return pa.table(columns, names=list(schema.POLICE_UK_STREET_HEADER))


def generate_national(
    out_dir: str | Path,
    *,
    n_incidents: int = 2_000_000,
    start_month: str = "2021-01",
    n_months: int = 36,
    n_snap_points: int = NATIONAL_SNAP_POINTS,
    seed: int = 20240601,
    forces: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NationalSummary:
    """Write a synthetic national police.uk street-level archive.

    Parameters
    ----------
    out_dir
        Folder to write into (created); files already there with the same names are overwritten.
    n_incidents
        Total rows over all forces and months (exact).
    start_month
        First month, "YYYY-MM".
    n_months
        Number of consecutive months.
    n_snap_points
        Distinct snap points nationally (shared among forces by their share of crime, rural forces
        getting relatively more). Not all are used when ``n_incidents`` is small.
    seed
        Seed of the generator; the same arguments give the same bytes.
    forces
        Subset of force slugs (default: all 43).
    progress
        Called as ``progress(files_done, files_total)`` after each file.

    Returns
    -------
    NationalSummary
    """
    if isinstance(n_incidents, bool) or not isinstance(n_incidents, (int, np.integer)) or n_incidents < 1:
        raise ParameterError(f"`n_incidents` must be a positive integer; got {n_incidents!r}")
    if not isinstance(n_months, (int, np.integer)) or n_months < 1:
        raise ParameterError(f"`n_months` must be a positive integer; got {n_months!r}")
    if not isinstance(n_snap_points, (int, np.integer)) or n_snap_points < 100:
        raise ParameterError(f"`n_snap_points` must be an integer >= 100; got {n_snap_points!r}")
    table = FORCES
    if forces is not None:
        known = {f[0] for f in FORCES}
        unknown = sorted(set(forces) - known)
        if unknown:
            raise ParameterError(f"unknown force slug(s) {unknown}; choose from {sorted(known)}")
        table = tuple(f for f in FORCES if f[0] in set(forces))
    months = month_range(start_month, _add_months(start_month, n_months - 1))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    share = np.array([f[4] for f in table], dtype=float)
    share /= share.sum()
    # Rural forces have more snap points per crime: points follow share ** 0.7.
    point_share = share**0.7 / (share**0.7).sum()
    points_per_force = np.maximum(200, np.round(point_share * n_snap_points)).astype(int)
    # Rows per force and month: multinomial over forces x months with a mild summer peak.
    season = 1.0 + 0.08 * np.cos(2 * np.pi * (np.arange(n_months) + _month_of_year(start_month) - 7) / 12)
    cell_p = (share[:, None] * season[None, :]).ravel()
    counts = rng.multinomial(n_incidents, cell_p / cell_p.sum()).reshape(len(table), n_months)
    type_names = pa.array(list(schema.CRIME_TYPES))
    outcome_names = pa.array(list(_OUTCOMES))
    write_opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    header = (",".join(schema.POLICE_UK_STREET_HEADER) + "\n").encode()
    files: list[Path] = []
    total_bytes = 0
    located_rows = 0
    total_files = len(table) * n_months
    for fi, (slug, name, lon0, lat0, _share, radius_km) in enumerate(table):
        pts = _force_points(rng, slug, lon0, lat0, radius_km, int(points_per_force[fi]))
        for mi, month in enumerate(months):
            n_rows = int(counts[fi, mi])
            tbl = _force_month_table(
                rng,
                pts,
                name=name,
                month=str(month),
                month_pos=mi / max(n_months - 1, 1),
                n_rows=n_rows,
                type_names=type_names,
                outcome_names=outcome_names,
            )
            located_rows += n_rows - tbl.column("Longitude").null_count
            path = out / str(month) / f"{month}-{slug}-street.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:  # police.uk's header is unquoted; pyarrow would quote it
                fh.write(header)
                pacsv.write_csv(tbl, fh, write_options=write_opts)
            total_bytes += path.stat().st_size
            files.append(path)
            if progress is not None:
                progress(len(files), total_files)
    (out / "README.txt").write_text(
        f"{settings.SYNTHETIC_LABEL}: generated by geo_csp.national_demo.generate_national (seed {seed},"
        f" {n_incidents} incidents, {len(table)} forces, {n_months} months from {start_month}).\n"
        "Not real police data: for benchmarks only.\n",
        encoding="utf-8",
    )
    return NationalSummary(
        out_dir=out,
        files=tuple(files),
        rows=int(n_incidents),
        located_rows=int(located_rows),
        snap_points=int(points_per_force.sum()),
        months=tuple(str(m) for m in months),
        forces=tuple(f[0] for f in table),
        bytes_written=int(total_bytes),
        seed=seed,
    )


def force_areas() -> gpd.GeoDataFrame:
    """Approximate areas of the 43 forces: Voronoi cells of their centres over Great Britain.

    SYNTHETIC stand-ins for force boundaries (EPSG:27700, ``ward_code`` = force slug, ``ward_name``
    = force name), so a national run can name its hotspot areas ("Lancashire Constabulary: around
    High Street") where a borough run uses wards.
    """
    import geopandas as gpd
    import shapely

    x, y = _TO_BNG.transform(np.array([f[2] for f in FORCES]), np.array([f[3] for f in FORCES]))
    box = shapely.box(*settings.GB_BOUNDS_M)
    cells = shapely.voronoi_polygons(shapely.multipoints(np.column_stack([x, y])), extend_to=box, ordered=True)
    polygons = shapely.intersection(np.asarray(shapely.get_parts(cells)), box)
    return gpd.GeoDataFrame(
        {schema.WARD_CODE: [f[0] for f in FORCES], schema.WARD_NAME: [f[1] for f in FORCES]},
        geometry=polygons,
        crs=settings.WORKING_CRS,
    )


def _month_of_year(month: str) -> int:
    return int(month[5:7])


def _add_months(month: str, k: int) -> str:
    idx = int(month[:4]) * 12 + int(month[5:7]) - 1 + k
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"
