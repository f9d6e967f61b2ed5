"""Where the SYNTHETIC demo borough's incidents can happen: anonymous snap points and a street network.

police.uk moves every incident to the nearest point of a fixed master list of anonymous map points
(street centres, public places, commercial premises) and publishes "On or near <street>" and the
LSOA of that point. The demo does the same on Bury's real LSOAs: a few thousand points spread by
population, each on a synthetic named street, plus the nodes of a synthetic walking street network
for the Bury town centre and Moorside, so that town-centre incidents sit exactly on network nodes.

Everything here is made up on top of the real ward and LSOA polygons; nothing is a real street.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer

from geo_csp import boundaries, schema
from geo_csp._errors import ParameterError
from geo_csp.settings import DISPLAY_CRS, SYNTHETIC_LABEL, WORKING_CRS

__all__ = [
    "BACKGROUND_MAX_DENSITY_RATIO",
    "DemoPlaces",
    "background_lsoa_weights",
    "make_places",
    "voronoi_area_shares",
    "to_lonlat",
    "to_bng",
]

# Street-name pool: made-up but ordinary English street names (prefix x suffix, drawn without repeats).
_PREFIXES = (
    "Acre",
    "Alder",
    "Ash",
    "Aspen",
    "Badger",
    "Barley",
    "Beacon",
    "Beech",
    "Birch",
    "Bleach",
    "Bobbin",
    "Brook",
    "Buttercup",
    "Canal",
    "Carder",
    "Castle",
    "Cedar",
    "Chapel",
    "Cherry",
    "Clough",
    "Cobden",
    "Copper",
    "Cotton",
    "Crofter",
    "Daisy",
    "Dale",
    "Elm",
    "Engine",
    "Fern",
    "Field",
    "Flax",
    "Forge",
    "Fountain",
    "Foundry",
    "Furnace",
    "Garden",
    "Glebe",
    "Granary",
    "Hawthorn",
    "Hazel",
    "Heather",
    "Hollin",
    "Holly",
    "Ivy",
    "Juniper",
    "Kiln",
    "Lark",
    "Laurel",
    "Lime",
    "Linnet",
    "Loom",
    "Maple",
    "Meadow",
    "Mill",
    "Moss",
    "Oak",
    "Orchard",
    "Osier",
    "Paper",
    "Pennine",
    "Pinfold",
    "Poplar",
    "Quarry",
    "Reed",
    "Rowan",
    "Rush",
    "Sandstone",
    "Shuttle",
    "Sorrel",
    "Spindle",
    "Spring",
    "Stone",
    "Tannery",
    "Teasel",
    "Thistle",
    "Throstle",
    "Tithe",
    "Vale",
    "Weaver",
    "Well",
    "Wharf",
    "Willow",
    "Wren",
    "Yarn",
    "Yew",
    "Bracken",
    "Cob",
    "Dyer",
    "Ember",
    "Gorse",
)
_SUFFIXES = (
    "Street",
    "Road",
    "Lane",
    "Avenue",
    "Close",
    "Drive",
    "Grove",
    "Way",
    "Crescent",
    "Terrace",
    "Place",
    "Walk",
)
# police.uk's non-street snap-point names (a few points carry these instead of a street).
_PUBLIC_PLACES = (
    "Supermarket",
    "Shopping Area",
    "Parking Area",
    "Petrol Station",
    "Sports/Recreation Area",
    "Park/Open Space",
    "Further/Higher Educational Building",
    "Hospital",
    "Nightclub",
    "Pedestrian Subway",
)

_TO_LONLAT = Transformer.from_crs(WORKING_CRS, DISPLAY_CRS, always_xy=True)
_TO_BNG = Transformer.from_crs(DISPLAY_CRS, WORKING_CRS, always_xy=True)

# Town-centre network shape (metres): an 11 x 11 perturbed grid around Bury Town Centre and a
# 5 x 5 grid over Moorside, joined by a radial road.
_TC_GRID = (11, 105.0, 10.0)  # nodes per side, spacing, rotation (degrees)
_MOORSIDE_GRID = (5, 150.0, -8.0)
_JITTER_M = 15.0  # < spacing/2 - footprint margin, so the 3 x 3 core stays inside the footprint
_DROP_SHARE = 0.06  # share of grid links removed (never disconnecting the network)
#: Default cap on an LSOA's background density, as a multiple of the borough-average background
#: density (see :func:`background_lsoa_weights` and :class:`geo_csp.demo.DemoParams`).
BACKGROUND_MAX_DENSITY_RATIO = 1.5


def to_lonlat(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 metres to WGS84 lon/lat rounded to 6 decimals, as police.uk publishes them."""
    lon, lat = _TO_LONLAT.transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.round(lon, 6), np.round(lat, 6)


def geojson_geometry(geom: shapely.Geometry, *, decimals: int = 6) -> dict[str, Any]:
    """A 27700 geometry as a WGS84 GeoJSON geometry dict."""
    geom = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat(xy[:, 0], xy[:, 1])))
    geometry: dict[str, Any] = json.loads(shapely.to_geojson(shapely.set_precision(geom, 10.0**-decimals)))
    return geometry


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat to EPSG:27700 metres."""
    return _TO_BNG.transform(np.asarray(lon, float), np.asarray(lat, float))


@dataclass(frozen=True)
class DemoPlaces:
    """The geography every demo file is generated on.

    Attributes
    ----------
    points
        One row per snap point: ``easting, northing`` (EPSG:27700, from the published lon/lat),
        ``lon, lat`` (6 decimals), ``street``, ``location`` ("On or near ..."), ``lsoa_code``,
        ``lsoa_name``, ``ward_code``, ``node`` (network node id or -1), ``weight`` (population share,
        sums to 1).
    graph
        The synthetic walking network (``networkx.MultiDiGraph`` in osmnx form).
    grids
        ``{"tc": array (11, 11) of node ids, "moorside": array (5, 5)}`` for planting.
    streets
        Per network street name, the ordered node ids along it.
    """

    points: pd.DataFrame
    graph: nx.MultiDiGraph
    grids: dict[str, np.ndarray]
    streets: dict[str, list[int]]
    wards: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    borough: gpd.GeoDataFrame
    named: gpd.GeoDataFrame

    def place(self, name: str) -> shapely.Geometry:
        """The polygon (EPSG:27700) of a named place."""
        return self.named.geometry[self.named["name"] == name].iloc[0]

    def node_rows(self, nodes: npt.ArrayLike) -> np.ndarray:
        """Row positions in ``points`` of network node ids (nodes are the first rows, in id order)."""
        return np.asarray(nodes, dtype=int)

    def with_location(self, nodes: np.ndarray, location: str) -> "DemoPlaces":
        """A copy whose network ``nodes`` carry the ``location`` text."""
        points = self.points.copy()
        points.loc[points["node"].isin(nodes), "location"] = location
        return replace(self, points=points)

    def points_in(self, geom: shapely.Geometry) -> np.ndarray:
        """Positions of the snap points inside ``geom`` (EPSG:27700)."""
        return np.flatnonzero(shapely.contains_xy(geom, self.points["easting"], self.points["northing"]))


def background_lsoa_weights(lsoas: gpd.GeoDataFrame, *, max_density_ratio: float) -> np.ndarray:
    """Background weight of each LSOA: its population, its density capped so that no LSOA's
    background density exceeds ``max_density_ratio`` times the borough-average background density
    (the weights are not normalised).

    Pure population weighting makes the densest LSOAs (Bury's reach 7x the borough-average
    residents per km^2, packed into one or two H3 res-9 cells) as dense in background crime as the
    planted hotspots (4-12x): a sustained concentration that any hotspot method must find, although
    the truth says there is nothing there. With the cap, background density still follows where
    people live (moorland stays nearly empty) but no residential block stands out like a planted
    place, so background is noise around a smooth surface, not structure.

    The cap ``D`` (weight per km^2) is the one that holds *after* capping: capping lowers the
    borough average, so a cap of ``max_density_ratio`` x the average *resident* density would let
    the capped LSOAs reach a larger multiple of the average *background* density (2 became 2.3 on
    Bury's LSOAs). ``D`` solves ``D = max_density_ratio * sum(min(pop, D * km2)) / sum(km2)``: with
    the ``j`` densest LSOAs capped, ``D = r * P_rest / (K - r * K_capped)``, and the one ``j`` whose
    ``D`` lies between the j-th and (j+1)-th densities is the solution (for a ratio of 1, every
    LSOA is capped at the lowest density: a uniform background).
    """
    if not max_density_ratio >= 1.0:
        raise ParameterError(f"`max_density_ratio` must be >= 1; got {max_density_ratio!r}")
    pop = lsoas[schema.POPULATION].to_numpy(float)
    km2 = lsoas.geometry.area.to_numpy() / 1e6
    density = pop / km2
    order = np.argsort(-density)
    d_sorted = density[order]
    k_capped = np.concatenate([[0.0], np.cumsum(km2[order])])  # area of the j densest, j = 0..n
    p_rest = pop.sum() - np.concatenate([[0.0], np.cumsum(pop[order])])  # residents of the others
    denom = km2.sum() - max_density_ratio * k_capped
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.where(denom > 0, max_density_ratio * p_rest / denom, np.nan)
    upper = np.concatenate([[np.inf], d_sorted])  # j capped: D <= the j-th density ...
    lower = np.concatenate([d_sorted, [0.0]])  # ... and >= the (j+1)-th
    valid = np.flatnonzero((cap <= upper * (1 + 1e-12)) & (cap >= lower * (1 - 1e-12)))
    d_cap = cap[valid[0]] if valid.size else density.min()
    weights: np.ndarray = np.minimum(pop, d_cap * km2)
    return weights


def voronoi_area_shares(xy: np.ndarray, geom: shapely.Geometry) -> np.ndarray:
    """Share of ``geom``'s area nearer to each point than to any other (Voronoi cells clipped to ``geom``).

    Background mass split by these shares puts the same density everywhere in the polygon, wherever
    its points happen to fall; split equally per point, three random points close together would
    pile three points' mass onto one small patch (a res-9 H3 cell reached 5x the borough-average
    density that way, as dense as a planted hotspot).
    """
    xy = np.asarray(xy, dtype=float)
    if len(xy) == 1:
        return np.ones(1)
    cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=geom, ordered=True)
    area = shapely.area(shapely.intersection(shapely.get_parts(cells), geom))
    shares: np.ndarray = area / area.sum()
    return shares


def _name_pool(rng: np.random.Generator) -> list[str]:
    names = np.array([f"{p} {s}" for p in _PREFIXES for s in _SUFFIXES])
    return list(names[rng.permutation(len(names))])


def _random_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside a polygon (rejection sampling in its bounding box)."""
    x0, y0, x1, y1 = geom.bounds
    out = np.empty((0, 2))
    shapely.prepare(geom)
    while len(out) < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(max(4 * n, 64), 2))
        out = np.vstack([out, xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _grid_nodes(
    centre: tuple[float, float], side: int, spacing: float, angle_deg: float, rng: np.random.Generator
) -> np.ndarray:
    """Perturbed, rotated square grid of ``side`` x ``side`` node positions, shape (side, side, 2)."""
    half = (side - 1) / 2
    ij = np.stack(np.meshgrid(np.arange(side) - half, np.arange(side) - half, indexing="ij"), axis=-1)
    # row i runs west-east at northing offset i; column j runs south-north at easting offset j
    local = np.stack([ij[..., 1], ij[..., 0]], axis=-1) * spacing
    local = local + rng.uniform(-_JITTER_M, _JITTER_M, size=local.shape)
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    points: np.ndarray = local @ rot.T + np.asarray(centre)
    return points


def _build_network(
    named: gpd.GeoDataFrame, names: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int, str]], dict[str, list[int]], dict[str, np.ndarray]]:
    """The synthetic walking network: positions (EPSG:27700), edges and street names."""
    tc_centre = named.geometry[named["name"] == "Bury Town Centre"].iloc[0].centroid
    ms_centre = named.geometry[named["name"] == "Moorside"].iloc[0].centroid
    xy_parts: list[np.ndarray] = []
    edges: list[tuple[int, int, str]] = []
    streets: dict[str, list[int]] = {}
    grids: dict[str, np.ndarray] = {}
    next_id = 0
    for key, centre, (side, spacing, angle) in (
        ("tc", tc_centre, _TC_GRID),
        ("moorside", ms_centre, _MOORSIDE_GRID),
    ):
        pos = _grid_nodes((centre.x, centre.y), side, spacing, angle, rng)
        ids = np.arange(next_id, next_id + side * side).reshape(side, side)
        next_id += side * side
        xy_parts.append(pos.reshape(-1, 2))
        grids[key] = ids
        for i in range(side):  # row streets (west-east) and column streets (south-north)
            row_name, col_name = names.pop(), names.pop()
            streets[row_name] = ids[i, :].tolist()
            streets[col_name] = ids[:, i].tolist()
            edges += [(int(a), int(b), row_name) for a, b in zip(ids[i, :-1], ids[i, 1:])]
            edges += [(int(a), int(b), col_name) for a, b in zip(ids[:-1, i], ids[1:, i])]
    xy = np.vstack(xy_parts)
    # a radial road from the town-centre grid corner nearest Moorside to the Moorside grid
    tc_ids, ms_ids = grids["tc"].ravel(), grids["moorside"].ravel()
    d = np.linalg.norm(xy[tc_ids][:, None, :] - xy[ms_ids][None, :, :], axis=-1)
    a, b = np.unravel_index(np.argmin(d), d.shape)
    start, end = xy[tc_ids[a]], xy[ms_ids[b]]
    n_mid = max(1, int(d[a, b] // 120.0))
    t = np.arange(1, n_mid + 1) / (n_mid + 1)
    mid = start + t[:, None] * (end - start) + rng.uniform(-10, 10, size=(n_mid, 2))
    mid_ids = np.arange(next_id, next_id + n_mid)
    xy = np.vstack([xy, mid])
    road = names.pop().rsplit(" ", 1)[0] + " Road"
    chain = [int(tc_ids[a]), *mid_ids.tolist(), int(ms_ids[b])]
    streets[road] = chain
    edges += [(u, v, road) for u, v in zip(chain[:-1], chain[1:])]
    # remove a few grid links, keeping the network connected
    g = nx.Graph()
    g.add_nodes_from(range(len(xy)))
    g.add_edges_from((u, v) for u, v, _ in edges)
    keep = np.ones(len(edges), bool)
    for k in rng.permutation(len(edges))[: int(_DROP_SHARE * len(edges))]:
        u, v, name = edges[k]
        if name == road:
            continue
        g.remove_edge(u, v)
        if nx.is_connected(g):
            keep[k] = False
        else:
            g.add_edge(u, v)
    edges = [e for e, k in zip(edges, keep) if k]
    return xy, edges, streets, grids


def _to_multidigraph(
    lon: np.ndarray, lat: np.ndarray, xy: np.ndarray, edges: list[tuple[int, int, str]], core: np.ndarray
) -> nx.MultiDiGraph:
    """The network in osmnx form: lon/lat node ``x``/``y``, both directions, ``length`` in metres."""
    graph = nx.MultiDiGraph(
        crs=DISPLAY_CRS,
        name=f"{SYNTHETIC_LABEL} demo: Bury town centre and Moorside walking network",
        synthetic=SYNTHETIC_LABEL,
    )
    for n in range(len(xy)):
        graph.add_node(n, x=float(lon[n]), y=float(lat[n]), street_count=0)
    for k, (u, v, name) in enumerate(edges):
        length = float(np.round(np.linalg.norm(xy[u] - xy[v]), 3))
        highway = "footway" if core[u] and core[v] else "residential"
        for a, b, rev in ((u, v, False), (v, u, True)):
            graph.add_edge(
                a, b, key=0, osmid=k + 1, name=name, highway=highway, oneway=False, reversed=rev, length=length
            )
    degree = dict(nx.Graph(graph.to_undirected()).degree())
    nx.set_node_attributes(graph, degree, "street_count")
    return graph


def make_places(
    rng: np.random.Generator,
    *,
    n_points: int = 3000,
    extra_per_place: int = 35,
    max_density_ratio: float = BACKGROUND_MAX_DENSITY_RATIO,
) -> DemoPlaces:
    """Snap points over Bury's LSOAs (by population) plus the synthetic town-centre network.

    The background weight of an LSOA is its resident population, with its density (residents per
    km^2) capped at ``max_density_ratio`` times the borough's average background density (see
    :func:`background_lsoa_weights`), split among the LSOA's points by the area each stands for
    (:func:`voronoi_area_shares`).

    Parameters
    ----------
    rng
        Random generator (the only source of randomness).
    n_points
        Approximate number of LSOA snap points, spread by resident population (at least 5 per LSOA).
    extra_per_place
        Extra snap points inside each named place not covered by the network (dense centres).
    max_density_ratio
        Cap on an LSOA's background density relative to the borough-average background density (>= 1).
    """
    lsoas = boundaries.load_lsoas(era=2021)
    wards = boundaries.load_wards()
    borough = boundaries.load_borough()
    named = boundaries.load_named_places()
    names = _name_pool(rng)

    xy_net, edges, streets, grids = _build_network(named, names, rng)
    lon_n, lat_n = to_lonlat(xy_net[:, 0], xy_net[:, 1])
    e_n, n_n = to_bng(lon_n, lat_n)
    tc_centre = named.geometry[named["name"] == "Bury Town Centre"].iloc[0].centroid
    core = np.hypot(e_n - tc_centre.x, n_n - tc_centre.y) < 260.0
    graph = _to_multidigraph(lon_n, lat_n, np.column_stack([e_n, n_n]), edges, core)
    catchment = shapely.union_all(
        [shapely.convex_hull(shapely.multipoints(xy_net[grids[k].ravel()])).buffer(50.0) for k in grids]
    )

    # LSOA points by population, plus extra points in the dense named centres off the network
    pop = lsoas[schema.POPULATION].to_numpy(float)
    counts = np.maximum(5, np.round(n_points * pop / pop.sum())).astype(int)
    bg_mass = background_lsoa_weights(lsoas, max_density_ratio=max_density_ratio)
    parts, street_of, base = [], [], []
    for geom, n, p in zip(lsoas.geometry, counts, bg_mass):
        pts = _random_in(geom, n, rng)
        k = max(1, n // 4)
        seeds = pts[:k]
        nearest = np.argmin(np.linalg.norm(pts[:, None, :] - seeds[None, :, :], axis=-1), axis=1)
        labels = np.array([names.pop() for _ in range(k)], dtype=object)
        parts.append(pts)
        street_of.append(labels[nearest])
        base.append(p * voronoi_area_shares(pts, geom))
    borough_geom = borough.geometry.iloc[0]
    for name, geom in zip(named["name"], named.geometry):
        if name in ("Bury Town Centre", "Moorside"):
            continue
        pts = _random_in(geom.intersection(borough_geom), extra_per_place, rng)
        labels = np.array([names.pop() for _ in range(4)], dtype=object)
        parts.append(pts)
        street_of.append(labels[rng.integers(0, 4, size=len(pts))])
        base.append(np.zeros(len(pts)))  # dense-centre extras carry no residential weight
    xy = np.vstack(parts)
    street = np.concatenate(street_of)
    base_w = np.concatenate(base)
    outside = ~shapely.contains_xy(catchment, xy[:, 0], xy[:, 1])
    # the population weight of LSOA points replaced by the network moves to its nodes in that LSOA
    removed_lsoa = boundaries.assign_to_polygons(xy[~outside, 0], xy[~outside, 1], lsoas, code_col="lsoa_code")
    removed_mass = pd.Series(base_w[~outside]).groupby(pd.Series(removed_lsoa, dtype=object)).sum()
    xy, street, base_w = xy[outside], street[outside], base_w[outside]
    location = np.array(["On or near " + s for s in street], dtype=object)
    special = rng.random(len(xy)) < 0.03
    location[special] = [f"On or near {p}" for p in rng.choice(_PUBLIC_PLACES, size=int(special.sum()))]

    # network nodes as snap points: each named after one of its streets
    node_street = {}
    for name, ids in streets.items():
        for i, n in enumerate(ids):
            if n not in node_street or (i % 2 == 0):
                node_street[n] = name
    net_street = np.array([node_street[n] for n in range(len(xy_net))], dtype=object)
    net_location = np.array(["On or near " + s for s in net_street], dtype=object)
    centre_nodes = grids["tc"][4:7, 4:7].ravel()
    net_location[centre_nodes[[0, 2, 6]]] = [
        "On or near Shopping Area",
        "On or near Nightclub",
        "On or near Supermarket",
    ]

    lon_p, lat_p = to_lonlat(xy[:, 0], xy[:, 1])
    e_p, n_p = to_bng(lon_p, lat_p)
    points = pd.DataFrame(
        {
            "easting": np.concatenate([e_n, e_p]),
            "northing": np.concatenate([n_n, n_p]),
            "lon": np.concatenate([lon_n, lon_p]),
            "lat": np.concatenate([lat_n, lat_p]),
            "street": np.concatenate([net_street, street]),
            "location": np.concatenate([net_location, location]),
            "node": np.concatenate([np.arange(len(xy_net)), np.full(len(xy), -1)]),
        }
    )
    code = boundaries.assign_to_polygons(points["easting"], points["northing"], lsoas, code_col="lsoa_code")
    assign_lsoa = code[len(xy_net) :]
    if pd.isna(code[: len(xy_net)]).any():
        raise RuntimeError("a synthetic network node fell outside Bury's LSOAs")  # fixed geometry: never
    points = points[pd.notna(code)].reset_index(drop=True)
    code = code[pd.notna(code)]
    lsoa_idx = pd.Index(lsoas["lsoa_code"]).get_indexer(code)
    points["lsoa_code"] = code.astype(str)
    points["lsoa_name"] = lsoas["lsoa_name"].to_numpy()[lsoa_idx]
    points["ward_code"] = lsoas["ward_code"].to_numpy()[lsoa_idx]
    is_node = points["node"].to_numpy() >= 0
    nodes_per_lsoa = pd.Series(code[is_node]).value_counts()
    node_w = (
        removed_mass.reindex(code[is_node]).fillna(0.0).to_numpy() / nodes_per_lsoa.reindex(code[is_node]).to_numpy()
    )
    weight = np.concatenate([node_w, base_w[pd.notna(assign_lsoa)]])
    points["weight"] = weight / weight.sum()
    return DemoPlaces(points, graph, grids, streets, wards, lsoas, borough, named)
