"""The SYNTHETIC demo borough's walking network over the whole borough, made without randomness.

The town-centre network (:mod:`geo_csp.demo.places`) covers Bury town centre and Moorside only, so
a walkabout to Radcliffe, Whitefield or the Victoria Estate would find no street. :func:`borough_network`
keeps that network as it is and adds a square lattice of footpaths (``spacing_m``, default 200 m, so
every point of the borough is within ``spacing_m / sqrt 2`` = 141 m of a node, inside the planner's 250 m
reach) over the rest of the borough, joined to the town-centre streets where the two meet. Each
lattice path is named after the nearest snap point's made-up street, and the graph says SYNTHETIC.
The same places give the same network (no random draw), and making it draws nothing from the
generator's random streams, so the demo's incidents and layers are unchanged by it.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo_csp.demo.places import DemoPlaces, to_bng, to_lonlat
from geo_csp.settings import DISPLAY_CRS, SYNTHETIC_LABEL

__all__ = ["SPACING_M", "borough_network"]

SPACING_M = 200.0
_CATCHMENT_BUFFER_M = 60.0  # lattice nodes this close to the town-centre streets give way to them


def borough_network(places: DemoPlaces, *, spacing_m: float = SPACING_M) -> nx.MultiDiGraph:
    """The town-centre network plus a lattice of SYNTHETIC footpaths over the rest of the borough.

    Returns an osmnx-form ``MultiDiGraph`` (lon/lat node ``x``/``y``, both directions, ``length`` in
    metres, ``name`` and ``highway`` on every edge), connected: lattice pieces cut off by the
    borough's outline are dropped.
    """
    town = places.graph
    town_ids = np.array(list(town.nodes), dtype=int)
    town_xy = np.column_stack(
        to_bng(np.array([town.nodes[n]["x"] for n in town_ids]), np.array([town.nodes[n]["y"] for n in town_ids]))
    )
    outline = places.borough.geometry.iloc[0].buffer(spacing_m / 2)
    x0, y0, x1, y1 = outline.bounds
    xs = np.arange(np.floor(x0 / spacing_m) * spacing_m, x1 + spacing_m, spacing_m)
    ys = np.arange(np.floor(y0 / spacing_m) * spacing_m, y1 + spacing_m, spacing_m)
    gx, gy = np.meshgrid(xs, ys)  # rows run west-east
    inside = shapely.contains_xy(outline, gx, gy)
    near_town = cKDTree(town_xy).query(np.column_stack([gx.ravel(), gy.ravel()]))[0].reshape(gx.shape)
    catchment = shapely.union_all(
        [shapely.convex_hull(shapely.multipoints(town_xy[np.isin(town_ids, g.ravel())])) for g in places.grids.values()]
    ).buffer(_CATCHMENT_BUFFER_M)
    keep = inside & ~shapely.contains_xy(catchment, gx, gy)
    ids = np.full(gx.shape, -1, dtype=int)
    ids[keep] = np.arange(int(keep.sum())) + int(town_ids.max()) + 1
    lattice_xy = np.column_stack([gx[keep], gy[keep]])
    # lattice links: east and north neighbours both kept
    pairs = [np.column_stack([ids[:, :-1][m], ids[:, 1:][m]]) for m in [(ids[:, :-1] >= 0) & (ids[:, 1:] >= 0)]]
    pairs += [np.column_stack([ids[:-1, :][m], ids[1:, :][m]]) for m in [(ids[:-1, :] >= 0) & (ids[1:, :] >= 0)]]
    links = np.vstack(pairs)
    # joins: a lattice node next to the catchment walks to its nearest town-centre street node
    border = keep & (near_town < spacing_m * 1.5)
    join_town = cKDTree(town_xy).query(np.column_stack([gx[border], gy[border]]))[1]
    joins = np.column_stack([ids[border], town_ids[join_town]])

    xy_of = np.zeros((int(ids.max()) + 1, 2))
    xy_of[town_ids] = town_xy
    xy_of[ids[keep]] = lattice_xy
    edges = np.vstack([links, joins])
    mid = (xy_of[edges[:, 0]] + xy_of[edges[:, 1]]) / 2
    lengths = np.round(np.hypot(*(xy_of[edges[:, 0]] - xy_of[edges[:, 1]]).T), 3)
    streets = places.points[places.points["node"] < 0]
    nearest = cKDTree(streets[["easting", "northing"]].to_numpy()).query(mid)[1]
    names = streets["street"].to_numpy(dtype=object)[nearest]

    graph = nx.MultiDiGraph(
        crs=DISPLAY_CRS,
        name=f"{SYNTHETIC_LABEL} demo: Bury borough walking network (town-centre streets and a "
        f"{spacing_m:.0f} m lattice of footpaths)",
        synthetic=SYNTHETIC_LABEL,
    )
    graph.add_nodes_from(town.nodes(data=True))
    lon, lat = to_lonlat(lattice_xy[:, 0], lattice_xy[:, 1])
    graph.add_nodes_from(
        (int(n), {"x": float(a), "y": float(b), "street_count": 0}) for n, a, b in zip(ids[keep], lon, lat, strict=True)
    )
    graph.add_edges_from(town.edges(keys=True, data=True))
    osmid = 1 + max((int(d.get("osmid", 0)) for _, _, d in town.edges(data=True)), default=0)
    graph.add_edges_from(
        (
            u,
            v,
            0,
            {
                "osmid": osmid + k,
                "name": str(name),
                "highway": "footway",
                "oneway": False,
                "reversed": rev,
                "length": float(length),
                "synthetic": SYNTHETIC_LABEL,
            },
        )
        for k, ((a, b), name, length) in enumerate(zip(edges.tolist(), names, lengths, strict=True))
        for u, v, rev in ((a, b, False), (b, a, True))
    )
    largest = max(nx.weakly_connected_components(graph), key=len)
    graph = graph.subgraph(largest).copy()
    nx.set_node_attributes(graph, dict(nx.Graph(graph.to_undirected()).degree()), "street_count")
    return graph
