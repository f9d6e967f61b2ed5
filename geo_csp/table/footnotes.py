"""The partnership table's footnotes: where every number comes from, the denominators, the rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo_csp import periods
from geo_csp.table.display import ARROWS, NOT_AVAILABLE
from geo_csp.table.measures import FULL_CATEGORY_SOURCES
from geo_csp.table.values import TableParams, TableValues

__all__ = ["footnotes", "months_shown", "operation_notes"]


def months_shown(tv: TableValues) -> tuple[str, str]:
    """The first and last month of the periods shown."""
    return (
        str(periods.period_months(int(tv.period_keys[0]), period=tv.period)[0]),
        str(periods.period_months(int(tv.period_keys[-1]), period=tv.period)[-1]),
    )


def _count_note(tv: TableValues, prov: dict[str, Any]) -> str:
    first, last = months_shown(tv)
    return (
        f"Counts of incidents located inside the {tv.focus_name} boundary (EPSG:27700), months "
        f"{first} to {last}, "
        + ("financial quarters (April to March)" if tv.period == "quarter" else "calendar months")
        + "; unlocated incidents "
        f"are not counted. Source: {prov.get('store', 'the incident store')}"
        + (f" ({prov['inputs']} input files; see its manifest for their sha256)" if "inputs" in prov else "")
        + "."
    )


def _rate_note(tv: TableValues, prov: dict[str, Any]) -> str:
    if not tv.has_population:
        return (
            f"Rates per 1,000 residents: {NOT_AVAILABLE}, as no population is known for {tv.focus_name} "
            "(give one with geo-csp configure --population)."
        )
    source = f" ({prov['population']})" if "population" in prov else ""
    return f"Rates per 1,000 residents use a population of {tv.population[tv.focus]:,.0f}{source}."


def _trend_note(tv: TableValues) -> str:
    if tv.period == "month":
        if len(tv.period_labels) < 2:
            return f"Month on month: {NOT_AVAILABLE}, as one month ({tv.period_labels[0]}) is shown."
        return (
            f"Month on month: {tv.period_labels[-1]} against {tv.period_labels[-2]}, as published: the change "
            f"({ARROWS[1]} up, {ARROWS[-1]} down, {ARROWS[0]} no change) and the earlier value."
        )
    if len(tv.quarter_labels) >= 2:
        return (
            f"Trend: latest quarter against the previous quarter ({ARROWS[1]} up, {ARROWS[-1]} down, "
            f"{ARROWS[0]} no change)."
        )
    return (
        f"Trend: {NOT_AVAILABLE}, as the data hold one complete financial quarter ({tv.quarter_labels[0]}) and "
        "there is no earlier quarter to compare it with."
    )


def _year_on_year_note(tv: TableValues) -> str:
    held = "all three months of that quarter" if tv.period == "quarter" else "that month"
    return (
        f"Year on year: {tv.period_labels[-1]} against the same {tv.period} a year earlier ({tv.year_ago_label}): "
        f'the change and the earlier value; "{NOT_AVAILABLE}" where the store does not hold {held} '
        "for the measure's sources."
    )


def _rank_note(tv: TableValues) -> str:
    if not tv.rank_of.any():
        return f"Rank among comparators: {NOT_AVAILABLE}, as the store holds no data for comparator areas."
    return (
        f"Rank among comparators: {tv.focus_name}'s place in {tv.quarter_labels[-1]} among itself and the "
        "comparator areas with data, from the lowest (ties share the lower place), on rates per 1,000 residents "
        "(counts too, so that areas of different sizes compare fairly; by count where a population is missing)"
        + (", from the rounded counts" if tv.audit is not None else "")
        + "."
    )


def comparators_shown(tv: TableValues) -> list[str]:
    """Codes of the comparator areas any measure averages."""
    return sorted({c for h in tv.comparators_with_data for c in h})


def _comparator_note(tv: TableValues) -> str:
    have = comparators_shown(tv)
    if not have:
        return f"Comparator: {NOT_AVAILABLE}, as the store holds no data for comparator areas."
    return (
        f"Comparator: average of {len(have)} comparator area(s) in {tv.quarter_labels[-1]} "
        f"({', '.join(tv.names[c] for c in have)}), only areas with data for the measure's sources; "
        "rates use their combined population."
    )


def operation_notes(tv: TableValues, operations: pd.DataFrame | None) -> list[str]:
    """One note per period shown that an operation ran in: "Q1 Apr-Jun 2025: Avro day of action (2025-05-14)"
    (or "May 2025: ..." in a monthly table).

    ``operations`` has ``name``, ``start_date`` and ``end_date`` (:func:`geo_csp.layers.read_operations`);
    an operation is noted in every period its dates overlap.
    """
    if operations is None or not len(operations):
        return []
    start = pd.to_datetime(operations["start_date"]).to_numpy(dtype="datetime64[D]")
    end = pd.to_datetime(operations["end_date"]).to_numpy(dtype="datetime64[D]")
    names = operations["name"].astype(str).to_numpy()
    notes = []
    for key, label in zip(tv.period_keys, tv.period_labels):
        months = periods.period_months(int(key), period=tv.period)
        q_start = np.datetime64(f"{months[0]}-01", "D")
        q_end = np.datetime64(f"{months[-1]}-01", "M") + np.timedelta64(1, "M")  # first day after the quarter
        hit = np.flatnonzero((start < q_end.astype("datetime64[D]")) & (end >= q_start))
        if hit.size:
            said = [
                f"{names[i]} ({start[i]}" + (f" to {end[i]})" if end[i] != start[i] else ")")
                for i in hit[np.argsort(start[hit], kind="stable")]
            ]
            notes.append(f"{label}: " + "; ".join(said))
    return notes


def footnotes(
    tv: TableValues, params: TableParams, provenance: dict[str, Any], operations: pd.DataFrame | None = None
) -> tuple[str, ...]:
    """Every footnote of the table, in order; the operations of each quarter first."""
    ops = operation_notes(tv, operations)
    notes = [
        _count_note(tv, provenance),
        _rate_note(tv, provenance),
        _trend_note(tv),
        _year_on_year_note(tv),
        _comparator_note(tv),
        _rank_note(tv),
    ]
    if ops:
        notes.insert(0, "Operations: " + ". ".join(ops) + ".")
    if params.measure_files:
        notes.append("Measures from " + "; ".join(params.measure_files) + ".")
    notes += [m.describe() for m in tv.measures]
    if params.public:
        notes.append(
            params.disclosure.rule
            + " Rates are computed from the rounded counts."
            + (
                " Months are protected together with the financial quarters they make up, so that no "
                "suppressed month can be worked out from a published quarter."
                if tv.period == "month"
                else ""
            )
        )
    partner = [m.label for m in tv.measures if not set(m.sources) <= set(FULL_CATEGORY_SOURCES)]
    if params.public and partner:
        notes.append(
            "Partner data (" + ", ".join(partner) + ") are published as counts under the same rule as police.uk "
            "counts, with the sums that tie the measures together (a partner count inside a total of several "
            "sources cannot be had as one published count minus another)."
        )
    absent = [m for m in tv.measures if not set(m.sources) & tv.sources_held]
    if absent:
        notes.append(
            f'"{NOT_AVAILABLE}" for '
            + ", ".join(f"{m.label} ({', '.join(m.sources)})" for m in absent)
            + ": the store holds no records from "
            + ("that source" if len({s for m in absent for s in m.sources}) == 1 else "those sources")
            + "; ingest them (geo-csp ingest FILE --mapping MAPPING.toml) to count "
            + ("it." if len(absent) == 1 else "them.")
        )
    unrecorded = [m for m, r in zip(tv.measures, tv.recorded) if not r and m not in absent]
    if unrecorded:
        notes.append(
            f'"{NOT_AVAILABLE}" for '
            + ", ".join(m.label for m in unrecorded)
            + ": the measure's sources record no such incidents at all (a partner source records only its "
            "own categories), so a count would not be a true zero."
        )
    if (~tv.available[tv.recorded]).any():
        notes.append(f'"{NOT_AVAILABLE}": the source has no data for that {tv.period}.')
    return tuple(notes)
