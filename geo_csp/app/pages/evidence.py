"""Evidence: the quarterly partnership table and an evidence pack for an area, with downloads."""

from __future__ import annotations

import streamlit as st

from geo_csp.app import cache, widgets

MIME = {".csv": "text/csv", ".html": "text/html",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".pdf": "application/pdf", ".zip": "application/zip"}

choices = widgets.current()
st.title("Evidence")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
st.markdown(f"Mode: **{'Public (disclosure control applied)' if choices.public else 'Partnership (sensitive)'}**"
            " — change it in the sidebar; every download below obeys it.")

st.header("Quarterly partnership table")
if cache.optional_module("table") is None:
    st.warning("The quarterly table is not available in this build.")
else:
    n_quarters = st.slider("Quarters", 2, 8, 5, key="evidence_quarters")
    result = cache.partnership_table(choices.store_dir, choices.stamp, public=choices.public, n_quarters=n_quarters)
    st.dataframe(result.display, width="stretch")
    for note in result.footnotes:
        st.caption(note)
    files = cache.table_files(result)
    cols = st.columns(len(files))
    for col, (name, data) in zip(cols, files.items(), strict=True):
        col.download_button(f"Download {name.rsplit('.', 1)[1].upper()}", data, file_name=name,
                            mime=MIME["." + name.rsplit(".", 1)[1]], key=f"dl_{name}")

st.header("Evidence pack")
evidence = cache.optional_module("evidence")
if evidence is None:
    st.warning("The evidence pack is not available in this build.")
else:
    places = sorted(cache.named_places()["name"].astype(str))
    ward_names = sorted(cache.wards()["ward_name"].astype(str))
    area = st.selectbox("Area (named place or ward)", places + ward_names, key="evidence_area")
    if st.button("Generate evidence pack", key="evidence_go"):
        with st.spinner("Writing the evidence pack…"):
            st.session_state["evidence_pack"] = cache.evidence_pack(
                choices.store_dir, choices.stamp, area=area, public=choices.public)
    for name, data in st.session_state.get("evidence_pack", {}).items():
        suffix = "." + name.rsplit(".", 1)[-1]
        st.download_button(f"Download {name}", data, file_name=name, mime=MIME.get(suffix, "application/octet-stream"),
                           key=f"dl_pack_{name}")
