"""Hotspot areas: graph components of hot units, their polygons, names and stable ids."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import areas, grid, schema, weights
from geo_csp._errors import ParameterError
from geo_csp.settings import WORKING_CRS

A_CENTRE = h3.latlng_to_cell(53.593, -2.298, 9)  # Bury town centre
B_CENTRE = h3.latlng_to_cell(53.560, -2.260, 9)  # ~4 km south-east


def _units(hot: list[str]) -> tuple[gpd.GeoDataFrame, object]:
    cells = sorted(set(h3.grid_disk(A_CENTRE, 4)) | set(h3.grid_disk(B_CENTRE, 4)))
    frame = grid.cells_to_polygons(cells)
    is_hot = frame.index.isin(hot)
    frame[schema.N] = np.where(is_hot, 10.0, 1.0)
    frame[schema.HARM] = frame[schema.N] * 2.0
    frame[schema.CATEGORY] = np.where(is_hot, "persistent hotspot", "no pattern")
    frame[schema.PATTERN] = np.where(is_hot, "Persistent Hot Spot", "No Pattern Detected")
    return frame, weights.h3_weights(frame.index.to_numpy(), k=1)


def test_two_blobs_make_two_areas_with_the_right_polygons():
    blob_a, blob_b = list(h3.grid_disk(A_CENTRE, 1)), list(h3.grid_disk(B_CENTRE, 1))
    units, w = _units(blob_a + blob_b)
    result, unit_area = areas.hotspot_areas(units, w)
    assert len(result) == 2
    for blob in (blob_a, blob_b):
        expected = shapely.union_all(grid.cells_to_polygons(blob).geometry.to_numpy())
        ids = set(unit_area[units.index.isin(blob)])
        assert len(ids) == 1  # the whole blob is one area
        got = result.set_index(schema.AREA_ID).geometry[ids.pop()]
        assert_allclose(got.area, expected.area, rtol=1e-6)
        assert got.symmetric_difference(expected).area < 1.0  # m2
    assert result[areas.N_UNITS].tolist() == [7, 7]
    assert_allclose(result[schema.N], [70.0, 70.0])
    total = units[schema.N].sum()
    assert_allclose(result[areas.SHARE_OF_CRIME], 70.0 / total)
    assert_allclose(result[areas.SHARE_OF_AREA].sum(), result.area.sum() / units.area.sum())
    assert (pd.isna(unit_area[~units.index.isin(blob_a + blob_b)])).all()
    assert list(result.columns[: len(areas.AREA_COLUMNS)]) == list(areas.AREA_COLUMNS)
    assert result.crs == WORKING_CRS


def test_named_place_wins_then_ward_and_street_fallback():
    blob_a, blob_b = list(h3.grid_disk(A_CENTRE, 1)), list(h3.grid_disk(B_CENTRE, 1))
    units, w = _units(blob_a + blob_b)
    centre_a = shapely.centroid(units.geometry[A_CENTRE])
    places = gpd.GeoDataFrame({"name": ["Bury Town Centre"]}, geometry=[centre_a.buffer(400)], crs=WORKING_CRS)
    b_geom = shapely.union_all(units.loc[blob_b].geometry.to_numpy())
    wards = gpd.GeoDataFrame({schema.WARD_CODE: ["E1", "E2"], schema.WARD_NAME: ["Moorside", "Elsewhere"]},
                             geometry=[b_geom.buffer(100), b_geom.buffer(5000).difference(b_geom.buffer(100))],
                             crs=WORKING_CRS)
    locations = pd.DataFrame({schema.UNIT_ID: [blob_b[0], blob_b[1], blob_b[2], A_CENTRE],
                              "location": ["Parkinson Street", "Parkinson Street", "Bell Lane", "Market Street"],
                              schema.N: [2, 3, 4, 9]})
    result, _ = areas.hotspot_areas(units, w, named_places=places, wards=wards, locations=locations)
    names = sorted(result[schema.AREA_NAME])
    # Parkinson Street 5 incidents beats Bell Lane 4
    assert names == ["Bury Town Centre", "Moorside: around Parkinson Street"]


def test_duplicate_names_are_numbered_and_small_areas_dropped():
    units, w = _units([A_CENTRE, B_CENTRE])
    units.loc[B_CENTRE, schema.N] = 0.0
    result, _ = areas.hotspot_areas(units, w)
    assert len(result) == 1  # the zero-incident component is not an area
    result, _ = areas.hotspot_areas(units, w, min_incidents=0)
    assert sorted(result[schema.AREA_NAME]) == ["Unnamed area", "Unnamed area (2)"]


def test_stable_ids_and_new_and_vanished_areas():
    a1 = list(h3.grid_disk(A_CENTRE, 1))
    b1 = list(h3.grid_disk(B_CENTRE, 1))
    units, w = _units(a1 + b1)
    first, _ = areas.hotspot_areas(units, w)
    first, report0 = areas.match_areas(first, None)
    assert report0["new"] == ["HS-0001", "HS-0002"] and report0["vanished"] == []
    id_a = first.loc[first.intersects(units.geometry[A_CENTRE].centroid), schema.AREA_ID].item()
    id_b = first.loc[first.intersects(units.geometry[B_CENTRE].centroid), schema.AREA_ID].item()

    # next run: A grows by its second ring (Jaccard 7/19 = 0.37 >= 0.2), B is gone, C appears
    a2 = list(h3.grid_disk(A_CENTRE, 2))
    c = list(h3.grid_disk(h3.grid_disk(B_CENTRE, 4)[-1], 0))
    units2, w2 = _units(a2 + c)
    second, _ = areas.hotspot_areas(units2, w2)
    second, report = areas.match_areas(second, first)
    keep = second.loc[second.intersects(units2.geometry[A_CENTRE].centroid)]
    assert keep[schema.AREA_ID].item() == id_a and keep["status"].item() == "continuing"
    assert report["vanished"] == [id_b]
    assert report["new"] == ["HS-0003"]  # fresh ids continue after the largest previous one
    assert_allclose(report["matched"][0]["jaccard"], 7 / 19, rtol=1e-3)
    # a stricter threshold breaks the match
    _, strict = areas.match_areas(areas.hotspot_areas(units2, w2)[0], first, min_jaccard=0.5)
    assert sorted(strict["vanished"]) == sorted([id_a, id_b])


def test_selection_classes_and_errors():
    units, w = _units([A_CENTRE])
    assert areas.select_units(units).sum() == 1
    assert areas.select_units(units, classes=["emerging hotspot"]).sum() == 0
    with pytest.raises(ParameterError, match="unknown class"):
        areas.select_units(units, classes=["hot"])
    with pytest.raises(ParameterError, match="min_jaccard"):
        areas.match_areas(units.iloc[:0], None, min_jaccard=0)
