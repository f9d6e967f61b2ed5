"""Map: the meeting view. Hotspot units coloured by class, named areas, partner layers, area details."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_csp import maps, schema
from geo_csp.app import cache, folium_view, widgets

choices = widgets.current()
st.title("Hotspot map")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
if cache.optional_module("analysis") is None:
    widgets.unavailable("Hotspot analysis")

COLOUR_BY = {
    "Emerging hot spot pattern": schema.PATTERN,
    "Hotspot category (Chainey)": schema.CATEGORY,
    "Count": schema.N,
    "Harm": schema.HARM,
    "Rate per 1,000 residents per year": schema.RATE_PER_1000,
}
args = widgets.hotspot_args(choices)
with st.spinner("Finding hotspots…"):
    result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
available_layers = list(cache.partner_layers(choices.store_dir, choices.stamp))

left, mid, right = st.columns([2, 3, 3])
colour_label = left.selectbox("Colour by", list(COLOUR_BY), key="map_colour_by")
layer_names = mid.multiselect("Partner layers", available_layers, default=available_layers, key="map_layers")
area_options = result.areas[schema.AREA_ID].tolist()
area_names = dict(zip(result.areas[schema.AREA_ID], result.areas[schema.AREA_NAME], strict=True))
selected = right.selectbox(
    "Hotspot area", [None, *area_options], key="map_area",
    format_func=lambda a: "(none selected)" if a is None else f"{a}: {area_names[a]}",
)

view = cache.hotspot_map_view(
    choices.store_dir, choices.stamp, choices.months, key="hotspot_map", **args,
    colour_by=COLOUR_BY[colour_label], basemap=choices.basemap, synthetic=choices.synthetic,
    selected_area=selected, show_layers=tuple(layer_names),
)
units = result.units
hot = units[schema.PATTERN].astype("string").str.endswith("Hot Spot").fillna(False)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Units", f"{len(units):,}")
c2.metric("Hot units", f"{int(hot.sum()):,}")
c3.metric("Named hotspot areas", f"{len(result.areas):,}")
c4.metric("Incidents mapped", f"{int(units[schema.N].sum()):,}")
st.caption(
    f"{choices.period_label} · {choices.crime_label} · unit {choices.unit}"
    f"{' res ' + str(result.metadata.get('resolution')) if choices.unit == 'h3' else ''} · measure {choices.measure}"
)
folium_view.show(view, key="hotspot_map", height=620)
operations = cache.partner_layers(choices.store_dir, choices.stamp).get("operations")
if operations is not None and "operations" in layer_names:
    wide = operations[maps.borough_wide(operations, extent_m2=float(units.area.sum()))]
    if len(wide):
        dates = wide.sort_values("start_date").groupby("name", sort=False)["start_date"].agg(
            lambda d: ", ".join(f"{t:%d %b %Y}" for t in d))
        st.caption("Borough-wide operations, listed rather than drawn (they would cover every hotspot): "
                   + "; ".join(f"**{name}** {when}" for name, when in dates.items()))

if selected is None:
    st.subheader("Named hotspot areas")
    cols = [c for c in (schema.AREA_ID, schema.AREA_NAME, schema.PATTERN, schema.CATEGORY, schema.N, schema.HARM,
                        "share_of_crime", schema.WARD_NAME) if c in result.areas.columns]
    st.dataframe(pd.DataFrame(result.areas[cols]), hide_index=True, width="stretch")
    st.caption("Choose an area above to see its explanation, trend and partner coverage.")
else:
    area = result.areas.set_index(schema.AREA_ID).loc[selected]
    st.subheader(f"{selected}: {area[schema.AREA_NAME]}")
    in_area = units[schema.AREA_ID] == selected
    a1, a2, a3 = st.columns(3)
    a1.metric("Incidents", f"{int(area[schema.N]):,}")
    a2.metric("Harm", f"{float(area[schema.HARM]):,.0f}")
    a3.metric("Units", f"{int(in_area.sum())}")
    st.markdown(f"**Pattern:** {area.get(schema.PATTERN, '')} · **Category:** {area.get(schema.CATEGORY, '')}")
    for text in units.loc[in_area, schema.EXPLANATION].dropna().unique()[:3]:
        st.markdown(f"- {text}")
    series = cache.area_series(choices.store_dir, choices.stamp, choices.months, area_id=selected, **args)
    st.caption("Monthly incidents in this area")
    st.line_chart(series, height=160)
    cover = cache.area_coverage(choices.store_dir, choices.stamp, choices.months, **args)
    if cover is not None and selected in cover.index:
        st.caption("Partner coverage")
        st.dataframe(cover.loc[[selected]], width="stretch")
