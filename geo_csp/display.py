"""Plain-English names and people's number formats for what the app, maps and sheets show.

Outputs keep their fixed technical column names (``n``, ``harm``, ``gi_z``, ``share_of_crime``): files and
downloads use them, so analysts can join and re-run. What a meeting reads goes through this module:
:data:`COLUMN_LABELS` names each column with its unit ("Incidents", "Harm (crime-days)"),
:func:`format_value` writes one number as people write it ("1,234", "8.6%", "2.4"), and
:func:`for_people` turns a whole table into its on-screen form (renamed columns, shares as percentages,
sensible rounding). Nothing here changes a value's meaning: a share of 0.086 is shown as 8.6.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

import pandas as pd

from geo_csp import schema

__all__ = [
    "COLUMN_HELP",
    "COLUMN_LABELS",
    "PERCENT_COLUMNS",
    "SOURCE_LABELS",
    "for_people",
    "format_value",
    "label",
    "source_label",
]

#: On-screen name of every technical column a page or map shows, with its unit where it has one.
COLUMN_LABELS: Final[Mapping[str, str]] = {
    schema.UNIT_ID: "Cell or area code",
    schema.AREA_ID: "Hotspot",
    schema.AREA_NAME: "Place",
    schema.WARD_NAME: "Ward",
    schema.WARD_CODE: "Ward code",
    schema.LSOA_NAME: "LSOA",
    schema.LSOA_CODE: "LSOA code",
    schema.N: "Incidents",
    schema.HARM: "Harm (crime-days)",
    schema.PREDICTED_N: "Expected incidents next month",
    schema.RATE_PER_1000: "Incidents per 1,000 residents",
    schema.POPULATION: "Residents",
    schema.GI_Z: "z-score of the hot spot test",
    schema.GI_P: "p-value of the hot spot test",
    schema.PATTERN: "Hot spot pattern",
    schema.CATEGORY: "Hotspot category",
    schema.N_HOT_PERIODS: "Months significantly hot",
    schema.N_COLD_PERIODS: "Months significantly cold",
    schema.MK_TAU: "Trend strength (Kendall's tau)",
    schema.MK_Z: "z-score of the trend test",
    schema.MK_P: "p-value of the trend test",
    schema.MK_S: "Mann-Kendall S",
    schema.EXPLANATION: "Why",
    "share_of_crime": "Share of crime",
    "share_of_area": "Share of the area mapped",
    "area_km2": "Size (km²)",
    "n_units": "Cells",
    "class_mix": "Cells by pattern",
    "top_street": "Busiest street",
    "status": "Since the previous run",
    "trend": "Trend",
    "incidents": "Incidents",
    # patrol priorities and gaps
    "rank": "Rank",
    "id": "Hotspot",
    "priority": "Priority (expected incidents next month, harm or incidents)",
    "stops": "Stop at (cells)",
    "share": "Share of the total",
    "dwell_min_low": "Stay from (min)",
    "dwell_min_high": "Stay up to (min)",
    "visits": "How to visit",
    "when": "When",
    "purpose": "What to look for",
    # walkabout plans
    "order": "Stop",
    "stop_id": "Hotspot",
    "arrive_min": "Arrive (min after start)",
    "arrive": "Arrive",
    "depart": "Leave",
    "dwell_min": "Stay (min)",
    "depart_min": "Leave (min after start)",
    "leg_m": "Walk to here (m)",
    "snap_m": "Street point from the area centre (m)",
    "reason": "Why not visited",
    # coverage
    "cctv_share": "Covered by CCTV",
    "route_share": "Covered by walkabout routes",
    "operation_share": "Covered by operations",
    "n_cameras": "Cameras",
    "n_routes": "Walkabout routes",
    "n_operations": "Operations",
    "gap": "Gap",
    "gaps": "Gaps",
    "n_gaps": "Gaps (of 3)",
    "share_of_total": "Share of the total",
    "cctv_covered": "CCTV view",
    "walkabout_n": "Recent walkabouts",
    "walkabout_last": "Last walkabout",
    "walkabout_covered": "Walkabout recently",
    "operations": "Operations",
    "operation_covered": "Operation",
    "nearest_hub": "Nearest community hub",
    "hub_distance_m": "Distance to the hub (m)",
    # change view
    "n_this": "Incidents this month",
    "n_before": "Incidents in the month compared",
    "n_change": "Change in incidents",
    "hotspot_change": "Hot spot (entered, remained or left)",
}
#: Longer help for columns whose name alone cannot carry the method.
COLUMN_HELP: Final[Mapping[str, str]] = {
    schema.HARM: "Cambridge Crime Harm Index: days of imprisonment at the sentencing starting point, summed",
    schema.PREDICTED_N: (
        "The default priority score: expected incidents next month from the predictor that found the "
        "most of next month's crime in the rolling back-test on this store's data"
    ),
    schema.GI_Z: "Getis-Ord Gi* in the last month: above 1.96 is a hot spot at the 5% level",
    schema.PATTERN: "ArcGIS emerging hot spot pattern over the months chosen",
    schema.CATEGORY: "Chainey's hotspot category over the months chosen",
    "share_of_crime": "Share of the incidents of the whole area mapped that happened here",
    schema.MK_TAU: "Share of later months that are higher minus the share that are lower",
}
#: Columns holding shares (0-1) that people read as percentages.
PERCENT_COLUMNS: Final = frozenset(
    {"share_of_crime", "share_of_area", "share", "share_of_total", "cctv_share", "route_share", "operation_share"}
)
_COUNT_COLUMNS: Final = frozenset(
    {
        schema.N,
        "incidents",
        schema.POPULATION,
        "n_units",
        "rank",
        "order",
        schema.N_HOT_PERIODS,
        schema.N_COLD_PERIODS,
        "n_cameras",
        "n_routes",
        "n_operations",
        "n_this",
        "n_before",
        "n_gaps",
        "walkabout_n",
        schema.MK_S,
    }
)
_ONE_DECIMAL: Final = frozenset({schema.GI_Z, schema.MK_Z, schema.RATE_PER_1000, "area_km2"})
_TWO_DECIMALS: Final = frozenset({schema.MK_TAU})
_P_VALUES: Final = frozenset({schema.GI_P, schema.MK_P})


#: On-screen names of the store's police.uk sources; a partner source is shown by its own name.
SOURCE_LABELS: Final[Mapping[str, str]] = {
    schema.SOURCE_STREET: "police.uk street crime and ASB",
    schema.SOURCE_STOP_SEARCH: "police.uk stop and search",
}


def source_label(source: str) -> str:
    """The on-screen name of a store source: ``"police.uk street crime and ASB"``, or a partner source's
    name in words with "(partner)" (``council_asb`` -> ``"council asb (partner)"``)."""
    if source in SOURCE_LABELS:
        return SOURCE_LABELS[source]
    return f"{source.replace('_', ' ').strip()} (partner)"


def label(column: str) -> str:
    """The on-screen name of ``column`` (its words with the first capitalised when it has no entry)."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def format_value(column: str, value: object) -> str:
    """``value`` of ``column`` as people write it: ``1,234``, ``8.6%``, ``2.4``, ``p < 0.001``; ``""`` if missing."""
    text = _missing_or_text(value)
    if text is not None:
        return text
    return _format_number(column, float(value))  # type: ignore[arg-type,unused-ignore]


def _missing_or_text(value: object) -> str | None:
    """``""`` for a missing value, a value that is not a number as text, ``None`` for a number."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            if pd.isna(value):
                return ""
        except (TypeError, ValueError):
            pass
        if not hasattr(value, "__float__") or isinstance(value, str):
            return str(value)
    return None


def _format_number(column: str, x: float) -> str:
    """A number of ``column`` as people write it (percent, p-value, decimals, change or count)."""
    if column in PERCENT_COLUMNS:
        return f"{100 * x:.1f}%"
    if column in _P_VALUES:
        return "p < 0.001" if x < 0.001 else f"p = {x:.3f}"
    if column in _TWO_DECIMALS:
        return f"{x:.2f}"
    if column in _ONE_DECIMAL:
        return f"{x:,.1f}"
    if column == "n_change":
        return f"{x:+,.0f}"
    if column in _COUNT_COLUMNS or abs(x) >= 10:
        return f"{x:,.0f}"
    return f"{x:.2g}"


def for_people(frame: pd.DataFrame, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame``'s ``columns`` (default all but geometry) for the screen: plain names, shares as percentages
    (0.086 -> 8.6), counts whole, harm whole, z-scores to one decimal. Values stay numbers, so a table
    still sorts; the returned frame is new (``frame`` is unchanged)."""
    geometry = getattr(frame, "_geometry_column_name", None)
    keep = [c for c in (columns if columns is not None else frame.columns) if c in frame.columns and c != geometry]
    out = pd.DataFrame(frame[keep]).copy()
    for c in keep:
        col = out[c]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        if c in PERCENT_COLUMNS:
            out[c] = (100 * col.astype("float64")).round(1)
        elif c in _COUNT_COLUMNS or c in (schema.HARM, "priority", "leg_m", "snap_m", "hub_distance_m"):
            out[c] = col.astype("float64").round(0)
        elif c in _ONE_DECIMAL or c.endswith("_min"):
            out[c] = col.astype("float64").round(1 if c in _ONE_DECIMAL else 0)
        elif c in _TWO_DECIMALS:
            out[c] = col.astype("float64").round(2)
        elif c in _P_VALUES:
            out[c] = col.astype("float64").round(3)
    names = {c: label(c) + (" (%)" if c in PERCENT_COLUMNS else "") for c in keep}
    return out.rename(columns=names)
