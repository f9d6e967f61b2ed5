"""Walkabout planner page."""

import streamlit as st

from geo_csp.app import widgets

st.title("Walkabout planner")
widgets.unavailable("Walkabout planner")
