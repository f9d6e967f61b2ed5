"""Comparators: the borough among the region's districts (the store's comparator areas), with downloads."""

from __future__ import annotations

import streamlit as st

from geo_csp import schema
from geo_csp._errors import GeoCspError
from geo_csp._escape import markdown_literal
from geo_csp.app import cache, widgets
from geo_csp.comparator import crime_type_display

MIME = {
    "csv": "text/csv",
    "html": "text/html",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
QUARTERS: dict[str, int | None] = {"every complete quarter": None, "4": 4, "5": 5, "8": 8, "12": 12}

choices = widgets.current()
st.title("Comparators")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
st.markdown(
    f"Mode: **{'Public (disclosure control applied)' if choices.public else 'Partnership (sensitive)'}**"
    " — change it in the sidebar; every download below obeys it. The districts are the store's comparator "
    "areas (`geo-csp configure --areas FILE`); for a force's files without a store use `geo-csp comparator`."
)
sources = [s for s in choices.status.get("sources", []) if s != schema.SOURCE_STOP_SEARCH]
left, mid, right = st.columns(3)
source = left.selectbox(
    "Source",
    sources,
    index=sources.index(schema.SOURCE_STREET) if schema.SOURCE_STREET in sources else 0,
    key="comparator_source",
)
crime_types = mid.multiselect(
    "Crime types (counted together)", list(schema.CRIME_TYPES), default=["Burglary"], key="comparator_types"
)
quarters = right.selectbox("Quarters shown", list(QUARTERS), key="comparator_quarters")
region = st.text_input("Region name", "the region", key="comparator_region")
if not crime_types or source is None:
    st.info("Choose a source and at least one crime type.")
    st.stop()
try:
    pack = cache.comparator(
        choices.store_dir,
        choices.stamp,
        crime_types=tuple(crime_types),
        sources=(source,),
        public=choices.public,
        n_quarters=QUARTERS[quarters],
        region=region or "the region",
    )
except GeoCspError as exc:  # no comparator areas, no complete quarter: say what to do
    st.warning(markdown_literal(str(exc)))
    st.stop()
st.subheader(markdown_literal(pack.summary))  # names from the boundary file are shown as themselves
st.dataframe(pack.display, width="stretch")
by_type = crime_type_display(pack)
if by_type is not None:
    st.markdown(
        f"**{markdown_literal(pack.metadata['district'])} by crime type, {markdown_literal(pack.metadata['quarter'])}**"
    )
    st.dataframe(by_type, width="stretch")
names = pack.districts["area_name"].to_dict()
st.markdown("**Per 1,000 residents by quarter**")
st.line_chart(pack.rates.rename(index=names).T)
acc = pack.accounting
st.caption(
    markdown_literal(
        f"Records: {acc['records']:,} = {acc['inside_districts']:,} inside a district + {acc['outside_districts']:,} "
        f"outside every district + {acc['incomplete_quarter']:,} in incomplete quarters + {acc['earlier_quarter']:,} "
        f"in earlier quarters + {acc['unlocated']:,} without coordinates + {acc['other_crime_type']:,} of other crime types."
    )
)
for note in pack.notes:
    st.caption(markdown_literal(note))
files = cache.comparator_files(pack)
cols = st.columns(len(files))
for col, (name, data) in zip(cols, files.items(), strict=True):
    kind = name.rsplit(".", 1)[1]
    col.download_button(
        name if name == "disclosure_audit.csv" else f"Download {kind.upper()}",
        data,
        file_name=name,
        mime=MIME[kind],
        key=f"dl_comparator_{name}",
    )
