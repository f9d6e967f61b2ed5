"""When: day-of-week x hour heat map of a place from timed, victim-reported records, with the busiest window."""

from __future__ import annotations

import streamlit as st

from geo_csp import timeprofile
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("When incidents happen")
widgets.synthetic_banner(choices)
widgets.need_store(choices)

geo = cache.geography(choices.store_dir, choices.stamp)
places = [] if geo is None or geo.named_places is None else sorted(geo.named_places["name"].astype(str))
wards = [] if geo is None or geo.wards is None else sorted(geo.wards["ward_name"].astype(str))
left, mid, right = st.columns([3, 2, 2])
area = left.selectbox(
    "Place", [None, *places, *wards], key="when_area", format_func=lambda a: "Whole borough" if a is None else a
)
timed_sources = [s for s in choices.status["sources"] if not s.startswith("police_uk_")]
picked = mid.multiselect(
    "Timed sources",
    timed_sources,
    default=timed_sources,
    key="when_sources",
    help="police.uk street crime has the month only and is never given an hour; stop and "
    "search is police activity. Only partner records with a time of day are used.",
)
share = right.slider("Busiest window holds", 0.3, 0.9, 0.5, 0.05, key="when_share", format="%.2f")
aoristic = st.checkbox("Spread from/to windows over their hours (aoristic)", value=True, key="when_aoristic")
if not picked:
    st.info("This store holds no timed partner source: ingest a partner extract with a date-time on the Data page.")
    st.stop()
profile, window, label = cache.area_time_profile(
    choices.store_dir, choices.stamp, choices.months, area=area, sources=tuple(picked), share=share, aoristic=aoristic
)
st.subheader(label)
a, b, c = st.columns(3)
a.metric("Timed incidents", f"{profile.attrs['n_timed']:,}")
b.metric("Busiest window", f"{window['start_hour']:02d}:00-{window['end_hour']:02d}:00")
c.metric(
    "Share in the window",
    f"{window['share']:.0%}",
    help=f"{window['hours']} of 24 hours would hold {window['uniform_share']:.0%} if every hour were equal",
)
st.write(window["text"])
st.pyplot(timeprofile.plot_time_profile(profile, title=f"{label}: {profile.attrs['n_timed']:,} timed incidents"))
by_hour = profile.sum(axis=0)
hours = [(window["start_hour"] + i) % 24 for i in range(window["hours"])]
st.caption(
    "Counts behind the window: "
    + ", ".join(f"{h:02d}:00 {by_hour[h]:,.1f}" for h in hours)
    + f". Sources: {', '.join(profile.attrs['sources'])}; {profile.attrs['n_aoristic']:,} records with a from/to "
    f"window spread over it; months {choices.period_label}; hours are UK local time."
)
if profile.attrs["n_timed"] < 100:
    st.warning(f"Only {profile.attrs['n_timed']} timed incidents: read the window, not single hours.")
with st.expander("Day x hour counts"):
    shown = profile.round(1)
    shown.columns = [f"{h:02d}" for h in shown.columns]
    st.dataframe(shown, width="stretch")
