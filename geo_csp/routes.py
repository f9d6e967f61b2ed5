"""Walkabout planning on the walking street network.

Networks
--------
:func:`load_network` reads a street network the user gives (osmnx GraphML, or OSM XML ``.osm`` /
``.osm.gz`` / ``.osm.bz2``); :func:`network_for_area` downloads the walking network of a polygon with
``osmnx.graph_from_polygon(network_type="walk")`` and caches it as GraphML, failing with a
:class:`~geo_csp._errors.NetworkError` that says what to do when offline. Every network is returned as an
undirected ``networkx.MultiGraph`` projected to EPSG:27700 (people walk both ways along one-way
streets), with edge ``length`` in metres.

Planning
--------
:func:`plan_walkabout` chooses which priority places fit in a time budget and in what order, starting and
ending at a community hub. This is the orienteering problem (Golden, Levy & Vohra 1987; survey:
Vansteenwegen, Souffriau & Van Oudheusden 2011, EJOR 209:1-10), NP-hard, so a heuristic is used:

1. **Greedy ratio insertion** (as in Tsiligirides 1984 and the insertion step of the ILS of
   Vansteenwegen et al. 2009): repeatedly insert the unvisited stop with the highest
   ``priority / added minutes`` at its cheapest feasible position in the tour;
2. **2-opt** on the tour after each insertion to shorten it, which frees time for more stops;
3. **Swap improvement**: try replacing a visited stop by a higher-priority unvisited one when the
   tour stays within budget, then re-run 1-2, until nothing improves.

Legs are shortest paths on edge length (scipy's Dijkstra on the network's sparse adjacency, which equals
``networkx.shortest_path_length(G, u, v, weight="length")``). A stop is visited at its nearest street node.
The walk starts and ends at the hubs themselves: the straight walk between a hub and its nearest street
node is part of the first and last legs, of the route line and of the time budget.
Without a network the plan is a **straight-line estimate**: straight distances times a detour factor of
1.3, clearly labelled as such in every output.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo_csp._errors import NetworkError, ParameterError, SchemaError
from geo_csp._escape import html_text
from geo_csp._validate import require_working_crs
from geo_csp.settings import DISPLAY_CRS, OSM_ATTRIBUTION, WORKING_CRS

__all__ = [
    "DETOUR_FACTOR",
    "WalkaboutPlan",
    "load_network",
    "network_for_area",
    "plan_walkabout",
]

DETOUR_FACTOR = 1.3  # straight-line estimate: street distance is typically ~1.2-1.4 x crow-fly in UK towns
_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml", ".xml.gz")


# --------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------
def _prepare(graph: nx.MultiDiGraph, source: str) -> nx.MultiGraph:
    """Project to EPSG:27700, make undirected, and make sure every edge has a length in metres."""
    import osmnx as ox

    if graph.number_of_nodes() == 0:
        raise NetworkError(f"the street network from {source} has no nodes; give a network that covers the area")
    crs = graph.graph.get("crs")
    if crs is None:
        xs = np.array([d["x"] for _, d in graph.nodes(data=True)], dtype="float64")
        crs = DISPLAY_CRS if np.all(np.abs(xs) <= 180) else WORKING_CRS
        graph.graph["crs"] = crs
    if gpd.GeoSeries([], crs=crs).crs != WORKING_CRS:
        graph = ox.project_graph(graph, to_crs=WORKING_CRS)
    if graph.is_directed():
        graph = ox.convert.to_undirected(graph)
    missing = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if d.get("length") is None]
    for u, v, k in missing:  # only networks saved without lengths; measure them in metres
        geom = graph.edges[u, v, k].get("geometry")
        a, b = graph.nodes[u], graph.nodes[v]
        graph.edges[u, v, k]["length"] = (
            geom.length if geom is not None else float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
        )
    for _, _, d in graph.edges(data=True):
        d["length"] = float(d["length"])
    return graph


def load_network(path: Path | str) -> nx.MultiGraph:
    """Read a walking street network from a file.

    Parameters
    ----------
    path
        osmnx GraphML (``.graphml``), or OSM XML (``.osm``, ``.osm.gz``, ``.osm.bz2``). OSM XML is read with
        ``osmnx.graph_from_xml`` unsimplified, edges without a ``highway`` tag (buildings, railways,
        land use) are dropped, the graph is simplified and only its largest connected part is kept.

    Returns
    -------
    networkx.MultiGraph
        Undirected, EPSG:27700 node ``x``/``y``, edge ``length`` in metres.
    """
    path = Path(path)
    if not path.exists():
        raise NetworkError(f"network file {path} does not exist; give a GraphML or OSM XML (.osm/.osm.gz) file")
    stat = path.stat()
    # reading and preparing a file takes seconds (a borough's 5,000 streets: about 4 s), and the planning
    # pages and commands of a session read the same file again: the last few files read are kept, keyed by
    # their size, times and inode, and each call gets its own copy
    graph: nx.MultiGraph = _read_network(
        str(path.resolve()), str(path), (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    ).copy()
    return graph


@functools.lru_cache(maxsize=4)
def _read_network(resolved: str, given: str, stamp: tuple[int, ...]) -> nx.MultiGraph:
    """The prepared network of the file at ``resolved`` (see :func:`load_network`), named ``given`` in errors;
    not to be modified."""
    import osmnx as ox

    del stamp  # the file's size, times and inode: part of the cache key only
    path = Path(given)
    name = path.name.lower()
    try:
        if name.endswith(".graphml") or name.endswith(".graphml.gz"):
            graph = ox.load_graphml(resolved)
        elif name.endswith(_OSM_SUFFIXES):
            graph = ox.graph_from_xml(resolved, simplify=False, retain_all=True)
            no_highway = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not d.get("highway")]
            graph.remove_edges_from(no_highway)
            graph.remove_nodes_from([n for n, deg in dict(graph.degree()).items() if deg == 0])
            if graph.number_of_edges() == 0:
                raise NetworkError(f"network file {path} has no ways tagged 'highway'; it holds no streets")
            graph = ox.simplify_graph(graph)
            graph = ox.truncate.largest_component(graph, strongly=False)
        else:
            raise NetworkError(
                f"network file {path}: unknown format; give osmnx GraphML (.graphml) or OSM XML (.osm, .osm.gz)"
            )
    except NetworkError:
        raise
    except Exception as exc:  # osmnx/lxml raise many types for broken files
        raise NetworkError(f"cannot read network file {path}: {exc}; give a valid GraphML or OSM XML file") from exc
    return _prepare(graph, str(path))


def network_for_area(
    polygon: shapely.Geometry,
    *,
    cache_dir: Path | str,
    network_type: str = "walk",
) -> nx.MultiGraph:
    """The walking network of an area: from the GraphML cache, else downloaded with osmnx.

    Parameters
    ----------
    polygon
        The area in EPSG:27700 (e.g. the union of the hotspot areas, buffered).
    cache_dir
        Folder for the GraphML cache (one file per polygon and network type).
    network_type
        osmnx network type.

    Raises
    ------
    NetworkError
        When the network is not cached and cannot be downloaded (offline, Overpass down).
    """
    import osmnx as ox

    cache_dir = Path(cache_dir)
    key = hashlib.sha1(shapely.to_wkb(shapely.set_precision(polygon, 1.0)) + network_type.encode()).hexdigest()[:16]
    cached = cache_dir / f"network_{network_type}_{key}.graphml"
    if cached.exists():
        return load_network(cached)
    area = gpd.GeoSeries([polygon], crs=WORKING_CRS).to_crs(DISPLAY_CRS).iloc[0]
    try:
        graph = ox.graph_from_polygon(area, network_type=network_type)
    except Exception as exc:  # requests/Overpass errors when offline
        raise NetworkError(
            f"could not download the {network_type} network from OpenStreetMap ({type(exc).__name__}: {exc}); "
            "if offline, give a street network file with --network FILE (osmnx GraphML or OSM XML .osm/.osm.gz)"
        ) from exc
    cache_dir.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, cached)
    return _prepare(graph, "OpenStreetMap")


def _adjacency(graph: nx.MultiGraph) -> tuple[np.ndarray, sp.csr_matrix]:
    """Node ids and the symmetric sparse matrix of shortest parallel-edge lengths."""
    nodes = np.array(list(graph.nodes), dtype=object)
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, lengths = [], [], []
    for u, v, d in graph.edges(data=True):
        rows.append(index[u])
        cols.append(index[v])
        lengths.append(d["length"])
    r, c, w = np.array(rows), np.array(cols), np.array(lengths, dtype="float64")
    frame = pd.DataFrame({"r": np.r_[r, c], "c": np.r_[c, r], "w": np.r_[w, w]})
    frame = frame[frame.r != frame.c].groupby(["r", "c"], as_index=False)["w"].min()
    # zero-length edges would vanish from a sparse matrix: give them a negligible positive length
    weights = np.maximum(frame.w.to_numpy(), 1e-9)
    matrix = sp.csr_matrix((weights, (frame.r, frame.c)), shape=(len(nodes), len(nodes)))
    return nodes, matrix


def _edge_line(graph: nx.MultiGraph, u: object, v: object) -> np.ndarray:
    """Coordinates of the shortest edge between u and v, oriented from u to v."""
    data = min(graph.get_edge_data(u, v).values(), key=lambda d: d["length"])
    a = (graph.nodes[u]["x"], graph.nodes[u]["y"])
    b = (graph.nodes[v]["x"], graph.nodes[v]["y"])
    geom = data.get("geometry")
    if geom is None:
        return np.array([a, b])
    coords = np.asarray(geom.coords)
    if np.hypot(*(coords[0] - a)) > np.hypot(*(coords[-1] - a)):
        coords = coords[::-1]
    return coords


# --------------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WalkaboutPlan:
    """A planned walkabout.

    Attributes
    ----------
    stops
        Visited stops in order: ``order, stop_id, name, purpose, priority, arrive_min, dwell_min,
        depart_min, leg_m`` (walk to this stop), ``easting, northing`` (the street node visited), ``snap_m``.
    skipped
        Stops not visited: ``stop_id, name, priority, reason`` ("unreachable ..." or "does not fit the budget").
    route
        The walked line (EPSG:27700): along street edges, or straight segments for an estimate.
    length_m, walk_min, dwell_min, total_min, budget_min
        Route length, walking time, total dwell, walking + dwell, and the budget.
    legs_m
        Length of each leg, start to first stop ... last stop to end.
    straight_line
        True when no network was given: lengths are straight lines times ``DETOUR_FACTOR``.
    method
        ``"insertion"`` (ratio insertion + 2-opt + swaps) or ``"nearest"`` (nearest-neighbour baseline).
    start_name, end_name, note, params
        Labels, a plain-English note on how the plan was made, and the run parameters.
    """

    stops: pd.DataFrame
    skipped: pd.DataFrame
    route: shapely.LineString
    length_m: float
    walk_min: float
    dwell_min: float
    total_min: float
    budget_min: float
    legs_m: tuple[float, ...]
    straight_line: bool
    method: str
    start_name: str
    end_name: str
    note: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def priority_total(self) -> float:
        """Sum of the visited stops' priority."""
        return float(self.stops["priority"].sum())

    def route_frame(self) -> gpd.GeoDataFrame:
        """The route as a one-row GeoDataFrame (EPSG:27700)."""
        return gpd.GeoDataFrame(
            {"length_m": [self.length_m], "walk_min": [self.walk_min], "straight_line": [self.straight_line]},
            geometry=[self.route],
            crs=WORKING_CRS,
        )

    def to_gpx(self) -> str:
        """The route as GPX 1.1 (lon/lat): one track, a waypoint per stop with its dwell and purpose."""
        import gpxpy.gpx

        gpx = gpxpy.gpx.GPX()
        gpx.creator = "geo-csp"
        label = " (STRAIGHT-LINE ESTIMATE, not on streets)" if self.straight_line else ""
        track = gpxpy.gpx.GPXTrack(name=f"Walkabout from {self.start_name}{label}", description=self.note)
        segment = gpxpy.gpx.GPXTrackSegment()
        line = gpd.GeoSeries([self.route], crs=WORKING_CRS).to_crs(DISPLAY_CRS).iloc[0]
        segment.points.extend(gpxpy.gpx.GPXTrackPoint(latitude=y, longitude=x) for x, y in line.coords)
        track.segments.append(segment)
        gpx.tracks.append(track)
        if len(self.stops):
            pts = gpd.GeoSeries(shapely.points(self.stops["easting"], self.stops["northing"]), crs=WORKING_CRS)
            lonlat = pts.to_crs(DISPLAY_CRS)
            for (_, stop), point in zip(self.stops.iterrows(), lonlat, strict=True):
                gpx.waypoints.append(
                    gpxpy.gpx.GPXWaypoint(
                        latitude=point.y,
                        longitude=point.x,
                        name=f"{stop['order']}. {stop['name']}",
                        description=f"Stay {stop['dwell_min']:.0f} min. {stop['purpose']}",
                    )
                )
        return gpx.to_xml(version="1.1")

    def clock_times(self, start_clock: str) -> pd.DataFrame:
        """The stops' arrive and leave times on the clock ("HH:MM") for a walk starting at ``start_clock``."""
        try:
            start = pd.Timestamp(f"2000-01-01 {start_clock}")
        except ValueError as exc:
            raise ParameterError(
                f"start_clock={start_clock!r} is not a time of day; give it as HH:MM, e.g. 10:00"
            ) from exc
        arrive = start + pd.to_timedelta(self.stops["arrive_min"].to_numpy(dtype="float64").round(), unit="min")
        leave = start + pd.to_timedelta(self.stops["depart_min"].to_numpy(dtype="float64").round(), unit="min")
        return pd.DataFrame(
            {"arrive": arrive.strftime("%H:%M"), "depart": leave.strftime("%H:%M")}, index=self.stops.index
        )

    def to_html(
        self, *, title: str = "Walkabout plan", map_uri: str | None = None, start_clock: str | None = None
    ) -> str:
        """A printable sheet: summary, the route map (``map_uri``, an image ``data:`` URI), the stop list
        with times (on the clock from ``start_clock`` "HH:MM", else minutes after the start), stay and
        what to look for, a box to tick, and caveats."""
        esc = html_text
        warn = (
            f"<p class='warn'><b>Straight-line estimate:</b> no street network was given, so distances are "
            f"straight lines x {DETOUR_FACTOR} (typical detour). Give a network for a walkable route.</p>"
            if self.straight_line
            else ""
        )
        if start_clock is not None:
            clock = self.clock_times(start_clock)
            when = [f"{a}&ndash;{d}" for a, d in zip(clock["arrive"], clock["depart"], strict=True)]
            when_head = "Time"
        else:
            when = [f"{a:.0f}" for a in self.stops["arrive_min"]]
            when_head = "Arrive (min)"
        rows = "".join(
            f"<tr><td>{s.order}</td><td>{esc(str(s.name))}</td><td>{w}</td><td>{s.dwell_min:.0f}</td>"
            f"<td>{s.leg_m:,.0f}</td><td>{esc(str(s.purpose))}</td><td>&#9744;</td></tr>"
            for s, w in zip(self.stops.itertuples(), when, strict=True)
        )
        figure = (
            f"<img class='map' src='{map_uri}' alt='Route map: the walk and its numbered stops'>" if map_uri else ""
        )
        start_at = f" at <b>{esc(start_clock)}</b>" if start_clock else ""
        skipped = (
            "<h2>Not visited</h2><ul>"
            + "".join(f"<li>{esc(str(s.name))}: {esc(str(s.reason))}</li>" for s in self.skipped.itertuples())
            + "</ul>"
            if len(self.skipped)
            else ""
        )
        attribution = "" if self.straight_line else f"<p class='small'>Street network {esc(OSM_ATTRIBUTION)}.</p>"
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;margin:1.5cm}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #555;padding:4px;text-align:left}}.warn{{background:#fee;padding:6px}}
.small{{font-size:80%;color:#444}}img.map{{width:100%;max-height:15cm;object-fit:contain;border:1px solid #999}}
@media print{{body{{margin:1cm}}}}</style></head><body>
<h1>{esc(title)}</h1>
<p>Start: <b>{esc(self.start_name)}</b>{start_at}; end: <b>{esc(self.end_name)}</b>.
Walk {self.length_m / 1000:.2f} km ({self.walk_min:.0f} min) + {self.dwell_min:.0f} min at stops =
<b>{self.total_min:.0f} min</b> of a {self.budget_min:.0f} min budget.</p>
{warn}
{figure}
<table><tr><th>#</th><th>Place</th><th>{when_head}</th><th>Stay (min)</th><th>Walk to it (m)</th>
<th>What to look for</th><th>Done</th></tr>
{rows}</table>
<p class="small">Stay 10-15 minutes at each place and vary the order and times of return visits: short
unpredictable stops deter for longer than drive-throughs (Koper 1995, Justice Quarterly 12(4)). {esc(self.note)}</p>
{skipped}{attribution}
</body></html>"""


def _as_point(value: object, name: str) -> shapely.Point:
    if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries):
        if len(value) != 1:
            raise ParameterError(f"`{name}` must be one point, got {len(value)} rows")
        frame = value if value.crs == WORKING_CRS else value.to_crs(WORKING_CRS)
        value = frame.geometry.iloc[0] if isinstance(frame, gpd.GeoDataFrame) else frame.iloc[0]
    if isinstance(value, tuple) and len(value) == 2:
        value = shapely.Point(value)
    if not isinstance(value, shapely.Geometry) or value.is_empty:
        raise ParameterError(f"`{name}` must be a point in EPSG:27700 (shapely Point or (easting, northing))")
    return value if isinstance(value, shapely.Point) else value.representative_point()


def _tour_time(tour: list[int], travel: np.ndarray) -> float:
    idx = np.asarray(tour)
    return float(travel[idx[:-1], idx[1:]].sum())


def _two_opt(tour: list[int], travel: np.ndarray) -> list[int]:
    """2-opt on the interior of a tour with fixed first and last positions."""
    best = list(tour)
    improved = True
    while improved and len(best) > 3:
        improved = False
        for i in range(1, len(best) - 2):
            j = np.arange(i + 1, len(best) - 1)
            a, b, c, d = best[i - 1], best[i], np.asarray(best)[j], np.asarray(best)[j + 1]
            delta = travel[a, c] + travel[b, d] - travel[a, b] - travel[c, d]
            k = int(np.argmin(delta))
            if delta[k] < -1e-9:
                best[i : j[k] + 1] = best[i : j[k] + 1][::-1]
                improved = True
    return best


def _insert_greedy(
    tour: list[int], free: set[int], travel: np.ndarray, dwell: float, prio: np.ndarray, budget: float
) -> list[int]:
    """Ratio insertion (priority / added minutes) with 2-opt after every insertion."""
    tour = list(tour)
    while free:
        cand = np.array(sorted(free))
        t = np.asarray(tour)
        a, b = t[:-1], t[1:]
        added = travel[np.ix_(cand, a)] + travel[np.ix_(cand, b)] - travel[a, b][None, :] + dwell
        used = _tour_time(tour, travel) + dwell * (len(tour) - 2)
        feasible = used + added <= budget + 1e-9
        if not feasible.any():
            break
        ratio = np.where(feasible, prio[cand][:, None] / np.maximum(added, 1e-6), -np.inf)
        ci, pi = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        tour.insert(pi + 1, int(cand[ci]))
        free.discard(int(cand[ci]))
        tour = _two_opt(tour, travel)
    return tour


def _orienteer(travel: np.ndarray, prio: np.ndarray, dwell: float, budget: float, stops: np.ndarray) -> list[int]:
    """Ratio insertion + 2-opt + swap improvement. Index 0 is the start, 1 the end."""
    tour = _insert_greedy([0, 1], set(stops.tolist()), travel, dwell, prio, budget)
    for _ in range(len(stops) * 2):  # bounded improvement rounds
        best_score = prio[tour[1:-1]].sum()
        improved = False
        out = [s for s in stops.tolist() if s not in tour]
        for s_in in sorted(out, key=lambda s: -prio[s]):
            for s_out in sorted(tour[1:-1], key=lambda s: prio[s]):
                if prio[s_out] >= prio[s_in]:
                    break
                trial = [s for s in tour if s != s_out]
                free = {s_in}
                trial = _insert_greedy(trial, free, travel, dwell, prio, budget)
                if free:
                    continue
                rest = set(out) - {s_in} | {s_out}
                trial = _insert_greedy(trial, rest, travel, dwell, prio, budget)
                if prio[trial[1:-1]].sum() > best_score + 1e-9:
                    tour, improved = trial, True
                    break
            if improved:
                break
        if not improved:
            break
    return tour


def _nearest_neighbour(travel: np.ndarray, dwell: float, budget: float, stops: np.ndarray) -> list[int]:
    """Naive baseline: always walk to the nearest unvisited stop that still lets you get back in time."""
    tour, used, free = [0], 0.0, set(stops.tolist())
    while free:
        cand = np.array(sorted(free))
        here = tour[-1]
        fits = used + travel[here, cand] + dwell + travel[cand, 1] <= budget + 1e-9
        if not fits.any():
            break
        options = cand[fits]
        nxt = int(options[np.argmin(travel[here, options])])
        used += travel[here, nxt] + dwell
        tour.append(nxt)
        free.discard(nxt)
    return tour + [1]


def _check_plan_options(
    stops: gpd.GeoDataFrame,
    *,
    priority_col: str,
    budget_min: float,
    walk_speed_kmh: float,
    dwell_min: float,
    method: str,
) -> None:
    """Refuse a walkabout's options that cannot be planned with, naming the one at fault."""
    if budget_min <= 0 or walk_speed_kmh <= 0 or dwell_min < 0:
        raise ParameterError("budget_min and walk_speed_kmh must be positive and dwell_min >= 0")
    if method not in ("insertion", "nearest"):
        raise ParameterError(f"method must be 'insertion' or 'nearest', got {method!r}")
    require_working_crs(stops, "`stops`", error=SchemaError)
    if priority_col not in stops:
        raise SchemaError(f"`stops` has no {priority_col!r} column; pass priority_col= (e.g. 'harm')")


@dataclass(frozen=True)
class _StopLabels:
    """Per stop, in the order of ``stops``: the id, the name and the purpose shown on the sheet."""

    ids: np.ndarray
    names: np.ndarray
    purposes: np.ndarray


def _stop_labels(stops: gpd.GeoDataFrame, priority_col: str, prio_stops: np.ndarray) -> _StopLabels:
    """Each stop's id (``stop_id``, else its index), name (``name``, else its id) and purpose (``purpose``,
    else "Visible presence" with its priority)."""
    ids = stops["stop_id"].astype(str).to_numpy() if "stop_id" in stops else stops.index.astype(str).to_numpy()
    names = stops["name"].astype(str).to_numpy() if "name" in stops else ids
    purposes = (
        stops["purpose"].astype(str).to_numpy()
        if "purpose" in stops
        else np.array(
            [
                f"Visible presence, {priority_col} {p:,.0f}"
                if abs(p) >= 10
                else f"Visible presence, {priority_col} {p:.2g}"
                for p in prio_stops
            ],
            dtype=object,
        )
    )
    return _StopLabels(ids=ids, names=names, purposes=purposes)


@dataclass(frozen=True)
class _Legs:
    """Walking distances between the terminals of a walkabout (start hub, end hub, then each stop).

    Attributes
    ----------
    dist
        Metres from each terminal to each other one (``inf`` where not connected); on a network the straight
        walk between each hub and its street node is part of every leg leaving the start or reaching the end.
    snap
        Metres from each terminal to the street node it is visited at (zeros for a straight-line estimate).
    reachable, reason
        Whether each terminal can be visited, and why not (``""`` when it can).
    visit_xy
        Where each terminal is visited (its street node, or the terminal itself for an estimate).
    nodes_of
        For :func:`_network_route`: the network's nodes, each terminal's node index, the Dijkstra sources and
        their predecessors; ``None`` for a straight-line estimate.
    """

    dist: np.ndarray
    snap: np.ndarray
    reachable: np.ndarray
    reason: np.ndarray
    visit_xy: np.ndarray
    nodes_of: tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None


def _straight_legs(terminals: np.ndarray) -> _Legs:
    """Straight-line estimate: the distance between every two terminals times :data:`DETOUR_FACTOR`.

    Parameters
    ----------
    terminals
        Easting and northing of the start hub, the end hub, then each stop (one row each).
    """
    n_term = len(terminals)
    dist = np.hypot(*(terminals[:, None, :] - terminals[None, :, :]).transpose(2, 0, 1)) * DETOUR_FACTOR
    return _Legs(
        dist=dist,
        snap=np.zeros(n_term),
        reachable=np.ones(n_term, dtype=bool),
        reason=np.full(n_term, "", dtype=object),
        visit_xy=terminals,
        nodes_of=None,
    )


def _network_legs(network: nx.MultiGraph, terminals: np.ndarray, *, max_snap_m: float) -> _Legs:
    """Shortest walks on the street network between the terminals, each visited at its nearest street node.

    Parameters
    ----------
    network
        Walking network (undirected, EPSG:27700, edge ``length`` in metres).
    terminals
        Easting and northing of the start hub, the end hub, then each stop (one row each).
    max_snap_m
        A stop further than this from any street node is unreachable; a hub that far is refused.
    """
    n_term = len(terminals)
    reachable = np.ones(n_term, dtype=bool)
    reason = np.full(n_term, "", dtype=object)
    nodes, matrix = _adjacency(network)
    node_xy = np.array([(network.nodes[n]["x"], network.nodes[n]["y"]) for n in nodes])
    snap, node_idx = cKDTree(node_xy).query(terminals)
    for i, label in ((0, "start"), (1, "end")):
        if snap[i] > max_snap_m:
            raise NetworkError(
                f"the {label} hub is {snap[i]:.0f} m from the nearest street of the network (limit {max_snap_m:.0f} m);"
                " give a network that covers it"
            )
    uniq, inverse = np.unique(node_idx, return_inverse=True)
    d_all, pred = dijkstra(matrix, directed=False, indices=uniq, return_predecessors=True)
    dist = d_all[inverse][:, node_idx]
    # the walk starts and ends at the hubs themselves: add the straight walk between each hub and its
    # street node to every leg that leaves the start or reaches the end (stops are visited at their node)
    access = np.zeros(n_term)
    access[:2] = snap[:2]
    dist = dist + access[:, None] + access[None, :]
    far = snap > max_snap_m
    reachable &= ~far
    reason[far] = [f"unreachable: {s:.0f} m from the nearest street (limit {max_snap_m:.0f} m)" for s in snap[far]]
    cut = ~np.isfinite(dist[0]) | ~np.isfinite(dist[:, 1])
    reason[cut & ~far] = "unreachable: not connected to the start or end on the street network"
    reachable &= ~cut
    return _Legs(
        dist=dist,
        snap=snap,
        reachable=reachable,
        reason=reason,
        visit_xy=node_xy[node_idx],
        nodes_of=(nodes, node_idx, uniq, pred),
    )


def _travel_min(legs: _Legs, *, m_per_min: float, budget_min: float, start_name: str, end_name: str) -> np.ndarray:
    """Walking minutes between every two terminals, refusing hubs that cannot be walked between in the budget.

    Parameters
    ----------
    legs
        The distances between the terminals (:func:`_straight_legs` or :func:`_network_legs`).
    m_per_min
        Walking speed in metres a minute.
    budget_min
        Minutes available for walking and dwelling in total.
    start_name, end_name
        The hubs' labels, for the refusal.
    """
    if not (legs.reachable[0] and legs.reachable[1]):
        raise NetworkError("the start and end hubs are not connected on the street network; give a connected network")
    travel: np.ndarray = np.where(np.isfinite(legs.dist), legs.dist, np.inf) / m_per_min
    if travel[0, 1] > budget_min:
        raise ParameterError(
            f"walking from {start_name} to {end_name} alone takes {travel[0, 1]:.0f} min, more than the "
            f"{budget_min:g} min budget; raise --budget-min"
        )
    return travel


def _visits_table(
    tour: list[int],
    *,
    travel: np.ndarray,
    legs: _Legs,
    labels: _StopLabels,
    prio: np.ndarray,
    legs_m: tuple[float, ...],
    dwell_min: float,
) -> pd.DataFrame:
    """The visited stops in walking order with their arrival and departure minutes (:attr:`WalkaboutPlan.stops`).

    Parameters
    ----------
    tour
        Terminal indices walked: the start (0), the visited stops (2 onwards), the end (1).
    travel
        Walking minutes between every two terminals.
    legs, labels
        Where each terminal is visited and how far it is from its street node; each stop's id, name and purpose.
    prio
        Priority of each terminal (zero for the hubs).
    legs_m
        Length of each leg of ``tour``.
    dwell_min
        Minutes spent at each stop.
    """
    visited = np.asarray(tour[1:-1], dtype=int)
    walk_leg = travel[np.asarray(tour[:-1]), np.asarray(tour[1:])]
    arrive = np.cumsum(walk_leg[:-1]) + dwell_min * np.arange(len(visited))
    return pd.DataFrame(
        {
            "order": np.arange(1, len(visited) + 1),
            "stop_id": labels.ids[visited - 2],
            "name": labels.names[visited - 2],
            "purpose": labels.purposes[visited - 2],
            "priority": prio[visited],
            "arrive_min": arrive,
            "dwell_min": float(dwell_min),
            "depart_min": arrive + dwell_min,
            "leg_m": np.asarray(legs_m[:-1]),
            "easting": legs.visit_xy[visited, 0],
            "northing": legs.visit_xy[visited, 1],
            "snap_m": legs.snap[visited],
        }
    )


def _skipped_table(visited: np.ndarray, *, labels: _StopLabels, prio: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    """The stops not visited, highest priority first, with why (:attr:`WalkaboutPlan.skipped`).

    Parameters
    ----------
    visited
        Terminal indices of the visited stops (the stops are terminals 2 onwards).
    labels
        Each stop's id and name.
    prio, reason
        Priority of each terminal, and why it cannot be visited (``""`` when it can: then it did not fit).
    """
    left = np.setdiff1d(np.arange(2, len(prio)), visited)
    return pd.DataFrame(
        {
            "stop_id": labels.ids[left - 2],
            "name": labels.names[left - 2],
            "priority": prio[left],
            "reason": np.where(reason[left] == "", "does not fit the time budget", reason[left]),
        }
    ).sort_values("priority", ascending=False, kind="mergesort", ignore_index=True)


def _plan_note(method: str, *, walk_speed_kmh: float, straight_line: bool) -> str:
    """How a walkabout was planned, in plain English (:attr:`WalkaboutPlan.note`)."""
    how = (
        "Stops chosen by ratio insertion (priority per added minute) with 2-opt and swap improvement"
        if method == "insertion"
        else "Stops in nearest-neighbour order (baseline)"
    )
    basis = (
        f"STRAIGHT-LINE ESTIMATE: no street network given; straight distances x {DETOUR_FACTOR}."
        if straight_line
        else "Legs are shortest paths on the walking street network."
    )
    return f"{how}; walking at {walk_speed_kmh:g} km/h. {basis}"


def _network_route(
    network: nx.MultiGraph,
    tour: list[int],
    terminals: np.ndarray,
    nodes_of: tuple[Any, np.ndarray, np.ndarray, np.ndarray],
) -> shapely.LineString:
    """The walk along the street network: from the start hub, along each leg's shortest path (``nodes_of``:
    the network's nodes, each terminal's node, the Dijkstra sources and their predecessors), to the end hub."""
    nodes, node_idx, uniq, pred = nodes_of
    row_of = {int(u): i for i, u in enumerate(uniq)}
    coords: list[np.ndarray] = [terminals[:1]]  # from the start hub itself ...
    for a, b in zip(tour[:-1], tour[1:], strict=True):
        src, dst = int(node_idx[a]), int(node_idx[b])
        path = [dst]
        while path[-1] != src:
            path.append(int(pred[row_of[src], path[-1]]))
        path = path[::-1]
        for u, v in zip(path[:-1], path[1:], strict=True):
            coords.append(_edge_line(network, nodes[u], nodes[v]))
    coords.append(terminals[1:2])  # ... to the end hub itself
    line = np.vstack(coords)
    keep = np.r_[True, np.any(np.abs(np.diff(line, axis=0)) > 1e-6, axis=1)]  # drop repeated vertices
    line = line[keep]
    return shapely.LineString(line if len(line) > 1 else np.vstack([line, line]))


def plan_walkabout(
    stops: gpd.GeoDataFrame,
    *,
    start: shapely.Point | gpd.GeoDataFrame | tuple[float, float],
    budget_min: float,
    end: shapely.Point | gpd.GeoDataFrame | tuple[float, float] | None = None,
    walk_speed_kmh: float = 4.8,
    dwell_min: float = 12.0,
    network: nx.MultiGraph | None = None,
    priority_col: str = "priority",
    max_snap_m: float = 250.0,
    start_name: str = "start",
    end_name: str | None = None,
    method: str = "insertion",
) -> WalkaboutPlan:
    """Choose and order the stops of a walkabout within a time budget.

    Parameters
    ----------
    stops
        Priority places (points or polygons, EPSG:27700) with a ``priority_col`` column (e.g. harm),
        optional ``name``, ``purpose`` and ``stop_id``; polygons are visited at their representative point.
    start, end
        Hub points (EPSG:27700); ``end`` defaults to ``start``.
    budget_min
        Minutes available for walking and dwelling in total.
    walk_speed_kmh
        Walking speed (4.8 km/h = 80 m/min).
    dwell_min
        Minutes spent at each stop (Koper: 10-15 minutes).
    network
        Walking network from :func:`load_network` / :func:`network_for_area`. ``None`` gives a clearly
        labelled straight-line estimate (distances x ``DETOUR_FACTOR``).
    priority_col
        Column of ``stops`` to maximise.
    max_snap_m
        A stop further than this from any street node is unreachable.
    start_name, end_name
        Labels for the sheet and the GPX.
    method
        ``"insertion"`` (the heuristic above) or ``"nearest"`` (nearest-neighbour baseline for comparison).
    """
    _check_plan_options(
        stops,
        priority_col=priority_col,
        budget_min=budget_min,
        walk_speed_kmh=walk_speed_kmh,
        dwell_min=dwell_min,
        method=method,
    )
    start_pt = _as_point(start, "start")
    end_pt = _as_point(end, "end") if end is not None else start_pt
    end_name = end_name or start_name
    m_per_min = walk_speed_kmh * 1000.0 / 60.0
    pts = shapely.get_coordinates(stops.geometry.representative_point().to_numpy())
    prio_stops = stops[priority_col].to_numpy(dtype="float64")
    labels = _stop_labels(stops, priority_col, prio_stops)
    terminals = np.vstack([shapely.get_coordinates(start_pt), shapely.get_coordinates(end_pt), pts])
    legs = _straight_legs(terminals) if network is None else _network_legs(network, terminals, max_snap_m=max_snap_m)
    travel = _travel_min(legs, m_per_min=m_per_min, budget_min=budget_min, start_name=start_name, end_name=end_name)
    prio = np.r_[0.0, 0.0, prio_stops]
    candidates = np.flatnonzero(legs.reachable[2:]) + 2
    if method == "insertion":
        tour = _orienteer(travel, prio, dwell_min, budget_min, candidates)
    else:
        tour = _nearest_neighbour(travel, dwell_min, budget_min, candidates)
    legs_m = tuple(float(legs.dist[a, b]) for a, b in zip(tour[:-1], tour[1:], strict=True))
    if legs.nodes_of is None:
        route = shapely.LineString(terminals[tour])
    else:
        route = _network_route(network, tour, terminals, legs.nodes_of)
    visited = np.asarray(tour[1:-1], dtype=int)
    table = _visits_table(tour, travel=travel, legs=legs, labels=labels, prio=prio, legs_m=legs_m, dwell_min=dwell_min)
    skipped = _skipped_table(visited, labels=labels, prio=prio, reason=legs.reason)
    length = float(sum(legs_m))
    walk = length / m_per_min
    return WalkaboutPlan(
        stops=table,
        skipped=skipped,
        route=route,
        length_m=length,
        walk_min=walk,
        dwell_min=float(dwell_min * len(visited)),
        total_min=walk + dwell_min * len(visited),
        budget_min=float(budget_min),
        legs_m=legs_m,
        straight_line=network is None,
        method=method,
        start_name=start_name,
        end_name=end_name,
        note=_plan_note(method, walk_speed_kmh=walk_speed_kmh, straight_line=network is None),
        params={
            "budget_min": budget_min,
            "walk_speed_kmh": walk_speed_kmh,
            "dwell_min": dwell_min,
            "priority_col": priority_col,
            "max_snap_m": max_snap_m,
            "method": method,
            "detour_factor": DETOUR_FACTOR if network is None else 1.0,
            "hub_access_m": [float(legs.snap[0]), float(legs.snap[1])],
        },
    )
