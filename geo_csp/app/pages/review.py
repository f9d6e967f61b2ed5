"""Operation review: before/after, comparison area, displacement buffer and caveats for one operation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Operation review")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
if cache.optional_module("review") is None:
    widgets.unavailable("Operation review")

operations = cache.partner_layers(choices.store_dir, choices.stamp).get("operations")
if operations is None or len(operations) == 0:
    st.info("No operations in this store's layers: add an operations file (GeoJSON with dates) on the Data page.")
    st.stop()
usable = operations[operations.geometry.notna() & ~operations.geometry.is_empty]
names = usable["name"].astype(str).tolist()
left, right = st.columns([3, 2])
name = left.selectbox("Operation", names, key="review_operation")
buffer_m = right.slider("Displacement buffer (m)", 50, 500, 200, step=50, key="review_buffer")
review = cache.operation_review(choices.store_dir, choices.stamp, name=name, buffer_m=float(buffer_m),
                                sources=choices.sources, crime_types=choices.crime_types, group=choices.group)
row = usable[usable["name"].astype(str) == name].iloc[0]
st.caption(f"{row.get('type', '')} · {pd.Timestamp(row['start_date']):%d %b %Y} to {pd.Timestamp(row['end_date']):%d %b %Y}"
           f" · {choices.crime_label}")
st.subheader("Review windows")
st.dataframe(pd.DataFrame(review.windows, index=["first month", "last month", "months"]).T, width="stretch")
st.subheader("Incidents before and after (target, displacement buffer, comparison area)")
st.dataframe(review.counts, width="stretch")
st.caption("Incidents per km² per month")
st.dataframe(review.rates.round(2), width="stretch")
st.subheader("Comparison and displacement")
st.dataframe(review.comparisons, width="stretch")
st.caption("WDQ (weighted displacement quotient, Bowers & Johnson 2003): above 0 suggests a diffusion of "
           "benefits to the buffer, below 0 displacement; it is only meaningful when the target fell.")
st.subheader("Caveats")
for caveat in review.caveats:
    st.markdown(f"- {caveat}")
