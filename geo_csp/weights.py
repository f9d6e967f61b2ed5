"""Sparse binary spatial and space-time weights for hotspot statistics.

Every function returns a :class:`scipy.sparse.csr_matrix` of ``float64`` ones and zeros whose row
``i`` lists the neighbours of unit ``i`` (position in the input, not its label). Spatial weights are
symmetric with a zero diagonal: the unit itself (the Gi* "star" term) is added by the statistic, not
by the weights. Three conceptualisations are offered:

- :func:`h3_weights`: H3 grid disk of radius ``k`` (true hexagon ring adjacency),
- :func:`queen_weights`: polygon contiguity for wards and LSOAs (libpysal),
- :func:`distance_band_weights`: every point within a distance in metres (EPSG:27700).

:func:`space_time_weights` lifts a spatial matrix to the flattened space-time cube, as ArcGIS's
Emerging Hot Spot Analysis does with its "neighborhood time step".
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import geopandas as gpd
import h3
import h3.api.numpy_int as h3_int
import numpy as np
import pandas as pd
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from geo_csp._errors import CRSError, ParameterError
from geo_csp.settings import WORKING_CRS

__all__ = [
    "distance_band_weights",
    "h3_weights",
    "queen_weights",
    "space_time_weights",
]


def _binary_csr(rows: np.ndarray, cols: np.ndarray, n: int) -> sparse.csr_matrix:
    """Binary CSR matrix from (row, col) pairs: duplicates collapse to 1, the diagonal is dropped."""
    keep = rows != cols
    data = np.ones(int(keep.sum()), dtype=np.float64)
    w = sparse.coo_matrix((data, (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    w.sum_duplicates()
    w.data[:] = 1.0
    w.eliminate_zeros()
    return w


def h3_weights(cells: Sequence[str], *, k: int = 1) -> sparse.csr_matrix:
    """Binary weights between H3 cells that lie within ``k`` grid steps of each other.

    Parameters
    ----------
    cells
        H3 cell ids (strings, h3 v4), all of the same resolution, no duplicates. Row/column ``i`` of
        the result is ``cells[i]``.
    k
        Radius of the grid disk (``h3.grid_disk``); 1 gives the 6 touching hexagons.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, zero diagonal. Neighbours outside ``cells`` are ignored, so cells on the edge of
        the study area have fewer than ``3k(k+1)`` neighbours.

    Raises
    ------
    ParameterError
        If ``k`` < 1, a cell id is invalid, cells repeat or mix resolutions.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"`k` must be an integer >= 1 (H3 ring radius); got {k!r}")
    # a run asks for the same cells' weights for its Gi*, its back-test and its predictions: made once
    w: sparse.csr_matrix = _disk_weights(tuple(np.asarray(cells, dtype=object).tolist()), int(k)).copy()
    return w


@functools.lru_cache(maxsize=4)
def _disk_weights(cells: tuple[str, ...], k: int) -> sparse.csr_matrix:
    """:func:`h3_weights` of ``cells`` (checked here), remembered for the last few cell sets (not to be modified)."""
    index = pd.Index(np.asarray(cells, dtype=object))
    n = len(index)
    if n == 0:
        return sparse.csr_matrix((0, 0), dtype=np.float64)
    if index.has_duplicates:
        dup = index[index.duplicated()][:5].tolist()
        raise ParameterError(f"`cells` contains duplicate H3 ids (e.g. {dup}); pass each cell once")
    valid = np.fromiter((h3.is_valid_cell(c) for c in index), dtype=bool, count=n)
    if not valid.all():
        bad = index[~valid][:5].tolist()
        raise ParameterError(f"`cells` contains invalid H3 cell ids (e.g. {bad}); use h3 v4 string ids")
    resolutions = np.unique([h3.get_resolution(c) for c in index[:1000]])
    if resolutions.size > 1:
        raise ParameterError(f"`cells` mixes H3 resolutions {resolutions.tolist()}; use one resolution")
    # One h3 call per cell (h3 has no array API), on the integer ids so that no neighbour is made a string;
    # everything after is numpy: a neighbour's position is found by binary search in the sorted ids.
    ids = np.fromiter((h3.str_to_int(c) for c in index), dtype=np.uint64, count=n)
    disks = [h3_int.grid_disk(int(i), k) for i in ids]
    sizes = np.fromiter((d.size for d in disks), dtype=np.int64, count=n)
    neighbours = np.concatenate(disks).astype(np.uint64, copy=False)
    order = np.argsort(ids)
    slot = np.minimum(np.searchsorted(ids, neighbours, sorter=order), n - 1)
    inside = ids[order[slot]] == neighbours
    rows = np.repeat(np.arange(n), sizes)
    return _binary_csr(rows[inside], order[slot[inside]], n)


def queen_weights(polygons: gpd.GeoSeries) -> sparse.csr_matrix:
    """Binary queen-contiguity weights between polygons (sharing at least one vertex).

    Parameters
    ----------
    polygons
        Ward, LSOA or other polygons; row/column ``i`` of the result is the ``i``-th polygon (the
        index labels are not used).

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, zero diagonal. Islands (polygons touching no other) are allowed: their row is
        empty, and a ``UserWarning`` names how many there are and their positions.
    """
    from libpysal.graph import Graph

    geoms = gpd.GeoSeries(polygons).reset_index(drop=True)
    n = len(geoms)
    if n == 0:
        return sparse.csr_matrix((0, 0), dtype=np.float64)
    if n == 1:
        warnings.warn("`polygons` holds a single polygon: it has no neighbours", UserWarning, stacklevel=2)
        return sparse.csr_matrix((1, 1), dtype=np.float64)
    graph = Graph.build_contiguity(geoms, rook=False)
    adj = graph.adjacency.reset_index()
    focal = adj["focal"].to_numpy(dtype=np.int64)
    neighbor = adj["neighbor"].to_numpy(dtype=np.int64)
    nonzero = adj["weight"].to_numpy() != 0
    w = _binary_csr(focal[nonzero], neighbor[nonzero], n)
    w = ((w + w.T) > 0).astype(np.float64).tocsr()
    islands = np.flatnonzero(np.diff(w.indptr) == 0)
    if islands.size:
        warnings.warn(
            f"{islands.size} of {n} polygons have no queen neighbour (positions "
            f"{islands[:10].tolist()}{'...' if islands.size > 10 else ''}); their Gi* is reported as "
            "z = 0, p = 1",
            UserWarning,
            stacklevel=2,
        )
    return w


def distance_band_weights(points: gpd.GeoSeries, *, distance_m: float) -> sparse.csr_matrix:
    """Binary weights between points at most ``distance_m`` metres apart.

    Parameters
    ----------
    points
        Points (or cell centroids) in British National Grid (EPSG:27700).
    distance_m
        Band radius in metres; pairs with distance <= ``distance_m`` are neighbours.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, zero diagonal.

    Raises
    ------
    CRSError
        If ``points`` is not in EPSG:27700.
    ParameterError
        If ``distance_m`` is not a positive finite number or a geometry is not a point.
    """
    if points.crs is None or not CRS.from_user_input(points.crs).equals(CRS.from_user_input(WORKING_CRS)):
        raise CRSError(
            f"`points` is {points.crs} but distance bands need {WORKING_CRS} (metres); "
            f"reproject with .to_crs({WORKING_CRS!r})"
        )
    if not np.isfinite(distance_m) or distance_m <= 0:
        raise ParameterError(f"`distance_m` must be a positive number of metres; got {distance_m!r}")
    geoms = gpd.GeoSeries(points).reset_index(drop=True)
    if len(geoms) and not (geoms.geom_type == "Point").all():
        raise ParameterError("`points` must hold Point geometries; use .centroid for polygons")
    xy = np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])
    pairs = cKDTree(xy).query_pairs(r=float(distance_m), output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return _binary_csr(rows, cols, len(geoms))


def space_time_weights(w: sparse.spmatrix, n_periods: int, *, time_window: int) -> sparse.csr_matrix:
    """Space-time weights for the flattened cube, period-major.

    Node ``(i, t)`` (unit ``i`` in period ``t``) has index ``t * n_units + i``, i.e. the cube
    ``values`` of shape (n_units, n_periods) flattens as ``values.ravel(order="F")``. Its neighbours
    are its spatial neighbours ``j`` in periods ``t - time_window .. t`` and the unit itself in
    periods ``t - time_window .. t - 1`` (ArcGIS's "neighborhood time step"). The node itself is
    not a neighbour (zero diagonal): Gi* adds it as its "star" term. Early periods have fewer
    neighbours because the window is cut at period 0. The matrix is not symmetric: it looks back
    in time only.

    Parameters
    ----------
    w
        Binary spatial weights (n_units x n_units), zero diagonal.
    n_periods
        Number of periods in the cube.
    time_window
        Number of earlier periods in the neighbourhood (0: spatial neighbours in the same period).

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape (n_units * n_periods, n_units * n_periods).
    """
    if isinstance(n_periods, bool) or not isinstance(n_periods, (int, np.integer)) or n_periods < 1:
        raise ParameterError(f"`n_periods` must be an integer >= 1; got {n_periods!r}")
    if isinstance(time_window, bool) or not isinstance(time_window, (int, np.integer)) or time_window < 0:
        raise ParameterError(f"`time_window` must be an integer >= 0; got {time_window!r}")
    w = sparse.csr_matrix(w, dtype=np.float64)
    n = w.shape[0]
    # P[t, s] = 1 when t - time_window <= s <= t (row: the node's period, column: the neighbour's).
    offsets = list(range(0, -min(time_window, n_periods - 1) - 1, -1))
    band = sparse.diags([np.ones(n_periods - abs(o)) for o in offsets], offsets, shape=(n_periods, n_periods))
    strict = band - sparse.identity(n_periods)
    st = sparse.kron(band, w, format="csr") + sparse.kron(strict, sparse.identity(n), format="csr")
    st = sparse.csr_matrix(st)
    st.eliminate_zeros()
    return st
