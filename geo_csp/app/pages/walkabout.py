"""Walkabout planner: hub, time budget and stops (pre-filled from the priorities); route, GPX, sheet."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo_csp import maps
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Walkabout planner")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
args = widgets.hotspot_args(choices)
layers = cache.partner_layers(choices.store_dir, choices.stamp)
if "hubs" not in layers or len(layers["hubs"]) == 0:
    st.info("No community hubs in this store's layers: add a hubs file on the Data page to start walks from one.")
    st.stop()
prio = cache.priorities(choices.store_dir, choices.stamp, choices.months, rank_by="predicted_n", top_n=25, **args)
if len(prio) == 0:
    st.info("No hotspot areas to visit for these choices.")
    st.stop()
labels = dict(zip(prio["id"].astype(str), prio["id"].astype(str) + ": " + prio["name"].astype(str), strict=True))
network = cache.walk_network(choices.store_dir, choices.stamp)

with st.form("walk_form"):
    left, right = st.columns(2)
    hub = left.selectbox("Start and finish at hub", sorted(layers["hubs"]["name"].astype(str)), key="walk_hub")
    budget = right.slider("Time budget (minutes)", 30, 240, 90, step=15, key="walk_budget")
    stops = st.multiselect("Stops (pre-filled from the patrol priorities)", list(labels), default=list(labels)[:5],
                           format_func=labels.get, key="walk_stops")
    left, right = st.columns(2)
    dwell = left.slider("Minutes at each stop", 5, 20, 12, key="walk_dwell")
    use_network = right.checkbox("Route along the street network", value=network is not None,
                                 disabled=network is None, key="walk_network",
                                 help="Without a network the plan is a labelled straight-line estimate.")
    planned = st.form_submit_button("Plan walkabout")
if planned:
    st.session_state["walk_planned"] = True
if not st.session_state.get("walk_planned"):
    st.caption("Choose a hub, a budget and stops, then press **Plan walkabout**.")
    st.stop()
if not stops:
    st.warning("Choose at least one stop.")
    st.stop()

plan = cache.walkabout(
    choices.store_dir, choices.stamp, choices.months, hub=hub, stop_ids=tuple(stops), budget_min=float(budget),
    dwell_min=float(dwell), use_network=bool(use_network and network is not None), rank_by="predicted_n", **args,
)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Stops visited", len(plan.stops))
c2.metric("Walking", f"{plan.walk_min:.0f} min")
c3.metric("Total", f"{plan.total_min:.0f} of {plan.budget_min:.0f} min")
c4.metric("Length", f"{plan.length_m / 1000:.2f} km")
st.caption(plan.note + " Each chosen area is visited at its busiest cells (micro-places), the stay applying at each.")
evidence = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args).metadata.get("priority", {}).get("evidence")
if evidence:
    st.caption(evidence)
result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
m = maps.hotspot_map(
    result.units, areas=result.areas, layers={"walkabout": plan.route_frame(), "hubs": layers["hubs"]},
    basemap=choices.basemap, synthetic=choices.synthetic,
)
st_folium(m, key="walk_map", height=520, use_container_width=True, returned_objects=[])
st.dataframe(plan.stops, hide_index=True, width="stretch")
if len(plan.skipped):
    st.caption("Not visited")
    st.dataframe(plan.skipped, hide_index=True, width="stretch")
left, right = st.columns(2)
left.download_button("Download GPX", plan.to_gpx().encode("utf-8"), file_name="walkabout.gpx",
                     mime="application/gpx+xml", key="dl_gpx")
title = f"Walkabout from {hub}" + (" (SYNTHETIC demo data)" if choices.synthetic else "")
right.download_button("Download printable sheet (HTML)", plan.to_html(title=title).encode("utf-8"),
                      file_name="walkabout_sheet.html", mime="text/html", key="dl_sheet")
