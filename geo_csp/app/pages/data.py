"""Data page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Data")
widgets.unavailable("Data")
