"""Hotspot areas: graph components of hot units, their polygons, names and stable ids."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from scipy.sparse.csgraph import connected_components

from geo_csp import areas, grid, schema, weights
from geo_csp._errors import ParameterError, SchemaError
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
    frame[schema.N_HOT_PERIODS] = np.where(is_hot, 36, 0)
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
    wards = gpd.GeoDataFrame(
        {schema.WARD_CODE: ["E1", "E2"], schema.WARD_NAME: ["Moorside", "Elsewhere"]},
        geometry=[b_geom.buffer(100), b_geom.buffer(5000).difference(b_geom.buffer(100))],
        crs=WORKING_CRS,
    )
    locations = pd.DataFrame(
        {
            schema.UNIT_ID: [blob_b[0], blob_b[1], blob_b[2], A_CENTRE],
            "location": ["Parkinson Street", "Parkinson Street", "Bell Lane", "Market Street"],
            schema.N: [2, 3, 4, 9],
        }
    )
    result, _ = areas.hotspot_areas(units, w, named_places=places, wards=wards, locations=locations)
    names = sorted(result[schema.AREA_NAME])
    # Parkinson Street 5 incidents beats Bell Lane 4
    assert names == ["Bury Town Centre", "Moorside: around Parkinson Street"]


def test_duplicate_names_are_numbered_and_small_areas_dropped():
    units, w = _units([A_CENTRE, B_CENTRE])
    units.loc[B_CENTRE, schema.N] = 0.0
    result, _ = areas.hotspot_areas(units, w)
    assert len(result) == 1  # the zero-incident component is not an area
    result, _ = areas.hotspot_areas(units, w, params=areas.AreaParams(min_incidents=0))
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


def _one_blob(n_hot: dict[str, float]):
    """Units around A_CENTRE, hot cells with the given counts."""
    units, w = _units(list(n_hot))
    units.loc[list(n_hot), schema.N] = list(n_hot.values())
    units[schema.HARM] = units[schema.N] * 2.0
    return units, w


def test_ward_is_the_one_holding_most_incidents_not_most_land():
    ring = list(h3.grid_disk(A_CENTRE, 1))  # 7 cells: the centre busy, six quiet
    units, w = _one_blob({c: (50.0 if c == A_CENTRE else 1.0) for c in ring})
    centre = units.geometry[A_CENTRE]
    blob = shapely.union_all(units.loc[ring].geometry.to_numpy())
    wards = gpd.GeoDataFrame(
        {schema.WARD_CODE: ["T", "R"], schema.WARD_NAME: ["Town", "Rural"]},
        geometry=[centre, blob.buffer(3000).difference(centre)],
        crs=WORKING_CRS,
    )
    result, _ = areas.hotspot_areas(units, w, wards=wards)
    # Rural holds 6/7 of the land but 6 of the 56 incidents
    assert result[schema.WARD_NAME].tolist() == ["Town"]
    assert result[schema.AREA_NAME].tolist() == ["Town"]  # no street descriptions: the ward alone
    # with no incidents at all, land decides
    units0 = units.assign(**{schema.N: 0.0})
    no_floor = areas.AreaParams(min_incidents=0)
    assert areas.hotspot_areas(units0, w, wards=wards, params=no_floor)[0][schema.WARD_NAME].tolist() == ["Rural"]


def test_real_street_beats_police_uk_generic_labels():
    ring = list(h3.grid_disk(A_CENTRE, 1))
    units, w = _one_blob({c: 10.0 for c in ring})
    locs = pd.DataFrame(
        {
            schema.UNIT_ID: [ring[0], ring[1], ring[2], ring[3]],
            "location": ["Parking Area", "Supermarket", "Bell Lane", "Nightclub"],
            schema.N: [30, 20, 2, 9],
        }
    )
    result, _ = areas.hotspot_areas(units, w, locations=locs)
    assert result[schema.AREA_NAME].item() == "Area: around Bell Lane"
    assert result["top_street"].item() == "Bell Lane"
    only_generic = locs[locs["location"] != "Bell Lane"]
    result2, _ = areas.hotspot_areas(units, w, locations=only_generic)
    assert result2[schema.AREA_NAME].item() == "Area: around Parking Area"  # nothing else to go by
    assert {
        "Parking Area",
        "Supermarket",
        "Nightclub",
        "Petrol Station",
        "Shopping Area",
        "Sports/Recreation Area",
        "Further/Higher Educational Building",
        "Hospital",
        "Police Station",
        "Conference/Exhibition Centre",
        "Theatre/Concert Hall",
        "Pedestrian Subway",
    } <= schema.POLICE_UK_GENERIC_LOCATIONS


def test_two_areas_never_share_a_name():
    blob_a, blob_b = list(h3.grid_disk(A_CENTRE, 1)), list(h3.grid_disk(B_CENTRE, 1))
    units, w = _units(blob_a + blob_b)
    units.loc[blob_a, schema.N] = 20.0  # A first by harm, so it keeps its first choice
    units[schema.HARM] = units[schema.N] * 2.0
    locs = pd.DataFrame(
        {
            schema.UNIT_ID: [blob_a[0], blob_b[0], blob_b[1]],
            "location": ["Market Street", "Market Street", "Bell Lane"],
            schema.N: [9, 5, 3],
        }
    )
    result, _ = areas.hotspot_areas(units, w, locations=locs)
    assert result[schema.AREA_NAME].tolist() == ["Area: around Market Street", "Area: around Bell Lane"]
    assert result["top_street"].tolist() == ["Market Street", "Market Street"]
    # no second street to tell them apart: a numeric suffix
    result2, _ = areas.hotspot_areas(units, w, locations=locs.iloc[:2])
    assert result2[schema.AREA_NAME].tolist() == ["Area: around Market Street", "Area: around Market Street (2)"]
    assert result2[schema.AREA_NAME].is_unique


def test_units_hot_in_too_few_periods_make_no_area():
    ring = list(h3.grid_disk(A_CENTRE, 1))
    units, w = _units(ring + [B_CENTRE])
    units.loc[B_CENTRE, schema.N_HOT_PERIODS] = 2  # a one-month burst seen twice by the 1-period window
    units.loc[B_CENTRE, schema.PATTERN] = "Consecutive Hot Spot"
    units.loc[ring[1:3], schema.N_HOT_PERIODS] = 2  # the ring's edge: its two cells drop, the rest stays one area
    result, unit_area = areas.hotspot_areas(units, w)
    assert result[areas.N_UNITS].tolist() == [5]
    assert pd.isna(unit_area[units.index.get_indexer([B_CENTRE, *ring[1:3]])]).all()
    # three hot periods are enough; and min_hot_periods=1 merges on class alone
    units.loc[B_CENTRE, schema.N_HOT_PERIODS] = 3
    assert len(areas.hotspot_areas(units, w)[0]) == 2
    loose, _ = areas.hotspot_areas(units, w, params=areas.AreaParams(min_hot_periods=1))
    assert sorted(loose[areas.N_UNITS].tolist()) == [1, 7]
    # the rule needs the column, and says how to do without it
    with pytest.raises(SchemaError, match="n_hot_periods.*AreaParams\\(min_hot_periods=1\\)"):
        areas.hotspot_areas(units.drop(columns=[schema.N_HOT_PERIODS]), w)
    assert (
        len(
            areas.hotspot_areas(
                units.drop(columns=[schema.N_HOT_PERIODS]), w, params=areas.AreaParams(min_hot_periods=1)
            )[0]
        )
        == 2
    )


def test_area_class_is_the_class_of_most_units_not_of_most_incidents():
    ring = list(h3.grid_disk(A_CENTRE, 1))
    units, w = _one_blob({c: (200.0 if c == A_CENTRE else 10.0) for c in ring})
    units.loc[A_CENTRE, schema.PATTERN] = "Diminishing Hot Spot"  # the busy core under an operation
    result, _ = areas.hotspot_areas(units, w)
    assert result[schema.PATTERN].item() == "Persistent Hot Spot"  # 6 of 7 cells, 60 of 260 incidents
    assert result[areas.CLASS_MIX].item() == "Persistent Hot Spot: 6; Diminishing Hot Spot: 1"
    # equal numbers of units: the class holding more incidents
    units.loc[ring[1:4], schema.PATTERN] = "Diminishing Hot Spot"
    units.loc[ring[4], schema.PATTERN] = "Intensifying Hot Spot"
    assert areas.hotspot_areas(units, w)[0][schema.PATTERN].item() == "Diminishing Hot Spot"  # 4 units
    units.loc[ring[1], schema.PATTERN] = "Persistent Hot Spot"  # 3 and 3 (and 1): 220 incidents vs 30
    assert areas.hotspot_areas(units, w)[0][schema.PATTERN].item() == "Diminishing Hot Spot"
    units.loc[A_CENTRE, schema.PATTERN] = "Persistent Hot Spot"  # now 4 persistent
    assert areas.hotspot_areas(units, w)[0][schema.PATTERN].item() == "Persistent Hot Spot"


def test_area_params_are_validated_and_serialisable():
    assert areas.AreaParams().to_dict() == {
        "min_hot_periods": 3,
        "min_incidents": 1.0,
        "min_place_overlap": 0.25,
        "max_area_km2": 2.5,
        "min_area_km2": 0.0,
    }
    for kwargs, name in (
        ({"min_hot_periods": 0}, "min_hot_periods"),
        ({"min_hot_periods": 2.5}, "min_hot_periods"),
        ({"min_hot_periods": True}, "min_hot_periods"),
        ({"min_incidents": -1}, "min_incidents"),
        ({"min_place_overlap": 0}, "min_place_overlap"),
        ({"min_place_overlap": 1.5}, "min_place_overlap"),
        ({"max_area_km2": 0}, "max_area_km2"),
        ({"max_area_km2": True}, "max_area_km2"),
        ({"min_area_km2": -0.1}, "min_area_km2"),
        ({"min_area_km2": 3.0, "max_area_km2": 2.0}, "min_area_km2"),
    ):
        with pytest.raises(ParameterError, match=name):
            areas.AreaParams(**kwargs)
    units, w = _units([A_CENTRE])
    with pytest.raises(ParameterError, match="AreaParams"):
        areas.hotspot_areas(units, w, params={"min_hot_periods": 1})


def test_an_oversized_blob_is_split_into_contiguous_parts_within_the_limit():
    blob = list(h3.grid_disk(A_CENTRE, 4))  # 61 res-9 cells, about 5.7 km2: one contiguous group
    units, w = _units(blob)
    whole, _ = areas.hotspot_areas(units, w, params=areas.AreaParams(max_area_km2=None))
    assert len(whole) == 1 and whole[areas.AREA_KM2].item() > 5.0
    limit = 2.5
    parts, unit_area = areas.hotspot_areas(units, w, params=areas.AreaParams(max_area_km2=limit))
    assert len(parts) == int(np.ceil(whole[areas.AREA_KM2].item() / limit))  # 3 parts, no more than needed
    assert (parts[areas.AREA_KM2] <= limit + 1e-9).all()
    assert parts[areas.N_UNITS].sum() == 61 and set(unit_area[units.index.isin(blob)]) == set(parts[schema.AREA_ID])
    assert parts[schema.AREA_NAME].is_unique
    for area_id in parts[schema.AREA_ID]:  # each part is one piece under the weights and as a polygon
        members = np.flatnonzero(unit_area == area_id)
        assert connected_components(w[members][:, members], directed=False)[0] == 1
        assert parts.set_index(schema.AREA_ID).geometry[area_id].geom_type == "Polygon"
    assert_allclose(parts[areas.AREA_KM2].sum(), whole[areas.AREA_KM2].item(), rtol=1e-6)
    # across runs the part overlapping the previous whole area most keeps its id; the others are new
    matched, report = areas.match_areas(parts, whole)
    assert len(report["matched"]) == 1 and report["matched"][0]["area_id"] == whole[schema.AREA_ID].item()
    assert len(report["new"]) == 2 and report["vanished"] == []
    # the minimum size drops parts below it
    small = areas.hotspot_areas(units, w, params=areas.AreaParams(max_area_km2=limit, min_area_km2=limit))[0]
    assert len(small) == 0


def test_a_blob_within_the_limit_is_not_split():
    blob = list(h3.grid_disk(A_CENTRE, 2))  # 19 cells, about 1.8 km2
    units, w = _units(blob)
    result, _ = areas.hotspot_areas(units, w)
    assert len(result) == 1 and result[areas.N_UNITS].item() == 19


def test_area_timeline_known_answer():
    hot = np.array(
        [
            [0, 1, 0, 1, 1, 1],  # hot Feb, Apr, May: its third hot month is May
            [0, 0, 1, 1, 0, 0],  # first hot in Mar, never three times
            [1, 0, 0, 0, 0, 0],  # in no area
            [0, 0, 0, 0, 1, 0],  # the second area: hot once, never named by the rule
        ],
        dtype=bool,
    )
    labels = [f"2025-0{m}" for m in range(1, 7)]
    out = areas.area_timeline(
        hot,
        np.array(["HS-0001", "HS-0001", None, "HS-0002"], dtype=object),
        ["HS-0001", "HS-0002"],
        labels,
        min_hot_periods=3,
        latest_police_uk="2025-06",
    )
    assert list(out.columns) == list(areas.TIMELINE_COLUMNS)
    assert out.loc["HS-0001"].tolist() == ["2025-02", "2025-05", 3, "2025-06"]
    assert out.loc["HS-0002"].tolist() == ["2025-05", "", -1, "2025-06"]
    with pytest.raises(ParameterError, match="period labels"):
        areas.area_timeline(hot, np.full(4, None), [], labels[:5], min_hot_periods=3)


def test_latest_police_uk_month_ignores_partner_sources():
    frame = pd.DataFrame(
        {
            schema.SOURCE: ["police_uk_street", "police_uk_stop_search", "council_asb"],
            schema.MONTH: ["2025-10", "2025-11", "2026-01"],
        }
    )
    assert areas.latest_police_uk_month(frame) == "2025-11"
    assert areas.latest_police_uk_month(frame.iloc[2:]) is None
