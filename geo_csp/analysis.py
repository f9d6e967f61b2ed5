"""The hotspot pipeline every caller uses: cube -> weights -> Gi*/trend/classes -> named areas.

:func:`run_hotspots` ties :mod:`geo_csp.cube` (counts by unit x period) to the statistics of
:mod:`geo_csp.hotspots` and merges the significant units into named areas (:mod:`geo_csp.areas`).
Its result carries one row per unit with fixed columns, the areas, the cube, the full Gi* arrays and
a metadata dict holding every parameter, which the CLI and the app write into every output file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

import geo_csp
from geo_csp import areas as areas_mod
from geo_csp import boundaries, cube as cube_mod, harm, hotspots, periods, schema, weights
from geo_csp._errors import ParameterError
from geo_csp.settings import WORKING_CRS

__all__ = ["HotspotResult", "UNIT_COLUMNS", "run_hotspots", "unit_weights"]

Measure = Literal["count", "harm", "rate"]
MEASURES = ("count", "harm", "rate")
#: Columns of :attr:`HotspotResult.units`, in order (then geometry). ``ward_code``, ``population``
#: and ``rate_per_1000`` are null where unknown (e.g. population of H3 cells).
UNIT_COLUMNS = (
    schema.UNIT_ID, schema.N, schema.HARM, schema.GI_Z, schema.GI_P, schema.MK_S, schema.MK_TAU, schema.MK_Z,
    schema.MK_P, schema.PATTERN, schema.CATEGORY, hotspots.N_HOT_PERIODS, hotspots.N_COLD_PERIODS, schema.AREA_ID,
    schema.WARD_CODE, schema.WARD_NAME, schema.POPULATION, schema.RATE_PER_1000, schema.EXPLANATION,
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


def unit_weights(units: gpd.GeoDataFrame, *, unit: str, k: int = 1) -> sparse.csr_matrix:
    """The spatial weights for a unit kind: H3 k-ring for cells, queen contiguity for polygons."""
    if unit == "h3":
        return weights.h3_weights(units.index.to_numpy(dtype=object), k=k)
    return weights.queen_weights(units.geometry)


def _ward_of_cells(units: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Ward code and name of each unit's centroid (``None`` outside every ward)."""
    none = np.full(len(units), None, dtype=object)
    if wards is None or len(wards) == 0:
        return none, none
    c = shapely.centroid(units.geometry.to_numpy())
    codes = boundaries.assign_to_polygons(shapely.get_x(c), shapely.get_y(c), wards, code_col=schema.WARD_CODE)
    names = pd.Series(codes, dtype=object).map(wards.set_index(schema.WARD_CODE)[schema.WARD_NAME]).to_numpy(dtype=object)
    return codes, names


def _default_wards(month_list: list[str], area: shapely.Geometry | None) -> gpd.GeoDataFrame | None:
    """Bury's shipped wards of the data's era, when they overlap the study area."""
    wards = boundaries.load_wards(year=2017 if month_list[-1] < "2022-01" else 2022)
    if area is None or not wards.geometry.intersects(area).any():
        return None
    return wards


def run_hotspots(
    incidents: pd.DataFrame,
    *,
    unit: cube_mod.UnitKind = "h3",
    resolution: int | None = None,
    period: periods.PeriodKind = "month",
    months: tuple[str, str] | None = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    groups: Mapping[str, Iterable[str]] | None = None,
    sources: Iterable[str] | None = None,
    measure: Measure = "count",
    harm_index: harm.HarmIndex = "cchi",
    asb_weight_days: float = harm.DEFAULT_ASB_WEIGHT,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    units: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    named_places: gpd.GeoDataFrame | None = None,
    previous_areas: gpd.GeoDataFrame | None = None,
    area_classes: Iterable[str] | None = None,
    params: hotspots.HotspotParams | None = None,
) -> HotspotResult:
    """Classify every unit of the study area and merge hot units into named, stably numbered areas.

    Parameters
    ----------
    incidents
        Incident table with the store schema (not modified).
    unit, resolution, period, months, crime_types, group, groups, sources, harm_index, asb_weight_days, study_area, units
        How the cube is built (see :func:`geo_csp.cube.build_cube`).
    measure
        Value analysed: ``"count"``, ``"harm"`` (summed harm weights) or ``"rate"`` (per 1,000
        residents; wards/LSOAs with a population only).
    wards
        Ward polygons (``ward_code``, ``ward_name``) for each unit's ward and the fallback area names;
        default Bury's shipped wards when they overlap the study area, or the units themselves for
        ``unit="ward"``.
    named_places
        Named-place polygons (``name``) that name areas first (e.g. :func:`boundaries.load_named_places`).
    previous_areas
        Areas of an earlier run: matching ones keep their ids (:func:`geo_csp.areas.match_areas`).
    area_classes
        Classes merged into areas (default every hot class of both schemes).
    params
        Statistics parameters (default ``HotspotParams()``).

    Returns
    -------
    HotspotResult
    """
    params = hotspots.HotspotParams() if params is None else params
    if measure not in MEASURES:
        raise ParameterError(f"`measure` must be one of {MEASURES}, not {measure!r}")
    cube = cube_mod.build_cube(
        incidents, unit=unit, units=units, resolution=resolution, period=period, months=months,
        study_area=study_area, crime_types=crime_types, group=group, groups=groups, sources=sources,
        harm_index=harm_index, asb_weight_days=asb_weight_days,
    )
    w = unit_weights(cube.units, unit=unit, k=params.k)
    values = {"count": cube.n, "harm": cube.harm}.get(measure)
    if measure == "rate":
        values = cube.rates()
    analysis = hotspots.analyse_cube(values, w, params=params, period_name=period)

    totals = cube.totals()
    geo = cube.units
    if unit == "ward":
        ward_code, ward_name = geo[schema.WARD_CODE].to_numpy(dtype=object), geo[schema.WARD_NAME].to_numpy(dtype=object)
        wards = geo if wards is None else wards
    else:
        if wards is None:
            area_geom = None if study_area is None else cube_mod.study_geometry(study_area)
            wards = _default_wards(cube.params["months"], area_geom if area_geom is not None else shapely.union_all(geo.geometry.to_numpy()))
        ward_code, ward_name = _ward_of_cells(geo, wards)
        if unit == "lsoa" and schema.WARD_CODE in geo.columns:
            ward_code = np.where(pd.isna(geo[schema.WARD_CODE].to_numpy(dtype=object)), ward_code, geo[schema.WARD_CODE].to_numpy(dtype=object))
    population = cube.population.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(population > 0, totals[schema.N].to_numpy() * 1000.0 / population, np.nan)

    stats = analysis.units.set_axis(geo.index)
    table = pd.DataFrame(
        {
            schema.UNIT_ID: geo.index.to_numpy(dtype=object),
            schema.N: totals[schema.N].to_numpy(),
            schema.HARM: totals[schema.HARM].to_numpy(),
        },
        index=geo.index,
    )
    table = table.join(stats[[c for c in stats.columns if c != schema.EXPLANATION]])
    table[schema.AREA_ID] = None
    table[schema.WARD_CODE] = ward_code
    table[schema.WARD_NAME] = ward_name
    table[schema.POPULATION] = population
    table[schema.RATE_PER_1000] = rate
    table[schema.EXPLANATION] = stats[schema.EXPLANATION].to_numpy(dtype=object)
    unit_frame = gpd.GeoDataFrame(table[list(UNIT_COLUMNS)], geometry=geo.geometry.to_numpy(), crs=WORKING_CRS)
    unit_frame.index = pd.Index(geo.index.to_numpy(dtype=object), name=None)

    area_frame, unit_area = areas_mod.hotspot_areas(
        unit_frame, w, selected=areas_mod.select_units(unit_frame, classes=area_classes), locations=cube.locations,
        named_places=named_places, wards=wards, total_n=float(totals[schema.N].sum()),
        total_harm=float(totals[schema.HARM].sum()), study_area_m2=cube.params["study_area_km2"] * 1e6,
    )
    area_frame, changes = areas_mod.match_areas(area_frame, previous_areas)
    fresh_ids = np.asarray(area_frame[schema.AREA_ID].to_numpy(dtype=object))
    if len(area_frame):
        original = areas_mod.area_ids(np.arange(1, len(area_frame) + 1))
        # hotspot_areas numbered areas 1..n in row order; map those to the matched ids
        unit_area = areas_mod.relabel_units(unit_area, original, fresh_ids)
    unit_frame[schema.AREA_ID] = unit_area

    metadata: dict[str, Any] = {
        "software": "geo-csp",
        "version": geo_csp.__version__,
        **{k: v for k, v in cube.params.items()},
        "measure": measure,
        "period_labels": [str(p) for p in cube.period_labels],
        **analysis.metadata(),
        "area_classes": list(area_classes) if area_classes is not None else list(areas_mod.HOT_CLASSES),
        "n_areas": int(len(area_frame)),
        "area_changes": changes,
        "wards": "given" if wards is not None else None,
        "rate_per_1000": f"incidents over {cube.params['months'][0]}..{cube.params['months'][1]} per 1,000 residents",
    }
    return HotspotResult(units=unit_frame, areas=area_frame, cube=cube, analysis=analysis, metadata=metadata,
                         area_changes=changes)
