"""SYNTHETIC partner layers for the demo borough, in the formats the layer readers take.

``layers/`` holds:

* ``cctv.csv``: ``camera_id, name, lon, lat, bearing_deg, fov_deg, range_m`` (a few cameras with an
  unknown view: empty bearing and field of view). Cameras cover the Bury town centre and Radcliffe
  (and two in Prestwich Village); none in Moorside or the Victoria Estate.
* ``walkabouts.gpx``: one track per dated walkabout in the last six months, ``<desc>`` listing the
  partners; town-centre walks follow the synthetic streets (network shortest paths), the Victoria
  Estate walks loop the estate.
* ``operations.geojson``: Heartbeat and Lantern (polygon footprints) and one feature per Avro day of
  action (footprint "borough", the borough polygon).
* ``hubs.csv``: ``hub_id, name, kind, lon, lat`` community hubs (one per township and Moorside).
* ``borough_walk.graphml``: the SYNTHETIC walking network of the whole borough (osmnx GraphML,
  :func:`geo_csp.demo.network.borough_network`): the town-centre streets plus a 200 m lattice of
  footpaths, so a walkabout can reach every named place; the app and ``geo-csp walkabout`` take it
  (the first GraphML of the folder by name);
* ``town_centre_walk.graphml``: the town-centre streets alone (the snap points of Bury town centre
  and Moorside are its nodes).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import gpxpy.gpx
import networkx as nx
import numpy as np
import osmnx
import pandas as pd
import shapely

from geo_csp.demo.network import borough_network
from geo_csp.demo.places import DemoPlaces, geojson_geometry, to_lonlat
from geo_csp.settings import SYNTHETIC_LABEL

__all__ = ["write_layers", "WALK_PARTNERS"]

WALK_PARTNERS = "Police; Council community hub; Six Town Housing"
_HUB_PLACES = (
    "Bury Town Centre",
    "Moorside",
    "Radcliffe Town Centre",
    "Whitefield Town Centre",
    "Prestwich Village",
    "Ramsbottom Town Centre",
)


def _bearing(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    bearing: np.ndarray = np.round(np.degrees(np.arctan2(dx, dy)) % 360.0, 0)
    return bearing


def _cameras(places: DemoPlaces, rng: np.random.Generator) -> pd.DataFrame:
    pts = places.points
    e, n = pts["easting"].to_numpy(), pts["northing"].to_numpy()
    parts = []
    for place, k, radius in (
        ("Bury Town Centre", 12, 380.0),
        ("Radcliffe Town Centre", 6, 260.0),
        ("Prestwich Village", 2, 250.0),
    ):
        c = places.place(place).centroid
        near = np.flatnonzero(np.hypot(e - c.x, n - c.y) < radius)
        chosen = np.sort(rng.choice(near, size=k, replace=False))
        if place == "Bury Town Centre":  # look along a street: towards a network neighbour
            graph = places.graph
            target = places.node_rows([sorted(graph.successors(int(pts["node"].iloc[i])))[0] for i in chosen])
            bearing = _bearing(e[target] - e[chosen], n[target] - n[chosen])
        else:
            bearing = rng.integers(0, 72, size=k) * 5.0
        parts.append(
            pd.DataFrame(
                {
                    "place": place,
                    "point": chosen,
                    "bearing_deg": bearing,
                    "fov_deg": rng.choice([60.0, 75.0, 90.0, 110.0], size=k),
                    "range_m": rng.choice([60.0, 80.0, 100.0, 120.0], size=k),
                }
            )
        )
    cams = pd.concat(parts, ignore_index=True)
    unknown = np.array([3, 9, 14])  # view not recorded for a few cameras
    cams.loc[unknown, ["bearing_deg", "fov_deg"]] = np.nan
    cams.insert(0, "camera_id", [f"CAM-{i + 1:03d}" for i in range(len(cams))])
    cams["name"] = (
        f"{SYNTHETIC_LABEL} "
        + cams["place"]
        + " camera "
        + pd.Series(np.arange(1, len(cams) + 1)).astype(str)
        + ", "
        + pts["street"].to_numpy()[cams["point"]]
    )
    cams["lon"] = pts["lon"].to_numpy()[cams["point"]]
    cams["lat"] = pts["lat"].to_numpy()[cams["point"]]
    return cams


def _walk_track(lonlat: np.ndarray, xy: np.ndarray, start: dt.datetime, name: str) -> gpxpy.gpx.GPXTrack:
    speed_m_s = 1.1
    seconds = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T) / speed_m_s)])
    track = gpxpy.gpx.GPXTrack(name=name, description=WALK_PARTNERS)
    seg = gpxpy.gpx.GPXTrackSegment()
    for (lon, lat), s in zip(lonlat, seconds):
        seg.points.append(gpxpy.gpx.GPXTrackPoint(float(lat), float(lon), time=start + dt.timedelta(seconds=round(s))))
    track.segments.append(seg)
    return track


def _walkabouts(
    places: DemoPlaces, rng: np.random.Generator, hubs: pd.DataFrame
) -> tuple[gpxpy.gpx.GPX, dict[str, Any]]:
    pts = places.points
    graph = nx.Graph(places.graph.to_undirected())
    tc_geom = places.place("Bury Town Centre")
    tc_nodes = pts.loc[places.points_in(tc_geom), "node"]
    tc_nodes = np.sort(tc_nodes[tc_nodes >= 0].to_numpy())
    hub_node = int(pts["node"].iloc[int(hubs.loc[hubs["place"] == "Bury Town Centre", "point"].iloc[0])])
    dates = pd.date_range("2025-07-03", "2025-12-18", periods=8).date
    where = ["Bury Town Centre", "Victoria Estate"] * 4
    gpx = gpxpy.gpx.GPX()
    gpx.name = f"{SYNTHETIC_LABEL} demo walkabouts"
    gpx.description = f"{SYNTHETIC_LABEL} multi-agency walkabouts (made-up routes and dates)"
    gpx.creator = f"geo-csp demo ({SYNTHETIC_LABEL})"
    covered: dict[str, list[str]] = {"Bury Town Centre": [], "Victoria Estate": []}
    for date, place in zip(dates, where):
        start = dt.datetime(date.year, date.month, date.day, 17, 30, tzinfo=dt.UTC)
        name = f"{SYNTHETIC_LABEL} walkabout: {place} {date.isoformat()}"
        if place == "Bury Town Centre":
            stops = [hub_node, *rng.choice(tc_nodes, size=3, replace=False).tolist(), hub_node]
            route = [stops[0]]
            for a, b in zip(stops[:-1], stops[1:]):
                route += nx.shortest_path(graph, a, b, weight="length")[1:]
            idx = places.node_rows(route)
        else:
            c = places.place(place).centroid
            ang = np.linspace(0, 2 * np.pi, 13)[:-1] + rng.uniform(0, 0.3)
            r = 200.0 + rng.uniform(-40, 40, size=len(ang))
            ring_xy = np.column_stack([c.x + r * np.sin(ang), c.y + r * np.cos(ang)])
            ring_xy = np.vstack([ring_xy, ring_xy[:1]])
            idx = None
        if idx is not None:
            xy = pts[["easting", "northing"]].to_numpy()[idx]
            lonlat = pts[["lon", "lat"]].to_numpy()[idx]
        else:
            xy = ring_xy
            lonlat = np.column_stack(to_lonlat(xy[:, 0], xy[:, 1]))
        gpx.tracks.append(_walk_track(lonlat, xy, start, name))
        covered[place].append(name)
    return gpx, covered


def _hubs(places: DemoPlaces) -> pd.DataFrame:
    pts = places.points
    e, n = pts["easting"].to_numpy(), pts["northing"].to_numpy()
    node = pts["node"].to_numpy()
    rows = []
    anchors = [(p, places.place(p).centroid) for p in _HUB_PLACES]
    tott = places.wards.geometry[places.wards["ward_name"] == "Tottington"].iloc[0].point_on_surface()
    anchors.append(("Tottington", tott))
    for place, c in anchors:
        d = np.hypot(e - c.x, n - c.y)
        if place in ("Bury Town Centre", "Moorside"):  # hubs on the network for route planning
            d = np.where(node >= 0, d, np.inf)
        rows.append((place, int(np.argmin(d))))
    hubs = pd.DataFrame(rows, columns=["place", "point"])
    town = hubs["place"].str.replace(" Town Centre", "").str.replace(" Village", "")
    hubs.insert(0, "hub_id", [f"HUB-{i + 1:02d}" for i in range(len(hubs))])
    hubs["name"] = town + f" community hub ({SYNTHETIC_LABEL})"
    hubs["kind"] = "community hub"
    hubs["lon"] = pts["lon"].to_numpy()[hubs["point"]]
    hubs["lat"] = pts["lat"].to_numpy()[hubs["point"]]
    return hubs


def _feature(geom: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {**props, "label": SYNTHETIC_LABEL}, "geometry": geom}


def write_layers(
    places: DemoPlaces,
    folder: Path,
    rng: np.random.Generator,
    *,
    footprint: shapely.Geometry,
    avro_dates: tuple[str, ...],
    heartbeat_from: str,
    lantern_from: str,
    last_month: str = "2025-12",
) -> dict[str, Any]:
    """Write the five layer files; return ``{"files": ..., "coverage": ...}`` for the truth file."""
    folder.mkdir(parents=True, exist_ok=True)
    cams = _cameras(places, rng)
    cams[["camera_id", "name", "lon", "lat", "bearing_deg", "fov_deg", "range_m"]].astype(
        {"bearing_deg": "Int64", "fov_deg": "Int64", "range_m": "Int64"}
    ).to_csv(folder / "cctv.csv", index=False, lineterminator="\n", float_format="%.6f")

    hubs = _hubs(places)
    hubs[["hub_id", "name", "kind", "lon", "lat"]].to_csv(
        folder / "hubs.csv", index=False, lineterminator="\n", float_format="%.6f"
    )
    gpx, walked = _walkabouts(places, rng, hubs)
    (folder / "walkabouts.gpx").write_text(gpx.to_xml(), encoding="utf-8", newline="\n")

    borough = shapely.simplify(places.borough.geometry.iloc[0], 20.0)
    features = [
        _feature(
            geojson_geometry(footprint),
            name="Heartbeat",
            type="targeted",
            start_date=f"{heartbeat_from}-01",
            end_date=f"{last_month}-31",
            footprint="polygon",
            notes=f"{SYNTHETIC_LABEL}: high-visibility patrols and licensing checks in the town-centre core",
        ),
        _feature(
            geojson_geometry(places.place("Radcliffe Town Centre")),
            name="Lantern",
            type="targeted",
            start_date=f"{lantern_from}-01",
            end_date=f"{last_month}-31",
            footprint="polygon",
            notes=f"{SYNTHETIC_LABEL}: problem-solving operation in Radcliffe town centre",
        ),
    ]
    borough_json = geojson_geometry(borough)
    features += [
        _feature(
            borough_json,
            name="Avro",
            type="day_of_action",
            start_date=d,
            end_date=d,
            footprint="borough",
            notes=f"{SYNTHETIC_LABEL}: borough-wide day of action",
        )
        for d in avro_dates
    ]
    collection = {"type": "FeatureCollection", "name": f"{SYNTHETIC_LABEL} demo operations", "features": features}
    (folder / "operations.geojson").write_text(json.dumps(collection) + "\n", encoding="utf-8", newline="\n")

    osmnx.save_graphml(borough_network(places), folder / "borough_walk.graphml")
    osmnx.save_graphml(places.graph, folder / "town_centre_walk.graphml")

    hot = ("Bury Town Centre", "Moorside", "Victoria Estate", "Radcliffe Town Centre")
    cam_xy = places.points[["easting", "northing"]].to_numpy()[cams["point"]]
    coverage = {
        "cctv": {
            h: cams.loc[shapely.contains_xy(places.place(h), cam_xy[:, 0], cam_xy[:, 1]), "camera_id"].tolist()
            for h in hot
        },
        "walkabouts": {h: walked.get(h, []) for h in hot},
        "targeted_operations": {
            h: [
                f["properties"]["name"]
                for f in features[:2]
                if shapely.intersects(
                    places.place(h),
                    footprint if f["properties"]["name"] == "Heartbeat" else places.place("Radcliffe Town Centre"),
                )
            ]
            for h in hot
        },
        "day_of_action": "Avro covers the whole borough on its dates (no planted effect)",
        "uncovered_hotspot": "Moorside",
        "hubs": dict(zip(hubs["place"], hubs["hub_id"])),
    }
    return {
        "coverage": coverage,
        "files": {
            "cctv": "layers/cctv.csv",
            "walkabouts": "layers/walkabouts.gpx",
            "operations": "layers/operations.geojson",
            "hubs": "layers/hubs.csv",
            "network": "layers/borough_walk.graphml",
            "town_centre_network": "layers/town_centre_walk.graphml",
        },
    }
