"""Offline folium maps: no CDN, every unit drawn once, class colours, layers, legend, SYNTHETIC label."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_csp import boundaries, maps
from geo_csp._errors import CRSError, ParameterError, SchemaError


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return boundaries.load_wards()


@pytest.fixture(scope="module")
def units(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    patterns = ["Persistent Hot Spot", "New Hot Spot", "No Pattern Detected", "Persistent Cold Spot"] * 5
    return wards.rename(columns={"ward_code": "unit_id"}).assign(n=range(len(wards)), pattern=patterns[: len(wards)])


def _html(m) -> str:  # noqa: ANN001
    return m.get_root().render()


def test_map_uses_no_cdn_and_embeds_leaflet(units: gpd.GeoDataFrame) -> None:
    html = _html(maps.hotspot_map(units))
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing fetched from the internet
    assert "data:text/javascript;base64," in html and "data:text/css;base64," in html
    assert "L.control.layers" in html


def test_every_unit_is_one_feature_with_its_class_colour(units: gpd.GeoDataFrame) -> None:
    m = maps.hotspot_map(units)
    geojson = next(c for c in _walk(m) if type(c).__name__ == "GeoJson")
    features = geojson.data["features"]
    assert len(features) == len(units) == 17
    fills = [f["properties"]["_fill"] for f in features]
    assert fills == [maps.CLASS_COLOURS[p] for p in units["pattern"]]
    assert maps.CLASS_COLOURS["Persistent Hot Spot"] != maps.CLASS_COLOURS["Persistent Cold Spot"]


def test_numeric_colouring_has_quantile_legend(units: gpd.GeoDataFrame) -> None:
    colours, legend = maps.value_colours(units["n"])
    assert colours.iloc[0] == legend[0][1]  # n = 0 is grey
    assert len(legend) == 6 and colours.nunique() == 6
    html = _html(maps.hotspot_map(units, colour_by="n", title="incidents"))
    assert "incidents" in html


def test_synthetic_label_layers_and_areas(units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> None:
    areas = wards.iloc[:2].assign(area_id=["HS-0001", "HS-0002"], name=["Bury Town Centre", "Moorside"])
    hubs = gpd.GeoDataFrame({"name": ["Hub A"]}, geometry=[wards.geometry.iloc[0].centroid], crs=wards.crs)
    html = _html(maps.hotspot_map(units, areas=areas, layers={"hubs": hubs}, synthetic=True, selected_area="HS-0002"))
    assert "SYNTHETIC" in html
    assert "Bury Town Centre" in html and "Moorside" in html
    assert '"hubs"' in html or "hubs" in html
    assert maps.LAYER_CLASS_PREFIX + "hubs" in html and maps.AREA_CLASS in html and maps.UNIT_CLASS in html


def test_basemap_only_when_asked(units: gpd.GeoDataFrame) -> None:
    assert "tile.openstreetmap.org" not in _html(maps.hotspot_map(units))
    assert "basemaps.cartocdn.com" in _html(maps.hotspot_map(units, basemap="light"))
    with pytest.raises(ParameterError, match="basemap='google' is unknown"):
        maps.hotspot_map(units, basemap="google")


def test_inputs_checked_and_not_modified(units: gpd.GeoDataFrame) -> None:
    before = units.copy()
    maps.hotspot_map(units)
    pd.testing.assert_frame_equal(units, before)
    with pytest.raises(SchemaError, match="unit_id"):
        maps.hotspot_map(units.drop(columns="unit_id"))
    with pytest.raises(CRSError, match="no CRS"):
        maps.hotspot_map(gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=list(units.geometry)))
    with pytest.raises(SchemaError, match="colour by"):
        maps.hotspot_map(units, colour_by="missing")


def test_zoom_fits_bounds() -> None:
    assert maps.zoom_for_bounds((-2.45, 53.52, -2.22, 53.68)) in (11, 12)
    assert maps.zoom_for_bounds((-6.0, 50.0, 2.0, 56.0)) <= 7
    assert shapely is not None


def _walk(element):  # noqa: ANN001, ANN202
    for child in element._children.values():
        yield child
        yield from _walk(child)


def _operations(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    borough = shapely.union_all(wards.geometry.to_numpy())
    return gpd.GeoDataFrame(
        {
            "name": ["Heartbeat", "Avro", "Avro"],
            "type": ["targeted", "day_of_action", "day_of_action"],
            "start_date": pd.to_datetime(["2025-01-01", "2023-03-16", "2024-07-18"]),
            "end_date": pd.to_datetime(["2025-12-31", "2023-03-16", "2024-07-18"]),
            "footprint": ["polygon", "borough", "polygon"],  # the last is borough-sized but drawn by hand
        },
        geometry=[wards.geometry.iloc[0].buffer(-50), borough, borough.buffer(10)],
        crs=wards.crs,
    )


def test_borough_wide_operations_are_listed_not_drawn(units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> None:
    ops = _operations(wards)
    assert maps.borough_wide(ops).tolist() == [False, True, False]  # by footprint alone
    extent = float(units.area.sum())
    assert maps.borough_wide(ops, extent_m2=extent).tolist() == [False, True, True]  # and by area
    m = maps.hotspot_map(units, layers={"operations": ops})
    drawn = [c for c in _walk(m) if type(c).__name__ == "GeoJson" and c.layer_name == "operations"]
    assert len(drawn) == 1 and [f["properties"]["name"] for f in drawn[0].data["features"]] == ["Heartbeat"]
    props = drawn[0].data["features"][0]["properties"]
    assert props["start_date"] == "2025-01-01" and props["end_date"] == "2025-12-31"  # tooltip: name and dates
    html = _html(m)
    assert "Borough-wide, not drawn" in html and "16 Mar 23" in html and "18 Jul 24" in html
    assert "Crime locations: police.uk anonymised snap points, not addresses." in html  # in every legend


def test_metric_scale_rounded_coordinates_and_fit(units: gpd.GeoDataFrame) -> None:
    m = maps.hotspot_map(units)
    html = _html(m)
    assert "imperial: false" in html and "metric: true" in html and "fitBounds" in html
    geojson = next(c for c in _walk(m) if type(c).__name__ == "GeoJson")
    xy = shapely.get_coordinates(shapely.geometry.shape(geojson.data["features"][0]["geometry"]))
    assert xy.size > 0 and (xy == xy.round(maps.DISPLAY_DECIMALS)).all()
    assert "bbox" not in geojson.data["features"][0]


def test_offline_map_names_places_wards_and_streets_and_says_it_is_offline(
    units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    places = boundaries.load_named_places()
    centre = wards.geometry.iloc[0].representative_point()
    incidents = pd.DataFrame(
        {
            "location": ["On or near Kiln Walk"] * 3 + ["On or near Parking Area", "On or near <b>Mill</b> Lane", None],
            "easting": [centre.x, centre.x + 10, centre.x + 20, centre.x, centre.x + 5, centre.x],
            "northing": [centre.y] * 6,
            "located": [True, True, True, True, True, False],
        }
    )
    streets = maps.street_labels(incidents)
    assert streets["name"].tolist() == ["Kiln Walk", "<b>Mill</b> Lane"]  # generic place types left out
    assert streets["n"].tolist() == [3, 1]
    assert streets.geometry.iloc[0].x == pytest.approx(centre.x + 10)  # the median snap point
    page = _html(maps.hotspot_map(units, places=places, wards=wards, streets=streets))
    assert maps.OFFLINE_NOTE.split(":")[0] in page and "tile.openstreetmap.org" not in page
    assert "Kiln Walk" in page and places["name"].iloc[0] in page and wards["ward_name"].iloc[0] in page
    assert "<b>Mill</b>" not in page and "\\u0026lt;b\\u0026gt;Mill" in page  # HTML-escaped, then JSON-escaped
    assert "geo-csp-show-streets" in page  # street names only from zoom 14
    online = _html(maps.hotspot_map(units, basemap="osm"))
    assert "tile.openstreetmap.org" in online and "OpenStreetMap contributors" in online
    assert maps.OFFLINE_NOTE.split(":")[0] not in online


def test_tooltips_and_legend_speak_plain_english(units: gpd.GeoDataFrame) -> None:
    page = _html(maps.hotspot_map(units.assign(harm=units["n"] * 1234.5678, gi_z=2.34567)))
    assert '"Incidents"' in page and '"Harm (crime-days)"' in page and '"z-score of the hot spot test"' in page
    assert "1234.5678" not in page and "2.34567" not in page  # rounded for people
    assert '"gi_z": 2.3' in page
    assert "Hot spot pattern" in page  # legend title


def test_change_colours_diverge_about_zero() -> None:
    change = pd.Series([-9.0, -1.0, 0.0, 0.0, 2.0, 9.0])
    colours, legend = maps.change_colours(change)
    assert colours.iloc[2] == colours.iloc[3] == maps.class_colour("No Pattern Detected")
    assert colours.iloc[0] != colours.iloc[1] and colours.iloc[4] != colours.iloc[5]
    assert [label for label, _ in legend][0] == "Down 6 or more" and legend[-1][0] == "Up 6 or more"
    assert maps.change_colours(pd.Series([0.0, 0.0]))[1] == [("No change", colours.iloc[2])]


def test_change_view_outlines_entered_remained_and_left_hot_spots(units: gpd.GeoDataFrame) -> None:
    status = (["entered", "remained", "left", ""] * 5)[: len(units)]
    m = maps.hotspot_map(units.assign(n_change=1.0, hotspot_change=status), colour_by=maps.CHANGE_COLUMN)
    geojson = next(c for c in _walk(m) if type(c).__name__ == "GeoJson")
    assert [f["properties"]["hotspot_change"] for f in geojson.data["features"]] == status
    page = _html(m)
    assert '"Hot spot (entered, remained or left)"' in page  # the tooltip's plain label
    for state, colour in maps.HOTSPOT_CHANGE_OUTLINES.items():
        assert f'"{state}": "{colour}"' in page  # the style function outlines each state in its colour


def test_route_is_numbered_and_fitted(units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> None:
    c = wards.geometry.iloc[3].representative_point()
    stops = pd.DataFrame(
        {"order": [1, 2], "name": ["A & B", "C"], "easting": [c.x, c.x + 300], "northing": [c.y, c.y + 200]}
    )
    route = gpd.GeoDataFrame(geometry=[shapely.LineString([(c.x - 50, c.y), (c.x + 300, c.y + 200)])], crs="EPSG:27700")
    hub = gpd.GeoDataFrame(geometry=[shapely.Point(c.x - 50, c.y)], crs="EPSG:27700")
    m = maps.add_route(maps.hotspot_map(units, layers={"walkabout": route}), stops, hub=hub, route=route)
    page = _html(m)
    assert page.count(maps.STOP_CLASS) >= 3 and "Start / finish" in page and "Stop 1: A &amp; B" in page
    fits = re.findall(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    lat0, lon0, lat1, lon1 = map(float, fits[-1])  # the last fit wins: the route, not the borough
    assert lat1 - lat0 < 0.01 and lon1 - lon0 < 0.01


def test_latlng_to_unit_finds_the_cell_or_ward_under_a_click(wards: gpd.GeoDataFrame) -> None:
    """A click's point, looked up in the units: H3 cells (the oracle is h3's own latlng_to_cell) and wards."""
    import h3

    centre = h3.latlng_to_cell(53.5933, -2.2966, 9)  # Bury town centre
    cells = sorted(h3.grid_disk(centre, 2))  # 19 hexagons
    rings = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    hexagons = gpd.GeoDataFrame({"unit_id": cells}, geometry=rings, crs="EPSG:4326").to_crs("EPSG:27700")
    for cell in cells:
        lat, lng = h3.cell_to_latlng(cell)
        (v_lat, v_lng), *_ = h3.cell_to_boundary(cell)
        for t in (0.0, 0.5, 0.8):  # the centre, and on the way to a corner (still inside)
            p_lat, p_lng = lat + t * (v_lat - lat), lng + t * (v_lng - lng)
            assert h3.latlng_to_cell(p_lat, p_lng, 9) == cell
            assert maps.latlng_to_unit(hexagons, lat=p_lat, lng=p_lng) == cell
    assert maps.latlng_to_unit(hexagons, lat=53.70, lng=-2.30) is None  # 12 km north: no unit
    points = wards.geometry.representative_point().to_crs("EPSG:4326")
    for code, point in zip(wards["ward_code"], points, strict=True):
        assert maps.latlng_to_unit(wards.rename(columns={"ward_code": "unit_id"}), lat=point.y, lng=point.x) == code
    with pytest.raises(ParameterError, match="not a point in EPSG:4326"):
        maps.latlng_to_unit(hexagons, lat=400_000.0, lng=-2.3)
    with pytest.raises(SchemaError, match="unit_id"):
        maps.latlng_to_unit(wards, lat=53.59, lng=-2.30)
    with pytest.raises(CRSError, match="no CRS"):
        maps.latlng_to_unit(hexagons.set_crs(None, allow_override=True), lat=53.59, lng=-2.30)
