"""H3 hexagon cells: points to cells, cells covering a study area, cell polygons, resolution choice.

police.uk points sit on a fixed set of anonymous snap points, so an incident table of 100,000 rows
has only a few thousand distinct coordinates: :func:`points_to_cells` indexes each distinct point once.
Cells covering a study area use H3's *overlap* containment (every cell that touches the area), not
the default centre containment, which drops narrow polygons and edge slivers (h3#540, h3-py#300).

Cells are h3 v4 string ids. Geometry is built in EPSG:4326 by H3 and returned in EPSG:27700.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Final

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_csp import schema
from geo_csp._errors import ParameterError
from geo_csp._validate import require_working_crs
from geo_csp.settings import DISPLAY_CRS, WORKING_CRS

__all__ = [
    "H3_RESOLUTIONS",
    "area_to_cells",
    "as_geometry",
    "cells_to_parents",
    "cells_to_polygons",
    "default_resolution",
    "points_to_cells",
    "unique_points",
]

#: Resolutions offered: 7 (about 5 km2 a cell) to 11 (about 2,150 m2).
H3_RESOLUTIONS: Final = (7, 8, 9, 10, 11)
#: A small study area gets the finest resolution giving at most this many cells over it (a borough: res 9,
#: a town centre: res 10 or 11), never a coarser one than :data:`PATROL_RESOLUTION`.
MAX_DEFAULT_CELLS: Final = 2_500
#: Walking speed (km/h) and minutes to walk across a cell that make a cell one a foot patrol covers in one
#: visit: a Koper stop of 10-15 minutes at a hot spot covers a place about 5 minutes' walk across.
PATROL_WALK_SPEED_KMH: Final = 4.8
PATROL_CROSS_MIN: Final = 5.0
#: Past this many cells at the patrol resolution a run is slow in memory: the reason says to split it by
#: district (``--boundary`` one district at a time) or run it on Dask.
PATROL_MAX_CELLS: Final = 150_000
#: Cell boundaries kept in memory (a borough at resolution 10 has about 8,000 cells).
CELL_BOUNDARY_CACHE_SIZE: Final = 65_536

_TO_LONLAT = Transformer.from_crs(WORKING_CRS, DISPLAY_CRS, always_xy=True)
_TO_BNG = Transformer.from_crs(DISPLAY_CRS, WORKING_CRS, always_xy=True)


def check_resolution(resolution: int) -> int:
    """``resolution`` as an int, checked to be an H3 resolution (0-15)."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise ParameterError(f"H3 resolution must be an integer 0-15 (7-11 for hotspots); got {resolution!r}")
    return int(resolution)


def unique_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(x, y)`` pairs (sorted by x, then y) and each point's position among them.

    The same result as ``np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)`` for
    finite coordinates, several times faster: each pair is one complex number, sorted natively.

    Returns
    -------
    (ndarray, ndarray, ndarray)
        Distinct x, distinct y and the inverse index (``x == ux[inverse]``).
    """
    z = np.asarray(x, dtype="float64") + 1j * np.asarray(y, dtype="float64")
    unique, inverse = np.unique(z, return_inverse=True)
    return unique.real.copy(), unique.imag.copy(), inverse.ravel()


@functools.lru_cache(maxsize=CELL_BOUNDARY_CACHE_SIZE)
def _cell_boundary(cell: str) -> tuple[tuple[float, float], ...]:
    """``h3.cell_to_boundary`` remembered: the same cells are drawn on every run over a study area."""
    boundary: tuple[tuple[float, float], ...] = h3.cell_to_boundary(cell)
    return boundary


def points_to_cells(easting: np.ndarray, northing: np.ndarray, *, resolution: int) -> np.ndarray:
    """H3 cell of each point given in EPSG:27700 metres; ``None`` where a coordinate is missing.

    Each distinct coordinate pair is projected and indexed once (police.uk snap points repeat).
    """
    resolution = check_resolution(resolution)
    x = np.asarray(easting, dtype="float64")
    y = np.asarray(northing, dtype="float64")
    out = np.full(x.shape[0], None, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return out
    ux, uy, inverse = unique_points(x[ok], y[ok])
    lon, lat = _TO_LONLAT.transform(ux, uy)
    to_cell = np.frompyfunc(lambda a, b: h3.latlng_to_cell(a, b, resolution), 2, 1)
    cells = to_cell(lat, lon)
    out[np.flatnonzero(ok)] = cells[inverse]
    return out


def as_geometry(area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry) -> shapely.Geometry:
    """A study area (GeoDataFrame, GeoSeries or geometry, EPSG:27700) as one shapely geometry."""
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        require_working_crs(area, "the study area")
        return shapely.union_all(area.geometry.to_numpy() if isinstance(area, gpd.GeoDataFrame) else area.to_numpy())
    if isinstance(area, shapely.Geometry):
        return area
    raise ParameterError(f"study area must be a GeoDataFrame, GeoSeries or shapely geometry, not {type(area).__name__}")


def area_to_cells(area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry, *, resolution: int) -> np.ndarray:
    """Sorted H3 cells that overlap the study area (EPSG:27700), so narrow parts are never dropped.

    Uses ``h3.h3shape_to_cells_experimental(..., contain="overlap")``, about a second for a county's outline at
    resolution 9; the cells of the last few areas are kept (keyed by the outline's exact coordinates), as one run
    asks for the same area's cells for its cube, its back-test and its predictions.
    """
    resolution = check_resolution(resolution)
    geom = as_geometry(area)
    if geom.is_empty:
        raise ParameterError("the study area is empty; give a polygon with some area")
    return np.array(_overlapping_cells(shapely.to_wkb(geom), resolution), dtype=object)


@functools.lru_cache(maxsize=4)
def _overlapping_cells(wkb: bytes, resolution: int) -> tuple[str, ...]:
    """The sorted cells overlapping the polygon of ``wkb`` (EPSG:27700) at ``resolution`` (see :func:`area_to_cells`)."""
    geom = shapely.from_wkb(wkb)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
    shape = h3.geo_to_h3shape(lonlat)
    return tuple(sorted(h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap")))


def cells_to_polygons(cells: np.ndarray | list[str]) -> gpd.GeoDataFrame:
    """Hexagon polygons of H3 cells as a GeoDataFrame in EPSG:27700 indexed by ``unit_id``."""
    cells = np.asarray(cells, dtype=object)
    if cells.size == 0:
        return gpd.GeoDataFrame(
            {"geometry": []},
            geometry="geometry",
            crs=WORKING_CRS,
            index=pd.Index([], name=schema.UNIT_ID, dtype=object),
        )
    # a run draws the same cells for its cube, its back-test and its predictions: drawn once; the frame
    # gets its own array (geopandas copies; the remembered one is read-only) of immutable shapely polygons
    polygons = _cell_polygons(tuple(str(c) for c in cells))
    return gpd.GeoDataFrame(geometry=polygons, crs=WORKING_CRS, index=pd.Index(cells, name=schema.UNIT_ID))


@functools.lru_cache(maxsize=4)
def _cell_polygons(cells: tuple[str, ...]) -> np.ndarray:
    """The EPSG:27700 hexagons of ``cells``, remembered for the last few cell sets (not to be modified)."""
    rings = [_cell_boundary(c) for c in cells]  # tuples of (lat, lng), 6 vertices (5 at pentagons)
    sizes = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    latlng = np.array(list(itertools.chain.from_iterable(rings)), dtype="float64").reshape(-1, 2)
    x, y = _TO_BNG.transform(latlng[:, 1], latlng[:, 0])
    ring_index = np.repeat(np.arange(len(rings)), sizes)
    polygons: np.ndarray = shapely.polygons(shapely.linearrings(np.column_stack([x, y]), indices=ring_index))
    polygons.flags.writeable = False
    return polygons


def cells_to_parents(cells: np.ndarray | list[str], *, resolution: int) -> np.ndarray:
    """Parent of each cell at a coarser ``resolution`` (one call per distinct cell)."""
    resolution = check_resolution(resolution)
    cells = np.asarray(cells, dtype=object)
    unique, inverse = np.unique(cells, return_inverse=True)
    res = {h3.get_resolution(c) for c in unique}
    if any(r < resolution for r in res):
        raise ParameterError(f"cells of resolution {sorted(res)} have no parent at finer resolution {resolution}")
    parents = np.array([h3.cell_to_parent(c, resolution) for c in unique], dtype=object)
    return parents[inverse.ravel()]


def cell_across_m(resolution: int) -> float:
    """How far it is across an average H3 cell of ``resolution``, side to side (sqrt(3) x its edge), in metres."""
    return float(np.sqrt(3.0) * h3.average_hexagon_edge_length(check_resolution(resolution), unit="m"))


def patrol_resolution() -> int:
    """The coarsest resolution 7-11 whose cells a foot patrol walks across in :data:`PATROL_CROSS_MIN` minutes."""
    reach_m = PATROL_WALK_SPEED_KMH * 1000.0 / 60.0 * PATROL_CROSS_MIN
    return next(res for res in H3_RESOLUTIONS if cell_across_m(res) <= reach_m)


def default_resolution(area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry) -> tuple[int, str]:
    """The resolution for hotspots a patrol can cover, and a sentence saying why.

    The rule: cells no larger than a foot patrol covers in one visit (:func:`patrol_resolution`: at
    4.8 km/h, about 5 minutes across, the place a 10-15 minute Koper stop holds; H3 resolution 9,
    about 350 m across and 0.1 km2), whatever the size of the study area, so that a county force is
    not given 5 km2 cells and hotspot areas stay the size of a beat. A small study area gets finer
    cells, the finest with at most :data:`MAX_DEFAULT_CELLS` cells (a town centre: street-length
    cells). Past :data:`PATROL_MAX_CELLS` cells the reason says to split the run by district.

    Returns
    -------
    (int, str)
        The resolution and the reason ("H3 resolution 9 chosen automatically: cells ... about 348 m across
        ...").
    """
    geom = as_geometry(area)
    area_m2 = float(geom.area)
    if area_m2 <= 0:
        raise ParameterError("the study area has no area; give polygons, not points or lines")
    patrol = patrol_resolution()
    fine = [res for res in H3_RESOLUTIONS if area_m2 / h3.average_hexagon_area(res, unit="m^2") <= MAX_DEFAULT_CELLS]
    chosen = max([patrol, *fine])
    cell_m2 = h3.average_hexagon_area(chosen, unit="m^2")
    n_cells = area_m2 / cell_m2
    across = cell_across_m(chosen)
    walk = across / (PATROL_WALK_SPEED_KMH * 1000.0 / 60.0)
    why = (
        f"the coarsest cells a foot patrol covers in one visit (at most {PATROL_CROSS_MIN:g} minutes across at "
        f"{PATROL_WALK_SPEED_KMH:g} km/h)"
        if chosen == patrol
        else f"finer than patrol-sized cells (resolution {patrol}) as the area is small: the finest with at most "
        f"{MAX_DEFAULT_CELLS:,} cells"
    )
    reason = (
        f"H3 resolution {chosen} chosen automatically: cells of {cell_m2 / 1e6:.3f} km2, about {across:,.0f} m "
        f"across ({walk:.0f} min walk), {why}; about {n_cells:,.0f} cells over {area_m2 / 1e6:,.1f} km2"
    )
    if n_cells > PATROL_MAX_CELLS:
        reason += (
            f". That is more than {PATROL_MAX_CELLS:,} cells: split the run by district (--boundary one "
            "district's outline at a time) or run it on Dask (--dask)"
        )
    return chosen, reason


def neighbour_cells(cells: np.ndarray | Sequence[str], *, k: int = 1) -> np.ndarray:
    """The cells and every cell within ``k`` grid rings of one, sorted (h3 v4 string ids).

    One ``h3.grid_disk`` call per given cell (h3 has no array API).
    """
    cells = np.asarray(cells, dtype=object)
    if k == 0 or cells.size == 0:
        return np.unique(cells.astype(str)).astype(object)
    union = set(itertools.chain.from_iterable(h3.grid_disk(c, k) for c in cells))
    return np.array(sorted(union), dtype=object)
