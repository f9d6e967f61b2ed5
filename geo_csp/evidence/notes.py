"""The notes of an evidence pack: the residents-denominator caveat, in- and out-of-sample concentration,
the area's hotspot timeline, and the numbered notes and sources."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo_csp import hotspot_run, qualifiers, schema
from geo_csp.evidence.area import PackArea, StoreData
from geo_csp.evidence.compute import AreaCounts
from geo_csp.evidence.groups import FULL_CATEGORY_SOURCES, GROUPS
from geo_csp.evidence.params import EvidenceParams
from geo_csp.settings import SNAP_POINT_NOTE

#: Words in an area's name that mark a place people visit more than live in (the residents undercount
#: the population at risk there).
VISITED_PLACE_WORDS = ("town centre", "city centre", "centre", "center", "retail", "shopping", "station", "park")
#: An area's rate per 1,000 residents this many times the borough's is read as few residents, many visitors.
VISITED_RATE_RATIO = 3.0


def residents_denominator_note(area_name: str, area_rate: float, borough_rate: float) -> tuple[str, bool]:
    """The caveat on residents as the denominator, and whether it applies strongly to this area.

    Strong when the area's name marks a visited place (:data:`VISITED_PLACE_WORDS`) or its all-crime rate
    per 1,000 residents is at least :data:`VISITED_RATE_RATIO` times the borough's: there the people at
    risk are the visitors (footfall), which residents do not count.
    """
    name = area_name.lower()
    ratio = (
        area_rate / borough_rate if np.isfinite(area_rate) and np.isfinite(borough_rate) and borough_rate else np.nan
    )
    strong = any(w in name for w in VISITED_PLACE_WORDS) or (np.isfinite(ratio) and ratio >= VISITED_RATE_RATIO)
    text = (
        "Rates per 1,000 residents divide by the people who live in an area, not by the people who are there. "
        "In a town centre, retail or night-time-economy area most of the people at risk are visitors "
        "(footfall), so a rate per resident overstates the risk to any one person; compare counts and the "
        "concentration per km² there, or a footfall count if the partnership holds one."
    )
    if strong:
        why = (
            f"its all-crime rate per resident is {ratio:.1f} times the borough's"
            if np.isfinite(ratio) and ratio >= VISITED_RATE_RATIO
            else "its name marks a place people visit"
        )
        text = f"{area_name}: {why}. " + text
    return text, bool(strong)


def concentration_note(kind: str, oos: dict[str, Any] | None, rate_months: np.ndarray) -> str:
    """Whether the pack's concentration is in-sample, and the out-of-sample figure when there is one."""
    if kind != "hotspot area":
        return (
            f"Concentration: the {kind} is a fixed area, not drawn from this data; if it was chosen because "
            "of its crime in these months, its concentration is in-sample and flatters it."
        )
    text = (
        "Concentration is IN-SAMPLE: this hotspot area was drawn from months that include the ones its share "
        "of crime is measured on, which flatters it (some of that concentration is chance that will not recur). "
    )
    if oos is None or oos.get("status") != "computed":
        return text + f"Out of sample: {(oos or {}).get('status', 'not computed')}."
    ratio = oos.get("concentration_ratio")
    return text + (
        f"Out of sample, the hotspot area drawn on {oos['defined_on'][0]} to {oos['defined_on'][1]} only "
        f"({oos['area_name']}, {oos['overlap_share']:.0%} of this area) holds "
        + (
            f"{oos['share_of_borough_crime']:.0%} of the borough's crime of {rate_months[0]} to {rate_months[-1]} "
            f"on {oos['share_of_borough_land']:.1%} of its land: {ratio:.1f} times its share."
            if ratio is not None
            else "a suppressed share of the later crime."
        )
    )


def _n_classes(values: pd.Series) -> int:
    """How many classes the scheme of a categorical column has (its categories, else its distinct values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return len(values.cat.categories)
    return int(values.nunique())


def pack_notes(
    *,
    data: StoreData,
    hot: hotspot_run.HotspotResult,
    area: PackArea,
    located: AreaCounts,
    units: pd.DataFrame,
    oos: dict[str, Any] | None,
    denominator_note: str,
    counted_labels: set[str],
    params: EvidenceParams,
) -> tuple[str, ...]:
    """The pack's numbered notes and sources: what is counted and how, the caveats, and the rule applied.

    ``counted_labels`` are the columns of the count tables (police.uk and partner); a qualified group among
    them gets its definition.
    """
    rate_months, trend_months, groups = data.rate_months, data.trend_months, located.groups
    prediction = hot.metadata["priority"]
    notes = [_partner_note(params)] if params.public else []
    notes += [
        (
            "Counts: police.uk street-level crimes located in each area (a point on an outline counts inside it, "
            "as in the partnership table), "
            if params.sources == FULL_CATEGORY_SOURCES
            else f"Counts: records of {', '.join(params.sources)} located in each area (a point on an outline counts "
            f"inside it), by the categories the source records ({', '.join(groups)}; "
            + (", ".join(g for g in GROUPS if g not in groups) or "none")
            + " not recorded by it, so not counted), "
        )
        + f"{rate_months[0]} to {rate_months[-1]}; rates per 1,000 residents per year. "
        + (
            f"The area's residents are estimated from {area.pop_kind} populations weighted by the share of each "
            f"{area.pop_kind} inside the area; the borough's: {data.geo.population_source}."
            if area.pop_units is not None
            else "Rates are not available: the store's config gives no population (geo-csp configure --population)."
        ),
        located.force_note,
        'Neighbourhood crime: burglary, robbery, theft from the person, vehicle crime (police.uk "Burglary" '
        "includes business burglary). Serious acquisitive crime: burglary, robbery, vehicle crime.",
        denominator_note,
        concentration_note(area.kind, oos, rate_months),
        SNAP_POINT_NOTE,
        f"Harm: {params.harm_index.upper()} weights (geo_csp.harm), crimes only (no ASB).",
        f"Hotspot classes: Gi* and Mann-Kendall on H3 cells over {trend_months[0]} to {trend_months[-1]} "
        f"(resolution {hot.metadata.get('resolution')}); cells whose centre lies in the area. Only the "
        f"classes found in the area are listed (of the {_n_classes(units[schema.CATEGORY])} Chainey classes "
        f"and {_n_classes(units[schema.PATTERN])} ArcGIS patterns, cold spots included).",
    ]
    notes += [f"{label}: {why}." for label, why in located.not_available.items()]
    notes += [
        f"{g.label}: {g.definition}; counted from the sources that record {' and '.join(g.columns)}, "
        "records with an unknown value not counted."
        for g in qualifiers.QUALIFIED_GROUPS.values()
        if g.label in counted_labels
    ]
    if prediction.get("evidence"):
        notes.append(
            "How well the hotspot cells predict (borough-wide rolling back-test of the default priority "
            "score, which ranks the cells listed): " + str(prediction["evidence"])
        )
    if params.public:
        notes.append(
            params.disclosure.rule + " Rates, shares and harm are derived from the published counts. Gaps in "
            "the public trend chart are months whose count is suppressed."
        )
    return tuple(notes)


def _partner_note(params: EvidenceParams) -> str:
    """What a public pack does with partner data."""
    return (
        (
            "Partner counts are cleared by the same disclosure control as the police.uk counts (and checked "
            "against earlier public packs); partner layers (CCTV, walkabouts, operations, hubs) and "
            "incident points are left out of public packs."
        )
        if params.partner
        else "Partner data (council ASB reports, CCTV, walkabouts, operations) are left out of public packs."
    )
