"""Data: store status, uploads (police.uk files, partner extracts with a column mapping, layers),
the ingest report and the quarantined rows with their reasons."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo_csp import schema
from geo_csp._errors import GeoCspError
from geo_csp.app import cache, uploads, widgets

choices = widgets.current()
st.title("Data")
widgets.synthetic_banner(choices)
st.markdown(
    f"Mode: **{'Public' if choices.public else 'Partnership (sensitive)'}** (switch in the sidebar). "
    "Public mode hides quarantined rows' raw text and applies disclosure control to every export."
)

st.header("Store")
if choices.has_store:
    status = choices.status
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Rows", f"{status['rows']:,}")
    c2.metric("Unlocated", f"{status['unlocated']:,}")
    c3.metric("Quarantined", f"{status['quarantined']:,}")
    c4.metric("Months", f"{len(status['months'])}")
    st.caption(f"{choices.store_dir} · sources {', '.join(status['sources'])} · forces {', '.join(status['forces'])}")
else:
    st.info(f"No store at {choices.store_dir} yet: the first upload below creates it.")

st.header("Add files")
kind = st.radio(
    "What are you adding?", ["police.uk files", "Partner extract", "Partner layer"], horizontal=True, key="data_kind"
)
files = st.file_uploader(
    "Files",
    accept_multiple_files=True,
    key="data_files",
    type=["csv", "gz", "zip", "xlsx", "geojson", "json", "gpkg", "gpx", "graphml"],
    help=f"Up to {uploads.MAX_UPLOAD_BYTES // 2**20} MB each; zip archives are checked before anything is read.",
)
mapping = None
if kind == "Partner extract":
    st.subheader("Column mapping")
    with st.form("mapping_form"):
        a, b, c = st.columns(3)
        source = a.text_input("Source name", "council_asb", key="map_source")
        time_kind = b.selectbox("Time column holds", ["date", "datetime", "month"], key="map_time_kind")
        time_col = c.text_input("Time column", "Date", key="map_time_col")
        a, b, c = st.columns(3)
        date_format = a.text_input("Date format (strptime or iso)", "iso", key="map_date_format")
        category = b.text_input("Category column", "Category", key="map_category")
        coords = c.selectbox("Coordinates", ["lon/lat (WGS84)", "easting/northing (EPSG:27700)"], key="map_coords")
        a, b, c = st.columns(3)
        x_col = a.text_input("Longitude / easting column", "Longitude", key="map_x")
        y_col = b.text_input("Latitude / northing column", "Latitude", key="map_y")
        id_col = c.text_input("Record id column (optional)", "", key="map_id")
        st.form_submit_button("Use this mapping")
    xy = ("lon", "lat") if coords.startswith("lon") else ("easting", "northing")
    columns = {time_kind: time_col, "date_format": date_format, "category": category, xy[0]: x_col, xy[1]: y_col}
    if id_col.strip():
        columns["id"] = id_col.strip()
    mapping = {"source": source, "columns": columns}
layer_kind = (
    st.selectbox("Layer kind", ["cctv", "walkabouts", "operations", "hubs"], key="data_layer_kind")
    if kind == "Partner layer"
    else None
)

if files and st.button("Check and add", key="data_ingest"):
    try:
        saved = []
        tmp = Path(tempfile.mkdtemp(prefix="geo-csp-upload-"))
        for f in files:
            uploads.check_upload(f.name, f.size)
            path = tmp / uploads.safe_name(f.name)
            path.write_bytes(f.getvalue())
            if path.suffix == ".zip":
                uploads.check_archive(path)
            elif path.suffix == ".gz":
                uploads.check_gzip(path)
            saved.append(path)
        if layer_kind is not None:  # the Partner layer choice
            st.session_state["data_report"] = cache.add_layer_files(
                choices.store_dir, layer_kind, tuple(map(str, saved))
            )
        else:
            st.session_state["data_report"] = cache.ingest_files(choices.store_dir, tuple(map(str, saved)), mapping)
    except (GeoCspError, OSError) as exc:
        st.error(str(exc))
report = st.session_state.get("data_report")
if report is not None:
    st.subheader("Ingest report")
    st.dataframe(report, hide_index=True, width="stretch")
    st.caption("Per file: rows read = accepted + quarantined. Unlocated rows count in totals, never on a map.")

st.header("Quarantined rows")
if choices.has_store:
    quarantined = cache.quarantine(choices.store_dir, choices.stamp)
    if quarantined.empty:
        st.success("No quarantined rows.")
    else:
        reasons = quarantined["reason"].value_counts().rename_axis("reason").reset_index(name="rows")
        reasons["meaning"] = reasons["reason"].map(schema.REASONS)
        st.dataframe(reasons, hide_index=True, width="stretch")
        pick = st.selectbox("Show rows quarantined for", reasons["reason"].tolist(), key="data_reason")
        shown = quarantined[quarantined["reason"] == pick]
        cols = ["file", schema.LINE, "reason", "message"] + ([] if choices.public else ["raw"])
        st.dataframe(pd.DataFrame(shown[cols]), hide_index=True, width="stretch")
