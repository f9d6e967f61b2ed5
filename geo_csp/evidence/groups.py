"""What an evidence pack counts: its crime groups, qualified groups, rows and printed column names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_csp import harm, qualifiers, schema

GROUPS = {
    "Neighbourhood crime": harm.CRIME_GROUPS["neighbourhood"],
    "Serious acquisitive crime": harm.CRIME_GROUPS["serious_acquisitive"],
    "All crime": tuple(t for t in schema.CRIME_TYPES if t != harm.ASB),
    "Anti-social behaviour": (harm.ASB,),
}
#: Groups on qualifier flags (:data:`geo_csp.qualifiers.QUALIFIED_GROUPS`) a pack counts when its sources
#: record the qualifiers; "not available" (never 0) otherwise, as for police.uk, which records none.
QUALIFIED_PACK_GROUPS = ("vawg",)
#: Partner groups of the partner counts table (:func:`partner_counts`), per partner source that records them.
PARTNER_QUALIFIED_GROUPS = ("vawg", "domestic_abuse", "knife_crime")
#: The printed names of the qualified groups (counted, when their qualifiers are recorded).
QUALIFIED_LABELS = tuple(g.label for g in qualifiers.QUALIFIED_GROUPS.values())
#: Printed names of partner sources' record counts (others: "Records of <source>").
PARTNER_LABELS = {"council_asb": "ASB reports to the council"}
#: Sources that publish every police.uk category, so each of :data:`GROUPS` is counted (a zero is a true zero).
FULL_CATEGORY_SOURCES = (schema.SOURCE_STREET,)


def pack_groups(crime_types: pd.Series, sources: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The count columns of a pack: :data:`GROUPS` for police.uk street data, else the groups the sources record.

    A partner source (a council's ASB points, say) records only its own categories: a group of which it
    holds no type is not counted (it would show a false zero), and anti-social behaviour gets its own
    column when the source holds it. A source holding none of these gets one "All records" column.
    """
    if all(x in FULL_CATEGORY_SOURCES for x in sources):
        return dict(GROUPS)
    held = set(crime_types.astype(str).unique())
    out = {g: types for g, types in GROUPS.items() if held & set(types)}
    return out or {"All records": tuple(sorted(held))}


def qualified_masks(incidents: pd.DataFrame, keys: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Rows counted by each qualified group of ``keys`` whose qualifiers ``incidents`` record, and why the
    others are "not available".

    A group is counted only over the sources that record every qualifier it reads
    (:func:`geo_csp.qualifiers.recording_sources`); a source that records none (police.uk) gives no count,
    not a zero.
    """
    masks: dict[str, np.ndarray] = {}
    missing: dict[str, str] = {}
    held = sorted(incidents[schema.SOURCE].astype(str).unique()) if len(incidents) else []
    for key in keys:
        group = qualifiers.QUALIFIED_GROUPS[key]
        recording = qualifiers.recording_sources(incidents, group)
        if recording:
            counted = qualifiers.group_mask(incidents, group)
            masks[group.label] = counted & incidents[schema.SOURCE].isin(recording).to_numpy()
        else:
            missing[group.label] = (
                f"not available: {', '.join(held) or 'the sources'} record(s) no {' or '.join(group.columns)} "
                "(police.uk records none); ingest a partner extract that maps them and count it with --source"
            )
    return masks, missing


ROWS = ("Area", "Rest of borough", "Borough", "Rest of force", "Force")
BOROUGH_ROWS = ROWS[:3]
RATE_SUFFIX = " per 1,000 per year"
#: Printed names of the hotspot-cell columns in the pack.
CELL_COLUMNS = {
    schema.UNIT_ID: "Cell (H3)",
    schema.N: "Crimes",
    schema.PREDICTED_N: "Expected crimes next month",
    schema.CATEGORY: "Hotspot class (Chainey)",
    schema.PATTERN: "Pattern (ArcGIS)",
    schema.EXPLANATION: "Why",
}
