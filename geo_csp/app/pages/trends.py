"""Trends page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Trends")
widgets.unavailable("Trends")
