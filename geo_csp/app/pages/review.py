"""Operation review page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Operation review")
widgets.unavailable("Operation review")
