"""The cube on Dask: :func:`geo_csp.cube.build_cube` for a force's or a nation's store.

What grows with the number of incidents is only reading and aggregation; everything after the cube
is sized by the cube (cells x periods), not by the incidents:

- :func:`build_cube_dask` reads the partitioned store (``source=/force=/`` Parquet parts, one per month,
  pruned through the manifest and read by :func:`geo_csp.store.read_parts`, which puts back the
  columns a part shares with its key; one task per force, or one per partition of a Dask dataframe
  from :func:`geo_csp.store.read_store_dask`, one partition per part), reduces each to counts and
  harm per distinct snap point and month, then to counts per H3 cell and month, indexing each
  *distinct* snap point to H3 once per force (h3 v4 has no array API). The driver then assembles
  exactly the :class:`geo_csp.cube.Cube` that :func:`geo_csp.cube.build_cube` builds from the same
  incidents (same units and geometry, same periods, same counts; harm equal to rounding, as
  floating sums are taken in another order). Cell polygons are built on the workers in chunks.
- The statistics stay in memory: Gi* is sparse-matrix algebra over the whole cube
  (:func:`geo_csp.hotspots.gi_star`) and Mann-Kendall is chunked numpy; the Dask part is reading and
  aggregation (timings: ``benchmarks/national.py`` and the README).
- National study area: the convex hull of England and Wales holds about 2 million res-9 cells,
  most of them sea or empty land; ``zero_fill="neighbours"`` keeps the occupied cells and their
  ring and gives the same cube as the in-memory builder with ``zero_fill="neighbours"`` (or given
  those cells as ``units``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import cluster, grid, harm, periods, qualifiers, schema, store
from geo_csp import cube as cube_mod
from geo_csp._errors import ParameterError, SchemaError

__all__ = ["DEFAULT_BATCH_PARTITIONS", "build_cube_dask", "located_points_dask"]

#: Partitions reduced together (for a store: at most this many months of one force).
DEFAULT_BATCH_PARTITIONS = 48
#: Cells per chunk when cell polygons are built on the workers.
POLYGON_CHUNK = 250_000
_E, _N, _M = schema.EASTING, schema.NORTHING, schema.MONTH
_LOC = "location"


def _lookup(codes: np.ndarray, uniques: Any, values: Iterable[Any]) -> np.ndarray:
    """Per-row membership of ``uniques[codes]`` in ``values``, tested once per distinct value."""
    hit = pd.Index(uniques).isin(list(values))
    member: np.ndarray = hit[codes] & (codes >= 0)
    return member


def _point_codes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code of each (x, y) pair among the distinct pairs, and the distinct pairs' coordinates."""
    fx, ux = pd.factorize(x)
    fy, uy = pd.factorize(y)
    codes, pairs = pd.factorize(fx.astype(np.int64) * max(len(uy), 1) + fy)
    pairs = np.asarray(pairs, dtype=np.int64)
    return (
        codes,
        np.asarray(ux, dtype="float64")[pairs // max(len(uy), 1)],
        np.asarray(uy, dtype="float64")[pairs % max(len(uy), 1)],
    )


@overload
def _group_sum(keys: np.ndarray, weights: None = None) -> tuple[np.ndarray, np.ndarray, None]: ...
@overload
def _group_sum(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
def _group_sum(keys: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct int64 ``keys``, their counts and summed ``weights`` (``None`` without weights)."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(uniq))
    sums = np.bincount(inverse, weights=weights, minlength=len(uniq)) if weights is not None else None
    return uniq, counts, sums


def _summarise_partition(
    df: pd.DataFrame,
    *,
    types: tuple[str, ...] | None,
    sources: list[str] | None,
    first: str | None,
    last: str | None,
    weights: pd.Series,
    with_locations: bool,
) -> dict[str, Any]:
    """One partition -> counts and harm per (easting, northing, month), plus its month span.

    Strings (month, crime type, source, location) are factorised and tested once per distinct
    value; grouping is ``np.unique`` on int64 keys and ``np.bincount``.
    """
    n_rows = len(df)
    m_codes, m_uniques = pd.factorize(df[_M])
    m_uniques = np.asarray(m_uniques, dtype=object)
    t_codes, t_uniques = pd.factorize(df[schema.CRIME_TYPE])
    keep = np.ones(n_rows, dtype=bool)
    if types is not None:
        keep &= _lookup(t_codes, t_uniques, types)
    if sources is not None:
        s_codes, s_uniques = pd.factorize(df[schema.SOURCE])
        keep &= _lookup(s_codes, s_uniques, sources)
    if first is not None:
        keep &= _lookup(m_codes, m_uniques, [m for m in m_uniques if first <= m <= last])
    present = m_uniques[np.unique(m_codes[keep])] if keep.any() else np.empty(0, dtype=object)
    span = (str(min(present)), str(max(present))) if present.size else None
    x = df[_E].to_numpy(dtype="float64", na_value=np.nan)
    y = df[_N].to_numpy(dtype="float64", na_value=np.nan)
    on_map = keep & df[schema.LOCATED].to_numpy(dtype=bool) & np.isfinite(x) & np.isfinite(y)
    x, y = x[on_map], y[on_map]
    harm_of_type = pd.Series(np.asarray(t_uniques, dtype=object)).map(weights).fillna(0.0).to_numpy(dtype="float64")
    h = harm_of_type[t_codes[on_map]]
    month_of_code = np.array([int(m[:4]) * 12 + int(m[5:7]) - 1 for m in m_uniques], dtype=np.int64)  # few
    month_idx = month_of_code[m_codes[on_map]]
    # point id within the partition, then (point, month) keys
    p_codes, px, py = _point_codes(x, y)
    m0 = int(month_idx.min()) if month_idx.size else 0
    span_m = int(month_idx.max()) - m0 + 1 if month_idx.size else 1
    keys, counts, sums = _group_sum(p_codes.astype(np.int64) * span_m + (month_idx - m0), h)
    pt = keys // span_m
    point_month = pd.DataFrame({_E: px[pt], _N: py[pt], _M: keys % span_m + m0, schema.N: counts, schema.HARM: sums})
    out: dict[str, Any] = {"span": span, "point_month": point_month, "locations": None}
    if with_locations:
        l_codes, l_uniques = pd.factorize(df[schema.LOCATION][on_map])
        cleaned = pd.Series(l_uniques, dtype="string").str.replace(cube_mod.ON_OR_NEAR, "", regex=True).str.strip()
        usable = np.append((cleaned.notna() & (cleaned != "")).to_numpy(dtype=bool), False)
        good = usable[l_codes]  # code -1 (missing) reads the appended False
        n_loc = max(len(l_uniques), 1)
        keys, counts, _ = _group_sum(p_codes[good].astype(np.int64) * n_loc + l_codes[good])
        pt, lc = keys // n_loc, keys % n_loc
        out["locations"] = pd.DataFrame({_E: px[pt], _N: py[pt], _LOC: cleaned.to_numpy()[lc], schema.N: counts})
    return out


def _summarise_store_parts(
    store_dir: str, parts: list[dict[str, Any]], *, with_source: bool, **kwargs: Any
) -> dict[str, Any]:
    """Read some parts of the store (one force) and summarise them as one partition."""
    columns = [*cube_mod.CUBE_COLUMNS, schema.LOCATION] + ([schema.SOURCE] if with_source else [])
    frame = store.read_parts(store_dir, parts, columns=columns, crime_types=kwargs.get("types")).to_pandas()
    return _summarise_partition(frame, with_locations=True, **kwargs)


def _reduce_batch(
    summaries: list[dict[str, Any]],
    *,
    resolution: int,
    area_wkb: bytes | None,
) -> dict[str, Any]:
    """Partition summaries (one force) -> counts per (cell, month), per (cell, location), and the hull.

    Each distinct snap point of the batch is tested against the study area and indexed to H3 once.
    """
    spans = [s["span"] for s in summaries if s["span"] is not None]
    pm = pd.concat([s["point_month"] for s in summaries], ignore_index=True)
    locs = [s["locations"] for s in summaries if s["locations"] is not None]
    loc = pd.concat(locs, ignore_index=True) if locs else None
    frames = [pm] if loc is None else [pm, loc]
    all_codes, px, py = _point_codes(
        np.concatenate([f[_E].to_numpy(dtype="float64") for f in frames]),
        np.concatenate([f[_N].to_numpy(dtype="float64") for f in frames]),
    )
    p_codes, l_codes = all_codes[: len(pm)], all_codes[len(pm) :]
    inside = np.ones(len(px), dtype=bool)
    if area_wkb is not None and len(px):
        area = shapely.from_wkb(area_wkb)
        shapely.prepare(area)
        inside = shapely.intersects_xy(area, px, py)
    hull = np.empty((0, 2))
    if inside.any():
        hull = shapely.get_coordinates(
            shapely.convex_hull(shapely.multipoints(np.column_stack([px[inside], py[inside]])))
        )
    cells = np.full(len(px), None, dtype=object)
    cells[inside] = grid.points_to_cells(px[inside], py[inside], resolution=resolution)
    c_codes, c_uniques = pd.factorize(cells, use_na_sentinel=True)
    c_uniques = np.asarray(c_uniques, dtype=object)
    pm_cell = c_codes[p_codes]
    ok = pm_cell >= 0
    months = pm[_M].to_numpy(dtype=np.int64)[ok]
    m0 = int(months.min()) if months.size else 0
    span_m = int(months.max()) - m0 + 1 if months.size else 1
    keys, _, n_sum = _group_sum(
        pm_cell[ok].astype(np.int64) * span_m + (months - m0), pm[schema.N].to_numpy("float64")[ok]
    )
    _, _, h_sum = _group_sum(
        pm_cell[ok].astype(np.int64) * span_m + (months - m0), pm[schema.HARM].to_numpy("float64")[ok]
    )
    cell_month = pd.DataFrame(
        {"cell": c_uniques[keys // span_m], _M: keys % span_m + m0, schema.N: n_sum, schema.HARM: h_sum}
    )
    cell_loc = None
    if loc is not None:
        loc_cell = c_codes[l_codes]
        ok = loc_cell >= 0
        frame = pd.DataFrame(
            {"cell": c_uniques[loc_cell[ok]], _LOC: loc[_LOC].to_numpy()[ok], schema.N: loc[schema.N].to_numpy()[ok]}
        )
        cell_loc = frame.groupby(["cell", _LOC], sort=False)[schema.N].sum().reset_index()
    return {
        "spans": spans,
        "cell_month": cell_month,
        "cell_locations": cell_loc,
        "hull": hull,
        "rows": int(n_sum.sum()),
    }


def _batches(n_parts: int, keys: Sequence[Any] | None, size: int) -> list[slice]:
    """Contiguous runs of at most ``size`` partitions, cut where ``keys`` (e.g. the force) change."""
    out: list[slice] = []
    start = 0
    for i in range(1, n_parts + 1):
        if i == n_parts or i - start >= size or (keys is not None and keys[i] != keys[start]):
            out.append(slice(start, i))
            start = i
    return out


def _check_dask_choices(*, unit: str, batch_partitions: Any, group: str | None, groups: dict[str, Any] | None) -> None:
    """Refuse what the Dask backend does not build: non-H3 units, flag groups, and a bad batch size."""
    if unit != "h3":
        raise ParameterError(
            f"the dask backend builds H3 cubes only, not unit={unit!r}: ward and LSOA cubes are small, "
            "build them with build_cube(..., backend='memory')"
        )
    if isinstance(batch_partitions, bool) or not isinstance(batch_partitions, int) or batch_partitions < 1:
        raise ParameterError(f"`batch_partitions` must be a positive integer; got {batch_partitions!r}")
    if qualifiers.qualified_group(group, groups=groups) is not None:
        raise ParameterError(
            f"flag group {group!r} is counted in memory only: flagged records come from partner extracts, which "
            "are small; run without Dask"
        )


def _batch_summaries(
    incidents: Any,
    *,
    sources: Any,
    source_list: list[str] | None,
    forces: Any,
    months: Any,
    month_filter: list[str] | None,
    batch_partitions: int,
    summary_kw: dict[str, Any],
) -> list[Any]:
    """The delayed per-partition summaries of a store folder (one task per force's parts) or a Dask
    dataframe, grouped into batches of at most ``batch_partitions``."""
    import dask.dataframe as dd
    from dask.delayed import delayed

    if isinstance(incidents, (str, Path)):
        # One task per force (at most `batch_partitions` months): read its parts in one go.
        parts = store.part_entries(incidents, sources=source_list, forces=forces, months=month_filter)
        if not parts:
            raise ParameterError(
                f"no part of the store {incidents} matches sources={sources!r} forces={forces!r} months={months!r};"
                " check them against `geo-csp status`"
            )
        read_summary = delayed(_summarise_store_parts, pure=True)
        return [
            [read_summary(str(incidents), parts[s], with_source=source_list is not None, **summary_kw)]
            for s in _batches(len(parts), [p["force"] for p in parts], batch_partitions)
        ]
    elif isinstance(incidents, dd.DataFrame):
        need = list(cube_mod.CUBE_COLUMNS) + ([schema.SOURCE] if source_list is not None else [])
        missing = [c for c in need if c not in incidents.columns]
        if missing:
            raise SchemaError(
                f"the dask dataframe lacks column(s) {missing}; read it with geo_csp.store.read_store_dask"
            )
        summarise = delayed(_summarise_partition, pure=True)
        flat = [
            summarise(p, with_locations=schema.LOCATION in incidents.columns, **summary_kw)
            for p in incidents.to_delayed()  # type: ignore[no-untyped-call]  # dask ships no annotations
        ]
        return [flat[s] for s in _batches(len(flat), None, batch_partitions)]
    else:
        raise ParameterError(
            f"`incidents` must be a store folder or a dask DataFrame, not {type(incidents).__name__}; "
            "for a pandas DataFrame use geo_csp.cube.build_cube"
        )


def build_cube_dask(
    incidents: Any,
    cube_params: cube_mod.CubeParams | None = None,
    *,
    units: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    forces: Sequence[str] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    batch_partitions: int = DEFAULT_BATCH_PARTITIONS,
) -> cube_mod.Cube:
    """The cube of :func:`geo_csp.cube.build_cube`, aggregated on Dask from a store or a Dask dataframe.

    Parameters
    ----------
    incidents
        A store folder (its parts are read with :func:`geo_csp.store.read_store_dask`) or a
        :class:`dask.dataframe.DataFrame` with the store's columns (at least ``month, crime_type,
        easting, northing, located``; ``location`` is used when present, ``source`` when
        ``sources`` filters).
    cube_params, units, study_area
        As :func:`geo_csp.cube.build_cube` (what is counted is one :class:`geo_csp.cube.CubeParams`); the
        result is the same cube. Only ``unit="h3"`` and month,
        quarter or year periods run on Dask (wards, LSOAs and timed extracts are small: build them in
        memory).
    forces
        For a store: only these forces' parts are read (partition pruning).
    client
        A ``distributed.Client`` to run on (default: the active client of :func:`geo_csp.cluster.dask_client`, if
        any, else ``scheduler``).
    scheduler
        Dask scheduler name when no client is used ("threads", "processes", "synchronous").
    batch_partitions
        Partitions reduced together; for a store a batch never spans two forces.
    cube_params.zero_fill
        Which empty cells the cube holds (when ``units`` is not given). ``"study_area"`` (as
        :func:`geo_csp.cube.build_cube`): every cell overlapping the study area or, without one,
        the convex hull of the data. ``"neighbours"``: the occupied cells and every cell within
        ``zero_fill_k`` rings of one (:func:`neighbour_cells`). For a national store the hull of
        England and Wales holds about 2 million res-9 cells, most of them sea or fields with no
        snap point, which dilute the cube's mean and cost time in every later step;
        ``"neighbours"`` keeps every cell that is, or touches, a place where crime is recorded.
        The in-memory cube is the same when given these cells as ``units``.
    cube_params.zero_fill_k
        Ring radius for ``zero_fill="neighbours"``.

    Returns
    -------
    geo_csp.cube.Cube
        ``params["backend"]`` is ``"dask"``; every other field equals the in-memory cube's.
    """
    from dask.delayed import delayed

    cp = cube_mod.CubeParams.given(cube_params).for_cube()
    unit, resolution, period, months = cp.unit, cp.resolution, cp.period, cp.months
    crime_types, group, groups, sources = cp.crime_types, cp.group, cp.groups_dict(), cp.sources
    harm_index, asb_weight_days = cp.harm_index, cp.asb_weight_days
    zero_fill, zero_fill_k, partial_periods = cp.zero_fill, cp.zero_fill_k, cp.partial_periods
    if period == "auto" or periods.is_day_period(period):
        raise ParameterError(
            f"period {period!r} is built in memory only: weekly periods are for timed partner extracts, which "
            "are small; run without Dask, or use period month, quarter or year"
        )
    _check_dask_choices(unit=unit, batch_partitions=batch_partitions, group=group, groups=groups)
    types = harm.resolve_crime_types(crime_types, group, groups=groups)
    source_list = None if sources is None else ([sources] if isinstance(sources, str) else list(sources))
    first = last = None
    month_filter = None
    if months is not None:
        first, last = (str(m) for m in periods.validate_months(list(months), name="months"))
        month_filter = [str(m) for m in periods.month_range(first, last)]

    weights = harm.harm_weights(harm_index, asb_weight_days=asb_weight_days)
    summary_kw = dict(types=types, sources=source_list, first=first, last=last, weights=weights)
    summaries = _batch_summaries(
        incidents,
        sources=sources,
        source_list=source_list,
        forces=forces,
        months=months,
        month_filter=month_filter,
        batch_partitions=batch_partitions,
        summary_kw=summary_kw,
    )
    area = cube_mod.study_geometry(study_area)
    params: dict[str, Any] = {}
    if unit == "h3" and area is None and not isinstance(units, gpd.GeoDataFrame):
        # The data's extent, by the in-memory rule (cube.data_extent): one extra, cheap pass over the
        # distinct snap points and their counts, so far-off geocoded points are left out the same way.
        counted = cluster.compute([delayed(_points_of_batch)(b) for b in summaries], client=client, scheduler=scheduler)
        pts = np.concatenate([c for c in counted if len(c)] or [np.empty((0, 3))])
        counts = pts[:, 2].astype(np.int64)
        if counts.sum() == 0:
            raise ParameterError(
                f"no incidents match the filters (crime types {types!r}, sources {source_list!r}); "
                "check them against `geo-csp status`"
            )
        if counts.sum() < 3:
            raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
        area, central, radius = cube_mod.data_extent(np.repeat(pts[:, 0], counts), np.repeat(pts[:, 1], counts))
        params.update(cube_mod.extent_report(int(counts.sum()), int((~central).sum()), radius))
    if resolution is None and area is not None:
        resolution, params["resolution_reason"] = grid.default_resolution(area)
    if resolution is None:
        # Polygon units without a study area: the default resolution is not used; take the hull's.
        vertices = cluster.compute([delayed(_hull_of_batch)(b) for b in summaries], client=client, scheduler=scheduler)
        pts = np.concatenate([v for v in vertices if len(v)] or [np.empty((0, 2))])
        if len(pts) < 3:
            raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
        resolution, params["resolution_reason"] = grid.default_resolution(shapely.convex_hull(shapely.multipoints(pts)))
    resolution = grid.check_resolution(resolution)
    area_wkb = None if area is None else shapely.to_wkb(area)
    reduce_batch = delayed(_reduce_batch, pure=True)
    tasks = [reduce_batch(b, resolution=resolution, area_wkb=area_wkb) for b in summaries]
    batches = cluster.compute(tasks, client=client, scheduler=scheduler)
    return cube_mod.whole_periods(
        _assemble_cube(
            batches,
            unit=unit,
            units=units,
            resolution=resolution,
            period=period,
            months=months,
            month_bounds=(first, last),
            area=area,
            types=types,
            group=group,
            sources=source_list,
            harm_index=harm_index,
            asb_weight_days=asb_weight_days,
            params=params,
            client=client,
            scheduler=scheduler,
            zero_fill=zero_fill,
            zero_fill_k=zero_fill_k,
        ),
        partial_periods=partial_periods,
    )


def _located_points(frame: pd.DataFrame) -> np.ndarray:
    """Distinct located points of a table with their incident counts: rows (easting, northing, n)."""
    x = frame[_E].to_numpy(dtype="float64", na_value=np.nan)
    y = frame[_N].to_numpy(dtype="float64", na_value=np.nan)
    ok = frame[schema.LOCATED].to_numpy(dtype=bool) & np.isfinite(x) & np.isfinite(y)
    codes, px, py = _point_codes(x[ok], y[ok])
    return np.column_stack([px, py, np.bincount(codes, minlength=len(px))]) if len(px) else np.empty((0, 3))


def _located_points_of_parts(store_dir: str, parts: list[dict[str, Any]]) -> np.ndarray:
    return _located_points(store.read_parts(store_dir, parts, columns=[_E, _N, schema.LOCATED]).to_pandas())


def located_points_dask(
    incidents: Any,
    *,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    client: Any = None,
    scheduler: str | None = None,
    batch_partitions: int = DEFAULT_BATCH_PARTITIONS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct located points of a store or Dask dataframe, with their incident counts.

    Every located incident with coordinates counts (no filter by crime type, source or month), as
    :func:`geo_csp.cube.clip_to_study_area` does for a DataFrame; ``np.repeat(x, n)`` would give the
    same points as that table's, so the caller works on the distinct points and their counts. Only
    three columns are read, one force (or batch of partitions) per task.

    Parameters
    ----------
    incidents
        A store folder or a :class:`dask.dataframe.DataFrame` with ``easting, northing, located``.
    study_area
        Keep only the points inside it (EPSG:27700); ``None`` keeps all.
    client, scheduler, batch_partitions
        As :func:`build_cube_dask`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Eastings, northings (sorted by easting then northing) and int64 incident counts.
    """
    import dask.dataframe as dd
    from dask.delayed import delayed

    if isinstance(incidents, (str, Path)):
        parts = store.part_entries(incidents)
        read = delayed(_located_points_of_parts, pure=True)
        tasks = [
            read(str(incidents), parts[s]) for s in _batches(len(parts), [p["force"] for p in parts], batch_partitions)
        ]
    elif isinstance(incidents, dd.DataFrame):
        tasks = [delayed(_located_points, pure=True)(p) for p in incidents[[_E, _N, schema.LOCATED]].to_delayed()]
    else:
        raise ParameterError(f"`incidents` must be a store folder or a dask DataFrame, not {type(incidents).__name__}")
    found = [a for a in cluster.compute(tasks, client=client, scheduler=scheduler) if len(a)]
    pts = np.concatenate(found) if found else np.empty((0, 3))
    ux, uy, inverse = grid.unique_points(pts[:, 0], pts[:, 1])
    counts = np.bincount(inverse, weights=pts[:, 2], minlength=len(ux)).astype(np.int64)
    area = cube_mod.study_geometry(study_area)
    if area is not None and len(ux):
        shapely.prepare(area)
        inside = shapely.intersects_xy(area, ux, uy)
        ux, uy, counts = ux[inside], uy[inside], counts[inside]
    return ux, uy, counts


def _cells_to_polygons(cells: np.ndarray, *, client: Any, scheduler: str | None) -> gpd.GeoDataFrame:
    """:func:`geo_csp.grid.cells_to_polygons` in chunks on the workers (one h3 call per cell is the
    slowest step of a national cube)."""
    from dask.delayed import delayed

    if len(cells) <= POLYGON_CHUNK:
        return grid.cells_to_polygons(cells)
    pieces = [cells[i : i + POLYGON_CHUNK] for i in range(0, len(cells), POLYGON_CHUNK)]
    client = cluster.active_client(client, scheduler)
    if client is not None:  # ship the ids once, not inside the task graph
        frames = client.gather(client.map(grid.cells_to_polygons, client.scatter(pieces)))
    else:
        to_polygons = delayed(grid.cells_to_polygons, pure=True)
        frames = cluster.compute([to_polygons(p) for p in pieces], client=None, scheduler=scheduler)
    return gpd.GeoDataFrame(pd.concat(frames), geometry="geometry", crs=frames[0].crs)


def _points_of_batch(summaries: list[dict[str, Any]]) -> np.ndarray:
    """Distinct located points of a batch with their incident counts: rows (easting, northing, n)."""
    pm = pd.concat([s["point_month"] for s in summaries], ignore_index=True)
    if not len(pm):
        return np.empty((0, 3))
    g = pm.groupby([_E, _N], sort=False)[schema.N].sum().reset_index()
    totals: np.ndarray = g[[_E, _N, schema.N]].to_numpy(dtype="float64")
    return totals


def _hull_of_batch(summaries: list[dict[str, Any]]) -> np.ndarray:
    pm = pd.concat([s["point_month"] for s in summaries], ignore_index=True)
    if not len(pm):
        return np.empty((0, 2))
    pts = pm[[_E, _N]].drop_duplicates().to_numpy()
    hull: np.ndarray = shapely.get_coordinates(shapely.convex_hull(shapely.multipoints(pts)))
    return hull


def _assemble_cube(
    batches: list[dict[str, Any]],
    *,
    unit: str,
    units: gpd.GeoDataFrame | None,
    resolution: int,
    period: periods.PeriodKind,
    months: tuple[str, str] | None,
    month_bounds: tuple[str | None, str | None],
    area: shapely.Geometry | None,
    types: tuple[str, ...] | None,
    group: str | None,
    sources: list[str] | None,
    harm_index: str,
    asb_weight_days: float,
    params: dict[str, Any],
    client: Any,
    scheduler: str | None,
    zero_fill: str,
    zero_fill_k: int,
) -> cube_mod.Cube:
    """Reduced batches -> the :class:`Cube`, following :func:`geo_csp.cube.build_cube` step by step."""
    if months is not None:
        first, last = month_bounds
    else:
        spans = [s for b in batches for s in b["spans"]]
        if not spans:
            raise ParameterError("no incidents match the filters; give `months` to build an empty cube")
        first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    month_list = periods.month_range(str(first), str(last))
    n_rows = sum(b["rows"] for b in batches)
    if area is None:
        hull_pts = np.concatenate([b["hull"] for b in batches if len(b["hull"])] or [np.empty((0, 2))])
        if n_rows < 3:
            raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
        area = shapely.convex_hull(shapely.multipoints(hull_pts))
    cell_month = pd.concat([b["cell_month"] for b in batches], ignore_index=True)
    g = cell_month.groupby(["cell", _M], sort=False)
    cell_month = pd.DataFrame({schema.N: g[schema.N].sum(), schema.HARM: g[schema.HARM].sum()}).reset_index()
    codes = cell_month["cell"].to_numpy(dtype=object)
    out_params: dict[str, Any] = {
        "unit": unit,
        "period": period,
        "months": [str(month_list[0]), str(month_list[-1])],
        "crime_types": list(types) if types is not None else None,
        "group": group,
        "sources": list(sources) if sources is not None else None,
        "harm_index": harm_index,
        "asb_weight_days": float(asb_weight_days),
        "resolution": int(resolution),
    }
    out_params.update(params)
    if isinstance(units, gpd.GeoDataFrame):
        cells = np.asarray(units.index, dtype=object)
    elif zero_fill == "neighbours":
        cells = grid.neighbour_cells(np.unique(codes.astype(str)), k=zero_fill_k)
        out_params["zero_fill"] = f"occupied cells and their {zero_fill_k}-ring neighbours"
    else:
        cells = np.union1d(grid.area_to_cells(area, resolution=resolution), np.unique(codes.astype(str)))
    unit_frame = _cells_to_polygons(np.asarray(cells, dtype=object), client=client, scheduler=scheduler)
    index = pd.Index(unit_frame.index)
    unit_pos = index.get_indexer(pd.Index(codes))
    counted = unit_pos >= 0
    if units is not None and not counted.all():
        out_params["dropped_outside_units"] = int(cell_month[schema.N].to_numpy()[~counted].sum())
    period_keys = np.unique(periods.period_keys(month_list, period=period))
    m_codes, m_uniques = pd.factorize(cell_month[_M].to_numpy(dtype=np.int64))
    month_keys = periods.period_keys(periods.index_to_months(np.asarray(m_uniques)), period=period)
    p_pos = np.searchsorted(period_keys, month_keys[m_codes]) if len(m_uniques) else np.empty(0, np.int64)
    n_units, n_periods = len(index), len(period_keys)
    flat = unit_pos[counted] * n_periods + p_pos[counted]
    n = np.bincount(
        flat, weights=cell_month[schema.N].to_numpy(dtype="float64")[counted], minlength=n_units * n_periods
    ).reshape(n_units, n_periods)
    h = np.bincount(
        flat, weights=cell_month[schema.HARM].to_numpy(dtype="float64")[counted], minlength=n_units * n_periods
    ).reshape(n_units, n_periods)

    locations = pd.DataFrame(columns=[schema.UNIT_ID, _LOC, schema.N])
    loc_parts = [b["cell_locations"] for b in batches if b["cell_locations"] is not None]
    if loc_parts:
        loc = pd.concat(loc_parts, ignore_index=True)
        loc = loc[index.get_indexer(pd.Index(loc["cell"].to_numpy(dtype=object))) >= 0]
        loc = pd.DataFrame(
            {
                schema.UNIT_ID: loc["cell"].to_numpy(dtype=object),
                _LOC: loc[_LOC].astype("string").to_numpy(),
                schema.N: loc[schema.N].to_numpy(),
            }
        )
        locations = loc.groupby([schema.UNIT_ID, _LOC], sort=True)[schema.N].sum().reset_index()

    out_params["n_incidents_in_area"] = int(n.sum())
    out_params["study_area_km2"] = float(area.area / 1e6)
    out_params["backend"] = "dask"
    return cube_mod.Cube(
        units=unit_frame,
        period_keys=period_keys,
        period_labels=periods.period_labels(period_keys, period=period),
        n=n,
        harm=h,
        params=out_params,
        locations=locations,
    )
