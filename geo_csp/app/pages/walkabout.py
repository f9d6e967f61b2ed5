"""Walkabout planner: hub, start time, time budget and stops (pre-filled from the priorities); the route on
the map with numbered stops, the stop list with times and what to look for, GPX and a printable sheet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import streamlit as st

from geo_csp.app import cache, folium_view, widgets

choices = widgets.current()
st.title("Walkabout planner")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
args = widgets.hotspot_args(choices)
layers = cache.partner_layers(choices.store_dir, choices.stamp)
if "hubs" not in layers or len(layers["hubs"]) == 0:
    st.info("No community hubs in this store's layers: add a hubs file on the Data page to start walks from one.")
    st.stop()
with widgets.running("Ranking the patrol priorities…"):
    prio = cache.priorities(choices.store_dir, choices.stamp, choices.months, rank_by="predicted_n", top_n=25, **args)
if len(prio) == 0:
    st.info("No hotspot areas to visit for these choices.")
    st.stop()
labels = dict(zip(prio["id"].astype(str), prio["id"].astype(str) + ": " + prio["name"].astype(str), strict=True))
network = cache.walk_network(choices.store_dir, choices.stamp)

with st.form("walk_form"):
    left, mid, right = st.columns(3)
    hub = left.selectbox("Start and finish at hub", sorted(layers["hubs"]["name"].astype(str)), key="walk_hub")
    start = mid.time_input("Start time", value=time(10, 0), step=900, key="walk_start")
    budget = right.slider("Time budget (minutes)", 30, 360, 120, step=15, key="walk_budget")
    stops = st.multiselect(
        "Stops (pre-filled with the top patrol priorities)",
        list(labels),
        default=list(labels)[:5],
        format_func=lambda s: labels[s],
        key="walk_stops",
    )
    left, right = st.columns(2)
    dwell = left.slider(
        "Minutes at each stop",
        5,
        20,
        12,
        key="walk_dwell",
        help="Koper (1995): 10-15 minutes of visible presence deters longest",
    )
    use_network = right.checkbox(
        "Route along the street network",
        value=network is not None,
        disabled=network is None,
        key="walk_network",
        help="Without a network the plan is a labelled straight-line estimate.",
    )
    planned = st.form_submit_button("Plan walkabout")
if planned:
    st.session_state["walk_planned"] = True
if not st.session_state.get("walk_planned"):
    st.caption("Choose a hub, a start time, a budget and stops, then press **Plan walkabout**.")
    st.stop()
if not stops:
    st.warning("Choose at least one stop.")
    st.stop()

plan_args: dict[str, Any] = dict(
    hub=hub,
    stop_ids=tuple(stops),
    budget_min=float(budget),
    dwell_min=float(dwell),
    use_network=bool(use_network and network is not None),
    rank_by="predicted_n",
)
with widgets.running("Planning the walk…"):
    plan = cache.walkabout(choices.store_dir, choices.stamp, choices.months, **plan_args, **args)
    view = cache.walk_map_view(
        choices.store_dir,
        choices.stamp,
        choices.months,
        key="walk_map",
        plan_args=plan_args,
        basemap=choices.basemap,
        synthetic=choices.synthetic,
        **args,
    )
c1, c2, c3, c4 = st.columns(4)
reached = {str(n).split(": stop ")[0] for n in plan.stops["name"]}
c1.metric("Hotspot areas reached", f"{len(reached)} of {len(stops)}", help=f"{len(plan.stops)} stops in all")
c2.metric("Walking", f"{plan.walk_min:.0f} min")
c3.metric("Total", f"{plan.total_min:.0f} of {plan.budget_min:.0f} min")
c4.metric("Length", f"{plan.length_m / 1000:.1f} km")
network_note = ""
if network is not None and str(network.graph.get("synthetic", "")):
    network_note = " The street network is SYNTHETIC (made up for the demo borough)."
st.caption(
    plan.note
    + " Each chosen area is visited at its busiest cells (micro-places), the stay applying at each."
    + network_note
)
evidence = (
    cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
    .metadata.get("priority", {})
    .get("evidence")
)
if evidence:
    st.caption(evidence)
folium_view.show(view, key="walk_map", height=560)

start_clock = start.strftime("%H:%M")
st.session_state["walk_plan_args"] = plan_args  # the meeting sheet shows this walk
st.session_state["walk_start_clock"] = start_clock
clock = plan.clock_times(start_clock)
table = plan.stops.assign(arrive=clock["arrive"], depart=clock["depart"])
st.subheader("Stops")
widgets.table(table, columns=["order", "name", "arrive", "depart", "dwell_min", "leg_m", "purpose"])
if len(plan.skipped):
    st.caption("Not visited")
    widgets.table(plan.skipped, columns=["stop_id", "name", "reason"])
title = f"Walkabout from {hub}" + (" (SYNTHETIC demo data)" if choices.synthetic else "")


def _sheet(fmt: str) -> Callable[[], bytes]:
    """The printable sheet (cached per plan)."""
    return lambda: cache.walk_sheet(
        choices.store_dir,
        choices.stamp,
        choices.months,
        plan_args=plan_args,
        title=title,
        start_clock=start_clock,
        synthetic=choices.synthetic,
        fmt=fmt,
        **args,
    )


# the HTML sheet is drawn before its button (about 2 s once per plan, for its route map): made on the click
# instead, its file was gone after any rerun (a new plan, another download) and the button showed an error;
# the PDF (a few seconds more) is still made on the click, with no rerun so that the click finds it
with widgets.running("Drawing the printable sheet…"):
    sheet_html = _sheet("html")()
left, mid, right = st.columns(3)
left.download_button(
    "Download GPX",
    plan.to_gpx().encode("utf-8"),
    file_name="walkabout.gpx",
    mime="application/gpx+xml",
    key="dl_gpx",
    on_click="ignore",
)
mid.download_button(
    "Download printable sheet (HTML)",
    sheet_html,
    file_name="walkabout_sheet.html",
    mime="text/html",
    key="dl_sheet",
    on_click="ignore",
)
right.download_button(
    "Download printable sheet (PDF)",
    _sheet("pdf"),
    file_name="walkabout_sheet.pdf",
    mime="application/pdf",
    key="dl_sheet_pdf",
    on_click="ignore",
)
