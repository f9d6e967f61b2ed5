"""Gaps and priorities: hotspots ranked by missing partner activity, and the patrol priority list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_csp._escape import spreadsheet_safe
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Gaps and priorities")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
args = widgets.hotspot_args(choices)
left, right = st.columns(2)
RANK_BY = {"Expected next month": "predicted_n", "Harm": "harm", "Count": "n"}
rank_label = left.radio(
    "Rank by",
    list(RANK_BY),
    horizontal=True,
    key="gaps_rank_by",
    help="Expected next month is the default priority score: the predictor that found the most "
    "of next month's crime when tested on this store's own past months.",
)
rank_by = RANK_BY[rank_label]
top_n = right.slider("Patrol list length", 3, 25, 10, key="gaps_top_n")
result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
if len(result.areas) == 0:
    st.info("No named hotspot areas for these choices: try another period, crime group or unit.")
    st.stop()

evidence = result.metadata.get("priority", {}).get("evidence")
if evidence:
    st.info(
        (
            ""
            if rank_by == "predicted_n"
            else f"Ranked by {rank_label.lower()}, not by the default priority score, whose record is: "
        )
        + evidence
    )
gap = cache.gaps(choices.store_dir, choices.stamp, choices.months, rank_by=rank_by, **args)
st.subheader("Ranked gap list")
cols = st.columns(len(gap.shares))
for col, (kind, share) in zip(cols, gap.shares.items(), strict=True):
    label = "No activity at all" if kind == "all" else f"No {kind}"
    col.metric(label, f"{100 * share:.1f}%", help=f"share of the {gap.total_label} in hotspots with this gap")
widgets.table(gap.table, key="gaps_table")  # plain names on screen; the CSV keeps the technical ones
st.download_button(
    "Download gap list (CSV)",
    spreadsheet_safe(gap.table).to_csv(index=False).encode("utf-8"),
    file_name="gap_list.csv",
    mime="text/csv",
    key="dl_gaps",
)

prio = cache.priorities(choices.store_dir, choices.stamp, choices.months, rank_by=rank_by, top_n=top_n, **args)
table = pd.DataFrame(prio.drop(columns=prio.geometry.name))
st.subheader("Patrol priorities")
timing = prio.attrs.get("patrol_params", {}).get("timing_sources") or []
st.caption(
    "Stop at each area's busiest cells (micro-places, listed under Stop at), not at one point of the area: "
    "10-15 minutes at each, at random, unpredictable times, at least every 2 hours while it is "
    "active (Koper 1995). Times of day come only from victim-reported sources that record them ("
    + (", ".join(timing) if timing else "none in this store: police.uk gives the month only")
    + "), never from stop and search."
)
widgets.table(table, key="priorities_table")
st.download_button(
    "Download patrol priorities (CSV)",
    spreadsheet_safe(table).to_csv(index=False).encode("utf-8"),
    file_name="patrol_priorities.csv",
    mime="text/csv",
    key="dl_prio",
)
