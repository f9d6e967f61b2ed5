"""Tests of geo_csp.weights: H3 rings, queen contiguity, distance bands and space-time weights."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from shapely.geometry import Point, box

from geo_csp._errors import CRSError, ParameterError
from geo_csp.weights import distance_band_weights, h3_weights, queen_weights, space_time_weights

MANCHESTER = h3.latlng_to_cell(53.4808, -2.2426, 9)


def _assert_binary_symmetric(w):
    assert (w.diagonal() == 0).all()
    assert set(np.unique(w.data)) <= {1.0}
    assert (w != w.T).nnz == 0


def test_h3_k1_interior_cells_have_six_neighbours():
    cells = sorted(h3.grid_disk(MANCHESTER, 3))
    w = h3_weights(cells, k=1)
    _assert_binary_symmetric(w)
    counts = np.diff(w.indptr)
    interior = [i for i, c in enumerate(cells) if h3.grid_distance(MANCHESTER, c) <= 2]
    assert_array_equal(counts[interior], 6)
    # the outer ring (18 cells) touches 3 or 4 cells inside the disk
    outer = [i for i, c in enumerate(cells) if h3.grid_distance(MANCHESTER, c) == 3]
    assert set(counts[outer]) == {3, 4}
    assert w.shape == (37, 37)


def test_h3_k2_and_neighbours_match_grid_disk():
    cells = sorted(h3.grid_disk(MANCHESTER, 4))
    w = h3_weights(cells, k=2)
    _assert_binary_symmetric(w)
    centre = cells.index(MANCHESTER)
    got = {cells[j] for j in w[centre].indices}
    assert got == set(h3.grid_disk(MANCHESTER, 2)) - {MANCHESTER}
    assert len(got) == 18


def test_h3_rows_follow_the_input_order_of_unsorted_cells_with_gaps():
    # positions, not sorted order: shuffled cells with holes, each row checked against h3.grid_distance
    rng = np.random.default_rng(17)
    disk = sorted(h3.grid_disk(MANCHESTER, 6))
    cells = list(rng.permutation(disk)[: len(disk) * 2 // 3])
    for k in (1, 2):
        w = h3_weights(cells, k=k)
        _assert_binary_symmetric(w)
        for i, cell in enumerate(cells):
            want = {j for j, other in enumerate(cells) if 0 < h3.grid_distance(cell, other) <= k}
            assert set(w[i].indices) == want, (k, cell)


def test_h3_weights_remembered_for_a_cell_set_are_a_fresh_matrix_each_time():
    # the same cells twice (a run's Gi*, back-test and predictions) give equal matrices, and a caller that
    # changes its matrix changes no later answer
    cells = sorted(h3.grid_disk(MANCHESTER, 2))
    first = h3_weights(cells)
    first.data[:] = 7.0
    again = h3_weights(np.asarray(cells, dtype=object))
    assert again is not first and set(np.unique(again.data)) == {1.0}
    assert (again != h3_weights(list(reversed(cells)))[::-1, ::-1]).nnz == 0
    with pytest.raises(ParameterError, match="duplicate"):  # a refused set is refused again, not remembered
        h3_weights([MANCHESTER, MANCHESTER])
    with pytest.raises(ParameterError, match="duplicate"):
        h3_weights([MANCHESTER, MANCHESTER])


def test_h3_errors():
    with pytest.raises(ParameterError, match="duplicate"):
        h3_weights([MANCHESTER, MANCHESTER])
    with pytest.raises(ParameterError, match="invalid H3"):
        h3_weights([MANCHESTER, "not-a-cell"])
    with pytest.raises(ParameterError, match="`k`"):
        h3_weights([MANCHESTER], k=0)


def test_queen_on_3x3_lattice():
    polys = gpd.GeoSeries([box(i, j, i + 1, j + 1) for j in range(3) for i in range(3)], crs="EPSG:27700")
    w = queen_weights(polys)
    _assert_binary_symmetric(w)
    assert_array_equal(np.diff(w.indptr), [3, 5, 3, 5, 8, 5, 3, 5, 3])
    assert sorted(w[0].indices) == [1, 3, 4]


def test_queen_island_warns_and_has_empty_row():
    polys = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(10, 10, 11, 11)], index=[7, 8, 9])
    with pytest.warns(UserWarning, match="1 of 3 polygons have no queen neighbour"):
        w = queen_weights(polys)
    assert_array_equal(np.diff(w.indptr), [1, 1, 0])


def test_distance_band_known_answer():
    pts = gpd.GeoSeries([Point(0, 0), Point(100, 0), Point(250, 0), Point(100, 99.9)], crs="EPSG:27700")
    w = distance_band_weights(pts, distance_m=150)
    _assert_binary_symmetric(w)
    expected = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 0, 0]])
    assert_array_equal(w.toarray(), expected)


def test_distance_band_requires_bng():
    pts = gpd.GeoSeries([Point(-2.2, 53.4), Point(-2.21, 53.4)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="to_crs"):
        distance_band_weights(pts, distance_m=100)
    with pytest.raises(ParameterError, match="distance_m"):
        distance_band_weights(pts.to_crs("EPSG:27700"), distance_m=-1)


def test_space_time_weights_structure():
    w = queen_weights(gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1)]))
    st = space_time_weights(w, 3, time_window=1).toarray()
    # node index = t * n_units + i (period-major)
    expected = np.array(
        [
            [0, 1, 0, 0, 0, 0],  # (0, t0): neighbour 1 in t0
            [1, 0, 0, 0, 0, 0],
            [1, 1, 0, 1, 0, 0],  # (0, t1): itself and 1 in t0, 1 in t1
            [1, 1, 1, 0, 0, 0],
            [0, 0, 1, 1, 0, 1],
            [0, 0, 1, 1, 1, 0],
        ]
    )
    assert_array_equal(st, expected)
    assert_array_equal(space_time_weights(w, 3, time_window=0).toarray(), np.kron(np.eye(3), w.toarray()))
    with pytest.raises(ParameterError, match="time_window"):
        space_time_weights(w, 3, time_window=-1)
