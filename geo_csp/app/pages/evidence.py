"""Evidence page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Evidence")
widgets.unavailable("Evidence")
