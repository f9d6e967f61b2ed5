"""Walkabout planning: networks, budgeted orienteering heuristic, GPX and sheet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import gpxpy
import networkx as nx
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import routes
from geo_csp.cube import CubeParams
from geo_csp._errors import NetworkError, ParameterError
from geo_csp.demo import DemoPaths
from geo_csp.settings import WORKING_CRS


def _grid_network(n: int = 6, spacing_m: float = 100.0) -> nx.MultiGraph:
    """An n x n street grid in EPSG:27700 with 100 m blocks."""
    base = nx.grid_2d_graph(n, n)
    graph = nx.MultiGraph(crs=WORKING_CRS)
    x0, y0 = 380_000.0, 410_000.0
    for i, j in base.nodes:
        graph.add_node(i * n + j, x=x0 + i * spacing_m, y=y0 + j * spacing_m)
    for (a, b), (c, d) in base.edges:
        graph.add_edge(a * n + b, c * n + d, length=spacing_m)
    return graph


def _stops(xy: list[tuple[float, float]], priority: list[float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"priority": priority, "name": [f"s{i}" for i in range(len(xy))]},
        geometry=shapely.points(xy),
        crs=WORKING_CRS,
    )


def test_straight_line_estimate_is_labelled_and_known() -> None:
    # hub at origin, one stop 300 m east: 600 m crow-fly x 1.3 = 780 m = 9.75 min at 80 m/min
    stops = _stops([(300.0, 0.0)], [5.0])
    plan = routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=30, dwell_min=12)
    assert plan.straight_line
    assert_allclose(plan.length_m, 780.0)
    assert_allclose(plan.walk_min, 9.75)
    assert_allclose(plan.total_min, 21.75)
    assert "STRAIGHT-LINE ESTIMATE" in plan.note and "STRAIGHT-LINE ESTIMATE" in plan.to_gpx()
    assert "Straight-line estimate" in plan.to_html()


def test_insertion_beats_nearest_neighbour() -> None:
    # cheap low-priority stops near the hub lure nearest-neighbour away from a rich cluster to the north
    near = [(60.0 * (i + 1), 0.0) for i in range(5)]  # east, priority 1 each
    rich = [(0.0, 700.0), (40.0, 720.0), (-40.0, 720.0)]  # north, priority 10 each
    stops = _stops(near + rich, [1.0] * 5 + [10.0] * 3)
    kwargs = {"start": (0.0, 0.0), "budget_min": 60.0, "dwell_min": 5.0}
    best = routes.plan_walkabout(stops, **kwargs)
    naive = routes.plan_walkabout(stops, method="nearest", **kwargs)
    assert best.total_min <= 60.0 + 1e-9 and naive.total_min <= 60.0 + 1e-9
    assert best.priority_total > naive.priority_total
    assert best.priority_total >= 30.0  # the whole northern cluster is visited


def test_plan_on_grid_respects_budget_and_reachability() -> None:
    graph = _grid_network()
    graph.add_node(999, x=385_000.0, y=415_000.0)  # an island far away
    x0, y0 = 380_000.0, 410_000.0
    stops = _stops(
        [(x0 + 500, y0 + 500), (x0 + 200, y0 + 100), (x0 + 100, y0 + 400), (385_000.0, 415_000.0), (x0 + 9000, y0)],
        [8.0, 3.0, 5.0, 50.0, 40.0],
    )
    plan = routes.plan_walkabout(stops, start=(x0, y0), budget_min=45, dwell_min=10, network=graph)
    assert not plan.straight_line
    assert set(plan.skipped.loc[plan.skipped["reason"].str.startswith("unreachable"), "name"]) == {"s3", "s4"}
    assert plan.total_min <= 45 + 1e-9
    # the route starts and ends at the hub and is a connected street line
    coords = shapely.get_coordinates(plan.route)
    assert_allclose(coords[0], [x0, y0]) and assert_allclose(coords[-1], [x0, y0])
    assert_allclose(plan.route.length, plan.length_m)
    assert_allclose(sum(plan.legs_m), plan.length_m)
    # arrival times add up: walk + dwell
    assert_allclose(plan.stops["depart_min"] - plan.stops["arrive_min"], 10.0)


def test_hub_off_the_street_walk_is_in_the_budget() -> None:
    # hub 60 m south of grid node (0, 0); one stop at node (300, 0): 60 + 300 + 300 + 60 = 720 m = 9 min
    graph = _grid_network()
    x0, y0 = 380_000.0, 410_000.0
    stops = _stops([(x0 + 300, y0)], [5.0])
    plan = routes.plan_walkabout(stops, start=(x0, y0 - 60), budget_min=21, dwell_min=12, network=graph)
    assert_allclose(plan.legs_m, [360.0, 360.0])
    assert_allclose([plan.walk_min, plan.total_min], [9.0, 21.0])
    coords = shapely.get_coordinates(plan.route)
    assert_allclose(coords[[0, -1]], [[x0, y0 - 60], [x0, y0 - 60]])
    assert_allclose(plan.route.length, 720.0)
    # one minute less and the stop no longer fits: it is listed, not silently dropped
    short = routes.plan_walkabout(stops, start=(x0, y0 - 60), budget_min=20, dwell_min=12, network=graph)
    assert short.stops.empty and short.skipped["reason"].tolist() == ["does not fit the time budget"]


def test_plan_errors() -> None:
    stops = _stops([(300.0, 0.0)], [5.0])
    with pytest.raises(ParameterError, match="budget_min"):
        routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=0)
    with pytest.raises(ParameterError, match="alone takes"):
        routes.plan_walkabout(stops, start=(0.0, 0.0), end=(10_000.0, 0.0), budget_min=10)
    with pytest.raises(NetworkError, match="from the nearest street"):
        routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=60, network=_grid_network())


def test_load_network_errors(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="does not exist"):
        routes.load_network(tmp_path / "none.osm")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(NetworkError, match="unknown format"):
        routes.load_network(tmp_path / "x.txt")
    (tmp_path / "bad.osm").write_text("<osm><way")
    with pytest.raises(NetworkError, match="cannot read network file"):
        routes.load_network(tmp_path / "bad.osm")


def test_network_for_area_offline_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("no internet")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    with pytest.raises(NetworkError, match="--network FILE"):
        routes.network_for_area(shapely.box(380_000, 410_000, 380_500, 410_500), cache_dir=tmp_path)


def test_network_cache_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    polygon = shapely.box(380_000, 410_000, 380_500, 410_500)
    graph = _grid_network()
    lonlat = ox.project_graph(nx.MultiDiGraph(graph), to_crs="EPSG:4326")
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **k: lonlat)
    first = routes.network_for_area(polygon, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.graphml"))) == 1
    monkeypatch.setattr(ox, "graph_from_polygon", lambda *a, **k: (_ for _ in ()).throw(ConnectionError()))
    second = routes.network_for_area(polygon, cache_dir=tmp_path)
    assert second.number_of_nodes() == first.number_of_nodes() == 36


def test_a_network_file_read_again_is_not_parsed_again_and_each_reader_gets_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import osmnx as ox

    path = tmp_path / "grid.graphml"
    ox.save_graphml(ox.project_graph(nx.MultiDiGraph(_grid_network()), to_crs="EPSG:4326"), path)
    reads: list[object] = []
    load = ox.load_graphml
    monkeypatch.setattr(ox, "load_graphml", lambda *a, **k: (reads.append(a), load(*a, **k))[1])
    first = routes.load_network(path)
    second = routes.load_network(tmp_path / "." / "grid.graphml")  # the same file, named another way
    assert len(reads) == 1
    assert second is not first and nx.utils.graphs_equal(first, second)
    u, v, k = next(iter(first.edges(keys=True)))
    first.edges[u, v, k]["length"] = -1.0  # a planner changing its copy leaves the next reader's alone
    first.remove_node(u)
    third = routes.load_network(path)
    assert third.number_of_nodes() == 36 and third.edges[u, v, k]["length"] > 0
    assert len(reads) == 1
    # a file written again (another size or time) is read again
    ox.save_graphml(ox.project_graph(nx.MultiDiGraph(_grid_network(n=4)), to_crs="EPSG:4326"), path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert routes.load_network(path).number_of_nodes() == 16
    assert len(reads) == 2


# ------------------------------------------------------------------ real OSM network
@pytest.fixture(scope="module")
def levenshulme(real_file: Callable[..., Path]) -> nx.MultiGraph:
    return routes.load_network(real_file("osm-manchester-levenshulme", "levenshulme_2022-12.osm.gz"))


@pytest.mark.slow
def test_levenshulme_network_loads_streets_only(levenshulme: nx.MultiGraph) -> None:
    assert levenshulme.graph["crs"] == WORKING_CRS
    assert all(d.get("highway") for _, _, d in levenshulme.edges(data=True))
    assert nx.is_connected(levenshulme)
    assert levenshulme.number_of_nodes() == 320  # PROVENANCE: largest component 320 nodes
    total_km = sum(d["length"] for _, _, d in levenshulme.edges(data=True)) / 1000
    assert_allclose(total_km, 32.3, atol=0.1)


@pytest.mark.slow
def test_levenshulme_route_follows_streets(levenshulme: nx.MultiGraph, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    nodes = np.array(list(levenshulme.nodes))
    xy = np.array([(levenshulme.nodes[n]["x"], levenshulme.nodes[n]["y"]) for n in nodes])
    pick = rng.choice(len(nodes), 15, replace=False)
    stops = _stops([tuple(p) for p in xy[pick] + rng.normal(0, 10, (15, 2))], rng.integers(1, 20, 15).astype(float))
    start = shapely.Point(xy.mean(axis=0))
    plan = routes.plan_walkabout(stops, start=start, budget_min=90, network=levenshulme, start_name="Hub")
    naive = routes.plan_walkabout(stops, start=start, budget_min=90, network=levenshulme, method="nearest")
    assert plan.priority_total >= naive.priority_total
    assert plan.total_min <= 90 + 1e-9 and len(plan.stops) >= 3

    # every leg equals networkx's shortest path length between the visited street nodes
    tree = shapely.STRtree(shapely.points(xy))
    hub_node = nodes[tree.nearest(start)]
    visit_nodes = nodes[tree.nearest(shapely.points(plan.stops[["easting", "northing"]].to_numpy()))]
    seq = [hub_node, *visit_nodes, hub_node]
    expected = [nx.shortest_path_length(levenshulme, a, b, weight="length") for a, b in zip(seq[:-1], seq[1:])]
    # plus the straight walk between the hub and its street node on the first and last legs
    access = float(np.hypot(*(xy[tree.nearest(start)] - np.array(start.coords[0]))))
    expected[0] += access
    expected[-1] += access
    assert_allclose(plan.legs_m, expected, rtol=1e-9)
    assert_allclose(plan.params["hub_access_m"], [access, access])

    # the GPX opens with gpxpy and every track point lies on a street edge (< 1 m in EPSG:27700)
    gpx_file = tmp_path / "walk.gpx"
    gpx_file.write_text(plan.to_gpx())
    parsed = gpxpy.parse(gpx_file.read_text())
    points = [(p.longitude, p.latitude) for p in parsed.tracks[0].segments[0].points]
    assert len(parsed.waypoints) == len(plan.stops)
    bng = gpd.GeoSeries(shapely.points(points), crs="EPSG:4326").to_crs(WORKING_CRS)
    edges = [
        d.get("geometry")
        or shapely.LineString(
            [
                (levenshulme.nodes[u]["x"], levenshulme.nodes[u]["y"]),
                (levenshulme.nodes[v]["x"], levenshulme.nodes[v]["y"]),
            ]
        )
        for u, v, d in levenshulme.edges(data=True)
    ]
    street = shapely.STRtree(edges)
    _, dist = street.query_nearest(bng.to_numpy()[1:-1], return_distance=True, all_matches=False)
    assert dist.max() < 1.0  # every point between the hub ends lies on a street
    # start and end at the hub itself, then along streets from its street node
    assert_allclose(bng.iloc[0].coords[0], start.coords[0], atol=0.01)
    assert_allclose(bng.iloc[-1].coords[0], start.coords[0], atol=0.01)
    assert_allclose(bng.iloc[1].coords[0], xy[tree.nearest(start)], atol=0.01)
    html = plan.to_html(title="Levenshulme walkabout")
    assert "OpenStreetMap contributors" in html and plan.stops["name"].iloc[0] in html


# ------------------------------------------------------------------ SYNTHETIC demo borough
@pytest.mark.slow
def test_demo_walkabout_plan(demo_borough: DemoPaths, tmp_path: Path) -> None:
    from _planning_demo import incidents

    from geo_csp import boundaries, hotspot_run, layers, priorities

    folder = demo_borough.out_dir
    result = hotspot_run.run_hotspots(
        incidents(folder),
        cube_params=CubeParams(measure="harm"),
        study_area=boundaries.load_borough(),
        named_places=boundaries.load_named_places(),
    )
    hot = result.units[result.units["area_id"].notna()]
    stops = priorities.patrol_priorities(
        hot, params=priorities.PatrolParams(measure="harm", top_n=25), id_col="unit_id"
    )
    graph = routes.load_network(folder / "layers" / "town_centre_walk.graphml")
    hubs = layers.read_hubs(folder / "layers" / "hubs.csv")
    hub = hubs[hubs["place_id"] == "HUB-01"]
    plan = routes.plan_walkabout(stops, start=hub, budget_min=120, network=graph, start_name="Bury hub")
    naive = routes.plan_walkabout(stops, start=hub, budget_min=120, network=graph, method="nearest")
    assert plan.priority_total > naive.priority_total  # measured: 381,627 vs 354,231 harm
    assert plan.total_min <= 120 + 1e-9
    # only reachable stops: every visited stop sits on the town-centre network, the rest are listed
    assert (plan.stops["snap_m"] <= 250).all()
    unreachable = plan.skipped[plan.skipped["reason"].str.startswith("unreachable")]
    assert len(unreachable) > 0 and not set(unreachable["stop_id"]) & set(plan.stops["stop_id"])
    # starts and ends at the hub itself; the walk to its street node is counted in the budget
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in graph.nodes])
    hub_pt = shapely.get_coordinates(hub.geometry)[0]
    access = np.hypot(*(xy - hub_pt).T).min()
    coords = shapely.get_coordinates(plan.route)
    assert_allclose(coords[0], hub_pt) and assert_allclose(coords[-1], hub_pt)
    assert_allclose(plan.route.length, plan.length_m, atol=0.05)  # GraphML edge lengths are rounded to 1 cm
    assert_allclose(plan.params["hub_access_m"], [access, access])
    assert_allclose(plan.total_min, plan.length_m / 80.0 + 12.0 * len(plan.stops))
    path = tmp_path / "demo.gpx"
    path.write_text(plan.to_gpx())
    parsed = gpxpy.parse(path.read_text())
    assert len(parsed.tracks[0].segments[0].points) == len(coords)
    assert [w.name.split(". ", 1)[1] for w in parsed.waypoints] == plan.stops["name"].tolist()


def test_default_purpose_is_readable() -> None:
    stops = _stops([(300.0, 0.0), (0.0, 300.0)], [1_234_567.0, 2.5])
    plan = routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=120, dwell_min=10)
    assert set(plan.stops["purpose"]) == {"Visible presence, priority 1,234,567", "Visible presence, priority 2.5"}


def test_sheet_has_the_route_map_clock_times_and_what_to_look_for() -> None:
    stops = _stops([(300.0, 0.0)], [5.0]).assign(purpose=["Look for <shoplifting>"])
    plan = routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=90, dwell_min=12, network=None)
    clock = plan.clock_times("18:45")
    first = plan.stops["arrive_min"].iloc[0]  # 300 m x 1.3 / 80 m/min = 4.875 min -> 18:50
    assert_allclose(first, 4.875)
    assert clock["arrive"].iloc[0] == "18:50" and clock["depart"].iloc[0] == "19:02"
    page = plan.to_html(title="Walk", map_uri="data:image/png;base64,AAAA", start_clock="18:45")
    assert "<img class='map' src='data:image/png;base64,AAAA'" in page
    assert "18:50&ndash;19:02" in page and "What to look for" in page and "Look for &lt;shoplifting&gt;" in page
    with pytest.raises(ParameterError, match="HH:MM"):
        plan.clock_times("quarter past")


def test_demo_borough_network_reaches_every_named_place_and_hub(demo_borough: DemoPaths) -> None:
    from scipy.spatial import cKDTree

    from geo_csp import boundaries, layers

    graph = routes.load_network(demo_borough.layers_dir / "borough_walk.graphml")
    assert nx.is_connected(graph)
    assert graph.graph.get("synthetic") == "SYNTHETIC"
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)])
    tree = cKDTree(xy)
    places = boundaries.load_named_places().geometry.representative_point()
    hubs = layers.read_hubs(demo_borough.layers_dir / "hubs.csv").to_crs(WORKING_CRS).geometry
    for points in (places, hubs):
        assert (tree.query(shapely.get_coordinates(points.to_numpy()))[0] < 150.0).all()  # within the 250 m reach
    # any point of the borough is within the lattice's half-diagonal (141 m) of a node
    borough = boundaries.load_borough().geometry.iloc[0]
    grid = np.random.default_rng(1).uniform(borough.bounds[:2], borough.bounds[2:], size=(4000, 2))
    inside = grid[shapely.contains_xy(borough, grid[:, 0], grid[:, 1])]
    assert tree.query(inside)[0].max() < 145.0
    # the town-centre streets are kept: every town-centre node is in the borough network
    town = routes.load_network(demo_borough.layers_dir / "town_centre_walk.graphml")
    assert set(town.nodes) <= set(graph.nodes)
