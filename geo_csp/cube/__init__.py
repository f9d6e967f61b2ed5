"""The space-time cube: incident counts and harm by spatial unit x period, zero-filled.

A :class:`Cube` holds dense ``(n_units, n_periods)`` arrays of counts and harm for every unit of the
study area and every period from the first to the last month of the data (or of ``months``), so a
unit or a period with no crime is a row or column of zeros rather than missing. Units are H3 cells
(overlapping the study area), wards or LSOAs. Only *located* incidents inside the study area are
counted: unlocated ones have no place on a map.

**Study area without a boundary.** Ward/LSOA cubes cover the union of their units. An H3 cube
given no ``study_area`` takes the *extent of the data* (:func:`data_extent`): the convex hull of the
located incidents out to the first wide empty ring beyond the 90% quantile of their distances from
the median point that leaves at most 5% of them out (at most 3 x that quantile). police.uk files hold a few points geocoded far from
the force (Lancashire and GMP files with points in Birmingham and London); the plain hull of every
point would span half of England and force a coarse H3 resolution. The points left out are outside
the study area, exactly as points outside a given boundary are: they are not counted, and their
number is reported (``params["n_outside_extent"]``, ``"extent_radius_m"`` and ``"extent_rule"``,
present when a point was left out, and a warning saying to pass ``study_area`` to include them).
Measured on the real files: GMP stop-and-search June 2019 leaves out 24 of 897 points (190-309 km
from the rest, none in Greater Manchester) and covers 1,123 km2 at resolution 8 (the hull of all
points: 33,504 km2, resolution 7); Lancashire street 2018-19 leaves out 50 of 58,938
(73-403 km away) and covers 6,392 km2 (all points: 113,878 km2); Cumbria 20 of 18,307; GMP
burglary 2016-19 (92,666 points), Bury burglary and Lancashire ASB 2022 none.

**Default wards and LSOAs.** Without ``units``, ward and LSOA cubes use Bury's shipped polygons only
when the data (within ``study_area`` if given) lies mostly in Bury
(:func:`geo_csp.boundaries.mostly_in_shipped_borough`); otherwise they raise an error asking for
the units.

Aggregation is one ``np.bincount`` over ``unit * n_periods + period`` codes; no loop over rows,
units or periods.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import boundaries, grid, harm, periods, qualifiers, schema
from geo_csp._errors import CRSError, DenominatorError, ParameterError, SchemaError
from geo_csp import settings
from geo_csp.settings import WORKING_CRS

__all__ = [
    "EXTENT_FACTOR",
    "EXTENT_GAP_SHARE",
    "EXTENT_MAX_SHARE_OUT",
    "EXTENT_MIN_GAP_M",
    "EXTENT_MIN_RADIUS_M",
    "EXTENT_QUANTILE",
    "CUBE_PARAM_NAMES",
    "Cube",
    "CubeParams",
    "MEASURES",
    "UNIT_KINDS",
    "aggregate_h3",
    "build_cube",
    "choices_to_params",
    "clip_to_study_area",
    "data_extent",
    "empirical_bayes_rates_per_1000",
    "extent_report",
    "filter_mask",
    "rates_per_1000",
    "study_geometry",
    "text_tuple",
    "CUBE_COLUMNS",
    "ON_OR_NEAR",
    "ZERO_FILLS",
    "build_cube_dask",
    "check_zero_fill",
    "located_points_dask",
    "PARTIAL_PERIODS",
    "whole_periods",
]

UnitKind = Literal["h3", "ward", "lsoa"]
UNIT_KINDS = ("h3", "ward", "lsoa")
Measure = Literal["count", "harm", "rate", "rate_eb"]
#: What an analysis tests per unit and period: counts, summed harm, rates per 1,000 residents, or those
#: rates Empirical-Bayes smoothed.
MEASURES: tuple[Measure, ...] = ("count", "harm", "rate", "rate_eb")
ZeroFill = Literal["study_area", "neighbours"]
#: Values of ``zero_fill``: every H3 cell of the study area, or the occupied cells and their rings.
ZERO_FILLS: tuple[ZeroFill, ...] = ("study_area", "neighbours")
#: The "On or near" that police.uk puts before a snap point's street name.
ON_OR_NEAR = r"^\s*On or near\b\s*"
#: Columns the cube needs from the store.
CUBE_COLUMNS = (schema.MONTH, schema.CRIME_TYPE, schema.EASTING, schema.NORTHING, schema.LOCATED)
#: The Dask builders (in :mod:`geo_csp.cube._dask`), imported when first used: dask is optional.
_DASK_NAMES = ("build_cube_dask", "located_points_dask")
PartialPeriods = Literal["drop", "keep"]
#: Values of ``partial_periods``: drop quarters/years the data cover only in part, or keep them.
PARTIAL_PERIODS: tuple[PartialPeriods, ...] = ("drop", "keep")
#: The data's extent keeps points within EXTENT_FACTOR x this quantile of the distances from the median point.
EXTENT_QUANTILE: Final = 0.9
#: 3 x the 90th percentile: a Gaussian cloud's 90th-percentile distance is 2.15 sigma, so the cut is at
#: 6.4 sigma (a chance of 1e-9 for a genuine point); a force's own points reach at most 1.5 x it on the
#: real files, while misplaced ones sit 3-10 x beyond (see the module docstring).
EXTENT_FACTOR: Final = 3.0
#: The extent ends at the first empty ring beyond the quantile at least this wide (metres) ...
EXTENT_MIN_GAP_M: Final = 5_000.0
#: ... and at least this share of the quantile distance wide (a large rural force has wider gaps).
EXTENT_GAP_SHARE: Final = 0.25
#: ... and leaves at most this share of the points out (more is a second area's data, not misplaced points).
EXTENT_MAX_SHARE_OUT: Final = 0.05
#: Floor of the extent's radius, so that data on a handful of streets keeps the next street.
EXTENT_MIN_RADIUS_M: Final = 1_000.0


@dataclass(frozen=True)
class Cube:
    """Counts and harm by unit x period.

    Attributes
    ----------
    units
        One row per unit, indexed by ``unit_id`` (H3 id, ward code or LSOA code), EPSG:27700
        geometry; wards and LSOAs carry their name, ``population`` and (LSOAs, H3 cells) ``ward_code``
        where known.
    period_keys, period_labels
        Sortable integer keys and report labels ("Q1 Apr-Jun 2022") of the periods, in order.
    n, harm
        ``(n_units, n_periods)`` float64 arrays: incident counts and summed harm weights.
    params
        How the cube was built (unit, resolution, period, filters, harm index, ASB weight, ...).
    locations
        Long table ``unit_id, location, n``: incidents per police.uk street description (without
        "On or near ") per unit, used to name hotspot areas.
    """

    units: gpd.GeoDataFrame
    period_keys: np.ndarray
    period_labels: np.ndarray
    n: np.ndarray
    harm: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    locations: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[schema.UNIT_ID, "location", schema.N])
    )

    def __post_init__(self) -> None:
        shape = (len(self.units), len(self.period_keys))
        for name in ("n", "harm"):
            arr = getattr(self, name)
            if arr.shape != shape:
                raise SchemaError(f"cube `{name}` has shape {arr.shape}, expected (units, periods) = {shape}")
        if len(self.period_labels) != shape[1]:
            raise SchemaError("cube period labels and keys differ in length")
        if self.units.index.has_duplicates:
            raise SchemaError(f"cube units repeat: {self.units.index[self.units.index.duplicated()][:3].tolist()}")

    @property
    def unit_ids(self) -> pd.Index:
        """The unit ids, in row order."""
        return self.units.index

    @property
    def population(self) -> pd.Series:
        """Residents per unit (NaN where unknown, e.g. for H3 cells)."""
        if schema.POPULATION in self.units.columns:
            return self.units[schema.POPULATION].astype("float64")
        return pd.Series(np.nan, index=self.units.index, name=schema.POPULATION)

    def totals(self) -> pd.DataFrame:
        """Per-unit totals over all periods: ``n``, ``harm`` (indexed by ``unit_id``)."""
        return pd.DataFrame({schema.N: self.n.sum(axis=1), schema.HARM: self.harm.sum(axis=1)}, index=self.units.index)

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per unit x period with ``unit_id, period, n, harm`` (plus population)."""
        n_units, n_periods = self.n.shape
        frame = pd.DataFrame(
            {
                schema.UNIT_ID: np.repeat(self.units.index.to_numpy(dtype=object), n_periods),
                schema.PERIOD: np.tile(self.period_labels.astype(object), n_units),
                schema.N: self.n.ravel().astype("float64"),
                schema.HARM: self.harm.ravel().astype("float64"),
            }
        )
        if schema.POPULATION in self.units.columns:
            frame[schema.POPULATION] = np.repeat(self.population.to_numpy(), n_periods)
        return frame

    def rates(
        self, *, measure: Literal["n", "harm"] = "n", smoothing: Literal["none", "empirical_bayes"] = "none"
    ) -> np.ndarray:
        """Count (or harm) per 1,000 residents, ``(n_units, n_periods)``; see :func:`rates_per_1000`, or
        Empirical-Bayes smoothed with ``smoothing="empirical_bayes"`` (:func:`empirical_bayes_rates_per_1000`)."""
        if smoothing == "empirical_bayes":
            return empirical_bayes_rates_per_1000(getattr(self, measure), self.population)
        return rates_per_1000(getattr(self, measure), self.population)


def rates_per_1000(values: np.ndarray, population: pd.Series) -> np.ndarray:
    """``values`` per 1,000 residents, row by row.

    Raises
    ------
    DenominatorError
        Naming the units (index of ``population``) with a missing or non-positive population.
    """
    pop = population.to_numpy(dtype="float64")
    bad = ~np.isfinite(pop) | (pop <= 0)
    if bad.any():
        names = population.index[bad][:5].tolist()
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise DenominatorError(
            f"no population for unit(s) {names}{more}: rates per 1,000 need residents for every unit; "
            "use wards or LSOAs with a population column (H3 cells have none), or supply a population file"
        )
    values = np.asarray(values, dtype="float64")
    rates: np.ndarray = values * 1000.0 / (pop[:, None] if values.ndim == 2 else pop)
    return rates


def empirical_bayes_rates_per_1000(values: np.ndarray, population: pd.Series) -> np.ndarray:
    """Empirical-Bayes smoothed rates per 1,000 residents, each period (column) on its own.

    Marshall's (1991) global estimator, as ``esda.smoothing.Empirical_Bayes``: with the period's
    pooled rate m = sum e / sum b, the between-unit variance
    v = sum b (e/b - m)^2 / sum b - m / mean(b) (floored at 0, where esda would weight negatively),
    each unit's rate moves towards m by the weight v / (v + m / b): a ward of few residents and a
    handful of crimes is pulled in most, so a rate ranking is not led by small denominators.

    Raises
    ------
    DenominatorError
        As :func:`rates_per_1000`, for a missing or non-positive population.
    """
    raw = rates_per_1000(values, population) / 1000.0  # checks the population
    e = np.asarray(values, dtype="float64").reshape(raw.shape[0], -1)
    raw = raw.reshape(e.shape)
    b = population.to_numpy(dtype="float64")[:, None]
    m = e.sum(axis=0, keepdims=True) / b.sum()
    v = np.maximum((b * (raw - m) ** 2).sum(axis=0, keepdims=True) / b.sum() - m / b.mean(), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(v + m / b > 0, v / (v + m / b), 0.0)
    out = (weight * raw + (1.0 - weight) * m) * 1000.0
    shrunk: np.ndarray = out.reshape(np.shape(values))
    return shrunk


def study_geometry(study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None) -> shapely.Geometry | None:
    """The study area as one shapely geometry in EPSG:27700 (``None`` stays ``None``)."""
    return None if study_area is None else grid.as_geometry(study_area)


def extent_report(n_located: int, left_out: int, radius: float, *, stacklevel: int = 2) -> dict[str, Any]:
    """Parameters describing points left outside the data's extent (:func:`data_extent`), and a warning.

    Empty when nothing was left out, so a clean data set's parameters are unchanged.
    """
    if not left_out:
        return {}
    warnings.warn(
        f"{left_out} of {n_located} located incidents lie more than {radius / 1000:.1f} km from the "
        "middle of the data (geocoded far from the rest) and are outside the study area taken from the data's "
        "extent, so they are not counted; pass `study_area` (`--boundary FILE` on the command line) to "
        "include them",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    return {
        "n_outside_extent": left_out,
        "extent_radius_m": radius,
        "extent_rule": (
            f"convex hull of the located incidents up to the first empty ring at least "
            f"{EXTENT_MIN_GAP_M / 1000:g} km (or {EXTENT_GAP_SHARE:.0%} of the {EXTENT_QUANTILE:.0%} "
            f"quantile distance) wide beyond that quantile of their distances from the median "
            f"point leaving at most {EXTENT_MAX_SHARE_OUT:.0%} out, at most {EXTENT_FACTOR:g} x that "
            f"quantile, at least {EXTENT_MIN_RADIUS_M / 1000:g} km: {radius / 1000:.1f} km"
        ),
    }


def data_extent(
    easting: np.ndarray,
    northing: np.ndarray,
    *,
    quantile: float = EXTENT_QUANTILE,
    factor: float = EXTENT_FACTOR,
    min_gap_m: float = EXTENT_MIN_GAP_M,
    gap_share: float = EXTENT_GAP_SHARE,
    max_share_out: float = EXTENT_MAX_SHARE_OUT,
    min_radius_m: float = EXTENT_MIN_RADIUS_M,
) -> tuple[shapely.Geometry, np.ndarray, float]:
    """The extent of the data: the convex hull of the points near the bulk of them.

    With ``d`` the distances from the median point (coordinate-wise median, robust to a few
    misplaced points) and ``q`` their ``quantile``, points are kept out to a radius of

    - the start of the first empty ring wider than ``max(min_gap_m, gap_share x q)`` that lies
      wholly beyond ``q`` and leaves at most ``max_share_out`` of the points outside (the gap
      between the force's own points and the few geocoded elsewhere; a second force's data, a
      larger share, is kept),
    - but at most ``factor x q`` (for a tail thinning out without a clear gap),
    - and at least ``min_radius_m``.

    Parameters
    ----------
    easting, northing
        Point coordinates in EPSG:27700 metres (NaN points are ignored and never kept).
    quantile, factor, min_gap_m, gap_share, max_share_out, min_radius_m
        The rule above.

    Returns
    -------
    (shapely.Geometry, numpy.ndarray, float)
        The hull (a polygon; a line or point for degenerate data), a boolean mask of the points
        inside the extent, and the radius in metres.
    """
    if (
        not 0 < quantile <= 1
        or not factor >= 1
        or not min_radius_m >= 0
        or not min_gap_m > 0
        or not gap_share >= 0
        or not 0 <= max_share_out < 1
    ):
        raise ParameterError(
            "`quantile` must be in (0, 1], `factor` >= 1, `min_gap_m` > 0, `gap_share` >= 0, `max_share_out` in [0, 1) "
            f"and `min_radius_m` >= 0; got {quantile!r}, {factor!r}, {min_gap_m!r}, {gap_share!r}, {max_share_out!r}, "
            f"{min_radius_m!r}"
        )
    x = np.asarray(easting, dtype="float64")
    y = np.asarray(northing, dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ParameterError("no located incident to take the data's extent from; pass `study_area`")
    dist = np.hypot(x - np.median(x[ok]), y - np.median(y[ok]))
    ordered = np.sort(dist[ok])
    q = float(np.quantile(ordered, quantile))
    start = max(q, float(np.quantile(ordered, 1.0 - max_share_out)))
    gap = np.flatnonzero((ordered[:-1] >= start) & (np.diff(ordered) > max(min_gap_m, gap_share * q)))
    radius = float(ordered[gap[0]] if gap.size else ordered[-1])
    radius = max(min(radius, factor * q), float(min_radius_m))
    keep = ok & (dist <= radius)
    del dist, ordered
    # the hull of the distinct points (police.uk snap points repeat): one geometry per place, not per incident
    ux, uy, _ = grid.unique_points(x[keep], y[keep])
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([ux, uy])))
    return hull, keep, radius


def check_zero_fill(zero_fill: str, zero_fill_k: int) -> None:
    """Refuse a zero-fill rule other than :data:`ZERO_FILLS` or a ring count that is not an integer >= 0."""
    if zero_fill not in ZERO_FILLS:
        raise ParameterError(f"`zero_fill` must be one of {ZERO_FILLS}, not {zero_fill!r}")
    if isinstance(zero_fill_k, bool) or not isinstance(zero_fill_k, (int, np.integer)) or zero_fill_k < 0:
        raise ParameterError(f"`zero_fill_k` must be an integer >= 0 (H3 rings); got {zero_fill_k!r}")


def _check_incidents(incidents: pd.DataFrame) -> None:
    need = [schema.MONTH, schema.CRIME_TYPE, schema.EASTING, schema.NORTHING, schema.LOCATED]
    missing = [c for c in need if c not in incidents.columns]
    if missing:
        raise SchemaError(
            f"incidents lack column(s) {missing}; read them with geo_csp.store.read_incidents "
            f"(columns {list(schema.INCIDENT_COLUMNS)})"
        )


def clip_to_study_area(incidents: pd.DataFrame, study_area: shapely.Geometry | None) -> np.ndarray:
    """Boolean mask of located incidents inside the study area (each distinct point tested once)."""
    located = incidents[schema.LOCATED].to_numpy(dtype=bool)
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    mask: np.ndarray = located & np.isfinite(x) & np.isfinite(y)
    if study_area is None or not mask.any():
        return mask
    ux, uy, inverse = grid.unique_points(x[mask], y[mask])
    shapely.prepare(study_area)
    inside = shapely.intersects_xy(study_area, ux, uy)
    out = np.zeros(len(incidents), dtype=bool)
    out[np.flatnonzero(mask)] = inside[inverse]
    return out


def filter_mask(
    incidents: pd.DataFrame,
    *,
    crime_types: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    group: str | None = None,
) -> np.ndarray:
    """Boolean mask of incidents of the given categories and sources (``None``: no filter), and of a flag
    group's flagged records (``group="domestic"``, :func:`geo_csp.qualifiers.qualified_group`; a group of
    categories is resolved to ``crime_types`` by the caller)."""
    keep = np.ones(len(incidents), dtype=bool)
    flagged = qualifiers.qualified_group(group)
    if flagged is not None:
        keep &= qualifiers.group_mask(incidents, flagged)
    if crime_types is not None:
        keep &= incidents[schema.CRIME_TYPE].isin(list(crime_types)).to_numpy()
    if sources is not None:
        if schema.SOURCE not in incidents.columns:
            raise SchemaError("incidents have no `source` column to filter `sources` on")
        keep &= incidents[schema.SOURCE].isin(list(sources)).to_numpy()
    return keep


def _default_units(
    kind: UnitKind, months: np.ndarray, incidents: pd.DataFrame, area: shapely.Geometry | None
) -> gpd.GeoDataFrame:
    """Bury's shipped wards/LSOAs of the data's era, when the data (in ``area``) lies mostly in Bury."""
    inside = clip_to_study_area(incidents, area)
    x = incidents[schema.EASTING].to_numpy(dtype="float64")[inside]
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")[inside]
    if not inside.any() and area is not None:  # no data: judge the study area itself
        point = shapely.point_on_surface(area)
        x, y = np.array([shapely.get_x(point)]), np.array([shapely.get_y(point)])
    if not boundaries.mostly_in_shipped_borough(x, y):
        where = "in the study area " if area is not None else ""
        raise ParameterError(
            f"unit={kind!r} without `units`: the only {kind} polygons shipped with geo-csp are Bury's, and the "
            f"located incidents {where}lie mostly outside Bury; pass `units=` (a GeoDataFrame with a "
            f"{schema.WARD_CODE if kind == 'ward' else schema.LSOA_CODE!r} column; `--boundary FILE` on the command "
            "line), e.g. from geo_csp.boundaries.read_boundary, or use unit='h3'"
        )
    if kind == "ward":
        return boundaries.load_wards(year=2017 if months.size and str(max(months[-1:])) < "2022-01" else 2022)
    return boundaries.load_lsoas(era=boundaries.lsoa_era_for_months(months))


def _polygon_units(units: gpd.GeoDataFrame, kind: UnitKind, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    code = schema.WARD_CODE if kind == "ward" else schema.LSOA_CODE
    if units.crs is None or units.crs != WORKING_CRS:
        raise CRSError(f"`units` are {units.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
    if code not in units.columns:
        raise SchemaError(f"{kind} units need a {code!r} column; they have {list(units.columns)}")
    out = units.set_index(code, drop=False).rename_axis(schema.UNIT_ID)
    if area is not None:
        out = out[out.geometry.intersects(area).to_numpy()]
    return out


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code of each row among the column's distinct values (-1 where missing) and those values (object).

    Categorical columns (``store.read_incidents(..., categorical=True)``) cost nothing here; text
    columns are hashed once. Everything after works on the few distinct values.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):  # its own small codes (int8 for a few values), no copy of text
        column = column.cat.remove_unused_categories()
        return column.cat.codes.to_numpy(), np.asarray(column.cat.categories, dtype=object)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _coordinates(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing as float64 arrays, NaN where missing (float64 columns without a copy)."""
    easting, northing = (
        incidents[c].to_numpy()
        if incidents[c].dtype == np.float64
        else incidents[c].to_numpy(dtype="float64", na_value=np.nan)
        for c in (schema.EASTING, schema.NORTHING)
    )
    return easting, northing


def _month_codes(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the rows' months and the distinct months, validated as "YYYY-MM" (first bad value named)."""
    codes, uniques = _codes(incidents[schema.MONTH])
    if (codes < 0).any():  # a missing month: validate_months names it
        periods.validate_months(np.append(uniques, np.array([None], dtype=object))[codes[codes < 0][:1]])
    return codes, periods.validate_months(uniques).astype(object)


def _in_values(codes: np.ndarray, uniques: np.ndarray, values: Iterable[str]) -> np.ndarray:
    """Per-row membership of ``uniques[codes]`` in ``values``, tested once per distinct value."""
    hit = np.append(pd.Index(uniques).isin(list(values)), False)  # code -1 (missing) reads False
    member: np.ndarray = hit[codes]
    return member


def _clean_locations(uniques: np.ndarray) -> np.ndarray:
    """police.uk street descriptions without "On or near ", stripped; missing or empty as None."""
    cleaned = pd.Series(uniques, dtype="string").str.replace(ON_OR_NEAR, "", regex=True).str.strip()
    usable = (cleaned.notna() & (cleaned != "")).to_numpy(dtype=bool)
    return np.where(usable, cleaned.to_numpy(dtype=object), np.array(None, dtype=object))


def _no_match_message(
    incidents: pd.DataFrame, types: tuple[str, ...] | None, group: str | None, sources: Iterable[str] | None
) -> str:
    """What was asked for and what the data holds, for the "no incidents match" error."""
    asked = []
    if types is not None:
        asked.append(f"crime types {list(types)}" + (f" (group {group!r})" if group is not None else ""))
    if sources is not None:
        asked.append(f"sources {list(sources)}")
    held = incidents[schema.CRIME_TYPE].value_counts(sort=True)
    holds = "crime types " + (", ".join(f"{k!r} ({v:,})" for k, v in held.items()) or "none (the table is empty)")
    if schema.SOURCE in incidents.columns:
        holds += "; sources " + ", ".join(f"{k!r} ({v:,})" for k, v in incidents[schema.SOURCE].value_counts().items())
    return (
        f"no incidents match {' and '.join(asked) or 'the filters'}: the data holds {holds}; choose crime types, "
        "a group or sources the data holds, or give `months` to build an empty cube"
    )


def _flagged_rows(
    incidents: pd.DataFrame, keep: np.ndarray, group: qualifiers.QualifiedGroup
) -> tuple[np.ndarray, dict[str, Any]]:
    """``keep`` narrowed to the rows a flag group counts, and what the cube's parameters say about it.

    Refused when no selected source records the group's qualifiers (police.uk records none): an empty
    map would read as "no domestic abuse", not "not recorded".
    """
    chosen = incidents.loc[keep, [c for c in (schema.SOURCE, schema.CRIME_TYPE, *group.columns) if c in incidents]]
    if schema.SOURCE in chosen.columns:
        recorded = bool(qualifiers.recording_sources(chosen, group))
        held = chosen[schema.SOURCE].astype(str).unique()
    else:
        recorded = all(c in chosen.columns and chosen[c].notna().any() for c in group.columns)
        held = np.array([], dtype=object)
    if not recorded:
        raise ParameterError(qualifiers.unrecorded_message(group, held))
    unknown = int((keep & qualifiers.unknown_mask(incidents, group)).sum()) if schema.SOURCE in chosen else None
    info = {"qualified_group": group.to_dict(), "qualified_unknown_records": unknown}
    return keep & qualifiers.group_mask(incidents, group), info


def _refuse_undated(
    incidents: pd.DataFrame, rows: np.ndarray, row_days: np.ndarray | None, *, period: str, has_dates: bool
) -> NoReturn:
    """Refuse a day period over rows without a day, naming how many there are per source."""
    missing_day = np.iinfo(np.int64).min
    days = row_days[rows] if row_days is not None else np.full(rows.size, missing_day)
    undated = days == missing_day
    if schema.SOURCE in incidents.columns and undated.any():
        held = incidents[schema.SOURCE].iloc[rows[undated]].value_counts()
        by_source = "; ".join(f"{k} {v:,}" for k, v in held.items())
    else:
        by_source = "no occurred_date column" if not has_dates else "no source column"
    raise ParameterError(
        f"period {period!r} needs the day of every incident, but {int(undated.sum()):,} of the {rows.size:,} "
        f"selected incidents have only a month ({by_source}): police.uk publishes months only and is never "
        "given a day; choose timed partner sources (--source NAME, a mapping with a date or datetime column) "
        "or a period of months (month, quarter, year)"
    )


def _resolve_period(
    incidents: pd.DataFrame,
    rows: np.ndarray,
    period: periods.PeriodKind | Literal["auto"],
    month_list: np.ndarray,
    window_given: bool,
) -> tuple[periods.PeriodKind, dict[str, Any]]:
    """The period kind (``"auto"`` resolved) and what the cube's parameters say about it.

    For day periods the returned dict also holds ``"_row_days"`` (every row's day since 1970-01-01,
    the minimum int64 where missing; popped by the caller) and ``"period_keys"`` (first and last key).
    Rows to count without a day are refused, naming their sources: police.uk is never given a day.
    """
    info: dict[str, Any] = {}
    has_dates = schema.OCCURRED_DATE in incidents.columns
    missing_day = np.iinfo(np.int64).min
    row_days = None
    if has_dates and (period == "auto" or periods.is_day_period(period)):
        dated = pd.to_datetime(incidents[schema.OCCURRED_DATE], errors="coerce")
        if getattr(dated.dt, "tz", None) is not None:
            dated = dated.dt.tz_localize(None)
        row_days = np.where(
            dated.isna().to_numpy(), missing_day, dated.to_numpy(dtype="datetime64[D]").astype(np.int64)
        )
    days = row_days[rows] if row_days is not None else None
    # the days of the rows to count when every one has a day, else None
    timed_days = days if days is not None and days.size > 0 and bool((days != missing_day).all()) else None
    kind: periods.PeriodKind
    if period == "auto":
        if timed_days is not None:
            first, last = (str(np.datetime64(int(d), "D")) for d in (timed_days.min(), timed_days.max()))
        else:
            first, last = str(month_list[0]), str(month_list[-1])
        kind, info["period_reason"] = periods.choose_period(first=first, last=last, timed=timed_days is not None)
        info["period_requested"] = "auto"
    else:
        kind = period
    if not periods.is_day_period(kind):
        return kind, info
    if timed_days is None:
        _refuse_undated(incidents, rows, row_days, period=kind, has_dates=has_dates)  # raises
    length = periods.PERIOD_DAYS[kind]
    anchor = int(periods.DAY_ANCHOR.astype(np.int64))
    if window_given:  # the first day of the first month to the last day of the last month
        d0 = int(np.datetime64(str(month_list[0]), "D").astype(np.int64))
        d1 = int((np.datetime64(str(month_list[-1]), "M") + 1).astype("datetime64[D]").astype(np.int64)) - 1
    else:
        d0, d1 = int(timed_days.min()), int(timed_days.max())
    k0, k1 = (d0 - anchor) // length, (d1 - anchor) // length
    partial = []
    if d0 > k0 * length + anchor:
        partial.append(str(periods.period_labels(np.array([k0]), period=kind)[0]))
    if d1 < (k1 + 1) * length + anchor - 1:
        partial.append(str(periods.period_labels(np.array([k1]), period=kind)[0]))
    info.update(
        {
            "dates": [str(np.datetime64(d0, "D")), str(np.datetime64(d1, "D"))],
            "period_rule": (
                f"{periods.period_word(kind)}s of {length} days, Monday to Sunday, counted from Monday "
                f"{periods.DAY_ANCHOR}; each incident by its recorded day (occurred_date)"
            ),
            "partial_periods": sorted(set(partial)),
            "period_keys": [int(k0), int(k1)],
            "_row_days": row_days,
        }
    )
    return kind, info


def text_tuple(value: Any) -> tuple[str, ...] | None:
    """``value`` as a tuple of strings (one string is one item); ``None`` stays ``None``."""
    if value is None:
        return None
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


@dataclass(frozen=True)
class CubeParams:
    """What a cube counts and how, as one frozen, hashable value that shells build once and pass on.

    Every field is validated here (iterables become tuples), so a bad choice is refused where it is
    made, with the field's name. :func:`build_cube`, :func:`build_cube_dask` and
    :func:`geo_csp.hotspot_run.run_hotspots` take it as ``cube_params`` (one value: a different choice is a
    different value, ``dataclasses.replace(params, unit="ward")``). :meth:`to_dict` is written into every hotspot run's metadata
    (``metadata["cube_params"]``), so an output says exactly what was counted.

    Attributes
    ----------
    unit
        ``"h3"`` cells, ``"ward"`` or ``"lsoa"`` polygons.
    resolution
        H3 resolution (0-15, 7-11 for hotspots); ``None`` chooses one from the study area's size.
    period
        ``"month"``, ``"quarter"`` or ``"year"`` (financial); ``"week"``, ``"fortnight"`` or ``"28day"``
        (timed records only); or ``"auto"`` (:func:`geo_csp.periods.choose_period`).
    months
        ``(first, last)`` "YYYY-MM" months counted; ``None``: every month of the data.
    crime_types, group, groups
        What is counted (:func:`geo_csp.harm.resolve_crime_types`): categories, a named crime group,
        and groups of one's own (name -> categories).
    sources
        Which ``source`` values are counted; ``None``: every source of the table given to a cube,
        police.uk street records for an analysis (:func:`geo_csp.sources.resolve_sources`).
    exclude_proactive
        An analysis leaves out police.uk Drugs and Possession of weapons (found by police activity).
    public_space
        An analysis leaves out violence whose location label places it in a dwelling
        (:func:`geo_csp.sources.dwelling_violence`).
    measure
        What an analysis tests (:data:`MEASURES`); the cube holds counts and harm either way.
    harm_index, asb_weight_days
        The harm weights (:func:`geo_csp.harm.harm_weights`).
    zero_fill, zero_fill_k
        Which empty H3 cells the cube holds (:data:`ZERO_FILLS`) and, for ``"neighbours"``, how many rings.
    partial_periods
        Quarters or financial years the months cover only in part: ``"drop"`` or ``"keep"``
        (:func:`whole_periods`).
    """

    unit: UnitKind = settings.DEFAULT_UNIT
    resolution: int | None = None
    period: periods.PeriodKind | Literal["auto"] = settings.DEFAULT_PERIOD
    months: tuple[str, str] | None = None
    crime_types: tuple[str, ...] | None = None
    group: str | None = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    sources: tuple[str, ...] | None = None
    exclude_proactive: bool = False
    public_space: bool = False
    measure: Measure = settings.DEFAULT_MEASURE
    harm_index: harm.HarmIndex = "cchi"
    asb_weight_days: float = harm.DEFAULT_ASB_WEIGHT
    zero_fill: ZeroFill = settings.DEFAULT_ZERO_FILL
    zero_fill_k: int = 1
    partial_periods: PartialPeriods = settings.DEFAULT_PARTIAL_PERIODS

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.unit not in UNIT_KINDS:
            raise ParameterError(f"`unit` must be one of {UNIT_KINDS}, not {self.unit!r}")
        if self.resolution is not None:
            put("resolution", grid.check_resolution(self.resolution))
        if self.period != "auto" and self.period not in periods.PERIOD_KINDS:
            raise ParameterError(f"`period` must be 'auto' or one of {periods.PERIOD_KINDS}, not {self.period!r}")
        if self.months is not None:
            months = tuple(str(m) for m in periods.validate_months(list(self.months), name="months"))
            if len(months) != 2:
                raise ParameterError(f"`months` must be (first, last) 'YYYY-MM' months; got {self.months!r}")
            put("months", months)
        put("crime_types", text_tuple(self.crime_types))
        put("sources", text_tuple(self.sources))
        if self.groups is not None:
            items = self.groups.items() if isinstance(self.groups, Mapping) else self.groups
            put("groups", tuple(sorted((str(k), text_tuple(v) or ()) for k, v in items)))
        put("exclude_proactive", bool(self.exclude_proactive))
        put("public_space", bool(self.public_space))
        if self.measure not in MEASURES:
            raise ParameterError(f"`measure` must be one of {MEASURES}, not {self.measure!r}")
        harm.harm_weights(self.harm_index, asb_weight_days=self.asb_weight_days)  # refuses a bad index or weight
        put("asb_weight_days", float(self.asb_weight_days))
        check_zero_fill(self.zero_fill, self.zero_fill_k)
        put("zero_fill_k", int(self.zero_fill_k))
        _check_partial(self.partial_periods)

    @classmethod
    def given(cls, cube_params: CubeParams | None) -> CubeParams:
        """``cube_params``, or ``CubeParams()`` for ``None``; anything else is refused with its type."""
        if cube_params is None:
            return cls()
        if not isinstance(cube_params, CubeParams):
            raise ParameterError(
                f"`cube_params` must be a CubeParams, not {type(cube_params).__name__}: "
                "pass geo_csp.cube.CubeParams(unit=..., resolution=...)"
            )
        return cube_params

    def for_cube(self) -> CubeParams:
        """``self``, refused when it asks for what only an analysis applies (the cube builders call it).

        ``exclude_proactive`` and ``public_space`` need the source selection and location labels that
        :func:`geo_csp.hotspot_run.run_hotspots` reads; it passes the cube the crime types and incidents they
        leave.
        """
        if self.exclude_proactive or self.public_space:
            raise ParameterError(
                "`exclude_proactive` and `public_space` are applied by geo_csp.hotspot_run.run_hotspots, which selects "
                "the sources first; build the cube from the crime types and incidents they leave, or call run_hotspots"
            )
        return self

    def groups_dict(self) -> dict[str, tuple[str, ...]] | None:
        """``groups`` as the mapping :func:`geo_csp.harm.resolve_crime_types` takes."""
        return None if self.groups is None else dict(self.groups)

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (lists for tuples, ``groups`` as a mapping), for metadata."""
        out = dataclasses.asdict(self)
        for name, value in out.items():
            if isinstance(value, tuple):
                out[name] = list(value)
        if self.groups is not None:
            out["groups"] = {k: list(v) for k, v in self.groups}
        return out


#: The fields of :class:`CubeParams` (the keys of :meth:`CubeParams.to_dict`).
CUBE_PARAM_NAMES: Final = tuple(f.name for f in dataclasses.fields(CubeParams))


def choices_to_params(
    *,
    unit: UnitKind = settings.DEFAULT_UNIT,
    resolution: int | None = None,
    period: periods.PeriodKind | Literal["auto"] = settings.DEFAULT_PERIOD,
    months: tuple[str, str] | None = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    sources: Iterable[str] | None = None,
    exclude_proactive: bool = False,
    public_space: bool = False,
    measure: Measure = settings.DEFAULT_MEASURE,
    partial_periods: PartialPeriods = settings.DEFAULT_PARTIAL_PERIODS,
    zero_fill: ZeroFill = settings.DEFAULT_ZERO_FILL,
) -> CubeParams:
    """The :class:`CubeParams` of a shell's choices (the CLI's options, the app's sidebar), checked before any
    file is read; every shell makes its parameters here, so its defaults are the library's.

    ``crime_types`` and ``sources`` given empty (an option not repeated, nothing picked) mean no filter.
    """
    return CubeParams(
        unit=unit,
        resolution=resolution,
        period=period,
        months=months,
        crime_types=text_tuple(crime_types) or None,
        group=group,
        sources=text_tuple(sources) or None,
        exclude_proactive=exclude_proactive,
        public_space=public_space,
        measure=measure,
        partial_periods=partial_periods,
        zero_fill=zero_fill,
    )


def _filtered_rows(
    incidents: pd.DataFrame,
    t_codes: np.ndarray,
    t_uniques: np.ndarray,
    *,
    types: tuple[str, ...] | None,
    cp: CubeParams,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The rows of the chosen crime types, sources and flag group, and what the cube's parameters say about the group.

    Parameters
    ----------
    incidents
        The incident table.
    t_codes, t_uniques
        Each row's code among the distinct crime types, and those types (:func:`_codes`).
    types
        The crime types counted (``cp``'s categories and group resolved); ``None``: every type.
    cp
        The cube's parameters (``sources``, ``group`` and ``groups`` are read).

    Returns
    -------
    (numpy.ndarray, dict)
        The rows kept (a boolean mask) and the flag group's parameters (empty without a flag group).
    """
    keep = np.ones(len(incidents), dtype=bool)
    if types is not None:
        keep &= _in_values(t_codes, t_uniques, types)
    if cp.sources is not None:
        if schema.SOURCE not in incidents.columns:
            raise SchemaError("incidents have no `source` column to filter `sources` on")
        keep &= _in_values(*_codes(incidents[schema.SOURCE]), cp.sources)
    flagged = qualifiers.qualified_group(cp.group, groups=cp.groups_dict())
    if flagged is None:
        return keep, {}
    return _flagged_rows(incidents, keep, flagged)


def _covered_months(
    incidents: pd.DataFrame,
    keep: np.ndarray,
    m_codes: np.ndarray,
    m_uniques: np.ndarray,
    *,
    types: tuple[str, ...] | None,
    cp: CubeParams,
) -> tuple[np.ndarray, np.ndarray]:
    """``keep`` narrowed to ``cp.months``, and the months the cube covers (default the kept rows' first to last).

    Without ``months`` and with no row kept there is no period to cover: refused, saying what the data holds.
    """
    if cp.months is not None:
        first, last = periods.validate_months(list(cp.months), name="months")
        month_list = periods.month_range(first, last)
        return keep & _in_values(m_codes, m_uniques, [m for m in m_uniques if first <= m <= last]), month_list
    present = np.unique(m_codes[keep])
    if present.size == 0:
        raise ParameterError(_no_match_message(incidents, types, cp.group, cp.sources))
    return keep, periods.month_range(str(np.min(m_uniques[present])), str(np.max(m_uniques[present])))


def _located_rows(incidents: pd.DataFrame, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept rows that are located with finite coordinates (their positions), and their eastings and northings."""
    ex, ny = _coordinates(incidents)
    rows = np.flatnonzero(keep & incidents[schema.LOCATED].to_numpy(dtype=bool) & np.isfinite(ex) & np.isfinite(ny))
    return rows, ex[rows], ny[rows]


@dataclass(frozen=True)
class _Placement:
    """The cube's units and where the counted rows' distinct points fall among them.

    Attributes
    ----------
    units
        The cube's units, indexed by unit id.
    area
        The study area: given, the data's extent, the units' union or (given H3 cells) the points' hull.
    inverse
        Each counted row's distinct point (:func:`geo_csp.grid.unique_points`).
    inside
        Per distinct point: inside the study area.
    codes
        Per distinct point: the id of the unit it falls in (``None`` outside the study area or every unit).
    resolution
        The H3 resolution (``None`` for wards and LSOAs).
    extent
        The parameters of the data's extent (:func:`extent_report`).
    info
        Further parameters: why the resolution was chosen, the zero-fill rule.
    """

    units: gpd.GeoDataFrame
    area: shapely.Geometry
    inverse: np.ndarray
    inside: np.ndarray
    codes: np.ndarray
    resolution: int | None = None
    extent: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def _inside_area(area: shapely.Geometry | None, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    """Per distinct point: inside ``area`` (every point when there is none)."""
    if area is None or not len(ux):
        return np.ones(len(ux), dtype=bool)
    shapely.prepare(area)
    inside: np.ndarray = shapely.intersects_xy(area, ux, uy)
    return inside


def _extent_area(x: np.ndarray, y: np.ndarray) -> tuple[shapely.Geometry, dict[str, Any]]:
    """The data's extent (:func:`data_extent`) as the study area, and its parameters (warning when points are left out)."""
    if len(x) < 3:
        raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
    area, central, radius = data_extent(x, y)
    # the warning names the line that called build_cube's caller: extent_report <- here <- _h3_placement <- build_cube
    return area, extent_report(len(x), int((~central).sum()), radius, stacklevel=5)


def _h3_cells(
    codes: np.ndarray, area: shapely.Geometry, *, units: gpd.GeoDataFrame | None, resolution: int, cp: CubeParams
) -> tuple[np.ndarray, dict[str, Any]]:
    """The cube's H3 cells (given, the occupied ones and their rings, or the study area's) and the zero-fill rule.

    Parameters
    ----------
    codes
        The cells of the distinct points inside the study area.
    area
        The study area.
    units
        Cells given to use (their index); ``None``: chosen by ``cp.zero_fill``.
    resolution
        The H3 resolution.
    cp
        The cube's parameters (``zero_fill`` and ``zero_fill_k`` are read).

    Returns
    -------
    (numpy.ndarray, dict)
        The cell ids, and ``{"zero_fill": rule}`` for ``zero_fill="neighbours"`` (else empty).
    """
    occupied = np.unique(codes.astype(str))
    if isinstance(units, gpd.GeoDataFrame):
        return np.asarray(units.index, dtype=object), {}
    if cp.zero_fill == "neighbours":
        rule = f"occupied cells and their {cp.zero_fill_k}-ring neighbours"
        return grid.neighbour_cells(occupied, k=cp.zero_fill_k), {"zero_fill": rule}
    # a point on the area's edge can fall in a cell H3 did not list as overlapping: add it
    return np.union1d(np.asarray(grid.area_to_cells(area, resolution=resolution), dtype=object), occupied), {}


def _h3_placement(
    x: np.ndarray, y: np.ndarray, *, area: shapely.Geometry | None, units: gpd.GeoDataFrame | None, cp: CubeParams
) -> _Placement:
    """H3 cells for the counted points: the study area (default the data's extent), the resolution and the cells.

    Given cells (``units``) and no study area, the area is the points' hull (for the resolution and its size).
    """
    extent: dict[str, Any] = {}
    if area is None and not isinstance(units, gpd.GeoDataFrame):
        area, extent = _extent_area(x, y)
    # each distinct snap point is tested against the area and placed in a cell once
    ux, uy, inverse = grid.unique_points(x, y)
    inside = _inside_area(area, ux, uy)
    if area is None:  # given cells and no study area: the hull of the points (for the resolution and area)
        if len(x) < 3:
            raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
        area = shapely.convex_hull(shapely.multipoints(np.column_stack([ux, uy])))
    info: dict[str, Any] = {}
    resolution = cp.resolution
    if resolution is None:
        resolution, info["resolution_reason"] = grid.default_resolution(area)
    codes = np.full(len(ux), None, dtype=object)
    codes[inside] = grid.points_to_cells(ux[inside], uy[inside], resolution=resolution)
    cells, fill = _h3_cells(codes[inside], area, units=units, resolution=resolution, cp=cp)
    return _Placement(
        units=grid.cells_to_polygons(np.asarray(cells, dtype=object)),
        area=area,
        inverse=inverse,
        inside=inside,
        codes=codes,
        resolution=int(resolution),
        extent=extent,
        info={**info, **fill},
    )


def _polygon_placement(
    incidents: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    *,
    area: shapely.Geometry | None,
    units: gpd.GeoDataFrame | None,
    kind: UnitKind,
    month_list: np.ndarray,
) -> _Placement:
    """Ward or LSOA polygons for the counted points (default Bury's shipped ones, :func:`_default_units`) and the
    study area (default their union)."""
    poly = _polygon_units(units if units is not None else _default_units(kind, month_list, incidents, area), kind, area)
    if area is None:
        area = shapely.union_all(poly.geometry.to_numpy())
    # each distinct snap point is tested against the area and placed in a unit once
    ux, uy, inverse = grid.unique_points(x, y)
    inside = _inside_area(area, ux, uy)
    codes = np.full(len(ux), None, dtype=object)
    code_col = schema.WARD_CODE if kind == "ward" else schema.LSOA_CODE
    codes[inside] = boundaries.assign_to_polygons(ux[inside], uy[inside], poly, code_col=code_col)
    return _Placement(units=poly, area=area, inverse=inverse, inside=inside, codes=codes)


def _unit_positions(place: _Placement, *, given_cells: bool) -> tuple[np.ndarray, dict[str, Any]]:
    """Each counted row's position among the units (-1 outside the study area or every unit) and, for given H3
    cells, how many rows inside the study area fell outside them (``dropped_outside_units``, when any did)."""
    index = pd.Index(place.units.index)
    unit_pos = np.where(place.inside, index.get_indexer(pd.Index(place.codes)), -1)[place.inverse]
    if not given_cells:
        return unit_pos, {}
    dropped = int(place.inside[place.inverse].sum() - (unit_pos >= 0).sum())
    return unit_pos, ({"dropped_outside_units": dropped} if dropped else {})


def _day_positions(
    days: np.ndarray, *, period: periods.PeriodKind, key_range: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The keys of the day periods from ``key_range[0]`` to ``key_range[1]``, and the position among them of each
    row's day (``days``: days since 1970-01-01)."""
    period_keys = np.arange(key_range[0], key_range[1] + 1, dtype=np.int64)
    row_pos = (days - int(periods.DAY_ANCHOR.astype(np.int64))) // periods.PERIOD_DAYS[period] - period_keys[0]
    return period_keys, row_pos


def _month_positions(
    m_codes: np.ndarray, m_uniques: np.ndarray, *, period: periods.PeriodKind, month_list: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The keys of the periods of ``month_list``, and the position among them of each row's month (``m_codes``:
    codes among the distinct months ``m_uniques``), looked up once per distinct month."""
    period_keys = np.unique(periods.period_keys(month_list, period=period))
    p_pos_m = (
        np.searchsorted(period_keys, periods.period_keys(m_uniques, period=period))
        if len(m_uniques)
        else np.empty(0, np.int64)
    )
    return period_keys, p_pos_m[m_codes]


def _counts_and_harm(
    unit_pos: np.ndarray, row_pos: np.ndarray, weights: np.ndarray, *, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Incidents and summed harm ``weights`` per unit x period (``shape``), each one ``np.bincount`` over
    ``unit * n_periods + period``."""
    n_units, n_periods = shape
    flat = unit_pos.astype(np.int64) * n_periods + row_pos
    n = np.bincount(flat, minlength=n_units * n_periods).reshape(n_units, n_periods).astype("float64")
    h = np.bincount(flat, weights=weights, minlength=n_units * n_periods).reshape(n_units, n_periods)
    return n, h


def _street_counts(incidents: pd.DataFrame, rows: np.ndarray, unit_pos: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Counted incidents per unit and police.uk street description (without "On or near "): ``unit_id, location,
    n``, empty without a ``location`` column."""
    if schema.LOCATION not in incidents.columns:
        return pd.DataFrame(columns=[schema.UNIT_ID, "location", schema.N])
    # police.uk repeats a few thousand street names: clean each distinct one once
    l_codes, l_uniques = _codes(incidents[schema.LOCATION])
    cleaned = _clean_locations(l_uniques)
    l_rows = l_codes[rows]
    usable = np.append(pd.notna(cleaned), False)[l_rows]  # code -1 (missing) reads False
    n_loc = max(len(l_uniques), 1)
    keys, counts = np.unique(unit_pos[usable].astype(np.int64) * n_loc + l_rows[usable], return_counts=True)
    loc = pd.DataFrame(
        {
            schema.UNIT_ID: index.to_numpy(dtype=object)[keys // n_loc],
            "location": cleaned[keys % n_loc],
            schema.N: counts.astype(np.int64),
        }
    )
    # descriptions that differ only by "On or near " are one street
    return loc.groupby([schema.UNIT_ID, "location"], sort=True)[schema.N].sum().reset_index()


def _chosen_params(
    cp: CubeParams,
    *,
    types: tuple[str, ...] | None,
    period: periods.PeriodKind,
    month_list: np.ndarray,
    resolution: int | None,
) -> dict[str, Any]:
    """The first of the cube's parameters: what was chosen (unit, period, months, filters, harm weights, resolution)."""
    return {
        "unit": cp.unit,
        "period": period,
        "months": [str(month_list[0]), str(month_list[-1])],
        "crime_types": list(types) if types is not None else None,
        "group": cp.group,
        "sources": list(cp.sources) if cp.sources is not None else None,
        "harm_index": cp.harm_index,
        "asb_weight_days": float(cp.asb_weight_days),
        "resolution": resolution,
    }


def build_cube(
    incidents: pd.DataFrame,
    cube_params: CubeParams | None = None,
    *,
    units: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    backend: Literal["memory", "dask"] = "memory",
    client: Any = None,
) -> Cube:
    """Count located incidents by unit x period, zero-filled over the study area.

    Parameters
    ----------
    incidents
        Incident table with the store schema (at least ``month, crime_type, easting, northing,
        located``; ``location`` and ``source`` are used when present). Not modified.
    cube_params
        What is counted and how (:class:`CubeParams`; default ``CubeParams()``); its fields are described
        below by name (``cube_params.unit`` ...). ``measure`` does not change the cube;
        ``exclude_proactive`` and ``public_space`` are applied by :func:`geo_csp.hotspot_run.run_hotspots`
        (they need the source selection) and are refused here.
    unit
        ``"h3"`` cells overlapping the study area, ``"ward"`` or ``"lsoa"`` polygons.
    units
        Ward/LSOA polygons (EPSG:27700, ``ward_code``/``lsoa_code`` column, optional ``population``);
        default Bury's shipped wards (2017 wards for data before 2022) or LSOAs of the data's era.
        For ``unit="h3"``, optional cells to use instead of those covering the study area.
    resolution
        H3 resolution (7-11); default chosen from the study area's size (:func:`grid.default_resolution`)
        and reported in ``params["resolution_reason"]``.
    period
        ``"month"``, ``"quarter"`` (financial) or ``"year"`` (financial) for any source; ``"week"``,
        ``"fortnight"`` or ``"28day"`` for timed data only (every counted incident needs an
        ``occurred_date``: police.uk months are never given a day, so such rows are refused with the
        sources named); ``"auto"``: chosen from the data's span (:func:`geo_csp.periods.choose_period`,
        the rule in ``params["period_reason"]``).
    months
        ``(first, last)`` "YYYY-MM" months to cover; default the data's first and last month.
    study_area
        Polygon(s) in EPSG:27700; incidents outside are dropped. Default: the union of the ward/LSOA
        units, or for H3 the convex hull of the located incidents.
    crime_types, group, groups
        Filter by categories and/or a named crime group (:func:`harm.resolve_crime_types`).
    sources
        Keep only these ``source`` values (police.uk street, partner sources); default all.
    harm_index, asb_weight_days
        Harm weights (:func:`harm.harm_weights`).
    zero_fill, zero_fill_k
        Which empty H3 cells the cube holds when ``units`` is not given: ``"study_area"`` (default)
        every cell overlapping the study area; ``"neighbours"`` only the occupied cells and every
        cell within ``zero_fill_k`` rings of one (for a force or the nation, whose hull is mostly
        empty cells; see :func:`geo_csp.cube.build_cube_dask`). Ignored for wards and LSOAs.
    partial_periods
        Quarters or financial years the months cover only in part (an extract starting or ending
        mid-year): ``"drop"`` (default) leaves them out, ``"keep"`` keeps them (the analysis then
        compares counts per month). See :func:`whole_periods`.
    backend
        ``"memory"``: the incidents are a DataFrame in this process. ``"dask"`` (or any ``incidents``
        that is not a pandas DataFrame: a store folder or a Dask DataFrame): aggregated on Dask by
        :func:`geo_csp.cube.build_cube_dask`, giving the same cube.
    client
        With ``backend="dask"``: a ``dask.distributed.Client`` (:func:`geo_csp.cluster.dask_client`);
        default the current client or a local scheduler.

    Returns
    -------
    Cube
    """
    if backend not in ("memory", "dask"):
        raise ParameterError(f"`backend` must be 'memory' or 'dask', not {backend!r}")
    cp = CubeParams.given(cube_params).for_cube()
    if backend == "dask" or not isinstance(incidents, pd.DataFrame):
        from geo_csp.cube._dask import build_cube_dask

        return build_cube_dask(incidents, cp, units=units, study_area=study_area, client=client)
    _check_incidents(incidents)
    types = harm.resolve_crime_types(cp.crime_types, cp.group, groups=cp.groups_dict())

    # Strings are factorised once and every test runs on their few distinct values: no per-row text.
    m_codes, m_uniques = _month_codes(incidents)
    t_codes, t_uniques = _codes(incidents[schema.CRIME_TYPE])
    keep, flag_info = _filtered_rows(incidents, t_codes, t_uniques, types=types, cp=cp)
    keep, month_list = _covered_months(incidents, keep, m_codes, m_uniques, types=types, cp=cp)
    rows, x, y = _located_rows(incidents, keep)
    period, period_info = _resolve_period(incidents, rows, cp.period, month_list, cp.months is not None)
    row_days, key_range = period_info.pop("_row_days", None), period_info.pop("period_keys", None)
    area = study_geometry(study_area)
    if cp.unit == "h3":
        place = _h3_placement(x, y, area=area, units=units, cp=cp)
    else:
        place = _polygon_placement(incidents, x, y, area=area, units=units, kind=cp.unit, month_list=month_list)
    del x, y
    unit_pos, dropped = _unit_positions(place, given_cells=cp.unit == "h3" and units is not None)
    counted = unit_pos >= 0
    rows, unit_pos = rows[counted], unit_pos[counted]

    if row_days is not None:  # day periods: each row's key from its own day
        period_keys, row_pos = _day_positions(row_days[rows], period=period, key_range=key_range)
    else:
        period_keys, row_pos = _month_positions(m_codes[rows], m_uniques, period=period, month_list=month_list)
    weight_t = harm.incident_harm(t_uniques, index=cp.harm_index, asb_weight_days=cp.asb_weight_days)
    n, h = _counts_and_harm(unit_pos, row_pos, weight_t[t_codes[rows]], shape=(len(place.units), len(period_keys)))
    params: dict[str, Any] = {
        **_chosen_params(cp, types=types, period=period, month_list=month_list, resolution=place.resolution),
        **period_info,
        **place.extent,
        **flag_info,
        **place.info,
        **dropped,
        "n_incidents_in_area": int(len(rows)),
        "study_area_km2": float(place.area.area / 1e6),
    }
    cube = Cube(
        units=place.units,
        period_keys=period_keys,
        period_labels=periods.period_labels(period_keys, period=period),
        n=n,
        harm=h,
        params=params,
        locations=_street_counts(incidents, rows, unit_pos, pd.Index(place.units.index)),
    )
    return whole_periods(cube, partial_periods=cp.partial_periods)


def _check_partial(partial_periods: str) -> None:
    if partial_periods not in PARTIAL_PERIODS:
        raise ParameterError(f"`partial_periods` must be one of {PARTIAL_PERIODS}, not {partial_periods!r}")


def whole_periods(cube: Cube, *, partial_periods: PartialPeriods = "drop") -> Cube:
    """The cube without the quarters or financial years its months cover only in part (or with them, noted).

    ``--period year`` on 2023-01..2025-12 builds four financial years, two of them partial (2022/23
    with 3 months, 2025/26 with 9): analysed as whole, the 3-month year looks like a collapse and the
    places persistent through it look "Consecutive". With ``"drop"`` (the default) those periods'
    columns go, ``params["months"]`` becomes the whole periods' first and last month and
    ``n_incidents_in_area`` their incidents; ``"keep"`` keeps them and the analysis compares counts
    per month (``params["period_months_covered"]``). Either way ``params["partial_periods"]`` lists the
    partial periods and ``params["warnings"]`` says what was done in one sentence.

    Raises
    ------
    ParameterError
        When every period is partial and ``partial_periods`` is ``"drop"``.
    """
    _check_partial(partial_periods)
    period = cube.params["period"]
    if period not in periods.MONTH_LENGTHS:  # day periods (weeks, 28 days) are cut from recorded days
        given = cube.params.get("partial_periods")
        partial_days = [str(p) for p in given] if isinstance(given, list) else []
        warnings = list(cube.params.get("warnings", []))
        if partial_days:  # listed, never dropped: a short first or last week holds fewer days, said so
            warnings.append(
                f"partial {periods.period_word(period)}s kept and named: {', '.join(partial_days)} "
                "(the data cover only some of their days)"
            )
        return replace(
            cube,
            params={
                **cube.params,
                "partial_periods": {"rule": "keep", "partial": partial_days},
                "period_months_covered": None,
                "warnings": warnings,
            },
        )
    first, last = cube.params["months"]
    month_list = periods.month_range(first, last)
    covered = pd.Series(periods.period_keys(month_list, period=period)).value_counts()
    partial = periods.partial_periods(first, last, period=period)
    params = {
        **cube.params,
        "partial_periods": {"rule": partial_periods, "partial": partial},
        "period_months_covered": [int(covered.get(k, 0)) for k in cube.period_keys.tolist()],
        "warnings": list(cube.params.get("warnings", [])),
    }
    if not partial:
        return replace(cube, params=params)
    names = ", ".join(
        f"{p['label']} ({p['months_covered']} of {p['months_in_period']} months, {p['months'][0]}..{p['months'][1]})"
        for p in partial
    )
    word = "financial years" if period == "year" else "financial quarters"
    if partial_periods == "keep":
        params["warnings"].append(f"kept partial {word} {names} on request: the analysis compares counts per month")
        return replace(cube, params=params)
    drop = np.isin(cube.period_keys, [p["key"] for p in partial])
    if drop.all():
        raise ParameterError(
            f"every {period} of {first}..{last} is partial ({names}): use a shorter period (--period month or "
            "quarter), or keep them with partial_periods='keep' (--partial-periods keep)"
        )
    kept = cube.period_keys[~drop]
    whole = [
        str(periods.period_months(int(kept[0]), period=period)[0]),
        str(periods.period_months(int(kept[-1]), period=period)[-1]),
    ]
    n_dropped = int(round(float(cube.n[:, drop].sum())))
    params.update(
        months=whole,
        n_incidents_in_area=int(cube.params.get("n_incidents_in_area", 0)) - n_dropped,
        period_months_covered=[c for c, d in zip(params["period_months_covered"], drop, strict=True) if not d],
    )
    params["partial_periods"]["n_incidents_dropped"] = n_dropped
    params["warnings"].append(
        f"dropped partial {word} {names}: {n_dropped:,} incidents not analysed; only whole {period}s "
        f"{whole[0]}..{whole[1]} are compared (partial_periods='keep' / --partial-periods keep keeps them)"
    )
    return replace(
        cube,
        period_keys=kept,
        period_labels=cube.period_labels[~drop],
        n=cube.n[:, ~drop],
        harm=cube.harm[:, ~drop],
        params=params,
    )


def aggregate_h3(cube: Cube, *, resolution: int) -> Cube:
    """The same cube on coarser H3 cells: each parent's counts are the sum of its children's."""
    if cube.params.get("unit") != "h3":
        raise ParameterError("only H3 cubes can be aggregated to a parent resolution")
    current = cube.params.get("resolution")
    if current is not None and resolution > current:
        raise ParameterError(f"resolution {resolution} is finer than the cube's {current}; parents need a coarser one")
    parents = grid.cells_to_parents(cube.units.index.to_numpy(dtype=object), resolution=resolution)
    unique, inverse = np.unique(parents.astype(str), return_inverse=True)
    inverse = inverse.ravel()

    def _sum(arr: np.ndarray) -> np.ndarray:
        out = np.zeros((len(unique), arr.shape[1]), dtype="float64")
        np.add.at(out, inverse, arr)
        return out

    locations = cube.locations
    if len(locations):
        mapping = pd.Series(parents, index=cube.units.index)
        locations = (
            locations.assign(**{schema.UNIT_ID: locations[schema.UNIT_ID].map(mapping).to_numpy()})
            .groupby([schema.UNIT_ID, "location"], sort=True)[schema.N]
            .sum()
            .reset_index()
        )
    return Cube(
        units=grid.cells_to_polygons(unique.astype(object)),
        period_keys=cube.period_keys,
        period_labels=cube.period_labels,
        n=_sum(cube.n),
        harm=_sum(cube.harm),
        params={**cube.params, "resolution": int(resolution), "aggregated_from": current},
        locations=locations,
    )


def __getattr__(name: str) -> Any:
    """:func:`build_cube_dask` and :func:`located_points_dask`, imported on first use (dask is optional)."""
    if name in _DASK_NAMES:
        from geo_csp.cube import _dask

        return getattr(_dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
