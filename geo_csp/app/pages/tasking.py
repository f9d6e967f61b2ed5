"""Tasking: what changed in the last period, the repeat locations and the stops, on one printable sheet."""

from __future__ import annotations

import streamlit as st

from geo_csp import tasking
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Tasking sheet")
widgets.synthetic_banner(choices)
widgets.need_store(choices)

with st.spinner("Comparing the last period…"):
    sheet = cache.tasking_files(choices.store_dir, choices.stamp, choices.months, **widgets.hotspot_args(choices))
st.subheader(f"Last period: {sheet['last']}")
st.warning(" ".join(sheet["cautions"]))
for name, table in sheet["comparisons"].items():
    counts = table["status"].value_counts()
    st.markdown(
        f"**Hot spots {name}**: {counts.get('entered', 0)} entered, {counts.get('remained', 0)} remained, "
        f"{counts.get('left', 0)} left (Jaccard {sheet['jaccard'][name]:.2f}); "
        f"{int(table['escalating'].sum())} escalating"
    )
    st.dataframe(tasking.printed_table(table), width="stretch")
st.markdown("**Top repeat locations** (police.uk snap points: a place to look at, not an address)")
st.dataframe(tasking.printed_table(sheet["locations"]), hide_index=True, width="stretch")
st.markdown("**Coverage gaps**: " + sheet["gaps_summary"])
if sheet["gaps"] is not None:
    st.dataframe(tasking.printed_table(sheet["gaps"]), hide_index=True, width="stretch")
if len(sheet["stops"]):
    st.markdown("**Recommended stops**")
    st.dataframe(tasking.printed_table(sheet["stops"]), hide_index=True, width="stretch")
left, mid, right = st.columns(3)
left.download_button("Printable sheet (PDF)", sheet["files"]["tasking.pdf"], "tasking.pdf", "application/pdf")
mid.download_button("Sheet (HTML)", sheet["files"]["tasking.html"], "tasking.html", "text/html")
right.download_button(
    "Tables (XLSX)",
    sheet["files"]["tasking.xlsx"],
    "tasking.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
st.caption(f"{choices.crime_label}; {choices.period_label}; Gi* hot spots per period as on the map.")
