"""Coverage of hotspots by partner activity, the ranked gap list, and camera siting.

For each hotspot area or cell this module measures what partners already do there:

- ``cctv_share``: share of its area inside any CCTV view (:func:`geo_csp.layers.camera_views`);
- ``walkabout_n``: walkabouts that passed within ``walk_distance_m`` of it in the last ``weeks`` weeks;
- ``operations``: operations whose footprint overlaps it and whose dates overlap the review period;
- ``hub_distance_m``: distance to the nearest community hub (0 when a hub is inside).

:func:`gap_list` turns that into the table a partnership meeting acts on: hotspots no activity reaches
first, then those some activity misses, then covered ones, each group by harm (or count), with the share of the borough's harm that
sits in hotspots no activity reaches; :func:`gap_list_to_gdf` gives it with the hotspots' polygons and
:func:`gap_list_to_dict` as a document. :func:`site_cameras` is a greedy maximal-covering choice of where
extra cameras would cover the most harm not already in view (Church & ReVelle 1974; the greedy rule is
within a factor 1 - 1/e of the best choice, Nemhauser, Wolsey & Fisher 1978).

All geometry is in EPSG:27700; inputs are never modified.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geo_csp import harm, schema
from geo_csp._errors import ParameterError, SchemaError
from geo_csp._validate import require_columns, require_working_crs
from geo_csp.settings import SNAP_POINT_NOTE, WORKING_CRS

__all__ = [
    "ACTIVITY_KINDS",
    "CoverageParams",
    "GapList",
    "coverage",
    "gap_list",
    "gap_list_to_dict",
    "gap_list_to_gdf",
    "site_cameras",
    "site_cameras_in_hotspots",
]

ACTIVITY_KINDS = ("cctv", "walkabout", "operation")
#: What every list of suggested camera sites says: they are anonymised police.uk points, not crime scenes.
SITING_CAVEAT = (
    "Suggested camera sites are police.uk snap points. "
    + SNAP_POINT_NOTE
    + " Survey the street around each site before choosing where a camera goes."
)
COVERAGE_COLUMNS = (
    "cctv_share",
    "cctv_covered",
    "walkabout_n",
    "walkabout_last",
    "walkabout_covered",
    "operations",
    "operation_covered",
    "nearest_hub",
    "hub_distance_m",
)


@dataclass(frozen=True)
class CoverageParams:
    """Choices that define "covered"; written into every coverage output's metadata.

    Parameters
    ----------
    walk_distance_m
        A walkabout covers an area when its line passes within this distance of it.
    weeks
        Only walkabouts in the ``weeks`` weeks up to ``as_of`` count.
    as_of
        Last day of the review period (``YYYY-MM-DD``); default: the latest walkabout or operation date.
    operation_weeks
        Operations count when their dates overlap the ``operation_weeks`` weeks up to ``as_of``
        (default: the same as ``weeks``).
    cctv_min_share
        An area counts as CCTV-covered when at least this share of it is inside a camera view. Default
        0.05: a camera view of the default 50 m radius is 0.0079 km², about 7.5 % of a resolution-9 H3
        cell (0.105 km², the usual hotspot cell), so 5 % asks for roughly one whole camera view per
        cell-sized piece of the area; a camera that only clips the area's edge (a few per cent) is not
        watching it. 0 restores "any camera view reaching into it".
    operation_types
        Operation types that count as coverage (e.g. leave out borough-wide ``"day_of_action"``).
    """

    walk_distance_m: float = 50.0
    weeks: int = 8
    as_of: str | None = None
    operation_weeks: int | None = None
    cctv_min_share: float = 0.05
    operation_types: tuple[str, ...] = ("targeted",)

    def __post_init__(self) -> None:
        if self.walk_distance_m < 0:
            raise ParameterError(f"walk_distance_m must be >= 0, got {self.walk_distance_m}")
        if self.weeks < 1 or (self.operation_weeks is not None and self.operation_weeks < 1):
            raise ParameterError("weeks and operation_weeks must be at least 1")
        if not 0 <= self.cctv_min_share < 1:
            raise ParameterError(f"cctv_min_share must be in [0, 1), got {self.cctv_min_share}")
        if self.as_of is not None:
            try:
                pd.Timestamp(self.as_of)
            except ValueError as exc:
                raise ParameterError(f"as_of {self.as_of!r} is not a date; write it as YYYY-MM-DD") from exc


def _check_frame(frame: gpd.GeoDataFrame, name: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"`{name}` must be a GeoDataFrame, got {type(frame).__name__}")
    require_working_crs(frame, f"`{name}`")


def _as_of(
    params: CoverageParams, walkabouts: gpd.GeoDataFrame | None, operations: gpd.GeoDataFrame | None
) -> pd.Timestamp:
    if params.as_of is not None:
        return pd.Timestamp(params.as_of).normalize()
    dates = []
    if walkabouts is not None and not walkabouts.empty and walkabouts["date"].notna().any():
        dates.append(pd.Timestamp(walkabouts["date"].max()))
    if operations is not None and not operations.empty:
        dates.append(pd.Timestamp(operations["end_date"].max()))
    return max(dates).normalize() if dates else pd.Timestamp.today().normalize()


def _pairs(tree_geoms: np.ndarray, query_geoms: np.ndarray, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
    """(query index, tree index) pairs from a shapely STRtree query."""
    if len(tree_geoms) == 0 or len(query_geoms) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    qi, ti = shapely.STRtree(tree_geoms).query(query_geoms, **kwargs)
    return qi, ti


def coverage(
    areas: gpd.GeoDataFrame,
    *,
    views: gpd.GeoDataFrame | None = None,
    walkabouts: gpd.GeoDataFrame | None = None,
    operations: gpd.GeoDataFrame | None = None,
    hubs: gpd.GeoDataFrame | None = None,
    params: CoverageParams | None = None,
) -> gpd.GeoDataFrame:
    """Partner coverage of each hotspot area or cell.

    Parameters
    ----------
    areas
        Hotspot areas or cells (polygons, EPSG:27700), e.g. ``HotspotResult.areas`` or ``.units``.
    views
        CCTV view polygons (:func:`geo_csp.layers.camera_views`).
    walkabouts
        Walkabout lines with a ``date`` column (:func:`geo_csp.layers.read_routes`).
    operations
        Operations (:func:`geo_csp.layers.read_operations`).
    hubs
        Community hubs as points with a ``name`` column (:func:`geo_csp.layers.read_places`).
    params
        What counts as covered (:class:`CoverageParams`).

    Returns
    -------
    GeoDataFrame
        ``areas`` with the :data:`COVERAGE_COLUMNS` added (index and row order preserved). A layer
        not given leaves its columns missing-valued (NaN / ``pd.NA``), never "not covered".
        ``attrs["coverage_params"]`` holds the parameters and the resolved ``as_of`` date.
    """
    params = params or CoverageParams()
    _check_frame(areas, "areas")
    for name, layer in (("views", views), ("walkabouts", walkabouts), ("operations", operations), ("hubs", hubs)):
        if layer is not None:
            _check_frame(layer, name)
    geoms = areas.geometry.to_numpy()
    n = len(areas)
    area_m2 = shapely.area(geoms)
    as_of = _as_of(params, walkabouts, operations)
    out = areas.copy()

    # CCTV: share of each area's surface inside the union of all views
    if views is not None:
        union = shapely.union_all(views.geometry.to_numpy()) if len(views) else shapely.Polygon()
        inside = shapely.area(shapely.intersection(geoms, union))
        share = np.divide(inside, area_m2, out=np.zeros(n), where=area_m2 > 0)
        out["cctv_share"] = np.clip(share, 0.0, 1.0)
        covered = out["cctv_share"] > 0 if params.cctv_min_share == 0 else out["cctv_share"] >= params.cctv_min_share
        out["cctv_covered"] = covered
    else:
        out["cctv_share"] = np.nan
        out["cctv_covered"] = pd.array([pd.NA] * n, dtype="boolean")

    # walkabouts within walk_distance_m in the last `weeks` weeks
    if walkabouts is not None:
        start = as_of - pd.Timedelta(weeks=params.weeks) + pd.Timedelta(days=1)
        dates = pd.to_datetime(walkabouts["date"])
        recent = walkabouts.loc[
            (dates >= start) & (dates <= as_of + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1))
        ]
        qi, ti = _pairs(recent.geometry.to_numpy(), geoms, predicate="dwithin", distance=params.walk_distance_m)
        counts = np.bincount(qi, minlength=n)
        last = pd.Series(pd.to_datetime(recent["date"]).to_numpy()[ti]).groupby(qi).max()
        out["walkabout_n"] = counts
        out["walkabout_last"] = pd.Series(last, dtype="datetime64[ns]").reindex(range(n)).to_numpy()
        out["walkabout_covered"] = counts > 0
    else:
        out["walkabout_n"] = pd.array([pd.NA] * n, dtype="Int64")
        out["walkabout_last"] = pd.NaT
        out["walkabout_covered"] = pd.array([pd.NA] * n, dtype="boolean")

    # operations overlapping the area and the review period
    if operations is not None:
        op_weeks = params.operation_weeks or params.weeks
        start = as_of - pd.Timedelta(weeks=op_weeks) + pd.Timedelta(days=1)
        active = operations.loc[
            (pd.to_datetime(operations["end_date"]) >= start)
            & (pd.to_datetime(operations["start_date"]) <= as_of)
            & operations["type"].isin(params.operation_types)
        ]
        qi, ti = _pairs(active.geometry.to_numpy(), geoms, predicate="intersects")
        # touching along an edge is not covering: keep pairs that share some area
        overlap = shapely.area(shapely.intersection(geoms[qi], active.geometry.to_numpy()[ti])) > 0
        qi, ti = qi[overlap], ti[overlap]
        names = pd.Series(active["name"].to_numpy()[ti]).groupby(qi).agg(lambda s: "; ".join(sorted(set(s))))
        out["operations"] = names.reindex(range(n)).fillna("").to_numpy()
        out["operation_covered"] = np.bincount(qi, minlength=n) > 0
    else:
        out["operations"] = pd.NA
        out["operation_covered"] = pd.array([pd.NA] * n, dtype="boolean")

    # nearest community hub
    if hubs is not None and len(hubs):
        tree = shapely.STRtree(hubs.geometry.to_numpy())
        (qi, ti), dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        hub_names = np.full(n, None, dtype=object)
        hub_dist = np.full(n, np.nan)
        hub_names[qi] = hubs["name"].to_numpy()[ti] if "name" in hubs else ti.astype(str)
        hub_dist[qi] = dist
        out["nearest_hub"] = hub_names
        out["hub_distance_m"] = hub_dist
    else:
        out["nearest_hub"] = None
        out["hub_distance_m"] = np.nan

    out.attrs["coverage_params"] = {**asdict(params), "as_of": as_of.date().isoformat()}
    return out


@dataclass(frozen=True)
class GapList:
    """The ranked gap list and the share of borough harm sitting in uncovered hotspots.

    Attributes
    ----------
    table
        One row per hotspot area: ``rank``, ``id``, ``name``, the measure, ``share_of_total``, the
        coverage columns, ``n_gaps`` and ``gaps`` (plain-English list of what is missing), ranked:
        hotspots no activity reaches first, then those some activity misses, then covered ones, each
        group by the measure (highest first).
    shares
        For each activity kind, and ``"all"`` (hotspots no activity reaches), the share of ``total``
        that sits in hotspots it does not cover.
    measure, total, total_label
        The ranking measure, its borough total and what that total is.
    params
        The coverage parameters used.
    """

    table: pd.DataFrame
    shares: dict[str, float]
    measure: str
    total: float
    total_label: str
    params: dict[str, object] = field(default_factory=dict)


def gap_list(
    covered: gpd.GeoDataFrame,
    *,
    measure: str = schema.PREDICTED_N,
    id_col: str | None = None,
    name_col: str = schema.AREA_NAME,
    borough_total: float | None = None,
    kinds: tuple[str, ...] | None = None,
) -> GapList:
    """Rank hotspots by what partner activity does not reach them.

    Parameters
    ----------
    covered
        Output of :func:`coverage`.
    measure
        The column hotspots are ranked by: ``"predicted_n"`` (default: expected incidents next month,
        the priority score of :func:`geo_csp.backtest.add_priority`), ``"harm"`` or ``"n"`` (count).
    id_col
        Identifier column; default ``area_id`` or ``unit_id``, whichever is present.
    name_col
        Name column (optional in ``covered``).
    borough_total
        The borough's total of ``measure`` (all incidents, not only hotspots). Without it the shares
        are of the hotspots' own total, and ``total_label`` says so.
    kinds
        Activity kinds to consider; default: those whose layer was given to :func:`coverage`.
    """
    if measure not in covered.columns:
        hint = (
            " (add the default priority score with geo_csp.backtest.add_priority)"
            if measure == schema.PREDICTED_N
            else ""
        )
        raise SchemaError(
            f"`covered` has no {measure!r} column{hint}; rank by one of "
            f"{[c for c in (schema.PREDICTED_N, 'harm', 'n') if c in covered]}"
        )
    id_col = _id_column(covered, id_col)
    require_columns(
        covered,
        ("cctv_covered", "walkabout_covered", "operation_covered"),
        "`covered`",
        fix="compute it with coverage.coverage()",
    )
    if kinds is None:
        kinds = tuple(k for k in ACTIVITY_KINDS if covered[f"{k}_covered"].notna().all() and len(covered))
    unknown = set(kinds) - set(ACTIVITY_KINDS)
    if unknown:
        raise ParameterError(f"unknown activity kinds {sorted(unknown)}; choose from {ACTIVITY_KINDS}")
    values = covered[measure].to_numpy(dtype="float64")
    total = float(borough_total) if borough_total is not None else float(values.sum())
    if total <= 0:
        raise ParameterError(f"the total {measure} is {total}; nothing to rank")
    word = {schema.PREDICTED_N: "expected incidents next month", schema.N: "incidents"}.get(measure, measure)
    label = f"borough total {word}" if borough_total is not None else f"total {word} of the hotspots given"
    uncovered = {k: ~covered[f"{k}_covered"].fillna(False).to_numpy(dtype=bool) for k in kinds}
    none = np.logical_and.reduce(list(uncovered.values())) if kinds else np.zeros(len(covered), bool)
    shares = {k: float(values[u].sum() / total) for k, u in uncovered.items()}
    shares["all"] = float(values[none].sum() / total)

    phrases = {"cctv": "no CCTV view", "walkabout": "no recent walkabout", "operation": "no operation"}
    gap_text = pd.Series([""] * len(covered), index=covered.index, dtype=object)
    for k, u in uncovered.items():
        gap_text = gap_text.where(~u, gap_text.where(gap_text == "", gap_text + "; ") + phrases[k])
    table = pd.DataFrame(
        {
            "id": covered[id_col].to_numpy(),
            "name": covered[name_col].to_numpy() if name_col in covered else covered[id_col].to_numpy(),
            measure: values,
            "share_of_total": values / total,
        }
    )
    for col in COVERAGE_COLUMNS:
        if col in covered:
            table[col] = covered[col].to_numpy()
    table["n_gaps"] = np.sum(list(uncovered.values()), axis=0) if kinds else 0
    table["gaps"] = gap_text.replace("", "covered").to_numpy()
    # blind spots (no activity of any kind) first, then hotspots missing some activity, then covered ones;
    # within each, by the measure: a high-harm hotspot missing one kind of activity outranks a low-harm one
    # missing two
    table["_tier"] = np.where(none, 0, np.where(table["n_gaps"].to_numpy() > 0, 1, 2)) if kinds else 2
    table = table.sort_values(["_tier", measure], ascending=[True, False], kind="mergesort")
    table = table.drop(columns="_tier").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return GapList(
        table=table,
        shares=shares,
        measure=measure,
        total=total,
        total_label=label,
        params=dict(covered.attrs.get("coverage_params", {})),
    )


def _id_column(covered: gpd.GeoDataFrame, id_col: str | None) -> str:
    """``id_col``, else ``area_id`` or ``unit_id``, whichever ``covered`` has (hotspot areas or units)."""
    if id_col is not None:
        return id_col
    found = next((c for c in (schema.AREA_ID, schema.UNIT_ID) if c in covered.columns), None)
    if found is None:
        raise SchemaError("`covered` has neither 'area_id' nor 'unit_id'; pass id_col=")
    return found


def gap_list_to_gdf(gaps: GapList, *, covered: gpd.GeoDataFrame, id_col: str | None = None) -> gpd.GeoDataFrame:
    """The gap list with each hotspot's polygon, for a GeoPackage or GeoParquet file.

    Parameters
    ----------
    gaps
        Output of :func:`gap_list`.
    covered
        The output of :func:`coverage` the gap list was made from; its geometry goes to the rows whose
        ``id`` it holds.
    id_col
        Identifier column of ``covered``; default ``area_id`` or ``unit_id``, whichever is present (as for
        :func:`gap_list`).

    Returns
    -------
    GeoDataFrame
        ``gaps.table`` (its rows, order and columns) with a geometry column in EPSG:27700; missing where
        ``covered`` has no row of that ``id``.
    """
    id_col = _id_column(covered, id_col)
    if id_col not in covered.columns:
        raise SchemaError(f"`covered` has no identifier column {id_col!r}; pass the one it has as id_col=")
    geom = covered.set_index(id_col).geometry
    return gpd.GeoDataFrame(gaps.table, geometry=geom.reindex(gaps.table["id"]).to_numpy(), crs=WORKING_CRS)


def gap_list_to_dict(gaps: GapList, *, camera_sites: pd.DataFrame) -> dict[str, object]:
    """The gap list and suggested camera sites as one document (for JSON, after :func:`geo_csp.export.jsonable`).

    Parameters
    ----------
    gaps
        Output of :func:`gap_list`.
    camera_sites
        Output of :func:`site_cameras_in_hotspots` (an empty frame when no site was asked for).

    Returns
    -------
    dict
        ``gaps`` (the table's rows as records, without ``walkabout_last``), ``shares_uncovered``, ``total``,
        ``total_label``, ``camera_sites`` (records) and ``camera_sites_caveat`` (:data:`SITING_CAVEAT`), in
        that order.
    """
    table = gaps.table.drop(columns=[c for c in ("walkabout_last",) if c in gaps.table])
    return {
        "gaps": table.to_dict(orient="records"),
        "shares_uncovered": gaps.shares,
        "total": gaps.total,
        "total_label": gaps.total_label,
        "camera_sites": camera_sites.to_dict(orient="records"),
        "camera_sites_caveat": SITING_CAVEAT,
    }


def site_cameras(
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    weight_col: str = schema.HARM,
    radius_m: float = 50.0,
    n_cameras: int = 3,
    views: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Greedy camera siting: where each extra camera would cover the most harm not yet in view.

    Each step picks the candidate whose circle of ``radius_m`` contains the largest total weight of
    demand points not already covered by ``views`` or by cameras chosen before it (greedy maximal
    covering location; ties go to the first candidate).

    Parameters
    ----------
    candidates
        Possible camera points (EPSG:27700), e.g. police.uk snap points or street nodes.
    demand
        Points carrying harm (e.g. incidents with a ``harm`` column, or cell centroids).
    weight_col
        Column of ``demand`` with each point's weight; missing means 1 per point.
    radius_m
        Radius of a new camera's view.
    n_cameras
        How many cameras to place.
    views
        Existing CCTV views; demand inside them counts as covered already.

    Returns
    -------
    GeoDataFrame
        One row per chosen camera in choice order: ``rank``, the candidate's columns, ``new_weight``
        (weight newly covered), ``cum_weight`` and ``share_of_uncovered`` (cumulative share of the
        weight that was uncovered before siting). Stops early when no candidate adds any weight.
    """
    _check_frame(candidates, "candidates")
    _check_frame(demand, "demand")
    if radius_m <= 0 or n_cameras < 1:
        raise ParameterError("radius_m must be positive and n_cameras at least 1")
    weights = demand[weight_col].to_numpy(dtype="float64") if weight_col in demand else np.ones(len(demand))
    demand_geoms = demand.geometry.to_numpy()
    remaining = weights.copy()
    if views is not None and len(views):
        _check_frame(views, "views")
        di, _ = _pairs(views.geometry.to_numpy(), demand_geoms, predicate="intersects")
        remaining[np.unique(di)] = 0.0
    uncovered_total = float(remaining.sum())
    ci, di = _pairs(demand_geoms, candidates.geometry.to_numpy(), predicate="dwithin", distance=radius_m)
    reach = sp.csr_matrix((np.ones(len(ci)), (ci, di)), shape=(len(candidates), len(demand)))
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(min(n_cameras, len(candidates))):
        gain = reach @ remaining
        if chosen:
            gain[chosen] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        remaining[reach[best].indices] = 0.0
    out = candidates.iloc[chosen].copy()
    out.insert(0, "rank", np.arange(1, len(chosen) + 1))
    out["new_weight"] = gains
    out["cum_weight"] = np.cumsum(gains)
    out["share_of_uncovered"] = out["cum_weight"] / uncovered_total if uncovered_total > 0 else np.nan
    out.attrs["siting_params"] = {"radius_m": radius_m, "n_cameras": n_cameras, "weight_col": weight_col}
    return out


def site_cameras_in_hotspots(
    areas: gpd.GeoDataFrame,
    incidents: pd.DataFrame,
    *,
    measure: str = schema.HARM,
    radius_m: float = 50.0,
    n_cameras: int = 3,
    views: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Where new cameras would cover the most harm (or incidents) inside the hotspot areas.

    The demand is every located incident inside an area, weighted by its harm (``measure="harm"``) or
    1 (``"n"``); the candidate sites are the distinct incident locations there (police.uk snap points
    sit on streets and public places, where a camera can look). Then :func:`site_cameras`. The snap
    points are anonymised, not where the crimes happened: the result's ``attrs["caveat"]``
    (:data:`SITING_CAVEAT`) says so, and every output of the sites must carry it.

    Parameters
    ----------
    areas
        Hotspot areas (EPSG:27700) with ``area_id`` and ``name``.
    incidents
        Located incidents with ``easting``, ``northing`` and ``crime_type``.
    measure
        ``"harm"`` or ``"n"``.
    radius_m, n_cameras, views
        As for :func:`site_cameras`.

    Returns
    -------
    pandas.DataFrame
        One row per chosen site: ``rank, easting, northing, new_weight, cum_weight, share_of_uncovered,
        area_id, area_name``.
    """
    _check_frame(areas, "areas")
    if measure not in (schema.HARM, schema.N):
        raise ParameterError(f"measure must be 'harm' or 'n', got {measure!r}")
    require_columns(
        incidents,
        (schema.EASTING, schema.NORTHING, schema.CRIME_TYPE),
        "`incidents`",
        fix="read them with store.read_incidents(located_only=True)",
    )
    columns = ["rank", "easting", "northing", "new_weight", "cum_weight", "share_of_uncovered", "area_id", "area_name"]
    if areas.empty:
        return pd.DataFrame(columns=columns)
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    inside = shapely.contains_xy(shapely.union_all(areas.geometry.to_numpy()), x, y)
    pts = incidents.loc[inside]
    weight = harm.incident_harm(pts[schema.CRIME_TYPE]) if measure == schema.HARM else np.ones(len(pts))
    demand = gpd.GeoDataFrame(
        {"weight": np.asarray(weight, dtype="float64")}, geometry=shapely.points(x[inside], y[inside]), crs=WORKING_CRS
    )
    snap = np.unique(np.column_stack([x[inside], y[inside]]), axis=0)
    candidates = gpd.GeoDataFrame(
        {"easting": snap[:, 0], "northing": snap[:, 1]}, geometry=shapely.points(snap), crs=WORKING_CRS
    )
    if candidates.empty:
        return pd.DataFrame(columns=columns)
    chosen = site_cameras(candidates, demand, weight_col="weight", radius_m=radius_m, n_cameras=n_cameras, views=views)
    qi, ti = _pairs(areas.geometry.to_numpy(), chosen.geometry.to_numpy(), predicate="intersects")
    first = pd.Series(ti, index=qi).groupby(level=0).min()  # a site on a shared edge goes to the first area
    pick = first.reindex(range(len(chosen))).to_numpy()
    has = ~np.isnan(pick)
    area_id = np.full(len(chosen), None, dtype=object)
    area_name = np.full(len(chosen), None, dtype=object)
    area_id[has] = areas[schema.AREA_ID].to_numpy()[pick[has].astype(int)]
    names = areas[schema.AREA_NAME] if schema.AREA_NAME in areas else areas[schema.AREA_ID]
    area_name[has] = names.to_numpy()[pick[has].astype(int)]
    out = pd.DataFrame(chosen.drop(columns="geometry")).assign(area_id=area_id, area_name=area_name)[columns]
    out.attrs = {**chosen.attrs, "caveat": SITING_CAVEAT}
    return out
