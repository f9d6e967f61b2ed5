"""Evidence: the quarterly partnership table and an evidence pack for an area, with downloads."""

from __future__ import annotations

import streamlit as st

from geo_csp import schema
from geo_csp.app import cache, widgets

MIME = {
    ".csv": "text/csv",
    ".html": "text/html",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}

choices = widgets.current()
st.title("Evidence")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
st.markdown(
    f"Mode: **{'Public (disclosure control applied)' if choices.public else 'Partnership (sensitive)'}**"
    " — change it in the sidebar; every download below obeys it."
)

st.header("Partnership table")
table_period = st.radio(
    "Table",
    ["Quarterly", "Monthly"],
    key="evidence_table_period",
    horizontal=True,
    help="Quarterly: financial quarters, for scrutiny reports. Monthly: calendar months for the board, with "
    "month-on-month and year-on-year columns (geo-csp table --period month).",
)
if table_period == "Monthly":
    n_months = st.slider("Months", 1, 36, 13, key="evidence_months")
    result = cache.partnership_table(
        choices.store_dir, choices.stamp, public=choices.public, period="month", n_months=n_months
    )
else:
    n_quarters = st.slider("Quarters", 1, 8, 5, key="evidence_quarters")
    result = cache.partnership_table(choices.store_dir, choices.stamp, public=choices.public, n_quarters=n_quarters)
st.dataframe(result.display, width="stretch")
for note in result.footnotes:
    st.caption(note)
files = cache.table_files(result)
cols = st.columns(len(files))
for col, (name, data) in zip(cols, files.items(), strict=True):
    col.download_button(
        f"Download {name.rsplit('.', 1)[1].upper()}",
        data,
        file_name=name,
        mime=MIME["." + name.rsplit(".", 1)[1]],
        key=f"dl_{name}",
    )

st.header("Evidence pack")
result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **widgets.hotspot_args(choices))
hot_areas = result.areas.set_index(schema.AREA_ID)
hot_labels = {f"{i}: {n}": i for i, n in hot_areas[schema.AREA_NAME].astype(str).items()}
place_frame = cache.named_places(choices.store_dir, choices.stamp)
ward_frame = cache.wards(choices.store_dir, choices.stamp)
places = [] if place_frame is None else sorted(place_frame["name"].astype(str))
ward_names = [] if ward_frame is None else sorted(ward_frame["ward_name"].astype(str))
kind = st.radio(
    "Area kind", ["Hotspot area (this map's run)", "Named place", "Ward"], key="evidence_kind", horizontal=True
)
options = {"Named place": places, "Ward": ward_names}.get(kind, list(hot_labels))
area = st.selectbox("Area", options, key="evidence_area")
polygon = None
if area is not None and area in hot_labels:
    polygon = result.areas[result.areas[schema.AREA_ID] == hot_labels[area]]
    st.caption(f"{choices.period_label} · {choices.crime_label}: the pack covers this hotspot area's outline.")
if area is None:
    st.info("This run found no named hotspot areas: choose a named place or ward.")
elif st.button("Generate evidence pack", key="evidence_go"):
    with st.spinner("Writing the evidence pack…"):
        st.session_state["evidence_pack"] = cache.evidence_pack(
            choices.store_dir, choices.stamp, area=area, public=choices.public, area_polygon=polygon
        )
for name, data in st.session_state.get("evidence_pack", {}).items():
    suffix = "." + name.rsplit(".", 1)[-1]
    st.download_button(
        f"Download {name}",
        data,
        file_name=name,
        mime=MIME.get(suffix, "application/octet-stream"),
        key=f"dl_pack_{name}",
    )
