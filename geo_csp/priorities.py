"""Patrol priorities: where to go, how long to stay, and (where the data allow) when.

The ranked list orders hotspot areas or cells by the default priority score, ``predicted_n``
(expected incidents next month from the predictor the rolling back-test picks on the user's own data,
:func:`geo_csp.backtest.add_priority`), or by harm or count, and attaches the evidence-based dosage:
stops of about **10-15 minutes**, repeated at **random, unpredictable intervals** and at least every
**2 hours** while the place is active. Koper (1995, Justice Quarterly 12(4)) found a stop had to reach
about 10 minutes to beat drive-through residual deterrence, with the best return at 11-15 minutes and
diminishing returns after that; the Sacramento hot-spots experiment (Telep, Mitchell & Weisburd 2014)
used about 15-minute random rotations.

**Micro-places.** That dosage was measured at micro-places (a street block, an address cluster), not
across a neighbourhood: fifteen minutes at one point of a 1.6 km2 area reaches a sliver of it. So
each listed area's stops are its busiest cells (:func:`micro_place_stops`: the ``stops_per_place``
units of the area with the highest priority; an H3 resolution-9 cell is about 0.1 km2, a few street
blocks), and the dwell applies at each stop, not to the area as a whole.

When partner data carry a time of day (``occurred_at``), :func:`geo_csp.timeprofile.time_profile` gives
the day-of-week x hour-of-day concentration, and :func:`geo_csp.timeprofile.peak_window` the "when" of
each priority. police.uk publishes the month only:
for those rows the list says "no time of day in the data" and never invents one. The times come only
from victim-reported records (:func:`geo_csp.sources.timing_incidents`: never stop and search or
proactively found offences), and each "when" names the sources they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import schema, sources
from geo_csp._errors import ParameterError, SchemaError
from geo_csp._validate import require_working_crs
from geo_csp.boundaries import assign_to_polygons
from geo_csp.settings import WORKING_CRS
from geo_csp.timeprofile import peak_window, time_profile

if TYPE_CHECKING:
    from geo_csp.hotspot_run import HotspotResult

__all__ = [
    "CANDIDATE_PLACES",
    "MEASURES",
    "PatrolParams",
    "micro_place_stops",
    "patrol_priorities",
    "walkabout_candidates",
]

#: What a walkabout stops at: the micro-places of the top named areas, or the top hotspot cells.
CANDIDATE_PLACES = ("areas", "cells")

NO_TIME = "no time of day in the data (police.uk gives the month only)"
DOSAGE_SOURCE = "Koper 1995, Justice Quarterly 12(4); Telep, Mitchell & Weisburd 2014"
#: Columns places can be ranked by, the default first, with the words a patrol sheet uses for them.
MEASURES = {schema.PREDICTED_N: "expected incidents next month", schema.HARM: "harm", schema.N: "incidents"}


@dataclass(frozen=True)
class PatrolParams:
    """Patrol dosage and list length; written into the output's metadata.

    Parameters
    ----------
    measure
        The column places are ranked by: ``"predicted_n"`` (default, the priority score of
        :func:`geo_csp.backtest.add_priority`), ``"harm"`` or ``"n"``.
    top_n
        Number of places listed.
    stops_per_place
        Micro-place stops (cells) listed inside each area (:func:`micro_place_stops`).
    dwell_min_low, dwell_min_high
        Recommended minutes per visit (Koper: about 10-15).
    revisit_max_h
        Return at least this often, at random times, while the place is active.
    peak_hours
        Width of the busiest-hours window reported from timed data.
    min_timed
        Fewest timed incidents at a place before its busiest hours are reported.
    tz
        Local time zone for hours and days.
    """

    measure: str = schema.PREDICTED_N
    top_n: int = 10
    stops_per_place: int = 2
    dwell_min_low: float = 10.0
    dwell_min_high: float = 15.0
    revisit_max_h: float = 2.0
    peak_hours: int = 4
    min_timed: int = 20
    tz: str = "Europe/London"

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ParameterError(f"measure must be one of {list(MEASURES)}, got {self.measure!r}")
        if self.stops_per_place < 1:
            raise ParameterError(f"stops_per_place must be >= 1, got {self.stops_per_place!r}")
        if self.top_n < 1 or not 0 < self.dwell_min_low <= self.dwell_min_high:
            raise ParameterError("top_n must be >= 1 and 0 < dwell_min_low <= dwell_min_high")
        if not 1 <= self.peak_hours <= 24 or self.revisit_max_h <= 0:
            raise ParameterError("peak_hours must be 1-24 and revisit_max_h positive")


def _number(value: float) -> str:
    """A measure for a patrol sheet: thousands separated, no float noise."""
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.2g}"


def patrol_priorities(
    places: gpd.GeoDataFrame,
    *,
    incidents: pd.DataFrame | None = None,
    params: PatrolParams | None = None,
    id_col: str | None = None,
    name_col: str = schema.AREA_NAME,
    units: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Ranked places to patrol with the recommended dosage and, where known, the busiest times.

    Parameters
    ----------
    places
        Hotspot areas or cells (EPSG:27700) with ``harm`` and/or ``n``.
    incidents
        Optional incidents with ``easting``, ``northing`` and ``occurred_at``: gives each place's busiest
        hours and days when it has at least ``min_timed`` timed victim-reported incidents (stop and
        search and proactively found offences never set the time; ``attrs["patrol_params"]
        ["timing_sources"]`` names the sources used).
    params
        Dosage and list length (:class:`PatrolParams`).
    id_col
        Identifier column; default ``area_id`` or ``unit_id``.
    name_col
        Name column (falls back to the id).
    units
        The run's units (with ``area_id`` and the measure): when the places are areas, each listed
        area gets its micro-place stops (:func:`micro_place_stops`) in ``stops`` and the dwell
        applies at each stop.

    Returns
    -------
    GeoDataFrame
        ``rank, id, name, priority`` (the measure), ``share``, ``dwell_min_low``, ``dwell_min_high``,
        ``stops`` (the micro-place cells to stop at, with ``units``; else empty),
        ``visits`` (how to schedule), ``when`` (busiest times, or why none are given), ``purpose`` (text for a
        walkabout sheet) and the places' geometry; ``attrs["patrol_params"]`` holds the parameters.
    """
    params = params or PatrolParams()
    require_working_crs(places, "`places`", error=SchemaError)
    if params.measure not in places.columns:
        hint = (
            " (the default priority score): add it with geo_csp.backtest.add_priority(result), or rank by 'harm' or 'n'"
            if params.measure == schema.PREDICTED_N
            else "; rank by one that exists"
        )
        raise SchemaError(f"`places` have no {params.measure!r} column{hint}")
    if id_col is None:
        id_col = next((c for c in (schema.AREA_ID, schema.UNIT_ID) if c in places.columns), None)
        if id_col is None:
            raise SchemaError("`places` have neither 'area_id' nor 'unit_id'; pass id_col=")
    ranked = places.sort_values(params.measure, ascending=False, kind="mergesort").head(params.top_n)
    values = ranked[params.measure].to_numpy(dtype="float64")
    total = float(places[params.measure].sum())
    ids = ranked[id_col].astype(str).to_numpy()
    names = ranked[name_col].astype(str).to_numpy() if name_col in ranked else ids
    when = np.full(len(ranked), NO_TIME, dtype=object)
    # times only from victim-reported records: never stop and search or proactively found offences
    timed, timing_sources = sources.timing_incidents(incidents) if incidents is not None else (None, ())
    if timed is not None and len(timed):
        at = assign_to_polygons(
            timed[schema.EASTING].to_numpy(),
            timed[schema.NORTHING].to_numpy(),
            gpd.GeoDataFrame({"_id": ids}, geometry=ranked.geometry.to_numpy(), crs=WORKING_CRS),
            code_col="_id",
        )
        counts = pd.Series(at).value_counts()
        for i, pid in enumerate(ids):  # one profile per listed place (top_n of them)
            k = int(counts.get(pid, 0))
            if k >= params.min_timed:
                when[i] = (
                    str(peak_window(time_profile(timed[at == pid], tz=params.tz), hours=params.peak_hours)["text"])
                    + f" (times from {', '.join(timing_sources) or 'the timed records'})"
                )
            else:
                when[i] = f"too few timed incidents here ({k}) to say when"
    dwell = f"{params.dwell_min_low:g}-{params.dwell_min_high:g} min"
    visits = f"stay {dwell} per visit; return at random times, at least every {params.revisit_max_h:g} h while active"
    stops = np.full(len(ranked), "", dtype=object)
    if units is not None and id_col == schema.AREA_ID and len(ranked):
        micro = micro_place_stops(
            pd.DataFrame({"id": ids, "name": names}), units, measure=params.measure, params=params
        )
        listed = micro.groupby(schema.AREA_ID, sort=False)["stop_id"].agg(", ".join)
        stops = pd.Series(ids).map(listed).fillna("").to_numpy(dtype=object)
        visits = (
            f"stay {dwell} at each of the area's {params.stops_per_place} busiest cells (micro-places), not at "
            f"one point of the area; return at random times, at least every {params.revisit_max_h:g} h "
            "while active"
        )
    out = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "id": ids,
            "name": names,
            "priority": values,
            "share": values / total if total > 0 else np.nan,
            "dwell_min_low": params.dwell_min_low,
            "dwell_min_high": params.dwell_min_high,
            "stops": stops,
            "visits": visits,
            "when": when,
            "purpose": [
                f"Hotspot #{r} ({MEASURES[params.measure]} {_number(v)}): visible presence {dwell}; {w}"
                for r, v, w in zip(range(1, len(ranked) + 1), values, when)
            ],
        },
        geometry=ranked.geometry.to_numpy(),
        crs=WORKING_CRS,
    )
    out.attrs["patrol_params"] = {**asdict(params), "source": DOSAGE_SOURCE, "timing_sources": list(timing_sources)}
    return out


def micro_place_stops(
    places: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    measure: str = schema.PREDICTED_N,
    params: PatrolParams | None = None,
    id_col: str = "id",
    name_col: str = "name",
) -> gpd.GeoDataFrame:
    """Patrol stops at micro-places: the busiest cells inside each listed area, in the areas' order.

    Parameters
    ----------
    places
        Listed areas (:func:`patrol_priorities` output, or areas with ``area_id``), EPSG:27700.
    units
        The hotspot run's units (``unit_id``, ``area_id``, ``measure``, cell geometry).
    measure
        The column the cells inside an area are ranked by.
    params
        Dosage: ``stops_per_place`` (each area's cells with the highest ``measure``) and the dwell.
    id_col, name_col
        The areas' id and name columns.

    Returns
    -------
    GeoDataFrame
        One row per stop: ``stop_id`` (the cell id), ``area_id``, ``name`` ("<area>: stop k of m"),
        ``priority`` (the cell's measure), ``area_rank``, ``purpose`` and the cell's geometry; areas
        first in their listed order, then their cells busiest first. Koper's dwell applies at each.
    """
    require_working_crs(units, "`units`", error=SchemaError)
    for col in (schema.UNIT_ID, schema.AREA_ID, measure):
        if col not in units.columns:
            raise SchemaError(
                f"`units` have no {col!r} column; pass the hotspot run's units (with add_priority for predicted_n)"
            )
    params = params or PatrolParams(measure=measure)
    per_place = params.stops_per_place
    dwell = f"{params.dwell_min_low:g}-{params.dwell_min_high:g} min"
    area_ids = places[id_col if id_col in places.columns else schema.AREA_ID].astype(str).to_numpy()
    names = places[name_col].astype(str).to_numpy() if name_col in places.columns else area_ids
    order = pd.Series(np.arange(len(area_ids)), index=pd.Index(area_ids))
    inside = units[units[schema.AREA_ID].astype(str).isin(area_ids)]
    rank = order.reindex(inside[schema.AREA_ID].astype(str).to_numpy()).to_numpy()
    value = inside[measure].to_numpy(dtype="float64")
    pick = np.lexsort((inside[schema.UNIT_ID].astype(str).to_numpy(), -value, rank))
    chosen = inside.iloc[pick]
    nth = chosen.groupby(schema.AREA_ID, sort=False).cumcount().to_numpy()
    keep = nth < per_place
    chosen, nth, rank = chosen[keep], nth[keep], rank[pick][keep]
    of = np.minimum(chosen.groupby(schema.AREA_ID, sort=False)[schema.UNIT_ID].transform("size").to_numpy(), per_place)
    label = MEASURES.get(measure, measure)
    values = chosen[measure].to_numpy(dtype="float64")
    stop_names = [f"{names[r]}: stop {k + 1} of {m}" for r, k, m in zip(rank, nth, of, strict=True)]
    return gpd.GeoDataFrame(
        {
            "stop_id": chosen[schema.UNIT_ID].astype(str).to_numpy(),
            schema.AREA_ID: chosen[schema.AREA_ID].astype(str).to_numpy(),
            "name": stop_names,
            "priority": values,
            "area_rank": rank + 1,
            "purpose": [
                f"Micro-place in {n.rsplit(': stop', 1)[0]} ({label} {_number(v)}): visible presence {dwell} here"
                for n, v in zip(stop_names, values, strict=True)
            ],
        },
        geometry=chosen.geometry.to_numpy(),
        crs=WORKING_CRS,
    )


def walkabout_candidates(
    result: HotspotResult,
    *,
    incidents: pd.DataFrame | None = None,
    places: Literal["areas", "cells"] = "areas",
    params: PatrolParams | None = None,
    area_ids: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """The candidate stops of a walkabout, by one rule for the app and the command line.

    Parameters
    ----------
    result
        A hotspot run (:func:`geo_csp.hotspot_run.run_hotspots`, with ``predicted_n`` from
        :func:`geo_csp.backtest.add_priority` for that measure).
    incidents
        Located incidents for the busiest times (:func:`patrol_priorities`).
    places
        ``"areas"``: the ``params.top_n`` named hotspot areas ranked by ``params.measure``, stopping at
        each one's ``params.stops_per_place`` busiest cells (:func:`micro_place_stops`); ``"cells"``: the
        ``params.top_n`` hotspot cells themselves (all cells when no area was found), each named after its
        area (else its ward).
    params
        Measure, list length and dosage (:class:`PatrolParams`).
    area_ids
        With ``places="areas"``: only these of the ranked areas (the ones a user ticked), in rank order.

    Returns
    -------
    GeoDataFrame
        One row per candidate stop with ``stop_id``, ``name``, ``priority``, ``purpose`` and the stop's
        geometry (see :func:`micro_place_stops` and :func:`patrol_priorities`).
    """
    params = params or PatrolParams()
    if places not in CANDIDATE_PLACES:
        raise ParameterError(f"`places` must be one of {CANDIDATE_PLACES}, not {places!r}")
    if places == "areas":
        if result.areas.empty:
            raise ParameterError("no hotspot areas were found; plan from the hotspot cells (places='cells')")
        ranked = patrol_priorities(
            result.areas, incidents=incidents, params=params, id_col=schema.AREA_ID, units=result.units
        )
        if area_ids is not None:
            ranked = ranked[ranked["id"].astype(str).isin([str(a) for a in area_ids])]
        return micro_place_stops(ranked, result.units, measure=params.measure, params=params)
    units = result.units
    hot = units[units[schema.AREA_ID].notna()] if units[schema.AREA_ID].notna().any() else units
    area_name = result.areas.set_index(schema.AREA_ID)[schema.AREA_NAME] if len(result.areas) else None
    names = (
        (
            hot[schema.AREA_ID].map(area_name).fillna(hot[schema.WARD_NAME])
            if area_name is not None
            else hot[schema.WARD_NAME]
        )
        .fillna("hotspot cell")
        .astype(str)
    )
    code = hot[schema.UNIT_ID].astype(str)
    if schema.LSOA_NAME in hot.columns and hot[schema.LSOA_NAME].notna().any():  # LSOAs: name beside code
        which = ": LSOA " + hot[schema.LSOA_NAME].fillna("").astype(str) + " (" + code + ")"
    else:
        which = ": cell " + code
    hot = hot.assign(_stop_name=(names + which).to_numpy())
    ranked = patrol_priorities(hot, incidents=incidents, params=params, id_col=schema.UNIT_ID, name_col="_stop_name")
    return ranked.assign(stop_id=ranked["id"])
