"""geo-csp planning-meeting app: ``streamlit run app.py``.

Entry point only: logging set-up, the shared sidebar and the page navigation. Each page is a thin
script in ``geo_csp/app/pages/``; on first start the SYNTHETIC demo borough is built so the app opens
populated. Set ``GEO_CSP_STORE`` to open another store, or ``GEO_CSP_DEMO_DIR`` to build the demo
elsewhere.
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from geo_csp._errors import GeoCspError
from geo_csp.app import widgets

logging.basicConfig(
    level=os.environ.get("GEO_CSP_LOG_LEVEL", "INFO"),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)

# the favicon is the app's own file: a page's material icon would make the browser fetch it from Google's
# font server, which an offline or locked-down network refuses (a console error on every page)
st.set_page_config(
    page_title="geo-csp: hotspots and partnership plans", layout="wide", page_icon=str(widgets.ASSETS / "favicon.png")
)

PAGES = "geo_csp/app/pages"
navigation = st.navigation(
    [
        st.Page(f"{PAGES}/map.py", title="Map", icon=":material/map:", default=True),
        st.Page(f"{PAGES}/meeting.py", title="Meeting sheet", icon=":material/groups:"),
        st.Page(f"{PAGES}/trends.py", title="Trends", icon=":material/show_chart:"),
        st.Page(f"{PAGES}/when.py", title="When", icon=":material/schedule:"),
        st.Page(f"{PAGES}/roads.py", title="Road casualties", icon=":material/directions_car:"),
        st.Page(f"{PAGES}/tasking.py", title="Tasking sheet", icon=":material/assignment:"),
        st.Page(f"{PAGES}/gaps.py", title="Gaps and priorities", icon=":material/priority_high:"),
        st.Page(f"{PAGES}/walkabout.py", title="Walkabout planner", icon=":material/directions_walk:"),
        st.Page(f"{PAGES}/review.py", title="Operation review", icon=":material/fact_check:"),
        st.Page(f"{PAGES}/evidence.py", title="Evidence", icon=":material/description:"),
        st.Page(f"{PAGES}/comparators.py", title="Comparators", icon=":material/leaderboard:"),
        st.Page(f"{PAGES}/data.py", title="Data", icon=":material/database:"),
    ]
)
widgets.sidebar()
try:
    navigation.run()
except GeoCspError as exc:  # a choice the data cannot answer: say why and what to do, keep the app usable
    logging.getLogger("geo_csp.app").info("page stopped: %s", exc)
    st.error(
        f"{exc}\n\nIn the app: choose other options in the sidebar (e.g. H3 hexagons), or give the store "
        "its own wards and LSOAs with `geo-csp configure --store DIR --wards FILE --lsoas FILE`."
    )
