"""Meeting mode: the top priorities, the gaps and the walkabout route on one printable screen."""

from __future__ import annotations

import streamlit as st

from geo_csp import display, schema
from geo_csp.app import cache, widgets

choices = widgets.current()
st.html(
    "<style>@media print { [data-testid='stSidebar'], header, [data-testid='stToolbar'],"
    " .stDownloadButton { display: none !important; } .block-container { padding: 0 !important; } }</style>"
)
st.title("Meeting sheet")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
st.caption(
    f"{choices.months_label} · {choices.crime_label} · {choices.area_label} · "
    "print this page from the browser (Ctrl+P): the sidebar and buttons are left off the print"
)
args = widgets.hotspot_args(choices)
with widgets.running("Preparing the meeting sheet…"):
    result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
if len(result.areas) == 0:
    st.info("No named hotspot areas for these choices: try another period, crime group or ward.")
    st.stop()

RANK_BY = "predicted_n" if "predicted_n" in result.areas.columns else schema.HARM
prio = cache.priorities(choices.store_dir, choices.stamp, choices.months, rank_by=RANK_BY, top_n=5, **args)
st.header("1. Top priorities")
evidence = result.metadata.get("priority", {}).get("evidence")
if evidence:
    st.caption(evidence)
widgets.table(prio, columns=["rank", "id", "name", "priority", "share", "when"], key="meeting_priorities")
for area_id in prio["id"].astype(str).head(3):
    story, _ = cache.area_story(
        choices.store_dir, choices.stamp, choices.months, area_id=area_id, months_label=choices.months_label, **args
    )
    st.markdown(story)

st.header("2. Gaps in partner cover")
gap = cache.gaps(choices.store_dir, choices.stamp, choices.months, rank_by=schema.HARM, **args)
cols = st.columns(len(gap.shares))
for col, (kind, share) in zip(cols, gap.shares.items(), strict=True):
    col.metric(
        "No activity at all" if kind == "all" else f"No {kind}",
        f"{100 * share:.1f}%",
        help=f"share of the {gap.total_label} in hotspots with this gap",
    )
widgets.table(gap.table.head(5), key="meeting_gaps")

st.header("3. This week's walkabout")
layers = cache.partner_layers(choices.store_dir, choices.stamp)
if "hubs" not in layers or len(layers["hubs"]) == 0:
    st.info("No community hubs in this store's layers, so no walkabout is planned.")
    st.stop()
network = cache.walk_network(choices.store_dir, choices.stamp)
plan_args = st.session_state.get("walk_plan_args") or dict(
    hub=sorted(layers["hubs"]["name"].astype(str))[0],
    stop_ids=tuple(prio["id"].astype(str).head(4)),
    budget_min=240.0,
    dwell_min=12.0,
    use_network=network is not None,
    rank_by=RANK_BY,
)
with widgets.running("Planning the walk…"):
    plan = cache.walkabout(choices.store_dir, choices.stamp, choices.months, **plan_args, **args)
    png = cache.walk_map_png(
        choices.store_dir, choices.stamp, choices.months, plan_args=plan_args, synthetic=choices.synthetic, **args
    )
source = (
    "as planned on the Walkabout page"
    if st.session_state.get("walk_plan_args")
    else "the top four priorities from the first hub (plan another on the Walkabout page)"
)
st.caption(
    f"From {plan_args['hub']}, {source}: {len(plan.stops)} stops, walking {plan.walk_min:.0f} min, "
    f"{plan.total_min:.0f} of {plan.budget_min:.0f} min in all, {plan.length_m / 1000:.1f} km."
)
st.image(png, caption="Walkabout route with numbered stops", width="stretch")
start_clock = st.session_state.get("walk_start_clock", "10:00")
clock = plan.clock_times(start_clock)
widgets.table(
    plan.stops.assign(arrive=clock["arrive"]), columns=["order", "name", "arrive", "purpose"], key="meeting_route"
)
with widgets.running("Preparing the route sheet…"):  # bytes now: a deferred download can lose its file on a rerun
    sheet = cache.walk_sheet(
        choices.store_dir,
        choices.stamp,
        choices.months,
        plan_args=plan_args,
        title=f"Walkabout from {plan_args['hub']}",
        synthetic=choices.synthetic,
        fmt="pdf",
        start_clock=start_clock,
        **args,
    )
st.download_button(
    "Download the meeting sheet's route (PDF)",
    sheet,
    file_name="walkabout_sheet.pdf",
    mime="application/pdf",
    key="dl_meeting_sheet",
    on_click="ignore",
)
st.caption(display.label("purpose") + ": from each area's crimes, busiest street, pattern and trend.")
