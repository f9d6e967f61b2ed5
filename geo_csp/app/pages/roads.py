"""Road casualties: STATS19 casualties per ward, by severity and mode, per 1,000 residents a year.

The casualties come from the store's ingested STATS19 rows, the STATS19 file its config names
(``stats19``, set with ``geo-csp configure --stats19 FILE``), or a file uploaded here (read in memory, never written into the store).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from geo_csp import ingest, roads, schema, store
from geo_csp._escape import markdown_literal, spreadsheet_safe
from geo_csp.app import cache, uploads, widgets


@st.cache_data(max_entries=4, show_spinner="Reading the STATS19 file…")
def _read_file(path: str, mtime: float) -> pd.DataFrame:
    """The accepted rows of a STATS19 file (``mtime`` keys the cache to the file's version)."""
    return ingest.read_stats19_files([Path(path)])[0]


@st.cache_data(max_entries=4, show_spinner="Reading the uploaded STATS19 file…")
def _read_upload(name: str, data: bytes) -> pd.DataFrame:
    """The accepted rows of an uploaded STATS19 file, read from a temporary copy."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / uploads.safe_name(name)
        path.write_bytes(data)
        if path.name.endswith(".gz"):
            uploads.check_gzip(path)
        return ingest.read_stats19_files([path])[0]


@st.cache_data(max_entries=8, show_spinner=False)
def _table(rows: pd.DataFrame, store_dir: str, stamp: float, first: str, last: str) -> pd.DataFrame:
    return roads.ward_casualty_table(
        rows, cache.wards(store_dir, stamp), params=roads.CasualtyParams(first_month=first, last_month=last)
    )


choices = widgets.current()
st.title("Road casualties")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
geo = cache.geography(choices.store_dir, choices.stamp)
if geo is None or geo.wards is None:
    st.error(
        "This store has no wards to count casualties in: configure them with "
        "`geo-csp configure --store DIR --wards FILE`."
    )
    st.stop()

config = store.read_config(choices.store_dir)
options: dict[str, Any] = {}
if schema.SOURCE_STATS19 in choices.status["sources"]:
    options["The store's STATS19 rows"] = "store"
configured = config.path("stats19")
if configured is not None:
    options[f"The store's STATS19 file ({configured.name})"] = "config"
options["A file I upload"] = "upload"
source_label = st.radio("Casualties from", list(options), horizontal=True, key="roads_source")
kind = options[source_label]
rows: pd.DataFrame | None = None
origin = ""
if kind == "store":
    rows = store.read_incidents(choices.store_dir, sources=[schema.SOURCE_STATS19])
    origin = f"the store's {len(rows):,} STATS19 rows"
elif kind == "config" and configured is not None:
    if not configured.is_file():
        st.error(
            f"The store's config names the STATS19 file {configured}, which does not exist; fix its 'stats19' key."
        )
        st.stop()
    rows = _read_file(str(configured), configured.stat().st_mtime)
    origin = f"{configured.name} ({len(rows):,} rows)"
else:
    upload = st.file_uploader(
        "STATS19 road casualty CSV (DfT's collision file or TfGM's casualty rows; .csv or .csv.gz)",
        type=["csv", "gz"],
        key="roads_upload",
    )
    if upload is None:
        st.info(
            "Upload a STATS19 file, or name one for the store with `geo-csp configure --store DIR --stats19 FILE` "
            "(or ingest it on the Data page) so that it opens here."
        )
        st.stop()
    uploads.check_upload(upload.name, upload.size)
    rows = _read_upload(upload.name, upload.getvalue())
    origin = f"{upload.name} ({len(rows):,} rows, not stored)"

months = sorted(rows[schema.MONTH].astype(str).unique())
if not months:
    st.warning("The file holds no readable casualty rows.")
    st.stop()
first, last = (
    st.select_slider("Months", options=months, value=(months[0], months[-1]), key="roads_months")
    if len(months) > 1
    else (months[0], months[0])
)
table = _table(rows, choices.store_dir, choices.stamp, first, last)
meta = table.attrs["metadata"]
a, b, c, d = st.columns(4)
a.metric("Casualties in the wards", f"{meta['casualties_in_wards']:,}")
b.metric("Killed or seriously injured", f"{int(table['killed_or_seriously_injured'].sum()):,}")
c.metric("Fatal", f"{int(table['fatal'].sum()):,}")
d.metric("Collisions", f"{int(table['collisions'].sum()):,}")
st.caption(
    markdown_literal(
        f"From {origin}; {first} to {last} ({meta['n_months']} months). {meta['rules']['ward']}; "
        f"{meta['rules']['severity']}. Rates {meta['rules']['rate']}. {meta['casualties_outside_wards']:,} "
        f"casualties fell outside the wards"
        + (f", {meta['casualties_outside_months']:,} outside the months." if meta["casualties_outside_months"] else ".")
    )
)
shown = table.rename(
    columns={
        "ward_name": "Ward",
        "casualties": "Casualties",
        "fatal": "Fatal",
        "serious": "Serious",
        "slight": "Slight",
        "killed_or_seriously_injured": "Killed or seriously injured",
        "collisions": "Collisions",
        schema.POPULATION: "Residents",
        "casualties_per_1000_a_year": "Casualties per 1,000 a year",
        "ksi_per_1000_a_year": "KSI per 1,000 a year",
    }
)
shown.columns = [c.replace(roads.MODE_PREFIX, "Mode: ") for c in shown.columns]
widgets.table(shown.reset_index(drop=True), key="roads_table")
st.download_button(
    "Download the table (CSV)",
    spreadsheet_safe(table).to_csv(lineterminator="\n").encode("utf-8"),
    file_name=f"road_casualties_{first}_to_{last}.csv",
    mime="text/csv",
    key="roads_download",
)
