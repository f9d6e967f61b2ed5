"""The hotspot pipeline every caller uses: cube -> weights -> Gi*/trend/classes -> named areas.

:func:`run_hotspots` ties :mod:`geo_csp.cube` (counts by unit x period) to the statistics of
:mod:`geo_csp.hotspots` and merges the significant units into named areas (:mod:`geo_csp.areas`).
Its result carries one row per unit with fixed columns, the areas, the cube, the full Gi* arrays and
a metadata dict holding every parameter, which the CLI and the app write into every output file.

Spatial weights (:func:`unit_weights`, the ``weights`` argument of :func:`run_hotspots`):

- ``"h3"``: H3 grid disk of radius ``params.k`` (H3 cells only),
- ``"queen"``: polygon contiguity (wards and LSOAs only),
- ``"distance"``: every unit whose centroid (EPSG:27700) lies within ``distance_m`` metres of the
  unit's centroid (any unit kind). Units with no neighbour in the band are *islands*: their Gi* is
  z = 0, p = 1; they are counted and listed in the metadata and a warning names them,
- ``"auto"`` (default): ``"h3"`` for H3 cells, ``"queen"`` for wards and LSOAs.

Rates: ``rate_per_1000`` in :attr:`HotspotResult.units` is **annualised**: incidents per 1,000
residents per year, i.e. ``n * 1000 / population * 12 / n_months`` where ``n`` is the unit's count
over the whole analysed window and ``n_months`` the number of calendar months in it (first to last
month, empty months included). This is the figure partnerships report ("crimes per 1,000 residents
a year") and it stays comparable between runs over windows of different lengths. The metadata's
``rate_per_1000`` entry states the window and ``rate_months`` its length. ``measure="rate"`` analyses
the per-period rates (count in the period per 1,000 residents); Gi* is unchanged by a common scale
factor, so annualising that cube would not change any z-score.

Backends: the same :func:`run_hotspots` call runs in memory on an incident DataFrame (a borough)
or, with ``backend="dask"`` (or given a store folder or a Dask DataFrame), aggregates the cube on
Dask from the store's force/month partitions (:func:`geo_csp.cube.build_cube_dask`) so a nation's
store is never one table; the statistics and areas then run on the cube as in memory. Both give
the same cube, Gi* z, classes and areas (tested on the demo borough); ``metadata["backend"]`` says
which ran. ``zero_fill="neighbours"`` keeps only occupied H3 cells and their ring, for a force or
the nation, whose hull is mostly empty cells.

Ranking: :func:`rank_units` ranks wards or LSOAs (or H3 cells, except by rate) by count, harm,
annualised rate or Gi* z and adds a ``rank`` column (1 = highest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import dataclasses
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

import geo_csp
from geo_csp import areas as areas_mod
from geo_csp import boundaries, cube as cube_mod, harm, hotspots, periods, qualifiers, schema, store
from geo_csp import sources as sources_mod
from geo_csp import weights as spatial_weights
from geo_csp._errors import DenominatorError, ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS

__all__ = [
    "BACKENDS",
    "HotspotResult",
    "RANK_MEASURES",
    "UNIT_COLUMNS",
    "WEIGHTS_KINDS",
    "describe_run",
    "rank_units",
    "resolve_weights",
    "run_hotspots",
    "trend_series",
    "unit_weights",
]

Backend = Literal["memory", "dask"]
#: Values of the ``backend`` argument of :func:`run_hotspots`.
BACKENDS = ("memory", "dask")
Measure = cube_mod.Measure
MEASURES = cube_mod.MEASURES
WeightsKind = Literal["auto", "h3", "queen", "distance"]
#: Values of the ``weights`` argument (see the module docstring).
WEIGHTS_KINDS = ("auto", "h3", "queen", "distance")
#: What ``"auto"`` resolves to, with the kinds named outright (see :func:`resolve_weights`).
ResolvedWeights = Literal["h3", "queen", "distance"]
RankMeasure = Literal["n", "harm", "rate_per_1000", "gi_z"]
#: Columns :func:`rank_units` can rank by.
RANK_MEASURES = (schema.N, schema.HARM, schema.RATE_PER_1000, schema.GI_Z)
#: At most this many island unit ids are listed in the metadata (all are counted).
_MAX_LISTED_ISLANDS = 20
#: Columns of :attr:`HotspotResult.units`, in order (then geometry). ``lsoa_name`` is the LSOA's name beside
#: its code (``unit_id``) on LSOA runs, null on H3 and ward runs; ``ward_code``, ``population``
#: and ``rate_per_1000`` are null where unknown (e.g. population of H3 cells). ``n`` and ``harm`` are
#: totals over the analysed window; ``rate_per_1000`` is incidents per 1,000 residents **per year**
#: (annualised over the window); ``gi_z``/``gi_p`` are the latest period's.
UNIT_COLUMNS = (
    schema.UNIT_ID,
    schema.LSOA_NAME,
    schema.N,
    schema.HARM,
    schema.GI_Z,
    schema.GI_P,
    schema.MK_S,
    schema.MK_TAU,
    schema.MK_Z,
    schema.MK_P,
    schema.PATTERN,
    schema.CATEGORY,
    hotspots.N_HOT_PERIODS,
    hotspots.N_COLD_PERIODS,
    schema.AREA_ID,
    schema.WARD_CODE,
    schema.WARD_NAME,
    schema.POPULATION,
    schema.RATE_PER_1000,
    schema.EXPLANATION,
)


@dataclass(frozen=True)
class HotspotResult:
    """Everything one hotspot run produced.

    Attributes
    ----------
    units
        GeoDataFrame, one row per unit, columns :data:`UNIT_COLUMNS` + geometry (EPSG:27700).
    areas
        GeoDataFrame of named hotspot areas (:data:`geo_csp.areas.AREA_COLUMNS` + ``status``).
    cube
        The :class:`geo_csp.cube.Cube` analysed.
    analysis
        The :class:`geo_csp.hotspots.CubeAnalysis` (full Gi* z / p / hot_cold arrays).
    metadata
        Every parameter of the run (JSON-serialisable), written into every output file.
    area_changes
        ``{"matched", "new", "vanished"}`` against ``previous_areas`` (all new without them).
    """

    units: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    cube: cube_mod.Cube
    analysis: hotspots.CubeAnalysis
    metadata: dict[str, Any]
    area_changes: dict[str, Any] = field(default_factory=dict)


def resolve_weights(unit: str, weights: str = "auto", distance_m: float | None = None) -> ResolvedWeights:
    """The weights kind a run uses, after checking it fits the unit kind and ``distance_m``.

    Parameters
    ----------
    unit
        ``"h3"``, ``"ward"`` or ``"lsoa"``.
    weights
        One of :data:`WEIGHTS_KINDS`; ``"auto"`` is ``"h3"`` for H3 cells and ``"queen"`` otherwise.
    distance_m
        Band radius in metres; required by ``"distance"`` and refused by every other kind.

    Returns
    -------
    str
        ``"h3"``, ``"queen"`` or ``"distance"``.

    Raises
    ------
    ParameterError
        Naming the argument at fault and the combinations that work.
    """
    if weights not in WEIGHTS_KINDS:
        raise ParameterError(f"`weights` must be one of {WEIGHTS_KINDS}, not {weights!r}")
    if unit not in cube_mod.UNIT_KINDS:
        raise ParameterError(f"`unit` must be one of {cube_mod.UNIT_KINDS}, not {unit!r}")
    if weights == "distance":
        if distance_m is None:
            raise ParameterError("`weights='distance'` needs `distance_m` (the band radius in metres, e.g. 800)")
        if (
            isinstance(distance_m, bool)
            or not isinstance(distance_m, (int, float, np.integer, np.floating))
            or not np.isfinite(distance_m)
            or distance_m <= 0
        ):
            raise ParameterError(f"`distance_m` must be a positive number of metres; got {distance_m!r}")
        return "distance"
    if distance_m is not None:
        raise ParameterError(
            f"`distance_m` ({distance_m!r}) is only used with `weights='distance'`; "
            f"pass weights='distance' or drop distance_m (weights is {weights!r})"
        )
    if weights == "h3" and unit != "h3":
        raise ParameterError(
            f"`weights='h3'` (H3 k-ring) needs `unit='h3'`, not {unit!r}; for {unit} polygons use "
            "weights='queen' (contiguity) or weights='distance' with distance_m"
        )
    if weights == "queen" and unit == "h3":
        raise ParameterError(
            "`weights='queen'` is for ward/LSOA polygons; H3 cells use weights='h3' (k-ring, the same as "
            "queen contiguity for k=1) or weights='distance' with distance_m"
        )
    return "h3" if unit == "h3" else "queen"  # "auto" too


def unit_weights(
    units: gpd.GeoDataFrame,
    *,
    unit: str,
    k: int = 1,
    weights: WeightsKind = "auto",
    distance_m: float | None = None,
) -> sparse.csr_matrix:
    """The binary spatial weights between a cube's units.

    Parameters
    ----------
    units
        The cube's units (index = unit ids, EPSG:27700 geometry), e.g. ``Cube.units``.
    unit
        Their kind: ``"h3"``, ``"ward"`` or ``"lsoa"``.
    k
        H3 ring radius (``weights="h3"`` only).
    weights, distance_m
        Weights kind and band radius in metres (see :func:`resolve_weights`). The distance band
        links units whose centroids are at most ``distance_m`` apart.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric, zero diagonal; row ``i`` is the ``i``-th unit.
    """
    kind = resolve_weights(unit, weights, distance_m)
    if kind == "h3":
        return spatial_weights.h3_weights(units.index.to_numpy(dtype=object), k=k)
    if kind == "queen":
        return spatial_weights.queen_weights(units.geometry)
    if units.crs is None or units.crs != WORKING_CRS:
        raise ParameterError(f"`units` are {units.crs}; distance bands need {WORKING_CRS}: reproject with .to_crs()")
    assert distance_m is not None  # resolve_weights gives "distance" only with a band radius
    centroids = gpd.GeoSeries(shapely.centroid(units.geometry.to_numpy()), crs=WORKING_CRS)
    return spatial_weights.distance_band_weights(centroids, distance_m=float(distance_m))


def _islands(w: sparse.csr_matrix, unit_ids: pd.Index, *, kind: str, distance_m: float | None) -> dict[str, Any]:
    """Metadata on the units without a neighbour, and a warning naming them for distance bands."""
    empty = np.flatnonzero(np.diff(sparse.csr_matrix(w).indptr) == 0)
    ids = [str(u) for u in unit_ids[empty][:_MAX_LISTED_ISLANDS]]
    if empty.size and kind == "distance":
        more = f" and {empty.size - len(ids)} more" if empty.size > len(ids) else ""
        warnings.warn(
            f"{empty.size} of {len(unit_ids)} units have no neighbour within distance_m={distance_m:g} m "
            f"({', '.join(ids)}{more}); their Gi* is reported as z = 0, p = 1. Increase distance_m to "
            "give every unit a neighbour",
            UserWarning,
            stacklevel=3,
        )
    return {
        "n_islands": int(empty.size),
        "islands": ids,
        "mean_neighbours": float(w.nnz / w.shape[0]) if w.shape[0] else 0.0,
    }


#: ArcGIS Pro's Emerging Hot Spot Analysis asks for at least this many time steps.
MIN_TREND_PERIODS = 10
#: Gi* on fewer polygon units than this rests on too few neighbours for its normal approximation.
MIN_POLYGON_UNITS = 30


def _scope_text(params: Mapping[str, Any], *, zero_fill: str, zero_fill_k: int, given_units: bool) -> str:
    """Which units the analysis compares, in one sentence (the zero-fill scope)."""
    if params.get("unit") != "h3":
        return f"every {params.get('unit')} of the study area, including those with no incident"
    if given_units:
        return "the H3 cells given, including those with no incident"
    if zero_fill == "neighbours":
        return (
            f"occupied H3 cells and their {zero_fill_k}-ring neighbours only (zero_fill='neighbours'): empty cells "
            "farther out are not compared"
        )
    return (
        "every H3 cell of the study area (zero_fill='study_area', the borough mask), including the empty ones; "
        "ArcGIS's default analyses only cells with at least one point, which raises the mean and finds fewer hot spots"
    )


def describe_run(metadata: Mapping[str, Any]) -> str:
    """The run's choices in one paragraph, as the command line prints them and the app shows them.

    Names the scope (zero fill), the periods, Gi* alpha, FDR, time window, global window and
    permutations, the trend test, and the harm index with its ASB weight.
    """
    hp = metadata.get("hotspot_params", {})
    h = metadata.get("harm", {})
    months = metadata.get("months") or ["?", "?"]
    return (
        f"Scope: {metadata.get('scope')}. Periods: {metadata.get('n_periods')} {metadata.get('period')}s, "
        f"{months[0]}..{months[1]}. Gi*: alpha {hp.get('alpha')}, "
        f"{'Benjamini-Hochberg FDR within each period' if hp.get('fdr') else 'no FDR correction'}, time window "
        f"{hp.get('time_window')}, global window {hp.get('global_window')}, "
        f"{hp.get('permutations') or 'no'} permutations. Trend: Mann-Kendall ({hp.get('trend_test')}) at "
        f"{hp.get('trend_alpha')}. Harm: {h.get('name')} (ASB weight {h.get('asb_weight_days')} days). "
        f"Measure: {metadata.get('measure')}."
    )


def _small_sample_warnings(shape: tuple[int, int], *, unit: str, period: str) -> list[str]:
    """Sentences warning of too few periods for the trend classes, or too few wards/LSOAs for Gi*."""
    n_units, n_periods = shape
    out = []
    if n_periods < MIN_TREND_PERIODS:
        out.append(
            f"only {n_periods} {period}s: the emerging hot spot classes (and their Mann-Kendall trend) need "
            f"at least {MIN_TREND_PERIODS} periods; read the patterns as indicative, or use a shorter period"
        )
    if unit in ("ward", "lsoa") and n_units < MIN_POLYGON_UNITS:
        out.append(
            f"Gi* on only {n_units} {unit}s: each has a handful of neighbours, so its z-score rests on very "
            f"few values and the normal approximation is rough (fewer than {MIN_POLYGON_UNITS} units); "
            "compare the counts or rates themselves, or use H3 cells or LSOAs"
        )
    return out


def rank_units(units: gpd.GeoDataFrame, *, by: RankMeasure = schema.N) -> gpd.GeoDataFrame:
    """Rank units by a measure, highest first.

    Parameters
    ----------
    units
        Units with the column ``by``, e.g. :attr:`HotspotResult.units` (not modified).
    by
        ``"n"`` (incidents over the window), ``"harm"`` (summed harm weights), ``"rate_per_1000"``
        (incidents per 1,000 residents per year; wards/LSOAs with a population) or ``"gi_z"``
        (latest period's Gi* z: the most significant hot spot first).

    Returns
    -------
    geopandas.GeoDataFrame
        ``units`` in the same row order with the same index and columns plus ``rank`` (int64,
        1 = highest; tied units share the lowest rank of their group, pandas method ``"min"``,
        so 1, 2, 2, 4). Sort with ``.sort_values("rank", kind="stable")``.

    Raises
    ------
    ParameterError
        If ``by`` is not one of :data:`RANK_MEASURES` or a value is missing.
    SchemaError
        If ``units`` lacks the column ``by``.
    DenominatorError
        If ranking by rate and a unit has no population (H3 cells never have one).
    """
    if by not in RANK_MEASURES:
        raise ParameterError(f"`by` must be one of {RANK_MEASURES}, not {by!r}")
    if by not in units.columns:
        raise SchemaError(f"`units` have no {by!r} column to rank by; they have {list(units.columns)}")
    values = pd.to_numeric(units[by], errors="coerce").astype("float64")
    missing = ~np.isfinite(values.to_numpy())
    if missing.any():
        names = units.index[missing][:5].tolist()
        more = f" and {int(missing.sum()) - 5} more" if missing.sum() > 5 else ""
        if by == schema.RATE_PER_1000:
            raise DenominatorError(
                f"cannot rank by rate: no population (so no rate per 1,000) for unit(s) {names}{more}; "
                "H3 cells have no residents count: rank them by n, harm or gi_z, or use ward/LSOA units "
                "with a population column"
            )
        raise ParameterError(f"cannot rank by {by!r}: it is missing for unit(s) {names}{more}")
    rank = values.rank(method="min", ascending=False).astype(np.int64)
    out = units.copy()
    out[schema.RANK] = rank.to_numpy()
    geom = units.active_geometry_name if isinstance(units, gpd.GeoDataFrame) else None
    if geom is not None and units.columns[-1] == geom:  # keep the geometry last
        out = out[[*units.columns[:-1], schema.RANK, geom]]
    return out


def _ward_of_cells(units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Ward code and name of each unit's centroid (``None`` outside every ward)."""
    none = np.full(len(units), None, dtype=object)
    if wards is None or len(wards) == 0:
        return none, none
    c = shapely.centroid(units.geometry.to_numpy())
    codes = boundaries.assign_to_polygons(shapely.get_x(c), shapely.get_y(c), wards, code_col=schema.WARD_CODE)
    names = (
        pd.Series(codes, dtype=object).map(wards.set_index(schema.WARD_CODE)[schema.WARD_NAME]).to_numpy(dtype=object)
    )
    return codes, names


def _default_wards(
    incidents: Any, month_list: list[str], area: shapely.Geometry | None, *, client: Any = None
) -> gpd.GeoDataFrame | None:
    """Bury's shipped wards of the data's era when the located incidents (in ``area``) lie mostly in Bury, else None.

    ``incidents`` is a DataFrame, or a store folder / Dask DataFrame whose distinct located points
    are counted on Dask (:func:`geo_csp.cube.located_points_dask`): the same points either way.
    """
    counts = None
    if isinstance(incidents, pd.DataFrame):
        inside = cube_mod.clip_to_study_area(incidents, area)
        x = incidents[schema.EASTING].to_numpy(dtype="float64")[inside]
        y = incidents[schema.NORTHING].to_numpy(dtype="float64")[inside]
    else:
        x, y, counts = cube_mod.located_points_dask(incidents, study_area=area, client=client)
    if not boundaries.mostly_in_shipped_borough(x, y, counts=counts):
        return None
    return boundaries.load_wards(year=2017 if month_list[-1] < "2022-01" else 2022)


def trend_series(result: HotspotResult, *, by: Literal["area", "unit"] = "area") -> pd.DataFrame:
    """Incidents per period of each named hotspot area (summed over its units) or of each unit of a run.

    Parameters
    ----------
    result
        A hotspot run (:func:`run_hotspots`).
    by
        ``"area"``: one column per area of ``result.areas`` (by ``area_id``, in their order);
        ``"unit"``: one column per unit, named by ward name for ward units, else by unit id.

    Returns
    -------
    pandas.DataFrame
        Rows are the run's period labels, values incident counts (the cube's ``n``).
    """
    if by not in ("area", "unit"):
        raise ParameterError(f"`by` must be 'area' or 'unit', not {by!r}")
    n = result.cube.n
    labels = pd.Index([str(p) for p in result.cube.period_labels])
    if by == "unit":
        names_col = schema.WARD_NAME if result.metadata.get("unit") == "ward" else schema.UNIT_ID
        return pd.DataFrame(n.T, index=labels, columns=result.units[names_col].astype(str).to_numpy())
    ids = result.areas[schema.AREA_ID].to_numpy(dtype=object)
    pos = pd.Index(ids).get_indexer(pd.Index(result.units[schema.AREA_ID].to_numpy(dtype=object)))
    rows = np.flatnonzero(pos >= 0)
    member = sparse.csr_matrix((np.ones(len(rows)), (rows, pos[rows])), shape=(n.shape[0], len(ids)))  # units x areas
    return pd.DataFrame(np.asarray((member.T @ n).T), index=labels, columns=ids)


def _latest_police_uk_month(incidents: Any, *, client: Any = None) -> str | None:
    """The latest police.uk month of a run's input: a frame, a store folder (its manifest) or a Dask frame."""
    if isinstance(incidents, pd.DataFrame):
        return areas_mod.latest_police_uk_month(incidents)
    if isinstance(incidents, str | Path):
        return store.latest_police_uk_month(incidents)
    if not hasattr(incidents, "compute") or schema.SOURCE not in incidents.columns:
        return None
    police = incidents[incidents[schema.SOURCE].astype(str).str.startswith("police_uk")][schema.MONTH].astype(str)
    lazy = police.max()
    value = lazy.compute() if client is None else client.compute(lazy).result()
    return None if value is None or pd.isna(value) else str(value)


def _backend_for(incidents: Any, backend: Backend) -> Backend:
    """The cube's backend: Dask for a store folder or Dask dataframe; refused for a pandas frame on Dask."""
    if not isinstance(incidents, pd.DataFrame):
        return "dask"
    elif backend == "dask":
        raise ParameterError(
            "`backend='dask'` reads a store folder or a Dask DataFrame (geo_csp.store.read_store_dask), not a "
            "pandas DataFrame already in memory: pass the store folder, or use backend='memory'"
        )
    return backend


def _measure_values(cube: Any, measure: str, *, partial_periods: str) -> Any:
    """The unit x period values analysed for ``measure`` (per month covered when partial periods are kept)."""
    values = {"count": cube.n, "harm": cube.harm}.get(measure)
    if measure == "rate":
        values = cube.rates()
    elif measure == "rate_eb":
        values = cube.rates(smoothing="empirical_bayes")
    if partial_periods == "keep" and cube.params["partial_periods"]["partial"]:
        values = values / np.asarray(cube.params["period_months_covered"], dtype="float64")[None, :]
    return values


def _unit_wards(
    geo: Any, wards: Any, *, unit: str, incidents: Any, cube: Any, study_area: Any, client: Any
) -> tuple[Any, str | None, Any, Any]:
    """The wards of a run and where they came from, and each unit's ward code and name (given wards, else the
    ward units, else Bury's shipped wards when the data lie mostly in Bury)."""
    wards_source = "given" if wards is not None else ("the ward units" if unit == "ward" else None)
    if unit == "ward":
        ward_code, ward_name = (
            geo[schema.WARD_CODE].to_numpy(dtype=object),
            geo[schema.WARD_NAME].to_numpy(dtype=object),
        )
        wards = geo if wards is None else wards
    else:
        if wards is None:
            wards = _default_wards(incidents, cube.params["months"], cube_mod.study_geometry(study_area), client=client)
            wards_source = None if wards is None else "shipped Bury wards (the data lies mostly in Bury)"
        ward_code, ward_name = _ward_of_cells(geo, wards)
        if unit == "lsoa" and schema.WARD_CODE in geo.columns:
            ward_code = np.where(
                pd.isna(geo[schema.WARD_CODE].to_numpy(dtype=object)),
                ward_code,
                geo[schema.WARD_CODE].to_numpy(dtype=object),
            )
    return wards, wards_source, ward_code, ward_name


def _public_space_view(incidents: Any, *, public_space: bool) -> tuple[Any, int | None]:
    """The incidents counted by a public-space view, and how many dwelling violence rows it left out.

    Parameters
    ----------
    incidents
        The run's input (not modified).
    public_space
        ``CubeParams.public_space``: leave out violence located in a dwelling.

    Returns
    -------
    tuple
        The incidents (the input itself without a public-space view) and the number left out
        (``None`` without a public-space view).

    Raises
    ------
    ParameterError
        For a public-space view of incidents not in memory.
    """
    if not public_space:
        return incidents, None
    if not isinstance(incidents, pd.DataFrame):
        raise ParameterError(
            "`public_space=True` reads location labels of incidents in memory; pass a DataFrame (backend='memory')"
        )
    mask = sources_mod.dwelling_violence(incidents)
    return incidents[~mask], int(mask.sum())


def _counted_params(cube_params: cube_mod.CubeParams, counted: sources_mod.SourceSelection) -> cube_mod.CubeParams:
    """What the cube itself counts: the sources selected, and without proactive types when they are excluded.

    Parameters
    ----------
    cube_params
        The run's cube parameters.
    counted
        The sources selected (:func:`geo_csp.sources.select_sources`).

    Returns
    -------
    geo_csp.cube.CubeParams
        ``cube_params`` with the selected sources, the proactive types left out of its crime types, and
        no source or public-space filter of its own.
    """
    counts = dataclasses.replace(cube_params, sources=counted.sources, exclude_proactive=False, public_space=False)
    if not cube_params.exclude_proactive:
        return counts
    group, groups = cube_params.group, cube_params.groups_dict()
    types = harm.resolve_crime_types(cube_params.crime_types, group, groups=groups)
    flag_group = qualifiers.qualified_group(group, groups=groups) is not None
    return dataclasses.replace(
        counts,
        crime_types=sources_mod.counted_crime_types(types, counted),
        group=group if flag_group else None,  # a flag group still selects its flagged rows
    )


@dataclass(frozen=True)
class _Analysed:
    """The statistics of a run: Gi*/trend/classes, the area rule that fits its periods and its warnings."""

    analysis: hotspots.CubeAnalysis
    area_params: areas_mod.AreaParams
    period_word: str
    warnings: tuple[str, ...]


def _analyse(
    cube: cube_mod.Cube,
    w: sparse.csr_matrix,
    *,
    cube_params: cube_mod.CubeParams,
    params: hotspots.HotspotParams,
    area_params: areas_mod.AreaParams | None,
) -> _Analysed:
    """Gi*, trends and classes of the cube's measure, with the warnings on its sample size and area rule.

    Parameters
    ----------
    cube
        The counted cube.
    w
        Spatial weights between its units.
    cube_params
        The run's cube parameters (unit, measure, partial periods).
    params
        Statistics parameters.
    area_params
        How hot units become areas (default ``AreaParams()``); its ``min_hot_periods`` is capped at
        the number of periods, with a warning.

    Returns
    -------
    _Analysed
    """
    values = _measure_values(cube, cube_params.measure, partial_periods=cube_params.partial_periods)
    run_warnings = list(cube.params.get("warnings", []))
    period_word = periods.period_word(cube.params["period"])
    analysis = hotspots.analyse_cube(values, w, params=params, period_name=period_word)
    run_warnings += _small_sample_warnings(analysis.gi.z.shape, unit=cube_params.unit, period=period_word)
    area_params = areas_mod.AreaParams() if area_params is None else area_params
    n_periods = analysis.gi.z.shape[1]
    if area_params.min_hot_periods > n_periods:  # e.g. two whole financial years: hot in both makes an area
        run_warnings.append(
            f"areas need units hot in every one of the {n_periods} {period_word}s (min_hot_periods "
            f"{area_params.min_hot_periods} is more than there are)"
        )
        area_params = dataclasses.replace(area_params, min_hot_periods=n_periods)
    return _Analysed(analysis=analysis, area_params=area_params, period_word=period_word, warnings=tuple(run_warnings))


def _annual_rates(cube: cube_mod.Cube) -> np.ndarray:
    """Each unit's incidents per 1,000 residents per year over the cube's window (NaN without a population)."""
    population = cube.population.to_numpy(dtype="float64")
    n_months = len(periods.month_range(*cube.params["months"]))
    n = cube.totals()[schema.N].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # annualised: per 1,000 residents per year
        rate: np.ndarray = np.where(population > 0, n * 1000.0 / population * 12.0 / n_months, np.nan)
    return rate


def _unit_frame(
    cube: cube_mod.Cube, analysis: hotspots.CubeAnalysis, *, unit: str, ward_code: Any, ward_name: Any
) -> gpd.GeoDataFrame:
    """The run's unit table: :data:`UNIT_COLUMNS` + geometry, one row per cube unit, no area yet.

    Parameters
    ----------
    cube
        The counted cube (its units, totals, population and window).
    analysis
        Its statistics (one row per unit).
    unit
        The unit kind (LSOA names on LSOA runs only).
    ward_code, ward_name
        Each unit's ward (:func:`_unit_wards`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by unit id (EPSG:27700); ``area_id`` is null.
    """
    geo = cube.units
    totals = cube.totals()
    stats = analysis.units.set_axis(geo.index)
    lsoa_names = (
        geo[schema.LSOA_NAME].to_numpy(dtype=object)
        if unit == "lsoa" and schema.LSOA_NAME in geo.columns
        else np.full(len(geo), None, dtype=object)
    )
    table = pd.DataFrame(
        {
            schema.UNIT_ID: geo.index.to_numpy(dtype=object),
            schema.LSOA_NAME: lsoa_names,
            schema.N: totals[schema.N].to_numpy(),
            schema.HARM: totals[schema.HARM].to_numpy(),
        },
        index=geo.index,
    )
    table = table.join(stats[[c for c in stats.columns if c != schema.EXPLANATION]])
    table[schema.AREA_ID] = None
    table[schema.WARD_CODE] = ward_code
    table[schema.WARD_NAME] = ward_name
    table[schema.POPULATION] = cube.population.to_numpy(dtype="float64")
    table[schema.RATE_PER_1000] = _annual_rates(cube)
    table[schema.EXPLANATION] = stats[schema.EXPLANATION].to_numpy(dtype=object)
    unit_frame = gpd.GeoDataFrame(table[list(UNIT_COLUMNS)], geometry=geo.geometry.to_numpy(), crs=WORKING_CRS)
    unit_frame.index = pd.Index(geo.index.to_numpy(dtype=object), name=None)
    return unit_frame


@dataclass(frozen=True)
class _NamedAreas:
    """The named areas of a run, their changes against a previous run and each unit's area id."""

    areas: gpd.GeoDataFrame
    changes: dict[str, Any]
    unit_area: np.ndarray
    latest_police_uk: str | None


def _named_areas(
    unit_frame: gpd.GeoDataFrame,
    w: sparse.csr_matrix,
    *,
    cube: cube_mod.Cube,
    analysed: _Analysed,
    incidents: Any,
    client: Any,
    named_places: gpd.GeoDataFrame | None,
    wards: gpd.GeoDataFrame | None,
    previous_areas: gpd.GeoDataFrame | None,
    area_classes: Iterable[str] | None,
) -> _NamedAreas:
    """Merge the selected hot units into named areas, keep the ids of ``previous_areas`` and add each area's timeline.

    Parameters
    ----------
    unit_frame
        The unit table (:func:`_unit_frame`; not modified).
    w
        Spatial weights between the units.
    cube, analysed
        The cube and its statistics (:func:`_analyse`, whose area rule is used).
    incidents, client
        The run's input and Dask client, for the latest police.uk month.
    named_places, wards, previous_areas, area_classes
        As :func:`run_hotspots`.

    Returns
    -------
    _NamedAreas
    """
    totals = cube.totals()
    area_params = analysed.area_params
    area_frame, unit_area = areas_mod.hotspot_areas(
        unit_frame,
        w,
        selected=areas_mod.select_units(unit_frame, classes=area_classes),
        locations=cube.locations,
        named_places=named_places,
        wards=wards,
        total_n=float(totals[schema.N].sum()),
        total_harm=float(totals[schema.HARM].sum()),
        study_area_m2=cube.params["study_area_km2"] * 1e6,
        params=area_params,
    )
    area_frame, changes = areas_mod.match_areas(area_frame, previous_areas)
    fresh_ids = np.asarray(area_frame[schema.AREA_ID].to_numpy(dtype=object))
    if len(area_frame):
        original = areas_mod.area_ids(np.arange(1, len(area_frame) + 1))
        # hotspot_areas numbered areas 1..n in row order; map those to the matched ids
        unit_area = areas_mod.relabel_units(unit_area, original, fresh_ids)
    latest_police = _latest_police_uk_month(incidents, client=client)
    timeline = areas_mod.area_timeline(
        analysed.analysis.hot_cold == 1,
        unit_area,
        area_frame[schema.AREA_ID].to_numpy(dtype=object),
        [str(p) for p in cube.period_labels],
        min_hot_periods=area_params.min_hot_periods,
        latest_police_uk=latest_police,
    )
    area_frame = area_frame.assign(**{c: timeline[c].to_numpy() for c in areas_mod.TIMELINE_COLUMNS})
    return _NamedAreas(areas=area_frame, changes=changes, unit_area=unit_area, latest_police_uk=latest_police)


def _public_space_metadata(private: int | None) -> dict[str, Any] | None:
    """The metadata's ``public_space`` entry: how many dwelling violence rows a public-space view left out."""
    if private is None:
        return None
    return {
        "excluded_dwelling_violence": private,
        "rule": "violence whose location label places it in a dwelling is left out (police.uk labels never do)",
    }


def _area_metadata(named: _NamedAreas, analysed: _Analysed, *, area_classes: Iterable[str] | None) -> dict[str, Any]:
    """The metadata's entries on the areas: classes merged, area rule, count, changes and timeline rule."""
    area_params = analysed.area_params
    return {
        "area_classes": list(area_classes) if area_classes is not None else list(areas_mod.AREA_CLASSES),
        "area_params": area_params.to_dict(),
        "n_areas": int(len(named.areas)),
        "area_changes": named.changes,
        "latest_police_uk_month": named.latest_police_uk,
        "timeline_rule": areas_mod.timeline_rule(
            min_hot_periods=area_params.min_hot_periods,
            period_word=analysed.period_word,
            latest_police_uk=named.latest_police_uk,
        ),
    }


def _rate_metadata(months: tuple[str, str] | list[str]) -> dict[str, Any]:
    """The metadata's entries saying how ``rate_per_1000`` is annualised over the window ``months``."""
    first_month, last_month = months
    n_months = len(periods.month_range(first_month, last_month))
    return {
        "rate_per_1000": (
            f"incidents per 1,000 residents per year: the {n_months}-month total over "
            f"{first_month}..{last_month} x 12 / {n_months}"
        ),
        "rate_months": n_months,
    }


def _weights_metadata(
    kind: str, *, requested: str, distance_m: float | None, islands: dict[str, Any]
) -> dict[str, Any]:
    """The metadata's entries on the weights: the kind used and asked for, the band radius and the islands."""
    return {
        "weights": kind,
        "weights_requested": requested,
        "distance_m": float(distance_m) if distance_m is not None else None,  # given with "distance" only
        **islands,
    }


def _scope_metadata(cube: cube_mod.Cube, cube_params: cube_mod.CubeParams, *, given_units: bool) -> dict[str, Any]:
    """The metadata's entries on the zero fill: its rule and the units compared (:func:`_scope_text`)."""
    return {
        "zero_fill_rule": cube_params.zero_fill,
        "scope": _scope_text(
            cube.params, zero_fill=cube_params.zero_fill, zero_fill_k=cube_params.zero_fill_k, given_units=given_units
        ),
    }


def run_hotspots(
    incidents: pd.DataFrame | str | Path | Any,
    cube_params: cube_mod.CubeParams | None = None,
    *,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    units: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    named_places: gpd.GeoDataFrame | None = None,
    previous_areas: gpd.GeoDataFrame | None = None,
    area_classes: Iterable[str] | None = None,
    area_params: areas_mod.AreaParams | None = None,
    params: hotspots.HotspotParams | None = None,
    weights: WeightsKind = "auto",
    distance_m: float | None = None,
    backend: Backend = "memory",
    client: Any = None,
) -> HotspotResult:
    """Classify every unit of the study area and merge hot units into named, stably numbered areas.

    Parameters
    ----------
    incidents
        Incident table with the store schema (not modified); with ``backend="dask"``, or whenever it
        is not a pandas DataFrame, a store folder or a Dask DataFrame
        (:func:`geo_csp.store.read_store_dask`), so a nation's store is never loaded into one table.
    cube_params
        What is counted and how (:class:`geo_csp.cube.CubeParams`; default ``CubeParams()``), written
        into ``metadata["cube_params"]``. Its fields are described below by name (``cube_params.unit`` ...).
    unit, resolution, period, months, crime_types, group, groups, harm_index, asb_weight_days, zero_fill, zero_fill_k
        How the cube is built (see :func:`geo_csp.cube.build_cube`).
    study_area, units
        As :func:`geo_csp.cube.build_cube`.
    partial_periods
        ``"drop"`` (default): quarters or years the data cover only in part are left out, and the
        metadata's ``warnings`` name them; ``"keep"``: kept, and every period's value is analysed per
        month of data (:func:`geo_csp.cube.whole_periods`).
    sources, exclude_proactive
        What is counted (:func:`geo_csp.sources.resolve_sources`): default police.uk street records
        only; name sources (or ``["all"]``) to count stop and search or partner records too. A mixed
        run says so in ``metadata["counted"]``. ``exclude_proactive`` leaves out police.uk Drugs and
        Possession of weapons.
    public_space
        A public-space view for patrol planning: leave out violence whose location label places it in
        a dwelling (:func:`geo_csp.sources.dwelling_violence`; police.uk labels never do, partner
        labels may). ``metadata["public_space"]`` says how many rows went. In-memory incidents only.
    measure
        Value analysed: ``"count"``, ``"harm"`` (summed harm weights), ``"rate"`` (per 1,000
        residents; wards/LSOAs with a population only) or ``"rate_eb"`` (those rates Empirical-Bayes
        smoothed each period, :func:`geo_csp.cube.empirical_bayes_rates_per_1000`, so small
        populations do not lead).
    wards
        Ward polygons (``ward_code``, ``ward_name``) for each unit's ward and the fallback area names;
        default the units themselves for ``unit="ward"``, else Bury's shipped wards when the located
        incidents (in the study area) lie mostly in Bury
        (:func:`geo_csp.boundaries.mostly_in_shipped_borough`), else none: units get no ward and
        areas are named by street alone. ``metadata["wards"]`` says which.
    named_places
        Named-place polygons (``name``) that name areas first (e.g. :func:`boundaries.load_named_places`).
    previous_areas
        Areas of an earlier run: matching ones keep their ids (:func:`geo_csp.areas.match_areas`).
    area_classes
        Classes merged into areas (default :data:`geo_csp.areas.AREA_CLASSES`).
    area_params
        How hot units become named areas (default ``AreaParams()``: hot in at least 3 periods, see
        :class:`geo_csp.areas.AreaParams`; at most every period when there are fewer, with a
        warning); written into the metadata.
    params
        Statistics parameters (default ``HotspotParams()``).
    weights
        Spatial weights: ``"auto"`` (H3 k-ring for cells, queen contiguity for wards/LSOAs),
        ``"h3"``, ``"queen"`` or ``"distance"`` (unit centroids within ``distance_m``; any unit kind).
        The kind used, the distance and the islands (units without a neighbour) go in the metadata.
    distance_m
        Distance band radius in metres; required by, and only allowed with, ``weights="distance"``.
    backend
        ``"memory"`` (default for a DataFrame) or ``"dask"``: the cube is aggregated on Dask
        (:func:`geo_csp.cube.build_cube_dask`, H3 units only), and so is the check for Bury's
        default wards; the statistics and areas then run here on the cube, as in memory. The
        result is the same: same cube, z, p, classes and areas (harm sums equal to rounding).
        ``metadata["backend"]`` says which ran.
    client
        With the Dask backend: a ``distributed.Client`` (:func:`geo_csp.cluster.dask_client`);
        default the active client, else Dask's local scheduler.

    Returns
    -------
    HotspotResult
    """
    params = hotspots.HotspotParams() if params is None else params
    cube_params = cube_mod.CubeParams.given(cube_params)
    if backend not in BACKENDS:
        raise ParameterError(f"`backend` must be one of {BACKENDS}, not {backend!r}")
    backend = _backend_for(incidents, backend)
    weights_kind = resolve_weights(cube_params.unit, weights, distance_m)
    counted = sources_mod.select_sources(
        incidents, cube_params.sources, exclude_proactive=cube_params.exclude_proactive, group=cube_params.group
    )
    incidents, private = _public_space_view(incidents, public_space=cube_params.public_space)
    counts = _counted_params(cube_params, counted)
    # build_cube and _islands are called here: their warnings name the line that called run_hotspots
    cube = cube_mod.build_cube(incidents, counts, units=units, study_area=study_area, backend=backend, client=client)
    w = unit_weights(cube.units, unit=cube_params.unit, k=params.k, weights=weights_kind, distance_m=distance_m)
    island_info = _islands(w, cube.units.index, kind=weights_kind, distance_m=distance_m)
    analysed = _analyse(cube, w, cube_params=cube_params, params=params, area_params=area_params)
    wards, wards_source, ward_code, ward_name = _unit_wards(
        cube.units, wards, unit=cube_params.unit, incidents=incidents, cube=cube, study_area=study_area, client=client
    )
    unit_frame = _unit_frame(cube, analysed.analysis, unit=cube_params.unit, ward_code=ward_code, ward_name=ward_name)
    named = _named_areas(
        unit_frame,
        w,
        cube=cube,
        analysed=analysed,
        incidents=incidents,
        client=client,
        named_places=named_places,
        wards=wards,
        previous_areas=previous_areas,
        area_classes=area_classes,
    )
    unit_frame[schema.AREA_ID] = named.unit_area
    metadata: dict[str, Any] = {
        "software": "geo-csp",
        "version": geo_csp.__version__,
        **{k: v for k, v in cube.params.items()},
        "group": cube_params.group,
        "counted": counted.to_dict(),
        "public_space": _public_space_metadata(private),
        "backend": backend,
        "measure": cube_params.measure,
        "cube_params": cube_params.to_dict(),
        "period_labels": [str(p) for p in cube.period_labels],
        **analysed.analysis.metadata(),
        **_area_metadata(named, analysed, area_classes=area_classes),
        "wards": wards_source,
        **_weights_metadata(weights_kind, requested=weights, distance_m=distance_m, islands=island_info),
        **_rate_metadata(cube.params["months"]),
        **_scope_metadata(cube, cube_params, given_units=units is not None),
        "harm": harm.harm_info(cube_params.harm_index, asb_weight_days=cube_params.asb_weight_days),
        "warnings": list(analysed.warnings),
    }
    return HotspotResult(
        units=unit_frame,
        areas=named.areas,
        cube=cube,
        analysis=analysed.analysis,
        metadata=metadata,
        area_changes=named.changes,
    )
