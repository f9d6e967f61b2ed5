"""The SYNTHETIC demo borough: Bury's real wards and LSOAs with made-up incidents and planted truth.

:func:`make_demo` writes, into one folder:

* ``police-uk/YYYY-MM/YYYY-MM-bury-synthetic-street.csv`` (36 months, 2023-01..2025-12, 2021 LSOA
  codes) and ``...-bury-synthetic-stop-and-search.csv``, in the data.police.uk archive layout;
* ``council/bury_council_asb_synthetic.csv`` with timestamps and its mapping
  ``council/council_asb_mapping.toml`` (plus deliberately bad rows for the quarantine);
* ``layers/``: ``cctv.csv``, ``walkabouts.gpx``, ``operations.geojson``, ``hubs.csv``,
  ``borough_walk.graphml`` (SYNTHETIC footpaths over the whole borough) and
  ``town_centre_walk.graphml`` (see :mod:`geo_csp.demo.layers`);
* ``truth.json``: what was planted (hotspots, operations, displacement, coverage), for tests;
* ``SYNTHETIC.txt``; and, unless ``build_store=False``, the ingested store in ``store/``.

Planted truth: persistent hotspots in Bury Town Centre and Moorside, an emerging one in the
Victoria Estate (Whitefield) in the last 7 months (2025-06..2025-12), Radcliffe Town Centre diminishing after Operation
Lantern (from month 13), Operation Heartbeat in the Bury town-centre core from month 25 with
displacement to a neighbouring street, borough-wide Operation Avro days of action with no effect,
and population-weighted background everywhere, its density capped so that no residential block is
as dense as a planted place (background is noise around a smooth surface, not hidden hotspots):
each LSOA's background is spread over its snap points by the area each point stands for (so random
point clusters do not pile up mass), and every crime type follows that surface, except that
shop-type points inside the planted places draw part of the shoplifting (no unplanted concentration
at the shop-type points scattered over residential LSOAs). Every file says SYNTHETIC.

The same seed gives byte-identical data files (the store's manifest and ingest report carry the
time of ingest, as every store does).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_csp import ingest, store
from geo_csp._errors import ParameterError
from geo_csp.demo import files, layers
from geo_csp.demo.incidents import HOTSPOTS, N_MONTHS, START_MONTH, Incidents, make_incidents, months
from geo_csp.demo.places import BACKGROUND_MAX_DENSITY_RATIO, DemoPlaces, geojson_geometry, make_places
from geo_csp.settings import DEMO_DIR, SYNTHETIC_LABEL

__all__ = ["DEFAULT_SEED", "DemoParams", "DemoPaths", "make_demo", "load_truth"]

DEFAULT_SEED = 2023
HEARTBEAT_FROM = 24  # month index: 2025-01 (month 25 of 36)
LANTERN_FROM = 12  # month index: 2024-01 (month 13)
AVRO_DATES = (
    "2023-03-16",
    "2023-07-20",
    "2023-11-09",
    "2024-03-14",
    "2024-07-18",
    "2024-11-14",
    "2025-03-20",
    "2025-07-17",
)


@dataclass(frozen=True)
class DemoParams:
    """Run parameters of the demo generator (written into ``truth.json``).

    Parameters
    ----------
    seed
        Seed of every random draw: the same seed gives the same bytes.
    crimes_per_year
        Expected police.uk street rows (crimes + ASB) per year.
    n_snap_points
        Approximate number of anonymous snap points spread over the LSOAs by population.
    heartbeat_reduction
        Share of crime in the Heartbeat footprint prevented while the operation runs.
    heartbeat_displaced_share
        Share of the prevented crime displaced to the neighbouring street.
    unlocated_share
        Share of background rows published without coordinates.
    stop_searches_per_month, council_reports_per_month
        Expected background volumes of the two partner sources.
    background_max_density_ratio
        Cap on an LSOA's background density (incidents per km^2 follow residents per km^2) as a
        multiple of the borough-average background density, 1..20. Uncapped, Bury's densest LSOAs
        reach 7x the average, as dense as a planted hotspot, and any hotspot method rightly finds
        them although nothing was planted there (see
        :func:`geo_csp.demo.places.background_lsoa_weights`). The default 1.5 keeps every H3 res-9
        neighbourhood (a cell and its ring, what the default Gi* sums) of background at most
        1.85-2.1x the average (seeds 1, 2, 3, 11, 2023; at 2 the densest reach 2.2-2.4x), well
        below the weakest planted place's 5x (checked by ``tests/test_demo.py``).
    """

    seed: int = DEFAULT_SEED
    crimes_per_year: float = 25_000.0
    n_snap_points: int = 3000
    heartbeat_reduction: float = 0.30
    heartbeat_displaced_share: float = 1 / 3
    unlocated_share: float = 0.004
    stop_searches_per_month: float = 70.0
    council_reports_per_month: float = 120.0
    background_max_density_ratio: float = BACKGROUND_MAX_DENSITY_RATIO

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 1_000 <= self.crimes_per_year <= 1_000_000:
            raise ParameterError(f"crimes_per_year must be 1,000..1,000,000, got {self.crimes_per_year}")
        if not 200 <= self.n_snap_points <= 50_000:
            raise ParameterError(f"n_snap_points must be 200..50,000, got {self.n_snap_points}")
        for name in ("heartbeat_reduction", "heartbeat_displaced_share", "unlocated_share"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ParameterError(f"{name} must be in [0, 1), got {value}")
        if not 1.0 <= self.background_max_density_ratio <= 20.0:
            raise ParameterError(f"background_max_density_ratio must be 1..20, got {self.background_max_density_ratio}")
        for name in ("stop_searches_per_month", "council_reports_per_month"):
            if getattr(self, name) < 0:
                raise ParameterError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class DemoPaths:
    """Where :func:`make_demo` wrote everything."""

    out_dir: Path
    police_uk_dir: Path
    council_csv: Path
    council_mapping: Path
    layers_dir: Path
    truth: Path
    readme: Path
    store_dir: Path | None


def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent stream per part, so changing one part leaves the others' draws unchanged."""
    return np.random.default_rng([seed, int.from_bytes(part.encode(), "little") % (2**32)])


def heartbeat_footprint(places: DemoPlaces) -> tuple[shapely.Geometry, shapely.Geometry, np.ndarray, str]:
    """Heartbeat footprint (a 250 m square on the 3 x 3 core of the town-centre grid), the
    displacement street polygon, its nodes and its street name (all EPSG:27700)."""
    grid = places.grids["tc"]
    xy = places.points[["easting", "northing"]].to_numpy()
    core = xy[places.node_rows(grid[4:7, 4:7].ravel())]
    centre = places.place("Bury Town Centre").centroid
    a = np.deg2rad(10.0)  # the grid's rotation
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    footprint = shapely.transform(shapely.box(-125, -125, 125, 125), lambda xy: xy @ rot.T + (centre.x, centre.y))
    if not shapely.contains_xy(footprint, core[:, 0], core[:, 1]).all():
        raise RuntimeError("Heartbeat footprint does not cover the town-centre core")  # fixed design
    nodes = grid[7, 4:7]
    line = shapely.linestrings(xy[places.node_rows(nodes)])
    street = [name for name, ids in places.streets.items() if list(grid[7, :]) == ids][0]
    return footprint, line.buffer(30.0), nodes, street


def make_demo(
    out_dir: str | Path = DEMO_DIR,
    *,
    seed: int = DEFAULT_SEED,
    params: DemoParams | None = None,
    build_store: bool = True,
) -> DemoPaths:
    """Write the SYNTHETIC demo borough into ``out_dir`` and (by default) build its store.

    Parameters
    ----------
    out_dir
        Folder to write into (created; existing demo files are overwritten).
    seed
        Random seed (ignored when ``params`` is given: ``params.seed`` is used).
    params
        All generator parameters; defaults to ``DemoParams(seed=seed)``.
    build_store
        Ingest the generated files into ``out_dir/store`` and write its config.

    Returns
    -------
    DemoPaths
    """
    params = params or DemoParams(seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    places = make_places(
        _rng(params.seed, "places"),
        n_points=params.n_snap_points,
        max_density_ratio=params.background_max_density_ratio,
    )
    footprint, disp_poly, disp_nodes, disp_street = heartbeat_footprint(places)
    places = places.with_location(disp_nodes, f"On or near {disp_street}")

    inc = make_incidents(
        places,
        _rng(params.seed, "incidents"),
        crimes_per_year=params.crimes_per_year,
        unlocated_share=params.unlocated_share,
        heartbeat_footprint=footprint,
        displacement_nodes=disp_nodes,
        heartbeat_from=HEARTBEAT_FROM,
        heartbeat_reduction=params.heartbeat_reduction,
        heartbeat_displaced_share=params.heartbeat_displaced_share,
    )
    police_dir = out / "police-uk"
    street_rows = files.police_uk_rows(inc.table, places, _rng(params.seed, "police-uk"))
    files.write_police_uk(street_rows, police_dir)
    search_rows = files.stop_search_rows(
        places,
        _rng(params.seed, "stop-search"),
        per_month=params.stop_searches_per_month,
        heartbeat_footprint=footprint,
        heartbeat_from=HEARTBEAT_FROM,
    )
    files.write_stop_search(search_rows, police_dir)
    council_extra = {}
    for spot in HOTSPOTS:
        idx = places.points_in(places.place(spot.name))
        council_extra[spot.name] = (idx, np.asarray(spot.multipliers) * 1.5)
    council = files.council_rows(
        places, _rng(params.seed, "council"), per_month=params.council_reports_per_month, hotspot_points=council_extra
    )
    council_csv, council_mapping = files.write_council_asb(council, out / "council")

    layer_info = layers.write_layers(
        places,
        out / "layers",
        _rng(params.seed, "layers"),
        footprint=footprint,
        avro_dates=AVRO_DATES,
        heartbeat_from=months()[HEARTBEAT_FROM],
        lantern_from=months()[LANTERN_FROM],
    )

    truth = _truth(
        params, places, inc, street_rows, search_rows, council, footprint, disp_poly, disp_street, layer_info
    )
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8", newline="\n")
    readme = out / "SYNTHETIC.txt"
    readme.write_text(_README, encoding="utf-8", newline="\n")

    store_dir = None
    if build_store:
        store_dir = _build_store(out, police_dir, council_csv, council_mapping, truth_path)
    return DemoPaths(out, police_dir, council_csv, council_mapping, out / "layers", truth_path, readme, store_dir)


def _build_store(out: Path, police_dir: Path, council_csv: Path, council_mapping: Path, truth_path: Path) -> Path:
    store_dir = out / "store"
    ingest.ingest_paths([police_dir], store_dir=store_dir)
    ingest.ingest_paths([council_csv], store_dir=store_dir, mapping=council_mapping)
    store.write_store_config(
        store_dir,
        {
            "borough": "Bury",
            "synthetic": True,
            "label": f"{SYNTHETIC_LABEL} demo borough on Bury's real geography",
            "wards": None,  # null: the shipped Bury wards (2022)
            "lsoas": None,  # null: the shipped Bury LSOAs (2021 era)
            "named_places": None,  # null: the shipped Bury named places
            # null: one borough's extract. No comparator areas (no other boroughs' data or populations), so
            # the quarterly table's comparator and the evidence packs' force rows are "not available".
            "areas": None,
            "comparators": [],
            "layers_dir": "../layers",
            "truth": "../truth.json",
        },
    )
    return store_dir


def _truth(
    params: DemoParams,
    places: DemoPlaces,
    inc: Incidents,
    street_rows: pd.DataFrame,
    search_rows: pd.DataFrame,
    council: pd.DataFrame,
    footprint: shapely.Geometry,
    disp_poly: shapely.Geometry,
    disp_street: str,
    layer_info: dict[str, Any],
) -> dict[str, Any]:
    month_names = months()
    table = inc.table
    hotspots = []
    for spot in HOTSPOTS:
        planted = np.bincount(table.loc[table["origin"] == spot.name, "month"], minlength=N_MONTHS)
        mult = np.asarray(spot.multipliers)
        hotspots.append(
            {
                "name": spot.name,
                "kind": spot.kind,
                "hot_months": [m for m, v in zip(month_names, mult) if v > 0],
                "density_multiplier": [round(float(v), 3) for v in mult],
                "expected_excess": [round(float(v), 2) for v in inc.expected[spot.name]],
                "planted_rows": planted.tolist(),
                "polygon": geojson_geometry(places.place(spot.name)),
            }
        )
    hb = inc.heartbeat
    located = street_rows["Longitude"].notna()
    return {
        "label": SYNTHETIC_LABEL,
        "synthetic": True,
        "description": f"{SYNTHETIC_LABEL} demo borough on Bury's real geography: what was planted",
        "generator": "geo_csp.demo.make_demo",
        "params": asdict(params),
        "force": files.FORCE_SLUG,
        "start_month": START_MONTH,
        "months": month_names,
        "density_multiplier_definition": (
            "expected incidents per km2 inside the place / borough-average background incidents per km2 "
            "in the same month; 0 means background only"
        ),
        "background": {
            "weighting": (
                "resident population (Census 2021) of the snap point's LSOA, its density capped at "
                "max_density_ratio x the borough-average background density, shared among the LSOA's snap "
                "points by the area each stands for (Voronoi cells); every crime type follows it, except that "
                "shop-type points inside the planted places draw part of the shoplifting; background is Poisson "
                "noise around that surface and holds no concentration outside the planted places"
            ),
            "max_density_ratio": params.background_max_density_ratio,
            "per_km2_per_month": [round(float(v), 4) for v in inc.background_per_km2],
            "borough_area_km2": round(float(places.borough.area.iloc[0]) / 1e6, 3),
        },
        "hotspots": hotspots,
        "operations": [
            {
                "name": "Heartbeat",
                "type": "targeted",
                "place": "Bury Town Centre",
                "start_date": f"{month_names[HEARTBEAT_FROM]}-01",
                "end_date": f"{month_names[-1]}-31",
                "effect_months": month_names[HEARTBEAT_FROM:],
                "planted_reduction": params.heartbeat_reduction,
                "planted_displaced_share": round(params.heartbeat_displaced_share, 6),
                "prevented": hb["prevented"],
                "displaced": hb["displaced"],
                "footprint": geojson_geometry(footprint),
                "displacement": {"street": disp_street, "polygon": geojson_geometry(disp_poly)},
            },
            {
                "name": "Lantern",
                "type": "targeted",
                "place": "Radcliffe Town Centre",
                "start_date": f"{month_names[LANTERN_FROM]}-01",
                "end_date": f"{month_names[-1]}-31",
                "effect": "the planted excess declines linearly from the operation's start (diminishing)",
                "footprint": geojson_geometry(places.place("Radcliffe Town Centre")),
            },
            {
                "name": "Avro",
                "type": "day_of_action",
                "footprint": "borough",
                "dates": list(AVRO_DATES),
                "effect": "none planted",
            },
        ],
        "coverage": layer_info["coverage"],
        "layers": layer_info["files"],
        "council": {
            "source": files.COUNCIL_SOURCE,
            "rows": int(len(council)),
            "bad_rows": [
                {"ref": ref, "problem": problem, "reason": reason}
                for ref, (problem, reason) in zip(
                    council["Ref"].iloc[-len(files.COUNCIL_BAD_ROWS) :], files.COUNCIL_BAD_ROWS
                )
            ],
        },
        "counts": {
            "street_rows": int(len(street_rows)),
            "street_unlocated": int((~located).sum()),
            "stop_search_rows": int(len(search_rows)),
            "stop_search_unlocated": int(search_rows["Latitude"].isna().sum()),
            "snap_points": int(len(places.points)),
            "network_nodes": int(places.graph.number_of_nodes()),
        },
    }


def load_truth(path: str | Path) -> dict[str, Any]:
    """Read a demo ``truth.json``."""
    truth: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return truth


_README = f"""{SYNTHETIC_LABEL} DEMO DATA - NOT REAL CRIME

Every incident, stop and search, council report, camera, walkabout, operation and hub in this folder
was made up by `geo-csp demo` on top of Bury's real ward and LSOA boundaries (ONS open data). The
police.uk-format files use the force name "bury-synthetic" and say "{files.REPORTED_BY}". No street
name, location or count here describes real events. truth.json records what was planted.
"""
