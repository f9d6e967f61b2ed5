"""H3 grid: snap points indexed once, overlap coverage of narrow polygons, cell polygons, resolution choice."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import boundaries, grid
from geo_csp._errors import CRSError, ParameterError
from geo_csp.settings import WORKING_CRS


def test_points_to_cells_matches_h3_and_keeps_missing():
    x = np.array([380_000.0, 380_000.0, np.nan, 381_234.5])
    y = np.array([410_000.0, 410_000.0, 410_000.0, 409_876.5])
    cells = grid.points_to_cells(x, y, resolution=9)
    lon, lat = grid._TO_LONLAT.transform(x[[0, 3]], y[[0, 3]])
    assert cells[0] == cells[1] == h3.latlng_to_cell(lat[0], lon[0], 9)
    assert cells[3] == h3.latlng_to_cell(lat[1], lon[1], 9)
    assert cells[2] is None


def test_narrow_polygon_is_covered_with_overlap_containment():
    # a 20 m wide, 3 km long strip: centre containment at res 9 (edge ~200 m) finds few or no cells
    strip = shapely.box(380_000, 410_000, 383_000, 410_020)
    cells = grid.area_to_cells(strip, resolution=9)
    polys = grid.cells_to_polygons(cells)
    assert len(cells) >= 10
    # every point of the strip is inside the union of the cells
    probe = shapely.points(np.linspace(380_001, 382_999, 200), np.full(200, 410_010))
    assert shapely.union_all(polys.geometry.to_numpy()).buffer(0.5).contains(probe).all()


def test_cells_to_polygons_crs_index_and_area():
    cells = grid.area_to_cells(shapely.box(380_000, 410_000, 381_000, 411_000), resolution=9)
    polys = grid.cells_to_polygons(cells)
    assert polys.crs == WORKING_CRS
    assert polys.index.name == "unit_id"
    assert list(polys.index) == list(cells)
    # res 9 hexagons average 0.105 km2; the projected area agrees within 15%
    assert_allclose(polys.area.mean(), h3.average_hexagon_area(9, unit="m^2"), rtol=0.15)


def test_cells_to_polygons_remembered_are_a_fresh_frame_each_time():
    cells = grid.area_to_cells(shapely.box(380_000, 410_000, 381_000, 411_000), resolution=9)
    first = grid.cells_to_polygons(cells)
    remembered = grid._cell_polygons(tuple(cells))
    with pytest.raises(ValueError, match="read-only"):  # nothing can change what later callers get
        remembered[0] = shapely.Point(0, 0)
    assert not np.shares_memory(np.asarray(first.geometry.array), remembered)
    first.loc[first.index[0], "geometry"] = shapely.Point(0, 0)
    again = grid.cells_to_polygons(list(cells))
    assert again.geom_type.eq("Polygon").all() and list(again.index) == list(cells)
    reordered = grid.cells_to_polygons(cells[::-1])  # rows follow the order asked for
    assert list(reordered.index) == list(cells[::-1])
    assert reordered.geometry.iloc[0].equals_exact(again.geometry.iloc[-1], 0)


def test_cells_to_parents():
    cells = grid.area_to_cells(shapely.box(380_000, 410_000, 381_000, 411_000), resolution=10)
    parents = grid.cells_to_parents(cells, resolution=8)
    assert all(h3.cell_to_parent(c, 8) == p for c, p in zip(cells, parents))
    with pytest.raises(ParameterError, match="no parent"):
        grid.cells_to_parents(grid.cells_to_parents(cells, resolution=7), resolution=9)


def test_default_resolution_for_bury_is_reported():
    res, reason = grid.default_resolution(boundaries.load_borough())
    assert res == 9  # ~100 km2: res 9 gives ~950 cells, res 10 ~6,600 (> 2,500)
    assert "resolution 9" in reason and "cells" in reason


def test_errors_name_the_problem():
    with pytest.raises(ParameterError, match="resolution"):
        grid.points_to_cells(np.array([1.0]), np.array([1.0]), resolution=16)
    with pytest.raises(CRSError, match="to_crs"):
        grid.area_to_cells(boundaries.load_borough().to_crs("EPSG:4326"), resolution=8)


def test_unique_points_equals_numpy_unique_rows() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 50, 2_000) * 10.5 + 380_000.0  # repeated snap points, as police.uk has
    y = rng.integers(0, 50, 2_000) * 3.25 + 400_000.0
    ux, uy, inverse = grid.unique_points(x, y)
    rows, expected_inverse = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.column_stack([ux, uy]), rows)
    np.testing.assert_array_equal(inverse, expected_inverse.ravel())
    np.testing.assert_array_equal(ux[inverse], x)


def test_default_resolution_fits_patrols_not_a_cell_count():
    """A county-sized study area gets patrol-sized cells (res 9, ~350 m across: about 4 minutes' walk at
    4.8 km/h), not the 5 km2 res-7 cells a cell-count cap gave it; a small area gets finer cells."""
    assert grid.patrol_resolution() == 9
    np.testing.assert_allclose(grid.cell_across_m(9), np.sqrt(3) * h3.average_hexagon_edge_length(9, unit="m"))
    assert grid.cell_across_m(8) / (4.8 * 1000 / 60) > 5 > grid.cell_across_m(9) / (4.8 * 1000 / 60)
    county = shapely.box(300_000, 400_000, 360_000, 450_000)  # 3,000 km2, about Lancashire's size
    res, reason = grid.default_resolution(county)
    assert res == 9 and "foot patrol covers in one visit" in reason and "about 28,481 cells" in reason
    huge = shapely.box(0, 0, 200_000, 100_000)  # 20,000 km2: split it
    assert grid.default_resolution(huge)[0] == 9 and "split the run by district" in grid.default_resolution(huge)[1]
    res, reason = grid.default_resolution(shapely.box(0, 0, 1500, 1500))  # a town centre
    assert res == 11 and "finest with at most 2,500 cells" in reason
