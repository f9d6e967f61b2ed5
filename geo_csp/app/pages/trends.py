"""Trends: series per hotspot area or ward (months, or weeks for timed sources) with the Mann-Kendall result; compare two."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_csp import periods, schema, trends
from geo_csp._escape import markdown_literal
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Trends")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
args = widgets.hotspot_args(choices)
level_label = st.radio("Series for", ["Hotspot areas", "Wards"], horizontal=True, key="trend_level")
level = "area" if level_label == "Hotspot areas" else "ward"
table = cache.series_table(choices.store_dir, choices.stamp, choices.months, level=level, **args)
if table.shape[1] == 0:
    st.info("No hotspot areas for these choices: try another period, crime group or unit, or look at wards.")
    st.stop()
names: dict[str, str] = {c: c for c in table.columns}
if level == "area":
    result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
    names = dict(
        zip(
            result.areas[schema.AREA_ID],
            result.areas[schema.AREA_ID] + " – " + result.areas[schema.AREA_NAME],
            strict=True,
        )
    )
columns = list(table.columns)
left, right = st.columns(2)
first = left.selectbox("Series", columns, key="trend_a", format_func=lambda c: names[c])
second = right.selectbox(
    "Compare with",
    [None, *[c for c in columns if c != first]],
    key="trend_b",
    format_func=lambda c: "(nothing)" if c is None else names[c],
)
picked = [first] + ([second] if second is not None else [])
run = (
    result
    if level == "area"
    else cache.hotspots(
        choices.store_dir, choices.stamp, choices.months, **{**args, "unit": "ward", "resolution": None}
    )
)
period = run.cube.params["period"]
word = periods.period_word(period)
operations = cache.partner_layers(choices.store_dir, choices.stamp).get("operations")
marks = trends.operation_marks(operations, run.cube.period_keys, period=period)
widgets.line_chart(table[picked].rename(columns=names), height=320, marks=marks)
if len(marks):
    ran = "; ".join(
        f"{r.name} ({r.start_date}" + (f" to {r.end_date})" if r.end_date != r.start_date else ")")
        for r in marks.itertuples()
    )
    st.caption(
        markdown_literal(
            f"Dashed lines: the {len(marks)} operation(s) of the store's operations layer in these {word}s, at the "
            f"{word} each starts in (police.uk months have no day: an operation starting mid-month marks its "
            f"month; one started earlier marks the first {word} shown), shaded while it runs: {ran}."
        )
    )
elif operations is not None:
    st.caption(f"No operation of the store's operations layer ran in these {word}s.")
mk = cache.series_trends(table)
shown = mk.loc[picked, ["trend", schema.MK_TAU, schema.MK_Z, schema.MK_P, schema.MK_S]].rename(index=names)
shown.insert(1, "incidents", table[picked].sum().to_numpy())
st.subheader("Mann-Kendall trend test")
widgets.table(shown.rename_axis("series").reset_index(), key="trend_test")
st.caption(
    f"Counts per {word}, {choices.period_label}, {choices.crime_label}. Mann-Kendall (with ties correction) on the "
    f"counts: tau is the share of later {word}s that are higher minus lower; p < 0.05 marks a trend."
)
with st.expander(f"All {len(columns)} series"):
    widgets.table(
        pd.DataFrame(mk[["trend", schema.MK_TAU, schema.MK_P]]).rename(index=names).rename_axis("series").reset_index(),
        key="trend_all",
    )
